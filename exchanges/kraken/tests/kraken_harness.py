"""How the userstream connector contract runs this connector: against userstream's Kraken spot (WebSocket v1) fake."""

import base64
from collections.abc import Sequence
from typing import Any

import kraken_messages as messages
from userstream.testing import Credentials, Dialect, FakeExchange
from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialects import kraken

from kraken.kraken_api_user_stream_data_source import KrakenAPIUserStreamDataSource
from kraken.kraken_auth import KrakenAuth


def private_key(text: bytes) -> str:
    """A Kraken private key as Kraken shows it: base64 (the fake decodes it to verify API-Sign)."""
    return base64.b64encode(text).decode()


class KrakenHarness(WebSocketHarness):
    data_source_class = KrakenAPIUserStreamDataSource
    auth_class = KrakenAuth

    def dialect(self) -> Dialect:
        return kraken.KrakenDialect()

    def credentials(self) -> Credentials:
        return Credentials(api_key="kraken-api-key", secret=private_key(b"the private key the fake Kraken accepts"))

    def wrong_credentials(self) -> Credentials:
        # Another well-formed key: the contract's default ("wrong-" + secret) is not base64, so no Kraken key.
        return Credentials(
            api_key="wrong-kraken-api-key", secret=private_key(b"a private key the fake Kraken never issued")
        )

    def install(self, exchange: FakeExchange) -> None:
        kraken.install(exchange)

    def user_events(self) -> Sequence[Any]:
        # An order placed, its fill, its closing: Kraken's v1 feeds report no balance change.
        return [messages.NEW_ORDER, messages.OWN_TRADE, messages.ORDER_CLOSED]
