"""The live account: balances and open orders, kept current from typed events and reconciled from snapshots.

`AccountState` is pure (no I/O, no clock), so its rules test directly:

- an event is applied only if it says something new; `apply` returns whether it did, and only those
  events are passed on to consumers, so a fill or an order's final state reaches them exactly once;
- fills are de-duplicated by trade id;
- an order never goes back: a final order (filled, cancelled...) stays final, its filled quantity never
  shrinks, and an update older than the one applied (by ``updated_at``) is ignored. This is what lets a
  snapshot taken a moment before a live event, or a live event delayed past a snapshot, do no harm;
- a balance update older than the one applied (by ``updated_at``, when the exchange gives one) is ignored.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TypeVar

import msgspec

from userstream.events import AccountEvent, BalanceUpdate, EventSource, OrderUpdate, TradeFill

_ZERO = Decimal(0)
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class AccountSnapshot:
    """The account as a REST snapshot shows it: what a connector's `fetch_account_snapshot` returns."""

    balances: Mapping[str, BalanceUpdate] = field(default_factory=dict)
    """By asset. An asset left out has a zero balance."""
    open_orders: Mapping[str, OrderUpdate] = field(default_factory=dict)
    """By exchange order id."""
    fills: Sequence[TradeFill] = ()
    """Recent fills, oldest first, where the exchange has an endpoint for them; those already seen are skipped."""
    closed_orders: Sequence[OrderUpdate] = ()
    """Orders that recently reached a final state, from the exchange's order history where it has one: this is
    how an order placed and cancelled (or filled) entirely within a gap is seen at all."""

    def __post_init__(self) -> None:
        # Checked whole when built, so a snapshot of the wrong shape fails its fetch (and is retried)
        # instead of being half applied.
        for asset, balance in self.balances.items():
            if not isinstance(balance, BalanceUpdate) or balance.asset != asset:
                raise TypeError(f"AccountSnapshot.balances[{asset!r}] must be that asset's BalanceUpdate")
        for order_id, order in self.open_orders.items():
            if not isinstance(order, OrderUpdate) or order.exchange_order_id != order_id:
                raise TypeError(f"AccountSnapshot.open_orders[{order_id!r}] must be that order's OrderUpdate")
        if not all(isinstance(fill, TradeFill) for fill in self.fills):
            raise TypeError("AccountSnapshot.fills must hold TradeFill values only")
        if not all(isinstance(order, OrderUpdate) for order in self.closed_orders):
            raise TypeError("AccountSnapshot.closed_orders must hold OrderUpdate values only")


@dataclass(frozen=True)
class SnapshotScope:
    """What one snapshot must cover; the reconciler hands it to `fetch_account_snapshot`.

    A connector reads its order history and fills from `history_start` on, and, where the exchange's history
    endpoints take one symbol at a time (Binance's ``allOrders`` and ``myTrades``), for each of ``symbols``
    together with those of the open orders it has just read.
    """

    taken_at: float
    """`time.time()` when the reconciliation started."""
    since: float | None
    """`time.time()` from which history must be read: the start of the gap, less a margin for clocks and delivery
    delays; None for the first snapshot, which has no gap start and reads the connector's whole window."""
    symbols: frozenset[str] = frozenset()
    """The symbols the account is known to trade: those the data source was given (``symbols=``) and every
    symbol of an order or fill it has seen. A symbol that is in none of these and on which an order was placed
    and finished within a gap can only be found by an exchange whose history covers every symbol at once."""

    def history_start(self, window: float) -> float:
        """The moment history is read from, at most ``window`` seconds (the exchange's own limit) before `taken_at`."""
        earliest = self.taken_at - window
        return earliest if self.since is None else max(self.since, earliest)

    def history_start_ms(self, window: float) -> int:
        """`history_start` in integer milliseconds, as most exchanges take it."""
        return int(self.history_start(window) * 1000)


class AccountState:
    """Balances (total and available per asset) and open orders, readable at any time.

    ``remember`` bounds memory: how many closed orders and trade ids are remembered to recognise a
    late or repeated event. Both are kept in arrival order and the oldest forgotten first.
    """

    def __init__(self, *, remember: int = 100_000) -> None:
        if remember < 1:
            raise ValueError(f"remember must be at least 1, got {remember!r}")
        self._remember = remember
        self._balances: dict[str, BalanceUpdate] = {}
        self._open_orders: dict[str, OrderUpdate] = {}
        self._closed_orders: OrderedDict[str, OrderUpdate] = OrderedDict()
        # Keyed by symbol too: Binance and Gate.io count trade ids per market, so one id can name two fills.
        self._fills: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._symbols: set[str] = set()

    # --- reading ---------------------------------------------------------------------------------

    @property
    def balances(self) -> Mapping[str, BalanceUpdate]:
        """By asset; assets whose balance went to zero stay, with zeros."""
        return MappingProxyType(self._balances)

    @property
    def open_orders(self) -> Mapping[str, OrderUpdate]:
        """By exchange order id."""
        return MappingProxyType(self._open_orders)

    def order(self, exchange_order_id: str) -> OrderUpdate | None:
        """An open order, or a recently closed one in its final state; None if unknown."""
        return self._open_orders.get(exchange_order_id) or self._closed_orders.get(exchange_order_id)

    def has_fill(self, trade_id: str, symbol: str | None = None) -> bool:
        """Whether a fill with ``trade_id`` (on ``symbol``, or on any symbol) has been applied."""
        if symbol is not None:
            return (symbol, trade_id) in self._fills
        return any(known == trade_id for _, known in self._fills)

    @property
    def symbols(self) -> frozenset[str]:
        """Every symbol of an order or fill this state has applied: the markets the account is seen to trade."""
        return frozenset(self._symbols)

    def __repr__(self) -> str:
        return f"AccountState(balances={len(self._balances)}, open_orders={len(self._open_orders)})"

    # --- changing ----------------------------------------------------------------------------------

    def apply(self, event: AccountEvent) -> bool:
        """Apply one event; True if it changed the state (so consumers should see it), False if it was old news."""
        if type(event) is OrderUpdate:  # the exact types first: this runs for every event of a typed stream
            return self._apply_order(event)
        if type(event) is TradeFill or isinstance(event, TradeFill):
            return self._apply_fill(event)
        if isinstance(event, OrderUpdate):
            return self._apply_order(event)
        return self._apply_balance(event)

    def reconcile(
        self, snapshot: AccountSnapshot, closed_orders: Mapping[str, OrderUpdate] = MappingProxyType({})
    ) -> list[AccountEvent]:
        """Bring the state to ``snapshot``; return what changed, as events marked `EventSource.RECONCILIATION`.

        ``closed_orders`` holds the current state (looked up one by one) of the orders this state has open
        but the snapshot does not list (`vanished_orders`): they were filled or cancelled while the stream
        was away. Fills come first, then orders, then balances, so no consumer sees an order end before
        its last fill.
        """
        events: list[AccountEvent] = []
        events += self._apply_all(snapshot.fills)
        events += self._apply_all(snapshot.closed_orders)
        events += self._apply_all(closed_orders.values())
        events += self._apply_all(snapshot.open_orders.values())
        for asset in sorted(self._balances.keys() - snapshot.balances.keys()):
            events += self._apply_all([BalanceUpdate(asset=asset, total=_ZERO, available=_ZERO)])
        events += self._apply_all(snapshot.balances[asset] for asset in sorted(snapshot.balances))
        return events

    def vanished_orders(self, snapshot: AccountSnapshot) -> list[OrderUpdate]:
        """Orders this state has open that ``snapshot`` lists neither open nor closed: their state must be looked up."""
        listed = snapshot.open_orders.keys() | {order.exchange_order_id for order in snapshot.closed_orders}
        return [order for order_id, order in self._open_orders.items() if order_id not in listed]

    def _apply_all(self, events: Iterable[AccountEvent]) -> list[AccountEvent]:
        applied: list[AccountEvent] = []
        for event in events:
            marked = msgspec.structs.replace(event, source=EventSource.RECONCILIATION)
            if self.apply(marked):
                applied.append(marked)
        return applied

    def _apply_fill(self, fill: TradeFill) -> bool:
        key = (fill.symbol, fill.trade_id)
        fills = self._fills
        if key in fills:
            return False
        self._symbols.add(fill.symbol)
        _remember(fills, key, None, self._remember)
        return True

    def _apply_order(self, update: OrderUpdate) -> bool:
        order_id = update.exchange_order_id
        if order_id in self._closed_orders:
            return False  # a final order stays final; a late or repeated update is old news
        known = self._open_orders.get(order_id)
        if known is not None and _is_older(update, known):
            return False
        self._symbols.add(update.symbol)
        if update.status.is_final:
            self._open_orders.pop(order_id, None)
            _remember(self._closed_orders, order_id, update, self._remember)
            return True
        if known is not None and known.same_state(update):
            if (update.updated_at or 0) > (known.updated_at or 0):
                self._open_orders[order_id] = update  # nothing new, but later updates are measured against it
            return False
        self._open_orders[order_id] = update
        return True

    def _apply_balance(self, update: BalanceUpdate) -> bool:
        known = self._balances.get(update.asset)
        if known is None:
            self._balances[update.asset] = update
            return True
        if known.updated_at is not None and update.updated_at is not None and update.updated_at < known.updated_at:
            return False
        changed = (known.total, known.available) != (update.total, update.available)
        if changed or (update.updated_at or 0) > (known.updated_at or 0):
            self._balances[update.asset] = update
        return changed


def _is_older(update: OrderUpdate, known: OrderUpdate) -> bool:
    """Whether ``update`` describes an earlier moment of the order than ``known``."""
    if update.updated_at is not None and known.updated_at is not None and update.updated_at < known.updated_at:
        return True
    return update.filled_quantity < known.filled_quantity


def _remember(memory: OrderedDict[K, V], key: K, value: V, limit: int) -> None:
    """Remember ``key`` (one not in ``memory``: the callers check), forgetting the oldest past ``limit``."""
    memory[key] = value
    if len(memory) > limit:
        memory.popitem(last=False)
