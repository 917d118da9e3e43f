"""How the userstream connector contract runs this connector: against userstream's Binance spot WebSocket API fake."""

from collections.abc import Mapping, Sequence
from typing import Any

import binance_messages as messages
from userstream.testing import Dialect, FakeExchange
from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialects import binance

from binance.binance_api_user_stream_data_source import BinanceAPIUserStreamDataSource
from binance.binance_auth import BinanceAuth


class BinanceHarness(WebSocketHarness):
    data_source_class = BinanceAPIUserStreamDataSource
    auth_class = BinanceAuth

    def dialect(self) -> Dialect:
        return binance.BinanceSpotWsApiDialect()

    def install(self, exchange: FakeExchange) -> None:
        binance.install(exchange)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The fake serves the WebSocket API at the same path as Binance does: <host>/ws-api/v3.
        return {"ws_url": exchange.ws_url + binance.WS_API_PATH_SUFFIX, "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [messages.ORDER_UPDATE, messages.FILL, messages.ACCOUNT_POSITION]
