"""userstream: the shared machinery of a crypto exchange's private user stream.

A connector subclasses `UserStreamTrackerDataSource` (exchange specifics only) and
`MarketAuth` (the exchange's signing); `UserStreamTracker` runs it.
"""

from userstream.auth import MarketAuth
from userstream.backoff import Backoff, ReconnectPolicy
from userstream.credentials import SingleFlight
from userstream.data_source import ConnectionJob, UserStreamTrackerDataSource, WebSocketFactory
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
from userstream.frames import ConnectionTarget, FrameKind, OutgoingMessage, WebSocketLike
from userstream.status import StreamState, StreamStatus
from userstream.timings import StreamTimings
from userstream.tracker import UserStreamTracker

__all__ = [
    "AuthenticationError",
    "Backoff",
    "ConnectionJob",
    "ConnectionLost",
    "ConnectionTarget",
    "FrameKind",
    "HandshakeTimeout",
    "MarketAuth",
    "OutgoingMessage",
    "ReconnectPolicy",
    "RestError",
    "ServerRequestedReconnect",
    "SingleFlight",
    "StaleConnection",
    "StreamState",
    "StreamStatus",
    "StreamTimings",
    "SubscriptionError",
    "UserStreamError",
    "UserStreamTracker",
    "UserStreamTrackerDataSource",
    "WebSocketFactory",
    "WebSocketLike",
]
