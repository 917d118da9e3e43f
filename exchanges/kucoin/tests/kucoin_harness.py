"""How the userstream connector contract runs this connector: against userstream's KuCoin spot fake."""

from collections.abc import Sequence
from typing import Any

import kucoin_messages as messages
from userstream.testing import Credentials, Dialect, FakeExchange
from userstream.testing.contract import TEST_TIMINGS, WebSocketHarness
from userstream.testing.dialects import kucoin

from kucoin.kucoin_api_user_stream_data_source import KucoinAPIUserStreamDataSource
from kucoin.kucoin_auth import KucoinAuth


class KucoinHarness(WebSocketHarness):
    data_source_class = KucoinAPIUserStreamDataSource
    auth_class = KucoinAuth

    def dialect(self) -> Dialect:
        return kucoin.KucoinDialect()

    def credentials(self) -> Credentials:
        return Credentials(api_key="kucoin-api-key", secret="kucoin-secret", passphrase="kucoin-passphrase")

    def install(self, exchange: FakeExchange) -> None:
        state = kucoin.install(exchange)  # the token replies name the fake as the endpoint
        # The token reply's pingInterval overrides the contract's timings: make it the contract's, not KuCoin's 18 s.
        state.ping_interval_ms = round(TEST_TIMINGS.ping_interval * 1000)

    def user_events(self) -> Sequence[Any]:
        return [messages.ORDER_UPDATE, messages.FILL, messages.BALANCE_UPDATE]
