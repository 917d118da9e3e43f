"""The one I/O loop of a private user stream.

A connector subclasses `UserStreamTrackerDataSource` and supplies only its exchange's specifics,
as small methods that build messages and classify frames (no I/O, so they test without a
network). This class owns everything that is hard and shared: connecting with a timeout,
pings, the staleness watchdog, reconnecting with backoff, handling rejections and malformed
frames, and leaving nothing behind on cancellation or `stop()`.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import json
import logging
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast, overload
from urllib.parse import urlencode

import aiohttp

from userstream.account import AccountSnapshot, AccountState, SnapshotScope
from userstream.auth import MarketAuth
from userstream.backoff import Backoff, ReconnectPolicy
from userstream.credentials import SingleFlight
from userstream.errors import (
    AuthenticationError,
    ConnectionLost,
    HandshakeTimeout,
    RestError,
    ServerRequestedReconnect,
    StaleConnection,
    SubscriptionError,
)
from userstream.events import AccountEvent, BalanceUpdate, OrderUpdate, Reconciled, ReconcileReason, TradeFill
from userstream.frames import (
    SHAPE_ERRORS,
    ConnectionTarget,
    FrameKind,
    OutgoingMessage,
    WebSocketLike,
    decode_reply,
    encode_message,
    excerpt,
)
from userstream.outbox import Outbox
from userstream.overlap import Overlap, Side
from userstream.reconciliation import LOOKUP_ATTEMPTS, MAX_BUFFERED_EVENTS, AccountEventSink, Reconciler
from userstream.redaction import RedactingLogger, origin, without_urls
from userstream.status import StreamState, StreamStatus
from userstream.timings import StreamTimings

WebSocketFactory = Callable[[ConnectionTarget, StreamTimings], Awaitable[WebSocketLike]]
"""Opens a WebSocket for a target; the default uses aiohttp, tests may pass an in-memory one."""

ConnectionJob = Callable[[], Coroutine[Any, Any, None]]
"""Background work that lives exactly as long as one connection (a listen-key keepalive)."""

_CLOSING_TYPES = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)
_EVENT_TYPES = (BalanceUpdate, OrderUpdate, TradeFill)
_SHORTEST_CONCEALED_HEADER = 16
"""Signed-header values this long are concealed; shorter ones are timestamps and versions."""
_PHASE: contextvars.ContextVar[StreamState | None] = contextvars.ContextVar("userstream_connection_phase", default=None)
"""The phase of the connection whose task is running: during a handover two connections are in different phases."""


@dataclass(eq=False)
class _Link:
    """One connection and what belongs to it alone; it ends with the connection."""

    websocket: WebSocketLike
    timings: StreamTimings
    primary: bool
    """Its phase is the data source's state (a successor being subscribed is not, until it takes over)."""
    closing_soon: asyncio.Event = field(default_factory=asyncio.Event)
    """The exchange announced the connection's end (`FrameKind.CLOSING_SOON`)."""
    overlap: Overlap | None = None
    """While it and the other connection of a handover are both subscribed: what each has delivered."""
    side: Side = Side.PREDECESSOR
    overlap_ends: float | None = None
    """The loop time after which a successor stops looking for its predecessor's echoes."""


class UserStreamTrackerDataSource(abc.ABC):
    """Connects, authenticates, subscribes, and puts every user message on a queue, forever.

    Override `classify` (required) and whichever of `connection_target`, `login_messages`,
    `subscribe_messages`, `expected_subscribe_acks`, `ping_message`, `decode_frame`,
    `describe_rejection` and `on_stop` the exchange needs. For typed events and a live `account`,
    override `parse_account_events`; for reconciliation after every gap, `fetch_account_snapshot`
    and `fetch_order` too.
    """

    WS_URL: ClassVar[str | None] = None
    """The exchange's private WebSocket URL, used when the constructor gets no ``ws_url``."""
    REST_URL: ClassVar[str | None] = None
    """The exchange's REST base URL, used when the constructor gets no ``rest_url``."""
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = StreamTimings()
    DEFAULT_RECONNECT: ClassVar[ReconnectPolicy] = ReconnectPolicy()
    AWAIT_READY: ClassVar[bool] = False
    """Wait for a frame classified `FrameKind.READY` before logging in or subscribing (KuCoin's ``welcome``)."""
    SERVER_TIME_PATH: ClassVar[str | None] = None
    """The exchange's REST time endpoint, for measuring clock skew (Binance: ``/api/v3/time``)."""
    REST_TIMEOUT: ClassVar[float] = 10.0
    RECONCILE_INTERVAL: ClassVar[float | None] = None
    """Seconds between reconciliations while connected, on top of the one after every (re)connect; None: none."""
    MAX_HELD_MESSAGES: ClassVar[int] = 10_000
    """While a bounded ``user_stream`` (or ``account_events``) is full, up to this many more messages are held in
    memory so the connection is kept alive (pings answered); past it the reader waits for the consumer."""
    QUEUE_WARNING_DEPTH: ClassVar[int | None] = 10_000
    """Log one warning when this many messages wait for the consumer (again after it catches up); None: never."""
    MAX_BUFFERED_EVENTS: ClassVar[int] = MAX_BUFFERED_EVENTS
    """Live typed events buffered while a gap is open; past it they are dropped and a later snapshot shows them."""
    ORDER_LOOKUP_ATTEMPTS: ClassVar[int] = LOOKUP_ATTEMPTS
    """Snapshots in a row in which a vanished order's lookup may fail before it is settled as unknown."""
    MAX_CONNECTION_AGE: ClassVar[float | None] = None
    """Seconds after which a connection is replaced make-before-break, before the exchange ends it (Binance: 24 h)."""

    def __init__(
        self,
        auth: MarketAuth | None = None,
        *,
        ws_url: str | None = None,
        rest_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timings: StreamTimings | None = None,
        reconnect: ReconnectPolicy | None = None,
        websocket_factory: WebSocketFactory | None = None,
        rng: random.Random | None = None,
        reconcile_interval: float | None = None,
        max_held_messages: int | None = None,
        queue_warning_depth: int | None = None,
        symbols: Iterable[str] = (),
    ) -> None:
        self.auth = auth
        resolved_ws_url = self.WS_URL if ws_url is None else ws_url
        if resolved_ws_url is None:
            raise TypeError(f"{type(self).__name__} needs ws_url= (or a WS_URL class attribute)")
        self.ws_url: str = resolved_ws_url
        self.rest_url = self.REST_URL if rest_url is None else rest_url
        self.timings = timings or self.DEFAULT_TIMINGS
        self.logger = RedactingLogger(logging.getLogger(f"userstream.{type(self).__name__}"), self.redact)
        self.max_held_messages = self.MAX_HELD_MESSAGES if max_held_messages is None else max_held_messages
        self.queue_warning_depth = self.QUEUE_WARNING_DEPTH if queue_warning_depth is None else queue_warning_depth
        if self.max_held_messages < 0:
            raise ValueError(f"max_held_messages must be 0 or more, got {self.max_held_messages!r}")
        if self.queue_warning_depth is not None and self.queue_warning_depth < 1:
            raise ValueError(f"queue_warning_depth must be at least 1 or None, got {self.queue_warning_depth!r}")
        self._user_stream: Outbox[Any] | None = None
        self._account_events: Outbox[AccountEvent | Reconciled] | None = None
        self._session = session
        self._owns_session = session is None
        self._websocket_factory = websocket_factory
        rng = rng or random.Random()
        self._backoff = Backoff(reconnect or self.DEFAULT_RECONNECT, rng)
        self._listener: asyncio.Task[Any] | None = None
        self._websocket: WebSocketLike | None = None
        self._state = StreamState.IDLE
        self._last_recv_time = 0.0
        self._reconnect_count = 0
        self._messages_queued = 0
        self._malformed_frames = 0
        self._last_error: str | None = None
        self._unparsed_messages = 0
        self._handovers = 0
        self._streaming_since: float | None = None
        self._account = AccountState()
        overrides_snapshot = type(self).fetch_account_snapshot is not UserStreamTrackerDataSource.fetch_account_snapshot
        self._reconciler = Reconciler(
            self._account,
            fetch_snapshot=self.fetch_account_snapshot if overrides_snapshot else None,
            fetch_order=self.fetch_order,
            backoff=Backoff(reconnect or self.DEFAULT_RECONNECT, rng),  # its own count: a snapshot is not a connection
            interval=self.RECONCILE_INTERVAL if reconcile_interval is None else reconcile_interval,
            logger=self.logger,
            redact=self.redact,
            lookup_attempts=self.ORDER_LOOKUP_ATTEMPTS,
            max_buffered=self.MAX_BUFFERED_EVENTS,
            symbols=_symbols(symbols),
        )
        # Rejections that arrive together (a login and a signed REST call) share one time request.
        self._clock_sync: SingleFlight[float] = SingleFlight(self._measure_server_time, ttl=0)
        self.configure()

    # --- public API -----------------------------------------------------------------------------

    @property
    def last_recv_time(self) -> float:
        """`time.time()` of the last frame received (data, heartbeat or pong); 0.0 before the first."""
        return self._last_recv_time

    @property
    def status(self) -> StreamStatus:
        return StreamStatus(
            state=self._state,
            connected=self._websocket is not None and not self._websocket.closed,
            last_recv_time=self._last_recv_time,
            reconnect_count=self._reconnect_count,
            messages_queued=self._messages_queued,
            malformed_frames=self._malformed_frames,
            last_error=self._last_error,
            unparsed_messages=self._unparsed_messages,
            reconciling=self._reconciler.gap_open,
            reconciled_at=self._reconciler.reconciled_at,
            reconcile_failures=self._reconciler.failures,
            last_reconcile_error=self._reconciler.last_error,
            queue_depth=0 if self._user_stream is None else self._user_stream.depth,
            account_events_depth=0 if self._account_events is None else self._account_events.depth,
            buffered_events=self._reconciler.buffered,
            buffer_overflows=self._reconciler.buffer_overflows,
            orders_settled_unknown=self._reconciler.orders_settled_unknown,
            handovers=self._handovers,
        )

    @property
    def account(self) -> AccountState:
        """Balances and open orders as the typed events (and reconciliations) have left them; read at any time."""
        return self._account

    @property
    def account_events(self) -> AccountEventSink | None:
        """Where typed events and `Reconciled` notices go, in order; None (the default) keeps only `account`."""
        return None if self._account_events is None else self._account_events.queue

    @account_events.setter
    def account_events(self, queue: AccountEventSink | None) -> None:
        self._account_events = None if queue is None else self._outbox(queue, "account_events")
        self._reconciler.events = self._account_events

    def redact(self, text: str) -> str:
        """``text`` as it may be written anywhere: URLs cut to their origin, every credential blanked.

        The one redaction point: log lines (through `logger`), `status` errors and the messages of the
        exceptions this data source raises all pass through it.
        """
        text = without_urls(text)
        return text if self.auth is None else self.auth.redact(text)

    def quote(self, text: str | bytes, limit: int = 120) -> str:
        """A short excerpt of ``text`` (a frame, a reply) for a log line or an error: redacted, then cut."""
        return excerpt(self.redact(text.decode("utf-8", "replace") if isinstance(text, bytes) else text), limit)

    def request_reconciliation(self) -> None:
        """Reconcile as soon as the stream is up (after an order call whose outcome is unknown, say)."""
        self._reconciler.request(ReconcileReason.REQUESTED)

    @property
    def reconciles(self) -> bool:
        """Whether this connector fetches a snapshot after every gap (it overrides `fetch_account_snapshot`)."""
        return self._reconciler.enabled

    @overload
    async def listen_for_user_stream(self, output: asyncio.Queue[Any], /) -> None: ...

    @overload
    async def listen_for_user_stream(
        self, ev_loop: asyncio.AbstractEventLoop, output: asyncio.Queue[Any], /
    ) -> None: ...

    async def listen_for_user_stream(self, *args: Any, **kwargs: Any) -> None:
        """Stream user messages into ``output`` until cancelled, reconnecting after any failure.

        The older Hummingbot form ``listen_for_user_stream(ev_loop, output)`` works too, with a
        `DeprecationWarning`: the loop argument is ignored.
        """
        output = _output_queue(args, kwargs)
        if self._listener is not None and not self._listener.done():
            raise RuntimeError(
                f"{type(self).__name__} is already streaming; a second listener would open a second socket "
                "and split the account's events between them"
            )
        self._listener = asyncio.current_task()
        if self._user_stream is None or self._user_stream.queue is not output:
            self._user_stream = self._outbox(output, "user_stream")
        outbox = self._user_stream
        outbox.resume()
        if self._account_events is not None:
            self._account_events.resume()
        successor: _Link | None = None
        try:
            while True:
                try:
                    successor = await self._run_connection(outbox, successor)
                except Exception as error:  # noqa: BLE001 - whatever ended the connection, back off and retry
                    successor = None
                    self._record_failure(error)
                self._backoff.connection_ended(self._streamed_for())
                self._streaming_since = None
                if successor is not None:
                    continue  # handed over: subscribed already, nothing missed, no reason to wait
                delay = self._backoff.next_delay()
                self._state = StreamState.BACKING_OFF
                self.logger.info("reconnecting in %.2f s (attempt %d)", delay, self._backoff.attempt)
                await asyncio.sleep(delay)
                self._reconnect_count += 1
        finally:
            if successor is not None:  # cancelled between a handover and the successor's first read
                await self._close(successor.websocket)
            self._listener = None
            self._state = StreamState.STOPPED

    async def stop(self) -> None:
        """Cancel the listener; close the socket, what `on_stop` releases and the HTTP session if ours. Idempotent."""
        listener = self._listener
        if listener is not None and listener is not asyncio.current_task() and not listener.done():
            listener.cancel()
            await asyncio.wait([listener])
        if self._websocket is not None:
            await self._close(self._websocket)
            self._websocket = None
        await self._clock_sync.close()
        await self._reconciler.close()
        for outbox in (self._user_stream, self._account_events):
            if outbox is not None:
                await outbox.close()  # what it still holds goes out when streaming starts again
        await self.on_stop()
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
        self._state = StreamState.STOPPED

    async def http_session(self) -> aiohttp.ClientSession:
        """The HTTP session for this data source's REST calls and WebSocket: the one given, or one of its own."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    # --- exchange specifics: override these -----------------------------------------------------

    async def connection_target(self) -> ConnectionTarget:
        """Where to connect. Called before every connection, so it may fetch a fresh key or token over REST."""
        return ConnectionTarget(self.ws_url)

    def login_messages(self) -> Sequence[OutgoingMessage]:
        """Messages that authenticate the connection, built fresh (new timestamp) for each one.

        When there are any, the loop waits for one frame classified `FrameKind.AUTH_OK` before subscribing.
        """
        return ()

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        """Messages that subscribe to the user's order, fill and balance topics."""
        return ()

    def expected_subscribe_acks(self, messages: Sequence[OutgoingMessage]) -> int:
        """How many `FrameKind.SUBSCRIBED` frames complete the subscription: one per message unless overridden."""
        return len(messages)

    def ping_message(self) -> OutgoingMessage | None:
        """The exchange's app-level ping, or None to send WebSocket protocol pings."""
        return None

    def decode_frame(self, data: str | bytes) -> Any:
        """Turn a frame's payload into a message; raise ValueError for one that is not valid."""
        return json.loads(data)

    @abc.abstractmethod
    def classify(self, message: Any) -> FrameKind:
        """What ``message`` means.

        For an unexpected shape, return `FrameKind.MALFORMED` or let the LookupError, TypeError or
        ValueError it causes propagate: the loop counts the frame and skips it.
        """

    def describe_rejection(self, message: Any) -> str:
        """The exchange's own words from a rejection or termination frame, for the log and `status.last_error`."""
        return self.quote(_encoded(message), 300)

    async def on_stop(self) -> None:  # noqa: B027 - optional hook; most exchanges hold nothing beyond the socket
        """Release what the connector holds beyond the socket (a listen key, a token). Called by `stop()`."""

    def configure(self) -> None:  # noqa: B027 - optional hook
        """Called at the end of ``__init__``: check the connector's constants and set up per-instance state.

        Raise TypeError or ValueError for a misconfigured connector, so the mistake fails once, at
        construction, instead of becoming a reconnect loop. Overriding this, rather than ``__init__``,
        keeps one constructor signature for every connector.
        """

    def connection_jobs(self) -> Sequence[ConnectionJob]:
        """Background jobs to run beside each connection, cancelled when it ends.

        If a job raises, the connection ends with that error (and is reconnected): a listen-key
        keepalive that fails ends the stream so a fresh key is fetched.
        """
        return ()

    def discard_credentials(self) -> None:  # noqa: B027 - optional hook
        """Forget a cached key or token: the exchange ended the stream or rejected the login."""

    def is_clock_skew(self, reply: Any) -> bool:
        """Whether a rejection (a WebSocket frame or a REST error body) blames our timestamp.

        Binance -1021, KuCoin 400002 "Invalid KC-API-TIMESTAMP". When true, the loop re-measures
        the offset to the exchange's clock (`SERVER_TIME_PATH`) before retrying.
        """
        return False

    def parse_server_time(self, body: Any) -> float:
        """The exchange's clock in seconds from its time endpoint's reply (default: ``{"serverTime": ms}``)."""
        return float(body["serverTime"]) / 1000

    # --- account: typed events and reconciliation (optional) ---------------------------------------

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        """The typed events one user message carries (an order update, a fill, balances); none by default.

        Pure: dispatch on the message's channel to one small parse function per message type. A
        message of another kind gives ``()``. For an unexpected shape, let the LookupError,
        TypeError, ValueError or decimal error propagate: the raw message is still queued, the
        failure is counted in `status.unparsed_messages`, and a reconciliation reads what it said.
        """
        return ()

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        """The account over REST: balances, open orders and, where the exchange has them, recent fills.

        Overriding it turns on reconciliation after every (re)connect. Use `rest_request(..., signed=True)`
        and pure parse functions; any exception is retried with backoff. Fetch the fills last: then every
        fill of an order the snapshot shows finished is in the list, and no order is reported finished
        before its last fill. ``scope`` says from when to read the order history and fills, and which
        symbols the account is known to trade (for endpoints that take one symbol at a time).
        """
        raise NotImplementedError(f"{type(self).__name__} does not fetch account snapshots")

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        """One order's current state over REST: used for an order that vanished from the open orders in a gap."""
        raise NotImplementedError(
            f"{type(self).__name__} fetches account snapshots but not single orders; override fetch_order()"
        )

    # --- REST ---------------------------------------------------------------------------------------

    async def rest_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = False,
    ) -> Any:
        """Call the exchange's REST API and return the decoded JSON reply.

        ``signed`` adds `MarketAuth.rest_auth_headers` for the exact path, query and body sent. An
        error status raises `RestError`; one that blames our clock (`is_clock_skew`) re-measures the
        offset and retries once with a fresh signature.
        """
        try:
            return await self._rest_request_once(method, path, params, body, headers, signed)
        except RestError as error:
            if not (signed and self.is_clock_skew(error.body) and self.SERVER_TIME_PATH):
                raise
            await self.sync_server_time()
            return await self._rest_request_once(method, path, params, body, headers, signed)

    async def sync_server_time(self) -> float:
        """Measure the offset to the exchange's clock (`SERVER_TIME_PATH`) and give it to the auth.

        Concurrent callers share one request.
        """
        if self.auth is None or self.SERVER_TIME_PATH is None:
            raise RuntimeError(f"{type(self).__name__} has no auth or SERVER_TIME_PATH to measure clock skew with")
        return await self._clock_sync.get()

    async def _measure_server_time(self) -> float:
        # Both checked by sync_server_time, the only caller.
        assert self.auth is not None
        assert self.SERVER_TIME_PATH is not None
        sent_at = time.time()
        reply = await self._rest_request_once("GET", self.SERVER_TIME_PATH, None, None, None, signed=False)
        offset = self.auth.record_server_time(self.parse_server_time(reply), sent_at=sent_at, received_at=time.time())
        self.logger.info("clock offset to the exchange measured: %+.3f s", offset)
        return offset

    async def _rest_request_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
        signed: bool,
    ) -> Any:
        if self.rest_url is None:
            raise RuntimeError(f"{type(self).__name__} was given no rest_url")
        if signed and self.auth is None:
            raise RuntimeError(f"{type(self).__name__} needs a MarketAuth to sign {method} {path}")
        query_params = {key: str(value) for key, value in (params or {}).items()}
        if signed:
            assert self.auth is not None
            given = query_params
            query_params = dict(self.auth.rest_auth_params(method, path, given))
            for key, value in query_params.items():
                if key not in given and len(value) >= _SHORTEST_CONCEALED_HEADER and value != self.auth.api_key:
                    self.auth.conceal(value)  # a signature in the query: an error page may echo it
        query = urlencode(query_params)
        path_and_query = f"{path}?{query}" if query else path
        data = "" if body is None else body if isinstance(body, str) else encode_message(body)
        request_headers = dict(headers or {})
        if body is not None and not isinstance(body, str):
            request_headers.setdefault("Content-Type", "application/json")
        if signed:
            assert self.auth is not None
            signed_headers = self.auth.rest_auth_headers(method, path_and_query, data)
            for value in signed_headers.values():
                if len(value) >= _SHORTEST_CONCEALED_HEADER and value != self.auth.api_key:
                    self.auth.conceal(value)  # an error page may echo the request's headers
            request_headers.update(signed_headers)
        session = await self.http_session()
        async with session.request(
            method,
            self.rest_url.rstrip("/") + path_and_query,
            data=data or None,
            headers=request_headers,
            timeout=aiohttp.ClientTimeout(total=self.REST_TIMEOUT),
        ) as response:
            text = await response.text()
        reply = decode_reply(text)
        if response.status >= 400:
            raise RestError(method, path, response.status, reply, redact=self.redact)
        return reply

    # --- the loop ---------------------------------------------------------------------------------

    async def _run_connection(self, output: Outbox[Any], handed_over: _Link | None = None) -> _Link:
        """One connection from open to end, or from the handover that made it to the next.

        Ends by an exception (the listener backs off and reconnects), or by returning the successor that
        replaced it make-before-break, already subscribed: then there was no gap, and none is reconciled.
        """
        if handed_over is None:
            self._enter(StreamState.CONNECTING)
            self._reconciler.open_gap(self._last_recv_time or None)
            link = await self._open_link(primary=True)
        else:
            link = handed_over
            link.primary = True
            if link.overlap is not None:
                link.overlap.predecessor_closed()
                link.overlap_ends = asyncio.get_running_loop().time() + link.timings.handover_overlap
        self._websocket = link.websocket
        subscribed = asyncio.Event()

        async def converse() -> None:
            if handed_over is None:
                await self._handshake(link, output)
            self._enter_streaming()
            self.logger.info("streaming")
            subscribed.set()
            await self._read_frames(link, output)

        async def reconcile() -> None:
            # Only once subscribed: a snapshot taken earlier could miss what happens before the stream starts.
            await subscribed.wait()
            await self._reconciler.run(output.put)

        tasks = {
            asyncio.create_task(converse()),
            asyncio.create_task(self._keep_alive(link.websocket, link.timings.ping_interval)),
            *(asyncio.create_task(job()) for job in self.connection_jobs()),
        }
        if self._reconciler.enabled:
            tasks.add(asyncio.create_task(reconcile()))
        succession = asyncio.create_task(self._succeed(link, output, subscribed))
        try:
            while True:
                # The conversation only ends by an exception; a job may end the connection by raising.
                done, _ = await asyncio.wait({*tasks, succession}, return_when=asyncio.FIRST_COMPLETED)
                failed = next((task for task in done if not task.cancelled() and task.exception()), None)
                if failed is not None and failed is not succession:
                    raise cast(BaseException, failed.exception())
                tasks -= done
                if succession in done:
                    successor = None if succession.exception() else succession.result()
                    if successor is not None:
                        # Both are subscribed: the predecessor goes on delivering for a moment, for what was
                        # already on its way, then the successor takes over (echoes of those are skipped).
                        await asyncio.wait(
                            tasks, timeout=link.timings.handover_overlap, return_when=asyncio.FIRST_EXCEPTION
                        )
                        self._handovers += 1
                        self.logger.info("handed over to a new connection, subscribed before this one closed")
                        return successor
        finally:
            succession.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.wait({*tasks, succession})
            await self._close(link.websocket)
            if self._websocket is link.websocket:
                self._websocket = None

    async def _open_link(self, *, primary: bool) -> _Link:
        target = await self.connection_target()
        timings = self.timings.with_ping_interval(target.ping_interval)
        self.logger.info("connecting to %s", origin(target.url))
        websocket = await self._open_websocket(target, timings)
        return _Link(websocket, timings, primary=primary)

    async def _succeed(self, link: _Link, output: Outbox[Any], subscribed: asyncio.Event) -> _Link | None:
        """Once the exchange announces this connection's end (or it reaches `MAX_CONNECTION_AGE`), open and
        subscribe its successor while it still delivers; None if that fails (the connection then goes on until
        the exchange closes it, and the reconnect after that reconciles as usual)."""
        await subscribed.wait()
        try:
            async with asyncio.timeout(self.MAX_CONNECTION_AGE):
                await link.closing_soon.wait()
            self.logger.info("the exchange announced this connection's end: opening its successor")
        except TimeoutError:
            self.logger.info("the connection is %g s old: replacing it", self.MAX_CONNECTION_AGE)
        overlap = Overlap()
        link.overlap, link.side = overlap, Side.PREDECESSOR
        try:
            _PHASE.set(StreamState.CONNECTING)
            successor = await self._open_link(primary=False)
        except Exception as error:  # noqa: BLE001 - the connection in use is unharmed; its end is handled as usual
            self.logger.warning("could not open a successor connection: %s", self.redact(str(error)))
            return None
        successor.overlap, successor.side = overlap, Side.SUCCESSOR
        keep_alive = asyncio.create_task(self._keep_alive(successor.websocket, successor.timings.ping_interval))
        try:
            await self._handshake(successor, output)
        except BaseException as error:
            await self._close(successor.websocket)
            if not isinstance(error, Exception):
                raise
            self.logger.warning("the successor connection failed its handshake: %s", self.redact(str(error)))
            return None
        finally:
            keep_alive.cancel()
            await asyncio.wait([keep_alive])
        return successor

    async def _open_websocket(self, target: ConnectionTarget, timings: StreamTimings) -> WebSocketLike:
        try:
            return await self._connect(target, timings)
        except aiohttp.WSServerHandshakeError as error:
            # aiohttp's message quotes the whole URL, and a listen key or token may be in it.
            refusal = f"{origin(target.url)} refused the WebSocket upgrade with HTTP {error.status}"
            if error.status in (401, 403):
                raise AuthenticationError(f"{refusal}: the credential in the URL was not accepted") from None
            raise ConnectionLost(refusal) from None

    async def _connect(self, target: ConnectionTarget, timings: StreamTimings) -> WebSocketLike:
        async with asyncio.timeout(timings.connect_timeout):
            if self._websocket_factory is not None:
                return await self._websocket_factory(target, timings)
            session = await self.http_session()
            websocket = await session.ws_connect(
                target.url,
                headers=dict(target.headers),
                autoping=False,  # pings and pongs must reach the loop: they move last_recv_time
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=timings.close_timeout),
            )
            return cast(WebSocketLike, websocket)

    async def _handshake(self, link: _Link, output: Outbox[Any]) -> None:
        deadline = asyncio.get_running_loop().time() + link.timings.handshake_timeout
        if self.AWAIT_READY:
            await self._read_frames(link, output, until=FrameKind.READY, count=1, deadline=deadline)
        logins = list(self.login_messages())
        if logins:
            self._enter(StreamState.AUTHENTICATING, link)
            for message in logins:
                await link.websocket.send_str(encode_message(message))
            await self._read_frames(link, output, until=FrameKind.AUTH_OK, count=1, deadline=deadline)
            self.logger.info("authenticated")
        subscriptions = list(self.subscribe_messages())
        if subscriptions:
            self._enter(StreamState.SUBSCRIBING, link)
            for message in subscriptions:
                await link.websocket.send_str(encode_message(message))
            acks = self.expected_subscribe_acks(subscriptions)
            if acks:
                await self._read_frames(link, output, until=FrameKind.SUBSCRIBED, count=acks, deadline=deadline)
            self.logger.info("subscribed with %d message(s)", len(subscriptions))

    async def _read_frames(
        self,
        link: _Link,
        output: Outbox[Any],
        *,
        until: FrameKind | None = None,
        count: int = 0,
        deadline: float | None = None,
    ) -> None:
        """Read frames and queue user messages; return after ``count`` frames of kind ``until`` (never if None)."""
        loop = asyncio.get_running_loop()
        timings = link.timings
        seen = 0
        while True:
            timeout = timings.stale_after
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    assert until is not None
                    raise HandshakeTimeout(f"no {until.value} frame within {timings.handshake_timeout:g} s")
                timeout = min(timeout, remaining)
            try:
                frame = await link.websocket.receive(timeout=timeout)
            except TimeoutError:
                if deadline is not None and loop.time() >= deadline:
                    continue
                raise StaleConnection(f"no frame for {timings.stale_after:g} s; the connection is stale") from None
            handled = await self._handle_frame(link, frame, output)
            if handled is None:
                continue
            kind, message = handled
            if kind is FrameKind.AUTH_REJECTED:
                clock_skew = self.is_clock_skew(message) and self.SERVER_TIME_PATH is not None
                if clock_skew:
                    await self._resync_clock_after_rejection()
                raise AuthenticationError(self.describe_rejection(message), clock_skew=clock_skew)
            if kind is FrameKind.SUBSCRIBE_REJECTED:
                raise SubscriptionError(self.describe_rejection(message))
            if kind is FrameKind.RECONNECT:
                raise ServerRequestedReconnect(self.describe_rejection(message))
            if kind is FrameKind.CLOSING_SOON and not link.closing_soon.is_set():
                self.logger.info("the exchange will close this connection soon: %s", self.describe_rejection(message))
                link.closing_soon.set()
            if kind is until:
                seen += 1
                if seen >= count:
                    return

    async def _handle_frame(
        self, link: _Link, frame: aiohttp.WSMessage, output: Outbox[Any]
    ) -> tuple[FrameKind, Any] | None:
        """Account for one frame and queue it if it is a user message; None for pings, pongs and malformed frames."""
        websocket = link.websocket
        if frame.type in _CLOSING_TYPES:
            code = websocket.close_code
            raise ConnectionLost(f"connection closed by the exchange (code {code})", close_code=code)
        if frame.type is aiohttp.WSMsgType.ERROR:
            raise ConnectionLost(f"connection failed: {websocket.exception() or frame.data}")
        self._mark_received()
        if frame.type is aiohttp.WSMsgType.PING:
            await websocket.pong(frame.data)
            return None
        if frame.type is aiohttp.WSMsgType.PONG:
            return None
        try:
            message = self.decode_frame(frame.data)
            kind = self.classify(message)
        except SHAPE_ERRORS as error:
            self._skip_malformed(frame.data, f"{type(error).__name__}: {error}")
            return None
        if kind is FrameKind.MALFORMED:
            self._skip_malformed(frame.data, "unexpected shape")
            return None
        if kind is FrameKind.USER_MESSAGE:
            if link.overlap_ends is not None and asyncio.get_running_loop().time() > link.overlap_ends:
                link.overlap = link.overlap_ends = None
            if link.overlap is not None and not link.overlap.deliver(link.side, _frame_text(frame.data)):
                return None  # the other connection of a handover delivered it already
            await self._queue_user_message(message, output)
        return kind, message

    async def _resync_clock_after_rejection(self) -> None:
        """Re-measure the clock offset; a failure is logged, so the exchange's rejection stays the reported error."""
        if self.rest_url is None:
            self.logger.warning("the exchange blamed our clock, but no rest_url was given to measure its time")
            return
        try:
            await self.sync_server_time()
        except (RestError, aiohttp.ClientError, OSError, TimeoutError, ValueError, LookupError) as error:
            self.logger.warning("could not measure the exchange's clock: %s", error)

    async def _keep_alive(self, websocket: WebSocketLike, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            ping = self.ping_message()
            try:
                if ping is None:
                    await websocket.ping()
                else:
                    await websocket.send_str(encode_message(ping))
            except (ConnectionError, aiohttp.ClientError) as error:
                # The reader sees the same failure on its next receive; it owns the reconnect.
                self.logger.debug("ping failed: %s", error)
                return

    async def _close(self, websocket: WebSocketLike) -> None:
        if websocket.closed:
            return
        try:
            # aiohttp bounds the close handshake itself; this bounds any other WebSocketLike.
            async with asyncio.timeout(self.timings.close_timeout + 1):
                await websocket.close()
        except (TimeoutError, ConnectionError, aiohttp.ClientError) as error:
            self.logger.debug("close did not complete cleanly: %s", error)

    # --- bookkeeping, shared by every transport (the WebSocket loop here, polling in the archetypes) --

    async def _queue_user_message(self, message: Any, output: Outbox[Any]) -> None:
        """Put one user message on the stream (waiting only if a bounded queue is far behind), apply its events."""
        await output.put(message)
        self._messages_queued += 1
        try:
            events = self.parse_account_events(message)
            for event in events:
                if not isinstance(event, _EVENT_TYPES):
                    raise TypeError(f"parse_account_events gave {type(event).__name__}, not an account event")
        except Exception as error:  # noqa: BLE001 - whatever a parser raises, the account is reconciled instead
            # The raw message is queued already; what it meant for the account is read from a snapshot, so
            # nothing a message holds can end the connection or reach the account unchecked.
            self._unparsed_messages += 1
            self.logger.warning(
                "could not read account events from a user message (%s: %s): %s",
                type(error).__name__,
                error,
                self.quote(_encoded(message)),
            )
            self._reconciler.request(ReconcileReason.UNREADABLE_MESSAGE)
            return
        if events:
            await self._reconciler.offer(events)

    @property
    def connection_phase(self) -> StreamState:
        """The phase of the connection being served: `status.state`, except while a handover's successor is being
        subscribed beside a streaming predecessor (its frames are then classified in its own phase)."""
        return _PHASE.get() or self._state

    def _enter(self, phase: StreamState, link: _Link | None = None) -> None:
        _PHASE.set(phase)  # in the task serving this connection only
        if link is None or link.primary:
            self._state = phase

    def _enter_streaming(self) -> None:
        """The connection is fully up; from now on it counts towards a healthy connection (backoff reset)."""
        self._enter(StreamState.STREAMING)
        self._streaming_since = asyncio.get_running_loop().time()

    def _streamed_for(self) -> float | None:
        """How long the connection that just ended had been streaming, or None if it never did."""
        if self._streaming_since is None:
            return None
        return asyncio.get_running_loop().time() - self._streaming_since

    def _outbox(self, queue: asyncio.Queue[Any], name: str) -> Outbox[Any]:
        return Outbox(
            queue,
            name=name,
            hold_limit=self.max_held_messages,
            warning_depth=self.queue_warning_depth,
            logger=self.logger,
        )

    def _mark_received(self) -> None:
        now = time.time()
        if now > self._last_recv_time:  # never backwards, even if the wall clock is stepped back
            self._last_recv_time = now

    def _skip_malformed(self, data: str | bytes, why: str) -> None:
        self._malformed_frames += 1
        self.logger.debug("skipped malformed frame #%d (%s): %s", self._malformed_frames, why, self.quote(data))

    def _record_failure(self, error: Exception) -> None:
        if isinstance(error, AuthenticationError | ServerRequestedReconnect):
            self.discard_credentials()
        text = self.redact(str(error) or type(error).__name__)
        self._last_error = f"{type(error).__name__}: {text}"
        if isinstance(error, AuthenticationError):
            self.logger.error("authentication rejected by the exchange: %s", text)
        elif isinstance(error, ConnectionLost | StaleConnection | HandshakeTimeout | SubscriptionError):
            self.logger.warning("%s", text)
        elif isinstance(error, ServerRequestedReconnect):
            self.logger.info("the exchange ended the stream: %s", text)
        elif isinstance(error, RestError):
            self.logger.warning("%s", text)
        elif isinstance(error, TimeoutError | OSError | aiohttp.ClientError):
            self.logger.warning("could not connect: %s", self._last_error)
        else:
            self.logger.error("unexpected error in the user stream: %s", self._last_error, exc_info=error)


def _symbols(symbols: Iterable[str]) -> frozenset[str]:
    if isinstance(symbols, str):
        raise TypeError(f"symbols= takes a collection of symbols, not the single string {symbols!r}")
    chosen = frozenset(symbols)
    for symbol in chosen:
        if not isinstance(symbol, str) or not symbol:
            raise TypeError(f"symbols= must hold the exchange's symbols as non-empty text, got {symbol!r}")
    return chosen


def _output_queue(args: tuple[Any, ...], kwargs: dict[str, Any]) -> asyncio.Queue[Any]:
    """The output queue from either call form, warning on the legacy one."""
    positional = list(args)
    output = kwargs.pop("output", None)
    ev_loop = kwargs.pop("ev_loop", None)
    if kwargs:
        raise TypeError(f"listen_for_user_stream() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
    if output is None and positional:
        output = positional.pop()
    if positional and ev_loop is None:
        ev_loop = positional.pop()
    if positional or not isinstance(output, asyncio.Queue):
        raise TypeError("listen_for_user_stream() takes an asyncio.Queue: listen_for_user_stream(output)")
    if ev_loop is not None:
        warnings.warn(
            "listen_for_user_stream(ev_loop, output) is deprecated; call listen_for_user_stream(output)",
            DeprecationWarning,
            stacklevel=3,
        )
    return output


def _frame_text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _encoded(message: Any) -> str:
    try:
        return encode_message(message)
    except (TypeError, ValueError, RecursionError):
        return repr(message)
