"""Reconciliation: after every gap, the account is read over REST and the stream's view corrected.

A data source owns one `Reconciler`. When a connection starts, a gap opens: from then on the typed
events parsed from live messages are buffered instead of applied. Once the connection is authenticated
and subscribed, the reconciler fetches a snapshot (balances, open orders, recent fills, and the state of
each order that vanished from the open list), applies it, then applies the buffered events in arrival
order. So an older snapshot never overwrites a newer live event, and nothing pushed while the stream
was away goes unseen: the differences are emitted as typed events marked `EventSource.RECONCILIATION`,
followed by a gap marker on ``user_stream``. A failed snapshot is retried with backoff and reported in
`StreamStatus`; the gap stays open (and live events buffered) until a snapshot succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from userstream.account import AccountSnapshot, AccountState
from userstream.backoff import Backoff
from userstream.events import AccountEvent, OrderUpdate, Reconciled, ReconcileReason

SnapshotFetcher = Callable[[], Awaitable[AccountSnapshot]]
OrderFetcher = Callable[[OrderUpdate], Awaitable[OrderUpdate]]
AccountEventSink = asyncio.Queue[AccountEvent | Reconciled]


class Reconciler:
    """Buffers live events while a gap is open and closes the gap with a snapshot; see the module docstring."""

    def __init__(
        self,
        account: AccountState,
        *,
        fetch_snapshot: SnapshotFetcher | None,
        fetch_order: OrderFetcher,
        backoff: Backoff,
        interval: float | None,
        logger: logging.Logger,
    ) -> None:
        if interval is not None and not interval > 0:
            raise ValueError(f"reconcile_interval must be a positive number of seconds or None, got {interval!r}")
        self.account = account
        self.events: AccountEventSink | None = None
        """Where typed events go (`UserStreamTracker.account_events`); None: only the account state is kept."""
        self._fetch_snapshot = fetch_snapshot
        self._fetch_order = fetch_order
        self._backoff = backoff
        self._interval = interval
        self._logger = logger
        self._lock = asyncio.Lock()  # a reconciliation and a live message never interleave their events
        self._buffer: list[AccountEvent] = []
        self._gap_open = False
        self._gap_reason = ReconcileReason.CONNECTED
        self._gap_started: float | None = None
        self._requested: asyncio.Event | None = None
        self._fetching = False
        self._again: ReconcileReason | None = None
        """Why one more reconciliation is owed once the one in flight is applied (it may predate the cause)."""
        self._applying: set[asyncio.Future[None]] = set()
        """Reconciliations still emitting, possibly after their connection ended (a slow consumer)."""
        self.reconciled_at: float | None = None
        self.reconciliations = 0
        self.failures = 0
        """Consecutive failed snapshot attempts; 0 once one succeeds."""
        self.last_error: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether the connector can fetch a snapshot; without one, live events are applied as they come."""
        return self._fetch_snapshot is not None

    @property
    def gap_open(self) -> bool:
        """Live events are being buffered until a snapshot closes the gap."""
        return self._gap_open

    def open_gap(self, last_known_good: float | None) -> None:
        """A connection is starting: anything pushed since ``last_known_good`` may have been missed."""
        if not self.enabled or self._gap_open:
            return  # a gap already open (a snapshot never succeeded) keeps its start and reason
        self._gap_open = True
        self._gap_reason = ReconcileReason.CONNECTED if self.reconciliations == 0 else ReconcileReason.RECONNECTED
        # A connection may end before its first frame (a listen key needs no handshake): then the last
        # reconciliation is the last moment the account was known complete.
        known = [moment for moment in (last_known_good, self.reconciled_at) if moment is not None]
        self._gap_started = max(known, default=None) if self.reconciliations else None

    def request(self, reason: ReconcileReason) -> None:
        """Reconcile soon, without a reconnect (an unreadable message, say)."""
        if not self.enabled:
            return
        if self._gap_open:
            # A snapshot already in flight may predate what prompted this: take one more after it.
            if self._fetching and self._again is None:
                self._again = reason
        else:
            self._gap_open = True
            self._gap_reason = reason
            self._gap_started = self.reconciled_at
        if self._requested is not None:
            self._requested.set()

    async def offer(self, events: Sequence[AccountEvent]) -> None:
        """Live events parsed from one message: buffered while a gap is open, else applied and passed on."""
        async with self._lock:
            if self._gap_open:
                self._buffer.extend(events)
                return
            for event in events:
                if self.account.apply(event):
                    await self._emit(event)

    async def run(self, output: asyncio.Queue[Any]) -> None:
        """Close the open gap, then keep reconciling (on request or every interval) until cancelled.

        Started once the connection is authenticated and subscribed; cancelled when it ends.
        """
        self._requested = asyncio.Event()
        try:
            while True:
                if self._gap_open:
                    await self._close_gap(output)
                else:
                    await self._wait_for_next_gap()
        finally:
            self._requested = None

    async def close(self) -> None:
        """Cancel reconciliations still emitting after their connection ended (`UserStreamTrackerDataSource.stop`)."""
        pending = list(self._applying)
        for applying in pending:
            applying.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _wait_for_next_gap(self) -> None:
        assert self._requested is not None
        try:
            async with asyncio.timeout(self._interval):
                await self._requested.wait()
        except TimeoutError:
            self.request(ReconcileReason.PERIODIC)
        self._requested.clear()

    async def _close_gap(self, output: asyncio.Queue[Any]) -> None:
        """Fetch snapshots until one succeeds, backing off between failures, then apply it."""
        while True:
            self._fetching = True  # until the snapshot is applied: what arrives before then may postdate it
            try:
                snapshot, closed = await self._fetch()
            except asyncio.CancelledError:
                self._fetching = False
                raise
            except Exception as error:  # noqa: BLE001 - any failure is retried; the gap stays open meanwhile
                self._fetching = False
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                delay = self._backoff.next_delay()
                self._logger.warning(
                    "account snapshot failed (attempt %d): %s; retrying in %.2f s", self.failures, error, delay
                )
                await asyncio.sleep(delay)
                continue
            # Shielded: once the state has moved, the events saying so must all be emitted, even if the
            # connection ends meanwhile (a bounded queue may make the emitting wait). stop() cancels it.
            applying = asyncio.ensure_future(self._apply(snapshot, closed, output))
            self._applying.add(applying)
            applying.add_done_callback(self._applying.discard)
            await asyncio.shield(applying)
            return

    async def _fetch(self) -> tuple[AccountSnapshot, dict[str, OrderUpdate]]:
        assert self._fetch_snapshot is not None  # run() is only started when enabled
        snapshot = await self._fetch_snapshot()
        closed = {}
        for order in self.account.vanished_orders(snapshot):
            closed[order.exchange_order_id] = await self._fetch_order(order)
        return snapshot, closed

    async def _apply(
        self, snapshot: AccountSnapshot, closed: dict[str, OrderUpdate], output: asyncio.Queue[Any]
    ) -> None:
        async with self._lock:
            corrections = self.account.reconcile(snapshot, closed)
            live = [event for event in self._buffer if self.account.apply(event)]
            self._buffer.clear()
            self._gap_open = False
            self._fetching = False
            self._backoff.reset()
            self.failures = 0
            self.last_error = None
            self.reconciliations += 1
            self.reconciled_at = time.time()
            marker = Reconciled(
                reason=self._gap_reason,
                gap_started=self._gap_started,
                reconciled_at=self.reconciled_at,
                events=len(corrections),
            )
            for event in corrections:
                await self._emit(event)
            await output.put(marker.as_message())
            await self._emit(marker)
            for event in live:
                await self._emit(event)
            if self._again is not None:
                reason, self._again = self._again, None
                self.request(reason)
        if corrections:
            self._logger.info("reconciled (%s): %d missed change(s)", marker.reason, len(corrections))

    async def _emit(self, event: AccountEvent | Reconciled) -> None:
        if self.events is not None:
            await self.events.put(event)
