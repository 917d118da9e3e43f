"""The supervisor: runs a transport's connections one after another, backing off between them, until cancelled.

It owns what every transport shares once a connection has ended: recording why (in the exchange's words, redacted,
logged at the level the cause deserves), forgetting credentials the exchange refused, and waiting a backoff delay
(none after a make-before-break handover: the successor is subscribed already).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import aiohttp

from userstream.backoff import Backoff
from userstream.errors import (
    AuthenticationError,
    ConnectionLost,
    HandshakeTimeout,
    RestError,
    ServerRequestedReconnect,
    StaleConnection,
    SubscriptionError,
)
from userstream.outbox import Logger
from userstream.record import StreamRecord
from userstream.status import StreamState

H = TypeVar("H")
"""What a connection hands over to the next when it is replaced make-before-break (a subscribed successor)."""

Connect = Callable[[H | None], Awaitable[H | None]]
"""Runs one connection (from a handover, if given) until it ends: by an exception, or by handing over."""


class Supervisor(Generic[H]):
    """See the module docstring; its state is the record's and the backoff's, both public."""

    def __init__(
        self,
        backoff: Backoff,
        record: StreamRecord,
        *,
        logger: Logger,
        redact: Callable[[str], str],
        discard_credentials: Callable[[], None],
    ) -> None:
        self.backoff = backoff
        self.record = record
        self._logger = logger
        self._redact = redact
        self._discard_credentials = discard_credentials

    async def run(self, connect: Connect[H], release: Callable[[H], Awaitable[None]]) -> None:
        """Run ``connect`` again and again; on cancellation, ``release`` a handover not yet taken up."""
        record = self.record
        handover: H | None = None
        try:
            while True:
                try:
                    handover = await connect(handover)
                except Exception as error:  # noqa: BLE001 - whatever ended the connection, back off and retry
                    handover = None
                    self.failed(error)
                self.backoff.connection_ended(record.streamed_for())
                if handover is not None:
                    continue  # handed over: subscribed already, nothing missed, no reason to wait
                await self.wait(self.backoff.next_delay(), "reconnecting")
                record.reconnect_count += 1
        finally:
            if handover is not None:  # cancelled between a handover and the successor's first read
                await release(handover)

    async def wait(self, delay: float, doing: str) -> None:
        """Back off for ``delay`` seconds in `StreamState.BACKING_OFF` (the next connection sets its own phase)."""
        self.record.state = StreamState.BACKING_OFF
        self._logger.info("%s in %.2f s (attempt %d)", doing, delay, self.backoff.attempt)
        await asyncio.sleep(delay)

    def failed(self, error: Exception) -> None:
        """Record and log why a connection (or a poll) ended; forget credentials the exchange refused."""
        if isinstance(error, AuthenticationError | ServerRequestedReconnect):
            self._discard_credentials()
        text = self._redact(str(error) or type(error).__name__)
        self.record.last_error = last_error = f"{type(error).__name__}: {text}"
        if isinstance(error, AuthenticationError):
            self._logger.error("authentication rejected by the exchange: %s", text)
        elif isinstance(error, ConnectionLost | StaleConnection | HandshakeTimeout | SubscriptionError | RestError):
            self._logger.warning("%s", text)
        elif isinstance(error, ServerRequestedReconnect):
            self._logger.info("the exchange ended the stream: %s", text)
        elif isinstance(error, TimeoutError | OSError | aiohttp.ClientError):
            self._logger.warning("could not connect: %s", last_error)
        else:
            self._logger.error("unexpected error in the user stream: %s", last_error, exc_info=error)
