"""The {{ cookiecutter.exchange }} connector against its fake exchange: the userstream connector contract, then the tracker.

The contract's tests (events in order, liveness, reconnects, refused keys, malformed frames, clean
stop) run over a loopback socket on 127.0.0.1{% if cookiecutter.archetype != "rest_polling" %} and over an in-memory socket{% endif %}.
"""

from __future__ import annotations

import pytest
from conftest import {{ cookiecutter.__class_prefix }}Harness
from userstream.testing.contract import {{ "PollingUserStreamContract" if cookiecutter.archetype == "rest_polling" else "WebSocketUserStreamContract" }}, TEST_RECONNECT, TEST_TIMINGS, eventually
from userstream.testing import FakeExchange

from {{ cookiecutter.exchange }} import {{ cookiecutter.__class_prefix }}UserStreamTracker


class Test{{ cookiecutter.__class_prefix }}UserStream({{ "PollingUserStreamContract" if cookiecutter.archetype == "rest_polling" else "WebSocketUserStreamContract" }}):
    @pytest.fixture
    def harness(self) -> {{ cookiecutter.__class_prefix }}Harness:
        return {{ cookiecutter.__class_prefix }}Harness()


async def test_the_tracker_streams_until_stopped(harness: {{ cookiecutter.__class_prefix }}Harness, exchange: FakeExchange) -> None:
    credentials = harness.credentials()
    data_source = harness.data_source(exchange, credentials, timings=TEST_TIMINGS, reconnect=TEST_RECONNECT)
    tracker = {{ cookiecutter.__class_prefix }}UserStreamTracker(data_source.auth, **harness.endpoints(exchange), timings=TEST_TIMINGS, reconnect=TEST_RECONNECT)
    async with tracker:
        await eventually(lambda: tracker.status.streaming, "the tracker streams")
        assert tracker.last_recv_time > 0
    assert not tracker.running
    await eventually(lambda: exchange.open_connections == 0, "no connection left open")
