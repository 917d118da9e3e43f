"""`UserStreamTracker`: owns the task that runs a data source and the queue it fills."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any, Self

from userstream.account import AccountState
from userstream.data_source import UserStreamTrackerDataSource
from userstream.reconciliation import AccountEventSink
from userstream.status import StreamStatus


class UserStreamTracker:
    """Runs a data source in the background and exposes its messages as `user_stream`.

    ``max_queue_size`` bounds the queue: when the consumer falls behind, the data source waits
    to put the next message (and reads no further frames) instead of dropping it.

    `account` is the live account state, always kept. With ``typed_events=True``, the typed events
    that changed it (`BalanceUpdate`, `OrderUpdate`, `TradeFill`, and a `Reconciled` notice after each
    reconciliation) are also offered on `account_events`, in order. It is off by default because an
    unread queue grows without bound; it is bounded by ``max_queue_size`` too.
    """

    def __init__(
        self, data_source: UserStreamTrackerDataSource, *, max_queue_size: int = 0, typed_events: bool = False
    ) -> None:
        if max_queue_size < 0:
            raise ValueError(f"max_queue_size must be 0 (unbounded) or positive, got {max_queue_size!r}")
        self._data_source = data_source
        self._user_stream: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_queue_size)
        self._account_events: AccountEventSink | None = None
        if typed_events:
            self._account_events = asyncio.Queue(maxsize=max_queue_size)
            data_source.account_events = self._account_events
        self._task: asyncio.Task[None] | None = None
        self._logger = logging.getLogger(f"userstream.{type(self).__name__}")

    @property
    def data_source(self) -> UserStreamTrackerDataSource:
        return self._data_source

    @property
    def user_stream(self) -> asyncio.Queue[Any]:
        return self._user_stream

    @property
    def account(self) -> AccountState:
        """Balances and open orders, current as of the last typed event or reconciliation."""
        return self._data_source.account

    @property
    def account_events(self) -> AccountEventSink:
        """Typed events in the order they changed `account`; needs ``typed_events=True``."""
        if self._account_events is None:
            raise RuntimeError(f"{type(self).__name__} was created without typed_events=True: no account_events")
        return self._account_events

    @property
    def last_recv_time(self) -> float:
        return self._data_source.last_recv_time

    @property
    def status(self) -> StreamStatus:
        return self._data_source.status

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start streaming in the background and return at once. A second call while running does nothing."""
        if self.running:
            return
        self._task = asyncio.create_task(
            self._data_source.listen_for_user_stream(self._user_stream),
            name=f"{type(self._data_source).__name__}.listen_for_user_stream",
        )
        self._task.add_done_callback(self._report_unexpected_end)

    async def stop(self) -> None:
        """Stop the data source and wait for its task to end. Idempotent; queued messages stay readable."""
        task, self._task = self._task, None
        await self._data_source.stop()
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()

    def _report_unexpected_end(self, task: asyncio.Task[None]) -> None:
        # The listener only ends by cancellation; anything else is a bug worth a loud log line.
        if not task.cancelled() and task.exception() is not None:
            self._logger.error("user stream listener ended unexpectedly", exc_info=task.exception())
