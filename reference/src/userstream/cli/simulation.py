"""Simulated trading for ``userstream watch --fake``: the fake exchange's account keeps moving, so the view does.

A harness that offers the exchange's account (`ReconcilingHarness.exchange_account`) gets a trader that places,
fills and cancels orders and moves balances as the fills would, a few times a second. A polling harness makes
its one `PollingHarness.change_account`; any other WebSocket harness has its `user_events` pushed each second.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ConnectorHarness, PollingHarness, WebSocketHarness
from userstream.testing.fake_exchange import FakeExchange

STEP_INTERVAL = 0.25
"""Seconds between two changes of the account: fast enough to watch the view move, slow enough to read it."""
FIRST_CHANGE_AFTER = 1.0
"""Seconds a polling harness's account stays as it started: its first polls show the starting account."""
PUSH_INTERVAL = 1.0
"""Seconds between two pushes of a WebSocket harness's user events."""
MAX_OPEN_ORDERS = 6
LOT = Decimal("0.01")
BASE, QUOTE = "BTC", "USDT"
"""The assets of the exchange's default symbol (`ExchangeAccount.place_order` with no symbol trades it)."""

Simulation = Callable[[], Coroutine[Any, Any, None]]


@runtime_checkable
class OffersExchangeAccount(Protocol):
    def exchange_account(self) -> ExchangeAccount: ...


class Trader:
    """Places, fills and cancels orders on an `ExchangeAccount`, keeping its balances consistent with the fills.

    At least one order is always open, so a view of the account always shows one.
    """

    def __init__(self, account: ExchangeAccount, rng: random.Random) -> None:
        self.account = account
        self.rng = rng
        self.holdings = {QUOTE: Decimal(10_000), BASE: Decimal("0.5")}
        self.orders: dict[str, tuple[str, Decimal, Decimal]] = {}
        """Open order id → (side, price, quantity left)."""

    def open(self) -> None:
        """The starting account: two balances and two open orders, one on each side of the book."""
        self.place("buy", Decimal(29_500), 5)
        self.place("sell", Decimal(30_500), 3)
        self.move_balances()

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.3 and len(self.orders) < MAX_OPEN_ORDERS:
            self.place_affordable(self.rng.randint(2, 6))
        elif roll < 0.75:
            self.fill(self.rng.choice(sorted(self.orders)))
        elif roll < 0.85 and len(self.orders) > 1:
            order_id = self.rng.choice(sorted(self.orders))
            self.account.cancel(order_id)
            del self.orders[order_id]
        else:  # a deposit, or a withdrawal of at most what no order locks
            free = max(self.available()[QUOTE], Decimal(0))
            self.holdings[QUOTE] += max(Decimal(self.rng.randint(-500, 1_000)), -free)
        self.move_balances()

    def place_affordable(self, lots: int) -> None:
        """An order at a price near the book's, on a side the holdings not yet locked can pay for."""
        price = Decimal(self.rng.randint(29_000, 31_000))
        free = self.available()
        side = self.rng.choice(("buy", "sell"))
        if side == "sell" and free[BASE] < LOT * lots:
            side = "buy"
        elif side == "buy" and free[QUOTE] < price * LOT * lots:
            side = "sell"
        self.place(side, price, lots)

    def place(self, side: str, price: Decimal, lots: int) -> None:
        order = self.account.place_order(side=side, price=str(price), amount=str(LOT * lots))
        self.orders[order.order_id] = (side, price, LOT * lots)

    def fill(self, order_id: str) -> None:
        side, price, left = self.orders[order_id]
        if left == LOT and len(self.orders) == 1:
            self.place_affordable(4)
        self.account.fill(order_id, str(LOT))
        sign = 1 if side == "buy" else -1
        self.holdings[BASE] += sign * LOT
        self.holdings[QUOTE] -= sign * LOT * price
        if left == LOT:
            del self.orders[order_id]
        else:
            self.orders[order_id] = (side, price, left - LOT)

    def available(self) -> dict[str, Decimal]:
        """Each asset's holdings less what its open orders lock (buys lock the quote, sells the base)."""
        free = dict(self.holdings)
        for side, price, left in self.orders.values():
            if side == "buy":
                free[QUOTE] -= price * left
            else:
                free[BASE] -= left
        return free

    def move_balances(self) -> None:
        for asset, free in self.available().items():
            self.account.set_balance(asset, self.holdings[asset], max(free, Decimal(0)))

    async def run(self) -> None:
        while True:
            await self.account.publish()
            await asyncio.sleep(STEP_INTERVAL)
            self.step()


def simulated_trading(harness: ConnectorHarness, exchange: FakeExchange, rng: random.Random) -> Simulation | None:
    """What moves ``exchange`` (on which ``harness.install`` has run) while it is watched; None if nothing can.

    The starting account is set up at once, before the connector's first snapshot reads it.
    """
    if isinstance(harness, OffersExchangeAccount):
        trader = Trader(harness.exchange_account(), rng)
        trader.open()
        return trader.run
    if isinstance(harness, PollingHarness):
        return lambda: _change_once(harness, exchange)
    if isinstance(harness, WebSocketHarness):
        return lambda: _push_user_events(harness, exchange)
    return None


async def _change_once(harness: PollingHarness, exchange: FakeExchange) -> None:
    await asyncio.sleep(FIRST_CHANGE_AFTER)
    harness.change_account(exchange)


async def _push_user_events(harness: WebSocketHarness, exchange: FakeExchange) -> None:
    while True:
        await asyncio.sleep(PUSH_INTERVAL)
        for frame in harness.user_events():
            await exchange.push(frame)
