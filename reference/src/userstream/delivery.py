"""The per-message path every transport shares: a user message onto the queue, then its account events applied.

Both steps are plain calls while the queue has room and no reconciliation is applying a snapshot: the reader
awaits only for backpressure (a bounded queue far behind) or to let a snapshot's events go first.

A connector whose pushes need completing over REST (Coinbase pushes an order's fill count, not its fills) gives a
`Completion`: then each message's events go, in message order, through one task that completes them, so the
reader goes on reading meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from userstream.events import AccountEvent, BalanceUpdate, OrderUpdate, ReconcileReason, TradeFill
from userstream.outbox import Logger, Outbox
from userstream.reconciliation import Reconciler

Parse = Callable[[Any], Sequence[AccountEvent]]
Completion = Callable[[Any, Sequence[AccountEvent]], Awaitable[Sequence[AccountEvent]]]
"""Given a user message and the events it carries, every event it implies, in the order they are applied."""

_EVENT_TYPES = (BalanceUpdate, OrderUpdate, TradeFill)


class Delivery:
    """Queues user messages and applies their events; counts both. See the module docstring."""

    def __init__(
        self,
        reconciler: Reconciler,
        *,
        parse: Parse | None,
        complete: Completion | None,
        logger: Logger,
        describe: Callable[[Any], str],
    ) -> None:
        self._reconciler = reconciler
        self.parse = parse
        """The connector's parser, or None when it parses nothing (then no message is parsed)."""
        self._complete = complete
        self._logger = logger
        self._describe = describe
        self._completing: asyncio.Queue[tuple[Any, Sequence[AccountEvent]]] | None = None
        """Messages waiting for `Completion`, made with the first (most connectors complete nothing)."""
        self._completer: asyncio.Task[None] | None = None
        self.messages_queued = 0
        self.unparsed_messages = 0

    async def deliver(self, message: Any, output: Outbox[Any]) -> None:
        """Queue one user message and apply its events (the WebSocket reader inlines the same steps)."""
        if output.push(message):
            await output.room()
        self.messages_queued += 1
        if self.parse is not None:
            pending = self.apply_account_events(message)
            if pending is not None:
                await pending

    def apply_account_events(self, message: Any) -> Awaitable[None] | None:
        """Apply the events a queued message carries; None when done, else what to await first."""
        assert self.parse is not None
        try:
            events = self.parse(message)
            for event in events:
                if not isinstance(event, _EVENT_TYPES):
                    raise TypeError(f"parse_account_events gave {type(event).__name__}, not an account event")
        except Exception as error:  # noqa: BLE001 - whatever a parser raises, the account is reconciled instead
            # The raw message is queued already; what it meant for the account is read from a snapshot, so
            # nothing a message holds can end the connection or reach the account unchecked.
            self.unparsed_messages += 1
            self._logger.warning(
                "could not read account events from a user message (%s: %s): %s",
                type(error).__name__,
                error,
                self._describe(message),
            )
            self._reconciler.request(ReconcileReason.UNREADABLE_MESSAGE)
            return None
        if self._complete is not None:
            if self._completing is None:
                self._completing = asyncio.Queue()
            self._completing.put_nowait((message, events))
            if self._completer is None:
                self._completer = asyncio.create_task(self._run_completions(self._complete, self._completing))
            return None
        if not events:
            return None
        return self._reconciler.offer(events)

    async def close(self) -> None:
        """Stop completing; what was still waiting is read by the reconciliation after the next connect."""
        completer, self._completer = self._completer, None
        if completer is not None:
            completer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await completer
        waiting = self._completing
        if waiting is not None and not waiting.empty():
            while not waiting.empty():
                waiting.get_nowait()
            self._reconciler.request(ReconcileReason.REQUESTED)

    async def _run_completions(
        self, complete: Completion, waiting: asyncio.Queue[tuple[Any, Sequence[AccountEvent]]]
    ) -> None:
        while True:
            message, events = await waiting.get()
            try:
                completed = await complete(message, events)
            except Exception as error:  # noqa: BLE001 - as for a parser: the account is reconciled instead
                self.unparsed_messages += 1
                self._logger.warning(
                    "could not complete a user message's events (%s: %s): %s",
                    type(error).__name__,
                    error,
                    self._describe(message),
                )
                self._reconciler.request(ReconcileReason.UNREADABLE_MESSAGE)
                continue
            if completed:
                pending = self._reconciler.offer(completed)
                if pending is not None:
                    await pending
