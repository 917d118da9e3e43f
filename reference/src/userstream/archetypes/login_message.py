"""The login-message archetype: connect to a fixed URL, send a signed login, subscribe after its ack.

OKX v5, Bybit v5, Bitget and others authenticate a private stream this way. Nothing is fetched
over REST beforehand; what makes the block worth having is that the login is signed with a
timestamp taken *at send time* (so every reconnect, however late, signs afresh), that errors are
told apart by the phase they arrive in, that non-JSON keepalive frames (OKX's ``"pong"``) are
understood, and that a login refused for clock skew re-measures the exchange's clock once, however
many callers ask.

A connector subclasses `LoginMessageDataSource` and fills in constants and small pure methods:

==========================  ====================================================================
``LOGIN_SIGNATURE``         how the login is signed: a `LoginSignature` (required)
``login_message()``         the login frame, from a `SignedLogin` (required)
``SUBSCRIPTIONS``           the channel arguments to subscribe to (orders, fills, balances)
``subscribe_message()``     one subscribe frame for a batch of those arguments (required)
``classify_reply()``        what a decoded JSON frame means, as a `FrameKind` (required)
``ACK_PER_ARG``             True when the exchange acknowledges each argument, not each message
``MAX_ARGS_PER_SUBSCRIBE``  split the arguments over several messages when the exchange limits them
``PING``                    the app-level ping (a str goes out as raw text); None for protocol pings
``TEXT_FRAMES``             non-JSON frames the exchange sends that only prove liveness
``ERROR_TEXT_FIELD``        where a rejection carries the exchange's words (and ``ERROR_CODE_FIELD``)
``CLOCK_SKEW_CODES``        rejection codes (or ``CLOCK_SKEW_TEXTS``) that blame our clock
``SERVER_TIME_PATH``        the REST time endpoint, with ``parse_server_time()`` for its reply
==========================  ====================================================================

Example, the shape of an OKX v5 connector (see ``tests/archetypes/okx_connector.py``)::

    class OkxAPIUserStreamDataSource(LoginMessageDataSource):
        LOGIN_SIGNATURE = LoginSignature(
            "{timestamp}GET/users/self/verify", timestamp_unit="s", encoding="base64", requires_passphrase=True
        )
        SUBSCRIPTIONS = ({"channel": "orders", "instType": "SPOT"}, {"channel": "account"})
        ACK_PER_ARG = True
        PING = "ping"
        TEXT_FRAMES = frozenset({"pong"})
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from userstream.auth import Digest, Encoding, MarketAuth
from userstream.conversation import Conversation
from userstream.data_source import UserStreamTrackerDataSource
from userstream.frames import FrameKind, OutgoingMessage, decode_frame
from userstream.status import StreamState

__all__ = ["LoginMessageDataSource", "LoginSignature", "SignedLogin", "rejection_in_phase", "sign_login"]


@dataclass(frozen=True)
class LoginSignature:
    """How an exchange signs its WebSocket login: HMAC of a template holding one timestamp.

    OKX: ``LoginSignature("{timestamp}GET/users/self/verify", timestamp_unit="s", encoding="base64",
    requires_passphrase=True)``. Bybit signs an expiry moment rather than the current time:
    ``LoginSignature("GET/realtime{timestamp}", timestamp_unit="ms", valid_for=5.0)``.
    """

    prehash: str
    """The signed text, with ``{timestamp}`` where the timestamp goes."""
    timestamp_unit: Literal["s", "ms"] = "ms"
    valid_for: float = 0.0
    """Seconds added to the exchange's current time: for a scheme that signs an expiry (Bybit's ``expires``)."""
    digest: Digest = "sha256"
    encoding: Encoding = "hex"
    requires_passphrase: bool = False
    """The login carries the API key's passphrase (OKX): a `MarketAuth` without one is refused up front."""

    def __post_init__(self) -> None:
        if "{timestamp}" not in self.prehash:
            raise ValueError(f"prehash must contain '{{timestamp}}', got {self.prehash!r}")
        if self.valid_for < 0:
            raise ValueError(f"valid_for must not be negative, got {self.valid_for!r}")


@dataclass(frozen=True)
class SignedLogin:
    """The parts of one login, signed at the moment it is built. Its repr hides the passphrase and signature."""

    api_key: str
    timestamp: int
    """In the scheme's unit; for a scheme with ``valid_for``, the expiry moment."""
    signature: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)


def sign_login(auth: MarketAuth, scheme: LoginSignature) -> SignedLogin:
    """Sign a login now, on the exchange's clock as ``auth`` knows it (its measured offset included)."""
    moment = auth.now() + scheme.valid_for
    timestamp = int(moment) if scheme.timestamp_unit == "s" else int(moment * 1000)
    signature = auth.sign(scheme.prehash.format(timestamp=timestamp), digest=scheme.digest, encoding=scheme.encoding)
    return SignedLogin(api_key=auth.api_key, timestamp=timestamp, signature=signature, passphrase=auth.passphrase)


def rejection_in_phase(kind: FrameKind, phase: StreamState) -> FrameKind:
    """What a rejection means in the phase it arrives in, for an exchange with one error shape for everything."""
    if kind not in (FrameKind.AUTH_REJECTED, FrameKind.SUBSCRIBE_REJECTED):
        return kind
    if phase is StreamState.STREAMING:
        return FrameKind.RECONNECT  # nothing is pending once streaming: the exchange ended the stream
    if kind is FrameKind.AUTH_REJECTED and phase is StreamState.SUBSCRIBING:
        return FrameKind.SUBSCRIBE_REJECTED  # the login was acknowledged already
    return kind


class LoginConversation(Conversation):
    """A login-message connection: rejections read by the phase they arrive in (`rejection_in_phase`)."""

    def interpret(self, kind: FrameKind, message: Any, phase: StreamState) -> FrameKind:
        return rejection_in_phase(kind, phase)


class LoginMessageDataSource(UserStreamTrackerDataSource):
    """A user stream authenticated by a signed login message; subscriptions follow the login's ack.

    See the module docstring for what a connector fills in. Rejections are interpreted by phase:
    a connector whose exchange uses one error shape for everything (OKX ``{"event": "error"}``)
    returns `FrameKind.AUTH_REJECTED` for every error frame, and the block turns it into
    `FrameKind.SUBSCRIBE_REJECTED` once the login has been acknowledged, and into
    `FrameKind.RECONNECT` once streaming (the exchange ended the stream: reconnect, log in afresh).
    """

    LOGIN_SIGNATURE: ClassVar[LoginSignature]
    SUBSCRIPTIONS: ClassVar[Sequence[Any]] = ()
    ACK_PER_ARG: ClassVar[bool] = False
    MAX_ARGS_PER_SUBSCRIBE: ClassVar[int | None] = None
    PING: ClassVar[OutgoingMessage | None] = None
    TEXT_FRAMES: ClassVar[frozenset[str]] = frozenset()
    ERROR_TEXT_FIELD: ClassVar[str] = "msg"
    ERROR_CODE_FIELD: ClassVar[str | None] = "code"
    CLOCK_SKEW_CODES: ClassVar[frozenset[str]] = frozenset()
    CLOCK_SKEW_TEXTS: ClassVar[frozenset[str]] = frozenset()

    def configure(self) -> None:
        if not isinstance(getattr(self, "LOGIN_SIGNATURE", None), LoginSignature):
            raise TypeError(f"{type(self).__name__} must set LOGIN_SIGNATURE to a LoginSignature")
        self._require_auth()  # a missing key or passphrase is a configuration error: say so now, not per login
        if self.MAX_ARGS_PER_SUBSCRIBE is not None and self.MAX_ARGS_PER_SUBSCRIBE < 1:
            raise ValueError(f"MAX_ARGS_PER_SUBSCRIBE must be at least 1, got {self.MAX_ARGS_PER_SUBSCRIBE!r}")

    # --- what a connector fills in ----------------------------------------------------------------

    @abc.abstractmethod
    def login_message(self, login: SignedLogin) -> OutgoingMessage:
        """The login frame carrying ``login`` (pure: no clock, no I/O)."""

    @abc.abstractmethod
    def subscribe_message(self, args: Sequence[Any]) -> OutgoingMessage:
        """One subscribe frame for ``args``, a batch of `subscription_args()`."""

    @abc.abstractmethod
    def classify_reply(self, message: Any) -> FrameKind:
        """What a decoded JSON frame means. Text frames listed in ``TEXT_FRAMES`` never reach it."""

    def subscription_args(self) -> Sequence[Any]:
        """The channel arguments to subscribe to; ``SUBSCRIPTIONS`` unless overridden (e.g. from configuration)."""
        return self.SUBSCRIPTIONS

    # --- the data source's hooks, wired for this archetype ------------------------------------------

    def signed_login(self) -> SignedLogin:
        """A login signed now. Called once per connection, right before the login is sent."""
        return sign_login(self._require_auth(), self.LOGIN_SIGNATURE)

    def login_messages(self) -> Sequence[OutgoingMessage]:
        return [self.login_message(self.signed_login())]

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        args = list(self.subscription_args())
        size = self.MAX_ARGS_PER_SUBSCRIBE or max(len(args), 1)
        return [self.subscribe_message(args[start : start + size]) for start in range(0, len(args), size)]

    def expected_subscribe_acks(self, messages: Sequence[OutgoingMessage]) -> int:
        return len(self.subscription_args()) if self.ACK_PER_ARG else len(messages)

    def ping_message(self) -> OutgoingMessage | None:
        return self.PING

    def decode_frame(self, data: str | bytes) -> Any:
        text = data.decode() if isinstance(data, bytes) else data
        if text in self.TEXT_FRAMES:
            return text
        return decode_frame(text)

    def classify(self, message: Any) -> FrameKind:
        if isinstance(message, str):
            return FrameKind.CONTROL if message in self.TEXT_FRAMES else FrameKind.MALFORMED
        if not isinstance(message, Mapping):
            return FrameKind.MALFORMED
        return self.classify_reply(message)

    def open_conversation(self) -> Conversation:
        return LoginConversation(self)

    def describe_rejection(self, message: Any) -> str:
        if isinstance(message, Mapping):
            text = message.get(self.ERROR_TEXT_FIELD)
            code = message.get(self.ERROR_CODE_FIELD) if self.ERROR_CODE_FIELD else None
            if text:
                return f"{text} (code {code})" if code not in (None, "") else str(text)
        return super().describe_rejection(message)

    def is_clock_skew(self, reply: Any) -> bool:
        if not isinstance(reply, Mapping):
            return False
        code = reply.get(self.ERROR_CODE_FIELD) if self.ERROR_CODE_FIELD else None
        return str(code) in self.CLOCK_SKEW_CODES or str(reply.get(self.ERROR_TEXT_FIELD)) in self.CLOCK_SKEW_TEXTS

    # --- internals ----------------------------------------------------------------------------------

    def _require_auth(self) -> MarketAuth:
        if self.auth is None:
            raise ValueError(f"{type(self).__name__} signs a login message and needs a MarketAuth")
        if self.LOGIN_SIGNATURE.requires_passphrase and not self.auth.passphrase:
            raise ValueError(
                f"{type(self).__name__} logs in with the API key's passphrase: MarketAuth(api_key, secret, passphrase)"
            )
        return self.auth
