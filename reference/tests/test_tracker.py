from __future__ import annotations

import asyncio

import pytest
from reference_connector import DataSourceFactory
from stream_helpers import client_tasks, next_message

from userstream import UserStreamTracker
from userstream.testing import FakeExchange


async def test_start_returns_at_once_and_twice_starts_one_stream(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    tracker = UserStreamTracker(make_data_source())
    await tracker.start()
    await tracker.start()
    assert tracker.running
    await fake_exchange.wait_for_subscribed()
    await asyncio.sleep(0.1)
    assert len(fake_exchange.connections) == 1
    await fake_exchange.push_event("orders", {"order_id": "1"})
    assert (await next_message(tracker.user_stream))["data"] == {"order_id": "1"}
    assert tracker.last_recv_time == tracker.data_source.last_recv_time > 0
    assert tracker.status.messages_queued == 1
    await tracker.stop()


async def test_async_with_stops_everything_on_exit(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    baseline = client_tasks()
    async with UserStreamTracker(make_data_source()) as tracker:
        await fake_exchange.wait_for_subscribed()
    assert not tracker.running
    assert client_tasks() - baseline == set()
    await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 0, what="zero open connections")


async def test_stop_is_idempotent_and_safe_before_start(make_data_source: DataSourceFactory) -> None:
    tracker = UserStreamTracker(make_data_source())
    await tracker.stop()
    await tracker.start()
    await tracker.stop()
    await tracker.stop()
    assert not tracker.running


async def test_a_stopped_tracker_can_start_again(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    tracker = UserStreamTracker(make_data_source())
    await tracker.start()
    await fake_exchange.wait_for_subscribed()
    await tracker.stop()
    await tracker.start()
    await fake_exchange.wait_until(lambda: len(fake_exchange.connections) == 2, what="a second connection")
    await fake_exchange.wait_for_subscribed()
    await fake_exchange.push_event("orders", {"order_id": "again"})
    assert (await next_message(tracker.user_stream))["data"] == {"order_id": "again"}
    await tracker.stop()


async def test_a_bounded_queue_applies_backpressure_and_drops_nothing(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    tracker = UserStreamTracker(make_data_source(), max_queue_size=2)
    await tracker.start()
    await fake_exchange.wait_for_subscribed()
    for n in range(40):
        await fake_exchange.push_event("fills", {"trade_id": n})
    await asyncio.sleep(0.2)
    # The consumer has read nothing: the data source waits with the queue full instead of dropping.
    assert tracker.user_stream.qsize() == 2
    assert tracker.status.messages_queued <= 3

    received = []
    for _ in range(40):
        received.append((await next_message(tracker.user_stream))["data"]["trade_id"])
        await asyncio.sleep(0.001)  # a slow consumer
    assert received == list(range(40))
    assert tracker.status.reconnect_count == 0
    await tracker.stop()


def test_a_negative_queue_size_is_refused(make_data_source: DataSourceFactory) -> None:
    with pytest.raises(ValueError, match="max_queue_size must be 0 \\(unbounded\\) or positive, got -1"):
        UserStreamTracker(make_data_source(), max_queue_size=-1)
