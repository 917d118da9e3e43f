"""SingleFlight: concurrent reconnects share one credential fetch."""

from __future__ import annotations

import asyncio

import pytest

from userstream.credentials import SingleFlight


class Minter:
    def __init__(self, delay: float = 0.05, fail_first: int = 0) -> None:
        self.delay = delay
        self.fail_first = fail_first
        self.minted: list[str] = []

    async def __call__(self) -> str:
        await asyncio.sleep(self.delay)
        if self.fail_first:
            self.fail_first -= 1
            raise ConnectionError("exchange busy")
        self.minted.append(f"key-{len(self.minted) + 1}")
        return self.minted[-1]


async def test_concurrent_callers_share_one_fetch() -> None:
    minter = Minter()
    flight = SingleFlight(minter)
    keys = await asyncio.gather(*(flight.get() for _ in range(10)))
    assert keys == ["key-1"] * 10
    assert (minter.minted, flight.fetch_count) == (["key-1"], 1)


async def test_the_value_is_cached_until_invalidated() -> None:
    flight = SingleFlight(Minter(delay=0))
    assert await flight.get() == "key-1"
    assert await flight.get() == "key-1"
    assert flight.cached == "key-1"
    flight.invalidate()
    assert flight.cached is None
    assert await flight.get() == "key-2"


async def test_the_value_expires_after_its_ttl() -> None:
    now = [0.0]
    flight = SingleFlight(Minter(delay=0), ttl=60, clock=lambda: now[0])
    assert await flight.get() == "key-1"
    now[0] = 59.9
    assert await flight.get() == "key-1"
    now[0] = 60.0
    assert await flight.get() == "key-2"


async def test_a_failed_fetch_reaches_every_waiter_and_caches_nothing() -> None:
    flight = SingleFlight(Minter(fail_first=1))
    results = await asyncio.gather(flight.get(), flight.get(), return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await flight.get() == "key-1"
    assert flight.fetch_count == 2


async def test_one_cancelled_waiter_does_not_cancel_the_fetch_for_the_others() -> None:
    flight = SingleFlight(Minter(delay=0.1))
    impatient = asyncio.create_task(flight.get())
    patient = asyncio.create_task(flight.get())
    await asyncio.sleep(0.02)
    impatient.cancel()
    assert await patient == "key-1"
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_close_cancels_a_fetch_in_flight_and_forgets_the_value() -> None:
    minter = Minter(delay=10)
    flight = SingleFlight(minter)
    waiter = asyncio.create_task(flight.get())
    await asyncio.sleep(0.01)
    await flight.close()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert flight.cached is None
    assert minter.minted == []
