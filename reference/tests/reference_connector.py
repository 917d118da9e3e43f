"""A complete connector for the fake exchange's reference dialect: what a generated connector looks like.

Its exchange specifics are pure methods; the tests drive them through the base class's I/O loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from userstream import FrameKind, MarketAuth, OutgoingMessage, UserStreamTrackerDataSource
from userstream.testing import ReferenceDialect


class ReferenceAuth(MarketAuth):
    def ws_login_payload(self) -> dict[str, Any]:
        timestamp = self.timestamp_ms()
        signature = self.hmac_sha256_hex(ReferenceDialect.signature_payload(timestamp))
        return {"op": "login", "args": {"api_key": self.api_key, "timestamp": timestamp, "signature": signature}}


class ReferenceDataSource(UserStreamTrackerDataSource):
    channels: ClassVar[Sequence[str]] = ("orders", "fills", "balances")
    app_ping: ClassVar[OutgoingMessage | None] = {"op": "ping"}

    def login_messages(self) -> Sequence[OutgoingMessage]:
        assert self.auth is not None
        return [self.auth.ws_login_payload()]

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        return [{"op": "subscribe", "channel": channel} for channel in self.channels]

    def ping_message(self) -> OutgoingMessage | None:
        return self.app_ping

    def classify(self, message: Any) -> FrameKind:
        if "channel" in message and "data" in message:
            return FrameKind.USER_MESSAGE
        event = message.get("event")
        if event == "login":
            return FrameKind.AUTH_OK
        if event == "subscribed":
            return FrameKind.SUBSCRIBED
        if event == "error":
            return FrameKind.AUTH_REJECTED if message["code"] == 401 else FrameKind.SUBSCRIBE_REJECTED
        if event == "stream_expired":
            return FrameKind.RECONNECT
        if event == "heartbeat" or message.get("op") == "pong":
            return FrameKind.CONTROL
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        return f"{message.get('msg', message)} (code {message.get('code')})"


DataSourceFactory = Callable[..., ReferenceDataSource]
"""The ``make_data_source`` fixture's type: keyword overrides in, a data source out."""
