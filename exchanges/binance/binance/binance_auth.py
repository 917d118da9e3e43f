"""Binance's signing: hex HMAC-SHA256 over the request's parameters sorted by name, as the WebSocket API verifies it."""

from typing import Any

from userstream import MarketAuth
from userstream.archetypes.signed_subscribe import sorted_query


class BinanceAuth(MarketAuth):
    """A Binance HMAC API key and its secret (Ed25519 and RSA keys sign differently)."""

    def signed_params(self, **params: Any) -> dict[str, Any]:
        """``params`` with ``apiKey``, ``timestamp`` (now, on Binance's clock) and their ``signature``."""
        signed: dict[str, Any] = {"apiKey": self.api_key, **params, "timestamp": self.timestamp_ms()}
        signed["signature"] = self.hmac_sha256_hex(sorted_query(signed))
        return signed
