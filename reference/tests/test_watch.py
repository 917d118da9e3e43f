"""``userstream watch``: the view's pure parts, the simulated trading, and whole watches of a small project.

The project is the reference connector with a harness in ``tests/watch_demo_harness.py``, as a generated
project has one; the kit's tests/test_watch.py watches a generated project, on a pseudo-terminal too.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from userstream import BalanceUpdate, OrderStatus, OrderUpdate
from userstream.account import AccountState
from userstream.cli import main, simulation
from userstream.cli.simulation import MAX_OPEN_ORDERS, Trader, simulated_trading
from userstream.cli.watch import API_KEY_VARIABLE, API_PASSPHRASE_VARIABLE, API_SECRET_VARIABLE, credentials_from
from userstream.cli.watch_view import MessageRate, amount, received, render, snapshot
from userstream.status import StreamState, StreamStatus
from userstream.testing import Credentials, Dialect, FakeExchange, ReferenceDialect
from userstream.testing.contract import PollingHarness, WebSocketHarness
from userstream.testing.dialects import reference

DEMO_HARNESS = """
from collections.abc import Sequence
from typing import Any

from reference_connector import ReconcilingReferenceAuth, ReconcilingReferenceDataSource

from userstream.testing import Dialect, FakeExchange
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialects import reference


class WatchDemoHarness(ReconcilingHarness):
    data_source_class = ReconcilingReferenceDataSource
    auth_class = ReconcilingReferenceAuth

    def dialect(self) -> Dialect:
        return reference.LoginMessageDialect()

    def install(self, exchange: FakeExchange) -> None:
        self.account = reference.install_account(exchange)

    def exchange_account(self) -> reference.ReferenceAccount:
        return self.account

    def user_events(self) -> Sequence[Any]:
        return []
"""
EXCHANGE_HARNESS = """
import os

from watch_demo_harness import WatchDemoHarness
from reference_connector import ReconcilingReferenceDataSource


class ExchangeAtAnAddress(ReconcilingReferenceDataSource):
    # What a connector's constants say; here an exchange the test runs (set before this module is imported).
    WS_URL = os.environ["WATCH_TEST_WS_URL"]
    REST_URL = os.environ["WATCH_TEST_REST_URL"]


class WatchExchangeHarness(WatchDemoHarness):
    data_source_class = ExchangeAtAnAddress
"""
THE_SECRET = "watch-test-secret-3f9a"
BALANCE_ROW = re.compile(r"^\s*(USDT|BTC)\s+\d[\d.]*\s+\d[\d.]*$", re.MULTILINE)
ORDER_ROW = re.compile(r"^\s*\d+\s+BTC-USDT\s+(open|partially_filled)\s+\d+\s+[\d.]+\s+[\d.]+$", re.MULTILINE)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "watch_demo_harness.py").write_text(DEMO_HARNESS)
    return tmp_path


@pytest.fixture
def exchange_elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[reference.ReferenceAccount]:
    """A fake exchange on its own thread and loop, as a real one is outside the watch: its account."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    exchange = FakeExchange(reference.LoginMessageDialect(), Credentials("watch-test-key", THE_SECRET))
    asyncio.run_coroutine_threadsafe(exchange.start(), loop).result(timeout=5)
    account = reference.install_account(exchange)
    account.set_balance("USDT", "250", "200")
    account.place_order(price="29000", amount="0.02")
    monkeypatch.setenv("WATCH_TEST_WS_URL", exchange.ws_url)
    monkeypatch.setenv("WATCH_TEST_REST_URL", exchange.rest_url)
    try:
        yield account
    finally:
        asyncio.run_coroutine_threadsafe(exchange.close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def status(**changes: Any) -> StreamStatus:
    fields: dict[str, Any] = {
        "state": StreamState.STREAMING,
        "connected": True,
        "last_recv_time": 1_700_000_000.25,
        "reconnect_count": 2,
        "messages_queued": 42,
        "malformed_frames": 0,
        "last_error": None,
    }
    return StreamStatus(**{**fields, **changes})


def shown(renderable: Any) -> str:
    console = Console(file=StringIO(), width=100, force_terminal=False)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_the_view_shows_balances_open_orders_and_the_connection() -> None:
    account = AccountState()
    account.apply(BalanceUpdate(asset="USDT", total=Decimal("1000.50"), available=Decimal("700")))
    order = OrderUpdate(
        exchange_order_id="1001",
        client_order_id=None,
        symbol="BTC-USDT",
        status=OrderStatus.PARTIALLY_FILLED,
        price=Decimal("30000"),
        quantity=Decimal("0.0500"),
        filled_quantity=Decimal("0.01"),
    )
    account.apply(order)
    heading = ("Demo", "somewhere")
    view = shown(render(snapshot(heading, status(last_error="connection lost"), account, 3.25, 1_700_000_002.0)))
    assert re.search(r"USDT\s+1000.5\s+700\b", view)
    assert re.search(r"1001\s+BTC-USDT\s+partially_filled\s+30000\s+0.05\s+0.01", view)
    for line in (r"state\s+streaming", r"reconnects\s+2", r"messages\s+42 \(3.2 msgs/s\)", r"last error\s+connection"):
        assert re.search(line, view), line
    assert "22:13:20.250 UTC (1.8 s ago)" in view


def test_last_recv_time_reads_never_before_the_first_frame() -> None:
    assert received(0.0, 100.0) == "never"


@pytest.mark.parametrize(("value", "written"), [("1E+3", "1000"), ("0.0100", "0.01"), ("0E-8", "0"), ("-2.50", "-2.5")])
def test_amounts_are_written_plainly(value: str, written: str) -> None:
    assert amount(Decimal(value)) == written


def test_the_message_rate_counts_the_last_window_only() -> None:
    rate = MessageRate(window=10.0, started=0.0)
    assert rate.per_second(0.5) == 0.0
    for moment in (1.0, 2.0, 3.0):
        rate.record(moment)
    assert rate.per_second(4.0) == 3 / 4, "over the 4 s watched so far"
    rate.record(12.5)
    assert rate.per_second(12.6) == 2 / 10, "1.0 and 2.0 are out of the window"


def test_credentials_come_from_the_environment() -> None:
    environment = {API_KEY_VARIABLE: "key", API_SECRET_VARIABLE: "secret", API_PASSPHRASE_VARIABLE: "phrase"}
    assert credentials_from(environment, passphrase=True).passphrase == "phrase"
    assert credentials_from(environment, passphrase=False).passphrase is None


def test_a_missing_credential_is_named_without_showing_the_others() -> None:
    with pytest.raises(Exception, match=f"set {API_SECRET_VARIABLE} and {API_PASSPHRASE_VARIABLE} in") as missing:
        credentials_from({API_KEY_VARIABLE: "the-key-itself"}, passphrase=True)
    assert "the-key-itself" not in str(missing.value)


async def test_the_trader_keeps_an_order_open_and_the_balances_consistent() -> None:
    async with FakeExchange(reference.LoginMessageDialect()) as exchange:
        account = reference.install_account(exchange)
        trader = Trader(account, random.Random(3))
        trader.open()
        assert set(account.balances) == {"USDT", "BTC"}
        assert len(account.open_orders()) == 2
        for _ in range(300):
            trader.step()
            assert 1 <= len(account.open_orders()) <= MAX_OPEN_ORDERS
            assert {order.order_id for order in account.open_orders()} == set(trader.orders)
            assert all(0 <= available <= total for total, available, _ in account.balances.values())
        assert account.fills, "orders were filled"
        assert any(order.status == "canceled" for order in account.orders.values()), "an order was cancelled"


class ChangingHarness(PollingHarness):
    changes = 0

    def dialect(self) -> Dialect:
        return ReferenceDialect()

    def change_account(self, exchange: FakeExchange) -> Callable[[Any], bool]:
        self.changes += 1
        return lambda message: True


class PushingHarness(WebSocketHarness):
    def dialect(self) -> Dialect:
        return ReferenceDialect()

    def user_events(self) -> Sequence[Any]:
        return [{"channel": "orders", "data": {}}]


async def test_a_polling_harness_changes_its_account_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulation, "FIRST_CHANGE_AFTER", 0.01)
    harness = ChangingHarness()
    async with FakeExchange(harness.dialect()) as exchange:
        changing = simulated_trading(harness, exchange, random.Random(1))
        assert changing is not None
        await asyncio.wait_for(changing(), timeout=5)
    assert harness.changes == 1


async def test_a_websocket_harness_without_an_account_has_its_user_events_pushed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(simulation, "PUSH_INTERVAL", 0.01)
    harness = PushingHarness()
    pushed: list[Any] = []

    async def push(frame: Any) -> int:
        pushed.append(frame)
        return 1

    async with FakeExchange(harness.dialect()) as exchange:
        monkeypatch.setattr(exchange, "push", push)
        pushing = simulated_trading(harness, exchange, random.Random(1))
        assert pushing is not None
        task = asyncio.create_task(pushing())
        await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.wait([task])
    assert len(pushed) >= 2
    assert all(frame == harness.user_events()[0] for frame in pushed)


def test_a_timed_watch_prints_the_final_view_once(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", str(project), "--fake", "--duration", "1.5"]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "\x1b" not in printed.out, "not a terminal: plain text"
    assert printed.out.count("open orders") == 1, "only the final view"
    assert BALANCE_ROW.search(printed.out), printed.out
    assert ORDER_ROW.search(printed.out), printed.out
    assert re.search(r"state\s+streaming", printed.out)


def test_without_fake_the_exchange_is_watched_with_the_environments_credentials(
    project: Path,
    exchange_elsewhere: reference.ReferenceAccount,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (project / "tests" / "watch_exchange_harness.py").write_text(EXCHANGE_HARNESS)
    monkeypatch.setenv(API_KEY_VARIABLE, "watch-test-key")
    monkeypatch.setenv(API_SECRET_VARIABLE, THE_SECRET)
    harness = "watch_exchange_harness:WatchExchangeHarness"
    assert main(["watch", str(project), "--harness", harness, "--duration", "1"]) == 0
    printed = capsys.readouterr()
    assert re.search(r"USDT\s+250\s+200$", printed.out, re.MULTILINE), printed.out
    assert re.search(r"^\s*1001\s+BTC-USDT\s+open\s+29000\s+0.02\s+0\s*$", printed.out, re.MULTILINE), printed.out
    assert "ExchangeAtAnAddress" in printed.out
    assert THE_SECRET not in printed.out + printed.err


def test_without_fake_the_missing_credentials_are_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (API_KEY_VARIABLE, API_SECRET_VARIABLE, API_PASSPHRASE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    assert main(["watch", str(project)]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith(f"userstream watch: set {API_KEY_VARIABLE} and {API_SECRET_VARIABLE} in the env")
    assert printed.err.count("\n") == 1


def test_a_directory_that_is_not_a_project_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", str(tmp_path), "--fake"]) == 2
    printed = capsys.readouterr()
    assert printed.err == f"userstream watch: {tmp_path}: no tests/ directory: is this a connector project?\n"


@pytest.mark.parametrize("option", ["--duration", "--refresh"])
@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf"])
def test_durations_and_rates_must_be_positive_numbers(
    project: Path, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["watch", str(project), "--fake", option, value])
    assert refused.value.code == 2
    assert f"argument {option}: '{value}'" in capsys.readouterr().err
