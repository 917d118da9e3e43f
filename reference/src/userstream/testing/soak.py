"""The fault soak: a tracker against a fake exchange whose account keeps changing while faults are injected.

The exchange places, fills and cancels orders and moves balances, pushing each change as the real
one would (a connection that is down or silent misses it). At seeded random moments it injects a
fault the reference knows (`FAULTS`); after each, the soak waits for the tracker to reconcile. At the
end the tracker's account must equal the exchange's truth, every fill and every order's final state
must have reached the consumer exactly once, fills before their order's final state, and `stop()`
must leave no task and no connection behind.

`run_soak` returns a `SoakReport`; ``benchmarks/soak.py`` runs it for each archetype, ``userstream soak`` for one
project, and both print its `SoakReport.rows` and, last, the `total`'s `SoakReport.summary`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from userstream.backoff import ReconnectPolicy
from userstream.events import OrderUpdate, TradeFill
from userstream.testing.accounts import ExchangeAccount, account_differences
from userstream.testing.contract import TEST_TIMINGS, ReconcilingHarness, agrees, client_tasks
from userstream.testing.fake_exchange import FakeExchange
from userstream.tracker import UserStreamTracker

SOAK_RECONNECT = ReconnectPolicy(initial_delay=0.05, max_delay=0.5, factor=2.0, jitter=0.5, min_delay=0.02)
"""Fast enough for hundreds of faults a minute, jittered as in production."""
RECOVERY_TIMEOUT = 20.0
"""Seconds a fault may take to be reconciled before the soak gives up on it (and reports it)."""
ANNOUNCED_CLOSE_AFTER = 0.5
"""Seconds an exchange goes on delivering after it announced a connection's end (OKX: about 30)."""

Fault = Callable[[FakeExchange, ReconcilingHarness, ExchangeAccount], Awaitable[bool]]


async def _drop(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    await exchange.drop_connections()
    return True


async def _close_1001(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    await exchange.close_connections(code=1001, reason="going away")
    return True


async def _half_open(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    exchange.go_silent()
    return True


async def _malformed_frame(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    await exchange.send_malformed()
    return True


async def _rejected_login(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    if not harness.refuse_next_authentication(exchange):
        return False
    await exchange.drop_connections()  # so that the next authentication happens now
    return True


async def _credential_expiry(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    return await harness.expire_credentials(exchange)


async def _snapshot_5xx(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    account.fail_next(2)  # the next snapshot requests fail: the one the reconnect below starts
    await exchange.drop_connections()
    return True


async def _announced_close(exchange: FakeExchange, harness: ReconcilingHarness, account: ExchangeAccount) -> bool:
    if not harness.ANNOUNCES_CLOSE:
        return False  # the exchange only closes (close_1001 covers that)
    await harness.announce_close(exchange, after=ANNOUNCED_CLOSE_AFTER)
    return True


FAULTS: dict[str, Fault] = {
    "tcp_drop": _drop,
    "close_1001": _close_1001,
    "half_open": _half_open,
    "malformed_frame": _malformed_frame,
    "rejected_login": _rejected_login,
    "credential_expiry": _credential_expiry,
    "snapshot_5xx": _snapshot_5xx,
    "announced_close": _announced_close,
}
"""Every fault the reference knows, by the name the report uses."""


@dataclass
class SoakReport:
    name: str
    guarantee: str = ""
    """What the account guarantees on this exchange (`ReconcilingHarness.GUARANTEE`)."""
    faults: int = 0
    faults_by_kind: Counter[str] = field(default_factory=Counter)
    unsupported: set[str] = field(default_factory=set)
    """Faults this exchange's fake cannot inject (no login to refuse, no key to expire)."""
    events: int = 0
    """Exchange-side changes that must reach the consumer exactly once: fills and orders reaching a final state."""
    delivered: int = 0
    """Of those, how many reached it (at least once)."""
    duplicated: int = 0
    """Extra deliveries of a fill or a final order state."""
    out_of_order: int = 0
    """Orders whose final state reached the consumer before one of their fills."""
    differences: list[str] = field(default_factory=list)
    """How the tracker's account differs from the exchange's at the end (empty: it agrees)."""
    reconnects: int = 0
    handovers: int = 0
    """Connections replaced make-before-break after an announced close: no reconnect, no gap."""
    duration_s: float = 0.0
    max_recover_s: float = 0.0
    unrecovered: int = 0
    """Faults not reconciled within `RECOVERY_TIMEOUT`."""
    leftover_tasks: int = 0
    leftover_connections: int = 0
    reconnect_bound_per_min: float = 0.0
    """The most reconnect attempts a minute the backoff allows (every attempt waits at least ``min_delay``)."""

    @property
    def reconnects_caused(self) -> int:
        """Reconnects the faults explain: one per fault that ends a connection, two for a refused login (an announced
        close is handed over, not reconnected, unless the handover failed)."""
        ending = sum(
            count for kind, count in self.faults_by_kind.items() if kind not in ("malformed_frame", "announced_close")
        )
        ending += self.faults_by_kind["announced_close"] - self.handovers
        return ending + self.faults_by_kind["rejected_login"]

    @property
    def lost(self) -> int:
        return self.events - self.delivered + len(self.differences)

    @property
    def reconnects_per_min(self) -> float:
        return self.reconnects * 60 / self.duration_s if self.duration_s else 0.0

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.out_of_order == 0
            and self.unrecovered == 0
            and self.leftover_tasks == 0
            and self.leftover_connections == 0
            and self.reconnects_per_min <= self.reconnect_bound_per_min
        )

    def summary(self) -> str:
        """The one-line result: ``faults=… events=… delivered=… lost=… duplicated=… reconnects=… max_recover_s=…``."""
        return (
            f"faults={self.faults} events={self.events} delivered={self.delivered} lost={self.lost} "
            f"duplicated={self.duplicated} reconnects={self.reconnects} max_recover_s={self.max_recover_s:.2f}"
        )

    def details(self) -> str:
        kinds = " ".join(f"{kind}={count}" for kind, count in sorted(self.faults_by_kind.items()))
        lines = [
            f"{self.name}: {'ok' if self.passed else 'FAILED'} in {self.duration_s:.1f} s; faults: {kinds}",
            f"  guarantee: {self.guarantee}",
            f"  out_of_order={self.out_of_order} unrecovered={self.unrecovered} leftover_tasks={self.leftover_tasks}"
            f" leftover_connections={self.leftover_connections}",
            f"  reconnects={self.reconnects} (the faults explain {self.reconnects_caused}) handovers={self.handovers}"
            f" reconnects_per_min={self.reconnects_per_min:.0f} (backoff bound {self.reconnect_bound_per_min:.0f})",
        ]
        if self.unsupported:
            lines.append(f"  not injectable here: {', '.join(sorted(self.unsupported))}")
        lines += [f"  differs: {difference}" for difference in self.differences[:10]]
        return "\n".join(lines)

    def rows(self) -> str:
        """The connector's rows of the soak's table: `details`, then ``<name>: `` and `summary`."""
        return f"{self.details()}\n{self.name}: {self.summary()}"


def total(reports: list[SoakReport]) -> SoakReport:
    """Every connector's soak in one report: its `summary` is the table's last line."""
    overall = SoakReport("all")
    for report in reports:
        overall.faults += report.faults
        overall.events += report.events
        overall.delivered += report.delivered
        overall.duplicated += report.duplicated
        overall.differences += report.differences
        overall.reconnects += report.reconnects
        overall.max_recover_s = max(overall.max_recover_s, report.max_recover_s)
    return overall


class _Activity:
    """The exchange's side: a seeded stream of order and balance changes."""

    MAX_OPEN_ORDERS = 25
    LOT = "0.01"

    def __init__(self, account: ExchangeAccount, rng: random.Random) -> None:
        self.account = account
        self.rng = rng
        self.lots_left: dict[str, int] = {}
        """Open order id → how many more fills of `LOT` complete it."""

    def step(self) -> None:
        roll = self.rng.random()
        if not self.lots_left or (roll < 0.3 and len(self.lots_left) < self.MAX_OPEN_ORDERS):
            lots = self.rng.randint(2, 9)
            side = self.rng.choice(("buy", "sell"))
            price = str(self.rng.randint(29_000, 31_000))
            order = self.account.place_order(side=side, price=price, amount=f"0.0{lots}")
            self.lots_left[order.order_id] = lots
        elif roll < 0.75:
            order_id = self.rng.choice(sorted(self.lots_left))
            self.account.fill(order_id, self.LOT, fee="0.01")
            self.lots_left[order_id] -= 1
            if not self.lots_left[order_id]:
                del self.lots_left[order_id]
        elif roll < 0.85:
            order_id = self.rng.choice(sorted(self.lots_left))
            self.account.cancel(order_id)
            del self.lots_left[order_id]
        else:
            total = f"{self.rng.randint(100, 10_000)}.{self.rng.randint(0, 99):02d}"
            asset = self.rng.choice(("USDT", "BTC", "ETH"))
            if self.rng.random() < 0.5:
                self.account.set_balance(asset, total)
            else:  # pushed as a deposit: by an exchange that pushes amounts moved, as the amount
                self.account.deposit(asset, f"{self.rng.randint(1, 99)}.{self.rng.randint(0, 99):02d}")


async def run_soak(
    harness: ReconcilingHarness,
    *,
    faults: int,
    seed: int,
    name: str = "",
    mean_fault_interval: float = 0.25,
    activity_interval: float = 0.005,
) -> SoakReport:
    """Run one soak; see the module docstring. Deterministic in what it injects, given ``seed``."""
    rng = random.Random(seed)
    report = SoakReport(
        name or type(harness).__name__,
        guarantee=harness.GUARANTEE,
        reconnect_bound_per_min=60 / SOAK_RECONNECT.min_delay,
    )
    started = time.monotonic()
    async with FakeExchange(harness.dialect(), harness.credentials()) as exchange:
        harness.install(exchange)
        account = harness.exchange_account()
        account.set_balance("USDT", "10000")
        data_source = harness.data_source(
            exchange,
            harness.credentials(),
            timings=TEST_TIMINGS,
            reconnect=SOAK_RECONNECT,
            rng=random.Random(seed + 1),
        )
        tracker = UserStreamTracker(data_source, typed_events=True)
        received: list[Any] = []

        async def consume() -> None:
            while True:
                received.append(await tracker.account_events.get())

        async def consume_raw() -> None:  # a bot reads both queues; an unread one would only grow
            while True:
                await tracker.user_stream.get()

        activity = _Activity(account, random.Random(seed + 2))

        async def trade() -> None:
            while True:
                activity.step()
                await account.publish()
                await asyncio.sleep(activity_interval)

        consumers = [asyncio.create_task(consume()), asyncio.create_task(consume_raw())]
        await tracker.start()
        await _reconciled_after(lambda: tracker.status, 0.0)
        trader = asyncio.create_task(trade())
        kinds = sorted(FAULTS)
        handovers = 0
        try:
            while report.faults < faults:
                await asyncio.sleep(rng.expovariate(1 / mean_fault_interval))
                kind = rng.choice(kinds)
                moment = time.time()
                if not await FAULTS[kind](exchange, harness, account):
                    report.unsupported.add(kind)
                    kinds.remove(kind)
                    continue
                report.faults += 1
                report.faults_by_kind[kind] += 1
                if kind == "malformed_frame":
                    continue  # skipped in place: no gap to reconcile
                try:
                    if kind == "announced_close":
                        await _handed_over_or_reconciled(lambda: tracker.status, moment, handovers)
                        handovers = tracker.status.handovers
                        continue  # no gap: nothing was reconciled, so there is no recovery time to measure
                    await _reconciled_after(lambda: tracker.status, moment)
                except TimeoutError:
                    report.unrecovered += 1
                    continue
                recovered = tracker.status.reconciled_at or moment
                report.max_recover_s = max(report.max_recover_s, recovered - moment)
        finally:
            trader.cancel()
            await asyncio.wait([trader])
        await account.publish()
        # Settle: the last changes arrive live; a final reconciliation proves nothing was missed.
        data_source.request_reconciliation()
        await _reconciled_after(lambda: tracker.status, time.time())
        with contextlib.suppress(AssertionError):  # whatever still differs is reported below
            await agrees(tracker.account, account)
        report.differences = account_differences(tracker.account, account.truth())
        report.reconnects = tracker.status.reconnect_count
        report.handovers = tracker.status.handovers
        await tracker.stop()
        for consumer in consumers:
            consumer.cancel()
        await asyncio.wait(consumers)
        report.leftover_tasks = len(client_tasks())
        await asyncio.sleep(0.05)  # the exchange's side of each closed socket ends a moment later
        report.leftover_connections = exchange.open_connections
        _count_deliveries(report, received, account)
    report.duration_s = time.monotonic() - started
    return report


def _count_deliveries(report: SoakReport, received: list[Any], account: ExchangeAccount) -> None:
    truth = account.truth()
    fills = Counter(event.trade_id for event in received if isinstance(event, TradeFill))
    finals = Counter(
        event.exchange_order_id for event in received if isinstance(event, OrderUpdate) and event.status.is_final
    )
    real_fills = {fill.trade_id: fill.exchange_order_id for fill in truth.fills}
    real_finals = {order.exchange_order_id for order in account.closed_orders()}
    report.events = len(real_fills) + len(real_finals)
    report.delivered = sum(1 for trade_id in real_fills if fills[trade_id]) + sum(
        1 for order_id in real_finals if finals[order_id]
    )
    report.duplicated = sum(count - 1 for count in fills.values()) + sum(count - 1 for count in finals.values())
    position = {id(event): index for index, event in enumerate(received)}
    last_fill: dict[str, int] = {}
    for event in received:
        if isinstance(event, TradeFill):
            last_fill[event.exchange_order_id] = position[id(event)]
    report.out_of_order = sum(
        1
        for event in received
        if isinstance(event, OrderUpdate)
        and event.status.is_final
        and last_fill.get(event.exchange_order_id, -1) > position[id(event)]
    )


async def _handed_over_or_reconciled(data_source_status: Callable[[], Any], moment: float, handovers: int) -> None:
    """Wait until the stream handed over to a new connection (or, if that failed, reconnected and reconciled)."""

    def done() -> bool:
        status = data_source_status()
        reconciled = not status.reconciling and (status.reconciled_at or 0) > moment
        return status.streaming and (status.handovers > handovers or reconciled)

    async with asyncio.timeout(RECOVERY_TIMEOUT):
        while not done():  # noqa: ASYNC110 - polling the tracker's own status
            await asyncio.sleep(0.005)


async def _reconciled_after(data_source_status: Callable[[], Any], moment: float) -> None:
    """Wait until a reconciliation finished after ``moment`` and the stream is up with no gap open."""

    def done() -> bool:
        status = data_source_status()
        return status.streaming and not status.reconciling and (status.reconciled_at or 0) > moment

    async with asyncio.timeout(RECOVERY_TIMEOUT):
        while not done():  # noqa: ASYNC110 - polling the tracker's own status
            await asyncio.sleep(0.005)
