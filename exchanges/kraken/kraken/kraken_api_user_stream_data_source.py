"""Kraken's spot private user stream (WebSocket API v1): a token minted over REST, in each subscribe.

The token per connection, its single-flight fetch and reconnects come from userstream's REST-token
archetype; what is here is Kraken's message shapes.
"""

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode

from userstream import AuthenticationError, FrameKind, OutgoingMessage, RestError, StreamTimings
from userstream.archetypes.rest_token import RestTokenDataSource, TokenGrant

from kraken import kraken_constants as CONSTANTS
from kraken.kraken_auth import KrakenAuth


class KrakenAPIUserStreamDataSource(RestTokenDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    TOKEN_PATH: ClassVar[str] = CONSTANTS.TOKEN_PATH

    def configure(self) -> None:
        super().configure()
        if not isinstance(self.auth, KrakenAuth):
            raise TypeError(
                f"{type(self).__name__} signs its token call with KrakenAuth, which keeps the nonce Kraken checks"
            )
        self._kraken_auth = self.auth
        self._reqids = itertools.count(1)

    def token_request_body(self) -> str:
        return urlencode({"nonce": self._kraken_auth.nonce()})

    def token_request_headers(self) -> Mapping[str, str]:
        return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def parse_token_reply(self, reply: Any) -> TokenGrant:
        # Kraken answers errors with HTTP 200 and says what went wrong in "error".
        errors = reply.get("error") or []
        if any(error.startswith(CONSTANTS.KEY_ERROR_PREFIXES) for error in errors):
            raise AuthenticationError(", ".join(errors))
        if errors:
            raise RestError("POST", self.TOKEN_PATH, 200, reply)
        result = reply["result"]
        return TokenGrant(token=result["token"], expires_in=float(result["expires"]))

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        # The token goes in every subscribe: the connection itself is anonymous.
        return [
            {
                "event": "subscribe",
                "subscription": {"name": name, "token": self.token},
            }
            for name in CONSTANTS.CHANNELS
        ]

    def ping_message(self) -> OutgoingMessage | None:
        return {"event": "ping", "reqid": next(self._reqids)}

    def classify(self, message: Any) -> FrameKind:
        # Feed data comes as an array: [payload, channel name, {"sequence": n}].
        if isinstance(message, list):
            return FrameKind.USER_MESSAGE if message[1] in CONSTANTS.CHANNELS else FrameKind.MALFORMED
        event = message.get("event")
        if event == "subscriptionStatus":
            status = message.get("status")
            if status == "subscribed":
                return FrameKind.SUBSCRIBED
            if status == "unsubscribed":
                return FrameKind.RECONNECT  # Kraken ended the feed: subscribe again, with a fresh token
            return FrameKind.SUBSCRIBE_REJECTED
        if event in ("heartbeat", "pong", "systemStatus"):
            return FrameKind.CONTROL
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        if isinstance(message, dict) and "errorMessage" in message:
            return f"{message['errorMessage']} ({message.get('subscription', {}).get('name')})"
        return super().describe_rejection(message)
