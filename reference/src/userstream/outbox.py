"""Delivery to a consumer's queue that keeps the connection alive while a bounded queue is full.

A bounded ``user_stream`` applies backpressure, but a reader blocked in ``queue.put`` reads no
more frames: it answers none of the exchange's pings, and an exchange that requires pongs drops the
connection. So an `Outbox` puts an item straight on the queue while it has room and otherwise holds
it, in order, while a small drainer moves held items on as the consumer makes room. The reader only
waits once more than ``hold_limit`` items are held (then it waits as before, and the memory a stalled
consumer can cost stays bounded). Nothing is ever dropped.

It also watches the depth: the first time the items waiting (queued plus held) reach
``warning_depth`` it logs one warning, and it warns again only after the consumer has caught up
below half of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Logger = logging.Logger | logging.LoggerAdapter[Any]


class Outbox(Generic[T]):
    """Puts items on ``queue`` in order; see the module docstring. The data source checks the limits it is given."""

    def __init__(
        self,
        queue: asyncio.Queue[T],
        *,
        name: str,
        hold_limit: int,
        warning_depth: int | None,
        logger: Logger,
    ) -> None:
        self.queue = queue
        self._name = name
        self._hold_limit = hold_limit
        self._warning_depth = warning_depth
        self._logger = logger
        self._held: deque[T] | None = None
        """Items waiting behind a full queue, in order; made when the first must wait (a deque is 0.7 KiB)."""
        self._room: asyncio.Event | None = None
        """Set when the held items are back within ``hold_limit``; made when a reader first has to wait."""
        self._drainer: asyncio.Task[None] | None = None
        self._warned = False

    @property
    def depth(self) -> int:
        """Items waiting for the consumer: on the queue, or held until it has room."""
        return self.queue.qsize() + self.held

    @property
    def held(self) -> int:
        return 0 if self._held is None else len(self._held)

    def push(self, item: T) -> bool:
        """Deliver ``item`` after every item before it, without waiting; True once the caller should wait (`room`).

        The reader's per-message path: a plain call while the queue has room, and while up to ``hold_limit``
        items are held behind a full one.
        """
        if self._drainer is None and not self._held:
            try:
                self.queue.put_nowait(item)
            except asyncio.QueueFull:
                pass
            else:
                warning_depth = self._warning_depth
                if warning_depth is not None and (self._warned or self.queue.qsize() >= warning_depth):
                    self._watch_depth()
                return False
        if self._held is None:
            self._held = deque()
        self._held.append(item)
        self.resume()
        self._watch_depth()
        return len(self._held) > self._hold_limit

    async def room(self) -> None:
        """Wait until no more than ``hold_limit`` items are held."""
        while self.held > self._hold_limit:
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()

    async def put(self, item: T) -> None:
        """Deliver ``item`` after every item before it; wait only while more than ``hold_limit`` are held."""
        if self.push(item):
            await self.room()

    def resume(self) -> None:
        """Deliver what a `close` left held (streaming starts again)."""
        if self._held and self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name=f"userstream {self._name} outbox")

    async def close(self) -> None:
        """Stop delivering: held items stay held, in order, until `resume` or the next `put`."""
        drainer, self._drainer = self._drainer, None
        if drainer is not None and not drainer.done():
            drainer.cancel()
            await asyncio.wait([drainer])

    async def _drain(self) -> None:
        try:
            held = self._held
            while held:
                # Peek, then pop once it is on the queue: a cancelled put leaves the item held, not lost.
                await self.queue.put(held[0])
                held.popleft()
                if len(held) <= self._hold_limit and self._room is not None:
                    self._room.set()
        finally:
            if self._drainer is asyncio.current_task():
                self._drainer = None

    def _watch_depth(self) -> None:
        if self._warning_depth is None:
            return
        depth = self.depth
        if not self._warned and depth >= self._warning_depth:
            self._warned = True
            self._logger.warning(
                "%s holds %d messages: the consumer is falling behind (warning again after it drains below %d)",
                self._name,
                depth,
                self._warning_depth // 2,
            )
        elif self._warned and depth < self._warning_depth // 2:
            self._warned = False
