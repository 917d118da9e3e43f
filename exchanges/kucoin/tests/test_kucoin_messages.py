"""KuCoin's message shapes, checked as pure functions: no socket, no event loop."""

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from userstream import AuthenticationError, FrameKind, MarketAuth
from userstream.testing.dialects.kucoin import DocumentedFrames as messages

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
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.BALANCE_UPDATE, FrameKind.USER_MESSAGE),
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
