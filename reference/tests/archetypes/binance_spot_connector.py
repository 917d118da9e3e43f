"""Binance spot's user stream over the WebSocket API (signed subscribe): what a generated connector looks like.

Modelled on Binance's "WebSocket API: User Data Stream requests" (``userDataStream.subscribe.signature``), its
"User Data Streams" event payloads and its error codes (-1021, -1022).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from userstream import MarketAuth, OutgoingMessage, StreamTimings
from userstream.archetypes.signed_subscribe import ReplyVerdict, SignedSubscribeDataSource, sorted_query


class BinanceSpotAuth(MarketAuth):
    def signed_params(self, **params: Any) -> dict[str, Any]:
        """``params`` plus ``apiKey`` and ``timestamp`` (now, on the exchange's clock), signed."""
        signed: dict[str, Any] = {"apiKey": self.api_key, **params, "timestamp": self.timestamp_ms()}
        signed["signature"] = self.hmac_sha256_hex(sorted_query(signed))
        return signed


class BinanceSpotUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str] = "wss://ws-api.binance.com:443/ws-api/v3"
    REST_URL: ClassVar[str] = "https://api.binance.com"
    CHANNELS: ClassVar[Sequence[str]] = ("userDataStream.subscribe.signature",)
    SIGNED_REQUEST_IS_LOGIN = True
    SERVER_TIME_PATH = "/api/v3/time"
    CLOCK_SKEW_CODES = frozenset({-1021})
    DEFAULT_TIMINGS = StreamTimings(ping_interval=20, stale_after=60)

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        assert isinstance(self.auth, BinanceSpotAuth)
        return {"id": request_id, "method": channel, "params": self.auth.signed_params()}

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if "status" not in message or "id" not in message:
            return None
        return ReplyVerdict.ACCEPTED if message["status"] == 200 else ReplyVerdict.REJECTED

    def reply_id(self, message: Any) -> Hashable | None:
        request_id: Hashable | None = message.get("id")
        return request_id

    def rejection_code(self, message: Any) -> Any:
        return message["error"]["code"]

    def rejection_text(self, message: Any) -> str:
        if "error" in message:
            return str(message["error"]["msg"])
        return f"event stream terminated at {message['event']['E']}"

    def is_user_message(self, message: Any) -> bool:
        return "subscriptionId" in message and isinstance(message["event"]["e"], str)

    def is_stream_end(self, message: Any) -> bool:
        return "subscriptionId" in message and message["event"]["e"] == "eventStreamTerminated"
