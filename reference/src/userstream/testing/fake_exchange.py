"""A fake exchange on 127.0.0.1 (port 0): a real aiohttp server with a WebSocket and REST endpoints.

Tests script it: it checks logins (signatures included), answers subscribes and pings, pushes
user events, and injects the faults a real exchange produces (a dropped TCP connection, a
close with a code, a silent half-open socket, a malformed frame, a rejected login). It records
what clients sent and how many connections are open. The same session logic also serves
in-memory sockets (`connect_in_memory`), for fast tests that need no port at all.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import parse_qsl, urlsplit

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web
from aiohttp.test_utils import TestServer

from userstream.frames import ConnectionTarget
from userstream.testing.dialect import ClientIntent, Credentials, Dialect, ReferenceDialect
from userstream.testing.memory import MemoryWebSocket
from userstream.timings import StreamTimings

WS_PATH = "/ws"


class _ServerSocket(Protocol):
    """The server end of one connection, loopback or in-memory."""

    async def receive(self) -> WSMessage: ...

    async def send_str(self, data: str) -> None: ...

    async def pong(self, message: bytes = b"") -> None: ...

    async def ping(self, message: bytes = b"") -> None: ...

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> bool: ...

    def abort(self) -> None: ...


class _AiohttpServerSocket:
    def __init__(self, response: web.WebSocketResponse, request: web.Request) -> None:
        self._response = response
        self._request = request

    async def receive(self) -> WSMessage:
        return await self._response.receive()

    async def send_str(self, data: str) -> None:
        await self._response.send_str(data)

    async def pong(self, message: bytes = b"") -> None:
        await self._response.pong(message)

    async def ping(self, message: bytes = b"") -> None:
        await self._response.ping(message)

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> bool:
        return await self._response.close(code=code, message=message)

    def abort(self) -> None:
        if self._request.transport is not None:
            self._request.transport.abort()


@dataclass
class Connection:
    """One client connection as the exchange sees it."""

    id: int
    socket: _ServerSocket = field(repr=False)
    opened_at: float
    path: str = WS_PATH
    query: Mapping[str, str] = field(default_factory=dict)
    """The event loop's clock when the connection was accepted."""
    open: bool = True
    pongs: int = 0
    """Protocol pongs the client sent (answers to `FakeExchange.ping_connections`)."""
    pings: int = 0
    """Protocol pings the client sent (its keepalives, where the exchange has no app-level ping)."""
    client_close_code: int | None = None
    """The code of the client's close frame; None while open or if the client vanished without one."""
    silent: bool = False
    authenticated: bool = False
    handshaken_at: float | None = None
    """The event loop's clock when the exchange last accepted this connection's login or subscribe."""
    closed_at: float | None = None
    """The event loop's clock when the connection ended."""
    subscriptions: list[Any] = field(default_factory=list)
    received: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class RestRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    """Looked up case-insensitively, as HTTP headers are."""
    body: str
    query_string: str = ""
    """The query exactly as sent (signatures are computed over it, so order and encoding matter)."""


@dataclass(frozen=True)
class RestResponse:
    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


RestHandler = Callable[[RestRequest], "RestResponse | Any | Awaitable[RestResponse | Any]"]


class TimeEndpoint:
    """An exchange's REST time endpoint on the fake: its reply shape, and the faults a test scripts.

    Created by `FakeExchange.serve_time`. ``reply`` and ``error`` build the exchange's body from the
    fake's clock (seconds); the endpoint counts its requests, can answer late (``delay``) to catch a
    request in flight, and fails the next calls with the statuses given to `fail_next`.
    """

    def __init__(self, exchange: FakeExchange, reply: Callable[[float], Any], error: Callable[[float], Any]) -> None:
        self._exchange = exchange
        self._reply = reply
        self._error = error
        self._failures: list[int] = []
        self.requests = 0
        self.delay = 0.0

    def fail_next(self, status: int = 503) -> None:
        """Answer the next request with ``status`` and the exchange's error body; call again for several."""
        self._failures.append(status)

    async def __call__(self, request: RestRequest) -> RestResponse:
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        now = self._exchange.now()
        if self._failures:
            return RestResponse(self._error(now), self._failures.pop(0))
        return RestResponse(self._reply(now))


class FakeExchange:
    """A scriptable exchange for tests: ``async with FakeExchange() as exchange:``, or the ``fake_exchange`` fixture."""

    def __init__(
        self,
        dialect: Dialect | None = None,
        credentials: Credentials | None = None,
        *,
        clock_skew: float = 0.0,
    ) -> None:
        self.dialect = dialect or ReferenceDialect()
        self.credentials = credentials or Credentials()
        self.clock_skew = clock_skew
        """Seconds the exchange's clock runs ahead of ours (negative: behind)."""
        self.connections: list[Connection] = []
        self.received: list[tuple[int, Any]] = []
        """Every message any client sent, as ``(connection id, message)``, in arrival order."""
        self.rest_requests: list[RestRequest] = []
        self.refused_connections: list[tuple[str, Mapping[str, str], str]] = []
        """WebSocket upgrades the dialect refused, as ``(path, query, reason)``."""
        self._rest_routes: dict[tuple[str, str], RestHandler] = {("GET", "/time"): self._server_time}
        self._login_rejections: list[str] = []
        self._subscribe_rejections: list[str] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None
        self._memory_sessions: set[asyncio.Task[None]] = set()
        self._announced_closes: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(WS_PATH, self._websocket_handler)
        app.router.add_get(WS_PATH + "/{rest:.*}", self._websocket_handler)
        app.router.add_route("*", "/{path:.*}", self._rest_handler)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()

    async def close(self) -> None:
        """Close every connection (code 1001) and stop the server."""
        for announced in self._announced_closes:
            announced.cancel()
        if self._announced_closes:
            await asyncio.wait(self._announced_closes)
        await self.close_connections(code=WSCloseCode.GOING_AWAY)
        if self._memory_sessions:
            await asyncio.wait(self._memory_sessions)
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def rest_url(self) -> str:
        return str(self._running_server().make_url("")).rstrip("/")

    @property
    def ws_url(self) -> str:
        return str(self._running_server().make_url(WS_PATH)).replace("http", "ws", 1)

    # --- what the exchange has seen ---------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        return sum(1 for connection in self.connections if connection.open)

    @property
    def subscribed_connections(self) -> int:
        return sum(1 for connection in self.connections if connection.open and connection.subscriptions)

    def messages(self, intent: ClientIntent) -> list[Any]:
        """What clients sent of one kind (logins, subscribes, pings), in arrival order."""
        return [message for _, message in self.received if self.dialect.classify_client(message) is intent]

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        """Wait until ``condition()`` holds; it is re-checked whenever the exchange's state changes."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(condition)
        except TimeoutError:
            raise TimeoutError(f"fake exchange: {what} did not happen within {timeout:g} s") from None

    async def wait_for_subscribed(self, connections: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``connections`` connections since start have subscribed and the latest is still open.

        After a fault, ``wait_for_subscribed(2)`` waits for the client's reconnection.
        """

        def reached() -> bool:
            subscribed = [c for c in self.connections if c.subscriptions]
            return len(subscribed) >= connections and subscribed[-1].open

        await self.wait_until(reached, timeout, f"{connections} subscribed connection(s)")

    # --- scripting ----------------------------------------------------------------------------------

    async def push(self, message: Any, *, to: Connection | None = None) -> int:
        """Send ``message`` (as JSON, or as-is if a str) to one connection or every open, non-silent one.

        Returns how many connections it was sent to.
        """
        text = message if isinstance(message, str) else json.dumps(message)
        delivered = 0
        for connection in self._live_connections() if to is None else [to] if to.open and not to.silent else []:
            try:
                await connection.socket.send_str(text)
                delivered += 1
            except ConnectionError:
                continue
        return delivered

    async def ping_connections(self, payload: bytes = b"fake-exchange") -> int:
        """Send a protocol ping to every open, non-silent connection, as Binance's servers do; return how many.

        Each connection counts the client's answers in `Connection.pongs`.
        """
        pinged = 0
        for connection in self._live_connections():
            try:
                await connection.socket.ping(payload)
                pinged += 1
            except ConnectionError:
                continue
        return pinged

    async def push_event(self, channel: str, data: Any) -> int:
        """Push one user event, shaped as this exchange shapes them."""
        return await self.push(self.dialect.user_event(channel, data))

    async def push_heartbeat(self) -> int:
        return await self.push(self.dialect.heartbeat())

    async def send_malformed(self, text: str = "this is not JSON {") -> int:
        return await self.push(text)

    async def drop_connections(self) -> None:
        """Abort every open connection's TCP transport: no close frame, as when a network path dies.

        Returns once the exchange has seen them end, so a following wait sees only new connections.
        """
        victims = self._live_connections(include_silent=True)
        for connection in victims:
            connection.socket.abort()
        await self._ended(victims)

    async def close_connections(self, code: int = WSCloseCode.GOING_AWAY, reason: str = "") -> None:
        """Close every open connection with a close frame carrying ``code``; return once they have ended."""
        victims = self._live_connections(include_silent=True)
        for connection in victims:
            try:
                await connection.socket.close(code=code, message=reason.encode())
            except ConnectionError:
                continue
        await self._ended(victims)

    async def announce_close(
        self, notice: Any, *, after: float, code: int = WSCloseCode.GOING_AWAY
    ) -> list[Connection]:
        """Push ``notice`` to every open connection, go on serving them for ``after`` seconds, then close them.

        What an exchange does before a service upgrade (OKX's 64008, Binance's ``serverShutdown``). Connections
        opened meanwhile stay open. Returns the connections that will be closed.
        """
        doomed = self._live_connections()
        for connection in doomed:
            await self.push(notice, to=connection)

        async def close_them() -> None:
            await asyncio.sleep(after)
            for connection in doomed:
                if connection.open:
                    try:
                        await connection.socket.close(code=code, message=b"service upgrade")
                    except ConnectionError:
                        continue
            await self._ended(doomed)

        task = asyncio.create_task(close_them())
        self._announced_closes.add(task)
        task.add_done_callback(self._announced_closes.discard)
        return doomed

    def go_silent(self) -> None:
        """From now on, the connections open now receive no reply, pong or event, but stay open (half-open)."""
        for connection in self._live_connections():
            connection.silent = True

    def reject_next_login(self, reason: str = "invalid signature") -> None:
        """Refuse the next login, whatever its signature. Call again to refuse several in a row."""
        self._login_rejections.append(reason)

    def reject_next_subscribe(self, reason: str = "invalid signature") -> None:
        """Refuse the next subscribe, whatever its signature (a signed-subscribe exchange's "login")."""
        self._subscribe_rejections.append(reason)

    def route(self, method: str, path: str, handler: RestHandler) -> None:
        """Serve ``method path`` with ``handler``, which returns a `RestResponse` or a JSON body (status 200)."""
        self._rest_routes[(method.upper(), path)] = handler

    def serve_time(
        self,
        path: str,
        reply: Callable[[float], Any],
        error: Callable[[float], Any] = lambda now: {"error": "unavailable"},
    ) -> TimeEndpoint:
        """Serve the exchange's time endpoint at ``GET path``, shaped by ``reply`` (and ``error`` when failing)."""
        endpoint = TimeEndpoint(self, reply, error)
        self.route("GET", path, endpoint)
        return endpoint

    def now(self) -> float:
        """The exchange's clock, in seconds."""
        return time.time() + self.clock_skew

    async def connect_in_memory(self, target: ConnectionTarget, timings: StreamTimings) -> MemoryWebSocket:
        """A `userstream.WebSocketFactory`: a connection served by this exchange over an in-memory socket."""
        parts = urlsplit(target.url)
        path, query = parts.path or WS_PATH, dict(parse_qsl(parts.query))
        reason = self.dialect.check_connection(path, query)
        if reason is not None:
            raise ConnectionRefusedError(f"fake exchange refused the connection: {reason}")
        client, server = MemoryWebSocket.pair()
        task = asyncio.create_task(self._serve(server, path, query))
        self._memory_sessions.add(task)
        task.add_done_callback(self._memory_sessions.discard)
        return client

    # --- serving --------------------------------------------------------------------------------------

    async def _websocket_handler(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        reason = self.dialect.check_connection(request.path, query)
        if reason is not None:
            self.refused_connections.append((request.path, query, reason))
            await self._notify()
            return web.json_response({"error": reason}, status=401)
        # autoping off: a silent connection must not answer protocol pings either.
        response = web.WebSocketResponse(autoping=False)
        await response.prepare(request)
        await self._serve(_AiohttpServerSocket(response, request), request.path, query)
        return response

    async def _serve(self, socket: _ServerSocket, path: str, query: Mapping[str, str]) -> None:
        loop = asyncio.get_running_loop()
        connection = Connection(id=next(self._ids), socket=socket, opened_at=loop.time(), path=path, query=query)
        self.connections.append(connection)
        await self._notify()
        try:
            for frame_data in self.dialect.greeting():
                await socket.send_str(frame_data if isinstance(frame_data, str) else json.dumps(frame_data))
            while True:
                frame = await socket.receive()
                if frame.type is WSMsgType.CLOSE:
                    connection.client_close_code = frame.data
                    break
                if frame.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                if frame.type is WSMsgType.PING:
                    connection.pings += 1
                    if not connection.silent:
                        await socket.pong(frame.data)
                    continue
                if frame.type is WSMsgType.PONG:
                    connection.pongs += 1
                    await self._notify()
                    continue
                if frame.type is not WSMsgType.TEXT:
                    continue
                message = self.dialect.parse(frame.data)
                connection.received.append(message)
                self.received.append((connection.id, message))
                if not connection.silent:
                    for reply in self._replies(connection, message):
                        await socket.send_str(reply if isinstance(reply, str) else json.dumps(reply))
                await self._notify()
        except ConnectionError:
            pass
        finally:
            connection.open = False
            connection.closed_at = loop.time()
            await self._notify()

    def _replies(self, connection: Connection, message: Any) -> list[Any]:
        intent = self.dialect.classify_client(message)
        if intent is ClientIntent.LOGIN:
            reason = (
                self._login_rejections.pop(0)
                if self._login_rejections
                else self.dialect.check_login(message, self.credentials, self.now())
            )
            if reason is not None:
                return [self.dialect.login_rejection(message, reason)]
            connection.authenticated = True
            connection.handshaken_at = asyncio.get_running_loop().time()
            return [self.dialect.login_ack(message)]
        if intent is ClientIntent.SUBSCRIBE:
            if self.dialect.requires_login and not connection.authenticated:
                return [self.dialect.subscribe_rejection(message, "login required")]
            reason = (
                self._subscribe_rejections.pop(0)
                if self._subscribe_rejections
                else self.dialect.check_subscribe(message, self.credentials, self.now())
            )
            if reason is not None:
                return [self.dialect.subscribe_rejection(message, reason)]
            connection.subscriptions.append(message)
            connection.handshaken_at = asyncio.get_running_loop().time()
            return self.dialect.subscribe_replies(message)
        if intent is ClientIntent.PING:
            return [self.dialect.pong(message)]
        return []

    async def _rest_handler(self, request: web.Request) -> web.Response:
        rest_request = RestRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=request.headers,
            body=await request.text(),
            query_string=request.raw_path.partition("?")[2],
        )
        self.rest_requests.append(rest_request)
        await self._notify()
        handler = self._rest_routes.get((request.method, request.path))
        if handler is None:
            return web.json_response({"error": f"no route {request.method} {request.path}"}, status=404)
        result = handler(rest_request)
        if isinstance(result, Awaitable):
            result = await result
        response = result if isinstance(result, RestResponse) else RestResponse(result)
        return web.json_response(response.body, status=response.status, headers=dict(response.headers))

    def _server_time(self, request: RestRequest) -> RestResponse:
        return RestResponse({"serverTime": int(self.now() * 1000)})

    async def _ended(self, connections: list[Connection]) -> None:
        await self.wait_until(
            lambda: not any(c.open for c in connections), what=f"{len(connections)} connection(s) to end"
        )

    def _live_connections(self, *, include_silent: bool = False) -> list[Connection]:
        return [c for c in self.connections if c.open and (include_silent or not c.silent)]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _running_server(self) -> TestServer:
        if self._server is None:
            raise RuntimeError("the fake exchange is not running; use `async with FakeExchange()` or call start()")
        return self._server
