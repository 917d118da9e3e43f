"""A private user stream, composed: the connector's hooks on top, the shared parts underneath.

A connector subclasses `UserStreamTrackerDataSource` and supplies only its exchange's specifics, as small
methods that build messages and classify frames (no I/O, so they test without a network). The data source
composes the parts that are hard and shared, each small and with a public face:

- a `Supervisor` runs connections one after another, recording failures and backing off;
- a transport carries each connection: `WebSocketTransport` here, `PollingTransport` for REST polling;
- a `Delivery` puts each user message on the queue and applies its typed events;
- a `Reconciler` closes every gap with a snapshot; a `RestClient` makes every REST call;
- a `StreamRecord` holds what `status` reports.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import random
import time
import warnings
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, ClassVar, overload

import aiohttp

from userstream.account import AccountSnapshot, AccountState, SnapshotScope
from userstream.auth import MarketAuth
from userstream.backoff import Backoff, ReconnectPolicy
from userstream.conversation import Conversation
from userstream.credentials import SingleFlight
from userstream.delivery import Delivery
from userstream.events import AccountEvent, OrderUpdate, Reconciled, ReconcileReason
from userstream.frames import ConnectionTarget, FrameKind, OutgoingMessage, decode_frame, encode_message, excerpt
from userstream.outbox import Outbox
from userstream.reconciliation import LOOKUP_ATTEMPTS, MAX_BUFFERED_EVENTS, AccountEventSink, Reconciler
from userstream.record import StreamRecord
from userstream.redaction import RedactingLogger, without_urls
from userstream.rest import RestClient, encode_query
from userstream.status import StreamState, StreamStatus
from userstream.supervisor import Supervisor
from userstream.timings import StreamTimings
from userstream.transport import Transport
from userstream.websocket_transport import WebSocketFactory, WebSocketTransport

ConnectionJob = Callable[[], Coroutine[Any, Any, None]]
"""Background work that lives exactly as long as one connection (a listen-key keepalive)."""

_JITTER = random.Random()
"""The backoff jitter's source unless a test gives its own: one for every data source (a generator's state is
2.5 KiB, and a thousand trackers need no thousand of them)."""
_SHORTEST_CONCEALED_HEADER = 16
"""Signed-header values this long are concealed; shorter ones are timestamps and versions."""


class UserStreamTrackerDataSource(abc.ABC):
    """Connects, authenticates, subscribes, and puts every user message on a queue, forever.

    Override `classify` (required) and whichever of `connection_target`, `login_messages`,
    `subscribe_messages`, `expected_subscribe_acks`, `ping_message`, `decode_frame`,
    `describe_rejection` and `on_stop` the exchange needs (an archetype whose handshake remembers
    something per connection gives its own `open_conversation`). For typed events and a live `account`,
    override `parse_account_events`; for reconciliation after every gap, `fetch_account_snapshot`
    and `fetch_order` too; for pushes that must be completed over REST, `complete_account_events`.
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
        if resolved_ws_url is None and not _overrides(self, "open_transport"):
            raise TypeError(f"{type(self).__name__} needs ws_url= (or a WS_URL class attribute)")
        self.ws_url: str = resolved_ws_url or ""
        """The private WebSocket's URL ("" for a transport that has none: REST polling)."""
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
        self._listener: asyncio.Task[Any] | None = None
        rng = rng or _JITTER
        self.record = StreamRecord(self.logger, self.quote)
        self._account = AccountState()
        self.reconciler = Reconciler(
            self._account,
            fetch_snapshot=self.fetch_account_snapshot if _overrides(self, "fetch_account_snapshot") else None,
            fetch_order=self.fetch_order,
            backoff=Backoff(reconnect or self.DEFAULT_RECONNECT, rng),  # its own count: a snapshot is not a connection
            interval=self.RECONCILE_INTERVAL if reconcile_interval is None else reconcile_interval,
            logger=self.logger,
            redact=self.redact,
            lookup_attempts=self.ORDER_LOOKUP_ATTEMPTS,
            max_buffered=self.MAX_BUFFERED_EVENTS,
            symbols=_symbols(symbols),
        )
        self.delivery = Delivery(
            self.reconciler,
            parse=self.parse_account_events if _overrides(self, "parse_account_events") else None,
            complete=self.complete_account_events if _overrides(self, "complete_account_events") else None,
            logger=self.logger,
            describe=lambda message: self.quote(_encoded(message)),
        )
        self.supervisor: Supervisor[Any] = Supervisor(
            Backoff(reconnect or self.DEFAULT_RECONNECT, rng),
            self.record,
            logger=self.logger,
            redact=self.redact,
            discard_credentials=self.discard_credentials,
        )
        # Rejections that arrive together (a login and a signed REST call) share one time request.
        self._clock_sync: SingleFlight[float] = SingleFlight(self._measure_server_time, ttl=0)
        self.rest: RestClient | None = None
        """The REST client for ``rest_url`` (None without one): snapshots, lookups, tokens and keys all use it."""
        if self.rest_url is not None:
            self.rest = RestClient(
                self.rest_url,
                session=self.http_session,
                timeout=self.REST_TIMEOUT,
                redact=self.redact,
                is_clock_skew=self.is_clock_skew,
                sync_clock=self.sync_server_time if self.SERVER_TIME_PATH and auth is not None else None,
            )
        self.frame_decoder: Callable[[str | bytes], Any] = (
            self.decode_frame if _overrides(self, "decode_frame") else decode_frame
        )
        """`decode_frame`, or the decoder itself when the connector keeps the default: no Python call between."""
        self.configure()
        self.transport: Transport[Any] = self.open_transport(websocket_factory)

    # --- public API -----------------------------------------------------------------------------

    @property
    def last_recv_time(self) -> float:
        """`time.time()` of the last frame received (data, heartbeat or pong); 0.0 before the first. Never goes back."""
        return self.record.last_recv_time

    @property
    def status(self) -> StreamStatus:
        record, reconciler, delivery = self.record, self.reconciler, self.delivery
        return StreamStatus(
            state=record.state,
            connected=self.transport.connected,
            last_recv_time=record.last_recv_time,
            reconnect_count=record.reconnect_count,
            messages_queued=delivery.messages_queued,
            malformed_frames=record.malformed_frames,
            last_error=record.last_error,
            unparsed_messages=delivery.unparsed_messages,
            reconciling=reconciler.gap_open,
            reconciled_at=reconciler.reconciled_at,
            reconcile_failures=reconciler.failures,
            last_reconcile_error=reconciler.last_error,
            queue_depth=0 if self._user_stream is None else self._user_stream.depth,
            account_events_depth=0 if self._account_events is None else self._account_events.depth,
            buffered_events=reconciler.buffered,
            buffer_overflows=reconciler.buffer_overflows,
            orders_settled_unknown=reconciler.orders_settled_unknown,
            handovers=record.handovers,
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
        self.reconciler.events = self._account_events

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
        self.reconciler.request(ReconcileReason.REQUESTED)

    @property
    def reconciles(self) -> bool:
        """Whether this connector fetches a snapshot after every gap (it overrides `fetch_account_snapshot`)."""
        return self.reconciler.enabled

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
        transport = self.transport
        try:
            await self.supervisor.run(lambda handover: transport.run(outbox, handover), transport.release)
        finally:
            self._listener = None
            self.record.state = StreamState.STOPPED

    async def stop(self) -> None:
        """Cancel the listener; close the socket, what `on_stop` releases and the HTTP session if ours. Idempotent."""
        listener = self._listener
        if listener is not None and listener is not asyncio.current_task() and not listener.done():
            listener.cancel()
            await asyncio.wait([listener])
        await self.transport.close()
        await self._clock_sync.close()
        await self.delivery.close()
        await self.reconciler.close()
        for outbox in (self._user_stream, self._account_events):
            if outbox is not None:
                await outbox.close()  # what it still holds goes out when streaming starts again
        await self.on_stop()
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
        self.record.state = StreamState.STOPPED

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
        """Turn a frame's payload into a message; raise ValueError for one that is not valid (default: JSON)."""
        return decode_frame(data)

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

    def open_conversation(self) -> Conversation:
        """The handshake's per-connection side, made fresh for each connection (see `Conversation`)."""
        return Conversation(self)

    def open_transport(self, websocket_factory: WebSocketFactory | None) -> Transport[Any]:
        """What carries the stream: a WebSocket (the REST polling archetype polls instead)."""
        return WebSocketTransport(
            self,
            record=self.record,
            delivery=self.delivery,
            reconciler=self.reconciler,
            websocket_factory=websocket_factory,
        )

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

    async def complete_account_events(self, message: Any, events: Sequence[AccountEvent]) -> Sequence[AccountEvent]:
        """Every event ``message`` implies, in the order they are applied, given the ``events`` it carries.

        Override it for an exchange whose pushes leave something to read over REST (Coinbase pushes an order's
        fill count; its fills, and the balances they moved, are read here). Runs off the reader, one message at a
        time in arrival order; an exception reconciles the account instead, like a parser's.
        """
        return events

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

        ``signed`` adds `MarketAuth.rest_auth_headers` for the exact path, query and body sent. An error status
        raises `RestError` (`RateLimited`, with the ``Retry-After`` it gave, for HTTP 429); one that blames our
        clock (`is_clock_skew`) re-measures the offset and retries once with a fresh signature. No reply at all
        raises `ConnectionLost`.
        """
        if self.rest is None:
            raise RuntimeError(f"{type(self).__name__} was given no rest_url")
        if signed and self.auth is None:
            raise RuntimeError(f"{type(self).__name__} needs a MarketAuth to sign {method} {path}")
        data = "" if body is None else body if isinstance(body, str) else encode_message(body)
        request_headers = dict(headers or {})
        if body is not None and not isinstance(body, str):
            request_headers.setdefault("Content-Type", "application/json")
        return await self.rest.request(
            method,
            path,
            params={key: str(value) for key, value in (params or {}).items()},
            body=data,
            headers=request_headers,
            sign=self._sign if signed else None,
        )

    async def sync_server_time(self) -> float:
        """Measure the offset to the exchange's clock (`SERVER_TIME_PATH`) and give it to the auth.

        Concurrent callers share one request.
        """
        if self.auth is None or self.SERVER_TIME_PATH is None:
            raise RuntimeError(f"{type(self).__name__} has no auth or SERVER_TIME_PATH to measure clock skew with")
        return await self._clock_sync.get()

    async def _measure_server_time(self) -> float:
        # All three checked by sync_server_time, the only caller, and by the constructor.
        assert self.auth is not None
        assert self.SERVER_TIME_PATH is not None
        assert self.rest is not None
        sent_at = time.time()
        reply = await self.rest.request("GET", self.SERVER_TIME_PATH)
        offset = self.auth.record_server_time(self.parse_server_time(reply), sent_at=sent_at, received_at=time.time())
        self.logger.info("clock offset to the exchange measured: %+.3f s", offset)
        return offset

    def _sign(self, method: str, path: str, params: Mapping[str, str], body: str) -> tuple[str, Mapping[str, str]]:
        """The query and headers `MarketAuth` signs a request with; every long signed value is concealed."""
        auth = self.auth
        assert auth is not None  # rest_request checks it
        query_params = dict(auth.rest_auth_params(method, path, params))
        for key, value in query_params.items():
            if key not in params and len(value) >= _SHORTEST_CONCEALED_HEADER and value != auth.api_key:
                auth.conceal(value)  # a signature in the query: an error page may echo it
        query = encode_query(query_params)
        signed_headers = auth.rest_auth_headers(method, f"{path}?{query}" if query else path, body)
        for value in signed_headers.values():
            if len(value) >= _SHORTEST_CONCEALED_HEADER and value != auth.api_key:
                auth.conceal(value)  # an error page may echo the request's headers
        return query, signed_headers

    def _outbox(self, queue: asyncio.Queue[Any], name: str) -> Outbox[Any]:
        return Outbox(
            queue,
            name=name,
            hold_limit=self.max_held_messages,
            warning_depth=self.queue_warning_depth,
            logger=self.logger,
        )


def _overrides(source: UserStreamTrackerDataSource, hook: str) -> bool:
    """Whether the connector overrides ``hook``: a hook left alone costs nothing per message."""
    return getattr(type(source), hook) is not getattr(UserStreamTrackerDataSource, hook)


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


def _encoded(message: Any) -> str:
    try:
        return encode_message(message)
    except (TypeError, ValueError, RecursionError):
        return repr(message)
