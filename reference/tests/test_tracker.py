from __future__ import annotations

import asyncio

import pytest
from reference_connector import DataSourceFactory
from stream_helpers import client_tasks, eventually, next_message

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


async def test_a_full_bounded_queue_holds_messages_in_order_and_drops_nothing(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    tracker = UserStreamTracker(make_data_source(), max_queue_size=2)
    await tracker.start()
    await fake_exchange.wait_for_subscribed()
    for n in range(40):
        await fake_exchange.push_event("fills", {"trade_id": n})
    # The consumer has read nothing: the queue is full and the data source holds the rest, in order.
    await eventually(lambda: tracker.status.queue_depth == 40, "every message waiting for the consumer")
    assert tracker.user_stream.qsize() == 2

    received = []
    for _ in range(40):
        received.append((await next_message(tracker.user_stream))["data"]["trade_id"])
        await asyncio.sleep(0.001)  # a slow consumer
    assert received == list(range(40))
    assert tracker.status.reconnect_count == 0
    assert tracker.status.queue_depth == 0
    await tracker.stop()


async def test_past_the_hold_limit_the_reader_waits_for_the_consumer_and_drops_nothing(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    tracker = UserStreamTracker(make_data_source(max_held_messages=3), max_queue_size=2)
    await tracker.start()
    await fake_exchange.wait_for_subscribed()
    for n in range(40):
        await fake_exchange.push_event("fills", {"trade_id": n})
    # Two on the queue and three held are accepted; the sixth is held while the reader waits for room.
    await eventually(lambda: tracker.status.queue_depth == 6, "the queue full and the hold limit passed")
    await asyncio.sleep(0.1)
    assert (tracker.status.messages_queued, tracker.status.queue_depth) == (5, 6), "the reader waits"

    received = [(await next_message(tracker.user_stream))["data"]["trade_id"] for _ in range(40)]
    assert received == list(range(40))
    await tracker.stop()


async def test_stop_leaves_no_task_behind_a_full_queue_and_what_was_held_is_delivered_after_a_restart(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    baseline = client_tasks()
    tracker = UserStreamTracker(make_data_source(), max_queue_size=1)
    await tracker.start()
    await fake_exchange.wait_for_subscribed()
    for n in range(3):
        await fake_exchange.push_event("fills", {"trade_id": n})
    await eventually(lambda: tracker.status.queue_depth == 3, "two messages held behind a full queue")
    await tracker.stop()
    assert client_tasks() - baseline == set()

    await tracker.start()
    received = [(await next_message(tracker.user_stream))["data"]["trade_id"] for _ in range(3)]
    assert received == [0, 1, 2]
    await tracker.stop()


def test_a_negative_queue_size_is_refused(make_data_source: DataSourceFactory) -> None:
    with pytest.raises(ValueError, match="max_queue_size must be 0 \\(unbounded\\) or positive, got -1"):
        UserStreamTracker(make_data_source(), max_queue_size=-1)
