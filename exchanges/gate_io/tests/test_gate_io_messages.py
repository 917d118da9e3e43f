"""Gate's message shapes, checked as pure functions: no socket, no event loop."""

import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest
from userstream import BalanceUpdate, FrameKind, OrderStatus, OrderUpdate, SnapshotScope, StreamState, TradeFill
from userstream.testing.dialects.gate_io import DocumentedFrames as messages

from gate_io import gate_io_constants as CONSTANTS
from gate_io.gate_io_account import parse_order, parse_push, parse_snapshot
from gate_io.gate_io_api_user_stream_data_source import (
    GateIoAPIUserStreamDataSource,
    history_range,
    next_trades_query,
)
from gate_io.gate_io_auth import GateIoAuth

NOW = 1_700_000_000.0


@pytest.fixture
def data_source() -> GateIoAPIUserStreamDataSource:
    return GateIoAPIUserStreamDataSource(GateIoAuth("api-key", "secret", clock=lambda: NOW))


def signed(channel: str) -> dict[str, str]:
    payload = f"channel={channel}&event=subscribe&time=1700000000".encode()
    return {"method": "api_key", "KEY": "api-key", "SIGN": hmac.new(b"secret", payload, hashlib.sha512).hexdigest()}


def test_each_private_channel_gets_its_own_signed_subscribe(data_source: GateIoAPIUserStreamDataSource) -> None:
    connection = data_source.open_conversation()
    assert not connection.login_messages(), "Gate has no login"
    assert connection.subscribe_messages() == [
        {
            "time": 1700000000,
            "id": 1,
            "channel": "spot.orders",
            "event": "subscribe",
            "payload": ["!all"],
            "auth": signed("spot.orders"),
        },
        {
            "time": 1700000000,
            "id": 2,
            "channel": "spot.usertrades",
            "event": "subscribe",
            "payload": ["!all"],
            "auth": signed("spot.usertrades"),
        },
        {
            "time": 1700000000,
            "id": 3,
            "channel": "spot.balances",
            "event": "subscribe",
            "auth": signed("spot.balances"),
        },
    ]


def test_the_client_pings_with_spot_ping(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() == {"time": 1700000000, "channel": "spot.ping"}
    assert data_source.classify(messages.PONG) is FrameKind.CONTROL


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.BALANCE_UPDATE, FrameKind.USER_MESSAGE),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.AUTHENTICATION_FAIL, FrameKind.AUTH_REJECTED),
        (messages.INVALID_ARGUMENT, FrameKind.SUBSCRIBE_REJECTED),
        (messages.PONG, FrameKind.CONTROL),
        (messages.SERVICE_UPGRADE, FrameKind.CLOSING_SOON),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: GateIoAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    connection = data_source.open_conversation()
    connection.subscribe_messages()  # requests 1 to 3 are now awaiting their replies
    assert connection.frame_kind(frame, StreamState.SUBSCRIBING) is kind


def test_a_reply_to_a_request_of_another_connection_is_ignored(
    data_source: GateIoAPIUserStreamDataSource,
) -> None:
    earlier, connection = data_source.open_conversation(), data_source.open_conversation()
    earlier.subscribe_messages()
    assert connection.frame_kind({**messages.SUBSCRIBED, "id": 1}, StreamState.SUBSCRIBING) is FrameKind.CONTROL
    connection.subscribe_messages()
    assert connection.frame_kind({**messages.SUBSCRIBED, "id": 7}, StreamState.SUBSCRIBING) is FrameKind.CONTROL
    assert connection.frame_kind({**messages.SUBSCRIBED, "id": 1}, StreamState.SUBSCRIBING) is FrameKind.SUBSCRIBED


def test_a_refusal_is_described_in_gates_words(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.AUTHENTICATION_FAIL) == "spot.orders: Authentication fail (code 4)"
    assert data_source.describe_rejection(messages.SERVICE_UPGRADE) == (
        "spot.system: The connection will soon be closed for a service upgrade. Please reconnect."
    )


def test_the_server_time_reply_is_read_in_seconds(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == 1795568753.027


def test_rest_requests_are_signed_as_gate_documents() -> None:
    auth = GateIoAuth("api-key", "secret", clock=lambda: NOW)
    headers = auth.rest_auth_headers("GET", "/api/v4/spot/my_trades?from=1699000000&to=1700000060&page=1")
    empty_body = hashlib.sha512(b"").hexdigest()
    assert empty_body.startswith("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"), "as documented"
    prehash = f"GET\n/api/v4/spot/my_trades\nfrom=1699000000&to=1700000060&page=1\n{empty_body}\n1700000000"
    expected = hmac.new(b"secret", prehash.encode(), hashlib.sha512).hexdigest()
    assert headers == {"KEY": "api-key", "Timestamp": "1700000000", "SIGN": expected}


def test_the_signed_query_is_the_one_before_url_encoding() -> None:
    auth = GateIoAuth("api-key", "secret", clock=lambda: NOW)
    headers = auth.rest_auth_headers("get", "/api/v4/spot/orders?text=t-a%2Bb+c", '{"a": 1}')
    body_hash = hashlib.sha512(b'{"a": 1}').hexdigest()
    prehash = f"GET\n/api/v4/spot/orders\ntext=t-a+b c\n{body_hash}\n1700000000"
    assert headers["SIGN"] == hmac.new(b"secret", prehash.encode(), hashlib.sha512).hexdigest()


def test_a_rest_refusal_of_the_request_time_is_clock_skew(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert data_source.is_clock_skew({"label": "REQUEST_EXPIRED", "message": "gap exceeds 60"})
    assert not data_source.is_clock_skew(messages.INVALID_SIGNATURE)
    assert not data_source.is_clock_skew(messages.AUTHENTICATION_FAIL), "code 4 may be a wrong key as well"


ORDER = OrderUpdate(
    exchange_order_id="399123456",
    client_order_id="t-my-order",
    symbol="BTC_USDT",
    status=OrderStatus.OPEN,
    price=Decimal("26253.3"),
    quantity=Decimal("0.0001"),
    filled_quantity=Decimal(0),
    updated_at=1795568753027,
)
FILL = TradeFill(
    trade_id="BTC_USDT:5736713",
    exchange_order_id="399123456",
    client_order_id="t-my-order",
    symbol="BTC_USDT",
    price=Decimal("26253.3"),
    quantity=Decimal("0.0001"),
    fee=Decimal("0.0000002"),
    fee_asset="BTC",
    timestamp=1795568753127,
)


def test_an_order_push_is_the_order_as_it_now_stands() -> None:
    assert parse_push(messages.ORDER_UPDATE) == [ORDER]


def test_a_finish_push_is_the_order_s_final_state() -> None:
    [order] = parse_push(messages.ORDER_FILLED)
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity, order.updated_at) == (
        OrderStatus.FILLED,
        Decimal("0.0001"),
        1795568753127,
    )


@pytest.mark.parametrize(
    ("left", "finish_as", "status"),
    [
        ("0.00004", "open", OrderStatus.PARTIALLY_FILLED),
        ("0.00004", "cancelled", OrderStatus.CANCELED),
        ("0.0001", "ioc", OrderStatus.CANCELED),
        ("0.0001", "stp", OrderStatus.CANCELED),
        ("0.0001", "poc", OrderStatus.CANCELED),
        ("0.0001", "unknown", OrderStatus.UNKNOWN),
    ],
)
def test_every_way_an_order_ends_is_read(left: str, finish_as: str, status: OrderStatus) -> None:
    row = {**messages.ORDER_UPDATE["result"][0], "left": left, "finish_as": finish_as}
    order = parse_order(row)
    assert (order.status, order.filled_quantity) == (status, Decimal("0.0001") - Decimal(left))


def test_an_order_without_a_client_id_has_none() -> None:
    assert parse_order({**messages.ORDER_UPDATE["result"][0], "text": "apiv4"}).client_order_id is None


def test_a_fill_push_is_the_fill_its_id_qualified_by_its_pair_and_its_fee_what_was_paid() -> None:
    assert parse_push(messages.FILL) == [FILL]


def test_a_fee_paid_in_gt_is_reported_in_gt() -> None:
    row = {**messages.FILL["result"][0], "fee": "0", "gt_fee": "0.0012"}
    [fill] = parse_push({**messages.FILL, "result": [row]})
    assert isinstance(fill, TradeFill)
    assert (fill.fee, fill.fee_asset) == (Decimal("0.0012"), "GT")


def test_a_balance_push_is_the_absolute_balance_and_its_change_is_never_added() -> None:
    assert parse_push(messages.BALANCE_UPDATE) == [
        BalanceUpdate(asset="USDT", total=Decimal("997.3747"), available=Decimal("997.3747"), updated_at=1795568753128)
    ]


def test_a_system_notice_carries_no_account_event() -> None:
    assert parse_push(messages.SERVICE_UPGRADE) == []


def test_the_snapshot_reads_every_reply_as_the_stream_reads_its_pushes() -> None:
    snapshot = parse_snapshot(
        messages.ACCOUNTS_REPLY,
        messages.OPEN_ORDERS_REPLY,
        messages.FINISHED_ORDERS_REPLY,
        messages.MY_TRADES_REPLY + messages.MY_TRADES_REPLY,  # read on two pages: counted once
    )
    assert snapshot.balances["USDT"] == BalanceUpdate(asset="USDT", total=Decimal(1000), available=Decimal("997.3747"))
    [open_order] = snapshot.open_orders.values()
    assert (open_order.exchange_order_id, open_order.client_order_id, open_order.status) == (
        "399123457",
        None,
        OrderStatus.OPEN,
    )
    [finished] = snapshot.closed_orders
    assert (finished.exchange_order_id, finished.status, finished.filled_quantity) == (
        "399123456",
        OrderStatus.FILLED,
        Decimal("0.0001"),
    )
    assert list(snapshot.fills) == [FILL]


def test_the_order_detail_reply_is_the_order() -> None:
    assert parse_order(messages.ORDER_REPLY).updated_at == 1795568754027


def test_the_first_snapshot_reads_the_last_7_days_and_a_gap_at_most_30() -> None:
    end = int(NOW) + 60
    assert history_range(SnapshotScope(taken_at=NOW, since=None)) == (int(NOW) - 7 * 86400, end)
    assert history_range(SnapshotScope(taken_at=NOW, since=NOW - 3600)) == (int(NOW) - 3600, end)
    assert history_range(SnapshotScope(taken_at=NOW, since=NOW - 90 * 86400)) == (end - 30 * 86400, end)


def test_the_trades_are_paged_then_the_range_cut_where_gate_pages_no_deeper() -> None:
    full = [{"create_time": str(1_700_000_000 - index // 10)} for index in range(CONSTANTS.TRADES_LIMIT)]
    first: dict[str, Any] = {"from": 1_690_000_000, "to": 1_700_000_060, "page": 1}
    assert next_trades_query(first, full[:10]) is None, "a short page is the last"
    second = next_trades_query(first, full)
    assert second == {**first, "page": 2}
    assert next_trades_query(second, full) == {**first, "to": 1_700_000_000 - 99, "page": 1}
    with pytest.raises(RuntimeError, match="more fills within the second"):
        next_trades_query({**first, "to": 1_700_000_000 - 99, "page": 2}, full[-10:] * 100)
