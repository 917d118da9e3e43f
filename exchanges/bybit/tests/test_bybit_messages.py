"""Bybit's message shapes, checked as pure functions: no socket, no event loop."""

import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest
from userstream import BalanceUpdate, FrameKind, OrderStatus, OrderUpdate, TradeFill
from userstream.testing.dialects.bybit import DocumentedFrames as messages

from bybit.bybit_account import BybitError, parse_order, parse_push, parse_snapshot, result_of
from bybit.bybit_api_user_stream_data_source import BybitAPIUserStreamDataSource, history_spans
from bybit.bybit_auth import BybitAuth

NOW = 1_700_000_000.25


@pytest.fixture
def data_source() -> BybitAPIUserStreamDataSource:
    return BybitAPIUserStreamDataSource(BybitAuth("api-key", "secret", clock=lambda: NOW))


def test_the_auth_signs_an_expiry_5_s_ahead_as_bybit_verifies_it(data_source: BybitAPIUserStreamDataSource) -> None:
    [auth] = data_source.login_messages()
    expires = 1_700_000_005_250
    expected = hmac.new(b"secret", f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    assert auth == {"op": "auth", "args": ["api-key", expires, expected]}


def test_the_expiry_follows_the_exchanges_clock() -> None:
    auth = BybitAuth("api-key", "secret", clock=lambda: NOW)
    auth.set_time_offset(2.0)  # measured after a "Params Error": Bybit's clock runs 2 s ahead of ours
    [message] = BybitAPIUserStreamDataSource(auth).login_messages()
    assert isinstance(message, dict)
    assert message["args"][1] == 1_700_000_007_250


def test_one_subscribe_carries_every_topic_and_is_acknowledged_once(
    data_source: BybitAPIUserStreamDataSource,
) -> None:
    subscribes = data_source.subscribe_messages()
    assert subscribes == [{"op": "subscribe", "args": ["order", "execution", "wallet"]}]
    assert data_source.expected_subscribe_acks(subscribes) == 1


def test_the_client_pings_with_json(data_source: BybitAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() == {"op": "ping"}
    assert data_source.classify(messages.PONG) is FrameKind.CONTROL


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.EXECUTION, FrameKind.USER_MESSAGE),
        (messages.WALLET_UPDATE, FrameKind.USER_MESSAGE),
        (messages.ORDER_CANCELLED, FrameKind.USER_MESSAGE),
        (messages.LINEAR_EXECUTION, FrameKind.USER_MESSAGE),
        (messages.AUTH_OK, FrameKind.AUTH_OK),
        (messages.AUTH_REFUSED, FrameKind.AUTH_REJECTED),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.SUBSCRIBE_REFUSED, FrameKind.SUBSCRIBE_REJECTED),
        (messages.PONG, FrameKind.CONTROL),
        (messages.PUBLIC_PONG, FrameKind.CONTROL),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: BybitAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    assert data_source.classify(frame) is kind


def test_a_refusal_is_described_in_bybit_words(data_source: BybitAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.AUTH_REFUSED) == "Invalid sign"
    assert not data_source.is_clock_skew(messages.AUTH_REFUSED)


def test_an_expired_auth_blames_our_clock(data_source: BybitAPIUserStreamDataSource) -> None:
    assert data_source.is_clock_skew(messages.AUTH_EXPIRED)


def test_the_server_time_reply_is_read_in_seconds(data_source: BybitAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == pytest.approx(1688639403.423214)


def test_a_rest_get_signs_its_query_string() -> None:
    auth = BybitAuth("api-key", "secret", clock=lambda: NOW)
    headers = auth.rest_auth_headers("GET", "/v5/account/wallet-balance?accountType=UNIFIED")
    prehash = "1700000000250api-key5000accountType=UNIFIED"
    assert headers == {
        "X-BAPI-API-KEY": "api-key",
        "X-BAPI-SIGN": hmac.new(b"secret", prehash.encode(), hashlib.sha256).hexdigest(),
        "X-BAPI-TIMESTAMP": "1700000000250",
        "X-BAPI-RECV-WINDOW": "5000",
    }


def test_a_rest_post_signs_its_body() -> None:
    auth = BybitAuth("api-key", "secret", clock=lambda: NOW)
    body = '{"category":"spot","symbol":"BTCUSDT"}'
    headers = auth.rest_auth_headers("POST", "/v5/order/cancel-all", body)
    prehash = "1700000000250api-key5000" + body
    assert headers["X-BAPI-SIGN"] == hmac.new(b"secret", prehash.encode(), hashlib.sha256).hexdigest()


def test_the_signed_text_is_the_one_bybit_documents() -> None:
    """Integration Guidance's GET example: timestamp + API key + recv window + query string."""
    auth = BybitAuth("XXXXXXXXXX", "secret", clock=lambda: 1658384314.791)
    headers = auth.rest_auth_headers("GET", "/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C")
    prehash = "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
    assert headers["X-BAPI-TIMESTAMP"] == "1658384314791"
    assert headers["X-BAPI-SIGN"] == hmac.new(b"secret", prehash.encode(), hashlib.sha256).hexdigest()


def test_a_rest_refusal_for_our_clock_is_clock_skew(data_source: BybitAPIUserStreamDataSource) -> None:
    assert data_source.is_clock_skew(messages.TIMESTAMP_REFUSED_REPLY)
    assert not data_source.is_clock_skew(messages.SIGN_REFUSED_REPLY)


ORDER = OrderUpdate(
    exchange_order_id="1811634547419049216",
    client_order_id="bot-1",
    symbol="BTCUSDT",
    status=OrderStatus.OPEN,
    price=Decimal(30000),
    quantity=Decimal("0.01"),
    filled_quantity=Decimal(0),
    updated_at=1795568753027,
)
FILL = TradeFill(
    trade_id="2100000000062580127",
    exchange_order_id="1811634547419049216",
    client_order_id="bot-1",
    symbol="BTCUSDT",
    price=Decimal(30000),
    quantity=Decimal("0.004"),
    fee=Decimal("0.000004"),
    fee_asset="BTC",
    timestamp=1795568753127,
)


def test_an_order_push_is_the_order_as_it_now_stands() -> None:
    assert parse_push(messages.ORDER_UPDATE) == [ORDER]


def test_an_execution_push_is_the_fill_and_its_fee_is_what_was_paid() -> None:
    assert parse_push(messages.EXECUTION) == [FILL]


@pytest.mark.parametrize(
    ("frame", "status", "filled"),
    [
        (messages.ORDER_PARTIALLY_FILLED, OrderStatus.PARTIALLY_FILLED, Decimal("0.004")),
        (messages.ORDER_CANCELLED, OrderStatus.CANCELED, Decimal("0.004")),
    ],
)
def test_an_order_s_fills_and_final_state_are_pushed_as_it_stands(
    frame: dict[str, Any], status: OrderStatus, filled: Decimal
) -> None:
    [order] = parse_push(frame)
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity, order.quantity) == (status, filled, Decimal("0.01"))


@pytest.mark.parametrize(
    ("bybit_status", "status"),
    [
        ("New", OrderStatus.OPEN),
        ("PartiallyFilled", OrderStatus.PARTIALLY_FILLED),
        ("Untriggered", OrderStatus.OPEN),
        ("Filled", OrderStatus.FILLED),
        ("Cancelled", OrderStatus.CANCELED),
        ("PartiallyFilledCanceled", OrderStatus.CANCELED),
        ("Deactivated", OrderStatus.CANCELED),
        ("Rejected", OrderStatus.REJECTED),
    ],
)
def test_every_documented_order_status_is_understood(bybit_status: str, status: OrderStatus) -> None:
    row = {**messages.ORDER_UPDATE["data"][0], "orderStatus": bybit_status}
    assert parse_order(row).status is status


def test_other_categories_stay_out_of_the_spot_account() -> None:
    assert parse_push(messages.OPTION_ORDER) == []
    assert parse_push(messages.LINEAR_EXECUTION) == []


def test_a_wallet_push_is_each_coin_s_wallet_balance_and_what_is_not_locked() -> None:
    assert parse_push(messages.WALLET_UPDATE) == [
        BalanceUpdate(asset="USDT", total=Decimal("879.998"), available=Decimal("759.998"), updated_at=1795568753127)
    ]


def test_other_topics_carry_no_account_events() -> None:
    assert parse_push({"topic": "position", "creationTime": 1795568753127, "data": [{"category": "linear"}]}) == []


def test_the_snapshot_reads_every_reply_as_the_stream_reads_its_pushes() -> None:
    snapshot = parse_snapshot(
        messages.BALANCE_REPLY,
        result_of(messages.OPEN_ORDERS_REPLY)["list"],
        result_of(messages.ORDER_HISTORY_REPLY)["list"],
        result_of(messages.EXECUTIONS_REPLY)["list"],
    )
    assert snapshot.balances["USDT"] == BalanceUpdate(
        asset="USDT", total=Decimal("879.998"), available=Decimal("759.998"), updated_at=1795568754127
    )
    assert snapshot.balances["BTC"].available == Decimal("0.01")
    assert snapshot.open_orders == {ORDER.exchange_order_id: ORDER}
    assert [(order.status, order.filled_quantity) for order in snapshot.closed_orders] == [
        (OrderStatus.CANCELED, Decimal("0.004"))
    ]
    assert list(snapshot.fills) == [FILL]


def test_a_refusal_in_an_ok_reply_is_an_error() -> None:
    with pytest.raises(BybitError, match=r"error sign! .*\(retCode 10004\)"):
        result_of(messages.SIGN_REFUSED_REPLY)
    assert result_of(messages.NO_ORDERS_REPLY)["list"] == []


DAY_MS = 24 * 3600 * 1000


def test_history_is_read_in_spans_of_at_most_seven_days_the_last_open_ended() -> None:
    week = 7 * DAY_MS
    assert history_spans(0, DAY_MS, week) == [(0, None)]
    assert history_spans(0, 15 * DAY_MS, week) == [(0, week - 1), (week, 2 * week - 1), (2 * week, None)]
