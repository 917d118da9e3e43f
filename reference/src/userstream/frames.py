"""The vocabulary between the I/O loop and an exchange's pure message functions."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from aiohttp import WSMessage

SHAPE_ERRORS = (ValueError, LookupError, TypeError, AttributeError, RecursionError)
"""What an exchange-supplied decode, classify or parse function raises on a message of unexpected shape
(RecursionError: JSON nested deeper than the decoder goes)."""
PARSE_ERRORS = (*SHAPE_ERRORS, ArithmeticError)
"""`SHAPE_ERRORS` and a bad amount: ``decimal.InvalidOperation`` is an ArithmeticError."""

OutgoingMessage = str | Mapping[str, Any] | Sequence[Any]
"""What a connector asks the loop to send: a str goes out as-is (OKX's ``"ping"``), anything else as compact JSON."""


class FrameKind(enum.Enum):
    """What an incoming frame means to the loop. Every frame, whatever its kind, moves `last_recv_time`."""

    USER_MESSAGE = "user_message"
    """An order, fill or balance event: put on the user stream."""
    CONTROL = "control"
    """A pong, heartbeat, welcome or info frame: proves the connection is alive, nothing more."""
    READY = "ready"
    """The exchange's greeting that says the connection may be used (KuCoin's ``welcome``)."""
    AUTH_OK = "auth_ok"
    AUTH_REJECTED = "auth_rejected"
    SUBSCRIBED = "subscribed"
    SUBSCRIBE_REJECTED = "subscribe_rejected"
    RECONNECT = "reconnect"
    """The exchange ended this stream on purpose (expired key or token): reconnect with fresh credentials."""
    CLOSING_SOON = "closing_soon"
    """The exchange announced it will close this connection soon and keeps delivering on it meanwhile (OKX 64008,
    Binance ``serverShutdown``): a successor connection is opened and subscribed first, then this one is closed."""
    MALFORMED = "malformed"
    """Valid JSON with a shape the connector does not expect: counted and skipped."""


@dataclass(frozen=True)
class ConnectionTarget:
    """Where to connect, decided afresh before every connection (a token or key may be part of it)."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    ping_interval: float | None = None
    """The exchange's own ping interval when it dictates one (KuCoin's token response does)."""


class WebSocketLike(Protocol):
    """The part of aiohttp's client WebSocket the loop uses; `userstream.testing.MemoryWebSocket` has it too."""

    @property
    def closed(self) -> bool: ...

    @property
    def close_code(self) -> int | None: ...

    async def receive(self, timeout: float | None = None) -> WSMessage: ...

    async def send_str(self, data: str) -> None: ...

    async def ping(self, message: bytes = b"") -> None: ...

    async def pong(self, message: bytes = b"") -> None: ...

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool: ...

    def exception(self) -> BaseException | None: ...


decode_frame = orjson.loads
"""JSON text (str or bytes) to Python objects; raises ValueError (``orjson.JSONDecodeError``) for invalid JSON.

orjson, chosen by measurement (docs/performance.md): the fastest decoder of the frames exchanges send. Like the
JSON spec and unlike the stdlib, it refuses ``NaN`` and ``Infinity``, and it nests at most 1024 levels deep."""


def decode_reply(text: str) -> Any:
    """A REST reply's body as JSON, or the text itself when it is not JSON (an HTML error page, say)."""
    if not text:
        return None
    try:
        return decode_frame(text)
    except ValueError:
        return text


def encode_message(message: OutgoingMessage) -> str:
    """A message as the text frame sent: a str as it is, anything else as compact JSON."""
    if isinstance(message, str):
        return message
    return orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS).decode()


def excerpt(data: str | bytes, limit: int = 120) -> str:
    """A short, printable excerpt of a frame for a log line."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"
