"""How the userstream connector contract runs this connector: against userstream's Binance listen-key fake."""

from collections.abc import Mapping, Sequence
from typing import Any

import binance_futures_messages as messages
from userstream.testing import Dialect, FakeExchange
from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialects import binance_futures

from binance_futures.binance_futures_api_user_stream_data_source import BinanceFuturesAPIUserStreamDataSource
from binance_futures.binance_futures_auth import BinanceFuturesAuth


class BinanceFuturesHarness(WebSocketHarness):
    data_source_class = BinanceFuturesAPIUserStreamDataSource
    auth_class = BinanceFuturesAuth

    def dialect(self) -> Dialect:
        return binance_futures.BinanceListenKeyDialect(binance_futures.USDM_FUTURES)

    def install(self, exchange: FakeExchange) -> None:
        binance_futures.install(exchange)  # the listen-key routes (POST, PUT, DELETE) and the time endpoint

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The fake serves each key's stream at <ws_url>/<listenKey>, as Binance does under WS_PRIVATE_URL.
        return {"ws_url": exchange.ws_url, "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [messages.ORDER_UPDATE, messages.FILL, messages.ACCOUNT_UPDATE]
