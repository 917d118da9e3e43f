"""OKX's message shapes, checked as pure functions: no socket, no event loop."""

import base64
import hashlib
import hmac
from typing import Any

import pytest
from userstream import FrameKind
from userstream.testing.dialects.okx import DocumentedFrames as messages

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
        (messages.SERVICE_UPGRADE, FrameKind.RECONNECT),
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
