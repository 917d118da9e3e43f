"""Gate spot v4's private user stream: one signed subscribe per channel, pinged with ``spot.ping``.

The I/O loop, reconnects and reply matching come from userstream's signed-subscribe archetype;
what is here is Gate's request, reply and update shapes.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import OutgoingMessage, StreamTimings
from userstream.archetypes.signed_subscribe import ReplyVerdict, SignedSubscribeDataSource

from gate_io import gate_io_constants as CONSTANTS
from gate_io.gate_io_auth import GateIoAuth


class GateIoAPIUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    CHANNELS: ClassVar[Sequence[str]] = CONSTANTS.PRIVATE_CHANNELS
    REPLY_ID_FIELD: ClassVar[str | None] = "id"
    AUTH_ERROR_CODES: ClassVar[frozenset[Any] | None] = CONSTANTS.AUTH_ERROR_CODES
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        assert isinstance(self.auth, GateIoAuth)
        timestamp = self.auth.timestamp_s()
        event = CONSTANTS.SUBSCRIBE_EVENT
        request: dict[str, Any] = {"time": timestamp, "id": request_id, "channel": channel, "event": event}
        if channel in CONSTANTS.CHANNEL_PAYLOADS:
            request["payload"] = list(CONSTANTS.CHANNEL_PAYLOADS[channel])
        request["auth"] = self.auth.channel_auth(channel, event, timestamp)
        return request

    def ping_message(self) -> OutgoingMessage | None:
        assert self.auth is not None
        return {"time": self.auth.timestamp_s(), "channel": CONSTANTS.PING_CHANNEL}

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if message.get("event") != CONSTANTS.SUBSCRIBE_EVENT:
            return None
        return ReplyVerdict.REJECTED if message.get("error") else ReplyVerdict.ACCEPTED

    def rejection_code(self, message: Any) -> Any:
        return message["error"]["code"]

    def rejection_text(self, message: Any) -> str:
        return f"{message['channel']}: {message['error']['message']}"

    def is_user_message(self, message: Any) -> bool:
        return message.get("event") == CONSTANTS.UPDATE_EVENT and message.get("channel") in self.CHANNELS

    def is_control(self, message: Any) -> bool:
        channel: str | None = message.get("channel")
        return channel == CONSTANTS.PONG_CHANNEL

    def parse_server_time(self, body: Any) -> float:
        return int(body["server_time"]) / 1000
