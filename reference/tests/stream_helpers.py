"""Timings and waiting helpers shared by the loopback and in-memory tests."""

from __future__ import annotations

import asyncio
from typing import Any

from userstream import UserStreamTrackerDataSource
from userstream.testing import contract
from userstream.testing.contract import TEST_RECONNECT, TEST_TIMINGS, client_tasks, eventually

__all__ = [
    "FAST_RECONNECT",
    "FAST_TIMINGS",
    "client_tasks",
    "eventually",
    "next_message",
    "start_listening",
]

# The connector contract's timings and helpers are the reference tests' too: one definition of "fast".
FAST_TIMINGS = TEST_TIMINGS
FAST_RECONNECT = TEST_RECONNECT


async def next_message(queue: asyncio.Queue[Any], timeout: float = 3.0) -> Any:
    async with asyncio.timeout(timeout):
        return await queue.get()


def start_listening(
    data_source: UserStreamTrackerDataSource, legacy_loop: asyncio.AbstractEventLoop | None = None
) -> asyncio.Queue[Any]:
    """Run ``data_source.listen_for_user_stream`` in the background and return the queue it fills."""
    output, _ = contract.start_listening(data_source, legacy_loop)
    return output
