"""Binance USDⓈ-M futures' message shapes, checked as pure functions: no socket, no event loop."""

import hashlib
import hmac
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from userstream import BalanceUpdate, FrameKind, OrderStatus, OrderUpdate, TradeFill
from userstream.testing.dialects.binance_futures import DocumentedFrames as messages

from binance_futures.binance_futures_account import parse_event, parse_order, parse_snapshot
from binance_futures.binance_futures_api_user_stream_data_source import BinanceFuturesAPIUserStreamDataSource
from binance_futures.binance_futures_auth import BinanceFuturesAuth

NOW = 1_700_000_000.0


@pytest.fixture
def data_source() -> BinanceFuturesAPIUserStreamDataSource:
    return BinanceFuturesAPIUserStreamDataSource(
        BinanceFuturesAuth("api-key", "secret", clock=lambda: NOW),
        ws_url="wss://fstream.binance.com/private/ws",
        rest_url="https://fapi.binance.com",
    )


def test_the_listen_key_is_read_from_binances_reply_and_carried_in_the_url(
    data_source: BinanceFuturesAPIUserStreamDataSource,
) -> None:
    key = data_source.parse_listen_key(messages.LISTEN_KEY)
    assert key == messages.LISTEN_KEY["listenKey"]
    assert data_source.stream_url(key) == f"wss://fstream.binance.com/private/ws/{key}"


def test_the_key_is_extended_well_inside_its_sixty_minutes(data_source: BinanceFuturesAPIUserStreamDataSource) -> None:
    assert data_source.LISTEN_KEY_PATH == "/fapi/v1/listenKey"
    assert data_source.API_KEY_HEADER == "X-MBX-APIKEY"
    assert data_source.keepalive_interval <= 30 * 60


def test_the_client_pings_at_the_protocol_level(data_source: BinanceFuturesAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() is None


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.PARTIAL_FILL, FrameKind.USER_MESSAGE),
        (messages.CANCELED, FrameKind.USER_MESSAGE),
        (messages.ACCOUNT_UPDATE, FrameKind.USER_MESSAGE),
        (messages.DEPOSIT, FrameKind.USER_MESSAGE),
        (messages.TRADE_LITE, FrameKind.USER_MESSAGE),
        (messages.LISTEN_KEY_EXPIRED, FrameKind.RECONNECT),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: BinanceFuturesAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    assert data_source.classify(frame) is kind


def test_an_expired_key_and_a_refused_one_are_described_in_binances_words(
    data_source: BinanceFuturesAPIUserStreamDataSource,
) -> None:
    assert data_source.describe_rejection(messages.LISTEN_KEY_EXPIRED) == "the listen key expired (listenKeyExpired)"
    assert data_source.describe_rest_error(messages.INVALID_API_KEY) == (
        "Invalid API-key, IP, or permissions for action. (code -2015)"
    )


def test_the_server_time_reply_is_read_in_seconds(data_source: BinanceFuturesAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == 1795568753.027


def test_rest_signatures_reproduce_binances_worked_example() -> None:
    # "SIGNED Endpoint Examples for POST /fapi/v1/order - HMAC Keys" in Binance's USDⓈ-M futures docs.
    auth = BinanceFuturesAuth(
        "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83",
        "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
        clock=lambda: 1591702613.943,
    )
    params = auth.signed_params(
        symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=1, price=9000, timeInForce="GTC", recvWindow=5000
    )
    assert params["timestamp"] == 1591702613943
    assert params["signature"] == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


def test_signed_rest_queries_carry_the_receive_window_the_timestamp_and_their_signature() -> None:
    # The same worked example, as the data source's signed requests build it: recvWindow is added after the
    # parameters, the timestamp after it, and the signature over the query string exactly as it is sent.
    auth = BinanceFuturesAuth(
        "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83",
        "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
        clock=lambda: 1591702613.943,
    )
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "9000"}
    query = auth.rest_auth_params("POST", "/fapi/v1/order", {**params, "timeInForce": "GTC"})
    assert query["signature"] == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    assert list(query)[-3:] == ["recvWindow", "timestamp", "signature"]
    unsigned = urlencode({name: value for name, value in query.items() if name != "signature"})
    assert unsigned.endswith("&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943")
    assert auth.rest_auth_headers("GET", "/fapi/v3/balance") == {"X-MBX-APIKEY": auth.api_key}


def test_a_signed_query_is_signed_as_sent() -> None:
    auth = BinanceFuturesAuth("api-key", "secret", clock=lambda: NOW)
    query = auth.rest_auth_params("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT", "startTime": "1699990000000"})
    sent = urlencode(query)
    payload, signature = sent.rsplit("&signature=", 1)
    assert signature == hmac.new(b"secret", payload.encode(), hashlib.sha256).hexdigest()
    assert payload == "symbol=BTCUSDT&startTime=1699990000000&recvWindow=5000&timestamp=1700000000000"


def test_only_a_timestamp_outside_the_receive_window_blames_the_clock(
    data_source: BinanceFuturesAPIUserStreamDataSource,
) -> None:
    assert data_source.is_clock_skew(messages.TIMESTAMP_OUTSIDE_RECV_WINDOW)
    assert not data_source.is_clock_skew(messages.INVALID_SIGNATURE)
    assert not data_source.is_clock_skew(messages.ORDER_NOT_FOUND)


def test_a_connection_is_replaced_before_binances_24_hours_are_up(
    data_source: BinanceFuturesAPIUserStreamDataSource,
) -> None:
    age = data_source.MAX_CONNECTION_AGE
    assert age is not None
    assert 23 * 3600 <= age < 24 * 3600


ORDER = OrderUpdate(
    exchange_order_id="8886774",
    client_order_id="userstream-1",
    symbol="BTCUSDT",
    status=OrderStatus.OPEN,
    price=Decimal(60000),
    quantity=Decimal("0.001"),
    filled_quantity=Decimal(0),
    updated_at=1795568753027,
)
FILL = TradeFill(
    trade_id="1001",
    exchange_order_id="8886774",
    client_order_id="userstream-1",
    symbol="BTCUSDT",
    price=Decimal(60000),
    quantity=Decimal("0.001"),
    fee=Decimal("0.024"),
    fee_asset="USDT",
    timestamp=1795568753127,
)


def test_an_order_push_is_the_order_as_it_now_stands() -> None:
    assert parse_event(messages.ORDER_UPDATE) == [ORDER]


def test_a_trade_push_is_the_fill_then_the_order_and_the_commission_is_what_was_paid() -> None:
    fill, order = parse_event(messages.FILL)
    assert fill == FILL
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity, order.updated_at) == (
        OrderStatus.FILLED,
        Decimal("0.001"),
        1795568753127,
    )


def test_a_partial_fill_then_a_cancel_leave_the_order_canceled_with_what_it_filled() -> None:
    fill, partial = parse_event(messages.PARTIAL_FILL)
    [canceled] = parse_event(messages.CANCELED)
    assert isinstance(fill, TradeFill)
    assert (fill.trade_id, fill.quantity, fill.fee) == ("1002", Decimal("0.001"), Decimal("0.012"))
    assert isinstance(partial, OrderUpdate)
    assert isinstance(canceled, OrderUpdate)
    assert (partial.status, partial.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.001"))
    assert (canceled.status, canceled.filled_quantity, canceled.quantity) == (
        OrderStatus.CANCELED,
        Decimal("0.001"),
        Decimal("0.002"),
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [("EXPIRED", OrderStatus.EXPIRED), ("EXPIRED_IN_MATCH", OrderStatus.EXPIRED), ("FILLED", OrderStatus.FILLED)],
)
def test_every_final_state_is_read(status: str, expected: OrderStatus) -> None:
    order_state = {**messages.CANCELED["o"], "x": "EXPIRED", "X": status}
    ended = {**messages.CANCELED, "o": order_state}
    [order] = parse_event(ended)
    assert isinstance(order, OrderUpdate)
    assert order.status is expected
    assert order.status.is_final


def test_a_trade_without_commission_costs_nothing() -> None:
    without_commission = {key: value for key, value in messages.FILL["o"].items() if key not in ("n", "N")}
    free = {**messages.FILL, "o": without_commission}
    fill, _ = parse_event(free)
    assert isinstance(fill, TradeFill)
    assert (fill.fee, fill.fee_asset) == (Decimal(0), None)


def test_an_account_update_is_each_changed_assets_wallet_and_cross_wallet_balance() -> None:
    assert parse_event(messages.ACCOUNT_UPDATE) == [
        BalanceUpdate(asset="USDT", total=Decimal("999.976"), available=Decimal("999.976"), updated_at=1795568753127)
    ]


def test_a_deposit_is_the_new_balance_and_the_amount_moved_is_never_added() -> None:
    # bc (50.12345678) is the amount moved; the wallet balance already holds it.
    assert parse_event(messages.DEPOSIT) == [
        BalanceUpdate(
            asset="USDT",
            total=Decimal("122624.12345678"),
            available=Decimal("100.12345678"),
            updated_at=1564745798938,
        )
    ]


@pytest.mark.parametrize("frame", [messages.TRADE_LITE, messages.LISTEN_KEY_EXPIRED])
def test_other_events_carry_no_account_events(frame: dict[str, Any]) -> None:
    assert parse_event(frame) == []


def test_the_snapshot_reads_every_reply_as_the_stream_reads_its_pushes() -> None:
    snapshot = parse_snapshot(
        messages.BALANCE_REPLY, messages.OPEN_ORDERS_REPLY, messages.ALL_ORDERS_REPLY, messages.USER_TRADES_REPLY
    )
    # The wallet balance and the cross wallet balance: what ACCOUNT_UPDATE pushes as wb and cw.
    assert snapshot.balances == {
        "USDT": BalanceUpdate(
            asset="USDT",
            total=Decimal("122607.35137903"),
            available=Decimal("23.72469206"),
            updated_at=1617939110373,
        )
    }
    assert snapshot.open_orders == {ORDER.exchange_order_id: ORDER}
    assert [(order.status, order.updated_at) for order in snapshot.closed_orders] == [
        (OrderStatus.FILLED, 1795568753127)
    ]
    # userTrades names no client order id: the orders read give it.
    assert list(snapshot.fills) == [FILL]


def test_the_order_history_s_open_orders_are_not_taken_for_closed_ones() -> None:
    snapshot = parse_snapshot([], [], messages.OPEN_ORDERS_REPLY, [])
    assert snapshot.closed_orders == []


def test_the_order_detail_is_the_order_as_it_now_stands() -> None:
    order = parse_order(messages.ORDER_REPLY)
    assert (order.exchange_order_id, order.status, order.filled_quantity, order.client_order_id) == (
        "8886774",
        OrderStatus.FILLED,
        Decimal("0.001"),
        "userstream-1",
    )
