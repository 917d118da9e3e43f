"""Single-flight credential fetching: however many reconnects ask at once, one key or token is minted.

Two concurrent fetches of a listen key would mint two keys and split one account's events between
two sockets (a known ccxt failure); every archetype fetches through a `SingleFlight`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """A cached value fetched by at most one coroutine at a time.

    Callers that arrive while a fetch is in flight await that same fetch. The value is kept until
    `invalidate()` or until ``ttl`` seconds have passed; a failed fetch caches nothing, so the next
    caller tries again.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        *,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._value: T | None = None
        self._has_value = False
        self._fetched_at = 0.0
        self._in_flight: asyncio.Future[T] | None = None
        self.fetch_count = 0
        """How many fetches were started: the number of keys or tokens minted."""

    @property
    def cached(self) -> T | None:
        """The current value without fetching, or None."""
        return self._value if self._has_value and not self._expired() else None

    async def get(self) -> T:
        if self._has_value and not self._expired():
            return self._value  # type: ignore[return-value]
        if self._in_flight is None:
            self._in_flight = asyncio.ensure_future(self._run_fetch())
        # shield: one caller's cancellation must not cancel the fetch the others are waiting on.
        return await asyncio.shield(self._in_flight)

    def invalidate(self) -> None:
        """Forget the value; the next `get()` fetches a new one."""
        self._value = None
        self._has_value = False

    async def close(self) -> None:
        """Forget the value and cancel a fetch in flight."""
        self.invalidate()
        if self._in_flight is not None and not self._in_flight.done():
            self._in_flight.cancel()
            await asyncio.wait([self._in_flight])
        self._in_flight = None

    async def _run_fetch(self) -> T:
        self.fetch_count += 1
        try:
            value = await self._fetch()
        finally:
            self._in_flight = None
        self._value = value
        self._has_value = True
        self._fetched_at = self._clock()
        return value

    def _expired(self) -> bool:
        return self._ttl is not None and self._clock() - self._fetched_at >= self._ttl


class ConnectionCredential(Generic[T]):
    """A credential fetched over REST before every connection: a listen key (Binance), a token (KuCoin, Kraken).

    `fresh()` fetches one for the connection about to open, so a reconnect never dials with one the exchange may
    have expired or revoked meanwhile; callers that overlap share one fetch (`SingleFlight`), so however many
    reconnects ask at once, the exchange mints one. What it returns is concealed at once (whoever holds it reads
    the account's stream) and kept as `current` until `discard()` or `close()`.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        *,
        secret: Callable[[T], str],
        conceal: Callable[[str], str] | None,
    ) -> None:
        self._flight: SingleFlight[T] = SingleFlight(fetch)
        self._secret = secret
        self._conceal = conceal
        self.current: T | None = None
        """The credential the current (or last) connection uses; None before the first and once discarded."""

    @property
    def fetch_count(self) -> int:
        """How many fetches were made: the number of keys or tokens minted."""
        return self._flight.fetch_count

    async def fresh(self) -> T:
        # Invalidating first and then joining the flight means concurrent callers still share one fetch.
        self._flight.invalidate()
        value = await self._flight.get()
        if self._conceal is not None:
            self._conceal(self._secret(value))
        self.current = value
        return value

    def discard(self) -> None:
        """Forget it: the exchange refused it or ended the stream."""
        self._flight.invalidate()
        self.current = None

    async def close(self) -> None:
        """Forget it and cancel a fetch in flight (its credential expires unused)."""
        await self._flight.close()
        self.current = None
