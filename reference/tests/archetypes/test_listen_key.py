"""The listen-key archetype against a loopback Binance (USD-M futures, and spot's older listen-key flow).

The futures venue serves the account too: its connector reconciles after every connection, so its user stream
carries gap markers between the exchange's messages.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from unittest.mock import ANY

import aiohttp
import msgspec
import pytest
from binance_futures.binance_futures_api_user_stream_data_source import BinanceFuturesAPIUserStreamDataSource
from binance_futures.binance_futures_auth import BinanceFuturesAuth
from binance_spot_listen_key_connector import BinanceSpotListenKeyDataSource
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, client_tasks, eventually, next_message, start_listening

from userstream import (
    ConnectionTarget,
    FrameKind,
    MarketAuth,
    ReconnectPolicy,
    RestError,
    StreamState,
    StreamTimings,
    is_gap_marker,
)
from userstream.archetypes.listen_key import ListenKeyDataSource
from userstream.testing import Credentials, Dialect, FakeExchange, MemoryWebSocket, RestRequest, RestResponse
from userstream.testing.dialects import binance_futures as futures
from userstream.testing.dialects import binance_spot_listen_key as spot

MARGIN = 0.3  # scheduling slack on a loaded machine
SLOW_KEEPALIVE = 60.0  # tests that are not about the keepalive keep it out of the way
FAST_KEEPALIVE = 0.1

EventBuilder = Callable[[], dict[str, Any]]


@dataclass
class Venue:
    """A loopback Binance product, its key state, and data sources pointed at it (all stopped after the test)."""

    name: str
    exchange: FakeExchange
    keys: futures.BinanceListenKeyState
    connector: type[ListenKeyDataSource]
    order_event: EventBuilder
    balance_event: EventBuilder
    account: futures.BinanceFuturesAccount | None = None
    """The account the futures venue serves over signed REST (spot's venue serves none)."""
    created: list[ListenKeyDataSource] = field(default_factory=list)

    def data_source(
        self, api_key: str = "test-api-key", *, connector: type[ListenKeyDataSource] | None = None, **overrides: Any
    ) -> ListenKeyDataSource:
        options: dict[str, Any] = {
            "ws_url": self.exchange.ws_url,
            "rest_url": self.exchange.rest_url,
            "timings": FAST_TIMINGS,
            "reconnect": FAST_RECONNECT,
            "rng": random.Random(7),
            "keepalive_interval": SLOW_KEEPALIVE,
        }
        options.update(overrides)
        data_source = (connector or self.connector)(BinanceFuturesAuth(api_key, "test-secret"), **options)
        self.created.append(data_source)
        return data_source

    def requests(self, method: str) -> list[RestRequest]:
        path = self.keys.profile.listen_key_path
        return [r for r in self.exchange.rest_requests if r.method == method and r.path == path]

    def key_query(self, key: str) -> dict[str, str]:
        """The query Binance expects on PUT and DELETE: spot names the key, futures does not."""
        param = self.keys.profile.key_param
        return {param: key} if param else {}

    async def connected(self, count: int = 1) -> None:
        """Wait until ``count`` connections were accepted and the latest is open."""
        exchange = self.exchange
        await exchange.wait_until(
            lambda: len(exchange.connections) >= count and exchange.connections[-1].open, what=f"{count} connections"
        )


def _venue_parts(name: str) -> tuple[Dialect, type[ListenKeyDataSource], EventBuilder, EventBuilder]:
    if name == "futures":
        return (
            futures.BinanceListenKeyDialect(),
            BinanceFuturesAPIUserStreamDataSource,
            lambda: futures.fill(symbol="BTCUSDT", client_order_id="bot-1"),
            lambda: futures.account_update([futures.balance("USDT", "1000.5")], [futures.position("BTCUSDT", "0.001")]),
        )
    return (
        spot.spot_dialect(),
        BinanceSpotListenKeyDataSource,
        lambda: spot.execution_report(client_order_id="bot-1", execution_type="TRADE", order_status="FILLED"),
        lambda: spot.account_position({"BTC": ("1.5", "0.0")}),
    )


@asynccontextmanager
async def _open_venue(name: str, clock_skew: float = 0.0) -> AsyncIterator[Venue]:
    dialect, connector, order_event, balance_event = _venue_parts(name)
    async with FakeExchange(dialect, Credentials("test-api-key", "test-secret"), clock_skew=clock_skew) as exchange:
        venue = Venue(name, exchange, futures.install(exchange), connector, order_event, balance_event)
        if name == "futures":
            venue.account = futures.install_account(exchange)
        try:
            yield venue
        finally:
            for data_source in venue.created:
                await data_source.stop()


async def next_event(output: asyncio.Queue[Any]) -> Any:
    """The next of the exchange's own messages on a user stream: gap markers are skipped."""
    while is_gap_marker(message := await next_message(output)):
        pass
    return message


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    """Binance USD-M futures."""
    async with _open_venue("futures") as opened:
        yield opened


@pytest.fixture(params=["futures", "spot"])
async def any_venue(request: pytest.FixtureRequest) -> AsyncIterator[Venue]:
    """USD-M futures, then spot's older flow: the same block configured with other constants."""
    async with _open_venue(request.param) as opened:
        yield opened


# --- happy path -------------------------------------------------------------------------------------


async def test_user_events_reach_the_queue_over_a_url_that_carries_the_listen_key(any_venue: Venue) -> None:
    venue = any_venue
    data_source = venue.data_source()
    output = start_listening(data_source)
    await venue.connected()
    key = venue.keys.active_key
    assert key is not None
    connection = venue.exchange.connections[0]
    assert connection.path == f"/ws/{key}"  # the URL is the credential
    assert connection.received == []  # no login, no subscribe
    (post,) = venue.requests("POST")
    assert post.headers["X-MBX-APIKEY"] == "test-api-key"
    assert data_source.listen_key == key

    order, account = venue.order_event(), venue.balance_event()
    await venue.exchange.push(order)
    await venue.exchange.push(account)
    assert await next_event(output) == order
    assert await next_event(output) == account
    assert data_source.status.state is StreamState.STREAMING


# --- rejected credentials ----------------------------------------------------------------------------


async def test_a_refused_api_key_is_an_authentication_error_in_binances_words_retried_with_backoff(
    venue: Venue, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = venue.data_source(api_key="not-the-key")
    with caplog.at_level(logging.INFO, logger="userstream"):
        output = start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 2, "two retries")
    expected = "the exchange refused a listen key: Invalid API-key, IP, or permissions for action. (code -2015)"
    assert data_source.status.last_error == f"AuthenticationError: {expected}"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[:2] == [f"authentication rejected by the exchange: {expected}"] * 2
    delays = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconnecting")]
    assert delays[:2] == ["reconnecting in 0.05 s (attempt 1)", "reconnecting in 0.10 s (attempt 2)"]
    assert venue.exchange.connections == []  # never dialled without a key
    assert venue.keys.issued == []

    data_source.auth = BinanceFuturesAuth("test-api-key", "test-secret")  # the user fixes the key: the loop recovers
    await venue.connected()
    await venue.exchange.push(venue.order_event())
    assert (await next_event(output))["e"] == "ORDER_TRADE_UPDATE"


async def test_a_missing_api_key_header_gets_binances_format_error() -> None:
    class NoHeader(BinanceFuturesAPIUserStreamDataSource):
        API_KEY_HEADER = "X-Something-Else"

    async with _open_venue("futures") as venue:
        data_source = venue.data_source(connector=NoHeader)
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 1, "a retry")
        assert data_source.status.last_error == (
            "AuthenticationError: the exchange refused a listen key: API-key format invalid. (code -2014)"
        )


# --- expiry and termination mid-stream ----------------------------------------------------------------


async def test_listen_key_expired_mid_stream_reconnects_with_a_new_key(venue: Venue) -> None:
    data_source = venue.data_source()
    output = start_listening(data_source)
    await venue.connected()
    old_key = await venue.keys.expire()  # Binance pushes listenKeyExpired and leaves the socket open and silent
    await venue.connected(2)
    new_key = venue.keys.active_key
    assert new_key is not None
    assert new_key != old_key
    first, second = venue.exchange.connections
    assert second.path == f"/ws/{new_key}"
    assert data_source.listen_key == new_key
    await venue.exchange.wait_until(lambda: not first.open, what="the expired connection to close")
    assert first.client_close_code == 1000  # the client ended it; the exchange would not have
    assert data_source.status.last_error == "ServerRequestedReconnect: the listen key expired (listenKeyExpired)"
    assert old_key not in (data_source.status.last_error or "")

    order = venue.order_event()
    await venue.exchange.push(order, to=second)
    assert await next_event(output) == order  # the expiry frame itself was never queued


async def test_spot_event_stream_terminated_reconnects(caplog: pytest.LogCaptureFixture) -> None:
    async with _open_venue("spot") as venue:
        data_source = venue.data_source()
        with caplog.at_level(logging.INFO, logger="userstream"):
            start_listening(data_source)
            await venue.connected()
            await venue.exchange.push(spot.event_stream_terminated())
            await venue.connected(2)
        assert data_source.status.last_error == (
            "ServerRequestedReconnect: Binance terminated the user data stream (eventStreamTerminated)"
        )
        assert "the exchange ended the stream: Binance terminated the user data stream" in caplog.text
        assert len(venue.requests("POST")) == 2  # a fresh POST for the new connection


async def test_a_refused_websocket_upgrade_is_retried_with_a_fresh_key(venue: Venue) -> None:
    venue.keys.kill_next_key()  # the first key is dead before the client dials it
    data_source = venue.data_source()
    start_listening(data_source)
    await venue.connected()
    ((path, _, reason),) = venue.exchange.refused_connections
    assert reason == "invalid or expired listen key"
    dead_key, live_key = venue.keys.issued
    assert path == f"/ws/{dead_key}"
    assert venue.exchange.connections[0].path == f"/ws/{live_key}"
    assert data_source.status.last_error is not None
    assert "401" in data_source.status.last_error


# --- reconnects ------------------------------------------------------------------------------------------


async def test_every_connection_posts_for_its_key_and_binance_returns_the_active_one(venue: Venue) -> None:
    data_source = venue.data_source()
    start_listening(data_source)
    await venue.connected()
    await venue.exchange.drop_connections()
    await venue.connected(2)
    # A POST per connection: Binance answers with the account's live key and extends it by 60 minutes.
    assert len(venue.requests("POST")) == 2
    assert venue.keys.created == venue.keys.issued * 2
    assert [c.path for c in venue.exchange.connections] == [f"/ws/{venue.keys.issued[0]}"] * 2


async def test_concurrent_reconnects_mint_one_key(venue: Venue) -> None:
    data_source = venue.data_source()
    targets: list[ConnectionTarget] = await asyncio.gather(*(data_source.connection_target() for _ in range(5)))
    assert len({target.url for target in targets}) == 1
    assert len(venue.requests("POST")) == 1
    assert data_source.listen_keys_created == 1
    assert targets[0].url.endswith(f"/ws/{venue.keys.active_key}")


async def test_a_connection_is_replaced_make_before_break_before_binance_ends_it(venue: Venue) -> None:
    class ShortLived(BinanceFuturesAPIUserStreamDataSource):
        MAX_CONNECTION_AGE: ClassVar[float | None] = 0.5  # Binance's is 24 hours

    data_source = venue.data_source(connector=ShortLived)
    output = start_listening(data_source)
    await venue.connected()
    await eventually(lambda: data_source.status.handovers >= 1, "a handover")
    first, second = venue.exchange.connections[:2]
    assert second.path == first.path  # the successor's POST got the live key back
    await venue.exchange.wait_until(lambda: not first.open, what="the first connection to close")
    assert first.client_close_code == 1000
    assert data_source.status.reconnect_count == 0
    order = venue.order_event()
    await venue.exchange.push(order)
    assert await next_event(output) == order


# --- keepalive -------------------------------------------------------------------------------------------


async def test_the_keepalive_put_goes_out_on_schedule(any_venue: Venue) -> None:
    venue = any_venue
    data_source = venue.data_source(keepalive_interval=FAST_KEEPALIVE)
    start_listening(data_source)
    await venue.connected()
    await venue.exchange.wait_until(lambda: len(venue.keys.keepalives) >= 4, what="four keepalives")
    key = venue.keys.active_key
    assert key is not None
    times = [venue.exchange.connections[0].opened_at] + [at for at, _ in venue.keys.keepalives]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(FAST_KEEPALIVE * 0.9 <= gap <= FAST_KEEPALIVE + MARGIN for gap in gaps), gaps
    assert {extended for _, extended in venue.keys.keepalives} == {key}
    for put in venue.requests("PUT"):
        assert put.headers["X-MBX-APIKEY"] == "test-api-key"
        assert dict(put.query) == venue.key_query(key)
    assert (data_source.status.reconnect_count, len(venue.exchange.connections)) == (0, 1)


async def test_a_failed_keepalive_ends_the_connection_and_a_new_key_is_created(venue: Venue) -> None:
    data_source = venue.data_source(keepalive_interval=FAST_KEEPALIVE)
    output = start_listening(data_source)
    await venue.connected()
    old_key = await venue.keys.expire(notify=False)  # it dies unannounced: only the next PUT finds out
    await venue.connected(2)
    assert data_source.status.last_error == (
        "KeepaliveFailed: listen key keepalive failed: This listenKey does not exist. (code -1125)"
    )
    new_key = venue.keys.active_key
    assert new_key is not None
    assert new_key != old_key
    first, second = venue.exchange.connections
    assert second.path == f"/ws/{new_key}"
    await venue.exchange.wait_until(lambda: not first.open, what="the old connection to close")
    assert first.client_close_code == 1000
    # The new connection has its own keepalive, on the new key.
    await venue.exchange.wait_until(
        lambda: venue.keys.keepalives[-1:] != [] and venue.keys.keepalives[-1][1] == new_key
    )
    order = venue.order_event()
    await venue.exchange.push(order, to=second)
    assert await next_event(output) == order


async def test_a_keepalive_refused_for_any_reason_ends_the_connection(venue: Venue) -> None:
    data_source = venue.data_source(keepalive_interval=FAST_KEEPALIVE)
    start_listening(data_source)
    await venue.connected()
    venue.keys.fail_next(
        "PUT", RestResponse({"code": -1001, "msg": "Internal error; unable to process your request."}, 503)
    )
    await venue.connected(2)
    assert data_source.status.last_error == (
        "KeepaliveFailed: listen key keepalive failed: Internal error; unable to process your request. (code -1001)"
    )
    assert len(venue.requests("POST")) == 2  # the reconnect asked for the key again


async def test_a_refusal_that_quotes_the_listen_key_reveals_it_in_no_log_and_no_status(
    venue: Venue, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = venue.data_source(keepalive_interval=FAST_KEEPALIVE)
    with caplog.at_level(logging.DEBUG, logger="userstream"):
        start_listening(data_source)
        await venue.connected()
        key = data_source.listen_key
        assert key is not None
        venue.keys.fail_next("PUT", RestResponse({"code": -1125, "msg": f"This listenKey does not exist: {key}"}, 400))
        await venue.connected(2)
        await data_source.stop()  # its DELETE may be refused the same way
    assert data_source.status.last_error == (
        "KeepaliveFailed: listen key keepalive failed: This listenKey does not exist: *** (code -1125)"
    )
    assert key not in caplog.text


# --- clock -------------------------------------------------------------------------------------------------


async def test_listen_key_calls_carry_no_timestamp_so_clock_skew_cannot_reject_them() -> None:
    async with _open_venue("futures", clock_skew=-3600.0) as venue:
        data_source = venue.data_source()
        output = start_listening(data_source)
        await venue.connected()
        await venue.exchange.push(venue.order_event())
        assert (await next_event(output))["e"] == "ORDER_TRADE_UPDATE"
        assert all("timestamp" not in request.query for request in venue.requests("POST"))
        # The account's signed calls need the offset: Binance refuses the first (-1021), the offset is measured
        # from its time endpoint, and the retry is accepted.
        await eventually(lambda: data_source.status.reconciled_at is not None, "the account reconciled")
        assert data_source.auth is not None
        assert data_source.auth.time_offset == pytest.approx(-3600.0, abs=0.5)
        requested = [request.path for request in venue.exchange.rest_requests if request.method == "GET"]
        assert requested[:3] == ["/fapi/v3/balance", "/fapi/v1/time", "/fapi/v3/balance"]


# --- protocol pings ------------------------------------------------------------------------------------------


async def test_the_servers_protocol_pings_are_answered(venue: Venue) -> None:
    opened: list[tuple[ConnectionTarget, MemoryWebSocket]] = []

    async def connect(target: ConnectionTarget, timings: StreamTimings) -> MemoryWebSocket:
        client, server = MemoryWebSocket.pair()
        opened.append((target, server))
        return client

    data_source = venue.data_source(websocket_factory=connect)
    start_listening(data_source)
    await eventually(lambda: bool(opened), "a connection")
    target, server = opened[0]
    assert target.url == f"{venue.exchange.ws_url}/{venue.keys.active_key}"
    await server.ping(b"binance-ping")
    replies = []
    async with asyncio.timeout(1):
        while not server.closed:  # the client's own pings may come first
            frame = await server.receive()
            if frame.type is not aiohttp.WSMsgType.PING:
                replies.append((frame.type, frame.data))
                break
    assert replies == [(aiohttp.WSMsgType.PONG, b"binance-ping")]


# --- stop -----------------------------------------------------------------------------------------------------


async def test_stop_leaves_no_task_no_connection_and_closes_the_listen_key(any_venue: Venue) -> None:
    venue = any_venue
    baseline = client_tasks()
    data_source = venue.data_source(keepalive_interval=FAST_KEEPALIVE)
    listener = asyncio.create_task(data_source.listen_for_user_stream(asyncio.Queue()))
    await venue.connected()
    await venue.exchange.wait_until(lambda: len(venue.keys.keepalives) >= 1, what="a keepalive")
    key = venue.keys.active_key
    assert key is not None

    await data_source.stop()
    assert listener.cancelled()
    assert client_tasks() - baseline == set()  # listener, pings and the keepalive job all ended
    await venue.exchange.wait_until(lambda: venue.exchange.open_connections == 0, what="zero open connections")
    assert venue.exchange.connections[0].client_close_code == 1000
    (delete,) = venue.requests("DELETE")
    assert delete.headers["X-MBX-APIKEY"] == "test-api-key"
    assert dict(delete.query) == venue.key_query(key)
    assert venue.keys.closed == [key]
    assert venue.keys.active_key is None
    assert data_source.listen_key is None
    await data_source.stop()  # idempotent: nothing left to close
    assert len(venue.requests("DELETE")) == 1


async def test_a_failed_delete_on_stop_is_logged_not_raised(venue: Venue, caplog: pytest.LogCaptureFixture) -> None:
    data_source = venue.data_source()
    start_listening(data_source)
    await venue.connected()
    venue.keys.fail_next("DELETE")
    with caplog.at_level(logging.WARNING, logger="userstream"):
        await data_source.stop()
    assert (
        "could not close the listen key (it will expire on its own): This listenKey does not exist. (code -1125)"
        in (caplog.text)
    )
    assert data_source.listen_key is None


async def test_stop_does_not_hang_when_binance_does_not_answer_the_delete(
    venue: Venue, caplog: pytest.LogCaptureFixture
) -> None:
    class QuickClose(BinanceFuturesAPIUserStreamDataSource):
        CLOSE_TIMEOUT: ClassVar[float] = 0.2

    release = asyncio.Event()

    async def unanswered(request: RestRequest) -> RestResponse:
        await release.wait()
        return RestResponse({})

    data_source = venue.data_source(connector=QuickClose)
    start_listening(data_source)
    await venue.connected()
    venue.exchange.route("DELETE", venue.keys.profile.listen_key_path, unanswered)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with caplog.at_level(logging.WARNING, logger="userstream"):
            await data_source.stop()
        assert loop.time() - started <= QuickClose.CLOSE_TIMEOUT + MARGIN
        assert "could not close the listen key" in caplog.text
        assert data_source.listen_key is None
    finally:
        release.set()


async def test_stop_while_the_key_is_being_created_leaves_no_task(venue: Venue) -> None:
    release = asyncio.Event()

    async def slow_create(request: RestRequest) -> RestResponse:
        await release.wait()
        return venue.keys.create(request)

    venue.exchange.route("POST", venue.keys.profile.listen_key_path, slow_create)
    baseline = client_tasks()
    # A shared session stays open after stop(), so a creation still in flight would be left running.
    async with aiohttp.ClientSession() as shared:
        data_source = venue.data_source(session=shared)
        start_listening(data_source)
        try:
            await venue.exchange.wait_until(lambda: len(venue.requests("POST")) == 1, what="the POST")
            await data_source.stop()
            assert client_tasks() - baseline == set()  # the in-flight creation was cancelled with the listener
            assert venue.requests("DELETE") == []  # no key was ever known, so none is closed
            assert data_source.listen_key is None
        finally:
            release.set()


@pytest.mark.parametrize("death", ["listenKeyExpired", "failed keepalive"])
async def test_a_dead_key_is_forgotten_and_not_deleted_on_stop(venue: Venue, death: str) -> None:
    data_source = venue.data_source(
        keepalive_interval=FAST_KEEPALIVE, reconnect=ReconnectPolicy(initial_delay=30, max_delay=30)
    )
    start_listening(data_source)
    await venue.connected()
    await venue.keys.expire(notify=death == "listenKeyExpired")
    await eventually(lambda: data_source.status.state is StreamState.BACKING_OFF, "the connection to end")
    assert data_source.listen_key is None
    await data_source.stop()
    assert venue.requests("DELETE") == []


# --- the futures account -----------------------------------------------------------------------------------


async def test_the_futures_account_answers_signed_requests_only(venue: Venue) -> None:
    assert venue.account is not None
    order = venue.account.place_order("BTCUSDT")
    data_source = venue.data_source()
    [row] = await data_source.rest_request("GET", "/fapi/v1/openOrders", signed=True)
    assert (row["orderId"], row["status"], row["clientOrderId"] != "") == (int(order.order_id), "NEW", True)

    signed = dict(BinanceFuturesAuth("test-api-key", "test-secret").rest_auth_params("GET", "/fapi/v3/balance", {}))
    late = dict(
        BinanceFuturesAuth("test-api-key", "test-secret", clock=lambda: time.time() - 10).rest_auth_params(
            "GET", "/fapi/v3/balance", {}
        )
    )
    tampered = {**signed, "recvWindow": "60000"}
    key = {"X-MBX-APIKEY": "test-api-key"}
    refusals = []
    async with aiohttp.ClientSession() as session:
        for query, headers in ((signed, {}), (tampered, key), (late, key), (signed, key)):
            async with session.get(
                venue.exchange.rest_url + "/fapi/v3/balance", params=query, headers=headers
            ) as reply:
                refusals.append((reply.status, (await reply.json()).get("code") if reply.status != 200 else None))
    assert refusals == [(401, -2014), (400, -1022), (400, -1021), (200, None)]

    with pytest.raises(RestError) as unknown:
        await data_source.fetch_order(msgspec.structs.replace(order.as_update(), exchange_order_id="1"))
    assert (unknown.value.status, unknown.value.body) == (400, {"code": -2013, "msg": "Order does not exist."})


async def test_the_futures_history_takes_the_documented_windows_only(venue: Venue) -> None:
    data_source = venue.data_source()
    now_ms = int(time.time() * 1000)
    too_long = {"symbol": "BTCUSDT", "startTime": now_ms - 8 * 24 * 3600 * 1000, "endTime": now_ms}
    cursor_and_time = {"symbol": "BTCUSDT", "fromId": 1, "startTime": now_ms}
    for path, params, code in (
        ("/fapi/v1/allOrders", too_long, -1127),
        ("/fapi/v1/userTrades", cursor_and_time, -1128),
        ("/fapi/v1/userTrades", {"symbol": "BTCUSDT", "limit": 1001}, -1130),
        ("/fapi/v1/allOrders", {}, -1102),
    ):
        with pytest.raises(RestError) as refused:
            await data_source.rest_request("GET", path, params=params, signed=True)
        assert refused.value.status == 400
        assert refused.value.body == {"code": code, "msg": ANY}


# --- pure methods ------------------------------------------------------------------------------------------------


def _offline(connector: type[ListenKeyDataSource]) -> ListenKeyDataSource:
    return connector(MarketAuth("k", "s"), ws_url="wss://fstream.binance.com/ws", rest_url="https://fapi.binance.com")


def test_frames_are_classified_for_the_loop() -> None:
    futures_source = _offline(BinanceFuturesAPIUserStreamDataSource)
    spot_source = _offline(BinanceSpotListenKeyDataSource)
    expired = futures.listen_key_expired("pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1")
    for source in (futures_source, spot_source):
        assert source.classify(expired) is FrameKind.RECONNECT
        assert source.describe_rejection(expired) == "the listen key expired (listenKeyExpired)"
        assert "pqia91ma" not in source.describe_rejection(expired)  # the key is a credential
        assert source.classify({"result": None, "id": 1}) is FrameKind.MALFORMED
        assert source.classify([1, 2]) is FrameKind.MALFORMED
    assert futures_source.classify(futures.order_trade_update()) is FrameKind.USER_MESSAGE
    assert futures_source.classify(futures.account_update([futures.balance("USDT", "1")])) is FrameKind.USER_MESSAGE
    assert futures_source.classify({"e": "TRADE_LITE", "E": 1}) is FrameKind.USER_MESSAGE  # new types still flow
    assert spot_source.classify(spot.execution_report()) is FrameKind.USER_MESSAGE
    assert spot_source.classify(spot.balance_update()) is FrameKind.USER_MESSAGE
    assert spot_source.classify(spot.event_stream_terminated()) is FrameKind.RECONNECT
    assert futures_source.stream_url("abc") == "wss://fstream.binance.com/ws/abc"


def test_a_connector_must_set_the_archetypes_constants() -> None:
    class Incomplete(ListenKeyDataSource):
        LISTEN_KEY_PATH = "/fapi/v1/listenKey"

    with pytest.raises(TypeError, match="must set API_KEY_HEADER, KEEPALIVE_INTERVAL, EVENT_TYPE_FIELD"):
        _offline(Incomplete)
    with pytest.raises(ValueError, match="needs a MarketAuth"):
        BinanceFuturesAPIUserStreamDataSource(None, ws_url="wss://x/ws", rest_url="https://x")

    class NoRestUrl(BinanceFuturesAPIUserStreamDataSource):
        REST_URL = None

    with pytest.raises(ValueError, match="needs a rest_url"):
        NoRestUrl(MarketAuth("k", "s"), ws_url="wss://x/ws")
    with pytest.raises(ValueError, match="keepalive_interval must be a positive"):
        BinanceFuturesAPIUserStreamDataSource(
            MarketAuth("k", "s"), ws_url="wss://x/ws", rest_url="https://x", keepalive_interval=0
        )
