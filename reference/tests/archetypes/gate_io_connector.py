"""Gate.io spot v4's user stream (signed subscribe): what a generated connector looks like.

Modelled on Gate's "Spot WebSocket v4" documentation: Authentication, ``spot.orders``, ``spot.usertrades``,
``spot.balances``, ``spot.ping`` and the error object (code 4 "Authentication fail").
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

from userstream import MarketAuth, OutgoingMessage, StreamTimings
from userstream.archetypes.signed_subscribe import ReplyVerdict, SignedSubscribeDataSource


class GateIoAuth(MarketAuth):
    def channel_auth(self, channel: str, event: str, timestamp: int) -> dict[str, str]:
        signature = self.hmac_sha512_hex(f"channel={channel}&event={event}&time={timestamp}")
        return {"method": "api_key", "KEY": self.api_key, "SIGN": signature}


class GateIoSpotUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str] = "wss://api.gateio.ws/ws/v4/"
    CHANNELS: ClassVar[Sequence[str]] = ("spot.orders", "spot.usertrades", "spot.balances")
    PAYLOADS: ClassVar[Mapping[str, list[str]]] = {"spot.orders": ["!all"], "spot.usertrades": ["!all"]}
    AUTH_ERROR_CODES = frozenset({4})
    DEFAULT_TIMINGS = StreamTimings(ping_interval=10, stale_after=30)

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        assert isinstance(self.auth, GateIoAuth)
        timestamp = self.auth.timestamp_s()
        request: dict[str, Any] = {"time": timestamp, "id": request_id, "channel": channel, "event": "subscribe"}
        if channel in self.PAYLOADS:
            request["payload"] = self.PAYLOADS[channel]
        request["auth"] = self.auth.channel_auth(channel, "subscribe", timestamp)
        return request

    def ping_message(self) -> OutgoingMessage | None:
        assert self.auth is not None
        return {"time": self.auth.timestamp_s(), "channel": "spot.ping"}

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if message.get("event") != "subscribe":
            return None
        return ReplyVerdict.REJECTED if message.get("error") else ReplyVerdict.ACCEPTED

    def reply_id(self, message: Any) -> Hashable | None:
        request_id: Hashable | None = message.get("id")
        return request_id

    def rejection_code(self, message: Any) -> Any:
        return message["error"]["code"]

    def rejection_text(self, message: Any) -> str:
        return f"{message['channel']}: {message['error']['message']}"

    def is_user_message(self, message: Any) -> bool:
        return message["event"] == "update" and message["channel"] in self.CHANNELS

    def is_control(self, message: Any) -> bool:
        return bool(message["channel"] == "spot.pong")
