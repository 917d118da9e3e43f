"""Reconciliation: after every gap, the account is read over REST and the stream's view corrected.

A data source owns one `Reconciler`. When a connection starts, a gap opens: from then on the typed
events parsed from live messages are buffered instead of applied. Once the connection is authenticated
and subscribed, the reconciler fetches a snapshot (balances, open orders, recent fills, and the state of
each order that vanished from the open list), applies it, then applies the buffered events in arrival
order. So an older snapshot never overwrites a newer live event, and nothing pushed while the stream
was away goes unseen: the differences are emitted as typed events marked `EventSource.RECONCILIATION`,
followed by a gap marker on ``user_stream``. A failed snapshot is retried with backoff and reported in
`StreamStatus`; the gap stays open (and live events buffered) until a snapshot succeeds.

Two bounds keep a misbehaving exchange from holding the gap open or memory growing for ever:

- **An order the exchange cannot describe.** An order that left the open list is looked up on its own
  (`fetch_order`). If that lookup fails ``lookup_attempts`` snapshots in a row (a 404 for an order the
  exchange no longer knows), the order is settled as `OrderStatus.UNKNOWN`: the snapshot says it is off
  the book, only how it ended is unknown. `orders_settled_unknown` counts them.
- **The live-event buffer.** Past ``max_buffered`` events it is dropped: a snapshot that starts after the
  drop shows everything the dropped events said, so nothing is lost; a snapshot already in flight may
  predate some of them, so its result is discarded and a new one fetched at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from userstream.account import AccountSnapshot, AccountState, SnapshotScope
from userstream.backoff import Backoff
from userstream.events import AccountEvent, BalanceUpdate, OrderStatus, OrderUpdate, Reconciled, ReconcileReason
from userstream.outbox import Logger, Outbox
from userstream.rest import MAX_RETRY_AFTER, RateLimited

SnapshotFetcher = Callable[[SnapshotScope], Awaitable[AccountSnapshot]]
OrderFetcher = Callable[[OrderUpdate], Awaitable[OrderUpdate]]
AccountEventSink = asyncio.Queue[AccountEvent | Reconciled]
Deliver = Callable[[Any], Awaitable[None]]
"""Puts a message on ``user_stream`` behind the raw messages already given to it (the gap marker)."""

LOOKUP_ATTEMPTS = 3
MAX_BUFFERED_EVENTS = 100_000
HISTORY_OVERLAP = 60.0
"""Seconds of history read from before the gap started: covers clock differences and events still in flight
when the last frame arrived. What is read twice is recognised (by trade id, by an order's final state)."""


class OrderLookupFailed(Exception):
    """An order that left the open list could not be looked up; the snapshot attempt fails and is retried."""


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
        logger: Logger,
        redact: Callable[[str], str] = str,
        lookup_attempts: int = LOOKUP_ATTEMPTS,
        max_buffered: int = MAX_BUFFERED_EVENTS,
        symbols: frozenset[str] = frozenset(),
    ) -> None:
        if interval is not None and not interval > 0:
            raise ValueError(f"reconcile_interval must be a positive number of seconds or None, got {interval!r}")
        if lookup_attempts < 1:
            raise ValueError(f"order lookup attempts must be at least 1, got {lookup_attempts!r}")
        if max_buffered < 1:
            raise ValueError(f"max_buffered_events must be at least 1, got {max_buffered!r}")
        self.account = account
        self.events: Outbox[AccountEvent | Reconciled] | None = None
        """Where typed events go (`UserStreamTracker.account_events`); None: only the account state is kept."""
        self._redact = redact
        self._lookup_attempts = lookup_attempts
        self._max_buffered = max_buffered
        self._symbols = symbols
        self._lookup_failures: dict[str, int] = {}
        """Consecutive failed lookups of each vanished order, until it is found or settled."""
        self._overflowed_while_fetching = False
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
        self._requested: asyncio.Future[None] | None = None
        """Done by `request` to wake a reconciler waiting for its next gap (a future made for each wait: an
        `asyncio.Event` would keep a waiter queue of 0.7 KiB per data source for the rare wake-up)."""
        self._fetching = False
        self._again: ReconcileReason | None = None
        """Why one more reconciliation is owed once the one in flight is applied (it may predate the cause)."""
        self._applying: set[asyncio.Future[bool]] = set()
        """Reconciliations still emitting, possibly after their connection ended (a slow consumer)."""
        self.reconciled_at: float | None = None
        self.reconciliations = 0
        self.failures = 0
        """Consecutive failed snapshot attempts; 0 once one succeeds."""
        self.last_error: str | None = None
        self.orders_settled_unknown = 0
        """Orders settled as `OrderStatus.UNKNOWN` because their lookups kept failing."""
        self.buffer_overflows = 0
        """Times the live-event buffer passed its bound and was dropped in favour of a later snapshot."""

    @property
    def enabled(self) -> bool:
        """Whether the connector can fetch a snapshot; without one, live events are applied as they come."""
        return self._fetch_snapshot is not None

    @property
    def gap_open(self) -> bool:
        """Live events are being buffered until a snapshot closes the gap."""
        return self._gap_open

    @property
    def buffered(self) -> int:
        """Live events held until the open gap closes."""
        return len(self._buffer)

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
        if self._requested is not None and not self._requested.done():
            self._requested.set_result(None)

    def offer(self, events: Sequence[AccountEvent]) -> Awaitable[None] | None:
        """Live events parsed from one message: buffered while a gap is open, else applied and passed on.

        A plain call, done when it returns None: only while a reconciliation is applying its snapshot (the
        events must follow it), or while the typed queue is far behind, it returns what to await first.
        """
        if self._lock.locked():
            return self._offer_after_reconciliation(events)
        if self._take(events):
            assert self.events is not None  # only a typed queue asks to wait
            return self.events.room()
        return None

    async def _offer_after_reconciliation(self, events: Sequence[AccountEvent]) -> None:
        async with self._lock:
            if self._take(events):
                assert self.events is not None
                await self.events.room()

    def _take(self, events: Sequence[AccountEvent]) -> bool:
        """Buffer or apply ``events``; True when the typed queue holds so many that the reader should wait."""
        if self._gap_open:
            self._buffer.extend(events)
            if len(self._buffer) > self._max_buffered:
                self._drop_buffer()
            return False
        wait = False
        outbox = self.events
        for event in events:
            if self.account.apply(event) and outbox is not None:
                wait = outbox.push(event) or wait
        return wait

    def _drop_buffer(self) -> None:
        self._buffer.clear()
        self.buffer_overflows += 1
        if self._fetching:
            self._overflowed_while_fetching = True
        self._logger.warning(
            "more than %d live events arrived while the account snapshot was pending: dropped them, "
            "the next snapshot shows what they said",
            self._max_buffered,
        )

    async def run(self, deliver: Deliver) -> None:
        """Close the open gap, then keep reconciling (on request or every interval) until cancelled.

        Started once the connection is authenticated and subscribed; cancelled when it ends.
        """
        while True:
            if self._gap_open:
                await self._close_gap(deliver)
            else:
                await self._wait_for_next_gap()

    async def close(self) -> None:
        """Cancel reconciliations still emitting after their connection ended (`UserStreamTrackerDataSource.stop`)."""
        pending = list(self._applying)
        for applying in pending:
            applying.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _wait_for_next_gap(self) -> None:
        self._requested = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self._interval):
                await self._requested
        except TimeoutError:
            self.request(ReconcileReason.PERIODIC)
        finally:
            self._requested = None

    async def _close_gap(self, deliver: Deliver) -> None:
        """Fetch snapshots until one succeeds, backing off between failures, then apply it."""
        while True:
            self._fetching = True  # until the snapshot is applied: what arrives before then may postdate it
            self._overflowed_while_fetching = False
            try:
                snapshot, closed = await self._fetch()
            except asyncio.CancelledError:
                self._fetching = False
                raise
            except Exception as error:  # noqa: BLE001 - any failure is retried; the gap stays open meanwhile
                self._fetching = False
                self.failures += 1
                reason = self._redact(str(error))
                self.last_error = f"{type(error).__name__}: {reason}"
                delay = self._backoff.next_delay()
                if isinstance(error, RateLimited) and error.retry_after is not None:
                    delay = max(delay, min(error.retry_after, MAX_RETRY_AFTER))  # the exchange said how long
                self._logger.warning(
                    "account snapshot failed (attempt %d): %s; retrying in %.2f s", self.failures, reason, delay
                )
                await asyncio.sleep(delay)
                continue
            # Shielded: once the state has moved, the events saying so must all be emitted, even if the
            # connection ends meanwhile (a bounded queue may make the emitting wait). stop() cancels it.
            applying = asyncio.ensure_future(self._apply(snapshot, closed, deliver))
            self._applying.add(applying)
            applying.add_done_callback(self._applying.discard)
            if await asyncio.shield(applying):
                return

    async def _apply(self, snapshot: AccountSnapshot, closed: dict[str, OrderUpdate], deliver: Deliver) -> bool:
        """Apply a fetched snapshot, then the buffer; False (nothing applied) if it may predate dropped events."""
        async with self._lock:
            if self._overflowed_while_fetching:
                # Live events were dropped while it was fetched, and it may predate some of them: one taken
                # after them shows what they said.
                self._overflowed_while_fetching = False
                return False
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
            await deliver(marker.as_message())
            await self._emit(marker)
            for event in live:
                await self._emit(event)
            if self._again is not None:
                reason, self._again = self._again, None
                self.request(reason)
        if corrections:
            self._logger.info("reconciled (%s): %d missed change(s)", marker.reason, len(corrections))
        return True

    def scope(self) -> SnapshotScope:
        """What the next snapshot must cover: history since the gap opened, every symbol known to be traded."""
        live = {event.symbol for event in self._buffer if not isinstance(event, BalanceUpdate)}
        return SnapshotScope(
            taken_at=time.time(),
            since=None if self._gap_started is None else self._gap_started - HISTORY_OVERLAP,
            symbols=self._symbols | self.account.symbols | live,
        )

    async def _fetch(self) -> tuple[AccountSnapshot, dict[str, OrderUpdate]]:
        assert self._fetch_snapshot is not None  # run() is only started when enabled
        snapshot = await self._fetch_snapshot(self.scope())
        vanished = self.account.vanished_orders(snapshot)
        for order_id in self._lookup_failures.keys() - {order.exchange_order_id for order in vanished}:
            del self._lookup_failures[order_id]  # back on the list, or settled by a live event meanwhile
        closed = {}
        for order in vanished:
            closed[order.exchange_order_id] = await self._look_up(order)
        return snapshot, closed

    async def _look_up(self, order: OrderUpdate) -> OrderUpdate:
        """A vanished order's state; after ``lookup_attempts`` failed lookups, the order settled as unknown."""
        order_id = order.exchange_order_id
        try:
            found = await self._fetch_order(order)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # counted: the snapshot attempt fails until the bound is reached
            failures = self._lookup_failures.get(order_id, 0) + 1
            reason = self._redact(f"{type(error).__name__}: {error}")
            if failures < self._lookup_attempts:
                self._lookup_failures[order_id] = failures
                raise OrderLookupFailed(
                    f"order {order_id} left the open orders; looking it up failed "
                    f"(attempt {failures} of {self._lookup_attempts}): {reason}"
                ) from error
            self._lookup_failures.pop(order_id, None)
            self.orders_settled_unknown += 1
            self._logger.warning(
                "order %s left the open orders but %d lookups could not say how it ended (%s): settled as unknown",
                order_id,
                failures,
                reason,
            )
            return msgspec.structs.replace(order, status=OrderStatus.UNKNOWN)
        self._lookup_failures.pop(order_id, None)
        return found

    async def _emit(self, event: AccountEvent | Reconciled) -> None:
        if self.events is not None:
            await self.events.put(event)
