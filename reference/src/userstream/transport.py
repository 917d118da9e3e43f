"""What a data source's supervisor runs: a transport, one connection (or run of polls) per call.

Two implementations: `userstream.websocket_transport.WebSocketTransport` and the REST polling archetype's
`userstream.archetypes.rest_polling.PollingTransport`. Both keep the same `StreamRecord` and deliver through
the same `Delivery`, so `status`, the queue and the account behave alike whichever carries the stream.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from userstream.outbox import Outbox

H = TypeVar("H")


class Transport(Protocol[H]):
    @property
    def connected(self) -> bool:
        """Whether the stream is up: a socket open, or the last poll answered."""
        ...

    async def run(self, output: Outbox[Any], handed_over: H | None) -> H | None:
        """Carry the stream until it fails (an exception) or hands over to a subscribed successor (returned)."""
        ...

    async def release(self, handover: H) -> None:
        """Close a successor that was handed over but never taken up (the listener was cancelled)."""
        ...

    async def close(self) -> None:
        """Close what the transport holds open; `run` may be called again afterwards."""
        ...
