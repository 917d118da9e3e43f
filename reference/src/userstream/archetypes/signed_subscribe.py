"""The signed-subscribe archetype: every subscribe (or the one subscribe that doubles as the login) carries its own
signature, made at send time.

Binance spot's WebSocket API (``userDataStream.subscribe.signature``), Gate.io v4 (an ``auth`` object in each
subscribe) and Coinbase Advanced Trade (a two-minute ES256 JWT in each subscribe) all work this way. There is no key
or token to fetch and keep alive; what must be right is that a signature is never reused (each connection signs
afresh, with the clock offset the exchange last reported), that the reply to each signed request is checked, that a
rejected signature is reported in the exchange's words and retried with backoff, and that an exchange ending the
subscription (Binance ``eventStreamTerminated``) leads to a new connection that signs again.

A connector subclasses `SignedSubscribeDataSource` and fills in, as class attributes and small pure methods
(``CHANNELS``, `signed_subscribe`, `reply_verdict` and `is_user_message` are required, the rest optional):

==========================  ========================================================================================
``CHANNELS``                what to subscribe to, one signed request each (Gate: ``spot.orders``, ...)
``SIGNED_REQUEST_IS_LOGIN`` True when the signed request is the whole handshake (Binance): its ack is ``AUTH_OK``
`signed_subscribe`          the signed request for one channel, built from the auth at call time
`reply_verdict`             whether a frame is a reply to a signed request, and accepted or rejected
``REPLY_ID_FIELD``          the field a reply echoes its request's id in (or override `reply_id`); None: no id
`rejection_code`,           the exchange's code and words in a rejection
`rejection_text`
`is_user_message`           an order, fill or balance event
`is_stream_end`             the exchange ended the subscription (reconnect and sign again)
`is_control`                heartbeats and pongs
``AUTH_ERROR_CODES``        rejection codes that blame the credentials (None: every rejection does)
``CLOCK_SKEW_CODES``        rejection codes that blame our clock; with ``SERVER_TIME_PATH`` the loop re-measures it
==========================  ========================================================================================

Signing helpers for the schemes seen so far live here too: `sorted_query` (Binance-style ``k=v&...`` payloads) and
`Es256JwtAuth` (ES256 JWTs). The optional ``cryptography`` package is imported only when an `Es256JwtAuth` is
created, so this module and the rest of ``userstream`` work without it.
"""

from __future__ import annotations

import abc
import base64
import enum
import importlib
import itertools
import json
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from userstream.auth import MarketAuth
from userstream.conversation import Conversation
from userstream.data_source import UserStreamTrackerDataSource
from userstream.frames import SHAPE_ERRORS, FrameKind, OutgoingMessage, encode_message
from userstream.status import StreamState

if TYPE_CHECKING:
    # cryptography is optional: without it (and its types) the annotations below fall back to Any.
    from cryptography.hazmat.primitives.asymmetric.ec import (  # type: ignore[import-not-found,unused-ignore]
        EllipticCurvePrivateKey,
    )


class ReplyVerdict(enum.Enum):
    """How the exchange answered one signed request."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class SignedSubscribeDataSource(UserStreamTrackerDataSource):
    """A user stream whose subscribe requests are each signed when sent. See the module docstring for what to fill.

    Each connection gets new signatures: its `SignedRequests` conversation builds every signed request right before
    it is sent, never earlier. Replies are matched to the requests of that connection by id where the exchange
    echoes one, so a stray reply cannot complete a handshake it does not belong to; the ids die with the connection.

    This class implements `open_conversation`, `classify`, `describe_rejection` and `is_clock_skew`; a connector
    fills in the hooks above instead of overriding them. With ``SIGNED_REQUEST_IS_LOGIN``, ``CHANNELS`` names one
    request: the loop waits for a single ``AUTH_OK``.
    """

    CHANNELS: ClassVar[Sequence[str]] = ()
    SIGNED_REQUEST_IS_LOGIN: ClassVar[bool] = False
    AUTH_ERROR_CODES: ClassVar[frozenset[Any] | None] = None
    CLOCK_SKEW_CODES: ClassVar[frozenset[Any]] = frozenset()
    REPLY_ID_FIELD: ClassVar[str | None] = None
    """The field in which a reply echoes its request's id (Binance, Gate: ``id``); None if replies echo none."""

    def configure(self) -> None:
        # Checked here, not when connecting: a mistake in constants must not become a reconnect loop.
        if not self.CHANNELS:
            raise TypeError(f"{type(self).__name__} names no CHANNELS to subscribe to")
        if self.SIGNED_REQUEST_IS_LOGIN and len(self.CHANNELS) != 1:
            raise TypeError(
                f"{type(self).__name__}: a signed login is one request; CHANNELS names {len(self.CHANNELS)}"
            )

    # --- what a connector fills in ----------------------------------------------------------------------

    @abc.abstractmethod
    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        """The signed request for ``channel``, signed now (fresh timestamp, nonce or JWT).

        Put ``request_id`` in the message if the exchange echoes it in its reply (name the field in ``REPLY_ID_FIELD``).
        """

    @abc.abstractmethod
    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        """ACCEPTED or REJECTED if ``message`` answers a signed request, else None."""

    def reply_id(self, message: Any) -> Hashable | None:
        """The request id a reply echoes (its ``REPLY_ID_FIELD``), or None when the exchange echoes none."""
        if self.REPLY_ID_FIELD is None:
            return None
        request_id: Hashable | None = message.get(self.REPLY_ID_FIELD)
        return request_id

    def rejection_code(self, message: Any) -> Any:
        """The exchange's error code in a rejection (Binance -1022, Gate 4), or None if it gives none."""
        return None

    def rejection_text(self, message: Any) -> str:
        """The exchange's own words in a rejection or termination frame."""
        return self.quote(encode_message(message), 300)

    @abc.abstractmethod
    def is_user_message(self, message: Any) -> bool:
        """Whether ``message`` is an order, fill or balance event for the bot."""

    def is_stream_end(self, message: Any) -> bool:
        """Whether the exchange ended the subscription on purpose; the stream reconnects and signs again."""
        return False

    def is_control(self, message: Any) -> bool:
        """Heartbeats, pongs and info frames: they prove the connection is alive."""
        return False

    # --- the archetype's mechanics --------------------------------------------------------------------------

    def open_conversation(self) -> Conversation:
        return SignedRequests(self)

    def classify(self, message: Any) -> FrameKind:
        verdict = self.reply_verdict(message)
        if verdict is not None:
            return self.reply_kind(message, verdict)
        if self.is_stream_end(message):
            return FrameKind.RECONNECT
        if self.is_user_message(message):
            return FrameKind.USER_MESSAGE
        if self.is_control(message):
            return FrameKind.CONTROL
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        text = self.rejection_text(message)
        code = self._code_of(message)
        return text if code is None else f"{text} (code {code})"

    def is_clock_skew(self, reply: Any) -> bool:
        if not self.CLOCK_SKEW_CODES:
            return False
        try:
            return self.reply_verdict(reply) is ReplyVerdict.REJECTED and self._code_of(reply) in self.CLOCK_SKEW_CODES
        except SHAPE_ERRORS:  # a REST error body of another shape
            return False

    def reply_kind(self, message: Any, verdict: ReplyVerdict) -> FrameKind:
        """What a reply to a signed request means (before its conversation checks that it answers one of its own)."""
        if verdict is ReplyVerdict.ACCEPTED:
            return FrameKind.AUTH_OK if self.SIGNED_REQUEST_IS_LOGIN else FrameKind.SUBSCRIBED
        if self.SIGNED_REQUEST_IS_LOGIN or self._blames_credentials(message):
            # AUTH_REJECTED even in the subscribe phase: the loop then drops cached state, logs the exchange's
            # words at ERROR and, for a clock-skew code, re-measures the offset before signing again.
            return FrameKind.AUTH_REJECTED
        return FrameKind.SUBSCRIBE_REJECTED

    def _blames_credentials(self, message: Any) -> bool:
        if self.AUTH_ERROR_CODES is None:
            return True
        code = self._code_of(message)
        return code in self.AUTH_ERROR_CODES or code in self.CLOCK_SKEW_CODES

    def _code_of(self, message: Any) -> Any:
        try:
            return self.rejection_code(message)
        except SHAPE_ERRORS:
            return None


_REPLY_KINDS = (FrameKind.AUTH_OK, FrameKind.SUBSCRIBED, FrameKind.AUTH_REJECTED, FrameKind.SUBSCRIBE_REJECTED)


class SignedRequests(Conversation):
    """One connection's signed requests: signed as they are built, and the ids of those not yet answered."""

    def __init__(self, source: SignedSubscribeDataSource) -> None:
        super().__init__(source)
        self.source = source
        self._request_ids = itertools.count(1)
        self.awaiting: dict[Hashable, str] = {}
        """Request ids sent on this connection and not yet answered, with their channels."""

    def login_messages(self) -> Sequence[OutgoingMessage]:
        return self._signed_requests() if self.source.SIGNED_REQUEST_IS_LOGIN else ()

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        return () if self.source.SIGNED_REQUEST_IS_LOGIN else self._signed_requests()

    def interpret(self, kind: FrameKind, message: Any, phase: StreamState) -> FrameKind:
        if kind not in _REPLY_KINDS:
            return kind
        request_id = self.source.reply_id(message)
        if request_id is None:
            return kind
        if request_id not in self.awaiting:
            return FrameKind.CONTROL  # answers nothing sent on this connection: it must not complete (or fail) it
        del self.awaiting[request_id]
        return kind

    def _signed_requests(self) -> list[OutgoingMessage]:
        requests = []
        for channel in self.source.CHANNELS:
            request_id = next(self._request_ids)
            self.awaiting[request_id] = channel
            requests.append(self.source.signed_subscribe(channel, request_id))
        return requests


def sorted_query(params: Mapping[str, Any]) -> str:
    """``k=v`` pairs sorted by key and joined by ``&``: the payload Binance's WebSocket API signs.

    Example: ``{"timestamp": 1, "apiKey": "k"}`` gives ``"apiKey=k&timestamp=1"``. Booleans are written as JSON
    (``true``), everything else with ``str``.
    """
    return "&".join(f"{key}={_query_value(params[key])}" for key in sorted(params))


def _query_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


class Es256JwtAuth(MarketAuth):
    """Credentials whose secret is a PEM EC P-256 private key, signing ES256 JWTs (Coinbase Advanced Trade's scheme).

    Needs the optional ``cryptography`` package, imported when the auth is created: a missing package or a secret
    that is not an EC P-256 key fails there, at once, not as a reconnect loop. The key stays out of `repr` and logs
    like any secret.
    """

    __slots__ = ("_signing_key",)

    def __init__(self, api_key: str, secret_key: str, passphrase: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key, secret_key, passphrase, **kwargs)
        self._signing_key = load_es256_private_key(secret_key)

    def es256_jwt(self, claims: Mapping[str, Any], *, headers: Mapping[str, Any] | None = None) -> str:
        """A compact JWT of ``claims`` signed with the key: header ``{"alg": "ES256", "typ": "JWT", **headers}``."""
        header = {"alg": "ES256", "typ": "JWT", **(headers or {})}
        signing_input = f"{_b64url_json(header)}.{_b64url_json(claims)}"
        signature = self.conceal(_b64url(_sign_es256(self._signing_key, signing_input.encode())))
        return self.conceal(f"{signing_input}.{signature}")  # the whole token authenticates: never logged


def load_es256_private_key(pem: str) -> EllipticCurvePrivateKey:
    """The EC P-256 private key in ``pem``; ValueError if it is not one, ImportError if ``cryptography`` is missing."""
    _require_cryptography()
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found,unused-ignore]

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("the secret is not a PEM private key (expected '-----BEGIN EC PRIVATE KEY-----')") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs an EC P-256 (secp256r1) private key")
    return key


def _require_cryptography() -> None:
    try:
        importlib.import_module("cryptography")
    except ImportError:
        raise ImportError("ES256 JWT signing needs the 'cryptography' package: pip install cryptography") from None


def _sign_es256(key: EllipticCurvePrivateKey, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec, utils  # type: ignore[import-not-found,unused-ignore]

    # cryptography gives DER; a JWS carries r and s as two fixed-width big-endian integers (RFC 7518, 3.4).
    r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return bytes(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_json(value: Mapping[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())
