"""Kraken's signing: REST request headers (the token call is one such request), with the nonce they carry."""

import base64
import binascii
import hashlib
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, parse_qsl, urlencode

from userstream import MarketAuth


class KrakenAuth(MarketAuth):
    """A Kraken API key and its private key, base64 as Kraken shows it (Kraken keys have no passphrase)."""

    def __init__(self, api_key: str, secret_key: str, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(api_key, secret_key, clock=clock)
        try:
            base64.b64decode(secret_key, validate=True)
        except binascii.Error:
            raise ValueError("a Kraken private key is base64, as Kraken shows it; this secret_key is not") from None
        self._last_nonce = 0

    def nonce(self) -> int:
        """Milliseconds, but strictly increasing: Kraken refuses a nonce not above the last one (EAPI:Invalid nonce)."""
        self._last_nonce = max(self._last_nonce + 1, self.timestamp_ms())
        return self._last_nonce

    def form_with_nonce(self, body: str | None = None) -> str:
        """The form ``body`` of a private call (``ofs=50&start=...``, or none) with a fresh nonce."""
        return urlencode({**dict(parse_qsl(body or "")), "nonce": str(self.nonce())})

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """Kraken's REST headers: base64 HMAC-SHA512, keyed with the decoded secret, of path + SHA-256(nonce + body)."""
        nonce = parse_qs(body)["nonce"][0]
        message = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
        signature = self.sign(message, digest="sha512", encoding="base64", secret_is_base64=True)
        return {"API-Key": self.api_key, "API-Sign": signature}
