"""The loop's promises on a real socket: the fake exchange listens on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from typing import Any, ClassVar

import aiohttp
import pytest
from reference_connector import DataSourceFactory, ReferenceDataSource
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, client_tasks, eventually, next_message, start_listening

from userstream import OutgoingMessage, ReconnectPolicy, StreamState
from userstream.testing import ClientIntent, FakeExchange

MARGIN = 0.5  # scheduling slack on a loaded two-core machine; every bound below is a promise plus this


def fully_subscribed(exchange: FakeExchange) -> int:
    return sum(len(c.subscriptions) == 3 for c in exchange.connections)


async def streaming(exchange: FakeExchange, connections: int = 1) -> None:
    await exchange.wait_until(lambda: fully_subscribed(exchange) >= connections, what=f"{connections} subscribed")


async def test_events_flow_end_to_end_over_a_real_socket(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    output = start_listening(make_data_source())
    await streaming(fake_exchange)
    for n in range(5):
        await fake_exchange.push_event("orders", {"order_id": str(n)})
    assert [(await next_message(output))["data"]["order_id"] for _ in range(5)] == ["0", "1", "2", "3", "4"]


async def test_last_recv_time_moves_on_heartbeats_without_queueing_them(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    output = start_listening(data_source)
    await streaming(fake_exchange)
    for _ in range(3):
        before = data_source.last_recv_time
        await asyncio.sleep(0.02)
        await fake_exchange.push_heartbeat()
        await eventually(lambda: data_source.last_recv_time > before, "last_recv_time to move on a heartbeat")  # noqa: B023
    assert output.empty()


async def test_app_level_pings_go_out_on_schedule_and_their_pongs_keep_the_stream_alive(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    start_listening(data_source)
    await streaming(fake_exchange)
    await asyncio.sleep(FAST_TIMINGS.stale_after * 3)  # no data at all: only pings and pongs
    pings = len(fake_exchange.messages(ClientIntent.PING))
    assert pings >= 5, f"expected a ping every {FAST_TIMINGS.ping_interval} s, saw {pings}"
    assert (data_source.status.reconnect_count, len(fake_exchange.connections)) == (0, 1)


async def test_protocol_pings_keep_a_quiet_stream_alive(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    class ProtocolPings(ReferenceDataSource):
        app_ping: ClassVar[OutgoingMessage | None] = None

    data_source = ProtocolPings(make_data_source().auth, ws_url=fake_exchange.ws_url, timings=FAST_TIMINGS)
    try:
        start_listening(data_source)
        await streaming(fake_exchange)
        first = data_source.last_recv_time
        await asyncio.sleep(FAST_TIMINGS.stale_after * 3)
        assert data_source.last_recv_time > first  # moved by protocol pongs alone
        assert fake_exchange.messages(ClientIntent.PING) == []
        assert (data_source.status.reconnect_count, len(fake_exchange.connections)) == (0, 1)
    finally:
        await data_source.stop()


async def test_a_dropped_tcp_connection_is_back_within_the_backoff(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    output = start_listening(data_source)
    await streaming(fake_exchange)
    await fake_exchange.drop_connections()
    await streaming(fake_exchange, connections=2)
    first, second = fake_exchange.connections
    gap = second.opened_at - first.opened_at
    assert FAST_RECONNECT.initial_delay <= gap <= FAST_RECONNECT.initial_delay + MARGIN
    assert data_source.status.reconnect_count == 1
    assert data_source.status.last_error is not None
    assert data_source.status.last_error.startswith("ConnectionLost")
    await fake_exchange.push_event("orders", {"order_id": "after-drop"})
    assert (await next_message(output))["data"] == {"order_id": "after-drop"}


async def test_a_going_away_close_is_reported_with_its_code_and_reconnected(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    start_listening(data_source)
    await streaming(fake_exchange)
    await fake_exchange.close_connections(code=1001, reason="maintenance")
    await streaming(fake_exchange, connections=2)
    assert data_source.status.last_error == "ConnectionLost: connection closed by the exchange (code 1001)"


async def test_a_silent_half_open_connection_is_detected_within_stale_after(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    start_listening(data_source)
    await streaming(fake_exchange)
    loop = asyncio.get_running_loop()
    silenced_at = loop.time()
    fake_exchange.go_silent()
    await eventually(lambda: data_source.status.reconnect_count >= 1, "the stale connection to be replaced", timeout=5)
    detected_after = loop.time() - silenced_at
    # The last frame came at most one ping interval before the silence began.
    assert FAST_TIMINGS.stale_after - FAST_TIMINGS.ping_interval <= detected_after
    assert detected_after <= FAST_TIMINGS.stale_after + FAST_RECONNECT.initial_delay + MARGIN
    assert data_source.status.last_error == "StaleConnection: no frame for 0.6 s; the connection is stale"
    await streaming(fake_exchange, connections=2)
    # The client closed the dead socket instead of leaking it.
    await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 1, what="one open connection")


async def test_rejected_logins_back_off_with_growing_delays_and_never_crash(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        fake_exchange.reject_next_login("Invalid sign")
    data_source = make_data_source()
    with caplog.at_level(logging.INFO, logger="userstream"):
        output = start_listening(data_source)
        await streaming(fake_exchange)
    opened = [c.opened_at for c in fake_exchange.connections]
    gaps = [later - earlier for earlier, later in itertools.pairwise(opened)]
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps):
        assert gap >= FAST_RECONNECT.ceiling(attempt), gaps  # jitter=0: each wait is exactly its ceiling
    rejections = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in rejections] == [
        "authentication rejected by the exchange: Invalid sign (code 401)"
    ] * 3
    await fake_exchange.push_event("orders", {"order_id": "finally"})
    assert (await next_message(output))["data"] == {"order_id": "finally"}


async def test_wrong_credentials_are_refused_by_signature_and_retried_with_backoff(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, auth: Any
) -> None:
    from reference_connector import ReferenceAuth

    data_source = make_data_source()
    data_source.auth = ReferenceAuth(auth.api_key, "not-the-secret")
    start_listening(data_source)
    await eventually(lambda: data_source.status.reconnect_count >= 2, "two retries")
    assert data_source.status.last_error == "AuthenticationError: invalid signature (code 401)"
    assert fully_subscribed(fake_exchange) == 0
    assert "not-the-secret" not in repr(data_source.status)


async def test_an_unreachable_exchange_is_retried_without_a_hot_loop(
    make_data_source: DataSourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.2, factor=2.0, jitter=0.0, min_delay=0.0)
    data_source = make_data_source(ws_url=f"ws://127.0.0.1:{port}/ws", reconnect=policy)
    with caplog.at_level(logging.INFO, logger="userstream"):
        start_listening(data_source)
        await asyncio.sleep(1.0)
    attempts = data_source.status.reconnect_count + 1
    # Attempts start at 0, 0.05, 0.15, 0.35, 0.55, 0.75, 0.95 s: at most 7 in a second; a hot loop makes thousands.
    assert 3 <= attempts <= 7
    assert data_source.status.last_error is not None
    assert "Cannot connect to host 127.0.0.1" in data_source.status.last_error
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[0].startswith("could not connect: ClientConnectorError")
    # Each log line says the delay that is really slept.
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconnecting")][:3] == [
        "reconnecting in 0.05 s (attempt 1)",
        "reconnecting in 0.10 s (attempt 2)",
        "reconnecting in 0.20 s (attempt 3)",
    ]


async def test_a_connection_that_stayed_healthy_resets_the_backoff(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.4, jitter=0.0, min_delay=0.0, reset_after=0.3)
    data_source = make_data_source(reconnect=policy)
    with caplog.at_level(logging.INFO, logger="userstream"):
        start_listening(data_source)
        await streaming(fake_exchange)
        await fake_exchange.drop_connections()  # short-lived: the schedule goes on
        await streaming(fake_exchange, connections=2)
        await fake_exchange.drop_connections()
        await streaming(fake_exchange, connections=3)
        await asyncio.sleep(0.4)  # healthy for longer than reset_after
        await fake_exchange.drop_connections()
        await streaming(fake_exchange, connections=4)
    delays = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconnecting")]
    assert delays == [
        "reconnecting in 0.05 s (attempt 1)",
        "reconnecting in 0.10 s (attempt 2)",
        "reconnecting in 0.05 s (attempt 1)",
    ]


async def test_malformed_frames_do_not_stop_the_stream(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    output = start_listening(data_source)
    await streaming(fake_exchange)
    await fake_exchange.send_malformed()
    await fake_exchange.push_event("orders", {"order_id": "ok"})
    assert (await next_message(output))["data"] == {"order_id": "ok"}
    assert (data_source.status.malformed_frames, data_source.status.reconnect_count) == (1, 0)


async def test_stop_leaves_no_task_and_no_open_connection(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    baseline = client_tasks()
    data_source = make_data_source()
    listener = asyncio.create_task(data_source.listen_for_user_stream(asyncio.Queue()))
    await streaming(fake_exchange)  # the listener task is referenced: it must be, to be checked below
    assert client_tasks() - baseline  # the listener and its keep-alive are running

    await data_source.stop()
    assert listener.cancelled()
    assert client_tasks() - baseline == set()
    await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 0, what="zero open connections")
    assert fake_exchange.connections[0].client_close_code == 1000  # a clean close, not a dropped socket
    assert data_source.status.state is StreamState.STOPPED
    assert not data_source.status.connected
    await data_source.stop()  # idempotent


@pytest.mark.parametrize("phase", ["backing_off", "authenticating"])
async def test_stop_in_any_phase_leaves_nothing_behind(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, phase: str
) -> None:
    baseline = client_tasks()
    if phase == "backing_off":
        fake_exchange.reject_next_login()
        data_source = make_data_source(reconnect=ReconnectPolicy(initial_delay=30, max_delay=30))
    else:
        fake_exchange.go_silent()  # no effect on connections not yet open
        data_source = make_data_source()
        fake_exchange.dialect.login_ack = lambda message: "unrecognised"  # type: ignore[method-assign]
    start_listening(data_source)
    await eventually(lambda: data_source.status.state.value == phase, f"the {phase} phase")
    await data_source.stop()
    assert client_tasks() - baseline == set()
    await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 0, what="zero open connections")


async def test_the_legacy_call_form_streams_and_warns(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    # The warning fires when the listener first runs, which happens during the await inside the block.
    with pytest.warns(DeprecationWarning, match="deprecated; call listen_for_user_stream"):  # noqa: PT031
        output = start_listening(data_source, asyncio.get_running_loop())
        await streaming(fake_exchange)
    await fake_exchange.push_event("balances", {"BTC": "1"})
    assert (await next_message(output))["data"] == {"BTC": "1"}


async def test_an_owned_http_session_is_closed_by_stop(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    data_source = make_data_source()
    start_listening(data_source)
    await streaming(fake_exchange)
    session = await data_source.http_session()
    await data_source.stop()
    assert session.closed


async def test_with_a_shared_session_every_replaced_socket_is_closed_and_the_session_is_left_open(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory
) -> None:
    async with aiohttp.ClientSession() as shared:
        data_source = make_data_source(session=shared)
        start_listening(data_source)
        await streaming(fake_exchange)
        fake_exchange.go_silent()  # the stale socket must be closed by the client, not abandoned
        await streaming(fake_exchange, connections=2)
        await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 1, what="the stale socket to close")
        await data_source.stop()
        await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 0, what="zero open connections")
        # Both sockets ended with the client's close frame, not by being abandoned to the garbage collector.
        assert [c.client_close_code for c in fake_exchange.connections] == [1000, 1000]
        assert not shared.closed  # the caller's session is the caller's to close


async def test_the_secret_never_reaches_the_logs_even_at_debug(
    fake_exchange: FakeExchange, make_data_source: DataSourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake_exchange.reject_next_login("bad signature for secret test-secret")  # an exchange echoing too much
    data_source = make_data_source()
    with caplog.at_level(logging.DEBUG):
        start_listening(data_source)
        await streaming(fake_exchange)
        await fake_exchange.drop_connections()
        await streaming(fake_exchange, connections=2)  # the rejected first connection never subscribed
        await data_source.stop()
    assert "authentication rejected by the exchange: bad signature for secret *** (code 401)" in caplog.text
    assert "test-secret" not in caplog.text
    assert "test-secret" not in repr(data_source.status)
