"""Typed events and reconciliation end to end: the reconciling reference connector against the fake exchange.

The `ReconciliationContract` (tests/archetypes/test_contract.py) covers the starting state, live events,
a gap, a failing snapshot and the periodic reconciliation; these cover the rest: an unreadable message,
a live event racing the snapshot, a failing order lookup, stopping mid-reconciliation, a connector that
does not reconcile, the tracker's typed events and the constructor's checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from reconciling import Build, FailingLookups, HeldRoute, next_message, requests_to, unreadable, until_reconciled
from reference_connector import (
    EVENT_PARSERS,
    ReconcilingReferenceAuth,
    ReconcilingReferenceDataSource,
    ReferenceDataSource,
)

from userstream import (
    AccountEvent,
    AccountSnapshot,
    BalanceUpdate,
    EventSource,
    OrderStatus,
    OrderUpdate,
    ReconcileReason,
    SnapshotScope,
    TradeFill,
    UserStreamTracker,
    is_gap_marker,
)
from userstream.testing import FakeExchange, RestResponse
from userstream.testing.accounts import account_differences, fills_of, order_updates_of
from userstream.testing.contract import (
    WAIT,
    agrees,
    client_tasks,
    drain,
    eventually,
    gap_marker,
    listen_with_events,
    start_listening,
)
from userstream.testing.dialect import Dialect
from userstream.testing.dialects import reference


class TypedReferenceDataSource(ReferenceDataSource):
    """The reference connector with typed events but no snapshot: live events only, no reconciliation."""

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        parse = EVENT_PARSERS.get(message["channel"])
        return () if parse is None else [parse(message["data"])]


class HookedReferenceDataSource(ReconcilingReferenceDataSource):
    """Runs ``after_snapshot`` (once) when a snapshot has been fetched, before it is returned to be applied."""

    after_snapshot: Callable[[], Awaitable[None]] | None = None

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        snapshot = await super().fetch_account_snapshot(scope)
        hook, self.after_snapshot = self.after_snapshot, None
        if hook is not None:
            await hook()
        return snapshot


@pytest.fixture
def fake_exchange_dialect() -> Dialect:
    return reference.LoginMessageDialect()


def applying() -> list[asyncio.Task[Any]]:
    """The tasks applying a fetched snapshot (`Reconciler._apply`)."""
    return [task for task in client_tasks() if getattr(task.get_coro(), "__qualname__", "") == "Reconciler._apply"]


# --- an unreadable message ------------------------------------------------------------------------------


async def test_an_unreadable_user_message_is_queued_counted_and_read_from_a_reconciliation(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build()
    output, events = listen_with_events(data_source)
    _, first = await until_reconciled(events)
    await gap_marker(output)
    order = truth.place_order(client_order_id="bot-1")
    [placed] = truth.pending_events
    truth.pending_events.clear()
    message = unreadable(placed)
    assert await fake_exchange.push(message) == 1

    assert await next_message(output) == message, "the raw message still reaches the queue, unchanged"
    received, notice = await until_reconciled(events)
    status = data_source.status
    assert status.unparsed_messages == 1
    assert status.messages_queued == 1
    assert status.reconnect_count == 0, "an unreadable message needs a snapshot, not a reconnect"
    assert notice.reason is ReconcileReason.UNREADABLE_MESSAGE
    assert notice.gap_started == first.reconciled_at
    assert account_differences(data_source.account, truth.truth()) == []
    [update] = order_updates_of(received, order.order_id)
    assert update.source is EventSource.RECONCILIATION
    assert (update.status, update.price) == (OrderStatus.OPEN, Decimal(30000))
    marker = await gap_marker(output)
    assert (marker["reason"], marker["events"]) == ("unreadable_message", 1)


async def test_an_unreadable_message_while_a_snapshot_is_in_flight_is_read_by_one_more(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    held_fills = HeldRoute(truth.signed(truth.fills_reply))  # fetched last: the open orders are read by then
    fake_exchange.route("GET", reference.FILLS_PATH, held_fills)
    try:
        data_source = build()
        _, events = listen_with_events(data_source)
        async with asyncio.timeout(WAIT):
            await held_fills.arrived.wait()
        order = truth.place_order()  # after the snapshot read the open orders: only a later one can show it
        [placed] = truth.pending_events
        truth.pending_events.clear()
        await fake_exchange.push(unreadable(placed))
        await eventually(lambda: data_source.status.unparsed_messages == 1, "the unreadable message counted")
        held_fills.release.set()

        received, connected = await until_reconciled(events)
        assert connected.reason is ReconcileReason.CONNECTED
        assert not order_updates_of(received, order.order_id), "the snapshot in flight predates the order"
        received, again = await until_reconciled(events)
        assert again.reason is ReconcileReason.UNREADABLE_MESSAGE
        assert order_updates_of(received, order.order_id)
        assert account_differences(data_source.account, truth.truth()) == []
    finally:
        held_fills.release.set()


async def test_a_reconciliation_requested_while_a_snapshot_is_in_flight_takes_one_more_for_that_reason(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    held_fills = HeldRoute(truth.signed(truth.fills_reply))
    fake_exchange.route("GET", reference.FILLS_PATH, held_fills)
    try:
        data_source = build()
        _, events = listen_with_events(data_source)
        async with asyncio.timeout(WAIT):
            await held_fills.arrived.wait()
        truth.set_balance("USDT", "5")  # never published: after the snapshot in flight read the balances
        data_source.request_reconciliation()  # say, after an order call whose outcome is unknown
        held_fills.release.set()
        _, connected = await until_reconciled(events)
        assert connected.reason is ReconcileReason.CONNECTED
        received, requested = await until_reconciled(events)
        assert requested.reason is ReconcileReason.REQUESTED
        assert [(e.asset, e.total) for e in received if isinstance(e, BalanceUpdate)] == [("USDT", Decimal(5))]
    finally:
        held_fills.release.set()


async def test_an_unreadable_message_after_the_snapshot_is_fetched_but_before_it_is_applied_is_read_by_one_more(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    # In memory, a pushed frame wakes the reader at once: it runs before the fetched snapshot is applied.
    data_source = build(HookedReferenceDataSource, websocket_factory=fake_exchange.connect_in_memory)
    assert isinstance(data_source, HookedReferenceDataSource)
    placed: list[str] = []

    async def place_an_order_the_stream_garbles() -> None:
        placed.append(truth.place_order().order_id)
        [event] = truth.pending_events
        truth.pending_events.clear()
        assert await fake_exchange.push(unreadable(event)) == 1

    data_source.after_snapshot = place_an_order_the_stream_garbles
    _, events = listen_with_events(data_source)
    await until_reconciled(events)
    assert placed, "the hook ran"
    await eventually(lambda: data_source.status.unparsed_messages == 1, "the unreadable message counted")
    await agrees(data_source.account, truth)


# --- a live event racing the snapshot -------------------------------------------------------------------


async def test_a_live_event_during_the_snapshot_request_is_buffered_and_applied_after_the_snapshot(
    fake_exchange: FakeExchange,
    truth: reference.ReferenceAccount,
    build: Build,
    held_balances: HeldRoute,
) -> None:
    truth.set_balance("USDT", "1000")
    await truth.publish()  # before any connection: pushed to nobody
    data_source = build()
    output, events = listen_with_events(data_source)
    async with asyncio.timeout(WAIT):
        await held_balances.arrived.wait()  # the balances snapshot is read: USDT 1000, no BTC

    truth.set_balance("USDT", "400")
    truth.set_balance("BTC", "0.02")  # missing from the snapshot, which would report it as zero
    assert await truth.publish() == 2
    raw = [await next_message(output), await next_message(output)]
    assert [message["data"]["asset"] for message in raw] == ["USDT", "BTC"]
    status = data_source.status
    assert status.reconciling
    assert status.reconciled_at is None
    assert dict(data_source.account.balances) == {}, "buffered while the gap is open, not applied"
    assert events.empty()

    held_balances.release.set()
    corrections, notice = await until_reconciled(events)
    assert [(event.asset, event.total, event.source) for event in corrections if isinstance(event, BalanceUpdate)] == [
        ("USDT", Decimal(1000), EventSource.RECONCILIATION)
    ]
    assert notice.events == len(corrections)
    live = [await next_message(events), await next_message(events)]
    assert [(event.asset, event.total, event.source) for event in live if isinstance(event, BalanceUpdate)] == [
        ("USDT", Decimal(400), EventSource.STREAM),
        ("BTC", Decimal("0.02"), EventSource.STREAM),
    ]
    assert not data_source.status.reconciling
    assert account_differences(data_source.account, truth.truth()) == []
    assert is_gap_marker(await next_message(output)), "the gap marker follows the messages that overtook the snapshot"


# --- a failing order lookup -----------------------------------------------------------------------------


async def test_a_failing_order_lookup_keeps_the_gap_open_and_is_retried(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    # The order history no longer lists the order: only a lookup of the order itself tells how it ended.
    fake_exchange.route("GET", reference.ORDER_HISTORY_PATH, truth.signed(lambda request: {"orders": []}))
    lookups = FailingLookups(truth, failures=2)
    fake_exchange.route("GET", reference.ORDER_PATH, lookups)
    order = truth.place_order(amount="0.02")
    data_source = build()
    _, events = listen_with_events(data_source)
    await until_reconciled(events)
    assert lookups.requests == 0

    await fake_exchange.drop_connections()
    truth.fill(order.order_id, "0.01")  # while the stream is away
    truth.cancel(order.order_id)
    await truth.publish()
    await eventually(lambda: data_source.status.reconcile_failures >= 1, "a failed order lookup reported")
    status = data_source.status
    assert status.reconciling
    assert status.last_reconcile_error is not None
    assert "HTTP 503" in status.last_reconcile_error
    assert order.order_id in data_source.account.open_orders, "nothing applied while the gap is open"

    received, notice = await until_reconciled(events)
    assert notice.reason is ReconcileReason.RECONNECTED
    assert lookups.requests == 3, "two failures, then the lookup that succeeded"
    status = data_source.status
    assert (status.reconciling, status.reconcile_failures, status.last_reconcile_error) == (False, 0, None)
    assert account_differences(data_source.account, truth.truth()) == []
    [missed_fill] = fills_of(received)
    [final] = order_updates_of(received, order.order_id)
    assert (final.status, final.source) == (OrderStatus.CANCELED, EventSource.RECONCILIATION)
    assert received.index(missed_fill) < received.index(final)


async def test_a_rate_limited_snapshot_waits_out_the_retry_after_the_exchange_gave(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    asked_at: list[float] = []
    serve_balances = truth.signed(truth.balances_reply)

    def balances(request: Any) -> Any:
        asked_at.append(time.monotonic())
        if len(asked_at) == 1:
            return RestResponse({"code": 429, "msg": "too many requests"}, 429, {"Retry-After": "0.5"})
        return serve_balances(request)

    fake_exchange.route("GET", reference.BALANCES_PATH, balances)
    data_source = build()  # its backoff waits a few tens of ms: only the Retry-After explains a longer wait
    _, events = listen_with_events(data_source)
    await until_reconciled(events)
    assert len(asked_at) == 2
    assert asked_at[1] - asked_at[0] >= 0.5, "the second snapshot came before the Retry-After had passed"


# --- stop -----------------------------------------------------------------------------------------------


async def test_stop_while_the_snapshot_is_in_flight_leaves_no_task_and_no_open_connection(
    fake_exchange: FakeExchange, build: Build, held_balances: HeldRoute
) -> None:
    baseline = client_tasks()
    data_source = build()
    _, task = start_listening(data_source)
    async with asyncio.timeout(WAIT):
        await held_balances.arrived.wait()
    assert data_source.status.reconciling

    await data_source.stop()
    await eventually(lambda: task.done(), "the listener ended")
    await eventually(lambda: fake_exchange.open_connections == 0, "the exchange sees no open connection")
    assert client_tasks() - baseline == set()
    assert not data_source.status.connected


async def test_stop_while_a_reconciliation_waits_for_a_slow_consumer_leaves_no_task(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    for asset in ("BTC", "ETH", "USDT"):
        truth.set_balance(asset, "1")
    baseline = client_tasks()
    tracker = UserStreamTracker(build(), max_queue_size=1, typed_events=True)
    await tracker.start()
    # Three corrections for a queue of one: the reconciliation waits for a consumer that never reads.
    await eventually(
        lambda: tracker.account_events.full() and tracker.status.reconciled_at is not None,
        "the reconciliation waiting on a full account_events queue",
    )
    await tracker.stop()
    await eventually(lambda: fake_exchange.open_connections == 0, "the exchange sees no open connection")
    assert client_tasks() - baseline == set()


async def test_stop_leaves_no_task_when_a_slow_consumer_held_a_reconciliation_across_a_reconnect(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    for asset in ("BTC", "ETH", "USDT"):
        truth.set_balance(asset, "1")
    baseline = client_tasks()
    data_source = build(max_held_messages=0)  # nothing held beyond the full queue: emitting waits for the consumer
    data_source.account_events = asyncio.Queue(maxsize=1)
    start_listening(data_source)
    await eventually(
        lambda: (
            data_source.account_events is not None
            and data_source.account_events.full()
            and data_source.status.reconciled_at is not None
        ),
        "the first reconciliation waiting on a full account_events queue",
    )
    await fake_exchange.drop_connections()
    # The reconnect's snapshot is fetched; applying it waits for the first reconciliation to finish emitting.
    await eventually(lambda: len(applying()) == 2, "two reconciliations applying")
    try:
        await data_source.stop()
        await eventually(lambda: fake_exchange.open_connections == 0, "the exchange sees no open connection")
        assert client_tasks() - baseline == set()
    finally:
        for task in client_tasks() - baseline:  # what the bug leaves behind must not outlive the test
            task.cancel()


# --- a connector that does not reconcile ----------------------------------------------------------------


async def test_a_connector_without_snapshots_applies_live_events_directly_and_never_reconciles(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(TypedReferenceDataSource)
    assert not data_source.reconciles
    output, events = listen_with_events(data_source)
    assert not data_source.status.reconciling
    await fake_exchange.wait_for_subscribed()
    await eventually(lambda: data_source.status.streaming, "streaming")
    assert not data_source.status.reconciling

    order = truth.place_order()
    truth.fill(order.order_id, "0.01")
    truth.set_balance("USDT", "5")
    assert await truth.publish() == 4
    raw = [await next_message(output) for _ in range(4)]
    assert not any(is_gap_marker(message) for message in raw)
    await agrees(data_source.account, truth)
    received = drain(events)
    assert [type(event) for event in received] == [OrderUpdate, TradeFill, OrderUpdate, BalanceUpdate]
    assert all(event.source is EventSource.STREAM for event in received)

    status = data_source.status
    assert (status.reconciling, status.reconciled_at, status.reconcile_failures) == (False, None, 0)
    assert output.empty(), "no gap marker"
    assert requests_to(fake_exchange, reference.BALANCES_PATH) == 0


async def test_a_connector_without_snapshots_reconnects_without_a_gap(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(TypedReferenceDataSource)
    output, events = listen_with_events(data_source)
    await fake_exchange.wait_for_subscribed()
    await fake_exchange.drop_connections()
    await fake_exchange.wait_for_subscribed(2)
    assert not data_source.status.reconciling
    truth.set_balance("USDT", "5")
    await truth.publish()
    assert (await next_message(output))["channel"] == "balances"
    [update] = [await next_message(events)]
    assert isinstance(update, BalanceUpdate)
    assert update.total == Decimal(5)
    assert output.empty()
    assert events.empty(), "no Reconciled notice"


async def test_an_unreadable_message_without_snapshots_is_counted_and_requests_nothing(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(TypedReferenceDataSource)
    output, events = listen_with_events(data_source)
    await fake_exchange.wait_for_subscribed()
    truth.place_order()
    [placed] = truth.pending_events
    message = unreadable(placed)
    await fake_exchange.push(message)
    assert await next_message(output) == message
    status = data_source.status
    assert (status.unparsed_messages, status.reconciling) == (1, False)
    assert events.empty()
    assert dict(data_source.account.open_orders) == {}


# --- the tracker ----------------------------------------------------------------------------------------


async def test_a_tracker_with_typed_events_exposes_the_account_and_its_events(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    truth.set_balance("USDT", "1000", "700")
    data_source = build()
    tracker = UserStreamTracker(data_source, typed_events=True)
    assert tracker.account is data_source.account
    assert data_source.account_events is tracker.account_events
    async with tracker:
        received, notice = await until_reconciled(tracker.account_events)
        assert notice.reason is ReconcileReason.CONNECTED
        assert received == [
            BalanceUpdate(
                asset="USDT",
                total=Decimal(1000),
                available=Decimal(700),
                updated_at=truth.balances["USDT"][2],
                source=EventSource.RECONCILIATION,
            )
        ]
        assert tracker.account.balances["USDT"].available == Decimal(700)
        marker = await next_message(tracker.user_stream)
        assert is_gap_marker(marker)
        assert marker["reconciled_at"] == notice.reconciled_at == tracker.status.reconciled_at


def test_a_tracker_without_typed_events_has_an_account_but_refuses_account_events() -> None:
    data_source = ReconcilingReferenceDataSource(
        ReconcilingReferenceAuth("key", "secret"), ws_url="ws://127.0.0.1:9/ws", rest_url="http://127.0.0.1:9"
    )
    tracker = UserStreamTracker(data_source)
    assert tracker.account is data_source.account
    assert data_source.account_events is None
    with pytest.raises(RuntimeError, match=r"created without typed_events=True: no account_events"):
        _ = tracker.account_events


# --- construction ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", [0, 0.0, -1, -0.5])
def test_a_reconcile_interval_that_is_not_positive_is_refused_at_construction(interval: float) -> None:
    with pytest.raises(ValueError, match="reconcile_interval must be a positive number of seconds or None"):
        ReconcilingReferenceDataSource(
            ReconcilingReferenceAuth("key", "secret"), ws_url="ws://127.0.0.1:9/ws", reconcile_interval=interval
        )


def test_a_class_reconcile_interval_that_is_not_positive_is_refused_at_construction() -> None:
    class Misconfigured(ReconcilingReferenceDataSource):
        RECONCILE_INTERVAL = 0

    with pytest.raises(ValueError, match="reconcile_interval must be a positive number of seconds or None, got 0"):
        Misconfigured(ReconcilingReferenceAuth("key", "secret"), ws_url="ws://127.0.0.1:9/ws")


def test_a_positive_or_absent_reconcile_interval_is_accepted() -> None:
    auth = ReconcilingReferenceAuth("key", "secret")
    ReconcilingReferenceDataSource(auth, ws_url="ws://127.0.0.1:9/ws", reconcile_interval=0.5)
    ReconcilingReferenceDataSource(auth, ws_url="ws://127.0.0.1:9/ws", reconcile_interval=None)
