"""The exchange's truth about an account, as tests drive it, and how a tracker's view is compared with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from userstream.account import AccountSnapshot, AccountState
from userstream.events import AccountEvent, OrderUpdate, TradeFill


class PlacedOrder(Protocol):
    @property
    def order_id(self) -> str: ...


class ExchangeAccount(Protocol):
    """What a fake exchange's account offers tests (`userstream.testing.dialects.reference.ReferenceAccount` does).

    Changes are served by the exchange's REST routes at once; their user events are pushed by `publish`.
    """

    def set_balance(self, asset: str, total: str | Decimal, available: str | Decimal | None = None) -> None: ...

    def deposit(self, asset: str, amount: str | Decimal) -> Any:
        """Credit ``amount`` to ``asset`` (negative: a withdrawal), pushed as the exchange pushes a deposit."""
        ...

    def place_order(
        self,
        symbol: str | None = ...,
        side: str = ...,
        price: str = ...,
        amount: str = ...,
        *,
        order_type: str = ...,
        client_order_id: str | None = None,
    ) -> PlacedOrder: ...

    def fill(self, order_id: str, amount: str, *, fee: str = ..., fee_asset: str = ...) -> Any: ...

    def cancel(self, order_id: str) -> Any: ...

    async def publish(self) -> int: ...

    def fail_next(self, count: int = 1, status: int = ...) -> None: ...

    @property
    def pages_served(self) -> Mapping[str, int]:
        """Pages each paginated account endpoint (by path) has served."""
        ...

    def truth(self) -> AccountSnapshot:
        """Balances, open orders and every fill, typed as a connector would report them."""
        ...

    def closed_orders(self) -> list[OrderUpdate]:
        """The orders that reached a final state (filled, cancelled), typed."""
        ...


def account_differences(state: AccountState, truth: AccountSnapshot) -> list[str]:
    """How ``state`` differs from ``truth``, one line per difference; empty when they agree exactly.

    Balances are compared by total and available (an asset missing on one side counts as zero), open
    orders by status, quantities and price, and fills by whether each of the truth's trade ids was seen.
    """
    differences: list[str] = []
    zero = (Decimal(0), Decimal(0))
    for asset in sorted(state.balances.keys() | truth.balances.keys()):
        seen = state.balances.get(asset)
        real = truth.balances.get(asset)
        seen_amounts = (seen.total, seen.available) if seen else zero
        real_amounts = (real.total, real.available) if real else zero
        if seen_amounts != real_amounts:
            differences.append(f"balance {asset}: tracker {_amounts(seen_amounts)}, exchange {_amounts(real_amounts)}")
    for order_id in sorted(state.open_orders.keys() | truth.open_orders.keys()):
        seen_order = state.open_orders.get(order_id)
        real_order = truth.open_orders.get(order_id)
        if seen_order is None or real_order is None or not seen_order.same_state(real_order):
            differences.append(f"open order {order_id}: tracker {_order(seen_order)}, exchange {_order(real_order)}")
    missing = [fill.trade_id for fill in truth.fills if not state.has_fill(fill.trade_id, fill.symbol)]
    if missing:
        differences.append(f"fills never seen: {', '.join(missing)}")
    return differences


def fills_of(events: Iterable[AccountEvent | object]) -> list[TradeFill]:
    return [event for event in events if isinstance(event, TradeFill)]


def order_updates_of(events: Iterable[AccountEvent | object], order_id: str) -> list[OrderUpdate]:
    return [event for event in events if isinstance(event, OrderUpdate) and event.exchange_order_id == order_id]


def _amounts(amounts: tuple[Decimal, Decimal]) -> str:
    return f"{amounts[0]}/{amounts[1]}"


def _order(order: OrderUpdate | None) -> str:
    if order is None:
        return "not open"
    return f"{order.status} {order.filled_quantity}/{order.quantity} @ {order.price}"
