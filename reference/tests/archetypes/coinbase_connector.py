"""Coinbase Advanced Trade's user-order stream (a JWT in every subscribe): what a generated connector looks like.

Modelled on Coinbase's "Advanced Trade WebSocket Overview", "WebSocket Channels" (``user``, ``heartbeats``) and the
CDP API key authentication guide (ES256 JWT, ``iss: "cdp"``, two-minute expiry, ``kid`` and ``nonce`` headers).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import OutgoingMessage, StreamTimings
from userstream.archetypes.signed_subscribe import Es256JwtAuth, ReplyVerdict, SignedSubscribeDataSource


class CoinbaseAuth(Es256JwtAuth):
    JWT_LIFETIME_S: ClassVar[int] = 120

    def websocket_jwt(self) -> str:
        """A JWT for one subscribe: WebSocket JWTs carry no ``uri`` claim."""
        now = self.timestamp_s()
        claims = {"iss": "cdp", "sub": self.api_key, "nbf": now, "exp": now + self.JWT_LIFETIME_S}
        return self.es256_jwt(claims, headers={"kid": self.api_key, "nonce": secrets.token_hex(16)})


class CoinbaseUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str] = "wss://advanced-trade-ws-user.coinbase.com"
    # Heartbeats keep a quiet connection open (Coinbase closes idle ones) and feed the staleness watchdog.
    CHANNELS: ClassVar[Sequence[str]] = ("user", "heartbeats")
    DEFAULT_TIMINGS = StreamTimings(ping_interval=20, stale_after=30)

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        assert isinstance(self.auth, CoinbaseAuth)
        return {"type": "subscribe", "channel": channel, "jwt": self.auth.websocket_jwt()}

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if message.get("channel") == "subscriptions":
            return ReplyVerdict.ACCEPTED
        if message.get("type") == "error":
            return ReplyVerdict.REJECTED
        return None

    def rejection_text(self, message: Any) -> str:
        return str(message["message"])

    def is_user_message(self, message: Any) -> bool:
        return message["channel"] == "user" and isinstance(message["events"], list)

    def is_control(self, message: Any) -> bool:
        return bool(message["channel"] == "heartbeats")
