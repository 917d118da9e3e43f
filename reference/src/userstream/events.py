"""Typed account events: what a user message means for the account, independent of the exchange's shapes.

A connector turns each raw user message into zero or more of these with small pure parse functions
(`UserStreamTrackerDataSource.parse_account_events`). Raw messages still reach ``user_stream``
unchanged; the typed events are offered beside them (`UserStreamTracker.account_events`) and keep
the tracker's `AccountState` current. Amounts are `Decimal`, exactly as the exchange wrote them.

Every event checks its fields when it is built, so a parser can only produce valid events: ids are
non-empty text, amounts finite `Decimal` values (never NaN or Infinity; sizes never negative), moments
integers. A message whose fields have the wrong types fails inside the parser with a TypeError or
ValueError, where the data source counts it as unparsed and reconciles, instead of failing later
inside the account.

The three events are immutable `msgspec.Struct` records (change one with `msgspec.structs.replace`): built
in C, they cost a seventh of a frozen dataclass, and a typed stream builds one or two per message. Each
check is one expression on the valid path; only a field that fails it goes through the checks that say why.
Their fields are text, numbers and enums, which can form no reference cycle, so the garbage collector does
not track them (``gc=False``): a busy stream's events neither trigger collections nor lengthen them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec


def _check_text(owner: str, name: str, value: object, *, optional: bool = False, empty: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise TypeError(f"{owner}.{name} must be text, got {type(value).__name__} {value!r:.60}")
    if not value and not empty:
        raise ValueError(f"{owner}.{name} must not be empty")


def _check_amount(owner: str, name: str, value: object, *, signed: bool = True) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{owner}.{name} must be a Decimal, got {type(value).__name__} {value!r:.60}")
    if not value.is_finite():
        raise ValueError(f"{owner}.{name} must be a finite amount, got {value}")
    if not signed and value < 0:
        raise ValueError(f"{owner}.{name} must not be negative, got {value}")


def _check_moment(owner: str, name: str, value: object) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError(f"{owner}.{name} must be an integer (the exchange's ms or sequence), got {value!r:.60}")


def _check_member(owner: str, name: str, value: object, kind: type[enum.Enum]) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{owner}.{name} must be a {kind.__name__}, got {value!r:.60}")


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


class BalanceUpdate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One asset's balance as it now stands (absolute values, not a delta)."""

    asset: str
    total: Decimal
    available: Decimal
    updated_at: int | None = None
    """The exchange's own ordering of this asset's balance changes (an update time in ms, or a sequence
    number). With it, an older update never overwrites a newer one; without it, the latest to arrive wins."""
    source: EventSource = EventSource.STREAM

    def __post_init__(self) -> None:
        total, available, updated_at = self.total, self.available, self.updated_at
        if (
            type(self.asset) is str
            and self.asset
            and type(total) is Decimal
            and total.is_finite()
            and type(available) is Decimal
            and available.is_finite()
            and (updated_at is None or type(updated_at) is int)
            and type(self.source) is EventSource
        ):
            return
        _check_text("BalanceUpdate", "asset", self.asset)
        _check_amount("BalanceUpdate", "total", self.total)
        _check_amount("BalanceUpdate", "available", self.available)
        _check_moment("BalanceUpdate", "updated_at", self.updated_at)
        _check_member("BalanceUpdate", "source", self.source, EventSource)


class OrderUpdate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
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

    def __post_init__(self) -> None:
        client_order_id, price, quantity, filled = self.client_order_id, self.price, self.quantity, self.filled_quantity
        if (
            type(self.exchange_order_id) is str
            and self.exchange_order_id
            and (client_order_id is None or type(client_order_id) is str)
            and type(self.symbol) is str
            and self.symbol
            and type(self.status) is OrderStatus
            and type(price) is Decimal
            and price.is_finite()
            and type(quantity) is Decimal
            and quantity.is_finite()
            and quantity >= 0
            and type(filled) is Decimal
            and filled.is_finite()
            and filled >= 0
            and (self.updated_at is None or type(self.updated_at) is int)
            and type(self.source) is EventSource
        ):
            return
        _check_text("OrderUpdate", "exchange_order_id", self.exchange_order_id)
        _check_text("OrderUpdate", "client_order_id", self.client_order_id, optional=True, empty=True)
        _check_text("OrderUpdate", "symbol", self.symbol)
        _check_member("OrderUpdate", "status", self.status, OrderStatus)
        _check_amount("OrderUpdate", "price", self.price)
        _check_amount("OrderUpdate", "quantity", self.quantity, signed=False)
        _check_amount("OrderUpdate", "filled_quantity", self.filled_quantity, signed=False)
        _check_moment("OrderUpdate", "updated_at", self.updated_at)
        _check_member("OrderUpdate", "source", self.source, EventSource)

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


class TradeFill(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One execution against an order; fills are told apart by ``(symbol, trade_id)``: trade ids may be per market."""

    trade_id: str
    exchange_order_id: str
    client_order_id: str | None
    symbol: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    """What the account paid for this execution, in ``fee_asset``: positive for a fee charged, negative for a
    rebate (OKX writes its fees the other way round; its connector turns them over)."""
    fee_asset: str | None
    timestamp: int | None = None
    """When it executed, in the exchange's ms."""
    source: EventSource = EventSource.STREAM

    def __post_init__(self) -> None:
        client_order_id, price, quantity, fee, fee_asset = (
            self.client_order_id,
            self.price,
            self.quantity,
            self.fee,
            self.fee_asset,
        )
        if (
            type(self.trade_id) is str
            and self.trade_id
            and type(self.exchange_order_id) is str
            and self.exchange_order_id
            and (client_order_id is None or type(client_order_id) is str)
            and type(self.symbol) is str
            and self.symbol
            and type(price) is Decimal
            and price.is_finite()
            and type(quantity) is Decimal
            and quantity.is_finite()
            and quantity >= 0
            and type(fee) is Decimal
            and fee.is_finite()
            and (fee_asset is None or type(fee_asset) is str)
            and (self.timestamp is None or type(self.timestamp) is int)
            and type(self.source) is EventSource
        ):
            return
        _check_text("TradeFill", "trade_id", self.trade_id)
        _check_text("TradeFill", "exchange_order_id", self.exchange_order_id)
        _check_text("TradeFill", "client_order_id", self.client_order_id, optional=True, empty=True)
        _check_text("TradeFill", "symbol", self.symbol)
        _check_amount("TradeFill", "price", self.price)
        _check_amount("TradeFill", "quantity", self.quantity, signed=False)
        _check_amount("TradeFill", "fee", self.fee)
        _check_text("TradeFill", "fee_asset", self.fee_asset, optional=True, empty=True)
        _check_moment("TradeFill", "timestamp", self.timestamp)
        _check_member("TradeFill", "source", self.source, EventSource)


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
