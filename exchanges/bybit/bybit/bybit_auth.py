"""Bybit's signing: the WebSocket auth (signed by the data source's LoginSignature) and REST request headers."""

from collections.abc import Mapping
from urllib.parse import urlsplit

from userstream import MarketAuth

from bybit import bybit_constants as CONSTANTS


class BybitAuth(MarketAuth):
    """A Bybit API key and its secret (HMAC keys; Bybit keys have no passphrase)."""

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """Bybit v5's REST headers: hex HMAC-SHA256 of timestamp + key + recv window + query string (GET) or body."""
        timestamp = str(self.timestamp_ms())
        payload = urlsplit(path).query if method.upper() == "GET" else body
        return {
            "X-BAPI-API-KEY": self.api_key,
            "X-BAPI-SIGN": self.hmac_sha256_hex(timestamp + self.api_key + CONSTANTS.RECV_WINDOW + payload),
            "X-BAPI-TIMESTAMP": timestamp,
            "X-BAPI-RECV-WINDOW": CONSTANTS.RECV_WINDOW,
        }
