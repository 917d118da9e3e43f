"""Binance's message shapes, checked as pure functions: no socket, no event loop."""

import hashlib
import hmac
from typing import Any

import pytest
from userstream import FrameKind
from userstream.testing.dialects.binance import DocumentedFrames as messages

from binance.binance_api_user_stream_data_source import BinanceAPIUserStreamDataSource
from binance.binance_auth import BinanceAuth

NOW = 1_700_000_000.0


@pytest.fixture
def data_source() -> BinanceAPIUserStreamDataSource:
    return BinanceAPIUserStreamDataSource(BinanceAuth("api-key", "secret", clock=lambda: NOW))


def test_the_subscribe_is_signed_as_binance_verifies_it(data_source: BinanceAPIUserStreamDataSource) -> None:
    [subscribe] = data_source.login_messages()
    expected = hmac.new(b"secret", b"apiKey=api-key&timestamp=1700000000000", hashlib.sha256).hexdigest()
    assert subscribe == {
        "id": 1,
        "method": "userDataStream.subscribe.signature",
        "params": {"apiKey": "api-key", "timestamp": 1700000000000, "signature": expected},
    }
    assert not data_source.subscribe_messages(), "the signed subscribe is the whole handshake"


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


def test_every_connection_signs_a_new_request(data_source: BinanceAPIUserStreamDataSource) -> None:
    [first] = data_source.login_messages()
    [second] = data_source.login_messages()
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert (first["id"], second["id"]) == (1, 2)
    assert data_source.classify({**messages.SUBSCRIBED, "id": 1}) is FrameKind.CONTROL, "a late reply to an old request"
    assert data_source.classify({**messages.SUBSCRIBED, "id": 2}) is FrameKind.AUTH_OK


def test_the_client_pings_at_the_protocol_level(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() is None


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.ACCOUNT_POSITION, FrameKind.USER_MESSAGE),
        (messages.BALANCE_UPDATE, FrameKind.USER_MESSAGE),
        (messages.SUBSCRIBED, FrameKind.AUTH_OK),
        (messages.INVALID_SIGNATURE, FrameKind.AUTH_REJECTED),
        (messages.TIMESTAMP_OUTSIDE_RECV_WINDOW, FrameKind.AUTH_REJECTED),
        (messages.STREAM_TERMINATED, FrameKind.RECONNECT),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: BinanceAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    data_source.login_messages()  # request 1 is now awaiting its reply
    assert data_source.classify(frame) is kind


def test_a_refusal_is_described_in_binances_words(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.INVALID_SIGNATURE) == (
        "Signature for this request is not valid. (code -1022)"
    )
    assert data_source.describe_rejection(messages.STREAM_TERMINATED) == "event stream terminated at 1795568753327"


def test_only_minus_1021_blames_our_clock(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.is_clock_skew(messages.TIMESTAMP_OUTSIDE_RECV_WINDOW)
    assert not data_source.is_clock_skew(messages.INVALID_SIGNATURE)


def test_the_server_time_reply_is_read_in_seconds(data_source: BinanceAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == 1795568753.027
