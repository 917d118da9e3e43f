"""Why a connection ended. The reconnect loop catches every one of these and backs off."""

from __future__ import annotations

from collections.abc import Callable


class UserStreamError(Exception):
    """Base class of the errors that end one connection of a user stream."""


class ConnectionLost(UserStreamError):
    """The socket closed or failed (TCP reset, close frame, transport error)."""

    def __init__(self, reason: str, *, close_code: int | None = None) -> None:
        super().__init__(reason)
        self.close_code = close_code


class StaleConnection(UserStreamError):
    """No frame at all arrived for `stale_after` seconds: TCP may say open, the stream is dead."""


class HandshakeTimeout(UserStreamError):
    """The exchange did not acknowledge the login or a subscription in time."""


class AuthenticationError(UserStreamError):
    """The exchange rejected the credentials; the message is the exchange's own words."""

    def __init__(self, reason: str, *, clock_skew: bool = False) -> None:
        super().__init__(reason)
        self.clock_skew = clock_skew
        """The exchange refused the timestamp: the clock offset was re-measured before the retry."""


class SubscriptionError(UserStreamError):
    """The exchange rejected a subscription."""


class ServerRequestedReconnect(UserStreamError):
    """The exchange ended the stream on purpose (expired key or token, maintenance)."""


class RestError(UserStreamError):
    """A REST call answered with an error status; ``body`` is the exchange's decoded reply.

    The message quotes the body through ``redact`` (an error page may echo the request's signed
    headers); ``body`` itself is kept as received, for code that reads the exchange's error code.
    """

    def __init__(
        self, method: str, path: str, status: int, body: object, *, redact: Callable[[str], str] = str
    ) -> None:
        super().__init__(f"{method} {path} failed with HTTP {status}: {redact(repr(body))[:300]}")
        self.method = method
        self.path = path
        self.status = status
        self.body = body
