"""Binance USDⓈ-M futures signing: the user stream needs only the API key; signed REST calls add an HMAC."""

from typing import Any
from urllib.parse import urlencode

from userstream import MarketAuth


class BinanceFuturesAuth(MarketAuth):
    """A Binance HMAC API key and its secret.

    The listen key is created with the API key alone (sent in ``X-MBX-APIKEY`` by the data source); the
    secret signs REST calls such as placing orders or reading the account.
    """

    def signed_params(self, **params: Any) -> dict[str, Any]:
        """``params`` with ``timestamp`` (now, on Binance's clock) and ``signature``.

        The signature is a hex HMAC-SHA256 of the query string in this order: send the parameters as returned.
        """
        signed: dict[str, Any] = {**params, "timestamp": self.timestamp_ms()}
        signed["signature"] = self.hmac_sha256_hex(urlencode(signed))
        return signed
