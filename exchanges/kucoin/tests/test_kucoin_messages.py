"""KuCoin's message shapes, checked as pure functions: no socket, no event loop."""

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from userstream import AuthenticationError, BalanceUpdate, FrameKind, MarketAuth, OrderStatus, OrderUpdate, TradeFill
from userstream.testing.dialect import Credentials
from userstream.testing.dialects.kucoin import DocumentedFrames as messages
from userstream.testing.dialects.kucoin import check_signature
from userstream.testing.fake_exchange import RestRequest

from kucoin.kucoin_account import KucoinError, data_of, parse_order, parse_push, parse_snapshot
from kucoin.kucoin_api_user_stream_data_source import KucoinAPIUserStreamDataSource
from kucoin.kucoin_auth import KucoinAuth

NOW = 1_700_000_000.0


@pytest.fixture
def data_source() -> KucoinAPIUserStreamDataSource:
    return KucoinAPIUserStreamDataSource(KucoinAuth("api-key", "secret", "passphrase", clock=lambda: NOW))


def sign(payload: str) -> str:
    return base64.b64encode(hmac.new(b"secret", payload.encode(), hashlib.sha256).digest()).decode()


def test_the_token_call_is_signed_as_kucoin_verifies_it() -> None:
    auth = KucoinAuth("api-key", "secret", "passphrase", clock=lambda: NOW)
    assert auth.rest_auth_headers("post", "/api/v1/bullet-private") == {
        "KC-API-KEY": "api-key",
        "KC-API-SIGN": sign("1700000000000POST/api/v1/bullet-private"),
        "KC-API-TIMESTAMP": "1700000000000",
        "KC-API-PASSPHRASE": sign("passphrase"),  # key version 2: signed, never in clear
        "KC-API-KEY-VERSION": "2",
    }


def test_an_account_request_is_signed_over_its_path_and_query() -> None:
    auth = KucoinAuth("api-key", "secret", "passphrase", clock=lambda: NOW)
    path = "/api/v1/hf/fills?symbol=BTC-USDT&startAt=1699740800000&limit=100"
    headers = auth.rest_auth_headers("GET", path)
    assert headers["KC-API-SIGN"] == sign("1700000000000GET" + path)
    query = urlsplit(path).query
    request = RestRequest(
        method="GET",
        path="/api/v1/hf/fills",
        query=dict(parse_qsl(query)),
        headers={name.lower(): value for name, value in headers.items()},  # as the fake's server hands them over
        body="",
        query_string=query,
    )
    assert check_signature(request, Credentials("api-key", "secret", "passphrase"), NOW) is None


def test_a_key_without_its_passphrase_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="passphrase"):
        KucoinAPIUserStreamDataSource(MarketAuth("api-key", "secret"))


def test_the_token_reply_names_the_token_endpoint_and_ping_interval(
    data_source: KucoinAPIUserStreamDataSource,
) -> None:
    grant = data_source.parse_token_reply(messages.TOKEN_GRANTED)
    assert grant.token == messages.TOKEN_GRANTED["data"]["token"]
    assert grant.endpoint == "wss://ws-api-spot.kucoin.com/"
    assert grant.ping_interval == 18.0


def test_each_connection_carries_the_token_and_its_own_connect_id(
    data_source: KucoinAPIUserStreamDataSource,
) -> None:
    grant = data_source.parse_token_reply(messages.TOKEN_GRANTED)
    urls = [urlsplit(data_source.connection_url(grant)) for _ in range(2)]
    assert {(url.scheme, url.netloc, url.path) for url in urls} == {("wss", "ws-api-spot.kucoin.com", "/")}
    queries = [parse_qs(url.query) for url in urls]
    assert [query["token"] for query in queries] == [[grant.token]] * 2
    assert queries[0]["connectId"] != queries[1]["connectId"]


def test_a_connection_is_replaced_before_kucoin_ends_it_after_24_hours() -> None:
    age = KucoinAPIUserStreamDataSource.MAX_CONNECTION_AGE
    assert age is not None
    assert 23 * 3600 < age < 24 * 3600


def test_a_refused_token_call_is_reported_in_kucoin_words(
    data_source: KucoinAPIUserStreamDataSource,
) -> None:
    with pytest.raises(AuthenticationError, match=r"^KC-API-KEY not exists \(code 400003\)$"):
        data_source.parse_token_reply(messages.KEY_NOT_EXISTS)
    assert not data_source.is_clock_skew(messages.KEY_NOT_EXISTS)


def test_an_invalid_timestamp_blames_our_clock(data_source: KucoinAPIUserStreamDataSource) -> None:
    assert data_source.is_clock_skew(messages.INVALID_TIMESTAMP)
    assert data_source.describe_token_error(messages.INVALID_TIMESTAMP) == "Invalid KC-API-TIMESTAMP (code 400002)"


def test_each_private_topic_is_subscribed_with_its_own_id(data_source: KucoinAPIUserStreamDataSource) -> None:
    subscribes: list[Any] = list(data_source.subscribe_messages())
    assert [(m["type"], m["topic"], m["privateChannel"], m["response"]) for m in subscribes] == [
        ("subscribe", "/spotMarket/tradeOrdersV2", True, True),
        ("subscribe", "/account/balance", True, True),
    ]
    assert len({m["id"] for m in subscribes}) == 2
    assert data_source.expected_subscribe_acks(subscribes) == 2


def test_the_client_pings_with_json_and_a_fresh_id(data_source: KucoinAPIUserStreamDataSource) -> None:
    pings: list[Any] = [data_source.ping_message() for _ in range(2)]
    assert [ping["type"] for ping in pings] == ["ping", "ping"]
    assert pings[0]["id"] != pings[1]["id"]


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.RECEIVED, FrameKind.USER_MESSAGE),
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.FILLED, FrameKind.USER_MESSAGE),
        (messages.CANCELED, FrameKind.USER_MESSAGE),
        (messages.BALANCE_UPDATE, FrameKind.USER_MESSAGE),
        (messages.MAIN_DEPOSIT, FrameKind.USER_MESSAGE),
        (messages.WELCOME, FrameKind.READY),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.PONG, FrameKind.CONTROL),
        (messages.TOKEN_INVALID, FrameKind.RECONNECT),
        (messages.TOPIC_NOT_FOUND, FrameKind.SUBSCRIBE_REJECTED),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: KucoinAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    assert data_source.classify(frame) is kind


def test_an_error_is_described_in_kucoin_words(data_source: KucoinAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.TOKEN_INVALID) == "token is invalid (code 401)"


def test_the_server_time_reply_is_read_in_seconds(data_source: KucoinAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == 1795568753.027


# --- the account ---------------------------------------------------------------------------------------

OPEN = OrderUpdate(
    exchange_order_id="6712c8b1e2f5a30007e5d8c1",
    client_order_id="bot-1",
    symbol="BTC-USDT",
    status=OrderStatus.OPEN,
    price=Decimal(30000),
    quantity=Decimal("0.1"),
    filled_quantity=Decimal(0),
    updated_at=1795568753027,
)


def test_a_received_order_is_open_with_its_original_size() -> None:
    assert parse_push(messages.RECEIVED) == [OPEN]


def test_an_open_order_push_is_the_order_as_it_now_stands() -> None:
    assert parse_push(messages.ORDER_UPDATE) == [OPEN]


def test_a_match_is_the_fill_then_the_order_and_kucoin_pushes_no_fee() -> None:
    fill, order = parse_push(messages.FILL)
    assert fill == TradeFill(
        trade_id="11116472408846337",
        exchange_order_id="6712c8b1e2f5a30007e5d8c1",
        client_order_id="bot-1",
        symbol="BTC-USDT",
        price=Decimal(30000),
        quantity=Decimal("0.1"),
        fee=Decimal(0),
        fee_asset=None,
        timestamp=1795568753127,  # ts is in nanoseconds
    )
    assert isinstance(order, OrderUpdate)
    # Nothing is left to fill: the order is filled, though KuCoin's "filled" follows.
    assert (order.status, order.filled_quantity, order.updated_at) == (
        OrderStatus.FILLED,
        Decimal("0.1"),
        1795568753127,
    )
    [filled] = parse_push(messages.FILLED)
    assert isinstance(filled, OrderUpdate)
    assert filled.same_state(order)


def test_a_maker_s_partial_fill_leaves_the_order_partially_filled_until_it_is_cancelled() -> None:
    fill, order = parse_push(messages.PARTIAL_FILL)
    assert isinstance(fill, TradeFill)
    assert (fill.trade_id, fill.price, fill.quantity) == ("11116472408846338", Decimal(29000), Decimal("0.04"))
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.04"))
    [cancelled] = parse_push(messages.CANCELED)
    assert isinstance(cancelled, OrderUpdate)
    assert (cancelled.status, cancelled.filled_quantity, cancelled.quantity) == (
        OrderStatus.CANCELED,
        Decimal("0.04"),
        Decimal("0.1"),
    )


def test_a_balance_push_is_the_absolute_balance_never_its_delta() -> None:
    assert parse_push(messages.BALANCE_UPDATE) == [
        BalanceUpdate(asset="USDT", total=Decimal(970), available=Decimal("968.84"), updated_at=1795568753227)
    ]


def test_another_account_s_balance_push_is_not_the_spot_account_s() -> None:
    assert parse_push(messages.MAIN_DEPOSIT) == []


def test_the_snapshot_reads_every_reply_as_the_stream_reads_its_pushes() -> None:
    snapshot = parse_snapshot(
        data_of(messages.ACCOUNTS_REPLY),
        data_of(messages.OPEN_ORDERS_REPLY),
        data_of(messages.CLOSED_ORDERS_REPLY)["items"],
        data_of(messages.FILLS_REPLY)["items"],
    )
    assert snapshot.balances == {
        "BTC": BalanceUpdate(asset="BTC", total=Decimal("0.14"), available=Decimal("0.14")),
        "USDT": BalanceUpdate(asset="USDT", total=Decimal(970), available=Decimal("968.84")),
    }
    [resting] = snapshot.open_orders.values()
    assert (resting.exchange_order_id, resting.status, resting.filled_quantity, resting.updated_at) == (
        "6712c8b1e2f5a30007e5d8c2",
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.04"),
        1795568753327,
    )
    [done] = snapshot.closed_orders
    assert (done.status, done.filled_quantity) == (OrderStatus.FILLED, Decimal("0.1"))
    first, second = snapshot.fills  # oldest first; the reply is newest first
    assert first == TradeFill(
        trade_id="11116472408846337",
        exchange_order_id="6712c8b1e2f5a30007e5d8c1",
        client_order_id="bot-1",  # from its order: the fills name none
        symbol="BTC-USDT",
        price=Decimal(30000),
        quantity=Decimal("0.1"),
        fee=Decimal(3),
        fee_asset="USDT",
        timestamp=1795568753127,
    )
    assert (second.trade_id, second.client_order_id, second.fee) == ("11116472408846338", "bot-2", Decimal("1.16"))


def test_the_order_detail_is_the_order_as_it_ended() -> None:
    order = parse_order(data_of(messages.ORDER_REPLY))
    assert (order.status, order.filled_quantity, order.updated_at) == (
        OrderStatus.FILLED,
        Decimal("0.1"),
        1795568753127,
    )


def test_a_done_order_not_filled_in_full_was_cancelled() -> None:
    row = {**data_of(messages.OPEN_ORDERS_REPLY)[0], "active": False, "cancelExist": True, "cancelledSize": "0.06"}
    order = parse_order(row)
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELED, Decimal("0.04"))


@pytest.mark.parametrize(
    ("reply", "words"),
    [(messages.ORDER_NOT_FOUND, r"order not exist\. \(code 400100\)"), (messages.TOO_MANY_REQUESTS, "429000")],
)
def test_a_failure_in_a_reply_is_an_error(reply: dict[str, Any], words: str) -> None:
    with pytest.raises(KucoinError, match=words):
        data_of(reply)
