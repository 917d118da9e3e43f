"""The exchange's own truth about one account, in no exchange's shapes: what every exchange-shaped fake keeps.

A `Ledger` holds balances, orders and fills, and the changes not yet pushed. Tests (and the fault soak)
change it with `set_balance`, `deposit`, `place_order`, `fill` and `cancel`; each change is served at once
by the fake's REST routes, and `publish()` pushes it on every open connection as the exchange would.
An exchange's fake subclasses it and says only what is that exchange's: how its ids look (`new_order_id`,
`new_trade_id`), how a change is pushed (`frames`), and which REST routes serve the account (installed by
the dialect module's ``install_account``), with the exchange's own signing checks and pagination.

Every change is stamped with the exchange's clock in ms, strictly increasing: the ordering a connector
uses to tell an older snapshot from a newer event.
"""

from __future__ import annotations

import abc
import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, ClassVar

from userstream.account import AccountSnapshot
from userstream.events import BalanceUpdate, OrderStatus, OrderUpdate, TradeFill
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse

OPEN_STATUSES = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


@dataclass(frozen=True)
class LedgerFill:
    """One execution against an order."""

    trade_id: str
    order_id: str
    client_order_id: str | None
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    """What the account paid (positive), as `userstream.TradeFill` counts it; an exchange may print it negated."""
    fee_asset: str
    time: int
    maker: bool = True

    def as_fill(self) -> TradeFill:
        return TradeFill(
            trade_id=self.trade_id,
            exchange_order_id=self.order_id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            price=self.price,
            quantity=self.amount,
            fee=self.fee,
            fee_asset=self.fee_asset,
            timestamp=self.time,
        )


@dataclass
class LedgerOrder:
    """One order as the exchange stores it."""

    order_id: str
    client_order_id: str | None
    symbol: str
    side: str
    """``buy`` or ``sell``."""
    order_type: str
    price: Decimal
    amount: Decimal
    created_at: int
    updated_at: int
    status: OrderStatus = OrderStatus.OPEN
    filled_amount: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    """The sum of price times amount over its fills: the quote currency's volume."""
    fees: Decimal = Decimal(0)
    """The sum of its fills' fees."""
    fills: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def average_price(self) -> Decimal:
        return self.filled_value / self.filled_amount if self.filled_amount else Decimal(0)

    def as_update(self) -> OrderUpdate:
        return OrderUpdate(
            exchange_order_id=self.order_id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            status=self.status,
            price=self.price,
            quantity=self.amount,
            filled_quantity=self.filled_amount,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True)
class LedgerBalance:
    asset: str
    total: Decimal
    available: Decimal
    updated_at: int

    @property
    def locked(self) -> Decimal:
        return self.total - self.available


@dataclass(frozen=True)
class OrderChanged:
    """An order was placed, filled (``fill``: the execution) or cancelled; ``order`` is its state after."""

    order: LedgerOrder
    fill: LedgerFill | None = None


@dataclass(frozen=True)
class BalanceChanged:
    """An asset's balance moved; ``delta`` is the amount a deposit or withdrawal moved (None: set by a test)."""

    balance: LedgerBalance
    delta: Decimal | None = None


Change = OrderChanged | BalanceChanged


class Ledger(abc.ABC):
    """The truth about one account on a fake exchange; see the module docstring."""

    DEFAULT_SYMBOL: ClassVar[str] = "BTC-USDT"
    """The symbol `place_order` uses when given none, in the exchange's own spelling."""
    FIRST_ORDER_ID: ClassVar[int] = 1001
    FIRST_TRADE_ID: ClassVar[int] = 5001

    def __init__(self, exchange: FakeExchange) -> None:
        self.exchange = exchange
        self.balances: dict[str, LedgerBalance] = {}
        self.orders: dict[str, LedgerOrder] = {}
        self.fills: list[LedgerFill] = []
        self.pending: list[Change] = []
        """Changes not yet pushed, in the order they happened."""
        self.pages_served: Counter[str] = Counter()
        """Pages each paginated endpoint (by path) has served."""
        self.rejections: list[tuple[str, str]] = []
        """Signed requests refused, as ``(path, reason)``."""
        self._faults: list[int] = []
        self._order_ids = itertools.count(self.FIRST_ORDER_ID)
        self._trade_ids = itertools.count(self.FIRST_TRADE_ID)
        self._last_stamp = 0

    # --- what an exchange's fake says -----------------------------------------------------------

    @abc.abstractmethod
    def frames(self, change: Change) -> Sequence[Any]:
        """The frames the exchange pushes for ``change`` (none, for a change it does not push)."""

    @abc.abstractmethod
    def error_reply(self, status: int, reason: str) -> Any:
        """The exchange's REST error body for a failure with HTTP ``status``."""

    @abc.abstractmethod
    def check(self, request: RestRequest) -> RestResponse | None:
        """The exchange's refusal of a signed request (its signature, key, timestamp), or None to serve it."""

    def new_order_id(self) -> str:
        return str(next(self._order_ids))

    def new_trade_id(self) -> str:
        return str(next(self._trade_ids))

    def client_order_id(self, given: str | None) -> str | None:
        """The client order id an order is stored with: the one given, or the one the exchange makes up."""
        return given

    # --- changing the account ----------------------------------------------------------------------

    def stamp(self) -> int:
        """The exchange's clock in ms, strictly after the previous stamp: every change has its own moment."""
        self._last_stamp = max(int(self.exchange.now() * 1000), self._last_stamp + 1)
        return self._last_stamp

    def set_balance(self, asset: str, total: str | Decimal, available: str | Decimal | None = None) -> None:
        total = Decimal(total)
        balance = LedgerBalance(asset, total, total if available is None else Decimal(available), self.stamp())
        self.balances[asset] = balance
        self.pending.append(BalanceChanged(balance))

    def deposit(self, asset: str, amount: str | Decimal) -> LedgerBalance:
        """Credit ``amount`` (negative: a withdrawal) to ``asset``; pushed as the exchange pushes a deposit."""
        delta = Decimal(amount)
        known = self.balances.get(asset) or LedgerBalance(asset, Decimal(0), Decimal(0), 0)
        balance = LedgerBalance(asset, known.total + delta, known.available + delta, self.stamp())
        self.balances[asset] = balance
        self.pending.append(BalanceChanged(balance, delta))
        return balance

    def place_order(
        self,
        symbol: str | None = None,
        side: str = "buy",
        price: str = "30000",
        amount: str = "0.01",
        *,
        order_type: str = "limit",
        client_order_id: str | None = None,
    ) -> LedgerOrder:
        stamp = self.stamp()
        order = LedgerOrder(
            order_id=self.new_order_id(),
            client_order_id=self.client_order_id(client_order_id),
            symbol=symbol or self.DEFAULT_SYMBOL,
            side=side,
            order_type=order_type,
            price=Decimal(price),
            amount=Decimal(amount),
            created_at=stamp,
            updated_at=stamp,
        )
        self.orders[order.order_id] = order
        self.pending.append(OrderChanged(replace(order)))
        return order

    def fill(
        self, order_id: str, amount: str, *, fee: str = "0", fee_asset: str = "USDT", maker: bool = True
    ) -> LedgerOrder:
        """Fill ``amount`` more of an open order (at most what is left): partially filled, or filled."""
        order = self.orders[order_id]
        if not order.is_open:
            raise ValueError(f"order {order_id} is {order.status}: it cannot fill")
        executed = min(order.amount - order.filled_amount, Decimal(amount))
        stamp = self.stamp()
        execution = LedgerFill(
            trade_id=self.new_trade_id(),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=order.price,
            amount=executed,
            fee=Decimal(fee),
            fee_asset=fee_asset,
            time=stamp,
            maker=maker,
        )
        self.fills.append(execution)
        order.filled_amount += executed
        order.filled_value += executed * order.price
        order.fees += execution.fee
        order.fills += 1
        order.status = OrderStatus.FILLED if order.filled_amount >= order.amount else OrderStatus.PARTIALLY_FILLED
        order.updated_at = stamp
        self.pending.append(OrderChanged(replace(order), execution))
        return order

    def cancel(self, order_id: str) -> LedgerOrder:
        order = self.orders[order_id]
        if not order.is_open:
            raise ValueError(f"order {order_id} is {order.status}: it cannot be canceled")
        order.status = OrderStatus.CANCELED
        order.updated_at = self.stamp()
        self.pending.append(OrderChanged(replace(order)))
        return order

    async def publish(self) -> int:
        """Push the pending changes, in order, to every open connection; return how many frames went out.

        A connection that is down or silent misses them, as it would on the real exchange.
        """
        changes, self.pending = self.pending, []
        frames = [frame for change in changes for frame in self.frames(change)]
        for frame in frames:
            await self.exchange.push(frame)
        return len(frames)

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """The next ``count`` signed account requests fail with ``status`` and the exchange's error body."""
        self._faults.extend([status] * count)

    # --- reading the account -------------------------------------------------------------------------

    def open_orders(self) -> list[LedgerOrder]:
        return [order for order in self.orders.values() if order.is_open]

    def finished_orders(self) -> list[LedgerOrder]:
        """The orders that reached a final state, in the order they did."""
        return sorted((order for order in self.orders.values() if not order.is_open), key=lambda o: o.updated_at)

    def truth(self) -> AccountSnapshot:
        """Balances, open orders and every fill, typed as a connector reports them: what a tracker must end up with."""
        balances = {
            asset: BalanceUpdate(
                asset=asset, total=balance.total, available=balance.available, updated_at=balance.updated_at
            )
            for asset, balance in self.balances.items()
        }
        orders = {order.order_id: order.as_update() for order in self.open_orders()}
        return AccountSnapshot(balances, orders, [execution.as_fill() for execution in self.fills])

    def closed_orders(self) -> list[OrderUpdate]:
        return [order.as_update() for order in self.finished_orders()]

    # --- serving it ----------------------------------------------------------------------------------------

    def served_page(self, path: str) -> None:
        self.pages_served[path] += 1

    def serve_signed(self, method: str, routes: Mapping[str, Callable[[RestRequest], Any]]) -> None:
        """Route each path's ``method`` requests to its handler, `signed`."""
        for path, handler in routes.items():
            self.exchange.route(method, path, self.signed(handler))

    def signed(self, handler: Callable[[RestRequest], Any]) -> Callable[[RestRequest], Any]:
        """``handler`` behind the scripted faults and `check`. Refusals are recorded in `rejections`."""

        def serve(request: RestRequest) -> Any:
            if self._faults:
                status = self._faults.pop(0)
                return RestResponse(self.error_reply(status, "service unavailable"), status)
            refusal = self.check(request)
            if refusal is not None:
                self.rejections.append((request.path, str(refusal.body)))
                return refusal
            return handler(request)

        return serve
