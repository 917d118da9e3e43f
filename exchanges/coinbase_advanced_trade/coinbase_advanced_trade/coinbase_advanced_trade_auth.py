"""Coinbase Advanced Trade's signing: an ES256 JWT, made with the CDP API key's EC private key, for each subscribe."""

import secrets

from userstream.archetypes.signed_subscribe import Es256JwtAuth

from coinbase_advanced_trade import coinbase_advanced_trade_constants as CONSTANTS


class CoinbaseAdvancedTradeAuth(Es256JwtAuth):
    """A CDP API key: its name (``organizations/{org_id}/apiKeys/{key_id}``) and its EC private key (PEM).

    The private key is the secret. It is loaded here, so a secret that is not an EC P-256 key fails at
    once rather than as a reconnect loop.
    """

    def websocket_jwt(self) -> str:
        """A JWT for one subscribe, valid for two minutes from now (on Coinbase's clock)."""
        now = self.timestamp_s()
        claims = {"iss": CONSTANTS.JWT_ISSUER, "sub": self.api_key, "nbf": now, "exp": now + CONSTANTS.JWT_LIFETIME_S}
        # A random nonce makes every JWT unique, so none can be replayed.
        return self.es256_jwt(claims, headers={"kid": self.api_key, "nonce": secrets.token_hex(16)})
