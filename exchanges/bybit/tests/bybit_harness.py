"""How the userstream connector contract runs this connector: against userstream's Bybit v5 fake."""

from collections.abc import Mapping, Sequence
from typing import Any

import bybit_messages as messages
from userstream.testing import Credentials, Dialect, FakeExchange
from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialects import bybit

from bybit.bybit_api_user_stream_data_source import BybitAPIUserStreamDataSource
from bybit.bybit_auth import BybitAuth


class BybitHarness(WebSocketHarness):
    data_source_class = BybitAPIUserStreamDataSource
    auth_class = BybitAuth

    def dialect(self) -> Dialect:
        return bybit.BybitDialect()

    def credentials(self) -> Credentials:
        return bybit.credentials()

    def install(self, exchange: FakeExchange) -> None:
        bybit.install(exchange)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        return {"ws_url": bybit.private_url(exchange), "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [messages.ORDER_UPDATE, messages.EXECUTION, messages.WALLET_UPDATE]
