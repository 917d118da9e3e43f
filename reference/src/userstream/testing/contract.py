"""The behaviour every user-stream connector owes its users, written once as tests.

A connector's test module subclasses `WebSocketUserStreamContract` (or `PollingUserStreamContract`
for an exchange served by REST polling) and provides one fixture, ``harness``: a `ConnectorHarness`
that says how to build the connector and how its exchange's fake speaks. Every test then runs
against that connector over a real loopback socket (and, for WebSocket streams, over an in-memory
one too)::

    class TestAcmeUserStream(WebSocketUserStreamContract):
        @pytest.fixture
        def harness(self) -> ConnectorHarness:
            return AcmeHarness()

The checks are the ones a reviewer would otherwise repeat by hand for each exchange, and each test
says which item of the reviewer's checklist (`userstream.testing.checklist`) it decides: events reach
the queue in order and nothing else does, ``last_recv_time`` moves on every frame and never goes
backwards, keepalives go out on schedule, a dropped, closed or silent connection is replaced within
the configured bounds by one that logs in and subscribes again, refused credentials are reported as
such and retried with backoff, an expired key or token is replaced, malformed frames are skipped,
``stop()`` leaves nothing behind, and no secret shows in the log, a ``repr`` or the status.

A failing test explains itself: every wait quotes the data source's status as it was when the wait
gave up, and gives up at once when the status already tells why it cannot succeed (a refused login or
subscription, a REST 404), with that reason on the failure's first line.
"""

from __future__ import annotations

import abc
import asyncio
import itertools
import json
import logging
import re
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Protocol, cast

import pytest
import pytest_asyncio

from userstream.account import AccountState
from userstream.auth import MarketAuth
from userstream.backoff import ReconnectPolicy
from userstream.data_source import UserStreamTrackerDataSource
from userstream.errors import AuthenticationError, SubscriptionError
from userstream.events import (
    EventSource,
    OrderStatus,
    Reconciled,
    ReconcileReason,
    is_gap_marker,
)
from userstream.frames import excerpt
from userstream.reconciliation import AccountEventSink, OrderLookupFailed
from userstream.status import StreamStatus
from userstream.testing.accounts import ExchangeAccount, account_differences, fills_of, order_updates_of
from userstream.testing.checklist import checks
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import Connection, FakeExchange
from userstream.timings import StreamTimings
from userstream.websocket_transport import WebSocketFactory

__all__ = [
    "TEST_RECONNECT",
    "TEST_TIMINGS",
    "ConnectorHarness",
    "PollingHarness",
    "PollingUserStreamContract",
    "ReconciliationContract",
    "ReconcilingHarness",
    "Watched",
    "WebSocketHarness",
    "WebSocketUserStreamContract",
    "agrees",
    "client_pings",
    "client_tasks",
    "drain",
    "eventually",
    "explain",
    "gap_marker",
    "handshake",
    "known_failure",
    "listen_with_events",
    "liveness_frame",
    "receive",
    "sent_secrets",
    "start_listening",
]

# Short enough that a test waits milliseconds, long enough that two loaded cores keep up.
TEST_TIMINGS = StreamTimings(
    connect_timeout=2.0,
    handshake_timeout=2.0,
    ping_interval=0.2,
    stale_after=0.6,
    close_timeout=0.5,
    handover_overlap=0.1,
)
# jitter=0 makes every delay its ceiling, so a test can bound reconnect times exactly.
TEST_RECONNECT = ReconnectPolicy(initial_delay=0.05, max_delay=0.4, factor=2.0, jitter=0.0, min_delay=0.0)
WAIT = 5.0
"""Seconds a test waits for something that should take milliseconds."""
HANDSHAKE_SLACK = 1.0
"""Seconds a reconnect may take beyond its backoff delay (and, for a silent connection, `stale_after`) on loopback."""

_CLIENT_ERROR = re.compile(r"failed with HTTP 4(?!08|29)\d\d")
"""A REST refusal no retry cures (a 404: no such route); 408 and 429 ask to try again."""
_REJECTIONS = (f"{AuthenticationError.__name__}:", f"{SubscriptionError.__name__}:")


class Watched(Protocol):
    """What a wait watches to explain itself: a data source or a tracker."""

    @property
    def status(self) -> StreamStatus: ...


def known_failure(status: StreamStatus) -> str | None:
    """The error in ``status`` that rules out a healthy stream, or None while a retry may still cure it.

    A refused login or subscription (with the contract's right credentials and a true clock), or a REST
    call refused as a client error (a 404 from the fake: ``no route GET ...``), on the stream or the snapshot.
    """
    for error in (status.last_error, status.last_reconcile_error):
        if error is not None and (error.startswith(_REJECTIONS) or _incurable_rest_error(error)):
            return error
    return None


def _incurable_rest_error(error: str) -> bool:
    # An order lookup may be refused for an order the exchange no longer knows: the reconciler bounds those.
    return _CLIENT_ERROR.search(error) is not None and not error.startswith(f"{OrderLookupFailed.__name__}:")


def explain(status: StreamStatus) -> str:
    """``status`` as a failure quotes it: the state, the reconnects and the last errors."""
    parts = [f"state={status.state.value}", f"reconnects={status.reconnect_count}", f"last_error={status.last_error!r}"]
    if status.last_reconcile_error is not None:
        parts.append(f"last_reconcile_error={status.last_reconcile_error!r}")
    return ", ".join(parts)


async def eventually(
    condition: Callable[[], bool],
    what: str,
    timeout: float = WAIT,
    *,
    watching: Watched | None = None,
    fail_fast: bool = True,
    explain_more: Callable[[], str] | None = None,
) -> None:
    """Wait until ``condition()`` holds; fail with ``what`` if it does not within ``timeout`` seconds.

    With ``watching`` (a data source or a tracker) the failure quotes its status as it was when the wait gave
    up, and, unless ``fail_fast`` is off, the wait gives up as soon as that status shows a `known_failure`.
    ``explain_more`` adds what else the failure should say, computed then too.
    """

    def failure(reason: str) -> AssertionError:
        details = [] if watching is None else [f"status: {explain(watching.status)}"]
        if explain_more is not None:
            details.append(explain_more())
        return AssertionError(f"{what}: {reason}" + "".join(f"; {detail}" for detail in details))

    try:
        async with asyncio.timeout(timeout):
            while not condition():
                cause = None if watching is None or not fail_fast else known_failure(watching.status)
                if cause is not None:
                    raise failure(f"given up at once, {cause}")
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise failure(f"not within {timeout:g} s") from None


async def receive(
    output: asyncio.Queue[Any],
    wanted: Callable[[Any], bool],
    what: str,
    *,
    watching: Watched | None = None,
    timeout: float = WAIT,
) -> Any:
    """The first message on ``output`` that is ``wanted``, the others before it dropped; `eventually`'s failures."""
    found: list[Any] = []
    skipped: list[Any] = []

    def arrived() -> bool:
        while not found and not output.empty():
            message = output.get_nowait()
            (found if wanted(message) else skipped).append(message)
        return bool(found)

    await eventually(
        arrived, what, timeout, watching=watching, explain_more=lambda: f"got only {excerpt(repr(skipped), 300)}"
    )
    return found[0]


_FAKE_EXCHANGE_TASKS = ("RequestHandler.", "FakeExchange.")


def client_tasks() -> set[asyncio.Task[Any]]:
    """Tasks alive besides the caller's own and the fake exchange's (its request handlers, its scheduled closes)."""
    current = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not current and not task.done() and not _qualname(task).startswith(_FAKE_EXCHANGE_TASKS)
    }


_listeners: set[asyncio.Task[None]] = set()  # asyncio holds tasks weakly; these must live until they end


def start_listening(
    data_source: UserStreamTrackerDataSource, legacy_loop: asyncio.AbstractEventLoop | None = None
) -> tuple[asyncio.Queue[Any], asyncio.Task[None]]:
    """Run ``data_source.listen_for_user_stream`` in the background: the queue it fills, and its task.

    With ``legacy_loop``, through the older ``listen_for_user_stream(ev_loop, output)`` form.
    """
    output: asyncio.Queue[Any] = asyncio.Queue()
    if legacy_loop is None:
        listening = data_source.listen_for_user_stream(output)
    else:
        listening = data_source.listen_for_user_stream(legacy_loop, output)
    task = asyncio.create_task(listening)
    _listeners.add(task)
    task.add_done_callback(_listeners.discard)
    return output, task


def listen_with_events(data_source: UserStreamTrackerDataSource) -> tuple[asyncio.Queue[Any], AccountEventSink]:
    """`start_listening`, with the data source's typed events on a queue too: ``(user stream, account events)``."""
    events: AccountEventSink = asyncio.Queue()
    data_source.account_events = events
    output, _ = start_listening(data_source)
    return output, events


def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    """Everything on ``queue`` now, without waiting."""
    drained = []
    while not queue.empty():
        drained.append(queue.get_nowait())
    return drained


async def gap_marker(output: asyncio.Queue[Any], watching: Watched | None = None) -> dict[str, Any]:
    """The next gap marker on a user stream; the exchange's messages before it are skipped."""
    marker = await receive(output, is_gap_marker, "a gap marker on the user stream", watching=watching)
    return cast(dict[str, Any], marker)


async def agrees(account: AccountState, truth: ExchangeAccount, watching: Watched | None = None) -> None:
    """Wait until ``account`` agrees exactly with the exchange's truth (`account_differences`)."""

    def agreeing() -> bool:
        return not account_differences(account, truth.truth())

    def differences() -> str:
        return f"differences: {excerpt(repr(account_differences(account, truth.truth())), 300)}"

    await eventually(agreeing, "the account agrees with the exchange", watching=watching, explain_more=differences)


def handshake(connection: Connection) -> tuple[bool, int]:
    """What a connection did to become a stream, as the exchange saw it: logged in, subscribes accepted."""
    return connection.authenticated, len(connection.subscriptions)


def client_pings(exchange: FakeExchange, connection: Connection) -> int:
    """Keepalives the client sent on ``connection``: the exchange's app-level pings and WebSocket pings."""
    app_level = sum(
        1 for message in connection.received if exchange.dialect.classify_client(message) is ClientIntent.PING
    )
    return app_level + connection.pings


def on_schedule(count: int, window: float, interval: float) -> bool:
    """``count`` keepalives in ``window`` seconds fit one every ``interval``: neither starved nor flooding."""
    expected = window / interval
    return max(2, int(expected // 3)) <= count <= 2 * expected + 2


def sent_secrets(exchange: FakeExchange, credentials: Sequence[Credentials]) -> set[str]:
    """What must never be shown: secrets and passphrases, and every signature, token or key the clients sent.

    Read from what reached ``exchange``: values under a credential-like name (``sign``, ``token``, ``key``,
    ``passphrase``) and long opaque strings (a signature in a positional argument list), less the API keys.
    """
    api_keys = {account.api_key for account in credentials}
    found = {secret for account in credentials for secret in (account.secret, account.passphrase) if secret}
    sent: list[tuple[str, Any]] = [("", message) for _, message in exchange.received]
    for connection in exchange.connections:
        sent.extend(connection.query.items())
        sent.append(("", connection.path.split("/")))  # a listen key or token may be a segment of the path
    for request in exchange.rest_requests:
        sent.extend((*request.query.items(), *request.headers.items(), ("", _json_or_text(request.body))))
    for name, value in sent:
        found.update(_credential_values(name, value))
    return found - api_keys


_CREDENTIAL_NAME = re.compile(r"sign|secret|pass|token|jwt|key|auth", re.IGNORECASE)
_DESCRIPTIVE_NAME = re.compile(r"method|version|type", re.IGNORECASE)
"""Names that say how a value was signed (HTX's ``SignatureMethod=HmacSHA256``), not what the signature is."""
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_.-]{32,}")


def _credential_values(name: str, value: Any, *, positional: bool = False) -> set[str]:
    """The credentials in ``value``, sent under ``name``: named as one, or opaque in a positional list."""
    if isinstance(value, Mapping):
        return {found for key, item in value.items() for found in _credential_values(str(key), item)}
    if isinstance(value, list | tuple):
        return {found for item in value for found in _credential_values(name, item, positional=True)}
    if not isinstance(value, str):
        return set()
    named = _CREDENTIAL_NAME.search(name) is not None and _DESCRIPTIVE_NAME.search(name) is None
    # Parts, not the whole: "Bearer <jwt>" shows its token without the scheme.
    return {
        part
        for part in value.split()
        if len(part) >= 8 and not part.isdigit() and (named or (positional and _OPAQUE.fullmatch(part)))
    }


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


_FORMATTER = logging.Formatter()
_FAKE_EXCHANGE_LOGGERS = ("aiohttp.access", "aiohttp.server", "aiohttp.web")


def _served_by_the_fake(record: logging.LogRecord) -> bool:
    """The fake exchange's own server logs (its access log quotes signed URLs): not the connector's to keep clean."""
    return record.name.startswith(_FAKE_EXCHANGE_LOGGERS)


def _qualname(task: asyncio.Task[Any]) -> str:
    return str(getattr(task.get_coro(), "__qualname__", ""))


class ConnectorHarness(abc.ABC):
    """How the contract builds one connector and sets up its exchange's fake.

    Set ``data_source_class`` (and ``auth_class`` when the exchange signs its own way), and say
    which fake to run with `dialect`; override the rest where the exchange differs.
    """

    data_source_class: ClassVar[type[UserStreamTrackerDataSource]]
    auth_class: ClassVar[type[MarketAuth]] = MarketAuth

    @abc.abstractmethod
    def dialect(self) -> Dialect:
        """A fresh fake of the connector's exchange."""

    def credentials(self) -> Credentials:
        """The account the fake exchange accepts."""
        return Credentials()

    def wrong_credentials(self) -> Credentials:
        """An account the fake exchange refuses: by default every part of `credentials` changed."""
        right = self.credentials()
        passphrase = None if right.passphrase is None else f"wrong-{right.passphrase}"
        return Credentials(api_key=f"wrong-{right.api_key}", secret=f"wrong-{right.secret}", passphrase=passphrase)

    def install(self, exchange: FakeExchange) -> None:  # noqa: B027 - most exchanges need no REST routes
        """Serve the exchange's REST routes (listen keys, tokens, server time) on ``exchange``."""

    def auth(self, credentials: Credentials) -> MarketAuth:
        """The connector's signer for ``credentials``."""
        if credentials.passphrase is None:
            return self.auth_class(credentials.api_key, credentials.secret)
        return self.auth_class(credentials.api_key, credentials.secret, credentials.passphrase)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        """The connector's URL arguments pointing at ``exchange`` (``ws_url=``, ``rest_url=``)."""
        return {"ws_url": exchange.ws_url, "rest_url": exchange.rest_url}

    def options(self) -> Mapping[str, Any]:
        """Other constructor arguments the tests need (a short poll interval, say)."""
        return {}

    def data_source(
        self,
        exchange: FakeExchange,
        credentials: Credentials,
        *,
        timings: StreamTimings,
        reconnect: ReconnectPolicy,
        websocket_factory: WebSocketFactory | None = None,
        **overrides: Any,
    ) -> UserStreamTrackerDataSource:
        """The connector's data source, signing with ``credentials`` and pointed at ``exchange``.

        ``overrides`` are further constructor arguments (``reconcile_interval=``), over `options`.
        """
        arguments: dict[str, Any] = {**self.endpoints(exchange), "timings": timings, "reconnect": reconnect}
        if websocket_factory is not None:
            arguments["websocket_factory"] = websocket_factory
        return self.data_source_class(self.auth(credentials), **arguments, **{**self.options(), **overrides})


class WebSocketHarness(ConnectorHarness):
    @abc.abstractmethod
    def user_events(self) -> Sequence[Any]:
        """Frames the exchange pushes for an order update, a fill and a balance change, in its own shapes."""


class PollingHarness(ConnectorHarness):
    @abc.abstractmethod
    def change_account(self, exchange: FakeExchange) -> Callable[[Any], bool]:
        """Change the account on ``exchange`` (place an order, move a balance); return a test for its message."""

    def fail_next_poll(self, exchange: FakeExchange) -> None:
        """Make the exchange's next balance or order request fail with a server error."""
        raise NotImplementedError


class _Contract:
    """What both contracts share: an exchange, a way to build data sources, cleanup, and the tests of both.

    Each contract says how its exchange delivers (`assert_delivers`), how its session is interrupted
    (`interrupt`) and how its keepalives are counted (`keepalives_sent`, `keepalive_interval`).
    """

    @pytest.fixture
    def harness(self) -> ConnectorHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    @pytest_asyncio.fixture
    async def exchange(self, harness: ConnectorHarness) -> AsyncIterator[FakeExchange]:
        async with FakeExchange(harness.dialect(), harness.credentials()) as exchange:
            harness.install(exchange)
            yield exchange

    @pytest_asyncio.fixture
    async def build(
        self, harness: ConnectorHarness, exchange: FakeExchange
    ) -> AsyncIterator[Callable[..., UserStreamTrackerDataSource]]:
        """``build(credentials=None, websocket_factory=None, **overrides)``: a data source, stopped after the test."""
        built: list[UserStreamTrackerDataSource] = []

        def build(
            credentials: Credentials | None = None,
            websocket_factory: WebSocketFactory | None = None,
            **overrides: Any,
        ) -> UserStreamTrackerDataSource:
            data_source = harness.data_source(
                exchange,
                credentials or harness.credentials(),
                timings=TEST_TIMINGS,
                reconnect=TEST_RECONNECT,
                websocket_factory=websocket_factory,
                **overrides,
            )
            built.append(data_source)
            return data_source

        yield build
        for data_source in built:
            await data_source.stop()

    @staticmethod
    async def next_message(output: asyncio.Queue[Any], watching: Watched | None = None) -> Any:
        """The next message from the exchange; userstream's own gap markers are skipped."""
        return await receive(
            output, lambda message: not is_gap_marker(message), "a message from the exchange", watching=watching
        )

    @staticmethod
    async def streaming(
        data_source: UserStreamTrackerDataSource, *, reconnects: int = 0, fail_fast: bool = True
    ) -> None:
        """Wait until the stream is up (after ``reconnects`` reconnects); give up early if its status rules it out."""
        await eventually(
            lambda: data_source.status.streaming and data_source.status.reconnect_count >= reconnects,
            f"streaming after {reconnects} reconnect(s)" if reconnects else "streaming",
            watching=data_source,
            fail_fast=fail_fast,
        )

    async def assert_delivers(
        self,
        harness: Any,
        exchange: FakeExchange,
        data_source: UserStreamTrackerDataSource,
        output: asyncio.Queue[Any],
    ) -> None:
        """The exchange's user messages reach ``output`` now."""
        raise NotImplementedError

    async def interrupt(self, harness: Any, exchange: FakeExchange) -> None:
        """End the session as a fault does, so that the stream must reconnect."""
        raise NotImplementedError

    async def one_frame(self, exchange: FakeExchange) -> None:
        """Make the exchange send the stream one frame that is not a user message, if the stream waits for one."""

    def keepalives_sent(self, exchange: FakeExchange) -> int:
        """What keeps the stream alive, counted at the exchange: pings, or polls."""
        raise NotImplementedError

    def keepalive_interval(self, data_source: UserStreamTrackerDataSource) -> float:
        raise NotImplementedError

    @checks("clean_stop")
    async def test_stop_leaves_no_task_and_no_open_connection(
        self, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        _, task = start_listening(data_source)
        await self.streaming(data_source)
        await data_source.stop()
        await eventually(lambda: task.done(), "the listener ended", watching=data_source)
        await eventually(lambda: exchange.open_connections == 0, "the exchange sees no open connection")
        assert client_tasks() == set()
        assert not data_source.status.connected

    @checks("keepalives")
    async def test_keepalives_go_out_on_schedule_and_the_stream_stays_up(
        self, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """Several keepalive intervals and staleness windows pass: one keepalive each interval, no reconnect."""
        data_source = build()
        start_listening(data_source)
        await self.streaming(data_source)
        before = self.keepalives_sent(exchange)
        window = 3 * TEST_TIMINGS.stale_after
        await asyncio.sleep(window)
        sent = self.keepalives_sent(exchange) - before
        status = data_source.status
        assert status.streaming, f"the stream fell over: {explain(status)}"
        assert status.reconnect_count == 0, f"reconnected {status.reconnect_count} time(s): {explain(status)}"
        interval = self.keepalive_interval(data_source)
        assert on_schedule(sent, window, interval), f"{sent} keepalive(s) in {window:g} s, one every {interval:g} s due"

    @checks("last_recv_time")
    async def test_last_recv_time_moves_on_every_frame_and_never_goes_backwards(
        self, harness: Any, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """Sampled throughout two sessions, a reconnect between them: it only grows, and grows on each frame."""
        data_source = build()
        start_listening(data_source)
        samples: list[float] = []

        async def sample() -> None:
            while True:
                samples.append(data_source.last_recv_time)
                await asyncio.sleep(0)  # every turn of the loop: a value put back and moved on at once is caught

        sampler = asyncio.create_task(sample())
        try:
            for reconnects in (0, 1):
                await self.streaming(data_source, reconnects=reconnects)
                for _ in range(3):
                    await self.assert_moves_on_a_frame(exchange, data_source)
                if not reconnects:
                    await self.interrupt(harness, exchange)
        finally:
            sampler.cancel()
        backwards = [(earlier, later) for earlier, later in itertools.pairwise(samples) if later < earlier]
        assert not backwards, f"last_recv_time went backwards: {backwards[:3]}"

    async def assert_moves_on_a_frame(self, exchange: FakeExchange, data_source: UserStreamTrackerDataSource) -> None:
        before = data_source.last_recv_time
        await asyncio.sleep(0.01)  # the clock must move for last_recv_time to
        await self.one_frame(exchange)
        await eventually(
            lambda: data_source.last_recv_time > before, "last_recv_time moved on a frame", watching=data_source
        )

    @checks("rejected_login")
    async def test_refused_credentials_are_reported_and_retried_with_backoff(
        self, harness: ConnectorHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """Refused, the stream never streams nor queues, says why as a refused login, and backs off between tries.

        A connector that takes the exchange's refusal for a login acknowledgement streams, or fails later for
        another reason (a subscription refused for want of a login): both fail here.
        """
        data_source = build(credentials=harness.wrong_credentials())
        started = asyncio.get_running_loop().time()
        output, task = start_listening(data_source)

        def retried_or_accepted() -> bool:
            status = data_source.status
            return status.reconnect_count >= 2 or status.streaming or not output.empty()

        await eventually(retried_or_accepted, "two retries after a refusal", watching=data_source, fail_fast=False)
        elapsed = asyncio.get_running_loop().time() - started
        status = data_source.status
        assert not status.streaming, (
            f"streaming with refused credentials: a refusal taken for a login ({explain(status)})"
        )
        assert output.empty(), f"queued {output.qsize()} message(s) with refused credentials: {output.get_nowait()!r}"
        assert status.last_error is not None, "a refusal must say why"
        assert status.last_error.startswith(f"{AuthenticationError.__name__}:"), (
            f"a refused login must be reported as one (AuthenticationError, in the exchange's words), "
            f"got {status.last_error!r}"
        )
        assert status.last_error.partition(":")[2].strip(), "a refusal must say why, in the exchange's words"
        delays = TEST_RECONNECT.initial_delay * (1 + TEST_RECONNECT.factor)
        assert elapsed >= 0.9 * delays, f"retried twice in {elapsed:.3f} s: no backoff (at least {delays:g} s due)"
        assert not task.done(), "a refusal must not end the stream: the key may be fixed, the exchange may recover"

    @checks("credential_expiry")
    async def test_an_expired_key_or_token_is_replaced_by_a_fresh_one(
        self, harness: ConnectorHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        if not isinstance(harness, ReconcilingHarness):
            pytest.skip(
                "not applicable: this harness cannot expire a credential (ReconcilingHarness.expire_credentials)"
            )
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        if not await harness.expire_credentials(exchange):
            pytest.skip("not applicable: this exchange's stream runs on no key or token that expires")

        def renewed() -> bool:
            status = data_source.status
            replaced = status.reconnect_count + status.handovers >= 1
            return replaced and status.streaming and exchange.open_connections == 1

        # No failing fast: the expiry itself may be reported as a refusal before the fresh credential is fetched.
        await eventually(renewed, "streaming on a fresh credential", watching=data_source, fail_fast=False)
        await self.assert_delivers(harness, exchange, data_source, output)

    @checks("no_secrets")
    async def test_no_secret_shows_in_logs_repr_or_status(
        self,
        harness: ConnectorHarness,
        exchange: FakeExchange,
        build: Callable[..., UserStreamTrackerDataSource],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Through a refused login and a session with a reconnect: no secret, passphrase, signature or token shows.

        What the client sent the exchange says what those were; the log (every level), ``repr`` and ``str`` of the
        data source and its auth, and its status are searched for each.
        """
        caplog.set_level(logging.DEBUG)
        shown: list[str] = []

        def look_at(data_source: UserStreamTrackerDataSource) -> None:
            shown.extend((repr(data_source), str(data_source), repr(data_source.auth), str(data_source.auth)))
            shown.append(repr(data_source.status))

        refused = build(credentials=harness.wrong_credentials())
        start_listening(refused)
        await eventually(
            lambda: refused.status.reconnect_count >= 1, "a retry after a refusal", watching=refused, fail_fast=False
        )
        look_at(refused)
        await refused.stop()
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        look_at(data_source)
        await self.interrupt(harness, exchange)
        await self.streaming(data_source, reconnects=1)
        await self.assert_delivers(harness, exchange, data_source, output)
        look_at(data_source)
        await data_source.stop()
        shown.extend(_FORMATTER.format(record) for record in caplog.records if not _served_by_the_fake(record))
        secrets = sent_secrets(exchange, [harness.credentials(), harness.wrong_credentials()])
        leaked = sorted({excerpt(secret, 12) for secret in secrets if any(secret in text for text in shown)})
        assert not leaked, f"{len(leaked)} secret(s) shown in the log, a repr or the status (starting {leaked})"


class WebSocketUserStreamContract(_Contract):
    """The contract of a user stream served over a WebSocket; see the module docstring."""

    @pytest.fixture
    def harness(self) -> WebSocketHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    async def push_user_events(self, harness: WebSocketHarness, exchange: FakeExchange) -> list[Any]:
        events = list(harness.user_events())
        for event in events:
            assert await exchange.push(event) == 1, "the exchange must have exactly one connection to push to"
        return events

    async def assert_delivers(
        self,
        harness: WebSocketHarness,
        exchange: FakeExchange,
        data_source: UserStreamTrackerDataSource,
        output: asyncio.Queue[Any],
    ) -> None:
        events = await self.push_user_events(harness, exchange)
        received = [await self.next_message(output, data_source) for _ in events]
        assert received == events

    async def interrupt(self, harness: WebSocketHarness, exchange: FakeExchange) -> None:
        await exchange.drop_connections()

    async def one_frame(self, exchange: FakeExchange) -> None:
        await liveness_frame(exchange)

    def keepalives_sent(self, exchange: FakeExchange) -> int:
        return sum(client_pings(exchange, connection) for connection in exchange.connections)

    def keepalive_interval(self, data_source: UserStreamTrackerDataSource) -> float:
        return data_source.timings.ping_interval

    async def assert_streams(
        self, harness: WebSocketHarness, exchange: FakeExchange, data_source: UserStreamTrackerDataSource
    ) -> None:
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await self.assert_delivers(harness, exchange, data_source, output)
        assert data_source.last_recv_time > 0

    @checks("connects")
    async def test_connects_authenticates_subscribes_and_streams_orders_fills_and_balances(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """One connection, logged in where the exchange wants a login, its subscribes accepted; the events arrive.

        The harness's `user_events` are the exchange's order update, fill and balance change.
        """
        data_source = build()
        await self.assert_streams(harness, exchange, data_source)
        [connection] = [connection for connection in exchange.connections if connection.open]
        if exchange.dialect.requires_login:
            assert connection.authenticated, "the exchange wants a login and saw none accepted"
        subscribes = [m for m in connection.received if exchange.dialect.classify_client(m) is ClientIntent.SUBSCRIBE]
        assert len(connection.subscriptions) == len(subscribes), "every subscribe sent must be accepted"

    @checks("connects")
    async def test_user_events_reach_the_queue_over_an_in_memory_socket(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        await self.assert_streams(harness, exchange, build(websocket_factory=exchange.connect_in_memory))

    @checks("queues_user_messages")
    async def test_user_messages_are_queued_in_order_and_nothing_else_is(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """Each user message once and in order; liveness frames between them and the handshake's replies are not."""
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        events = list(harness.user_events())
        for event in events:
            await liveness_frame(exchange)
            assert await exchange.push(event) == 1, "the exchange must have exactly one connection to push to"
        received = [await self.next_message(output, data_source) for _ in events]
        assert received == events
        others = [message for message in drain(output) if not is_gap_marker(message)]
        assert others == [], f"queued what the exchange did not send as a user message: {excerpt(repr(others), 300)}"

    @checks("last_recv_time")
    async def test_liveness_frames_move_last_recv_time_and_are_not_queued(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        before = data_source.last_recv_time
        await asyncio.sleep(0.02)  # the clock must move for last_recv_time to
        await liveness_frame(exchange)
        await eventually(
            lambda: data_source.last_recv_time > before,
            "last_recv_time moved on a liveness frame",
            watching=data_source,
        )
        events = await self.push_user_events(harness, exchange)
        assert await self.next_message(output, data_source) == events[0], "the liveness frame must not be queued"

    async def assert_replaced(
        self,
        harness: WebSocketHarness,
        exchange: FakeExchange,
        data_source: UserStreamTrackerDataSource,
        output: asyncio.Queue[Any],
        *,
        within: float,
    ) -> None:
        """After a fault: streaming again within ``within`` seconds on a new connection set up as the first was."""
        first = exchange.connections[0]
        started = asyncio.get_running_loop().time()
        await self.streaming(data_source, reconnects=1)
        took = asyncio.get_running_loop().time() - started
        assert took <= within, f"reconnected after {took:.2f} s, over the {within:g} s the timings and backoff allow"
        [successor] = [connection for connection in exchange.connections if connection.open and not connection.silent]
        assert handshake(successor) == handshake(first), (
            "the new connection must log in and subscribe as the first did: "
            f"(logged in, subscribes) {handshake(first)} then {handshake(successor)}"
        )
        await self.assert_delivers(harness, exchange, data_source, output)

    @checks("reconnects")
    async def test_a_dropped_connection_is_replaced_by_a_freshly_authenticated_one(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await exchange.drop_connections()
        await self.assert_replaced(
            harness, exchange, data_source, output, within=TEST_RECONNECT.max_delay + HANDSHAKE_SLACK
        )

    @checks("reconnects")
    async def test_a_going_away_close_is_followed_by_a_freshly_authenticated_connection(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """The exchange closes the connection with code 1001 (going away), as before a restart."""
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await exchange.close_connections(code=1001, reason="going away")
        await self.assert_replaced(
            harness, exchange, data_source, output, within=TEST_RECONNECT.max_delay + HANDSHAKE_SLACK
        )

    @checks("reconnects")
    async def test_a_silent_connection_is_detected_and_replaced(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        exchange.go_silent()
        bound = TEST_TIMINGS.stale_after + TEST_RECONNECT.max_delay + HANDSHAKE_SLACK
        await self.assert_replaced(harness, exchange, data_source, output, within=bound)
        assert exchange.open_connections == 1

    @checks("malformed_frames")
    async def test_malformed_frames_are_skipped(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await exchange.send_malformed()
        events = await self.push_user_events(harness, exchange)
        assert await self.next_message(output, data_source) == events[0]
        status = data_source.status
        assert status.malformed_frames == 1
        assert status.streaming
        assert status.reconnect_count == 0, f"a malformed frame ended the connection: {explain(status)}"

    @checks("connects")
    async def test_the_legacy_call_form_streams_and_warns(
        self, harness: WebSocketHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            output, task = start_listening(data_source, asyncio.get_running_loop())
            await self.streaming(data_source)
        assert not task.done()
        assert any(issubclass(warning.category, DeprecationWarning) for warning in caught)
        events = await self.push_user_events(harness, exchange)
        assert await self.next_message(output, data_source) == events[0]


async def liveness_frame(exchange: FakeExchange) -> None:
    """A frame that only says the exchange is there: its heartbeat, or a WebSocket ping where it has none."""
    try:
        await exchange.push_heartbeat()
    except NotImplementedError:
        await exchange.ping_connections()


class PollingUserStreamContract(_Contract):
    """The contract of a user stream served by REST polling; see the module docstring."""

    @pytest.fixture
    def harness(self) -> PollingHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    async def assert_delivers(
        self,
        harness: PollingHarness,
        exchange: FakeExchange,
        data_source: UserStreamTrackerDataSource,
        output: asyncio.Queue[Any],
    ) -> None:
        await self.message_matching(output, harness.change_account(exchange), data_source)

    async def interrupt(self, harness: PollingHarness, exchange: FakeExchange) -> None:
        harness.fail_next_poll(exchange)

    def keepalives_sent(self, exchange: FakeExchange) -> int:
        """Polls: the requests to the path polled most (a poll may ask several endpoints once each)."""
        return max(Counter(request.path for request in exchange.rest_requests).values(), default=0)

    def keepalive_interval(self, data_source: UserStreamTrackerDataSource) -> float:
        interval = getattr(data_source, "poll_interval", None)
        if not isinstance(interval, int | float):
            raise TypeError(f"{type(data_source).__name__} has no poll_interval (seconds): a polled stream needs one")
        return float(interval)

    @checks("queues_user_messages")
    async def test_an_account_change_reaches_the_queue(
        self, harness: PollingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        await self.assert_delivers(harness, exchange, data_source, output)
        assert data_source.last_recv_time > 0

    @checks("reconnects")
    async def test_a_failed_poll_is_retried_and_the_change_still_arrives(
        self, harness: PollingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        output, _ = start_listening(data_source)
        await self.streaming(data_source)
        harness.fail_next_poll(exchange)
        is_the_change = harness.change_account(exchange)
        await eventually(
            lambda: data_source.status.reconnect_count >= 1, "a retry after the failed poll", watching=data_source
        )
        await self.message_matching(output, is_the_change, data_source)

    @checks("connects")
    async def test_the_polls_keep_the_account(
        self, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        data_source = build()
        if not getattr(data_source, "ORDER_STATUSES", None):
            pytest.skip("the connector sets no ORDER_STATUSES: it queues raw messages only")
        start_listening(data_source)
        await self.streaming(data_source)
        account = data_source.account
        await eventually(
            lambda: bool(account.balances or account.open_orders),
            "the first poll is in the account",
            watching=data_source,
        )
        assert data_source.status.unparsed_messages == 0

    async def message_matching(
        self,
        output: asyncio.Queue[Any],
        is_the_change: Callable[[Any], bool],
        watching: Watched | None = None,
    ) -> Any:
        """The first message that ``is_the_change``; the first poll reports the whole account, so skip that."""
        return await receive(output, is_the_change, "a message reporting the change", watching=watching)


class ReconcilingHarness(WebSocketHarness):
    """A harness for a connector that reconciles (`fetch_account_snapshot`): it also drives the exchange's account."""

    ANNOUNCES_CLOSE: ClassVar[bool] = False
    """The exchange announces a connection's end before it closes it, and keeps delivering meanwhile (OKX 64008,
    Binance ``serverShutdown``): the connector must hand over make-before-break."""
    LARGEST_PAGE: ClassVar[int | None] = None
    """The most rows one page of the exchange's paginated account endpoints holds, as its documentation says;
    None when the snapshot's endpoints are not paginated."""
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTC-USDT", "ETH-USDT")
    """Two symbols in the exchange's spelling: the first is where `ExchangeAccount.place_order` trades by default."""
    GUARANTEE: ClassVar[str] = "exact: every fill and every order's final state once, balances as pushed"
    """What the account guarantees on this exchange, in one line (the fault soak prints it in the connector's row)."""

    @abc.abstractmethod
    def exchange_account(self) -> ExchangeAccount:
        """The account on the exchange that `install` set up: the truth the connector must end up with."""

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        """Make the exchange refuse the connector's next login (or signed subscribe, token, listen key).

        For the fault soak; False if this exchange's fake cannot (the fault is then not injected).
        """
        return False

    async def expire_credentials(self, exchange: FakeExchange) -> bool:
        """Expire the listen key or token the stream runs on, as the exchange would; False if there is none."""
        return False

    async def announce_close(self, exchange: FakeExchange, *, after: float) -> None:
        """End the open connections as the exchange ends one on purpose.

        With `ANNOUNCES_CLOSE`, push the exchange's notice and close them ``after`` seconds later; otherwise close
        them at once with code 1001 (going away), the WebSocket's own notice.
        """
        await exchange.close_connections(code=1001, reason="going away")


class ReconciliationContract:
    """The contract of a connector that reconciles after every gap; mix it into a `WebSocketUserStreamContract`.

    The account is compared with the exchange's truth (`account_differences`); a gap is made by dropping
    the connection while the account changes, and a failed snapshot by a REST 5xx.
    """

    @pytest.fixture
    def harness(self) -> ReconcilingHarness:
        raise NotImplementedError("a connector's test class provides the `harness` fixture")

    @staticmethod
    async def reconciled(data_source: UserStreamTrackerDataSource, times: int = 1) -> None:
        """Wait until ``times`` reconciliations have completed and no gap is open."""
        start = data_source.status.reconciled_at

        def done() -> bool:
            status = data_source.status
            return status.reconciled_at is not None and not status.reconciling and status.reconciled_at != start

        for _ in range(times):
            await eventually(done, "a reconciliation", watching=data_source)
            start = data_source.status.reconciled_at

    @checks("reconciled_gap")
    async def test_the_first_connection_reconciles_the_starting_state(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        truth.set_balance("USDT", "1000", "700")
        order = truth.place_order(client_order_id="bot-1")
        data_source = build()
        assert data_source.reconciles
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        received = drain(events)
        notices = [event for event in received if isinstance(event, Reconciled)]
        assert [notice.reason for notice in notices] == [ReconcileReason.CONNECTED]
        assert order_updates_of(received, order.order_id)[0].source is EventSource.RECONCILIATION
        marker = await gap_marker(output, data_source)
        assert (marker["reason"], marker["gap_started"], marker["events"]) == ("connected", None, notices[0].events)

    @checks("reconciled_gap")
    async def test_live_events_keep_the_account_current_and_each_fill_arrives_once(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        data_source = build()
        _, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        order = truth.place_order(amount="0.02")
        truth.fill(order.order_id, "0.01", fee="0.3")
        truth.set_balance("BTC", "0.01")
        await truth.publish()
        await agrees(data_source.account, truth, data_source)
        truth.fill(order.order_id, "0.01")
        await truth.publish()
        await agrees(data_source.account, truth, data_source)
        received = drain(events)
        assert len(fills_of(received)) == 2, "each fill once"
        assert all(event.source is EventSource.STREAM for event in fills_of(received))
        statuses = [update.status for update in order_updates_of(received, order.order_id)]
        assert statuses == [OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]

    @checks("reconciled_gap")
    async def test_what_a_gap_missed_is_reconciled_after_the_reconnect(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        order = truth.place_order(amount="0.02")
        data_source = build()
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await gap_marker(output, data_source)
        drain(events)
        await exchange.drop_connections()
        truth.fill(order.order_id, "0.01")  # while the stream is away: pushed to nobody
        truth.cancel(order.order_id)
        truth.set_balance("BTC", "0.01")
        await truth.publish()
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        received = drain(events)
        [missed_fill] = fills_of(received)
        assert missed_fill.source is EventSource.RECONCILIATION
        [final] = order_updates_of(received, order.order_id)
        assert (final.status, final.filled_quantity) == (OrderStatus.CANCELED, missed_fill.quantity)
        assert received.index(missed_fill) < received.index(final), "no order ends before its last fill"
        marker = await gap_marker(output, data_source)
        assert marker["reason"] == "reconnected"
        assert marker["gap_started"] is not None
        assert marker["gap_started"] <= marker["reconciled_at"]
        assert marker["events"] == 3, "the fill, the cancel and the balance"

    @checks("reconciled_gap")
    async def test_a_failed_snapshot_is_retried_reported_and_nothing_is_lost_meanwhile(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        truth.fail_next(3)
        data_source = build()
        _, events = listen_with_events(data_source)
        await eventually(
            lambda: data_source.status.reconcile_failures >= 1, "a failed snapshot reported", watching=data_source
        )
        status = data_source.status
        assert status.reconciling
        assert status.last_reconcile_error
        assert status.reconciled_at is None
        order = truth.place_order()  # live while the snapshot keeps failing: buffered, not lost
        await truth.publish()
        await self.reconciled(data_source)
        assert data_source.status.reconcile_failures == 0
        await agrees(data_source.account, truth, data_source)
        assert order_updates_of(drain(events), order.order_id), "the order reached the consumer"

    @checks("reconciled_gap")
    async def test_periodic_reconciliation_catches_loss_without_a_reconnect(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        data_source = build(reconcile_interval=0.2)
        listen_with_events(data_source)
        await self.reconciled(data_source)
        truth.set_balance("USDT", "5")  # never published: only a snapshot can tell
        await agrees(data_source.account, truth, data_source)
        assert data_source.status.reconnect_count == 0

    @checks("reconciled_gap")
    async def test_a_deposit_is_counted_once_across_a_reconciliation(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """A deposit pushed while a snapshot that already shows it is pending, then one pushed live: each counted once.

        An exchange that pushes the amount moved (Binance's ``balanceUpdate``) beside the new total must not have
        the amount added to a total that already holds it.
        """
        truth = harness.exchange_account()
        truth.set_balance("USDT", "100")
        truth.fail_next(1)
        data_source = build()
        listen_with_events(data_source)
        await eventually(
            lambda: data_source.status.reconcile_failures >= 1, "the first snapshot failed", watching=data_source
        )
        truth.deposit("USDT", "25")
        await truth.publish()  # buffered: the gap is still open
        await self.reconciled(data_source)  # the snapshot shows 125, then the buffered deposit is applied
        assert data_source.account.balances["USDT"].total == Decimal(125)
        truth.deposit("USDT", "5")
        await truth.publish()
        await agrees(data_source.account, truth, data_source)
        assert data_source.account.balances["USDT"].total == Decimal(130)

    @checks("reconciled_gap")
    async def test_an_order_born_and_finished_in_a_gap_is_reported_exactly_once(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        data_source = build()
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await gap_marker(output, data_source)
        drain(events)
        await exchange.drop_connections()
        filled = truth.place_order(amount="0.02", client_order_id="gap-1")
        truth.fill(filled.order_id, "0.01", fee="0.1")
        truth.fill(filled.order_id, "0.01", fee="0.1")
        cancelled = truth.place_order(amount="0.05", price="29000", client_order_id="gap-2")
        truth.fill(cancelled.order_id, "0.01")
        truth.cancel(cancelled.order_id)
        await truth.publish()  # to nobody
        await self.reconciled(data_source)
        await agrees(data_source.account, truth, data_source)
        data_source.request_reconciliation()  # a second snapshot reads the same history again
        await self.reconciled(data_source)
        received = drain(events)
        assert sorted(fill.trade_id for fill in fills_of(received)) == sorted(
            fill.trade_id
            for fill in truth.truth().fills
            if fill.exchange_order_id in (filled.order_id, cancelled.order_id)
        ), "each fill exactly once"
        for order, final in ((filled, OrderStatus.FILLED), (cancelled, OrderStatus.CANCELED)):
            updates = order_updates_of(received, order.order_id)
            assert [update.status for update in updates if update.status.is_final] == [final], "one final state"
            last_fill = max(
                received.index(fill) for fill in fills_of(received) if fill.exchange_order_id == order.order_id
            )
            assert last_fill < received.index(updates[-1]), "no order ends before its last fill"

    @checks("reconciled_gap")
    async def test_a_snapshot_follows_every_page(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        if harness.LARGEST_PAGE is None:
            pytest.skip("this exchange's snapshot endpoints return everything in one reply: there is nothing to page")
        truth = harness.exchange_account()
        data_source = build()
        listen_with_events(data_source)
        await self.reconciled(data_source)
        await exchange.drop_connections()
        rows = harness.LARGEST_PAGE + 1
        for _ in range(rows):  # more of each than one page holds: open orders, finished orders, fills
            truth.place_order(amount="0.01", price="20000")
            truth.fill(truth.place_order(amount="0.01").order_id, "0.01")
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        paged = {path: pages for path, pages in truth.pages_served.items() if pages > 1}
        assert paged, f"no endpoint was asked for a second page: {dict(truth.pages_served)}"

    @checks("reconciled_gap")
    async def test_an_announced_close_loses_nothing(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        truth = harness.exchange_account()
        order = truth.place_order(amount="0.03")
        data_source = build()
        output, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await gap_marker(output, data_source)
        drain(events)
        drain(output)
        [first] = [connection for connection in exchange.connections if connection.open]
        await harness.announce_close(exchange, after=1.0)
        truth.fill(order.order_id, "0.01")  # while the announced connection still delivers
        pushed = await truth.publish()
        if harness.ANNOUNCES_CLOSE:
            await eventually(
                lambda: data_source.status.handovers == 1, "a handover to a new connection", watching=data_source
            )
        truth.fill(order.order_id, "0.01")
        pushed += await truth.publish()
        await eventually(lambda: not first.open, "the announced connection closed", watching=data_source)
        truth.cancel(order.order_id)
        pushed += await truth.publish()
        await agrees(data_source.account, truth, data_source)
        received = drain(events)
        assert len(fills_of(received)) == 2, "each fill once"
        [final] = [update for update in order_updates_of(received, order.order_id) if update.status.is_final]
        assert final.status is OrderStatus.CANCELED
        if harness.ANNOUNCES_CLOSE:
            status = data_source.status
            assert (status.handovers, status.reconnect_count) == (1, 0), "handed over, not reconnected"
            successor = exchange.connections[-1]
            assert successor.handshaken_at is not None
            assert first.closed_at is not None
            assert successor.handshaken_at < first.closed_at, "make-before-break: subscribed before the close"
            raw = [message for message in drain(output) if not is_gap_marker(message)]
            assert len(raw) == pushed, f"each pushed frame once on user_stream, got {len(raw)} of {pushed}"

    @checks("reconciled_gap")
    async def test_an_order_on_a_symbol_first_traded_in_a_gap_is_found(
        self, harness: ReconcilingHarness, exchange: FakeExchange, build: Callable[..., UserStreamTrackerDataSource]
    ) -> None:
        """A symbol with no open order before the gap, given to the data source (``symbols=``), is read too.

        What an exchange whose history endpoints take one symbol at a time needs; any other finds it anyway.
        """
        first, second = harness.SYMBOLS
        truth = harness.exchange_account()
        truth.place_order(first)
        data_source = build(symbols=harness.SYMBOLS)
        _, events = listen_with_events(data_source)
        await self.reconciled(data_source)
        await exchange.drop_connections()
        order = truth.place_order(second, amount="0.02")
        truth.fill(order.order_id, "0.02")
        await self.reconciled(data_source)
        assert account_differences(data_source.account, truth.truth()) == []
        finals = [update for update in order_updates_of(drain(events), order.order_id) if update.status.is_final]
        assert [update.status for update in finals] == [OrderStatus.FILLED]
