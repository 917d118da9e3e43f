"""Gate's message shapes, checked as pure functions: no socket, no event loop."""

import hashlib
import hmac
from typing import Any

import pytest
from userstream import FrameKind
from userstream.testing.dialects.gate_io import DocumentedFrames as messages

from gate_io.gate_io_api_user_stream_data_source import GateIoAPIUserStreamDataSource
from gate_io.gate_io_auth import GateIoAuth

NOW = 1_700_000_000.0


@pytest.fixture
def data_source() -> GateIoAPIUserStreamDataSource:
    return GateIoAPIUserStreamDataSource(GateIoAuth("api-key", "secret", clock=lambda: NOW))


def signed(channel: str) -> dict[str, str]:
    payload = f"channel={channel}&event=subscribe&time=1700000000".encode()
    return {"method": "api_key", "KEY": "api-key", "SIGN": hmac.new(b"secret", payload, hashlib.sha512).hexdigest()}


def test_each_private_channel_gets_its_own_signed_subscribe(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert not data_source.login_messages(), "Gate has no login"
    assert data_source.subscribe_messages() == [
        {
            "time": 1700000000,
            "id": 1,
            "channel": "spot.orders",
            "event": "subscribe",
            "payload": ["!all"],
            "auth": signed("spot.orders"),
        },
        {
            "time": 1700000000,
            "id": 2,
            "channel": "spot.usertrades",
            "event": "subscribe",
            "payload": ["!all"],
            "auth": signed("spot.usertrades"),
        },
        {
            "time": 1700000000,
            "id": 3,
            "channel": "spot.balances",
            "event": "subscribe",
            "auth": signed("spot.balances"),
        },
    ]


def test_the_client_pings_with_spot_ping(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() == {"time": 1700000000, "channel": "spot.ping"}
    assert data_source.classify(messages.PONG) is FrameKind.CONTROL


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.BALANCE_UPDATE, FrameKind.USER_MESSAGE),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.AUTHENTICATION_FAIL, FrameKind.AUTH_REJECTED),
        (messages.INVALID_ARGUMENT, FrameKind.SUBSCRIBE_REJECTED),
        (messages.PONG, FrameKind.CONTROL),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: GateIoAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    data_source.subscribe_messages()  # requests 1 to 3 are now awaiting their replies
    assert data_source.classify(frame) is kind


def test_a_reply_to_a_request_of_another_connection_is_ignored(
    data_source: GateIoAPIUserStreamDataSource,
) -> None:
    data_source.login_messages()  # a new connection forgets the last one's requests
    data_source.subscribe_messages()
    assert data_source.classify({**messages.SUBSCRIBED, "id": 7}) is FrameKind.CONTROL


def test_a_refusal_is_described_in_gates_words(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.AUTHENTICATION_FAIL) == "spot.orders: Authentication fail (code 4)"


def test_the_server_time_reply_is_read_in_seconds(data_source: GateIoAPIUserStreamDataSource) -> None:
    assert data_source.parse_server_time(messages.SERVER_TIME) == 1795568753.027
