"""OKX's signing: the WebSocket login (signed by the data source's LoginSignature) and REST request headers."""

from collections.abc import Mapping

from userstream import MarketAuth


class OkxAuth(MarketAuth):
    """An OKX API key, its secret and its passphrase (OKX keys always have one)."""

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """OKX's REST headers: base64 HMAC-SHA256 of ISO timestamp + method + path (with query) + body."""
        if self.passphrase is None:
            raise ValueError("OKX API keys come with a passphrase: OkxAuth(api_key, secret, passphrase)")
        timestamp = self.timestamp_iso()
        return {
            "OK-ACCESS-KEY": self.api_key,
            "OK-ACCESS-SIGN": self.hmac_sha256_base64(timestamp + method.upper() + path + body),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-PASSPHRASE": self.passphrase,
        }
