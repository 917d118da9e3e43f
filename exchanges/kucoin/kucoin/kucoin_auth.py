"""KuCoin's signing: REST request headers for API keys of version 2 (the token call is one such request)."""

from collections.abc import Mapping

from userstream import MarketAuth

from kucoin import kucoin_constants as CONSTANTS


class KucoinAuth(MarketAuth):
    """A KuCoin API key, its secret and its passphrase (KuCoin keys always have one)."""

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """KuCoin's REST headers: base64 HMAC-SHA256 of ms timestamp + method + path (with query) + body."""
        if self.passphrase is None:
            raise ValueError("KuCoin API keys come with a passphrase: KucoinAuth(api_key, secret, passphrase)")
        timestamp = str(self.timestamp_ms())
        return {
            "KC-API-KEY": self.api_key,
            "KC-API-SIGN": self.hmac_sha256_base64(timestamp + method.upper() + path + body),
            "KC-API-TIMESTAMP": timestamp,
            "KC-API-PASSPHRASE": self.hmac_sha256_base64(self.passphrase),
            "KC-API-KEY-VERSION": CONSTANTS.API_KEY_VERSION,
        }
