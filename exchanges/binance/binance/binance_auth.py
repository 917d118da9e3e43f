"""Binance's signing: hex HMAC-SHA256, over the parameters sorted by name on the WebSocket API, over the query
string as sent on REST."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from userstream import MarketAuth
from userstream.archetypes.signed_subscribe import sorted_query

from binance import binance_constants as CONSTANTS


class BinanceAuth(MarketAuth):
    """A Binance HMAC API key and its secret (Ed25519 and RSA keys sign differently)."""

    def signed_params(self, **params: Any) -> dict[str, Any]:
        """``params`` with ``apiKey``, ``timestamp`` (now, on Binance's clock) and their ``signature``."""
        signed: dict[str, Any] = {"apiKey": self.api_key, **params, "timestamp": self.timestamp_ms()}
        signed["signature"] = self.hmac_sha256_hex(sorted_query(signed))
        return signed

    def rest_auth_params(self, method: str, path: str, params: Mapping[str, str]) -> Mapping[str, str]:
        """``params``, ``timestamp`` and ``signature``: the HMAC of the percent-encoded query string, in its order."""
        signed = {**params, "timestamp": str(self.timestamp_ms())}
        signed["signature"] = self.hmac_sha256_hex(urlencode(signed))
        return signed

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        return {CONSTANTS.API_KEY_HEADER: self.api_key}
