"""How the userstream connector contract runs this connector: against userstream's Coinbase Advanced Trade fake."""

from collections.abc import Sequence
from typing import Any

import coinbase_advanced_trade_messages as messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from userstream.testing import Credentials, Dialect, FakeExchange
from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialects import coinbase

from coinbase_advanced_trade.coinbase_advanced_trade_api_user_stream_data_source import (
    CoinbaseAdvancedTradeAPIUserStreamDataSource,
)
from coinbase_advanced_trade.coinbase_advanced_trade_auth import CoinbaseAdvancedTradeAuth

KEY_NAME = "organizations/test-org/apiKeys/test-key"


def ec_key_pair() -> tuple[str, str]:
    """A new P-256 key pair as ``(private PEM, public PEM)``: a CDP key's secret, and Coinbase's copy to verify with."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


class CoinbaseAdvancedTradeHarness(WebSocketHarness):
    data_source_class = CoinbaseAdvancedTradeAPIUserStreamDataSource
    auth_class = CoinbaseAdvancedTradeAuth

    def __init__(self) -> None:
        # The fake verifies each JWT's signature with the public half of the account's key, as Coinbase does.
        self.private_key, self.public_key = ec_key_pair()

    def dialect(self) -> Dialect:
        return coinbase.CoinbaseAdvancedTradeDialect(self.public_key)

    def credentials(self) -> Credentials:
        return Credentials(api_key=KEY_NAME, secret=self.private_key)

    def wrong_credentials(self) -> Credentials:
        # Another account's key: a secret that is not an EC key at all would already fail in the auth's constructor.
        return Credentials(api_key=f"{KEY_NAME}-other", secret=ec_key_pair()[0])

    def install(self, exchange: FakeExchange) -> None:
        coinbase.install(exchange)  # the fake checks JWT lifetimes against its own clock

    def user_events(self) -> Sequence[Any]:
        return [messages.SNAPSHOT, messages.ORDER_UPDATE, messages.FILL]
