"""Hostile input on the stream and the account: each case an adversarial probe of the stream found.

A poison message must not end the connection or lock reconciliation; a deeply nested frame is skipped;
an order the exchange forgot cannot hold the gap open; memory stays bounded and visible; pings are
answered while the consumer is behind; no credential (secret, passphrase, signature) reaches a log,
`status` or an exception message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from reconciling import Build, HeldRoute, next_message, until_reconciled
from reference_connector import DataSourceFactory, ReconcilingReferenceAuth, ReconcilingReferenceDataSource

from userstream import (
    AccountSnapshot,
    BalanceUpdate,
    EventSource,
    OrderStatus,
    OrderUpdate,
    ReconcileReason,
    RestError,
    TradeFill,
    UserStreamTracker,
    is_gap_marker,
)
from userstream.testing import FakeExchange
from userstream.testing.accounts import account_differences, fills_of, order_updates_of
from userstream.testing.contract import agrees, eventually, gap_marker, listen_with_events, start_listening
from userstream.testing.dialect import Dialect
from userstream.testing.dialects import reference
from userstream.testing.fake_exchange import RestRequest, RestResponse


@pytest.fixture
def fake_exchange_dialect() -> Dialect:
    return reference.LoginMessageDialect()


def poisoned(event: tuple[str, dict[str, Any]], field: str, value: Any) -> dict[str, Any]:
    """A pending user event of the right shape with one field of the wrong type or value."""
    channel, data = event
    return {"channel": channel, "data": {**data, field: value}}


def pending(truth: reference.ReferenceAccount, channel: str) -> tuple[str, dict[str, Any]]:
    """A change of the kind ``channel`` pushes, made on the exchange but not pushed: the caller pushes it poisoned."""
    truth.pending_events.clear()
    if channel == reference.BALANCES_CHANNEL:
        truth.set_balance("USDT", "900")
    elif channel == reference.ORDERS_CHANNEL:
        truth.place_order()
    else:
        truth.fill(truth.place_order().order_id, "0.005")
    [event] = [event for event in truth.pending_events if event[0] == channel]
    truth.pending_events.clear()
    return event


POISONS = [
    pytest.param(reference.BALANCES_CHANNEL, "time", {}, id="a balance time that is an object"),
    pytest.param(reference.FILLS_CHANNEL, "trade_id", {}, id="a trade id that is an object"),
    pytest.param(reference.ORDERS_CHANNEL, "price", "sNaN", id="a signalling NaN price"),
    pytest.param(reference.ORDERS_CHANNEL, "filled_amount", "NaN", id="a NaN filled amount"),
    pytest.param(reference.BALANCES_CHANNEL, "total", "Infinity", id="an infinite balance"),
    pytest.param(reference.BALANCES_CHANNEL, "available", "-Infinity", id="a negative infinite balance"),
    pytest.param(reference.ORDERS_CHANNEL, "updated_at", "1796118573000", id="an update time written as text"),
    pytest.param(reference.ORDERS_CHANNEL, "order_id", None, id="an order without an id"),
    pytest.param(reference.FILLS_CHANNEL, "amount", "-0.5", id="a negative fill"),
]


# --- 1, 2: a poison message -----------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "field", "value"), POISONS)
async def test_a_poison_message_is_counted_and_reconciled_without_ending_the_connection(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build, channel: str, field: str, value: Any
) -> None:
    truth.set_balance("USDT", "1000")
    data_source = build()
    output, events = listen_with_events(data_source)
    await until_reconciled(events)
    await gap_marker(output)

    message = poisoned(pending(truth, channel), field, value)
    assert await fake_exchange.push(message) == 1
    assert await next_message(output) == message, "the raw message still reaches the bot, unchanged"
    received, notice = await until_reconciled(events)

    status = data_source.status
    assert notice.reason is ReconcileReason.UNREADABLE_MESSAGE
    assert (status.unparsed_messages, status.reconnect_count, status.reconciling) == (1, 0, False)
    assert status.last_error is None
    assert len(fake_exchange.connections) == 1
    assert all(event.source is EventSource.RECONCILIATION for event in received)
    assert account_differences(data_source.account, truth.truth()) == []
    assert all(balance.total.is_finite() for balance in data_source.account.balances.values())


@pytest.mark.parametrize(("channel", "field", "value"), POISONS)
async def test_a_poison_message_during_a_gap_is_not_buffered_and_the_gap_closes(
    fake_exchange: FakeExchange,
    truth: reference.ReferenceAccount,
    build: Build,
    held_balances: HeldRoute,
    channel: str,
    field: str,
    value: Any,
) -> None:
    truth.set_balance("USDT", "1000")
    data_source = build()
    output, events = listen_with_events(data_source)
    async with asyncio.timeout(5):
        await held_balances.arrived.wait()  # the gap is open: live events are buffered

    message = poisoned(pending(truth, channel), field, value)
    await fake_exchange.push(message)
    assert await next_message(output) == message
    assert data_source.status.buffered_events == 0, "a poison message never reaches the buffer"
    held_balances.release.set()
    await until_reconciled(events)
    await until_reconciled(events)  # the one the unreadable message asked for

    await fake_exchange.drop_connections()  # a reconnect replays nothing
    await fake_exchange.wait_for_subscribed(2)
    _, notice = await until_reconciled(events)
    assert notice.reason is ReconcileReason.RECONNECTED
    status = data_source.status
    assert (status.reconciling, status.reconnect_count, status.unparsed_messages) == (False, 1, 1)
    assert len(fake_exchange.connections) == 2
    assert account_differences(data_source.account, truth.truth()) == []


class NonEventParser(ReconcilingReferenceDataSource):
    """A parser with a bug: it returns the raw data instead of an event."""

    def parse_account_events(self, message: Any) -> list[Any]:
        return [message["data"]]


async def test_a_parser_that_returns_something_other_than_an_event_is_an_unparsed_message(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(NonEventParser)
    _, events = listen_with_events(data_source)
    await until_reconciled(events)
    truth.set_balance("BTC", "1")
    await truth.publish()
    await until_reconciled(events)
    assert (data_source.status.unparsed_messages, data_source.status.reconnect_count) == (1, 0)
    await agrees(data_source.account, truth)


@pytest.mark.parametrize(
    ("build_event", "message"),
    [
        (lambda: BalanceUpdate(asset="BTC", total=Decimal("NaN"), available=Decimal(0)), "finite amount"),
        (lambda: BalanceUpdate(asset="BTC", total=Decimal(1), available=Decimal("Infinity")), "finite amount"),
        (lambda: BalanceUpdate(asset="BTC", total=1.5, available=Decimal(0)), "must be a Decimal"),  # type: ignore[arg-type]
        (lambda: BalanceUpdate(asset="", total=Decimal(1), available=Decimal(0)), "must not be empty"),
        (lambda: BalanceUpdate(asset="BTC", total=Decimal(1), available=Decimal(1), updated_at=True), "an integer"),
        (lambda: TradeFill(**{**FILL, "trade_id": {}}), "TradeFill.trade_id must be text"),
        (lambda: TradeFill(**{**FILL, "fee": Decimal("sNaN")}), "finite amount"),
        (lambda: TradeFill(**{**FILL, "quantity": Decimal(-1)}), "must not be negative"),
        (lambda: OrderUpdate(**{**ORDER, "status": "filled"}), "must be a OrderStatus"),
        (lambda: OrderUpdate(**{**ORDER, "filled_quantity": Decimal("NaN")}), "finite amount"),
        (lambda: OrderUpdate(**{**ORDER, "updated_at": 1.5}), "an integer"),
        (lambda: OrderUpdate(**{**ORDER, "client_order_id": 7}), "client_order_id must be text"),
    ],
)
def test_an_event_refuses_a_field_of_the_wrong_type_or_a_non_finite_amount(build_event: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        build_event()


FILL: Mapping[str, Any] = {
    "trade_id": "1",
    "exchange_order_id": "2",
    "client_order_id": None,
    "symbol": "BTC-USDT",
    "price": Decimal(1),
    "quantity": Decimal(1),
    "fee": Decimal(0),
    "fee_asset": "USDT",
}
ORDER: Mapping[str, Any] = {
    "exchange_order_id": "2",
    "client_order_id": None,
    "symbol": "BTC-USDT",
    "status": OrderStatus.OPEN,
    "price": Decimal(1),
    "quantity": Decimal(1),
    "filled_quantity": Decimal(0),
}


def test_a_snapshot_of_the_wrong_shape_is_refused_whole() -> None:
    balance = BalanceUpdate(asset="BTC", total=Decimal(1), available=Decimal(1))
    with pytest.raises(TypeError, match=r"balances\['ETH'\] must be that asset's BalanceUpdate"):
        AccountSnapshot(balances={"ETH": balance})
    with pytest.raises(TypeError, match="fills must hold TradeFill values only"):
        AccountSnapshot(fills=[balance])  # type: ignore[list-item]


# --- 3: JSON nested deeper than the decoder goes ------------------------------------------------------


@pytest.mark.parametrize("frame", ["[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000])
async def test_a_deeply_nested_frame_is_skipped_and_the_connection_stays_up(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, frame: str, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = make_data_source()
    output, _ = start_listening(data_source)
    await fake_exchange.wait_for_subscribed()
    with caplog.at_level(logging.WARNING, logger="userstream"):
        await fake_exchange.push(frame)
        await fake_exchange.push_event("orders", {"order_id": "after"})
        assert (await next_message(output))["data"] == {"order_id": "after"}
    status = data_source.status
    assert (status.malformed_frames, status.reconnect_count, status.last_error) == (1, 0, None)
    assert not caplog.records, "a malformed frame is no failure: nothing above DEBUG"


# --- 4: an order the exchange no longer knows -----------------------------------------------------------


async def test_an_order_the_exchange_no_longer_knows_is_settled_as_unknown_and_the_gap_closes(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    fake_exchange.route("GET", reference.ORDER_HISTORY_PATH, truth.signed(lambda request: {"orders": []}))
    not_found = RestResponse(reference.error_body(reference.NOT_FOUND, "order not found"), reference.NOT_FOUND)
    lookups: list[RestRequest] = []

    def forgotten(request: RestRequest) -> RestResponse:
        lookups.append(request)
        return not_found

    fake_exchange.route("GET", reference.ORDER_PATH, truth.signed(forgotten))
    order = truth.place_order()
    data_source = build()
    _, events = listen_with_events(data_source)
    await until_reconciled(events)

    await fake_exchange.drop_connections()
    truth.cancel(order.order_id)  # while the stream is away; the exchange then forgets the order
    truth.set_balance("USDT", "7")
    await truth.publish()
    received, notice = await until_reconciled(events)

    assert notice.reason is ReconcileReason.RECONNECTED
    assert len(lookups) == data_source.ORDER_LOOKUP_ATTEMPTS == 3, "a bounded number of lookups"
    [settled] = order_updates_of(received, order.order_id)
    assert (settled.status, settled.source) == (OrderStatus.UNKNOWN, EventSource.RECONCILIATION)
    status = data_source.status
    assert (status.reconciling, status.reconcile_failures, status.last_reconcile_error) == (False, 0, None)
    assert status.orders_settled_unknown == 1
    assert order.order_id not in data_source.account.open_orders
    assert data_source.account.balances["USDT"].total == Decimal(7), "the rest of the snapshot was applied"

    truth.set_balance("USDT", "8")  # and live events flow again
    await truth.publish()
    [update] = [await next_message(events)]
    assert isinstance(update, BalanceUpdate)
    assert update.total == Decimal(8)


async def test_a_lookup_that_fails_once_does_not_settle_the_order(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    fake_exchange.route("GET", reference.ORDER_HISTORY_PATH, truth.signed(lambda request: {"orders": []}))
    failures = [RestResponse({"error": "busy"}, 503)]
    served = truth.signed(truth.order_reply)
    fake_exchange.route("GET", reference.ORDER_PATH, lambda request: failures.pop() if failures else served(request))
    order = truth.place_order()
    data_source = build()
    _, events = listen_with_events(data_source)
    await until_reconciled(events)
    await fake_exchange.drop_connections()
    truth.cancel(order.order_id)
    received, _ = await until_reconciled(events)
    [final] = order_updates_of(received, order.order_id)
    assert final.status is OrderStatus.CANCELED
    assert data_source.status.orders_settled_unknown == 0


# --- 5: bounded, visible memory -----------------------------------------------------------------------------


async def test_status_reports_the_queue_depth_and_the_buffered_events(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    truth.fail_next(count=1000)  # the snapshot keeps failing: the gap stays open
    data_source = build()
    output, _ = start_listening(data_source)
    await eventually(lambda: data_source.status.reconcile_failures >= 1, "a failed snapshot")
    for asset in ("BTC", "ETH", "SOL"):
        truth.set_balance(asset, "1")
    await truth.publish()
    await eventually(lambda: data_source.status.queue_depth == 3, "three messages waiting for the consumer")
    assert data_source.status.buffered_events == 3
    output.get_nowait()
    assert data_source.status.queue_depth == 2


class SmallBuffer(ReconcilingReferenceDataSource):
    MAX_BUFFERED_EVENTS: ClassVar[int] = 4


async def test_past_its_bound_the_buffer_is_dropped_and_the_next_snapshot_loses_nothing(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    truth.fail_next(count=3)
    data_source = build(SmallBuffer)
    _, events = listen_with_events(data_source)
    await fake_exchange.wait_for_subscribed()
    orders = [truth.place_order() for _ in range(3)]
    for order in orders:
        truth.fill(order.order_id, "0.01")
    with caplog.at_level(logging.WARNING, logger="userstream"):
        await truth.publish()  # nine events into a buffer of four
        received, _ = await until_reconciled(events)

    status = data_source.status
    assert status.buffer_overflows >= 1
    assert "live events arrived while the account snapshot was pending" in caplog.text
    assert status.buffered_events == 0
    assert account_differences(data_source.account, truth.truth()) == []
    assert sorted(fill.trade_id for fill in fills_of(received)) == sorted(f.trade_id for f in truth.fills)


async def test_a_snapshot_in_flight_when_the_buffer_overflows_is_discarded_and_taken_again(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    held_fills = HeldRoute(truth.signed(truth.fills_reply))  # fetched last: the open orders are read by then
    fake_exchange.route("GET", reference.FILLS_PATH, held_fills)
    try:
        data_source = build(SmallBuffer)
        _, events = listen_with_events(data_source)
        async with asyncio.timeout(5):
            await held_fills.arrived.wait()
        orders = [truth.place_order() for _ in range(6)]  # after the open orders were read
        await truth.publish()  # six events into a buffer of four: dropped while the snapshot is in flight
        await eventually(lambda: data_source.status.buffer_overflows == 1, "the buffer overflowed")
        held_fills.release.set()
        _, notice = await until_reconciled(events)
        assert notice.reason is ReconcileReason.CONNECTED
        assert held_fills.requests == 2, "the snapshot in flight was taken again"
        assert {order.order_id for order in orders} <= data_source.account.open_orders.keys()
        assert account_differences(data_source.account, truth.truth()) == []
    finally:
        held_fills.release.set()


async def test_a_queue_past_its_warning_depth_is_warned_about_once_until_it_drains(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = make_data_source(queue_warning_depth=5)
    output, _ = start_listening(data_source)
    await fake_exchange.wait_for_subscribed()

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if "consumer is falling behind" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="userstream"):
        for n in range(12):
            await fake_exchange.push_event("fills", {"trade_id": n})
        await eventually(lambda: data_source.status.queue_depth == 12, "twelve messages waiting")
        assert warnings() == [
            "user_stream holds 5 messages: the consumer is falling behind (warning again after it drains below 2)"
        ]
        for _ in range(12):
            output.get_nowait()
        for n in range(12):
            await fake_exchange.push_event("fills", {"trade_id": n})
        await eventually(lambda: data_source.status.queue_depth == 12, "twelve messages waiting again")
        assert len(warnings()) == 2


# --- 6: a full queue does not silence the connection ------------------------------------------------------


async def test_server_pings_are_answered_while_a_full_queue_waits_for_the_consumer(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    tracker = UserStreamTracker(make_data_source(), max_queue_size=2)
    await tracker.start()
    await fake_exchange.wait_for_subscribed()
    for n in range(10):
        await fake_exchange.push_event("fills", {"trade_id": n})
    await eventually(lambda: tracker.user_stream.full(), "the queue full")
    await asyncio.sleep(0.1)  # the rest arrive while nobody reads

    # An exchange that drops a client after a ping timeout of 0.5 s: ping every 0.05 s for 1 s, nobody reading.
    [connection] = fake_exchange.connections
    pings = 0
    for _ in range(20):
        pings += await fake_exchange.ping_connections()
        await asyncio.sleep(0.05)
    await fake_exchange.wait_until(lambda: connection.pongs == pings, what=f"{pings} pongs")
    assert tracker.status.reconnect_count == 0
    assert connection.open

    received = [(await next_message(tracker.user_stream))["data"]["trade_id"] for _ in range(10)]
    assert received == list(range(10))
    await tracker.stop()


async def test_typed_events_behind_a_full_account_events_queue_do_not_stop_the_reader(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    tracker = UserStreamTracker(build(), max_queue_size=2, typed_events=True)
    async with tracker:
        await until_reconciled(tracker.account_events)
        assert is_gap_marker(await next_message(tracker.user_stream))
        for n in range(6):
            truth.set_balance("USDT", str(n + 1))
        await truth.publish()
        [connection] = fake_exchange.connections
        await eventually(lambda: tracker.status.account_events_depth == 6, "typed events waiting")
        pings = await fake_exchange.ping_connections()
        await fake_exchange.wait_until(lambda: connection.pongs == pings, what="the pong")
        totals = [(await next_message(tracker.account_events)).total for _ in range(6)]  # type: ignore[union-attr]
        assert totals == [Decimal(n + 1) for n in range(6)]


# --- 7, 8: no credential in any text ------------------------------------------------------------------------


class PassphraseAuth(ReconcilingReferenceAuth):
    """Signed REST headers that carry the passphrase in the clear (KuCoin v1, OKX)."""

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        assert self.passphrase is not None
        return {**super().rest_auth_headers(method, path, body), "X-PASSPHRASE": self.passphrase}


def echo_headers(request: RestRequest) -> RestResponse:
    """A proxy's error page quoting the request it could not forward."""
    return RestResponse({"error": "bad gateway", "request": dict(request.headers)}, 502)


def signatures(exchange: FakeExchange) -> list[str]:
    return [request.headers["X-SIGNATURE"] for request in exchange.rest_requests if "X-SIGNATURE" in request.headers]


async def test_a_rest_error_echoing_the_signed_headers_reveals_no_passphrase_and_no_signature(
    fake_exchange: FakeExchange, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    passphrase = "P4SSPHR-kw92-VALUE"
    fake_exchange.route("GET", reference.BALANCES_PATH, echo_headers)
    data_source = build(auth=PassphraseAuth("test-api-key", "test-secret", passphrase))
    with caplog.at_level(logging.DEBUG, logger="userstream"):
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconcile_failures >= 2, "two failed snapshots")
        with pytest.raises(RestError) as raised:
            await data_source.rest_request("GET", reference.BALANCES_PATH, signed=True)

    secrets = [passphrase, "test-secret", *signatures(fake_exchange)]
    assert len(secrets) >= 4
    error = data_source.status.last_reconcile_error
    assert error is not None
    assert "HTTP 502" in error
    assert "X-PASSPHRASE" in caplog.text, "the echo is logged, with its values blanked"
    for secret in secrets:
        assert secret not in error
        assert secret not in caplog.text
        assert secret not in str(raised.value)
    assert "'X-PASSPHRASE': '***'" in str(raised.value)


class EchoingLoginDialect(reference.LoginMessageDialect):
    """An exchange whose login refusal quotes the login it refused."""

    def login_rejection(self, message: Any, reason: str) -> Any:
        return {"event": "error", "code": 401, "msg": f"{reason}: {message}"}


async def test_a_login_refusal_quoting_the_signature_reveals_it_nowhere(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake_exchange.dialect = EchoingLoginDialect()
    fake_exchange.reject_next_login()
    data_source = make_data_source()
    with caplog.at_level(logging.DEBUG, logger="userstream"):
        start_listening(data_source)
        await fake_exchange.wait_for_subscribed()
    [refused, *_] = [message for _, message in fake_exchange.received if message.get("op") == "login"]
    signature = refused["args"]["signature"]
    assert data_source.status.last_error is not None
    assert "invalid signature" in data_source.status.last_error
    assert signature not in data_source.status.last_error
    assert signature not in caplog.text
    assert "'signature': '***'" in caplog.text


def test_redact_blanks_every_signature_the_auth_made_and_every_value_it_was_given() -> None:
    auth = ReconcilingReferenceAuth("test-api-key", "test-secret", "passphrase")
    signature = auth.hmac_sha256_hex("payload")
    token = auth.conceal("a-token/with+reserved=characters")
    text = f"sig={signature} token={token} query=token%3D{'a-token%2Fwith%2Breserved%3Dcharacters'} key=test-api-key"
    assert auth.redact(text) == "sig=*** token=*** query=token%3D*** key=test-api-key"
    assert auth.conceal("short") == "short"
    assert auth.redact("a short word") == "a short word", "values under 8 characters are not credentials"


def test_a_url_with_user_info_is_cut_to_its_host(make_data_source: DataSourceFactory) -> None:
    data_source = make_data_source()
    text = data_source.redact("could not reach wss://user:pw@ws.example.com:8443/private?listenKey=abc")
    assert text == "could not reach wss://ws.example.com:8443"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_held_messages": -1}, "max_held_messages must be 0 or more, got -1"),
        ({"queue_warning_depth": 0}, "queue_warning_depth must be at least 1 or None, got 0"),
    ],
)
def test_queue_limits_out_of_range_are_refused_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReconcilingReferenceDataSource(
            ReconcilingReferenceAuth("key", "secret"), ws_url="ws://127.0.0.1:9/ws", **options
        )
