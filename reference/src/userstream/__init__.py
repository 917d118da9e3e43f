"""userstream: the shared machinery of a crypto exchange's private user stream.

A connector subclasses `UserStreamTrackerDataSource` (exchange specifics only) and
`MarketAuth` (the exchange's signing); `UserStreamTracker` runs it.
"""

from userstream.account import AccountSnapshot, AccountState, SnapshotScope
from userstream.auth import MarketAuth
from userstream.backoff import Backoff, ReconnectPolicy
from userstream.credentials import SingleFlight
from userstream.data_source import ConnectionJob, UserStreamTrackerDataSource
from userstream.errors import (
    AuthenticationError,
    ConnectionLost,
    HandshakeTimeout,
    RestError,
    ServerRequestedReconnect,
    StaleConnection,
    SubscriptionError,
    UserStreamError,
)
from userstream.events import (
    AccountEvent,
    BalanceUpdate,
    EventSource,
    OrderStatus,
    OrderUpdate,
    Reconciled,
    ReconcileReason,
    TradeFill,
    is_gap_marker,
)
from userstream.frames import ConnectionTarget, FrameKind, OutgoingMessage, WebSocketLike
from userstream.status import StreamState, StreamStatus
from userstream.timings import StreamTimings
from userstream.tracker import UserStreamTracker
from userstream.websocket_transport import WebSocketFactory

__all__ = [
    "AccountEvent",
    "AccountSnapshot",
    "AccountState",
    "AuthenticationError",
    "Backoff",
    "BalanceUpdate",
    "ConnectionJob",
    "ConnectionLost",
    "ConnectionTarget",
    "EventSource",
    "FrameKind",
    "HandshakeTimeout",
    "MarketAuth",
    "OrderStatus",
    "OrderUpdate",
    "OutgoingMessage",
    "ReconcileReason",
    "Reconciled",
    "ReconnectPolicy",
    "RestError",
    "ServerRequestedReconnect",
    "SingleFlight",
    "SnapshotScope",
    "StaleConnection",
    "StreamState",
    "StreamStatus",
    "StreamTimings",
    "SubscriptionError",
    "TradeFill",
    "UserStreamError",
    "UserStreamTracker",
    "UserStreamTrackerDataSource",
    "WebSocketFactory",
    "WebSocketLike",
    "is_gap_marker",
]
