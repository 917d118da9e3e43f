"""Typed account events: what a user message means for the account, independent of the exchange's shapes.

A connector turns each raw user message into zero or more of these with small pure parse functions
(`UserStreamTrackerDataSource.parse_account_events`). Raw messages still reach ``user_stream``
unchanged; the typed events are offered beside them (`UserStreamTracker.account_events`) and keep
the tracker's `AccountState` current. Amounts are `Decimal`, exactly as the exchange wrote them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


class OrderStatus(enum.StrEnum):
    """An order's status in the exchange-neutral vocabulary; a connector maps its exchange's words onto it."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    """Off the book, but the exchange kept no record of how (a polled order that vanished without a trace)."""

    @property
    def is_final(self) -> bool:
        """The order can no longer change: it is off the book for good."""
        return self in _FINAL


_FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.UNKNOWN}
)


class EventSource(enum.StrEnum):
    STREAM = "stream"
    """Parsed from a message the exchange pushed."""
    RECONCILIATION = "reconciliation"
    """A difference between a REST snapshot and what the stream had told us: something the stream missed."""


@dataclass(frozen=True, kw_only=True)
class BalanceUpdate:
    """One asset's balance as it now stands (absolute values, not a delta)."""

    asset: str
    total: Decimal
    available: Decimal
    updated_at: int | None = None
    """The exchange's own ordering of this asset's balance changes (an update time in ms, or a sequence
    number). With it, an older update never overwrites a newer one; without it, the latest to arrive wins."""
    source: EventSource = EventSource.STREAM


@dataclass(frozen=True, kw_only=True)
class OrderUpdate:
    """One order's state as it now stands."""

    exchange_order_id: str
    client_order_id: str | None
    symbol: str
    status: OrderStatus
    price: Decimal
    quantity: Decimal
    """The order's original size."""
    filled_quantity: Decimal
    updated_at: int | None = None
    """The exchange's update time (ms) or sequence for this order; an older update never overwrites a newer one."""
    source: EventSource = EventSource.STREAM

    @property
    def remaining_quantity(self) -> Decimal:
        """What is not filled (for a final order: what never will be)."""
        return max(self.quantity - self.filled_quantity, Decimal(0))

    def same_state(self, other: OrderUpdate) -> bool:
        """Whether ``other`` says nothing new about this order (its source and update time aside)."""
        return (
            self.status,
            self.filled_quantity,
            self.price,
            self.quantity,
            self.client_order_id,
        ) == (other.status, other.filled_quantity, other.price, other.quantity, other.client_order_id)


@dataclass(frozen=True, kw_only=True)
class TradeFill:
    """One execution against an order. ``trade_id`` is unique per exchange: fills are de-duplicated by it."""

    trade_id: str
    exchange_order_id: str
    client_order_id: str | None
    symbol: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str | None
    timestamp: int | None = None
    """When it executed, in the exchange's ms."""
    source: EventSource = EventSource.STREAM


AccountEvent = BalanceUpdate | OrderUpdate | TradeFill


class ReconcileReason(enum.StrEnum):
    CONNECTED = "connected"
    """The first connection: the snapshot is the starting state."""
    RECONNECTED = "reconnected"
    """A new connection after one ended: whatever was pushed in between was missed."""
    PERIODIC = "periodic"
    """The configured interval passed: catches loss that caused no reconnect."""
    UNREADABLE_MESSAGE = "unreadable_message"
    """A user message could not be parsed, so whatever it said is read from the snapshot instead."""
    REQUESTED = "requested"
    """The application asked (`UserStreamTrackerDataSource.request_reconciliation`)."""


GAP_MARKER_KEY = "userstream"
GAP_MARKER_VALUE = "reconciled"


@dataclass(frozen=True, kw_only=True)
class Reconciled:
    """A reconciliation finished: the account state matches a REST snapshot again.

    On ``user_stream`` it travels as a plain dict (`as_message`), the gap marker::

        {"userstream": "reconciled", "reason": "reconnected", "gap_started": 1795568753.1,
         "reconciled_at": 1795568754.6, "events": 3}

    ``gap_started`` is ``time.time()`` when the account was last known to be complete (the last frame
    of the connection that ended, or the previous reconciliation), None on the first connection;
    ``events`` is how many typed events the reconciliation emitted (what the stream had missed).
    """

    reason: ReconcileReason
    gap_started: float | None
    reconciled_at: float
    events: int

    def as_message(self) -> dict[str, Any]:
        return {
            GAP_MARKER_KEY: GAP_MARKER_VALUE,
            "reason": self.reason.value,
            "gap_started": self.gap_started,
            "reconciled_at": self.reconciled_at,
            "events": self.events,
        }


def is_gap_marker(message: Any) -> bool:
    """Whether a message taken from ``user_stream`` is userstream's own gap marker, not the exchange's."""
    return isinstance(message, dict) and message.get(GAP_MARKER_KEY) == GAP_MARKER_VALUE
