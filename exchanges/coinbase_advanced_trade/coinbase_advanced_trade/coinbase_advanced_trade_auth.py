"""Coinbase Advanced Trade's signing: an ES256 JWT, made with the CDP API key's EC private key, for each subscribe
and each REST request."""

import secrets
from collections.abc import Mapping
from typing import Any

from userstream.archetypes.signed_subscribe import Es256JwtAuth

from coinbase_advanced_trade import coinbase_advanced_trade_constants as CONSTANTS


class CoinbaseAdvancedTradeAuth(Es256JwtAuth):
    """A CDP API key: its name (``organizations/{org_id}/apiKeys/{key_id}``) and its EC private key (PEM).

    The private key is the secret. It is loaded here, so a secret that is not an EC P-256 key fails at
    once rather than as a reconnect loop.
    """

    __slots__ = ("rest_host",)

    def __init__(self, api_key: str, secret_key: str, passphrase: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key, secret_key, passphrase, **kwargs)
        self.rest_host: str = CONSTANTS.REST_HOST
        """The host REST requests go to, as a JWT's ``uri`` names it (the data source sets it from its ``rest_url``)."""

    def websocket_jwt(self) -> str:
        """A JWT for one subscribe, valid for two minutes from now (on Coinbase's clock)."""
        return self._jwt({})

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """``Authorization: Bearer`` a JWT for this one request: its ``uri`` is ``"{METHOD} {host}{path}"``."""
        path_only = path.split("?", 1)[0]  # the query is not part of the uri
        return {"Authorization": f"Bearer {self._jwt({'uri': f'{method.upper()} {self.rest_host}{path_only}'})}"}

    def _jwt(self, extra_claims: Mapping[str, str]) -> str:
        now = self.timestamp_s()
        claims = {"iss": CONSTANTS.JWT_ISSUER, "sub": self.api_key, "nbf": now, "exp": now + CONSTANTS.JWT_LIFETIME_S}
        # A random nonce makes every JWT unique, so none can be replayed.
        return self.es256_jwt({**claims, **extra_claims}, headers={"kid": self.api_key, "nonce": secrets.token_hex(16)})
