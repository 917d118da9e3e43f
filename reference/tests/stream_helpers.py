"""Timings and waiting helpers shared by the loopback and in-memory tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from userstream import ReconnectPolicy, StreamTimings, UserStreamTrackerDataSource

# Short enough that a test waits milliseconds, long enough that two cores under load keep up.
FAST_TIMINGS = StreamTimings(
    connect_timeout=2.0, handshake_timeout=2.0, ping_interval=0.2, stale_after=0.6, close_timeout=0.5
)
# jitter=0 makes every delay its ceiling, so tests can bound reconnect times exactly.
FAST_RECONNECT = ReconnectPolicy(initial_delay=0.05, max_delay=0.4, factor=2.0, jitter=0.0, min_delay=0.0)


async def next_message(queue: asyncio.Queue[Any], timeout: float = 3.0) -> Any:
    async with asyncio.timeout(timeout):
        return await queue.get()


def client_tasks() -> set[asyncio.Task[Any]]:
    """Tasks alive besides the test's own and the fake exchange's request handlers (the server's side)."""
    current = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not current and not task.done() and not task.get_coro().__qualname__.startswith("RequestHandler.")
    }


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 3.0) -> None:
    """Wait until ``condition()`` holds (the data source has no event to wait on); fail clearly if it never does."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110 - polling state owned by the code under test
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout:g} s") from None


_listeners: set[asyncio.Task[None]] = set()  # asyncio holds tasks weakly; these must live until they end


def start_listening(
    data_source: UserStreamTrackerDataSource, *legacy_loop: asyncio.AbstractEventLoop
) -> asyncio.Queue[Any]:
    """Run ``data_source.listen_for_user_stream`` in the background and return the queue it fills."""
    output: asyncio.Queue[Any] = asyncio.Queue()
    task = asyncio.create_task(data_source.listen_for_user_stream(*legacy_loop, output))
    _listeners.add(task)
    task.add_done_callback(_listeners.discard)
    return output
