"""The behaviour every user-stream connector owes its users, written once as tests.

A connector's test module subclasses `WebSocketUserStreamContract` (or `PollingUserStreamContract`
for an exchange served by REST polling) and provides one fixture, ``harness``: a `ConnectorHarness`
that says how to build the connector and how its exchange's fake speaks. Every test then runs
against that connector over a real loopback socket (and, for WebSocket streams, over an in-memory
one too)::

    class TestAcmeUserStream(WebSocketUserStreamContract):
        @pytest.fixture
        def harness(self) -> ConnectorHarness:
            return AcmeHarness()

The checks are the ones a reviewer would otherwise repeat by hand for each exchange: events reach
the queue in order, liveness frames move ``last_recv_time`` without being queued, a dropped or
silent connection is replaced by a freshly authenticated one, refused credentials are reported and
retried with backoff, malformed frames are skipped, ``stop()`` leaves nothing behind, and the
legacy ``listen_for_user_stream(ev_loop, output)`` form still works.
"""

from __future__ import annotations

import abc
import asyncio
import warnings
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, cast

import pytest
import pytest_asyncio

from userstream.account import AccountState
from userstream.auth import MarketAuth
from userstream.backoff import ReconnectPolicy
from userstream.data_source import UserStreamTrackerDataSource, WebSocketFactory
from userstream.events import (
    EventSource,
    OrderStatus,
    Reconciled,
    ReconcileReason,
    is_gap_marker,
)
from userstream.reconciliation import AccountEventSink
from userstream.testing.accounts import ExchangeAccount, account_differences, fills_of, order_updates_of
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange
from userstream.timings import StreamTimings

__all__ = [
    "TEST_RECONNECT",
    "TEST_TIMINGS",
    "ConnectorHarness",
    "PollingHarness",
    "PollingUserStreamContract",
    "ReconciliationContract",
    "ReconcilingHarness",
    "WebSocketHarness",
    "WebSocketUserStreamContract",
    "agrees",
    "client_tasks",
    "drain",
    "eventually",
    "gap_marker",
    "listen_with_events",
    "start_listening",
]

# Short enough that a test waits milliseconds, long enough that two loaded cores keep up.
TEST_TIMINGS = StreamTimings(
    connect_timeout=2.0,
    handshake_timeout=2.0,
    ping_interval=0.2,
    stale_after=0.6,
    close_timeout=0.5,
    handover_overlap=0.1,
)
# jitter=0 makes every delay its ceiling, so a test can bound reconnect times exactly.
TEST_RECONNECT = ReconnectPolicy(initial_delay=0.05, max_delay=0.4, factor=2.0, jitter=0.0, min_delay=0.0)
WAIT = 5.0
"""Seconds a test waits for something that should take milliseconds."""


async def eventually(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Wait until ``condition()`` holds; fail with ``what`` if it does not within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110 - polling state owned by the code under test
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout:g} s") from None


_FAKE_EXCHANGE_TASKS = ("RequestHandler.", "FakeExchange.")


def client_tasks() -> set[asyncio.Task[Any]]:
    """Tasks alive besides the caller's own and the fake exchange's (its request handlers, its scheduled closes)."""
    current = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not current and not task.done() and not _qualname(task).startswith(_FAKE_EXCHANGE_TASKS)
    }


_listeners: set[asyncio.Task[None]] = set()  # asyncio holds tasks weakly; these must live until they end


def start_listening(
    data_source: UserStreamTrackerDataSource, legacy_loop: asyncio.AbstractEventLoop | None = None
) -> tuple[asyncio.Queue[Any], asyncio.Task[None]]:
    """Run ``data_source.listen_for_user_stream`` in the background: the queue it fills, and its task.

    With ``legacy_loop``, through the older ``listen_for_user_stream(ev_loop, output)`` form.
    """
    output: asyncio.Queue[Any] = asyncio.Queue()
    if legacy_loop is None:
        listening = data_source.listen_for_user_stream(output)
    else:
        listening = data_source.listen_for_user_stream(legacy_loop, output)
    task = asyncio.create_task(listening)
    _listeners.add(task)
    task.add_done_callback(_listeners.discard)
    return output, task


def listen_with_events(data_source: UserStreamTrackerDataSource) -> tuple[asyncio.Queue[Any], AccountEventSink]:
    """`start_listening`, with the data source's typed events on a queue too: ``(user stream, account events)``."""
    events: AccountEventSink = asyncio.Queue()
    data_source.account_events = events
    output, _ = start_listening(data_source)
    return output, events


def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    """Everything on ``queue`` now, without waiting."""
    drained = []
    while not queue.empty():
        drained.append(queue.get_nowait())
    return drained


async def gap_marker(output: asyncio.Queue[Any]) -> dict[str, Any]:
    """The next gap marker on a user stream; the exchange's messages before it are skipped."""
    async with asyncio.timeout(WAIT):
        while not is_gap_marker(message := await output.get()):
            pass
        return cast(dict[str, Any], message)


async def agrees(account: AccountState, truth: ExchangeAccount) -> None:
    """Wait until ``account`` agrees exactly with the exchange's truth (`account_differences`)."""

    def agreeing() -> bool:
        return not account_differences(account, truth.truth())

    await eventually(agreeing, "the account agrees with the exchange")


def _qualname(task: asyncio.Task[Any]) -> str:
    return str(getattr(task.get_coro(), "__qualname__", ""))


class ConnectorHarness(abc.ABC):
    """How the contract builds one connector and sets up its exchange's fake.

    Set ``data_source_class`` (and ``auth_class`` when the exchange signs its own way), and say
    which fake to run with `dialect`; override the rest where the exchange differs.
    """

    data_source_class: ClassVar[type[UserStreamTrackerDataSource]]
    auth_class: ClassVar[type[MarketAuth]] = MarketAuth

    @abc.abstractmethod
    def dialect(self) -> Dialect:
        """A fresh fake of the connector's exchange."""

    def credentials(self) -> Credentials:
        """The account the fake exchange accepts."""
        return Credentials()

    def wrong_credentials(self) -> Credentials:
        """An account the fake exchange refuses: by default every part of `credentials` changed."""
        right = self.credentials()
        passphrase = None if right.passphrase is None else f"wrong-{right.passphrase}"
        return Credentials(api_key=f"wrong-{right.api_key}", secret=f"wrong-{right.secret}", passphrase=passphrase)

    def install(self, exchange: FakeExchange) -> None:  # noqa: B027 - most exchanges need no REST routes
        """Serve the exchange's REST routes (listen keys, tokens, server time) on ``exchange``."""

    def auth(self, credentials: Credentials) -> MarketAuth:
        """The connector's signer for ``credentials``."""
        if credentials.passphrase is None:
            return self.auth_class(credentials.api_key, credentials.secret)
        return self.auth_class(credentials.api_key, credentials.secret, credentials.passphrase)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        """The connector's URL arguments pointing at ``exchange`` (``ws_url=``, ``rest_url=``)."""
        return {"ws_url": exchange.ws_url, "rest_url": exchange.rest_url}

    def options(self) -> Mapping[str, Any]:
        """Other constructor arguments the tests need (a short poll interval, say)."""
        return {}

    def data_source(
        self,
        exchange: FakeExchange,
        credentials: Credentials,
        *,
        timings: StreamTimings,
        reconnect: ReconnectPolicy,
        websocket_factory: WebSocketFactory | None = None,
        **overrides: Any,
    ) -> UserStreamTrackerDataSource:
        """The connector's data source, signing with ``credentials`` and pointed at ``exchange``.

        ``overrides`` are further constructor arguments (``reconcile_interval=``), over `options`.
        """
        arguments: dict[str, Any] = {**self.endpoints(exchange), "timings": timings, "reconnect": reconnect}
        if websocket_factory is not None:
            arguments["websocket_factory"] = websocket_factory
        return self.data_source_class(self.auth(credentials), **arguments, **{**self.options(), **overrides})


class WebSocketHarness(ConnectorHarness):
    @abc.abstractmethod
    def user_events(self) -> Sequence[Any]:
        """Frames the exchange pushes for an order update, a fill and a balance change, in its own shapes."""


class PollingHarness(ConnectorHarness):
    @abc.abstractmethod
    def change_account(self, exchange: FakeExchange) -> Callable[[Any], bool]:
        """Change the account on ``exchange`` (place an order, move a balance); return a test for its message."""

    def fail_next_poll(self, exchange: FakeExchange) -> None:
        """Make the exchange's next balance or order request fail with a server error."""
        raise NotImplementedError


class _Contract:
    """What both contracts share: an exchange, a way to build data sources, and cleanup."""

    @pytest.fixture
    def harness(self) -> ConnectorHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    @pytest_asyncio.fixture
    async def exchange(self, harness: ConnectorHarness) -> AsyncIterator[FakeExchange]:
        async with FakeExchange(harness.dialect(), harness.credentials()) as exchange:
            harness.install(exchange)
            yield exchange

    @pytest_asyncio.fixture
    async def build(
        self, harness: ConnectorHarness, exchange: FakeExchange
    ) -> AsyncIterator[Callable[..., UserStreamTrackerDataSource]]:
        """``build(credentials=None, websocket_factory=None, **overrides)``: a data source, stopped after the test."""
        built: list[UserStreamTrackerDataSource] = []

        def build(
            credentials: Credentials | None = None,
            websocket_factory: WebSocketFactory | None = None,
            **overrides: Any,
        ) -> UserStreamTrackerDataSource:
            data_source = harness.data_source(
                exchange,
                credentials or harness.credentials(),
                timings=TEST_TIMINGS,
                reconnect=TEST_RECONNECT,
                websocket_factory=websocket_factory,
                **overrides,
            )
            built.append(data_source)
            return data_source

        yield build
        for data_source in built:
            await data_source.stop()

    @staticmethod
    async def next_message(output: asyncio.Queue[Any]) -> Any:
        """The next message from the exchange; userstream's own gap markers are skipped."""
        async with asyncio.timeout(WAIT):
            while is_gap_marker(message := await output.get()):
                pass
            return message

    @staticmethod
    async def streaming(data_source: UserStreamTrackerDataSource, *, reconnects: int = 0) -> None:
        await eventually(
            lambda: data_source.status.streaming and data_source.status.reconnect_count >= reconnects,
            f"streaming after {reconnects} reconnect(s) (status: {data_source.status})",
        )

    async def test_stop_leaves_no_task_and_no_open_connection(
        self, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        _, task = start_listening(data_source)
        await self.streaming(data_source)
        await data_source.stop()
        await eventually(lambda: task.done(), "the listener ended")
        await eventually(lambda: exchange.open_connections == 0, "the exchange sees no open connection")
        assert client_tasks() == set()
        assert not data_source.status.connected

    async def test_a_healthy_stream_stays_up(self, build: Callable[..., UserStreamTrackerDataSource]) -> None:
        """Several ping intervals and staleness windows pass without a reconnect: nothing fails quietly in a loop."""
        data_source = build()
        start_listening(data_source)
        await self.streaming(data_source)
        await asyncio.sleep(3 * TEST_TIMINGS.stale_after)
        status = data_source.status
        assert status.streaming, f"the stream fell over: {status.last_error}"
        assert status.reconnect_count == 0, f"reconnected {status.reconnect_count} time(s): {status.last_error}"

    async def test_refused_credentials_are_reported_and_retried_with_backoff(
        self, harness: ConnectorHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build(credentials=harness.wrong_credentials())
        output, task = start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 2, "two retries after a refusal")
        status = data_source.status
        assert not status.streaming
        assert status.last_error, "a refusal must say why"
        assert output.empty()
        assert not task.done(), "a refusal must not end the stream: the key may be fixed, the exchange may recover"


class WebSocketUserStreamContract(_Contract):
    """The contract of a user stream served over a WebSocket; see the module docstring."""

    @pytest.fixture
    def harness(self) -> WebSocketHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    async def push_user_events(self, harness: WebSocketHarness, exchange: FakeExchange) -> list[Any]:
        events = list(harness.user_events())
        for event in events:
            assert await exchange.push(event) == 1, "the exchange must have exactly one connection to push to"
        return events

    async def assert_streams(
        self, harness: WebSocketHarness, exchange: FakeExchange, data_source: UserStreamTrackerDataSource
    ) -> None:
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        events = await self.push_user_events(harness, exchange)
        received = [await self.next_message(output) for _ in events]
        assert received == events
        assert data_source.last_recv_time > 0

    async def test_user_events_reach_the_queue_in_order(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        await self.assert_streams(harness, exchange, build())

    async def test_user_events_reach_the_queue_over_an_in_memory_socket(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        await self.assert_streams(harness, exchange, build(websocket_factory=exchange.connect_in_memory))

    async def test_liveness_frames_move_last_recv_time_and_are_not_queued(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        before = data_source.last_recv_time
        await asyncio.sleep(0.02)  # the clock must move for last_recv_time to
        try:
            await exchange.push_heartbeat()
        except NotImplementedError:  # an exchange that only pings at the protocol level
            await exchange.ping_connections()
        await eventually(lambda: data_source.last_recv_time > before, "last_recv_time moved on a liveness frame")
        events = await self.push_user_events(harness, exchange)
        assert await self.next_message(output) == events[0], "the liveness frame must not be queued"

    async def test_a_dropped_connection_is_replaced_by_a_freshly_authenticated_one(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await exchange.drop_connections()
        await self.streaming(data_source, reconnects=1)
        assert len(exchange.connections) == 2
        logins = exchange.messages(ClientIntent.LOGIN)
        assert len(logins) in (0, 2), "the new connection must log in again"
        events = await self.push_user_events(harness, exchange)
        assert [await self.next_message(output) for _ in events] == events

    async def test_a_silent_connection_is_detected_and_replaced(
        self, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        start_listening(data_source)
        await self.streaming(data_source)
        exchange.go_silent()
        await self.streaming(data_source, reconnects=1)
        assert exchange.open_connections == 1

    async def test_malformed_frames_are_skipped(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await exchange.send_malformed()
        events = await self.push_user_events(harness, exchange)
        assert await self.next_message(output) == events[0]
        assert data_source.status.malformed_frames == 1
        assert data_source.status.streaming

    async def test_the_legacy_call_form_streams_and_warns(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            output, task = start_listening(data_source, asyncio.get_running_loop())
            await self.streaming(data_source)
        assert not task.done()
        assert any(issubclass(warning.category, DeprecationWarning) for warning in caught)
        events = await self.push_user_events(harness, exchange)
        assert await self.next_message(output) == events[0]


class PollingUserStreamContract(_Contract):
    """The contract of a user stream served by REST polling; see the module docstring."""

    @pytest.fixture
    def harness(self) -> PollingHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    async def test_an_account_change_reaches_the_queue(
        self, harness: PollingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await self.message_matching(output, harness.change_account(exchange))
        assert data_source.last_recv_time > 0

    async def test_a_failed_poll_is_retried_and_the_change_still_arrives(
        self, harness: PollingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        harness.fail_next_poll(exchange)
        is_the_change = harness.change_account(exchange)
        await eventually(lambda: data_source.status.reconnect_count >= 1, "a retry after the failed poll")
        await self.message_matching(output, is_the_change)

    async def test_the_polls_keep_the_account(
        self, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        if not getattr(data_source, "ORDER_STATUSES", None):
            pytest.skip("the connector sets no ORDER_STATUSES: it queues raw messages only")
        start_listening(data_source)
        await self.streaming(data_source)
        account = data_source.account
        await eventually(lambda: bool(account.balances or account.open_orders), "the first poll is in the account")
        assert data_source.status.unparsed_messages == 0

    async def message_matching(self, output: asyncio.Queue[Any], is_the_change: Callable[[Any], bool]) -> Any:
        """The first message that ``is_the_change``; the first poll reports the whole account, so skip that."""
        skipped = []
        try:
            async with asyncio.timeout(WAIT):
                while not is_the_change(message := await output.get()):
                    skipped.append(message)
        except TimeoutError:
            raise AssertionError(f"no message reported the change; got only {skipped!r}") from None
        return message


class ReconcilingHarness(WebSocketHarness):
    """A harness for a connector that reconciles (`fetch_account_snapshot`): it also drives the exchange's account."""

    ANNOUNCES_CLOSE: ClassVar[bool] = False
    """The exchange announces a connection's end before it closes it, and keeps delivering meanwhile (OKX 64008,
    Binance ``serverShutdown``): the connector must hand over make-before-break."""
    LARGEST_PAGE: ClassVar[int | None] = None
    """The most rows one page of the exchange's paginated account endpoints holds, as its documentation says;
    None when the snapshot's endpoints are not paginated."""
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTC-USDT", "ETH-USDT")
    """Two symbols in the exchange's spelling: the first is where `ExchangeAccount.place_order` trades by default."""
    GUARANTEE: ClassVar[str] = "exact: every fill and every order's final state once, balances as pushed"
    """What the account guarantees on this exchange, in one line (the fault soak prints it in the connector's row)."""

    @abc.abstractmethod
    def exchange_account(self) -> ExchangeAccount:
        """The account on the exchange that `install` set up: the truth the connector must end up with."""

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        """Make the exchange refuse the connector's next login (or signed subscribe, token, listen key).

        For the fault soak; False if this exchange's fake cannot (the fault is then not injected).
        """
        return False

    async def expire_credentials(self, exchange: FakeExchange) -> bool:
        """Expire the listen key or token the stream runs on, as the exchange would; False if there is none."""
        return False

    async def announce_close(self, exchange: FakeExchange, *, after: float) -> None:
        """End the open connections as the exchange ends one on purpose.

        With `ANNOUNCES_CLOSE`, push the exchange's notice and close them ``after`` seconds later; otherwise close
        them at once with code 1001 (going away), the WebSocket's own notice.
        """
        await exchange.close_connections(code=1001, reason="going away")


class ReconciliationContract:
    """The contract of a connector that reconciles after every gap; mix it into a `WebSocketUserStreamContract`.

    The account is compared with the exchange's truth (`account_differences`); a gap is made by dropping
    the connection while the account changes, and a failed snapshot by a REST 5xx.
    """

    @pytest.fixture
    def harness(self) -> ReconcilingHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    @staticmethod
    async def reconciled(data_source: UserStreamTrackerDataSource, times: int = 1) -> None:
        """Wait until ``times`` reconciliations have completed and no gap is open."""
        start = data_source.status.reconciled_at

        def done() -> bool:
            status = data_source.status
            return status.reconciled_at is not None and not status.reconciling and status.reconciled_at != start

        for _ in range(times):
            await eventually(done, f"a reconciliation (status: {data_source.status})")
            start = data_source.status.reconciled_at

    async def test_the_first_connection_reconciles_the_starting_state(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        truth.set_balance("USDT", "1000", "700")
        order = truth.place_order(client_order_id="bot-1")
        data_source = build()
        assert data_source.reconciles
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        received = drain(events)
        notices = [event for event in received if isinstance(event, Reconciled)]
        assert [notice.reason for notice in notices] == [ReconcileReason.CONNECTED]
        assert order_updates_of(received, order.order_id)[0].source is EventSource.RECONCILIATION
        marker = await gap_marker(output)
        assert (marker["reason"], marker["gap_started"], marker["events"]) == ("connected", None, notices[0].events)

    async def test_live_events_keep_the_account_current_and_each_fill_arrives_once(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        data_source = build()
        _, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        order = truth.place_order(amount="0.02")
        truth.fill(order.order_id, "0.01", fee="0.3")
        truth.set_balance("BTC", "0.01")
        await truth.publish()
        await agrees(data_source.account, truth)
        truth.fill(order.order_id, "0.01")
        await truth.publish()
        await agrees(data_source.account, truth)
        received = drain(events)
        assert len(fills_of(received)) == 2, "each fill once"
        assert all(event.source is EventSource.STREAM for event in fills_of(received))
        statuses = [update.status for update in order_updates_of(received, order.order_id)]
        assert statuses == [OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]

    async def test_what_a_gap_missed_is_reconciled_after_the_reconnect(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        order = truth.place_order(amount="0.02")
        data_source = build()
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await gap_marker(output)
        drain(events)
        await exchange.drop_connections()
        truth.fill(order.order_id, "0.01")  # while the stream is away: pushed to nobody
        truth.cancel(order.order_id)
        truth.set_balance("BTC", "0.01")
        await truth.publish()
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        received = drain(events)
        [missed_fill] = fills_of(received)
        assert missed_fill.source is EventSource.RECONCILIATION
        [final] = order_updates_of(received, order.order_id)
        assert (final.status, final.filled_quantity) == (OrderStatus.CANCELED, missed_fill.quantity)
        assert received.index(missed_fill) < received.index(final), "no order ends before its last fill"
        marker = await gap_marker(output)
        assert marker["reason"] == "reconnected"
        assert marker["gap_started"] is not None
        assert marker["gap_started"] <= marker["reconciled_at"]
        assert marker["events"] == 3, "the fill, the cancel and the balance"

    async def test_a_failed_snapshot_is_retried_reported_and_nothing_is_lost_meanwhile(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        truth.fail_next(3)
        data_source = build()
        _, events = listen_with_events(data_source)
        await eventually(lambda: data_source.status.reconcile_failures >= 1, "a failed snapshot reported")
        status = data_source.status
        assert status.reconciling
        assert status.last_reconcile_error
        assert status.reconciled_at is None
        order = truth.place_order()  # live while the snapshot keeps failing: buffered, not lost
        await truth.publish()
        await self.reconciled(data_source)
        assert data_source.status.reconcile_failures == 0
        await agrees(data_source.account, truth)
        assert order_updates_of(drain(events), order.order_id), "the order reached the consumer"

    async def test_periodic_reconciliation_catches_loss_without_a_reconnect(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        data_source = build(reconcile_interval=0.2)
        listen_with_events(data_source)
        await self.reconciled(data_source)
        truth.set_balance("USDT", "5")  # never published: only a snapshot can tell
        await agrees(data_source.account, truth)
        assert data_source.status.reconnect_count == 0

    async def test_a_deposit_is_counted_once_across_a_reconciliation(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """A deposit pushed while a snapshot that already shows it is pending, then one pushed live: each counted once.

        An exchange that pushes the amount moved (Binance's ``balanceUpdate``) beside the new total must not have
        the amount added to a total that already holds it.
        """
        truth = harness.exchange_account()
        truth.set_balance("USDT", "100")
        truth.fail_next(1)
        data_source = build()
        listen_with_events(data_source)
        await eventually(lambda: data_source.status.reconcile_failures >= 1, "the first snapshot failed")
        truth.deposit("USDT", "25")
        await truth.publish()  # buffered: the gap is still open
        await self.reconciled(data_source)  # the snapshot shows 125, then the buffered deposit is applied
        assert data_source.account.balances["USDT"].total == Decimal(125)
        truth.deposit("USDT", "5")
        await truth.publish()
        await agrees(data_source.account, truth)
        assert data_source.account.balances["USDT"].total == Decimal(130)

    async def test_an_order_born_and_finished_in_a_gap_is_reported_exactly_once(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        data_source = build()
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await gap_marker(output)
        drain(events)
        await exchange.drop_connections()
        filled = truth.place_order(amount="0.02", client_order_id="gap-1")
        truth.fill(filled.order_id, "0.01", fee="0.1")
        truth.fill(filled.order_id, "0.01", fee="0.1")
        cancelled = truth.place_order(amount="0.05", price="29000", client_order_id="gap-2")
        truth.fill(cancelled.order_id, "0.01")
        truth.cancel(cancelled.order_id)
        await truth.publish()  # to nobody
        await self.reconciled(data_source)
        await agrees(data_source.account, truth)
        data_source.request_reconciliation()  # a second snapshot reads the same history again
        await self.reconciled(data_source)
        received = drain(events)
        assert sorted(fill.trade_id for fill in fills_of(received)) == sorted(
            fill.trade_id
            for fill in truth.truth().fills
            if fill.exchange_order_id in (filled.order_id, cancelled.order_id)
        ), "each fill exactly once"
        for order, final in ((filled, OrderStatus.FILLED), (cancelled, OrderStatus.CANCELED)):
            updates = order_updates_of(received, order.order_id)
            assert [update.status for update in updates if update.status.is_final] == [final], "one final state"
            last_fill = max(
                received.index(fill) for fill in fills_of(received) if fill.exchange_order_id == order.order_id
            )
            assert last_fill < received.index(updates[-1]), "no order ends before its last fill"

    async def test_a_snapshot_follows_every_page(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        if harness.LARGEST_PAGE is None:
            pytest.skip("this exchange's snapshot endpoints return everything in one reply: there is nothing to page")
        truth = harness.exchange_account()
        data_source = build()
        listen_with_events(data_source)
        await self.reconciled(data_source)
        await exchange.drop_connections()
        rows = harness.LARGEST_PAGE + 1
        for _ in range(rows):  # more of each than one page holds: open orders, finished orders, fills
            truth.place_order(amount="0.01", price="20000")
            truth.fill(truth.place_order(amount="0.01").order_id, "0.01")
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        paged = {path: pages for path, pages in truth.pages_served.items() if pages > 1}
        assert paged, f"no endpoint was asked for a second page: {dict(truth.pages_served)}"

    async def test_an_announced_close_loses_nothing(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        order = truth.place_order(amount="0.03")
        data_source = build()
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await gap_marker(output)
        drain(events)
        drain(output)
        [first] = [connection for connection in exchange.connections if connection.open]
        await harness.announce_close(exchange, after=1.0)
        truth.fill(order.order_id, "0.01")  # while the announced connection still delivers
        pushed = await truth.publish()
        if harness.ANNOUNCES_CLOSE:
            await eventually(lambda: data_source.status.handovers == 1, "a handover to a new connection")
        truth.fill(order.order_id, "0.01")
        pushed += await truth.publish()
        await eventually(lambda: not first.open, "the announced connection closed")
        truth.cancel(order.order_id)
        pushed += await truth.publish()
        await agrees(data_source.account, truth)
        received = drain(events)
        assert len(fills_of(received)) == 2, "each fill once"
        [final] = [update for update in order_updates_of(received, order.order_id) if update.status.is_final]
        assert final.status is OrderStatus.CANCELED
        if harness.ANNOUNCES_CLOSE:
            status = data_source.status
            assert (status.handovers, status.reconnect_count) == (1, 0), "handed over, not reconnected"
            successor = exchange.connections[-1]
            assert successor.handshaken_at is not None
            assert first.closed_at is not None
            assert successor.handshaken_at < first.closed_at, "make-before-break: subscribed before the close"
            raw = [message for message in drain(output) if not is_gap_marker(message)]
            assert len(raw) == pushed, f"each pushed frame once on user_stream, got {len(raw)} of {pushed}"

    async def test_an_order_on_a_symbol_first_traded_in_a_gap_is_found(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """A symbol with no open order before the gap, given to the data source (``symbols=``), is read too.

        What an exchange whose history endpoints take one symbol at a time needs; any other finds it anyway.
        """
        first, second = harness.SYMBOLS
        truth = harness.exchange_account()
        truth.place_order(first)
        data_source = build(symbols=harness.SYMBOLS)
        _, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await exchange.drop_connections()
        order = truth.place_order(second, amount="0.02")
        truth.fill(order.order_id, "0.02")
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        finals = [update for update in order_updates_of(drain(events), order.order_id) if update.status.is_final]
        assert [update.status for update in finals] == [OrderStatus.FILLED]
