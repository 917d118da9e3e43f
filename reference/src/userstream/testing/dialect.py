"""How the fake exchange speaks: pure functions that recognise a client's messages and build replies.

`ReferenceDialect` is the kit's own small, documented protocol (and the demo exchange's). An
exchange-shaped dialect (OKX, Binance, ...) subclasses `Dialect` and overrides what differs;
the server loop in `fake_exchange` stays the same for all of them.
"""

from __future__ import annotations

import abc
import enum
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Credentials:
    """The account the fake exchange accepts."""

    api_key: str = "test-api-key"
    secret: str = "test-secret"
    passphrase: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key!r}, secret='***', passphrase={'***' if self.passphrase else None!r})"


class ClientIntent(enum.Enum):
    LOGIN = "login"
    SUBSCRIBE = "subscribe"
    PING = "ping"
    OTHER = "other"


class Dialect(abc.ABC):
    """The exchange-specific half of the fake exchange: recognising and answering messages, no I/O.

    A dialect may keep the exchange's own state (the listen keys or tokens it issued); the REST
    routes that issue them are installed on a `FakeExchange` by the dialect's module.
    """

    requires_login = True
    """Whether a subscribe before a successful login is refused."""

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        """Why a WebSocket upgrade to ``path?query`` must be refused (HTTP 401), or None to accept it.

        Listen-key and token exchanges put the credential in the URL; this is where it is checked.
        """
        return None

    def greeting(self) -> list[Any]:
        """Frames the exchange sends as soon as a connection opens (KuCoin's ``welcome``)."""
        return []

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        """Why a subscribe must be refused (a per-message signature, a token), or None to accept it."""
        return None

    def parse(self, text: str) -> Any:
        """A client frame as data: JSON where it is JSON, else the raw text (OKX's ``"ping"``)."""
        try:
            return json.loads(text)
        except ValueError:
            return text

    @abc.abstractmethod
    def classify_client(self, message: Any) -> ClientIntent:
        """What the client is asking for."""

    @abc.abstractmethod
    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        """Why this login must be refused, or None to accept it."""

    @abc.abstractmethod
    def login_ack(self, message: Any) -> Any:
        """The reply to an accepted login."""

    @abc.abstractmethod
    def login_rejection(self, message: Any, reason: str) -> Any:
        """The reply to a refused login, carrying ``reason``."""

    @abc.abstractmethod
    def subscribe_replies(self, message: Any) -> list[Any]:
        """The acknowledgements (or errors) answering one subscribe message."""

    @abc.abstractmethod
    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        """The reply to a refused subscribe, carrying ``reason``."""

    @abc.abstractmethod
    def pong(self, message: Any) -> Any:
        """The reply to an app-level ping."""

    @abc.abstractmethod
    def heartbeat(self) -> Any:
        """A frame the exchange sends on its own to show the connection is alive."""

    @abc.abstractmethod
    def user_event(self, channel: str, data: Any) -> Any:
        """A user event on ``channel`` as the exchange would push it."""


_REFERENCE_OPS = {"login": ClientIntent.LOGIN, "subscribe": ClientIntent.SUBSCRIBE, "ping": ClientIntent.PING}


class ReferenceDialect(Dialect):
    """The kit's reference protocol, a distillation of the login-message exchanges (OKX, Bybit).

    =================  ==================================================================================
    client login       ``{"op": "login", "args": {"api_key": K, "timestamp": ms, "signature": S}}``,
                       ``S`` = hex HMAC-SHA256(secret, ``f"{timestamp}GET/users/self/verify"``)
    login ack          ``{"event": "login", "code": 0}``
    login rejected     ``{"event": "error", "code": 401, "msg": reason}``
    client subscribe   ``{"op": "subscribe", "channel": C}`` (one channel per message)
    subscribe ack      ``{"event": "subscribed", "channel": C}``
    subscribe refused  ``{"event": "error", "code": 403, "msg": reason}``
    client ping        ``{"op": "ping"}``, answered by ``{"op": "pong"}``
    server heartbeat   ``{"event": "heartbeat"}``
    user event         ``{"channel": C, "data": {...}}``
    =================  ==================================================================================
    """

    CHANNELS = ("orders", "fills", "balances")
    RECV_WINDOW_MS = 5_000

    @staticmethod
    def signature_payload(timestamp_ms: int) -> str:
        return f"{timestamp_ms}GET/users/self/verify"

    def signature(self, secret: str, payload: str) -> str:
        """The signature the exchange expects for ``payload``: hex HMAC-SHA256 here; variants override it."""
        return hmac.new(secret.encode(), payload.encode(), "sha256").hexdigest()

    def classify_client(self, message: Any) -> ClientIntent:
        op = message.get("op") if isinstance(message, dict) else None
        return _REFERENCE_OPS.get(op, ClientIntent.OTHER) if isinstance(op, str) else ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        args = message.get("args")
        if not isinstance(args, dict):
            return "login args must be an object"
        return self.check_signed_fields(args, self.signature_payload, credentials, server_time)

    def check_signed_fields(
        self,
        fields: Mapping[str, Any],
        payload: Callable[[int], str],
        credentials: Credentials,
        server_time: float,
    ) -> str | None:
        """Why the ``api_key``, ``timestamp`` and ``signature`` of ``fields`` are refused, or None to accept them.

        ``payload(timestamp)`` is the text that was signed. The login's args are checked this way; the
        reference protocol's other archetypes check their signed subscribes and REST headers the same way.
        """
        if fields.get("api_key") != credentials.api_key:
            return "invalid api key"
        timestamp = fields.get("timestamp")
        if not isinstance(timestamp, int) or isinstance(timestamp, bool):
            return "timestamp must be an integer of milliseconds"
        if abs(timestamp - server_time * 1000) > self.RECV_WINDOW_MS:
            return "timestamp outside the recv window"
        expected = self.signature(credentials.secret, payload(timestamp))
        if not hmac.compare_digest(str(fields.get("signature")), expected):
            return "invalid signature"
        return None

    def login_ack(self, message: Any) -> Any:
        return {"event": "login", "code": 0}

    def login_rejection(self, message: Any, reason: str) -> Any:
        return {"event": "error", "code": 401, "msg": reason}

    def subscribe_replies(self, message: Any) -> list[Any]:
        channel = message.get("channel")
        if channel not in self.CHANNELS:
            return [self.subscribe_rejection(message, f"unknown channel {channel!r}")]
        return [{"event": "subscribed", "channel": channel}]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return {"event": "error", "code": 403, "msg": reason}

    def pong(self, message: Any) -> Any:
        return {"op": "pong"}

    def heartbeat(self) -> Any:
        return {"event": "heartbeat"}

    def user_event(self, channel: str, data: Any) -> Any:
        return {"channel": channel, "data": data}
