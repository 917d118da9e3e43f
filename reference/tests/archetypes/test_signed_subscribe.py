"""The signed-subscribe archetype against loopback fakes of Binance spot (WebSocket API), Gate.io v4 and Coinbase.

Every test runs the real I/O loop over a real socket on 127.0.0.1 against a fake that speaks the exchange's own
protocol and verifies its signatures (HMAC-SHA256, HMAC-SHA512, ES256 JWT) as the exchange would.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from binance.binance_api_user_stream_data_source import BinanceAPIUserStreamDataSource
from binance.binance_auth import BinanceAuth
from coinbase_advanced_trade.coinbase_advanced_trade_api_user_stream_data_source import (
    CoinbaseAdvancedTradeAPIUserStreamDataSource,
)
from coinbase_advanced_trade.coinbase_advanced_trade_auth import CoinbaseAdvancedTradeAuth
from gate_io.gate_io_api_user_stream_data_source import GateIoAPIUserStreamDataSource
from gate_io.gate_io_auth import GateIoAuth
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, client_tasks, eventually, next_message, start_listening

from userstream import FrameKind, MarketAuth, ReconnectPolicy, StreamState
from userstream.archetypes.signed_subscribe import Es256JwtAuth, SignedRequests, SignedSubscribeDataSource, sorted_query
from userstream.testing import ClientIntent, Connection, Credentials, FakeExchange
from userstream.testing.dialects import binance, coinbase, gate_io

COINBASE_KEY_NAME = "organizations/test-org/apiKeys/test-key"


class ManualClock:
    """The wall clock plus an offset a test moves forward: proves each signature uses the time it was sent at."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def ec_key_pair() -> tuple[str, str]:
    """A fresh P-256 key pair as ``(private PEM, public PEM)``, like a CDP API key's secret and Coinbase's copy."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


# --- one fake exchange per venue, with what the shared tests need to know about it -----------------------------------


@dataclass
class Venue:
    """A running fake exchange and how to build, watch and read the signed requests of a connector for it."""

    name: str
    exchange: FakeExchange
    state: Any
    credentials: Credentials
    ws_url: str
    signed_per_connection: int
    clock_step: float
    """How far a test may move the client's clock and still be inside the exchange's window."""
    rejection: str
    """``status.last_error`` after a wrong secret, in the exchange's words."""
    created: list[SignedSubscribeDataSource] = field(default_factory=list)

    def auth(self, secret: str | None = None, clock: Callable[[], float] = time.time) -> MarketAuth:
        raise NotImplementedError

    def source_class(self) -> type[SignedSubscribeDataSource]:
        raise NotImplementedError

    def signed_requests(self, connection: Connection) -> list[dict[str, Any]]:
        """What the client signed on ``connection``, in order."""
        raise NotImplementedError

    def signed_at(self, request: dict[str, Any]) -> float:
        """The time (seconds) a signed request says it was signed at."""
        raise NotImplementedError

    def signature(self, request: dict[str, Any]) -> str:
        raise NotImplementedError

    def subscribed(self, connection: Connection) -> bool:
        return len(connection.subscriptions) == self.signed_per_connection

    def data_source(self, auth: MarketAuth | None = None, **overrides: Any) -> SignedSubscribeDataSource:
        options: dict[str, Any] = {
            "ws_url": self.ws_url,
            "rest_url": self.exchange.rest_url,
            "timings": FAST_TIMINGS,
            "reconnect": FAST_RECONNECT,
            "rng": random.Random(7),
        }
        options.update(overrides)
        data_source = self.source_class()(auth or self.auth(), **options)
        self.created.append(data_source)
        return data_source

    async def streaming(self, connections: int = 1) -> None:
        """Wait until ``connections`` connections have been fully accepted and the latest is open."""

        def reached() -> bool:
            accepted = [c for c in self.exchange.connections if self.subscribed(c)]
            return len(accepted) >= connections and accepted[-1].open

        await self.exchange.wait_until(reached, what=f"{connections} {self.name} connection(s) accepted")


class BinanceVenue(Venue):
    def auth(self, secret: str | None = None, clock: Callable[[], float] = time.time) -> MarketAuth:
        return BinanceAuth(self.credentials.api_key, secret or self.credentials.secret, clock=clock)

    def source_class(self) -> type[SignedSubscribeDataSource]:
        return BinanceAPIUserStreamDataSource

    def signed_requests(self, connection: Connection) -> list[dict[str, Any]]:
        return [m for m in connection.received if m.get("method") == binance.SUBSCRIBE_METHOD]

    def signed_at(self, request: dict[str, Any]) -> float:
        return float(request["params"]["timestamp"]) / 1000

    def signature(self, request: dict[str, Any]) -> str:
        return str(request["params"]["signature"])

    def subscribed(self, connection: Connection) -> bool:
        return connection.authenticated  # the signed subscribe is Binance's whole handshake


class GateVenue(Venue):
    def auth(self, secret: str | None = None, clock: Callable[[], float] = time.time) -> MarketAuth:
        return GateIoAuth(self.credentials.api_key, secret or self.credentials.secret, clock=clock)

    def source_class(self) -> type[SignedSubscribeDataSource]:
        return GateIoAPIUserStreamDataSource

    def signed_requests(self, connection: Connection) -> list[dict[str, Any]]:
        return [m for m in connection.received if m.get("event") == "subscribe"]

    def signed_at(self, request: dict[str, Any]) -> float:
        return float(request["time"])

    def signature(self, request: dict[str, Any]) -> str:
        return str(request["auth"]["SIGN"])


class CoinbaseVenue(Venue):
    def auth(self, secret: str | None = None, clock: Callable[[], float] = time.time) -> MarketAuth:
        return CoinbaseAdvancedTradeAuth(self.credentials.api_key, secret or self.credentials.secret, clock=clock)

    def source_class(self) -> type[SignedSubscribeDataSource]:
        return CoinbaseAdvancedTradeAPIUserStreamDataSource

    def signed_requests(self, connection: Connection) -> list[dict[str, Any]]:
        return [m for m in connection.received if m.get("type") == "subscribe"]

    def signed_at(self, request: dict[str, Any]) -> float:
        return float(self.jwt(request)[1]["nbf"])

    def signature(self, request: dict[str, Any]) -> str:
        return str(request["jwt"])

    def jwt(self, request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        assert isinstance(self.state, coinbase.CoinbaseState)
        return coinbase.verify_es256_jwt(request["jwt"], self.state.dialect.public_key_pem)


@asynccontextmanager
async def open_venue(name: str, *, clock_skew: float = 0.0) -> AsyncIterator[Venue]:
    venue: Venue
    if name == "binance":
        credentials = Credentials(api_key="binance-test-key", secret="binance-test-secret")
        exchange = FakeExchange(binance.BinanceSpotWsApiDialect(), credentials, clock_skew=clock_skew)
        await exchange.start()
        venue = BinanceVenue(
            name,
            exchange,
            binance.install(exchange),
            credentials,
            ws_url=exchange.ws_url + binance.WS_API_PATH_SUFFIX,
            signed_per_connection=1,
            clock_step=0.5,  # Binance refuses a timestamp more than 1 s ahead of its clock
            rejection="AuthenticationError: Signature for this request is not valid. (code -1022)",
        )
    elif name == "gate_io":
        credentials = Credentials(api_key="gate-test-key", secret="gate-test-secret")
        exchange = FakeExchange(gate_io.GateIoSpotDialect(), credentials, clock_skew=clock_skew)
        await exchange.start()
        venue = GateVenue(
            name,
            exchange,
            gate_io.install(exchange),
            credentials,
            ws_url=exchange.ws_url + "/v4/",
            signed_per_connection=3,
            clock_step=2.0,  # Gate's time is in seconds: a step under one could sign the same second twice
            rejection="AuthenticationError: spot.orders: Authentication fail (code 4)",
        )
    else:
        private, public = ec_key_pair()
        credentials = Credentials(api_key=COINBASE_KEY_NAME, secret=private)
        exchange = FakeExchange(coinbase.CoinbaseAdvancedTradeDialect(public), credentials, clock_skew=clock_skew)
        await exchange.start()
        venue = CoinbaseVenue(
            name,
            exchange,
            coinbase.install(exchange),
            credentials,
            ws_url=exchange.ws_url,
            signed_per_connection=2,
            clock_step=2.0,
            rejection="AuthenticationError: authentication failure",
        )
    try:
        yield venue
    finally:
        for data_source in venue.created:
            await data_source.stop()
        await exchange.close()


@pytest.fixture(params=["binance", "gate_io", "coinbase"])
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[Venue]:
    async with open_venue(request.param) as opened:
        yield opened


@pytest.fixture
async def binance_venue() -> AsyncIterator[Venue]:
    async with open_venue("binance") as opened:
        yield opened


@pytest.fixture
async def gate_venue() -> AsyncIterator[Venue]:
    async with open_venue("gate_io") as opened:
        yield opened


@pytest.fixture
async def coinbase_venue() -> AsyncIterator[Venue]:
    async with open_venue("coinbase") as opened:
        yield opened


# --- every venue ---------------------------------------------------------------------------------------------------


async def test_every_connection_signs_afresh_at_send_time(venue: Venue) -> None:
    clock = ManualClock()
    data_source = venue.data_source(venue.auth(clock=clock))
    start_listening(data_source)
    await venue.streaming()
    clock.advance(venue.clock_step)
    await venue.exchange.drop_connections()
    await venue.streaming(connections=2)

    first, second = (venue.signed_requests(c) for c in venue.exchange.connections[:2])
    assert len(first) == len(second) == venue.signed_per_connection
    for before, after in zip(first, second, strict=True):
        assert venue.signature(after) != venue.signature(before)
        # Signed with the clock as it was when sent, not reused from the first connection.
        assert venue.signed_at(after) - venue.signed_at(before) >= venue.clock_step - 0.01
    signatures = [venue.signature(r) for r in first + second]
    assert len(set(signatures)) == len(signatures)  # no two requests share a signature, even on one connection
    assert data_source.status.last_error is not None
    assert data_source.status.last_error.startswith("ConnectionLost")


async def test_a_rejected_signature_is_reported_in_the_exchanges_words_and_retried_with_backoff(
    venue: Venue, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_secret = ec_key_pair()[0] if venue.name == "coinbase" else "not-the-secret"
    data_source = venue.data_source(venue.auth(secret=wrong_secret))
    with caplog.at_level(logging.DEBUG, logger="userstream"):
        output = start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 3, "three retries")

    assert data_source.status.last_error == venue.rejection
    assert not any(venue.subscribed(c) for c in venue.exchange.connections)
    opened = [c.opened_at for c in venue.exchange.connections]
    for attempt, (earlier, later) in enumerate(itertools.pairwise(opened)):
        assert later - earlier >= FAST_RECONNECT.ceiling(attempt)  # jitter=0: each wait is exactly its ceiling
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    expected = "authentication rejected by the exchange: " + venue.rejection.removeprefix("AuthenticationError: ")
    assert errors[:3] == [expected] * 3
    assert output.empty()
    # Still retrying: at this instant it may be in any phase of the next attempt (for Binance, whose signed
    # request is the login, that includes AUTHENTICATING), but it never reached STREAMING and was not stopped.
    assert data_source.status.state not in (StreamState.STREAMING, StreamState.STOPPED)
    assert wrong_secret not in caplog.text
    assert wrong_secret not in repr(data_source.auth)


async def test_stop_leaves_no_task_no_connection_and_no_pending_request(venue: Venue) -> None:
    baseline = client_tasks()
    data_source = venue.data_source()
    listener = asyncio.create_task(data_source.listen_for_user_stream(asyncio.Queue()))
    await venue.streaming()
    assert client_tasks() - baseline

    await data_source.stop()
    assert listener.cancelled()
    assert client_tasks() - baseline == set()
    await venue.exchange.wait_until(lambda: venue.exchange.open_connections == 0, what="zero open connections")
    assert venue.exchange.connections[0].client_close_code == 1000
    assert data_source.status.state is StreamState.STOPPED


# --- Binance spot: userDataStream.subscribe.signature -----------------------------------------------------------------


async def test_binance_events_reach_the_queue_in_their_wrapped_shape(binance_venue: Venue) -> None:
    data_source = binance_venue.data_source()
    output = start_listening(data_source)
    await binance_venue.streaming()
    events = [
        binance.execution_report(order_id=7, client_order_id="bot-7"),
        binance.trade_fill(order_id=7, client_order_id="bot-7", trade_id=99, quantity="0.5", price="30000"),
        binance.account_position({"BTC": ("0.5", "0"), "USDT": ("985.0", "0")}),
        binance.balance_update("USDT", "-15000.00000000"),
    ]
    for event in events:
        await binance_venue.exchange.push_event("userData", event)

    received = [await next_message(output) for _ in events]
    assert [m["event"]["e"] for m in received] == [
        "executionReport",
        "executionReport",
        "outboundAccountPosition",
        "balanceUpdate",
    ]
    assert all(m["subscriptionId"] == 0 for m in received)
    fill = received[1]["event"]
    assert (fill["x"], fill["i"], fill["c"], fill["t"]) == ("TRADE", 7, "bot-7", 99)
    assert (fill["l"], fill["L"], fill["n"], fill["N"]) == ("0.5", "30000", "0.00010000", "BNB")
    assert received[2]["event"]["B"][0] == {"a": "BTC", "f": "0.5", "l": "0"}

    (request,) = binance_venue.signed_requests(binance_venue.exchange.connections[0])
    assert request["method"] == "userDataStream.subscribe.signature"
    assert sorted(request["params"]) == ["apiKey", "signature", "timestamp"]
    assert data_source.status.malformed_frames == 0


async def test_binance_event_stream_terminated_resubscribes_on_a_new_connection(binance_venue: Venue) -> None:
    data_source = binance_venue.data_source()
    output = start_listening(data_source)
    await binance_venue.streaming()
    await binance_venue.exchange.push_event("userData", binance.execution_report(order_id=1))
    assert (await next_message(output))["event"]["i"] == 1

    assert await binance_venue.state.terminate_streams() == 1
    await binance_venue.streaming(connections=2)
    first, second = binance_venue.exchange.connections[:2]
    assert first.client_close_code == 1000  # the client closed the ended subscription's socket itself
    assert data_source.status.last_error is not None
    assert data_source.status.last_error.startswith("ServerRequestedReconnect: event stream terminated at ")
    (old,) = binance_venue.signed_requests(first)
    (new,) = binance_venue.signed_requests(second)
    assert new["params"]["signature"] != old["params"]["signature"]

    await binance_venue.exchange.push_event("userData", binance.trade_fill(order_id=1))
    assert (await next_message(output))["event"]["x"] == "TRADE"


async def test_binance_clock_skew_is_measured_after_minus_1021_and_the_next_subscribe_is_accepted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_venue("binance", clock_skew=30.0) as venue:
        data_source = venue.data_source()
        with caplog.at_level(logging.INFO, logger="userstream"):
            start_listening(data_source)
            await venue.streaming()
        assert len(venue.exchange.connections) == 2
        assert venue.state.time.requests == 1
        assert data_source.status.last_error == (
            "AuthenticationError: Timestamp for this request is outside of the recvWindow. (code -1021)"
        )
        assert data_source.auth is not None
        assert data_source.auth.time_offset == pytest.approx(30.0, abs=1.0)
        (accepted,) = venue.signed_requests(venue.exchange.connections[1])
        assert venue.signed_at(accepted) == pytest.approx(venue.exchange.now(), abs=2.0)
        assert "clock offset to the exchange measured: +" in caplog.text


async def test_binance_a_failing_time_endpoint_is_retried_with_backoff_not_fatal() -> None:
    async with open_venue("binance", clock_skew=-30.0) as venue:
        venue.state.time.fail_next(503)
        data_source = venue.data_source()
        start_listening(data_source)
        await venue.streaming()
        assert venue.state.time.requests == 2
        assert len(venue.exchange.connections) == 3  # -1021, time sync failed; -1021, synced; accepted
        assert data_source.auth is not None
        assert data_source.auth.time_offset == pytest.approx(-30.0, abs=1.0)


async def test_binance_a_reply_to_another_request_neither_completes_nor_fails_the_handshake() -> None:
    data_source = BinanceAPIUserStreamDataSource(BinanceAuth("k", "s"), ws_url="ws://unused")
    conversation = data_source.open_conversation()
    assert isinstance(conversation, SignedRequests)
    (request,) = conversation.login_messages()
    assert isinstance(request, dict)
    assert conversation.awaiting == {request["id"]: "userDataStream.subscribe.signature"}

    def meaning(reply: dict[str, Any], of: SignedRequests = conversation) -> FrameKind:
        return of.interpret(data_source.classify(reply), reply, StreamState.AUTHENTICATING)

    stray_ok = {"id": 999, "status": 200, "result": {}}
    stray_error = {"id": 998, "status": 400, "error": {"code": -1022, "msg": binance.INVALID_SIGNATURE}}
    assert meaning(stray_ok) is FrameKind.CONTROL
    assert meaning(stray_error) is FrameKind.CONTROL
    assert meaning({"id": request["id"], "status": 200, "result": {"subscriptionId": 0}}) is FrameKind.AUTH_OK
    assert conversation.awaiting == {}
    # The next connection has a conversation of its own: a late reply to the last one's request completes nothing.
    next_conversation = data_source.open_conversation()
    assert isinstance(next_conversation, SignedRequests)
    assert next_conversation.awaiting == {}
    assert meaning({"id": request["id"], "status": 200, "result": {}}, next_conversation) is FrameKind.CONTROL


def test_a_connector_with_inconsistent_constants_fails_when_created_not_in_the_loop() -> None:
    class NoChannels(GateIoAPIUserStreamDataSource):
        CHANNELS = ()

    class TwoSignedLogins(BinanceAPIUserStreamDataSource):
        CHANNELS = ("userDataStream.subscribe.signature", "userDataStream.subscribe.signature")

    with pytest.raises(TypeError, match="names no CHANNELS"):
        NoChannels(GateIoAuth("k", "s"), ws_url="ws://unused")
    with pytest.raises(TypeError, match="a signed login is one request"):
        TwoSignedLogins(BinanceAuth("k", "s"), ws_url="ws://unused")


def test_binance_signature_payload_is_the_sorted_query_binance_documents() -> None:
    # Binance's documented example key and payload ordering: parameters sorted by name, signature excluded.
    params = {"timestamp": 1649729878532, "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"}
    assert sorted_query(params) == (
        "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&timestamp=1649729878532"
    )
    assert sorted_query(params) == binance.signature_payload({**params, "signature": "x"})
    assert sorted_query({"b": True, "a": 1}) == "a=1&b=true"


# --- Gate.io v4: an auth object in every subscribe --------------------------------------------------------------------


async def test_gate_updates_reach_the_queue_and_each_channel_is_signed_separately(gate_venue: Venue) -> None:
    data_source = gate_venue.data_source()
    output = start_listening(data_source)
    await gate_venue.streaming()
    await gate_venue.exchange.push_event("spot.orders", [gate_io.order_update(order_id="42", event="put")])
    await gate_venue.exchange.push_event("spot.usertrades", [gate_io.user_trade(order_id="42", role="maker")])
    await gate_venue.exchange.push_event("spot.balances", [gate_io.balance(currency="BTC", change="0.0001")])

    orders, trades, balances = [await next_message(output) for _ in range(3)]
    assert (orders["channel"], orders["event"], orders["result"][0]["id"]) == ("spot.orders", "update", "42")
    assert (trades["result"][0]["order_id"], trades["result"][0]["role"]) == ("42", "maker")
    assert (balances["result"][0]["currency"], balances["result"][0]["change"]) == ("BTC", "0.0001")

    requests = gate_venue.signed_requests(gate_venue.exchange.connections[0])
    assert [r["channel"] for r in requests] == ["spot.orders", "spot.usertrades", "spot.balances"]
    assert [r.get("payload") for r in requests] == [["!all"], ["!all"], None]
    assert {r["auth"]["method"] for r in requests} == {"api_key"}
    assert {r["auth"]["KEY"] for r in requests} == {"gate-test-key"}
    assert [r["id"] for r in requests] == [1, 2, 3]


async def test_gate_app_level_pings_go_out_on_schedule_and_pongs_keep_the_stream_alive(gate_venue: Venue) -> None:
    data_source = gate_venue.data_source()
    output = start_listening(data_source)
    await gate_venue.streaming()
    await asyncio.sleep(FAST_TIMINGS.stale_after * 2)  # no updates at all: only spot.ping and spot.pong
    pings = gate_venue.exchange.messages(ClientIntent.PING)
    assert len(pings) >= 4, f"expected a spot.ping every {FAST_TIMINGS.ping_interval} s, saw {len(pings)}"
    assert all(p["channel"] == "spot.ping" and isinstance(p["time"], int) for p in pings)
    assert (data_source.status.reconnect_count, len(gate_venue.exchange.connections)) == (0, 1)
    assert output.empty()  # pongs are control frames, not user messages
    assert data_source.status.malformed_frames == 0


async def test_gate_a_revoked_key_mid_stream_backs_off_until_restored(gate_venue: Venue) -> None:
    data_source = gate_venue.data_source()
    output = start_listening(data_source)
    await gate_venue.streaming()
    gate_venue.state.revoke_key("gate-test-key")
    await gate_venue.exchange.close_connections(code=1001, reason="restarting")
    await eventually(
        lambda: data_source.status.last_error == "AuthenticationError: spot.orders: Authentication fail (code 4)",
        "the revoked key to be refused",
    )
    gate_venue.state.restore_key("gate-test-key")
    await gate_venue.streaming(connections=2)
    await gate_venue.exchange.push_event("spot.orders", [gate_io.order_update(order_id="after")])
    assert (await next_message(output))["result"][0]["id"] == "after"


async def test_gate_a_refused_channel_is_a_subscription_error_not_a_credential_error(
    gate_venue: Venue, caplog: pytest.LogCaptureFixture
) -> None:
    class WithUnknownChannel(GateIoAPIUserStreamDataSource):
        CHANNELS = ("spot.orders", "spot.no_such_channel")

    data_source = WithUnknownChannel(
        gate_venue.auth(), ws_url=gate_venue.ws_url, timings=FAST_TIMINGS, reconnect=FAST_RECONNECT
    )
    gate_venue.created.append(data_source)
    with caplog.at_level(logging.WARNING, logger="userstream"):
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 1, "a retry")
    assert data_source.status.last_error == (
        "SubscriptionError: spot.no_such_channel: unknown channel spot.no_such_channel (code 2)"
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- Coinbase Advanced Trade: a fresh ES256 JWT in every subscribe ----------------------------------------------------


async def test_coinbase_user_events_reach_the_queue_and_every_subscribe_carries_its_own_jwt(
    coinbase_venue: Venue,
) -> None:
    data_source = coinbase_venue.data_source()
    output = start_listening(data_source)
    await coinbase_venue.streaming()
    open_order = coinbase.order(order_id="o-1", client_order_id="bot-1")
    await coinbase_venue.exchange.push_event("user", [coinbase.user_snapshot([open_order])])
    await coinbase_venue.exchange.push_event("user", [coinbase.user_update([coinbase.fill(order_id="o-1")])])

    snapshot, update = await next_message(output), await next_message(output)
    assert (snapshot["channel"], snapshot["events"][0]["type"]) == ("user", "snapshot")
    assert snapshot["events"][0]["orders"][0]["client_order_id"] == "bot-1"
    assert update["events"][0]["orders"][0]["status"] == "FILLED"
    assert update["sequence_num"] > snapshot["sequence_num"]

    assert isinstance(coinbase_venue, CoinbaseVenue)
    requests = coinbase_venue.signed_requests(coinbase_venue.exchange.connections[0])
    assert [r["channel"] for r in requests] == ["user", "heartbeats"]
    decoded = [coinbase_venue.jwt(r) for r in requests]
    for header, claims in decoded:
        assert {k: header[k] for k in ("alg", "kid", "typ")} == {"alg": "ES256", "kid": COINBASE_KEY_NAME, "typ": "JWT"}
        assert (claims["iss"], claims["sub"], claims["exp"] - claims["nbf"]) == ("cdp", COINBASE_KEY_NAME, 120)
        assert "uri" not in claims
    assert decoded[0][0]["nonce"] != decoded[1][0]["nonce"]
    assert coinbase_venue.state.accepted_nonces == 2


async def test_coinbase_heartbeats_prove_liveness_without_being_queued(coinbase_venue: Venue) -> None:
    data_source = coinbase_venue.data_source()
    output = start_listening(data_source)
    await coinbase_venue.streaming()
    for _ in range(3):
        before = data_source.last_recv_time
        await asyncio.sleep(0.02)
        await coinbase_venue.exchange.push_heartbeat()
        await eventually(lambda: data_source.last_recv_time > before, "a heartbeat to move last_recv_time")  # noqa: B023
    assert output.empty()
    assert data_source.status.malformed_frames == 0


async def test_coinbase_a_closed_connection_resubscribes_with_new_jwts(coinbase_venue: Venue) -> None:
    data_source = coinbase_venue.data_source()
    output = start_listening(data_source)
    await coinbase_venue.streaming()
    await coinbase_venue.exchange.close_connections(code=1001)
    await coinbase_venue.streaming(connections=2)
    assert coinbase_venue.state.accepted_nonces == 4  # the fake refuses a replayed JWT: all four were new
    await coinbase_venue.exchange.push_event("user", [coinbase.user_update([coinbase.order(order_id="o-2")])])
    assert (await next_message(output))["events"][0]["orders"][0]["order_id"] == "o-2"


def test_coinbase_a_replayed_jwt_is_refused() -> None:
    private, public = ec_key_pair()
    dialect = coinbase.CoinbaseAdvancedTradeDialect(public)
    credentials = Credentials(api_key=COINBASE_KEY_NAME, secret=private)
    message = {
        "type": "subscribe",
        "channel": "user",
        "jwt": CoinbaseAdvancedTradeAuth(COINBASE_KEY_NAME, private).websocket_jwt(),
    }
    assert dialect.check_subscribe(message, credentials, time.time()) is None
    assert dialect.check_subscribe(message, credentials, time.time()) == "authentication failure"
    expired = {**message, "jwt": CoinbaseAdvancedTradeAuth(COINBASE_KEY_NAME, private).websocket_jwt()}
    assert dialect.check_subscribe(expired, credentials, time.time() + 121) == "authentication failure"


def test_es256_auth_fails_at_once_on_a_secret_that_is_not_an_ec_key() -> None:
    with pytest.raises(ValueError, match="not a PEM private key"):
        CoinbaseAdvancedTradeAuth(COINBASE_KEY_NAME, "an HMAC secret, not a PEM key")


def test_es256_auth_without_cryptography_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)  # what an environment without the package looks like
    with pytest.raises(ImportError, match=r"needs the 'cryptography' package: pip install cryptography"):
        Es256JwtAuth(COINBASE_KEY_NAME, "-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----\n")


async def test_stop_while_backing_off_after_a_rejection_clears_the_pending_requests(gate_venue: Venue) -> None:
    baseline = client_tasks()
    slow = ReconnectPolicy(initial_delay=30, max_delay=30)
    data_source = gate_venue.data_source(gate_venue.auth(secret="not-the-secret"), reconnect=slow)
    start_listening(data_source)
    await eventually(lambda: data_source.status.state is StreamState.BACKING_OFF, "the backing-off phase")
    await data_source.stop()
    assert client_tasks() - baseline == set()
    await gate_venue.exchange.wait_until(lambda: gate_venue.exchange.open_connections == 0, what="no open connection")
