"""What ``userstream watch`` shows: a snapshot of one tracker, and its rendering with rich (pure functions)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from userstream.account import AccountState
from userstream.events import BalanceUpdate, OrderUpdate
from userstream.status import StreamState, StreamStatus

MAX_ORDER_ROWS = 15
"""Open orders shown; the rest are counted in one line, so a busy account still fits a terminal."""
STATE_STYLES = {StreamState.STREAMING: "bold green", StreamState.BACKING_OFF: "bold red", StreamState.STOPPED: "dim"}


class MessageRate:
    """User messages a second over the last `window` seconds (fewer at the start: only the time watched counts)."""

    def __init__(self, window: float = 10.0, *, started: float | None = None) -> None:
        self.window = window
        self.started = time.monotonic() if started is None else started
        self._arrivals: deque[float] = deque()

    def record(self, moment: float) -> None:
        self._arrivals.append(moment)

    def per_second(self, now: float) -> float:
        while self._arrivals and self._arrivals[0] <= now - self.window:
            self._arrivals.popleft()
        span = min(self.window, max(now - self.started, 1.0))
        return len(self._arrivals) / span


@dataclass(frozen=True)
class WatchSnapshot:
    """Everything one rendering shows, read from the tracker at one moment."""

    title: str
    """What is watched: the connector's data source."""
    where: str
    """Where it runs, in a few words (the fake exchange's address and whether trading is simulated)."""
    status: StreamStatus
    balances: tuple[BalanceUpdate, ...]
    open_orders: tuple[OrderUpdate, ...]
    message_rate: float
    now: float
    """`time.time()` when it was taken: the age of ``last_recv_time`` is measured from it."""


def snapshot(
    heading: tuple[str, str], status: StreamStatus, account: AccountState, message_rate: float, now: float
) -> WatchSnapshot:
    """The view of ``account`` and ``status`` at ``now``, under ``heading`` (title, where)."""
    title, where = heading
    return WatchSnapshot(
        title=title,
        where=where,
        status=status,
        balances=tuple(account.balances[asset] for asset in sorted(account.balances)),
        open_orders=tuple(account.open_orders.values()),  # in the order they arrived
        message_rate=message_rate,
        now=now,
    )


def render(view: WatchSnapshot) -> RenderableType:
    return Group(
        Text(view.title, style="bold"),
        Text(view.where, style="dim"),
        Text(""),
        Padding(connection_table(view), (0, 0, 1, 0)),
        balances_table(view.balances),
        orders_table(view.open_orders),
    )


def connection_table(view: WatchSnapshot) -> Table:
    status = view.status
    table = Table(box=None, show_header=False, title="connection", title_justify="left", pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    table.add_row("state", Text(status.state.value, style=STATE_STYLES.get(status.state, "yellow")))
    table.add_row("connected", "yes" if status.connected else "no")
    table.add_row("last_recv_time", received(status.last_recv_time, view.now))
    table.add_row("reconnects", str(status.reconnect_count))
    table.add_row("messages", f"{status.messages_queued} ({view.message_rate:.1f} msgs/s)")
    if status.reconciled_at is not None or status.reconciling:
        table.add_row("reconciled", reconciled(status))
    if status.malformed_frames:
        table.add_row("malformed frames", str(status.malformed_frames))
    if status.last_error:
        table.add_row("last error", Text(status.last_error, style="red"))
    return table


def balances_table(balances: Iterable[BalanceUpdate]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="balances", title_justify="left", pad_edge=False)
    table.add_column("asset")
    table.add_column("total", justify="right")
    table.add_column("available", justify="right")
    for balance in balances:
        table.add_row(balance.asset, amount(balance.total), amount(balance.available))
    return table


def orders_table(orders: tuple[OrderUpdate, ...]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=f"open orders ({len(orders)})", title_justify="left", pad_edge=False)
    for name in ("id", "symbol", "status"):
        table.add_column(name)
    for name in ("price", "quantity", "filled"):
        table.add_column(name, justify="right")
    for order in orders[:MAX_ORDER_ROWS]:
        table.add_row(
            order.exchange_order_id,
            order.symbol,
            order.status.value,
            amount(order.price),
            amount(order.quantity),
            amount(order.filled_quantity),
        )
    if len(orders) > MAX_ORDER_ROWS:
        table.add_row(f"... {len(orders) - MAX_ORDER_ROWS} more", "", "", "", "", "")
    return table


def received(last_recv_time: float, now: float) -> str:
    """``12:00:01.250 UTC (0.4 s ago)``; ``never`` before the first frame."""
    if not last_recv_time:
        return "never"
    moment = time.strftime("%H:%M:%S", time.gmtime(last_recv_time)) + f".{int(last_recv_time % 1 * 1000):03d}"
    return f"{moment} UTC ({max(now - last_recv_time, 0.0):.1f} s ago)"


def reconciled(status: StreamStatus) -> str:
    if status.reconciling or status.reconciled_at is None:
        failures = f", {status.reconcile_failures} failed" if status.reconcile_failures else ""
        return f"gap open, reconciling{failures}"
    return time.strftime("%H:%M:%S UTC", time.gmtime(status.reconciled_at))


def amount(value: Decimal) -> str:
    """A decimal as written, without exponent or trailing zeros: ``1E+3`` is ``1000``, ``0.0100`` is ``0.01``."""
    return f"{value.normalize():f}" if value else "0"
