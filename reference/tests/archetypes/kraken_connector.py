"""A Kraken spot user stream (WebSocket API v1) built on the REST-token block: what a generated connector looks like."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode

from userstream import AuthenticationError, FrameKind, MarketAuth, OutgoingMessage
from userstream.archetypes.rest_token import RestTokenDataSource, TokenGrant
from userstream.errors import RestError

_reqids = itertools.count(1)


class KrakenAuth(MarketAuth):
    """Kraken's REST signing: the nonce travels in the form body, and the signature covers it."""

    def __init__(self, api_key: str, secret_key: str, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(api_key, secret_key, clock=clock)
        self._last_nonce = 0

    def nonce(self) -> int:
        """Milliseconds, but strictly increasing: Kraken refuses a nonce it has seen (EAPI:Invalid nonce)."""
        self._last_nonce = max(self._last_nonce + 1, int(self._clock() * 1000))
        return self._last_nonce

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        nonce = parse_qs(body)["nonce"][0]
        message = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
        signature = self.sign(message, digest="sha512", encoding="base64", secret_is_base64=True)
        return {"API-Key": self.api_key, "API-Sign": signature}


class KrakenAPIUserStreamDataSource(RestTokenDataSource):
    TOKEN_PATH: ClassVar[str] = "/0/private/GetWebSocketsToken"
    CHANNELS: ClassVar[Sequence[str]] = ("openOrders", "ownTrades")

    def token_request_body(self) -> str:
        if not isinstance(self.auth, KrakenAuth):
            raise TypeError("the Kraken user stream signs with KrakenAuth")
        return urlencode({"nonce": self.auth.nonce()})

    def token_request_headers(self) -> Mapping[str, str]:
        return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def parse_token_reply(self, reply: Any) -> TokenGrant:
        errors = reply.get("error") or []
        if any(error.startswith(("EAPI:Invalid", "EGeneral:Permission denied")) for error in errors):
            raise AuthenticationError(", ".join(errors))
        if errors:  # EService:Unavailable and the like: the exchange is unwell, not the key
            raise RestError("POST", self.TOKEN_PATH, 200, reply)
        result = reply["result"]
        return TokenGrant(token=result["token"], expires_in=float(result["expires"]))

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        return [{"event": "subscribe", "subscription": {"name": name, "token": self.token}} for name in self.CHANNELS]

    def ping_message(self) -> OutgoingMessage | None:
        return {"event": "ping", "reqid": next(_reqids)}

    def classify(self, message: Any) -> FrameKind:
        if isinstance(message, list):
            return FrameKind.USER_MESSAGE if message[1] in self.CHANNELS else FrameKind.MALFORMED
        event = message["event"]
        if event == "subscriptionStatus":
            status = message["status"]
            if status == "subscribed":
                return FrameKind.SUBSCRIBED
            if status == "unsubscribed":  # the exchange ended the feed: subscribe again, with a new token
                return FrameKind.RECONNECT
            return FrameKind.SUBSCRIBE_REJECTED
        if event in ("heartbeat", "pong", "systemStatus"):
            return FrameKind.CONTROL
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        if isinstance(message, dict) and "errorMessage" in message:
            return f"{message['errorMessage']} ({message.get('subscription', {}).get('name')})"
        return super().describe_rejection(message)
