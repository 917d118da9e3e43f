"""Bybit's message shapes, checked as pure functions: no socket, no event loop."""

import hashlib
import hmac
from typing import Any

import pytest
from userstream import FrameKind
from userstream.testing.dialects.bybit import DocumentedFrames as messages

from bybit.bybit_api_user_stream_data_source import BybitAPIUserStreamDataSource
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
