"""OKX v5's private user stream: log in with a signed message, subscribe to orders and account, ping with text.

The I/O loop, reconnects, clock-skew retries and phase-aware error handling come from userstream's
login-message archetype; what is here is OKX's message shapes.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import FrameKind, OutgoingMessage, StreamTimings
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin

from okx import okx_constants as CONSTANTS


class OkxAPIUserStreamDataSource(LoginMessageDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    LOGIN_SIGNATURE: ClassVar[LoginSignature] = LoginSignature(
        CONSTANTS.LOGIN_PREHASH, timestamp_unit="s", encoding="base64", requires_passphrase=True
    )
    SUBSCRIPTIONS: ClassVar[Sequence[Any]] = CONSTANTS.SUBSCRIPTIONS
    ACK_PER_ARG: ClassVar[bool] = True
    PING: ClassVar[OutgoingMessage | None] = "ping"
    TEXT_FRAMES: ClassVar[frozenset[str]] = frozenset({"pong"})
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    CLOCK_SKEW_CODES: ClassVar[frozenset[str]] = CONSTANTS.CLOCK_SKEW_CODES

    def login_message(self, login: SignedLogin) -> OutgoingMessage:
        arg = {"apiKey": login.api_key, "passphrase": login.passphrase, "timestamp": str(login.timestamp)}
        return {"op": "login", "args": [{**arg, "sign": login.signature}]}

    def subscribe_message(self, args: Sequence[Any]) -> OutgoingMessage:
        return {"op": "subscribe", "args": list(args)}

    def classify_reply(self, message: Any) -> FrameKind:
        if "arg" in message and "data" in message:
            return FrameKind.USER_MESSAGE
        event = message.get("event")
        if event == "login":
            return FrameKind.AUTH_OK if message.get("code") == "0" else FrameKind.AUTH_REJECTED
        if event == "subscribe":
            return FrameKind.SUBSCRIBED
        if event == "error":
            return FrameKind.AUTH_REJECTED  # the archetype tells login, subscribe and mid-stream errors apart
        if event == "notice":
            return FrameKind.RECONNECT  # 64008: the connection closes soon for a service upgrade
        if event == "channel-conn-count":
            return FrameKind.CONTROL
        if event == "channel-conn-count-error":
            return FrameKind.RECONNECT  # OKX dropped this subscription (too many connections): start over
        return FrameKind.MALFORMED

    def parse_server_time(self, body: Any) -> float:
        return int(body["data"][0]["ts"]) / 1000
