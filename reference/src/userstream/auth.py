"""Credentials and the signing primitives every exchange's scheme is built from."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, quote_plus

Digest = Literal["sha256", "sha512"]
Encoding = Literal["hex", "base64"]

_DIGESTS: dict[str, Callable[[], Any]] = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_REDACTED = "***"
_REMEMBERED_VALUES = 1024
"""How many forms of signatures, tokens and keys `redact` remembers: older ones have long expired."""
_SHORTEST_CONCEALED = 8
"""Shorter values (a nonce, a version number) are not credentials, and blanking them would garble logs."""


class MarketAuth:
    """An exchange account's API credentials and how to sign with them.

    Subclass it per exchange and override `rest_auth_headers` (signed REST calls) and
    `ws_login_payload` (WebSocket login or signed subscribe). Timestamps honour the measured
    offset to the exchange's clock, so a machine whose clock drifts still signs requests the
    exchange accepts (Binance -1021, KuCoin "Invalid KC-API-TIMESTAMP").

    The secret and passphrase never appear in `repr`, `str` or `redact`ed text, and neither does any
    value derived from them or handed out for the account: every signature `sign` makes is remembered,
    and the data source `conceal`s the tokens, listen keys and signed headers it puts into requests.
    """

    __slots__ = ("_api_key", "_clock", "_concealed", "_passphrase", "_secret", "_time_offset")

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        passphrase: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        if not secret_key:
            raise ValueError("secret_key must not be empty")
        self._api_key = api_key
        self._secret = secret_key.encode()
        self._passphrase = passphrase
        self._clock = clock
        self._time_offset = 0.0
        self._concealed: OrderedDict[str, None] = OrderedDict()

    def __repr__(self) -> str:
        passphrase = _REDACTED if self._passphrase else None
        return f"{type(self).__name__}(api_key={_mask(self._api_key)!r}, secret_key='***', passphrase={passphrase!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} holds credentials and cannot be pickled")

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def passphrase(self) -> str | None:
        return self._passphrase

    # --- time -------------------------------------------------------------------------------

    @property
    def time_offset(self) -> float:
        """Exchange clock minus local clock, in seconds."""
        return self._time_offset

    def set_time_offset(self, offset_seconds: float) -> None:
        self._time_offset = offset_seconds

    def record_server_time(self, server_time: float, *, sent_at: float, received_at: float) -> float:
        """Set the offset from one time-endpoint round trip and return it.

        ``server_time`` is the exchange's clock in seconds; ``sent_at`` and ``received_at`` are
        the local clock around the request. The server read its clock about half-way through.
        """
        self._time_offset = server_time - (sent_at + received_at) / 2
        return self._time_offset

    def now(self) -> float:
        """The exchange's current time in seconds, as best we know it."""
        return self._clock() + self._time_offset

    def timestamp_ms(self) -> int:
        return int(self.now() * 1000)

    def timestamp_s(self) -> int:
        return int(self.now())

    def timestamp_iso(self) -> str:
        """ISO 8601 in UTC with milliseconds and a ``Z``, e.g. ``2026-11-24T23:05:50.123Z`` (OKX REST)."""
        moment = datetime.fromtimestamp(self.now(), tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    # --- signing ----------------------------------------------------------------------------

    def sign(
        self,
        payload: str | bytes,
        *,
        digest: Digest = "sha256",
        encoding: Encoding = "hex",
        secret_is_base64: bool = False,
    ) -> str:
        """HMAC of ``payload`` keyed with the secret.

        ``secret_is_base64`` keys it with the base64-decoded secret instead (Kraken's scheme).
        """
        data = payload.encode() if isinstance(payload, str) else payload
        try:
            key = base64.b64decode(self._secret, validate=True) if secret_is_base64 else self._secret
        except ValueError:
            raise ValueError("the secret is not valid base64") from None
        try:
            mac = hmac.new(key, data, _DIGESTS[digest])
        except KeyError:
            raise ValueError(f"unknown digest {digest!r}; expected one of {sorted(_DIGESTS)}") from None
        if encoding == "hex":
            signature = mac.hexdigest()
        elif encoding == "base64":
            signature = base64.b64encode(mac.digest()).decode()
        else:
            raise ValueError(f"unknown encoding {encoding!r}; expected 'hex' or 'base64'")
        return self.conceal(signature)

    def hmac_sha256_hex(self, payload: str | bytes) -> str:
        return self.sign(payload, digest="sha256", encoding="hex")

    def hmac_sha256_base64(self, payload: str | bytes) -> str:
        return self.sign(payload, digest="sha256", encoding="base64")

    def hmac_sha512_hex(self, payload: str | bytes) -> str:
        return self.sign(payload, digest="sha512", encoding="hex")

    def hmac_sha512_base64(self, payload: str | bytes) -> str:
        return self.sign(payload, digest="sha512", encoding="base64")

    def conceal(self, value: str) -> str:
        """Remember ``value`` (a signature, token or listen key) so that `redact` blanks it out; return it.

        The most recent values are remembered, also in their percent-encoded form; values shorter than 8
        characters are not credentials and are left alone.
        """
        if len(value) >= _SHORTEST_CONCEALED:
            # As written, and as a query string may carry it (an error page may echo the request's URL).
            for form in {value, quote(value, safe=""), quote(value), quote_plus(value)}:
                self._concealed[form] = None
                self._concealed.move_to_end(form)
            while len(self._concealed) > _REMEMBERED_VALUES:
                self._concealed.popitem(last=False)
        return value

    def redact(self, text: str) -> str:
        """``text`` with the secret, the passphrase and every concealed value blanked out.

        For every text that leaves the process: log lines, `status` errors, exception messages.
        """
        for secret in (self._secret.decode(), self._passphrase):
            if secret:
                text = text.replace(secret, _REDACTED)
        if self._concealed and any(value in text for value in self._concealed):
            # Longest first: a value that contains another is blanked whole.
            for value in sorted(self._concealed, key=len, reverse=True):
                text = text.replace(value, _REDACTED)
        return text

    # --- the exchange's scheme: override per exchange ----------------------------------------

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """Headers that authenticate one REST request (``path`` includes the query string)."""
        raise NotImplementedError(f"{type(self).__name__} does not sign REST requests; override rest_auth_headers()")

    def rest_auth_params(self, method: str, path: str, params: Mapping[str, str]) -> Mapping[str, str]:
        """The query parameters of one signed REST request, for an exchange that signs in the query (Binance adds
        ``timestamp`` and ``signature``). Called before `rest_auth_headers`, which then sees the final query."""
        return params

    def ws_login_payload(self) -> Any:
        """The JSON payload that authenticates a WebSocket connection, built fresh (new timestamp) each call."""
        raise NotImplementedError(f"{type(self).__name__} has no WebSocket login; override ws_login_payload()")


def _mask(api_key: str) -> str:
    """Enough of a key to tell two accounts apart in a log, not enough to use it."""
    return api_key[:4] + "…" if len(api_key) > 8 else _REDACTED
