"""Test support for connectors: a loopback fake exchange, its dialects, and an in-memory WebSocket."""

from userstream.testing.dialect import ClientIntent, Credentials, Dialect, ReferenceDialect
from userstream.testing.fake_exchange import Connection, FakeExchange, RestRequest, RestResponse, TimeEndpoint
from userstream.testing.memory import MemoryWebSocket

__all__ = [
    "ClientIntent",
    "Connection",
    "Credentials",
    "Dialect",
    "FakeExchange",
    "MemoryWebSocket",
    "ReferenceDialect",
    "RestRequest",
    "RestResponse",
    "TimeEndpoint",
]
