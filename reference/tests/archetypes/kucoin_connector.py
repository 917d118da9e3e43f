"""A KuCoin spot user stream built on the REST-token block: what a generated connector looks like.

Only constants and small pure methods; the block mints a token per connection and the base loop
does the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from userstream import AuthenticationError, FrameKind, MarketAuth, OutgoingMessage
from userstream.archetypes.rest_token import RestTokenDataSource, TokenGrant

SUCCESS = "200000"


class KucoinAuth(MarketAuth):
    """KuCoin's REST signing for API keys of version 2 (the passphrase is sent signed, not in clear)."""

    KEY_VERSION: ClassVar[str] = "2"

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        if self.passphrase is None:
            raise ValueError("KuCoin API keys come with a passphrase; KucoinAuth needs it")
        timestamp = str(self.timestamp_ms())
        return {
            "KC-API-KEY": self.api_key,
            "KC-API-SIGN": self.hmac_sha256_base64(timestamp + method.upper() + path + body),
            "KC-API-TIMESTAMP": timestamp,
            "KC-API-PASSPHRASE": self.hmac_sha256_base64(self.passphrase),
            "KC-API-KEY-VERSION": self.KEY_VERSION,
        }


class KucoinAPIUserStreamDataSource(RestTokenDataSource):
    AWAIT_READY: ClassVar[bool] = True  # KuCoin: a connection may be used only after its welcome
    TOKEN_PATH: ClassVar[str] = "/api/v1/bullet-private"
    TOKEN_QUERY_PARAM: ClassVar[str | None] = "token"
    SERVER_TIME_PATH: ClassVar[str | None] = "/api/v1/timestamp"
    TOPICS: ClassVar[Sequence[str]] = ("/spotMarket/tradeOrdersV2", "/account/balance")

    def parse_token_reply(self, reply: Any) -> TokenGrant:
        if reply.get("code") != SUCCESS:
            raise AuthenticationError(self.describe_token_error(reply))
        data = reply["data"]
        server = data["instanceServers"][0]
        return TokenGrant(token=data["token"], endpoint=server["endpoint"], ping_interval=server["pingInterval"] / 1000)

    def describe_token_error(self, body: Any) -> str:
        if isinstance(body, dict) and "msg" in body:
            return f"{body['msg']} (code {body.get('code')})"
        return super().describe_token_error(body)

    def is_clock_skew(self, reply: Any) -> bool:
        return isinstance(reply, dict) and reply.get("code") == "400002"

    def parse_server_time(self, body: Any) -> float:
        return float(body["data"]) / 1000

    def connection_query(self) -> Mapping[str, str]:
        return {"connectId": uuid.uuid4().hex}

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        return [
            {"id": uuid.uuid4().hex, "type": "subscribe", "topic": topic, "privateChannel": True, "response": True}
            for topic in self.TOPICS
        ]

    def ping_message(self) -> OutgoingMessage | None:
        return {"id": uuid.uuid4().hex, "type": "ping"}

    def classify(self, message: Any) -> FrameKind:
        kind = message["type"]
        if kind == "message":
            return FrameKind.USER_MESSAGE
        if kind == "ack":
            return FrameKind.SUBSCRIBED
        if kind == "welcome":
            return FrameKind.READY
        if kind == "pong":
            return FrameKind.CONTROL
        if kind == "error":
            # 401: the token is invalid or expired; the next connection mints a new one.
            return FrameKind.RECONNECT if message.get("code") == 401 else FrameKind.SUBSCRIBE_REJECTED
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        return f"{message.get('data')} (code {message.get('code')})"
