"""A Bybit v5 user stream on the login-message archetype: what a generated connector looks like.

Only constants and pure methods; the archetype signs the auth at send time and the base loop
does the I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import FrameKind, OutgoingMessage, StreamTimings
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin


class BybitAPIUserStreamDataSource(LoginMessageDataSource):
    # Bybit recommends a ping every 20 s.
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = StreamTimings(ping_interval=20, stale_after=60)
    # Bybit signs an expiry moment; 5 s covers the trip to the exchange without a long replay window.
    LOGIN_SIGNATURE: ClassVar[LoginSignature] = LoginSignature("GET/realtime{timestamp}", valid_for=5.0)
    SUBSCRIPTIONS: ClassVar[Sequence[Any]] = ("order", "execution", "wallet")
    PING: ClassVar[OutgoingMessage | None] = {"op": "ping"}
    ERROR_TEXT_FIELD: ClassVar[str] = "ret_msg"
    ERROR_CODE_FIELD: ClassVar[str | None] = None
    SERVER_TIME_PATH: ClassVar[str | None] = "/v5/market/time"
    # v5 answers an expired "expires" with "Params Error"; older streams said "error:request expired".
    CLOCK_SKEW_TEXTS: ClassVar[frozenset[str]] = frozenset({"Params Error", "error:request expired"})

    def login_message(self, login: SignedLogin) -> OutgoingMessage:
        return {"op": "auth", "args": [login.api_key, login.timestamp, login.signature]}

    def subscribe_message(self, args: Sequence[Any]) -> OutgoingMessage:
        return {"op": "subscribe", "args": list(args)}

    def classify_reply(self, message: Any) -> FrameKind:
        if "topic" in message and "data" in message:
            return FrameKind.USER_MESSAGE
        op = message.get("op")
        if op == "pong" or (op == "ping" and message.get("success") is True):
            return FrameKind.CONTROL  # the private pong, or the public streams' shape of it
        succeeded = message.get("success")
        if op == "auth":
            return FrameKind.AUTH_OK if succeeded is True else FrameKind.AUTH_REJECTED
        if op == "subscribe":
            return FrameKind.SUBSCRIBED if succeeded is True else FrameKind.SUBSCRIBE_REJECTED
        if succeeded is False:
            return FrameKind.AUTH_REJECTED  # any other refusal: the archetype decides by phase
        return FrameKind.MALFORMED

    def parse_server_time(self, body: Any) -> float:
        return int(body["result"]["timeNano"]) / 1_000_000_000
