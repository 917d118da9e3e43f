"""Bybit v5's private user stream: authenticate with a signed expiry, subscribe to order, execution and wallet.

The I/O loop, reconnects, clock-skew retries and phase-aware error handling come from userstream's
login-message archetype; what is here is Bybit's message shapes.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import FrameKind, OutgoingMessage, StreamTimings
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin

from bybit import bybit_constants as CONSTANTS


class BybitAPIUserStreamDataSource(LoginMessageDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    LOGIN_SIGNATURE: ClassVar[LoginSignature] = LoginSignature(
        CONSTANTS.AUTH_PREHASH, timestamp_unit="ms", valid_for=CONSTANTS.AUTH_VALID_FOR
    )
    SUBSCRIPTIONS: ClassVar[Sequence[Any]] = CONSTANTS.SUBSCRIPTIONS
    PING: ClassVar[OutgoingMessage | None] = {"op": "ping"}
    # Bybit's replies carry their reason in ret_msg, with no code beside it.
    ERROR_TEXT_FIELD: ClassVar[str] = "ret_msg"
    ERROR_CODE_FIELD: ClassVar[str | None] = None
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    CLOCK_SKEW_TEXTS: ClassVar[frozenset[str]] = CONSTANTS.CLOCK_SKEW_TEXTS

    def login_message(self, login: SignedLogin) -> OutgoingMessage:
        # The expiry goes as an integer of milliseconds, as in Bybit's own examples.
        return {"op": "auth", "args": [login.api_key, login.timestamp, login.signature]}

    def subscribe_message(self, args: Sequence[Any]) -> OutgoingMessage:
        return {"op": "subscribe", "args": list(args)}

    def classify_reply(self, message: Any) -> FrameKind:
        if "topic" in message and "data" in message:
            return FrameKind.USER_MESSAGE
        op = message.get("op")
        if op == "pong" or (op == "ping" and message.get("success") is True):
            return FrameKind.CONTROL  # the private stream's pong, or the public streams' shape of it
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
