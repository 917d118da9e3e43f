"""What the reconciliation tests share: the routes they hold or fail, and ways to wait for a reconciliation.

The fixtures built on them (`truth`, `build`, `held_balances`) are in conftest.py; a module using them
speaks a reference dialect (`fake_exchange_dialect`), since the account routes are the reference protocol's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from userstream import AccountEvent, Reconciled, UserStreamTrackerDataSource
from userstream.reconciliation import AccountEventSink
from userstream.testing import FakeExchange
from userstream.testing.contract import WAIT
from userstream.testing.dialects import reference
from userstream.testing.fake_exchange import RestHandler, RestRequest

Build = Callable[..., UserStreamTrackerDataSource]
"""The ``build`` fixture: ``build(data_source_class=ReconcilingReferenceDataSource, **overrides)``."""


class HeldRoute:
    """A route that reads its reply when the request arrives but sends it only once `release` is set.

    So the reply is as old as the request: what a snapshot in flight looks like to the events that overtake it.
    """

    def __init__(self, handler: RestHandler) -> None:
        self.handler = handler
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.requests = 0

    async def __call__(self, request: RestRequest) -> Any:
        self.requests += 1
        reply = self.handler(request)
        self.arrived.set()
        await self.release.wait()
        return reply


class FailingLookups:
    """The single-order route, failing its first ``failures`` requests with HTTP 503 (`ReferenceAccount.fail_next`)."""

    def __init__(self, account: reference.ReferenceAccount, failures: int) -> None:
        self.account = account
        self.failures = failures
        self.requests = 0
        self.serve = account.signed(account.order_reply)

    def __call__(self, request: RestRequest) -> Any:
        self.requests += 1
        if self.requests <= self.failures:
            self.account.fail_next()
        return self.serve(request)


async def next_message(queue: asyncio.Queue[Any]) -> Any:
    async with asyncio.timeout(WAIT):
        return await queue.get()


async def until_reconciled(events: AccountEventSink) -> tuple[list[AccountEvent], Reconciled]:
    """The typed events up to the next `Reconciled` notice, and the notice."""
    received: list[AccountEvent] = []
    while not isinstance(event := await next_message(events), Reconciled):
        received.append(event)
    return received, event


def requests_to(exchange: FakeExchange, path: str) -> int:
    return sum(1 for request in exchange.rest_requests if request.path == path)


def unreadable(event: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A pending user event with a price no parser can read."""
    channel, data = event
    return {"channel": channel, "data": {**data, "price": "abc"}}
