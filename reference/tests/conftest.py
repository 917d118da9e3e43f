from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reference_connector import DataSourceFactory, ReferenceAuth, ReferenceDataSource
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS

from userstream.testing import Credentials, FakeExchange


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(api_key="test-api-key", secret="test-secret")


@pytest.fixture
def auth(credentials: Credentials) -> ReferenceAuth:
    return ReferenceAuth(credentials.api_key, credentials.secret)


@pytest.fixture
async def make_data_source(fake_exchange: FakeExchange, auth: ReferenceAuth) -> AsyncIterator[DataSourceFactory]:
    """Data sources pointed at the loopback fake exchange, all stopped after the test."""
    created: list[ReferenceDataSource] = []

    def make(**overrides: Any) -> ReferenceDataSource:
        options: dict[str, Any] = {
            "ws_url": fake_exchange.ws_url,
            "rest_url": fake_exchange.rest_url,
            "timings": FAST_TIMINGS,
            "reconnect": FAST_RECONNECT,
            "rng": random.Random(7),
        }
        options.update(overrides)
        data_source = ReferenceDataSource(auth, **options)
        created.append(data_source)
        return data_source

    yield make
    for data_source in created:
        await data_source.stop()
