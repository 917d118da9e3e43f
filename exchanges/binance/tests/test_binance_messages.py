"""Binance's message shapes, checked as pure functions: no socket, no event loop."""

import hashlib
import hmac
import itertools
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from userstream import BalanceUpdate, FrameKind, OrderStatus, OrderUpdate, StreamState, TradeFill
from userstream.testing.dialects.binance import DocumentedFrames as messages

from binance import binance_constants as CONSTANTS
from binance.binance_account import parse_order, parse_push, parse_snapshot
from binance.binance_api_user_stream_data_source import BinanceAPIUserStreamDataSource
from binance.binance_auth import BinanceAuth

NOW = 1_700_000_000.0
AUTHENTICATING = StreamState.AUTHENTICATING
"""The phase in which Binance's one signed request is answered."""


@pytest.fixture
def data_source() -> BinanceAPIUserStreamDataSource:
    return BinanceAPIUserStreamDataSource(BinanceAuth("api-key", "secret", clock=lambda: NOW))


def test_the_subscribe_is_signed_as_binance_verifies_it(data_source: BinanceAPIUserStreamDataSource) -> None:
    connection = data_source.open_conversation()
    [subscribe] = connection.login_messages()
    expected = hmac.new(b"secret", b"apiKey=api-key&timestamp=1700000000000", hashlib.sha256).hexdigest()
    assert subscribe == {
        "id": 1,
        "method": "userDataStream.subscribe.signature",
        "params": {"apiKey": "api-key", "timestamp": 1700000000000, "signature": expected},
    }
    assert not connection.subscribe_messages(), "the signed subscribe is the whole handshake"


def test_the_signature_reproduces_binances_worked_example() -> None:
    # "SIGNED request example (HMAC)" in Binance's WebSocket API docs, "Request security".
    auth = BinanceAuth(
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        clock=lambda: 1645423376.532,
    )
    params = auth.signed_params(
        symbol="BTCUSDT",
        side="SELL",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01000000",
        price="52000.00",
        newOrderRespType="ACK",
        recvWindow=100,
    )
    assert params["timestamp"] == 1645423376532
    assert params["signature"] == "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"


def test_every_connection_signs_a_new_request() -> None:
    clock = itertools.count(NOW)  # a second later at every reading
    data_source = BinanceAPIUserStreamDataSource(BinanceAuth("api-key", "secret", clock=lambda: next(clock)))
    first_connection, second_connection = data_source.open_conversation(), data_source.open_conversation()
    [first] = first_connection.login_messages()
    reply = {**messages.SUBSCRIBED, "id": 1}
    assert second_connection.frame_kind(reply, AUTHENTICATING) is FrameKind.CONTROL, "it answers the other connection"
    [second] = second_connection.login_messages()
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["params"]["timestamp"] < second["params"]["timestamp"]
    assert first["params"]["signature"] != second["params"]["signature"]
    assert second_connection.frame_kind(reply, AUTHENTICATING) is FrameKind.AUTH_OK
    assert second_connection.frame_kind(reply, AUTHENTICATING) is FrameKind.CONTROL, "answered already"


def test_the_client_pings_at_the_protocol_level(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() is None


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.ACCOUNT_POSITION, FrameKind.USER_MESSAGE),
        (messages.BALANCE_UPDATE, FrameKind.USER_MESSAGE),
        (messages.PARTIAL_FILL, FrameKind.USER_MESSAGE),
        (messages.CANCELED, FrameKind.USER_MESSAGE),
        (messages.SUBSCRIBED, FrameKind.AUTH_OK),
        (messages.INVALID_SIGNATURE, FrameKind.AUTH_REJECTED),
        (messages.TIMESTAMP_OUTSIDE_RECV_WINDOW, FrameKind.AUTH_REJECTED),
        (messages.STREAM_TERMINATED, FrameKind.RECONNECT),
        (messages.SERVER_SHUTDOWN, FrameKind.CLOSING_SOON),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: BinanceAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    connection = data_source.open_conversation()
    connection.login_messages()  # request 1 is now awaiting its reply
    assert connection.frame_kind(frame, AUTHENTICATING) is kind


def test_a_refusal_is_described_in_binances_words(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.INVALID_SIGNATURE) == (
        "Signature for this request is not valid. (code -1022)"
    )
    assert data_source.describe_rejection(messages.STREAM_TERMINATED) == "event stream terminated at 1795568753327"
    assert data_source.describe_rejection(messages.SERVER_SHUTDOWN) == "server shutdown announced at 1770123456789"


def test_a_connection_is_replaced_before_binance_s_24_hour_limit() -> None:
    assert BinanceAPIUserStreamDataSource.MAX_CONNECTION_AGE is not None
    assert 23 * 3600 <= BinanceAPIUserStreamDataSource.MAX_CONNECTION_AGE < 24 * 3600


def test_only_minus_1021_blames_our_clock(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.is_clock_skew(messages.TIMESTAMP_OUTSIDE_RECV_WINDOW)
    assert data_source.is_clock_skew(messages.REST_TIMESTAMP_OUTSIDE_RECV_WINDOW), "a REST refusal too"
    assert not data_source.is_clock_skew(messages.INVALID_SIGNATURE)
    assert not data_source.is_clock_skew(messages.ORDER_NOT_FOUND)


def test_the_server_time_reply_is_read_in_seconds(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == 1795568753.027


# "SIGNED Endpoint Examples for POST /api/v3/order" in Binance's REST API docs ("HMAC Keys").
EXAMPLE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
EXAMPLE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
EXAMPLE_ORDER = {
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "0.1",
    "recvWindow": "5000",
}


@pytest.mark.parametrize(
    ("symbol", "signature"),
    [
        ("LTCBTC", "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"),
        # The non-ASCII example: a symbol of the full-width digits one to six, signed percent-encoded.
        (
            "".join(chr(0xFF11 + digit) for digit in range(6)),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3",
        ),
    ],
)
def test_rest_requests_reproduce_binances_worked_examples(symbol: str, signature: str) -> None:
    auth = BinanceAuth(EXAMPLE_KEY, EXAMPLE_SECRET, clock=lambda: 1499827319.559)
    params = auth.rest_auth_params("POST", "/api/v3/order", {"symbol": symbol, **EXAMPLE_ORDER})
    assert params == {"symbol": symbol, **EXAMPLE_ORDER, "timestamp": "1499827319559", "signature": signature}
    assert list(params)[-2:] == ["timestamp", "signature"], "signed as sent: the signature comes last"
    assert auth.rest_auth_headers("POST", "/api/v3/order") == {"X-MBX-APIKEY": EXAMPLE_KEY}


ORDER = OrderUpdate(
    exchange_order_id="4293153",
    client_order_id="mUvoqJxFIILMdfAW5iGSOW",
    symbol="BTCUSDT",
    status=OrderStatus.OPEN,
    price=Decimal("0.10264410"),
    quantity=Decimal(1),
    filled_quantity=Decimal(0),
    updated_at=1795568753027,
)
FILL = TradeFill(
    trade_id="1234",
    exchange_order_id="4293153",
    client_order_id="mUvoqJxFIILMdfAW5iGSOW",
    symbol="BTCUSDT",
    price=Decimal("0.10264410"),
    quantity=Decimal(1),
    fee=Decimal("0.0001"),
    fee_asset="BNB",
    timestamp=1795568753127,
)
PARTIAL_FILL = TradeFill(
    trade_id="1240",
    exchange_order_id="4293160",
    client_order_id="bot-7",
    symbol="BTCUSDT",
    price=Decimal("0.10264410"),
    quantity=Decimal("0.4"),
    fee=Decimal("0.00004106"),
    fee_asset="USDT",
    timestamp=1795568754027,
)


def test_a_new_order_is_the_order_as_it_now_stands() -> None:
    assert parse_push(messages.ORDER_UPDATE) == [ORDER]


def test_an_execution_is_the_fill_then_the_order_and_the_fee_is_what_was_paid() -> None:
    fill, order = parse_push(messages.FILL)
    assert fill == FILL
    assert order == msgspec.structs.replace(
        ORDER, status=OrderStatus.FILLED, filled_quantity=Decimal(1), updated_at=1795568753127
    )


def test_a_partial_fill_leaves_the_order_partially_filled() -> None:
    fill, order = parse_push(messages.PARTIAL_FILL)
    assert fill == PARTIAL_FILL
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity, order.quantity) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.4"),
        Decimal(1),
    )


def test_a_cancel_keeps_the_order_s_own_client_id_and_its_filled_quantity() -> None:
    [order] = parse_push(messages.CANCELED)
    assert isinstance(order, OrderUpdate)
    assert (order.exchange_order_id, order.client_order_id, order.status, order.filled_quantity) == (
        "4293160",
        "bot-7",
        OrderStatus.CANCELED,
        Decimal("0.4"),
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [("EXPIRED", OrderStatus.EXPIRED), ("EXPIRED_IN_MATCH", OrderStatus.EXPIRED), ("REJECTED", OrderStatus.REJECTED)],
)
def test_every_final_state_is_final(status: str, expected: OrderStatus) -> None:
    event = {**messages.ORDER_UPDATE["event"], "x": status, "X": status}
    ended = {**messages.ORDER_UPDATE, "event": event}
    [order] = parse_push(ended)
    assert isinstance(order, OrderUpdate)
    assert order.status is expected
    assert order.status.is_final


def test_an_account_position_is_each_asset_s_total_and_free_balance() -> None:
    assert parse_push(messages.ACCOUNT_POSITION) == [
        BalanceUpdate(asset="BTC", total=Decimal(1), available=Decimal(1), updated_at=1795568753127),
        BalanceUpdate(
            asset="USDT", total=Decimal("999.8973559"), available=Decimal("999.8973559"), updated_at=1795568753127
        ),
    ]


def test_a_balance_update_is_an_amount_moved_and_never_added_to_a_balance() -> None:
    # Binance follows it with an outboundAccountPosition holding the new balance: adding the delta would count it twice.
    assert parse_push(messages.BALANCE_UPDATE) == []


def test_the_snapshot_reads_every_reply_as_the_stream_reads_its_pushes() -> None:
    snapshot = parse_snapshot(
        messages.ACCOUNT_REPLY, messages.OPEN_ORDERS_REPLY, messages.ALL_ORDERS_REPLY, messages.MY_TRADES_REPLY
    )
    assert snapshot.balances == {
        "BTC": BalanceUpdate(asset="BTC", total=Decimal(1), available=Decimal(1), updated_at=1795568754027),
        "USDT": BalanceUpdate(
            asset="USDT", total=Decimal("999.8973559"), available=Decimal("899.8973559"), updated_at=1795568754027
        ),
    }
    [open_order] = snapshot.open_orders.values()
    assert (open_order.exchange_order_id, open_order.status, open_order.filled_quantity) == (
        "4293160",
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.4"),
    )
    [closed] = snapshot.closed_orders
    assert closed == parse_push(messages.FILL)[1], "a closed order reads as its last push"
    assert list(snapshot.fills) == [FILL, PARTIAL_FILL], "with the client ids of their orders"


def test_an_order_lookup_reads_the_order_detail() -> None:
    assert parse_order(messages.ORDER_REPLY) == parse_push(messages.FILL)[1]


def test_history_pages_are_as_long_as_binance_allows() -> None:
    assert CONSTANTS.PAGE_LIMIT == 1000
