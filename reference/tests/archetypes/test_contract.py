"""The connector contract (`userstream.testing.contract`) holds for the reference, OKX and HTX connectors.

OKX's is the kit's preset (exchanges/okx/), run with the harness its fake provides, as its generated project does.

Generated connectors run the same contract in their own tests; here it is checked against
connectors whose behaviour the archetype tests establish independently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest
from htx_connector import HtxAuth, HtxUserStreamDataSource
from okx.okx_api_user_stream_data_source import OkxAPIUserStreamDataSource
from okx.okx_auth import OkxAuth
from reference_connector import (
    ReconcilingReferenceAuth,
    ReconcilingReferenceDataSource,
    ReferenceAuth,
    ReferenceDataSource,
)

from userstream.testing import Dialect, FakeExchange, ReferenceDialect
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import (
    PollingHarness,
    PollingUserStreamContract,
    ReconciliationContract,
    ReconcilingHarness,
    WebSocketHarness,
    WebSocketUserStreamContract,
)
from userstream.testing.dialects import htx, reference
from userstream.testing.dialects import okx as fake_okx


class ReferenceHarness(WebSocketHarness):
    data_source_class = ReferenceDataSource
    auth_class = ReferenceAuth

    def dialect(self) -> Dialect:
        return ReferenceDialect()

    def user_events(self) -> Sequence[Any]:
        return [{"channel": "orders", "data": {"order_id": "1"}}, {"channel": "balances", "data": {"BTC": "1"}}]


class ReconcilingReferenceHarness(ReconcilingHarness):
    data_source_class = ReconcilingReferenceDataSource
    auth_class = ReconcilingReferenceAuth
    account: reference.ReferenceAccount

    def dialect(self) -> Dialect:
        return reference.LoginMessageDialect()

    def install(self, exchange: FakeExchange) -> None:
        self.account = reference.install_account(exchange)

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def user_events(self) -> Sequence[Any]:
        order = reference.ReferenceOrder("1", "BTC-USDT", "buy", "limit", Decimal(1), Decimal(1), None, 1, 1)
        balance = {"asset": "BTC", "total": "1", "available": "1", "time": 2}
        return [{"channel": "orders", "data": order.as_json()}, {"channel": "balances", "data": balance}]


class OkxHarness(fake_okx.Harness):
    data_source_class = OkxAPIUserStreamDataSource
    auth_class = OkxAuth


class HtxHarness(PollingHarness):
    data_source_class = HtxUserStreamDataSource
    auth_class = HtxAuth
    account: htx.HtxAccount

    def dialect(self) -> Dialect:
        return ReferenceDialect()  # HTX has no private WebSocket; only its REST routes matter

    def install(self, exchange: FakeExchange) -> None:
        self.account = htx.install(exchange)
        self.account.set_balance("usdt", "100")

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        return {"rest_url": exchange.rest_url}

    def options(self) -> Mapping[str, Any]:
        return {"poll_interval": 0.05}

    def change_account(self, exchange: FakeExchange) -> Callable[[Any], bool]:
        """An order placed and filled before the next poll: only the order history and the fills show it."""
        order = self.account.place_order("ethusdt", "buy-limit", "10", "1")
        self.account.fill(order.id, "1", fee="0.002")
        self.account.set_balance("usdt", "90")
        self.account.set_balance("eth", "0.998")
        [fill] = self.account.fills_of(order.id)
        return lambda message: message["type"] == "fill" and message["trade_id"] == str(fill.trade_id)

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


class TestReconcilingReferenceConnector(WebSocketUserStreamContract, ReconciliationContract):
    @pytest.fixture
    def harness(self) -> ReconcilingHarness:
        return ReconcilingReferenceHarness()
