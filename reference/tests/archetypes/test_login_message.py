"""The login-message archetype against fake OKX v5 and Bybit v5 exchanges on 127.0.0.1.

Each test runs once per exchange (the ``case`` fixture) unless it is about one exchange's own
behaviour. The fakes verify the real signatures, passphrase and timestamp windows, so a login
the client built wrongly, or too early, is refused just as the exchange would refuse it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import pytest
from bybit.bybit_api_user_stream_data_source import BybitAPIUserStreamDataSource
from okx.okx_api_user_stream_data_source import OkxAPIUserStreamDataSource
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, client_tasks, eventually, next_message, start_listening

from userstream import FrameKind, MarketAuth, StreamState, StreamTimings
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin, sign_login
from userstream.testing import ClientIntent, Credentials, Dialect, FakeExchange
from userstream.testing.dialects import bybit, okx

# --- the two exchanges ------------------------------------------------------------------------------


class ExchangeState(Protocol):
    time_requests: int
    time_delay: float

    def fail_next_time_request(self, status: int = 503) -> None: ...

    def revoke(self, api_key: str) -> None: ...

    def restore(self, api_key: str) -> None: ...


@dataclass(frozen=True)
class Case:
    """One exchange: its fake, its connector, and what its frames look like."""

    name: str
    dialect: Callable[[], Dialect]
    install: Callable[[FakeExchange], ExchangeState]
    data_source: type[LoginMessageDataSource]
    credentials: Credentials
    private_url: Callable[[FakeExchange], str]
    subscribe: Any
    """The subscribe message the client must send."""
    ping: Any
    """The client's app-level ping as the fake receives it."""
    events: Callable[[], list[Any]]
    """An order update, a fill and a balance update, as the exchange pushes them."""
    wrong_auth: Callable[[Credentials], MarketAuth]
    wrong_auth_reported: str
    refusal: tuple[str, str]
    """A refusal the fake is told to make, and how the client reports it."""
    skew_reported: Callable[[float], str | None]
    """How a login is refused when the exchange's clock is ``skew`` seconds ahead; None if accepted."""
    login_parts: Callable[[Any], tuple[int, str]]
    """(timestamp, signature) of a login message."""
    per_second: int
    """Timestamp units per second."""
    idle_frame: Callable[[Dialect], Any]
    """A frame that neither acknowledges nor refuses anything."""
    mid_stream_error: Callable[[Dialect], tuple[Any, str]]
    """An error frame the exchange pushes while streaming, and how the client reports it."""

    def auth(self, clock: Callable[[], float] = time.time) -> MarketAuth:
        return MarketAuth(self.credentials.api_key, self.credentials.secret, self.credentials.passphrase, clock=clock)


def _okx_events() -> list[Any]:
    return [
        okx.order_update("611", cl_ord_id="bot-1", state="live"),
        okx.fill("611", "242589207", fill_sz="0.004", fill_px="30000.5", fee="-0.000004"),
        okx.balance_update("USDT", cash_bal="879.998", avail_bal="759.998", frozen_bal="120"),
    ]


def _bybit_events() -> list[Any]:
    return [
        bybit.order_update("5cf98598", order_link_id="bot-1"),
        bybit.execution("5cf98598", "0ab1bdf7", exec_qty="0.004", exec_price="30000.5", leaves_qty="0.006"),
        bybit.wallet_update("USDT", wallet_balance="879.998", locked="120"),
    ]


def _okx_skew(skew: float) -> str:
    return "Timestamp request expired (code 60006)" if skew > 0 else "Invalid timestamp (code 60004)"


def _okx_login_parts(message: Any) -> tuple[int, str]:
    login = message["args"][0]
    return int(login["timestamp"]), login["sign"]


def _bybit_login_parts(message: Any) -> tuple[int, str]:
    _, expires, signature = message["args"]
    return int(expires), signature


def _okx_error(dialect: Dialect) -> tuple[Any, str]:
    message = "Operation subscribe failed due to WebSocket internal error. Please try again later."
    return {"event": "error", "code": "64007", "msg": message, "connId": "a4d3ae55"}, f"{message} (code 64007)"


def _bybit_error(dialect: Dialect) -> tuple[Any, str]:
    frame = {"success": False, "ret_msg": "Request not authorized", "op": "subscribe", "conn_id": "x"}
    return frame, "Request not authorized"


OKX = Case(
    name="okx",
    dialect=okx.OkxDialect,
    install=okx.install,
    data_source=OkxAPIUserStreamDataSource,
    credentials=okx.credentials(),
    private_url=okx.private_url,
    subscribe={"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}, {"channel": "account"}]},
    ping="ping",
    events=_okx_events,
    wrong_auth=lambda c: MarketAuth(c.api_key, c.secret, "not-the-passphrase"),
    wrong_auth_reported="Wrong passphrase (code 60024)",
    refusal=("Login failed.", "Login failed. (code 60009)"),
    skew_reported=_okx_skew,
    login_parts=_okx_login_parts,
    per_second=1,
    idle_frame=lambda dialect: "pong",
    mid_stream_error=_okx_error,
)
BYBIT = Case(
    name="bybit",
    dialect=bybit.BybitDialect,
    install=bybit.install,
    data_source=BybitAPIUserStreamDataSource,
    credentials=bybit.credentials(),
    private_url=bybit.private_url,
    subscribe={"op": "subscribe", "args": ["order", "execution", "wallet"]},
    ping={"op": "ping"},
    events=_bybit_events,
    wrong_auth=lambda c: MarketAuth(c.api_key, "not-the-secret"),
    wrong_auth_reported="Invalid sign",
    refusal=("Invalid apikey", "Invalid apikey"),
    # Bybit signs an expiry: a clock behind the exchange's makes it already past; one ahead is accepted.
    skew_reported=lambda skew: "Params Error" if skew > 0 else None,
    login_parts=_bybit_login_parts,
    per_second=1000,
    idle_frame=lambda dialect: dialect.pong({}),
    mid_stream_error=_bybit_error,
)


class ManualClock:
    """A wall clock that moves only when told to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- fixtures -----------------------------------------------------------------------------------------


@dataclass
class Venue:
    case: Case
    exchange: FakeExchange
    state: ExchangeState


StreamFactory = Callable[..., LoginMessageDataSource]


@pytest.fixture(params=[OKX, BYBIT], ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def clock_skew() -> float:
    """Seconds the fake exchange's clock runs ahead of ours; a test parametrizes it to change it."""
    return 0.0


@pytest.fixture
async def venue(case: Case, clock_skew: float) -> AsyncIterator[Venue]:
    async with FakeExchange(case.dialect(), case.credentials, clock_skew=clock_skew) as exchange:
        yield Venue(case, exchange, case.install(exchange))


@pytest.fixture
async def make_stream(venue: Venue) -> AsyncIterator[StreamFactory]:
    """Data sources for the venue's exchange, stopped before the exchange closes."""
    created: list[LoginMessageDataSource] = []

    def make(auth: MarketAuth | None = None, **overrides: Any) -> LoginMessageDataSource:
        options: dict[str, Any] = {
            "ws_url": venue.case.private_url(venue.exchange),
            "rest_url": venue.exchange.rest_url,
            "timings": FAST_TIMINGS,
            "reconnect": FAST_RECONNECT,
            "rng": random.Random(7),
        }
        options.update(overrides)
        data_source = venue.case.data_source(auth or venue.case.auth(), **options)
        created.append(data_source)
        return data_source

    yield make
    for data_source in created:
        await data_source.stop()


async def streaming(venue: Venue, data_source: LoginMessageDataSource, connections: int = 1) -> None:
    """Wait until the ``connections``-th connection is subscribed and the client has seen every ack."""
    await venue.exchange.wait_for_subscribed(connections)
    await eventually(lambda: data_source.status.state is StreamState.STREAMING, "the client to stream")


def intents(venue: Venue, messages: Sequence[Any]) -> list[ClientIntent]:
    """What a connection's client sent, pings left out (they go out on their own schedule)."""
    kinds = [venue.exchange.dialect.classify_client(message) for message in messages]
    return [kind for kind in kinds if kind is not ClientIntent.PING]


# --- happy path -----------------------------------------------------------------------------------------


async def test_order_fill_and_balance_events_reach_the_queue(venue: Venue, make_stream: StreamFactory) -> None:
    data_source = make_stream()
    output = start_listening(data_source)
    await streaming(venue, data_source)
    connection = venue.exchange.connections[0]
    assert connection.authenticated  # the fake checked the real signature (and OKX's passphrase)
    assert intents(venue, connection.received) == [ClientIntent.LOGIN, ClientIntent.SUBSCRIBE]
    assert connection.subscriptions == [venue.case.subscribe]

    events = venue.case.events()
    for event in events:
        await venue.exchange.push(event)
    assert [await next_message(output) for _ in events] == events
    # OKX's channel-conn-count between the subscribe acks is understood, not skipped as malformed.
    assert (data_source.status.malformed_frames, data_source.status.reconnect_count) == (0, 0)


# --- refused logins --------------------------------------------------------------------------------------


async def test_a_refused_login_reports_the_exchanges_words_backs_off_and_recovers(
    venue: Venue, make_stream: StreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = make_stream(auth=venue.case.wrong_auth(venue.case.credentials))
    with caplog.at_level(logging.ERROR, logger="userstream"):
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 3, "three refused attempts")
    assert data_source.status.last_error == f"AuthenticationError: {venue.case.wrong_auth_reported}"
    assert {record.getMessage() for record in caplog.records} == {
        f"authentication rejected by the exchange: {venue.case.wrong_auth_reported}"
    }
    assert venue.exchange.messages(ClientIntent.SUBSCRIBE) == []  # never subscribes on a refused login
    opened = [connection.opened_at for connection in venue.exchange.connections[:4]]
    for attempt, (earlier, later) in enumerate(itertools.pairwise(opened)):
        assert later - earlier >= FAST_RECONNECT.ceiling(attempt)  # jitter=0: each wait is its ceiling

    data_source.auth = venue.case.auth()  # the operator fixes the key: the same loop picks it up
    await streaming(venue, data_source)


async def test_a_refusal_is_logged_with_the_exchanges_message(
    venue: Venue, make_stream: StreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    reason, reported = venue.case.refusal
    venue.exchange.reject_next_login(reason)
    data_source = make_stream()
    with caplog.at_level(logging.ERROR, logger="userstream"):
        output = start_listening(data_source)
        await streaming(venue, data_source, connections=1)
    assert [record.getMessage() for record in caplog.records] == [
        f"authentication rejected by the exchange: {reported}"
    ]
    assert [c.authenticated for c in venue.exchange.connections] == [False, True]
    event = venue.case.events()[0]
    await venue.exchange.push(event)
    assert await next_message(output) == event


# --- ordering -------------------------------------------------------------------------------------------


async def test_subscribes_only_after_the_login_ack(
    venue: Venue, make_stream: StreamFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialect = venue.exchange.dialect
    real_ack = dialect.login_ack
    # The fake accepts the login but answers with a frame that acknowledges nothing.
    monkeypatch.setattr(dialect, "login_ack", lambda message: venue.case.idle_frame(dialect))
    data_source = make_stream()
    start_listening(data_source)
    await venue.exchange.wait_until(lambda: bool(venue.exchange.messages(ClientIntent.LOGIN)), what="a login")
    await asyncio.sleep(0.3)  # ample time to send a subscribe it should not send
    assert venue.exchange.messages(ClientIntent.SUBSCRIBE) == []
    assert data_source.status.state is StreamState.AUTHENTICATING

    connection = venue.exchange.connections[0]
    await venue.exchange.push(real_ack(connection.received[0]), to=connection)
    await streaming(venue, data_source)
    assert intents(venue, connection.received) == [ClientIntent.LOGIN, ClientIntent.SUBSCRIBE]


async def test_streaming_begins_only_when_every_subscription_is_acknowledged(
    venue: Venue, make_stream: StreamFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialect = venue.exchange.dialect
    real_replies = dialect.subscribe_replies
    probe = venue.case.data_source(venue.case.auth(), ws_url="wss://example.invalid")
    held: list[Any] = []

    def all_but_the_last_ack(message: Any) -> list[Any]:
        replies = real_replies(message)
        last = max(i for i, reply in enumerate(replies) if probe.classify_reply(reply) is FrameKind.SUBSCRIBED)
        held.append(replies.pop(last))
        return replies

    # OKX acknowledges each channel argument, Bybit each message: one ack is held back either way.
    monkeypatch.setattr(dialect, "subscribe_replies", all_but_the_last_ack)
    data_source = make_stream()
    start_listening(data_source)
    await venue.exchange.wait_for_subscribed()
    await asyncio.sleep(0.3)
    assert data_source.status.state is StreamState.SUBSCRIBING
    await venue.exchange.push(held[0], to=venue.exchange.connections[0])
    await streaming(venue, data_source)


# --- keepalive ------------------------------------------------------------------------------------------


async def test_app_level_pings_go_out_on_schedule_and_their_pongs_are_understood(
    venue: Venue, make_stream: StreamFactory
) -> None:
    data_source = make_stream()
    start_listening(data_source)
    await streaming(venue, data_source)
    first_recv = data_source.last_recv_time
    await asyncio.sleep(5 * FAST_TIMINGS.ping_interval)  # no data at all: only pings and pongs
    pings = [m for m in venue.exchange.connections[0].received if m == venue.case.ping]
    assert len(pings) >= 4, f"expected a ping every {FAST_TIMINGS.ping_interval} s, saw {len(pings)}"
    assert venue.exchange.messages(ClientIntent.PING) == pings  # OKX: the text "ping", never the JSON '"ping"'
    assert data_source.last_recv_time > first_recv  # the pongs alone keep the stream alive
    # OKX's pong is the text "pong": understood, not counted as a malformed frame.
    assert data_source.status.malformed_frames == 0
    assert (data_source.status.reconnect_count, len(venue.exchange.connections)) == (0, 1)


@pytest.mark.parametrize("case", [OKX], ids=["okx"])
async def test_okx_closes_a_quiet_client_and_the_pings_prevent_it(venue: Venue, make_stream: StreamFactory) -> None:
    assert isinstance(venue.state, okx.OkxExchangeState)
    assert OkxAPIUserStreamDataSource.DEFAULT_TIMINGS.ping_interval < okx.IDLE_TIMEOUT
    idle_after = 2.5 * FAST_TIMINGS.ping_interval
    watchdog = asyncio.create_task(venue.state.close_idle_connections(idle_after))
    try:
        too_quiet = StreamTimings(connect_timeout=2, handshake_timeout=2, ping_interval=2 * idle_after, stale_after=5)
        quiet = make_stream(timings=too_quiet)
        start_listening(quiet)
        await eventually(lambda: quiet.status.reconnect_count >= 1, "the idle close")
        assert (
            quiet.status.last_error == f"ConnectionLost: connection closed by the exchange (code {okx.IDLE_CLOSE_CODE})"
        )
        await quiet.stop()

        pinging = make_stream()  # pings every FAST_TIMINGS.ping_interval, well inside idle_after
        start_listening(pinging)
        await streaming(venue, pinging, connections=2)
        await asyncio.sleep(2 * idle_after)
        assert (pinging.status.reconnect_count, pinging.status.last_error) == (0, None)
    finally:
        watchdog.cancel()
        await asyncio.wait([watchdog])


# --- clock skew ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("clock_skew", [60.0, -60.0], ids=["exchange-ahead", "exchange-behind"])
async def test_clock_skew_is_measured_and_the_next_login_accepted(
    venue: Venue, make_stream: StreamFactory, clock_skew: float
) -> None:
    data_source = make_stream()
    output = start_listening(data_source)
    await streaming(venue, data_source)
    reported = venue.case.skew_reported(clock_skew)
    assert data_source.auth is not None
    if reported is None:  # Bybit accepts an expiry further ahead than needed: nothing to correct
        assert (len(venue.exchange.connections), venue.state.time.requests) == (1, 0)
        return
    assert data_source.status.last_error == f"AuthenticationError: {reported}"
    assert venue.state.time.requests == 1  # measured once, on the refusal
    assert data_source.auth.time_offset == pytest.approx(clock_skew, abs=1.0)
    assert [c.authenticated for c in venue.exchange.connections] == [False, True]
    event = venue.case.events()[0]
    await venue.exchange.push(event)
    assert await next_message(output) == event


@pytest.mark.parametrize("clock_skew", [60.0])
async def test_a_failed_time_request_is_retried_on_the_next_refusal(venue: Venue, make_stream: StreamFactory) -> None:
    venue.state.time.fail_next()
    data_source = make_stream()
    start_listening(data_source)
    await streaming(venue, data_source)
    assert venue.state.time.requests == 2
    assert [c.authenticated for c in venue.exchange.connections] == [False, False, True]


async def test_concurrent_clock_measurements_share_one_request(venue: Venue, make_stream: StreamFactory) -> None:
    data_source = make_stream()
    venue.state.time.delay = 0.1  # all five ask while the first request is in flight
    offsets = await asyncio.gather(*(data_source.sync_server_time() for _ in range(5)))
    assert venue.state.time.requests == 1
    assert len(set(offsets)) == 1
    await data_source.sync_server_time()  # nothing is cached: a later refusal measures again
    assert venue.state.time.requests == 2


# --- reconnects ------------------------------------------------------------------------------------------


async def test_each_connection_signs_a_fresh_login(venue: Venue, make_stream: StreamFactory) -> None:
    clock = ManualClock(time.time())
    data_source = make_stream(auth=venue.case.auth(clock=clock))
    start_listening(data_source)
    await streaming(venue, data_source)
    clock.advance(3.0)  # within both exchanges' windows, so the fake accepts the later login too
    await venue.exchange.drop_connections()
    await streaming(venue, data_source, connections=2)

    (first_ts, first_sign), (second_ts, second_sign) = map(
        venue.case.login_parts, venue.exchange.messages(ClientIntent.LOGIN)
    )
    # Signed when sent, on the clock of that moment: not built once and replayed.
    assert second_ts - first_ts == pytest.approx(3 * venue.case.per_second, abs=1)
    assert second_sign != first_sign
    assert [c.authenticated for c in venue.exchange.connections] == [True, True]


@pytest.mark.parametrize("termination", ["close-1001", "error-frame"])
async def test_the_exchange_ending_the_stream_is_followed_by_a_fresh_login(
    venue: Venue, make_stream: StreamFactory, termination: str
) -> None:
    data_source = make_stream()
    output = start_listening(data_source)
    await streaming(venue, data_source)
    if termination == "close-1001":
        await venue.exchange.close_connections(code=1001, reason="going away")
        expected = "ConnectionLost: connection closed by the exchange (code 1001)"
    else:
        frame, reported = venue.case.mid_stream_error(venue.exchange.dialect)
        await venue.exchange.push(frame)
        expected = f"ServerRequestedReconnect: {reported}"
    await streaming(venue, data_source, connections=2)
    assert data_source.status.last_error == expected
    assert len(venue.exchange.messages(ClientIntent.LOGIN)) == 2
    await venue.exchange.wait_until(lambda: venue.exchange.open_connections == 1, what="the old socket closed")
    event = venue.case.events()[1]
    await venue.exchange.push(event)
    assert await next_message(output) == event


@pytest.mark.parametrize("case", [OKX], ids=["okx"])
async def test_okx_service_upgrade_notice_hands_over_before_the_old_connection_closes(
    venue: Venue, make_stream: StreamFactory
) -> None:
    data_source = make_stream()
    output = start_listening(data_source)
    await streaming(venue, data_source)
    dialect = venue.exchange.dialect
    assert isinstance(dialect, okx.OkxDialect)
    [old] = venue.exchange.connections
    await venue.exchange.push(dialect.service_upgrade_notice())  # OKX goes on delivering until it closes
    await eventually(lambda: data_source.status.handovers == 1, "a handover")
    new = venue.exchange.connections[-1]
    assert new is not old
    assert new.subscriptions, "the successor logged in and subscribed"
    await eventually(lambda: not old.open, "the client closed the old connection")
    assert old.client_close_code == 1000, "closed by the client, cleanly, once the successor was up"
    status = data_source.status
    assert (status.reconnect_count, status.last_error, status.streaming) == (0, None, True)
    event = okx.order_update("1")
    await venue.exchange.push(event)
    assert await next_message(output) == event


@pytest.mark.parametrize("case", [OKX], ids=["okx"])
async def test_okx_key_revoked_mid_stream_is_refused_with_backoff_until_restored(
    venue: Venue, make_stream: StreamFactory
) -> None:
    data_source = make_stream()
    start_listening(data_source)
    await streaming(venue, data_source)
    key = venue.case.credentials.api_key
    venue.state.revoke(key)
    # OKX's close frame for a key that was updated or deleted.
    await venue.exchange.close_connections(code=4007, reason="API key has been updated or deleted. Please reconnect.")
    await eventually(lambda: data_source.status.reconnect_count >= 3, "refused reconnects")
    assert data_source.status.last_error == "AuthenticationError: Invalid apiKey (code 60005)"
    venue.state.restore(key)
    await streaming(venue, data_source, connections=2)


async def test_a_subscription_refused_after_the_login_ack_is_a_subscription_error(venue: Venue) -> None:
    bad_args = [{"channel": "no-such-channel", "instType": "SPOT"}] if venue.case is OKX else ["no-such-topic"]

    misconfigured = type("Misconfigured", (venue.case.data_source,), {"SUBSCRIPTIONS": bad_args})
    data_source = misconfigured(
        venue.case.auth(),
        ws_url=venue.case.private_url(venue.exchange),
        timings=FAST_TIMINGS,
        reconnect=FAST_RECONNECT,
    )
    try:
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 1, "the refused subscription")
    finally:
        await data_source.stop()
    expected = {
        "okx": "SubscriptionError: Wrong URL or channel:no-such-channel,instType:SPOT doesn't exist. (code 60018)",
        "bybit": "SubscriptionError: error:handler not found,topic:no-such-topic",
    }
    assert data_source.status.last_error == expected[venue.case.name]  # an error frame, not a login refusal


# --- stop -----------------------------------------------------------------------------------------------


async def test_stop_leaves_no_task_and_no_open_connection(venue: Venue, make_stream: StreamFactory) -> None:
    baseline = client_tasks()
    data_source = make_stream()
    listener = asyncio.create_task(data_source.listen_for_user_stream(asyncio.Queue()))
    await streaming(venue, data_source)
    assert client_tasks() - baseline  # the listener and its keep-alive are running

    await data_source.stop()
    assert listener.cancelled()
    assert client_tasks() - baseline == set()
    await venue.exchange.wait_until(lambda: venue.exchange.open_connections == 0, what="zero open connections")
    assert venue.exchange.connections[0].client_close_code == 1000
    assert data_source.status.state is StreamState.STOPPED
    await data_source.stop()  # idempotent


@pytest.mark.parametrize("clock_skew", [60.0])
async def test_stop_while_measuring_the_clock_cancels_the_request(venue: Venue, make_stream: StreamFactory) -> None:
    baseline = client_tasks()
    venue.state.time.delay = 0.5
    data_source = make_stream()
    start_listening(data_source)
    await venue.exchange.wait_until(lambda: venue.state.time.requests == 1, what="the time request in flight")
    await data_source.stop()
    assert client_tasks() - baseline == set()  # the shared measurement did not outlive stop()
    await venue.exchange.wait_until(lambda: venue.exchange.open_connections == 0, what="zero open connections")


# --- pure parts: no network -----------------------------------------------------------------------------


def test_okx_login_is_signed_as_okx_documents() -> None:
    auth = MarketAuth("key", "secret", "phrase", clock=lambda: 1704876947.9)
    login = sign_login(auth, OkxAPIUserStreamDataSource.LOGIN_SIGNATURE)
    expected_sign = base64.b64encode(
        hmac.new(b"secret", b"1704876947GET/users/self/verify", hashlib.sha256).digest()
    ).decode()
    assert login == SignedLogin("key", 1704876947, expected_sign, "phrase")
    data_source = OkxAPIUserStreamDataSource(auth, ws_url="wss://example.invalid")
    assert data_source.login_messages() == [
        {
            "op": "login",
            "args": [{"apiKey": "key", "passphrase": "phrase", "timestamp": "1704876947", "sign": expected_sign}],
        }
    ]
    assert "phrase" not in repr(login)
    assert expected_sign not in repr(login)


def test_bybit_auth_signs_an_expiry_ahead_of_the_exchanges_clock() -> None:
    auth = MarketAuth("key", "secret", clock=lambda: 1_700_000_000.25)
    auth.set_time_offset(2.0)  # the exchange runs 2 s ahead: the expiry follows its clock
    [message] = BybitAPIUserStreamDataSource(auth, ws_url="wss://example.invalid").login_messages()
    expires = 1_700_000_007_250
    signature = hmac.new(b"secret", f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    assert message == {"op": "auth", "args": ["key", expires, signature]}
    assert json.loads(json.dumps(message))["args"][1] == expires  # sent as an integer, as Bybit's examples do


def test_the_fakes_verify_what_the_connectors_sign() -> None:
    okx_login = sign_login(MarketAuth("k", "s", "p"), OkxAPIUserStreamDataSource.LOGIN_SIGNATURE)
    assert okx_login.signature == okx.OkxDialect.expected_sign("s", str(okx_login.timestamp))
    bybit_login = sign_login(MarketAuth("k", "s"), BybitAPIUserStreamDataSource.LOGIN_SIGNATURE)
    assert bybit_login.signature == bybit.BybitDialect.expected_signature("s", str(bybit_login.timestamp))


def test_okx_text_frames_are_control_frames_and_other_text_is_malformed() -> None:
    data_source = OkxAPIUserStreamDataSource(MarketAuth("k", "s", "p"), ws_url="wss://example.invalid")
    assert data_source.decode_frame("pong") == "pong"
    assert data_source.classify(data_source.decode_frame("pong")) is FrameKind.CONTROL
    with pytest.raises(ValueError, match="expected a JSON value"):
        data_source.decode_frame("pang")
    assert data_source.classify("pang") is FrameKind.MALFORMED
    assert data_source.classify([1, 2]) is FrameKind.MALFORMED
    assert data_source.ping_message() == "ping"


@pytest.mark.parametrize(
    ("connector", "frame", "described", "skew"),
    [
        (
            OkxAPIUserStreamDataSource,
            {"event": "error", "code": "60006", "msg": "Timestamp request expired"},
            "Timestamp request expired (code 60006)",
            True,
        ),
        (
            OkxAPIUserStreamDataSource,
            {"event": "error", "code": "60004", "msg": "Invalid timestamp"},
            "Invalid timestamp (code 60004)",
            True,
        ),
        (
            OkxAPIUserStreamDataSource,
            {"event": "error", "code": "60009", "msg": "Login failed."},
            "Login failed. (code 60009)",
            False,
        ),
        (
            BybitAPIUserStreamDataSource,
            {"success": False, "ret_msg": "Params Error", "op": "auth"},
            "Params Error",
            True,
        ),
        (
            BybitAPIUserStreamDataSource,
            {"success": False, "ret_msg": "Invalid sign", "op": "auth"},
            "Invalid sign",
            False,
        ),
    ],
)
def test_rejections_are_described_in_the_exchanges_words_and_clock_skew_recognised(
    connector: type[LoginMessageDataSource], frame: dict[str, Any], described: str, skew: bool
) -> None:
    data_source = connector(MarketAuth("k", "s", "p"), ws_url="wss://example.invalid")
    assert data_source.classify(frame) is FrameKind.AUTH_REJECTED  # before any login ack: a login refusal
    assert data_source.describe_rejection(frame) == described
    assert data_source.is_clock_skew(frame) is skew


def test_server_time_replies_are_parsed_to_seconds() -> None:
    okx_source = OkxAPIUserStreamDataSource(MarketAuth("k", "s", "p"), ws_url="wss://example.invalid")
    assert okx_source.parse_server_time({"code": "0", "msg": "", "data": [{"ts": "1597026383085"}]}) == 1597026383.085
    bybit_source = BybitAPIUserStreamDataSource(MarketAuth("k", "s"), ws_url="wss://example.invalid")
    reply = {"retCode": 0, "result": {"timeSecond": "1688639403", "timeNano": "1688639403423213947"}, "time": 1}
    assert bybit_source.parse_server_time(reply) == pytest.approx(1688639403.423214)


def test_a_login_that_needs_a_passphrase_is_refused_without_one_at_construction() -> None:
    with pytest.raises(ValueError, match="passphrase"):
        OkxAPIUserStreamDataSource(MarketAuth("k", "s"), ws_url="wss://example.invalid")
    with pytest.raises(ValueError, match="needs a MarketAuth"):
        BybitAPIUserStreamDataSource(None, ws_url="wss://example.invalid")

    class Unfinished(LoginMessageDataSource):
        def login_message(self, login: SignedLogin) -> Any:
            return {}

        def subscribe_message(self, args: Sequence[Any]) -> Any:
            return {}

        def classify_reply(self, message: Any) -> FrameKind:
            return FrameKind.MALFORMED

    with pytest.raises(TypeError, match="LOGIN_SIGNATURE"):
        Unfinished(MarketAuth("k", "s"), ws_url="wss://example.invalid")
    with pytest.raises(ValueError, match="timestamp"):
        LoginSignature("GET/realtime")


@pytest.mark.parametrize(("per_arg", "acks"), [(False, 2), (True, 3)])
def test_subscriptions_are_batched_and_their_acks_counted_per_message_or_per_arg(per_arg: bool, acks: int) -> None:
    class Batched(BybitAPIUserStreamDataSource):
        MAX_ARGS_PER_SUBSCRIBE: ClassVar[int | None] = 2
        ACK_PER_ARG: ClassVar[bool] = per_arg

    data_source = Batched(MarketAuth("k", "s"), ws_url="wss://example.invalid")
    messages = data_source.subscribe_messages()
    assert messages == [{"op": "subscribe", "args": ["order", "execution"]}, {"op": "subscribe", "args": ["wallet"]}]
    assert data_source.expected_subscribe_acks(messages) == acks


# --- the fakes refuse what the exchanges refuse -------------------------------------------------------

NOW = 1_700_000_000.0
OKX_ACCOUNT = Credentials("k", "s", "p")


def _okx_login(timestamp: str, *, api_key: str = "k", passphrase: str = "p", secret: str = "s") -> dict[str, Any]:
    sign = okx.OkxDialect.expected_sign(secret, timestamp)
    return {
        "op": "login",
        "args": [{"apiKey": api_key, "passphrase": passphrase, "timestamp": timestamp, "sign": sign}],
    }


@pytest.mark.parametrize(
    ("login", "refusal"),
    [
        (_okx_login("1700000000"), None),
        (_okx_login("1700000000.123"), None),  # OKX's own JavaScript example signs Date.now() / 1000
        (_okx_login("1700000029"), None),
        (_okx_login("1700000000", api_key="other"), "Invalid apiKey"),
        (_okx_login("1700000000", passphrase="other"), "Wrong passphrase"),
        (_okx_login("1700000000", secret="other"), "Invalid sign"),
        (_okx_login("1699999969"), "Timestamp request expired"),
        (_okx_login("1700000031"), "Invalid timestamp"),
        (_okx_login("soon"), "Invalid timestamp"),
        ({"op": "login", "args": []}, "Invalid request"),
    ],
)
def test_the_okx_fake_checks_key_passphrase_window_and_signature(login: Any, refusal: str | None) -> None:
    assert okx.OkxDialect().check_login(login, OKX_ACCOUNT, NOW) == refusal


def test_the_okx_fake_answers_in_okx_shapes() -> None:
    dialect = okx.OkxDialect()
    dialect.revoked_keys.add("k")
    assert dialect.check_login(_okx_login("1700000000"), OKX_ACCOUNT, NOW) == "Invalid apiKey"
    assert dialect.login_rejection({}, "Wrong passphrase") == {
        "event": "error",
        "code": "60024",
        "msg": "Wrong passphrase",
        "connId": "a4d3ae55",
    }
    assert dialect.login_ack({}) == {"event": "login", "code": "0", "msg": "", "connId": "a4d3ae55"}
    orders, account = {"channel": "orders", "instType": "SPOT"}, {"channel": "account"}
    assert [r.get("event") for r in dialect.subscribe_replies({"op": "subscribe", "args": [orders, account]})] == [
        "subscribe",
        "channel-conn-count",
        "subscribe",
        "channel-conn-count",
    ]
    assert dialect.parse("ping") == "ping"
    assert dialect.pong("ping") == "pong"


def _bybit_auth(expires: Any, *, api_key: str = "k", secret: str = "s") -> dict[str, Any]:
    return {"op": "auth", "args": [api_key, expires, bybit.BybitDialect.expected_signature(secret, str(expires))]}


@pytest.mark.parametrize(
    ("auth", "refusal"),
    [
        (_bybit_auth(1_700_000_001_000), None),
        (_bybit_auth("1700000001000"), None),  # the expiry as text: seen in Bybit's own examples
        (_bybit_auth(1_700_000_000_000), "Params Error"),  # expires now: already past
        (_bybit_auth(1_699_999_990_000), "Params Error"),
        (_bybit_auth(True), "Params Error"),
        (_bybit_auth(1_700_000_001_000, secret="other"), "Invalid sign"),
        (_bybit_auth(1_700_000_001_000, api_key="other"), "Invalid apikey"),
        ({"op": "auth", "args": ["k", 1_700_000_001_000]}, "Params Error"),
    ],
)
def test_the_bybit_fake_checks_key_expiry_and_signature(auth: Any, refusal: str | None) -> None:
    assert bybit.BybitDialect().check_login(auth, Credentials("k", "s"), NOW) == refusal


def test_the_bybit_fake_answers_in_bybit_shapes() -> None:
    dialect = bybit.BybitDialect(clock=lambda: NOW)
    assert dialect.login_ack({"op": "auth"}) == {
        "success": True,
        "ret_msg": "",
        "op": "auth",
        "conn_id": dialect.conn_id,
    }
    assert dialect.pong({"op": "ping", "req_id": "7"}) == {
        "req_id": "7",
        "op": "pong",
        "args": ["1700000000000"],
        "conn_id": dialect.conn_id,
    }
    assert dialect.subscribe_replies({"op": "subscribe", "args": ["order", "order.spot"]})[0]["success"] is False
    assert dialect.subscribe_rejection({}, "login required")["ret_msg"] == "Request not authorized"
