"""The connector contract (`userstream.testing.contract`) holds for the reference, OKX and HTX connectors.

Generated connectors run the same contract in their own tests; here it is checked against
connectors whose behaviour the archetype tests establish independently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from htx_connector import HtxAuth, HtxUserStreamDataSource
from okx_connector import OkxAPIUserStreamDataSource
from reference_connector import ReferenceAuth, ReferenceDataSource

from userstream import MarketAuth, ReconnectPolicy, StreamTimings, UserStreamTrackerDataSource
from userstream.data_source import WebSocketFactory
from userstream.testing import Credentials, Dialect, FakeExchange, ReferenceDialect
from userstream.testing.contract import (
    PollingHarness,
    PollingUserStreamContract,
    WebSocketHarness,
    WebSocketUserStreamContract,
)
from userstream.testing.dialects import htx, okx


class ReferenceHarness(WebSocketHarness):
    def dialect(self) -> Dialect:
        return ReferenceDialect()

    def data_source(
        self,
        exchange: FakeExchange,
        credentials: Credentials,
        *,
        timings: StreamTimings,
        reconnect: ReconnectPolicy,
        websocket_factory: WebSocketFactory | None = None,
    ) -> UserStreamTrackerDataSource:
        auth = ReferenceAuth(credentials.api_key, credentials.secret)
        return ReferenceDataSource(
            auth, ws_url=exchange.ws_url, timings=timings, reconnect=reconnect, websocket_factory=websocket_factory
        )

    def user_events(self) -> Sequence[Any]:
        return [{"channel": "orders", "data": {"order_id": "1"}}, {"channel": "balances", "data": {"BTC": "1"}}]


class OkxHarness(WebSocketHarness):
    def dialect(self) -> Dialect:
        return okx.OkxDialect()

    def credentials(self) -> Credentials:
        return okx.credentials()

    def install(self, exchange: FakeExchange) -> None:
        okx.install(exchange)

    def data_source(
        self,
        exchange: FakeExchange,
        credentials: Credentials,
        *,
        timings: StreamTimings,
        reconnect: ReconnectPolicy,
        websocket_factory: WebSocketFactory | None = None,
    ) -> UserStreamTrackerDataSource:
        return OkxAPIUserStreamDataSource(
            MarketAuth(credentials.api_key, credentials.secret, credentials.passphrase),
            ws_url=okx.private_url(exchange),
            rest_url=exchange.rest_url,
            timings=timings,
            reconnect=reconnect,
            websocket_factory=websocket_factory,
        )

    def user_events(self) -> Sequence[Any]:
        return [
            okx.order_update("1"),
            okx.fill("1", "7", fill_sz="0.01", fill_px="30000"),
            okx.balance_update("USDT", cash_bal="100", avail_bal="90"),
        ]


class HtxHarness(PollingHarness):
    account: htx.HtxAccount

    def dialect(self) -> Dialect:
        return ReferenceDialect()  # HTX has no private WebSocket; only its REST routes matter

    def install(self, exchange: FakeExchange) -> None:
        self.account = htx.install(exchange)
        self.account.set_balance("usdt", "100")

    def data_source(
        self,
        exchange: FakeExchange,
        credentials: Credentials,
        *,
        timings: StreamTimings,
        reconnect: ReconnectPolicy,
        websocket_factory: WebSocketFactory | None = None,
    ) -> UserStreamTrackerDataSource:
        auth = HtxAuth(credentials.api_key, credentials.secret)
        return HtxUserStreamDataSource(
            auth, rest_url=exchange.rest_url, poll_interval=0.05, timings=timings, reconnect=reconnect
        )

    def change_account(self, exchange: FakeExchange) -> Callable[[Any], bool]:
        self.account.set_balance("usdt", "90", frozen="10")
        return lambda message: message["type"] == "balance" and Decimal(message["available"]) == 90

    def fail_next_poll(self, exchange: FakeExchange) -> None:
        self.account.fail_next()


class TestReferenceConnector(WebSocketUserStreamContract):
    @pytest.fixture
    def harness(self) -> WebSocketHarness:
        return ReferenceHarness()


class TestOkxConnector(WebSocketUserStreamContract):
    @pytest.fixture
    def harness(self) -> WebSocketHarness:
        return OkxHarness()


class TestHtxConnector(PollingUserStreamContract):
    @pytest.fixture
    def harness(self) -> PollingHarness:
        return HtxHarness()
