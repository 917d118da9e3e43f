from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reconciling import Build, HeldRoute
from reference_connector import (
    DataSourceFactory,
    ReconcilingReferenceAuth,
    ReconcilingReferenceDataSource,
    ReferenceAuth,
    ReferenceDataSource,
)
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS

from userstream import MarketAuth, UserStreamTrackerDataSource
from userstream.testing import Credentials, FakeExchange
from userstream.testing.dialects import reference


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(api_key="test-api-key", secret="test-secret")


@pytest.fixture
def auth(credentials: Credentials) -> ReferenceAuth:
    return ReferenceAuth(credentials.api_key, credentials.secret)


def loopback_options(exchange: FakeExchange, **overrides: Any) -> dict[str, Any]:
    """A data source's constructor options for ``exchange``: its URLs, the fast timings, a seeded jitter."""
    options: dict[str, Any] = {
        "ws_url": exchange.ws_url,
        "rest_url": exchange.rest_url,
        "timings": FAST_TIMINGS,
        "reconnect": FAST_RECONNECT,
        "rng": random.Random(7),
    }
    return {**options, **overrides}


@pytest.fixture
async def make_data_source(fake_exchange: FakeExchange, auth: ReferenceAuth) -> AsyncIterator[DataSourceFactory]:
    """Data sources pointed at the loopback fake exchange, all stopped after the test."""
    created: list[ReferenceDataSource] = []

    def make(**overrides: Any) -> ReferenceDataSource:
        data_source = ReferenceDataSource(auth, **loopback_options(fake_exchange, **overrides))
        created.append(data_source)
        return data_source

    yield make
    for data_source in created:
        await data_source.stop()


@pytest.fixture
def truth(fake_exchange: FakeExchange) -> reference.ReferenceAccount:
    return reference.install_account(fake_exchange)


@pytest.fixture
async def build(fake_exchange: FakeExchange, truth: reference.ReferenceAccount) -> AsyncIterator[Build]:
    """``build(data_source_class=ReconcilingReferenceDataSource, auth=None, **overrides)``: stopped after the test.

    For a test module that speaks a reference dialect: the data source reconciles with `truth`'s routes.
    """
    built: list[UserStreamTrackerDataSource] = []

    def build(
        data_source_class: type[UserStreamTrackerDataSource] = ReconcilingReferenceDataSource,
        *,
        auth: MarketAuth | None = None,
        **overrides: Any,
    ) -> UserStreamTrackerDataSource:
        credentials = fake_exchange.credentials
        auth = auth or ReconcilingReferenceAuth(credentials.api_key, credentials.secret)
        data_source = data_source_class(auth, **loopback_options(fake_exchange, **overrides))
        built.append(data_source)
        return data_source

    yield build
    for data_source in built:
        await data_source.stop()


@pytest.fixture
async def held_balances(fake_exchange: FakeExchange, truth: reference.ReferenceAccount) -> AsyncIterator[HeldRoute]:
    """The balances route, held until the test releases it (or the test ends)."""
    held = HeldRoute(truth.signed(truth.balances_reply))
    fake_exchange.route("GET", reference.BALANCES_PATH, held)
    yield held
    held.release.set()  # no request handler may outlive the test
