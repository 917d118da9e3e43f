"""Binance USDⓈ-M futures' message shapes, checked as pure functions: no socket, no event loop."""

from typing import Any

import pytest
from userstream import FrameKind
from userstream.testing.dialects.binance_futures import DocumentedFrames as messages

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
        (messages.ACCOUNT_UPDATE, FrameKind.USER_MESSAGE),
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
