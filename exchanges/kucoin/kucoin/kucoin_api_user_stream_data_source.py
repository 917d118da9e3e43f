"""KuCoin's spot private user stream: mint a token over REST, connect where it says, subscribe to orders and balances.

The token per connection, its single-flight fetch, reconnects and clock-skew retries come from
userstream's REST-token archetype; what is here is KuCoin's message shapes.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from userstream import AuthenticationError, FrameKind, OutgoingMessage, StreamTimings
from userstream.archetypes.rest_token import RestTokenDataSource, TokenGrant

from kucoin import kucoin_constants as CONSTANTS


class KucoinAPIUserStreamDataSource(RestTokenDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    AWAIT_READY: ClassVar[bool] = True  # a connection may be used only after KuCoin's welcome
    TOKEN_PATH: ClassVar[str] = CONSTANTS.TOKEN_PATH
    TOKEN_QUERY_PARAM: ClassVar[str | None] = "token"
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH

    def configure(self) -> None:
        super().configure()
        if self.auth is None or not self.auth.passphrase:
            raise ValueError(
                f"{type(self).__name__} signs its token call with the key's passphrase: "
                "KucoinAuth(api_key, secret, passphrase)"
            )

    def parse_token_reply(self, reply: Any) -> TokenGrant:
        if reply.get("code") != CONSTANTS.SUCCESS_CODE:
            raise AuthenticationError(self.describe_token_error(reply))
        data = reply["data"]
        server = data["instanceServers"][0]
        return TokenGrant(token=data["token"], endpoint=server["endpoint"], ping_interval=server["pingInterval"] / 1000)

    def describe_token_error(self, body: Any) -> str:
        if isinstance(body, dict) and "msg" in body:
            return f"{body['msg']} (code {body.get('code')})"
        return super().describe_token_error(body)

    def is_clock_skew(self, reply: Any) -> bool:
        return isinstance(reply, dict) and reply.get("code") == CONSTANTS.CLOCK_SKEW_CODE

    def parse_server_time(self, body: Any) -> float:
        return float(body["data"]) / 1000

    def connection_query(self) -> Mapping[str, str]:
        # KuCoin echoes the connectId in its welcome and errors: one per connection tells them apart.
        return {"connectId": uuid.uuid4().hex}

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        # privateChannel: only this account's messages; response: acknowledge each subscribe.
        return [
            {"id": uuid.uuid4().hex, "type": "subscribe", "topic": topic, "privateChannel": True, "response": True}
            for topic in CONSTANTS.TOPICS
        ]

    def ping_message(self) -> OutgoingMessage | None:
        return {"id": uuid.uuid4().hex, "type": "ping"}

    def classify(self, message: Any) -> FrameKind:
        kind = message.get("type")
        if kind == "message":
            return FrameKind.USER_MESSAGE
        if kind == "ack":
            return FrameKind.SUBSCRIBED
        if kind == "welcome":
            return FrameKind.READY
        if kind == "pong":
            return FrameKind.CONTROL
        if kind == "error":
            if message.get("code") == CONSTANTS.TOKEN_INVALID_CODE:
                return FrameKind.RECONNECT
            return FrameKind.SUBSCRIBE_REJECTED
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        return f"{message.get('data')} (code {message.get('code')})"
