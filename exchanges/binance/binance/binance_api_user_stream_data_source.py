"""Binance spot's user data stream over the WebSocket API: one signed ``userDataStream.subscribe.signature``.

The I/O loop, reconnects, clock-skew retries and reply matching come from userstream's
signed-subscribe archetype; what is here is Binance's request, reply and event shapes.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import OutgoingMessage, StreamTimings
from userstream.archetypes.signed_subscribe import ReplyVerdict, SignedSubscribeDataSource

from binance import binance_constants as CONSTANTS
from binance.binance_auth import BinanceAuth


class BinanceAPIUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_API_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    CHANNELS: ClassVar[Sequence[str]] = (CONSTANTS.USER_DATA_SUBSCRIBE_METHOD,)
    REPLY_ID_FIELD: ClassVar[str | None] = "id"
    # The signed subscribe is the whole handshake: Binance's "status": 200 reply is the login's ack.
    SIGNED_REQUEST_IS_LOGIN: ClassVar[bool] = True
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    CLOCK_SKEW_CODES: ClassVar[frozenset[Any]] = CONSTANTS.CLOCK_SKEW_CODES

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        assert isinstance(self.auth, BinanceAuth)
        return {"id": request_id, "method": channel, "params": self.auth.signed_params()}

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if "status" not in message or "id" not in message:
            return None
        return ReplyVerdict.ACCEPTED if message["status"] == 200 else ReplyVerdict.REJECTED

    def rejection_code(self, message: Any) -> Any:
        return message["error"]["code"]

    def rejection_text(self, message: Any) -> str:
        if "error" in message:
            return str(message["error"]["msg"])
        return f"event stream terminated at {message['event']['E']}"

    def is_user_message(self, message: Any) -> bool:
        # Events arrive wrapped: the subscription's id, and the event itself (typed by "e") in "event".
        return "subscriptionId" in message and isinstance(message["event"]["e"], str)

    def is_stream_end(self, message: Any) -> bool:
        return "subscriptionId" in message and message["event"]["e"] == CONSTANTS.STREAM_TERMINATED_EVENT
