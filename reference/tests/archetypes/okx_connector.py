"""An OKX v5 user stream on the login-message archetype: what a generated connector looks like.

Only constants and pure methods; the archetype signs the login at send time and the base loop
does the I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from userstream import FrameKind, OutgoingMessage, StreamTimings
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin


class OkxAPIUserStreamDataSource(LoginMessageDataSource):
    # OKX closes a connection after 30 s without client traffic: ping well inside that.
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = StreamTimings(ping_interval=15, stale_after=45)
    LOGIN_SIGNATURE: ClassVar[LoginSignature] = LoginSignature(
        "{timestamp}GET/users/self/verify", timestamp_unit="s", encoding="base64", requires_passphrase=True
    )
    SUBSCRIPTIONS: ClassVar[Sequence[Any]] = ({"channel": "orders", "instType": "SPOT"}, {"channel": "account"})
    ACK_PER_ARG: ClassVar[bool] = True
    PING: ClassVar[OutgoingMessage | None] = "ping"
    TEXT_FRAMES: ClassVar[frozenset[str]] = frozenset({"pong"})
    SERVER_TIME_PATH: ClassVar[str | None] = "/api/v5/public/time"
    # 60004 "Invalid timestamp", 60006 "Timestamp request expired".
    CLOCK_SKEW_CODES: ClassVar[frozenset[str]] = frozenset({"60004", "60006"})

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
            return FrameKind.RECONNECT  # 64008: closing soon for a service upgrade
        if event in ("channel-conn-count", "channel-conn-count-error"):
            # A count error means OKX dropped this subscription (over 30 connections): start over.
            return FrameKind.CONTROL if event == "channel-conn-count" else FrameKind.RECONNECT
        return FrameKind.MALFORMED

    def parse_server_time(self, body: Any) -> float:
        return int(body["data"][0]["ts"]) / 1000
