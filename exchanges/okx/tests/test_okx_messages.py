"""OKX's message shapes, checked as pure functions: no socket, no event loop."""

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest
from userstream import BalanceUpdate, FrameKind, OrderStatus, OrderUpdate, TradeFill
from userstream.testing.dialects.okx import DocumentedFrames as messages

from okx.okx_account import OkxError, data_of, parse_push, parse_snapshot
from okx.okx_api_user_stream_data_source import OkxAPIUserStreamDataSource
from okx.okx_auth import OkxAuth

NOW = 1_700_000_000.0


@pytest.fixture
def data_source() -> OkxAPIUserStreamDataSource:
    return OkxAPIUserStreamDataSource(OkxAuth("api-key", "secret", "passphrase", clock=lambda: NOW))


def test_the_login_is_signed_as_okx_verifies_it(data_source: OkxAPIUserStreamDataSource) -> None:
    [login] = data_source.login_messages()
    expected = base64.b64encode(hmac.new(b"secret", b"1700000000GET/users/self/verify", hashlib.sha256).digest())
    assert login == {
        "op": "login",
        "args": [
            {"apiKey": "api-key", "passphrase": "passphrase", "timestamp": "1700000000", "sign": expected.decode()}
        ],
    }


def test_one_subscribe_carries_every_channel_and_each_is_acknowledged(
    data_source: OkxAPIUserStreamDataSource,
) -> None:
    subscribes = data_source.subscribe_messages()
    assert subscribes == [
        {"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}, {"channel": "account"}]}
    ]
    assert data_source.expected_subscribe_acks(subscribes) == 2


def test_the_client_pings_with_text(data_source: OkxAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() == "ping"
    assert data_source.classify(data_source.decode_frame("pong")) is FrameKind.CONTROL


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.BALANCE_UPDATE, FrameKind.USER_MESSAGE),
        (messages.LOGIN_OK, FrameKind.AUTH_OK),
        (messages.LOGIN_REFUSED, FrameKind.AUTH_REJECTED),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.CONNECTION_COUNT, FrameKind.CONTROL),
        (messages.SERVICE_UPGRADE, FrameKind.CLOSING_SOON),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(data_source: OkxAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind) -> None:
    assert data_source.classify(frame) is kind


def test_a_refusal_is_described_in_okx_words(data_source: OkxAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.LOGIN_REFUSED) == "Invalid sign (code 60007)"


def test_the_server_time_reply_is_read_in_seconds(data_source: OkxAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == 1795568753.027


def test_rest_requests_are_signed_with_the_passphrase() -> None:
    auth = OkxAuth("api-key", "secret", "passphrase", clock=lambda: NOW)
    headers = auth.rest_auth_headers("get", "/api/v5/account/balance")
    prehash = headers["OK-ACCESS-TIMESTAMP"] + "GET/api/v5/account/balance"
    expected = base64.b64encode(hmac.new(b"secret", prehash.encode(), hashlib.sha256).digest()).decode()
    assert headers["OK-ACCESS-SIGN"] == expected
    assert headers["OK-ACCESS-PASSPHRASE"] == "passphrase"
    assert headers["OK-ACCESS-TIMESTAMP"].endswith("Z")


ORDER = OrderUpdate(
    exchange_order_id="680800019749904384",
    client_order_id="b15",
    symbol="BTC-USDT",
    status=OrderStatus.OPEN,
    price=Decimal(30000),
    quantity=Decimal("0.01"),
    filled_quantity=Decimal(0),
    updated_at=1795568753027,
)
FILL = TradeFill(
    trade_id="1468",
    exchange_order_id="680800019749904384",
    client_order_id="b15",
    symbol="BTC-USDT",
    price=Decimal(30000),
    quantity=Decimal("0.01"),
    fee=Decimal("0.00001"),
    fee_asset="BTC",
    timestamp=1795568753127,
)


def test_an_order_push_is_the_order_as_it_now_stands() -> None:
    assert parse_push(messages.ORDER_UPDATE) == [ORDER]


def test_a_fill_push_is_the_fill_then_the_order_and_the_fee_is_what_was_paid() -> None:
    fill, order = parse_push(messages.FILL)
    assert fill == FILL
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity, order.updated_at) == (
        OrderStatus.FILLED,
        Decimal("0.01"),
        1795568753127,
    )


def test_an_account_push_is_each_currency_s_cash_and_available_balance() -> None:
    assert parse_push(messages.BALANCE_UPDATE) == [
        BalanceUpdate(asset="USDT", total=Decimal(100), available=Decimal(90), updated_at=1795568753127)
    ]


def test_the_snapshot_reads_every_reply_as_the_stream_reads_its_pushes() -> None:
    snapshot = parse_snapshot(
        data_of(messages.BALANCE_REPLY),
        data_of(messages.OPEN_ORDERS_REPLY),
        data_of(messages.ORDER_HISTORY_REPLY),
        data_of(messages.FILLS_REPLY),
    )
    assert snapshot.balances["USDT"] == BalanceUpdate(
        asset="USDT", total=Decimal("699.7"), available=Decimal("400.7"), updated_at=1795568754027
    )
    assert snapshot.open_orders == {ORDER.exchange_order_id: ORDER}
    assert [order.status for order in snapshot.closed_orders] == [OrderStatus.FILLED]
    assert list(snapshot.fills) == [FILL]


def test_a_refusal_in_an_ok_reply_is_an_error() -> None:
    with pytest.raises(OkxError, match="Order does not exist"):
        data_of(messages.ORDER_NOT_FOUND)
