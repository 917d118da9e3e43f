"""Binance USDⓈ-M futures signing: the user stream needs only the API key; signed REST calls add an HMAC."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from userstream import MarketAuth

from binance_futures import binance_futures_constants as CONSTANTS


class BinanceFuturesAuth(MarketAuth):
    """A Binance HMAC API key and its secret.

    The listen key is created with the API key alone (sent in ``X-MBX-APIKEY`` by the data source); the
    secret signs REST calls such as placing orders or reading the account.
    """

    def signed_params(self, **params: Any) -> dict[str, Any]:
        """``params`` with ``timestamp`` (now, on Binance's clock) and ``signature``.

        The signature is a hex HMAC-SHA256 of the query string in this order: send the parameters as returned.
        """
        return self._signed(params)

    def rest_auth_params(self, method: str, path: str, params: Mapping[str, str]) -> Mapping[str, str]:
        """A SIGNED endpoint's query: ``params``, ``recvWindow``, ``timestamp``, then their ``signature``."""
        signed = self._signed({**params, "recvWindow": params.get("recvWindow", CONSTANTS.RECV_WINDOW_MS)})
        return {name: str(value) for name, value in signed.items()}

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """The API key names the account on every SIGNED (and USER_STREAM) call."""
        return {CONSTANTS.API_KEY_HEADER: self.api_key}

    def _signed(self, params: Mapping[str, Any]) -> dict[str, Any]:
        signed: dict[str, Any] = {**params, "timestamp": self.timestamp_ms()}
        signed["signature"] = self.hmac_sha256_hex(urlencode(signed))
        return signed
