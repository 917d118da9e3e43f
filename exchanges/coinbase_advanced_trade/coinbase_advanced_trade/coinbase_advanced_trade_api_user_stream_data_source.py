"""Coinbase Advanced Trade's user-order stream: one subscribe per channel, each carrying a fresh ES256 JWT.

The I/O loop, reconnects and reply handling come from userstream's signed-subscribe archetype;
what is here is Coinbase's subscribe, reply and event shapes.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import OutgoingMessage, StreamTimings
from userstream.archetypes.signed_subscribe import ReplyVerdict, SignedSubscribeDataSource

from coinbase_advanced_trade import coinbase_advanced_trade_constants as CONSTANTS
from coinbase_advanced_trade.coinbase_advanced_trade_auth import CoinbaseAdvancedTradeAuth


class CoinbaseAdvancedTradeAPIUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_USER_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    CHANNELS: ClassVar[Sequence[str]] = CONSTANTS.CHANNELS

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        # Coinbase echoes no request id: replies are matched by count, one per subscribe.
        assert isinstance(self.auth, CoinbaseAdvancedTradeAuth)
        return {"type": "subscribe", "channel": channel, "jwt": self.auth.websocket_jwt()}

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if message.get("channel") == CONSTANTS.SUBSCRIPTIONS_CHANNEL:
            return ReplyVerdict.ACCEPTED
        if message.get("type") == CONSTANTS.ERROR_TYPE:
            return ReplyVerdict.REJECTED  # "authentication failure": Coinbase gives no code to tell causes apart
        return None

    def rejection_text(self, message: Any) -> str:
        return str(message["message"])

    def is_user_message(self, message: Any) -> bool:
        return message.get("channel") == CONSTANTS.USER_CHANNEL and isinstance(message.get("events"), list)

    def is_control(self, message: Any) -> bool:
        channel: str | None = message.get("channel")
        return channel == CONSTANTS.HEARTBEATS_CHANNEL
