"""Message handling through the real loop over in-memory sockets: fast, no ports, no server."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reference_connector import ReferenceAuth, ReferenceDataSource
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, eventually, next_message, start_listening

from userstream import ConnectionTarget, FrameKind, StreamState, StreamTimings, UserStreamTrackerDataSource
from userstream.testing import ClientIntent, FakeExchange, MemoryWebSocket

QUIET_TIMINGS = StreamTimings(ping_interval=30, stale_after=60, handshake_timeout=0.3, close_timeout=0.2)


@pytest.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    exchange = FakeExchange()  # never started: it serves in-memory sockets only
    yield exchange
    await exchange.close()


@pytest.fixture
async def data_source(exchange: FakeExchange, auth: ReferenceAuth) -> AsyncIterator[ReferenceDataSource]:
    data_source = ReferenceDataSource(
        auth,
        ws_url="memory://fake",
        websocket_factory=exchange.connect_in_memory,
        timings=FAST_TIMINGS,
        reconnect=FAST_RECONNECT,
        rng=random.Random(1),
    )
    yield data_source
    await data_source.stop()


async def subscribed(exchange: FakeExchange, connections: int = 1) -> None:
    await exchange.wait_until(
        lambda: sum(len(c.subscriptions) == 3 for c in exchange.connections) >= connections,
        what=f"{connections} connection(s) subscribed to all three channels",
    )


async def test_logs_in_then_subscribes_then_queues_only_user_messages(
    exchange: FakeExchange, data_source: ReferenceDataSource
) -> None:
    output = start_listening(data_source)
    await subscribed(exchange)
    intents = [exchange.dialect.classify_client(message) for _, message in exchange.received]
    assert intents[:4] == [ClientIntent.LOGIN] + [ClientIntent.SUBSCRIBE] * 3
    assert exchange.connections[0].authenticated

    order = {"order_id": "1", "status": "NEW"}
    await exchange.push_heartbeat()
    await exchange.push_event("orders", order)
    await exchange.push({"op": "pong"})
    await exchange.push_event("fills", {"trade_id": "7"})

    assert await next_message(output) == {"channel": "orders", "data": order}
    assert await next_message(output) == {"channel": "fills", "data": {"trade_id": "7"}}
    assert output.empty()
    status = data_source.status
    assert (status.state, status.connected, status.messages_queued) == (StreamState.STREAMING, True, 2)


async def test_subscribes_are_sent_only_after_the_login_ack(auth: ReferenceAuth) -> None:
    client, server = MemoryWebSocket.pair()

    async def connect(target: ConnectionTarget, timings: StreamTimings) -> MemoryWebSocket:
        return client

    data_source = ReferenceDataSource(auth, ws_url="memory://", websocket_factory=connect, timings=QUIET_TIMINGS)
    start_listening(data_source)
    login = json.loads((await server.receive(timeout=2)).data)
    assert login["op"] == "login"
    await asyncio.sleep(0.05)
    assert client.sent == [json.dumps(login, separators=(",", ":"))]  # nothing more until the ack

    await server.send_str(json.dumps({"event": "login", "code": 0}))
    channels = [json.loads((await server.receive(timeout=2)).data)["channel"] for _ in range(3)]
    assert channels == ["orders", "fills", "balances"]
    await data_source.stop()


async def test_malformed_frames_are_counted_logged_and_skipped(
    exchange: FakeExchange, data_source: ReferenceDataSource, caplog: pytest.LogCaptureFixture
) -> None:
    output = start_listening(data_source)
    await subscribed(exchange)
    with caplog.at_level(logging.DEBUG, logger="userstream"):
        await exchange.send_malformed("<html>502 Bad Gateway</html>")
        await exchange.push([1, 2, 3])  # JSON, but classify() cannot read a list
        await exchange.push({"unexpected": "shape"})  # classify() returns MALFORMED
        await exchange.push("x" * 500)
        await exchange.push_event("orders", {"order_id": "2"})
        assert await next_message(output) == {"channel": "orders", "data": {"order_id": "2"}}

    assert data_source.status.malformed_frames == 4
    skipped = [r.getMessage() for r in caplog.records if "skipped malformed frame" in r.getMessage()]
    assert len(skipped) == 4
    assert "<html>502 Bad Gateway</html>" in skipped[0]
    assert "… (500 chars)" in skipped[3]  # long frames are excerpted, not dumped
    assert all(r.levelno == logging.DEBUG for r in caplog.records if "malformed" in r.getMessage())
    assert data_source.status.reconnect_count == 0


async def test_binary_json_frames_are_decoded_like_text(
    exchange: FakeExchange, data_source: ReferenceDataSource
) -> None:
    output = start_listening(data_source)
    await subscribed(exchange)
    await exchange.connections[0].socket.send_bytes(b'{"channel": "balances", "data": {"USDT": "10"}}')  # type: ignore[attr-defined]
    assert await next_message(output) == {"channel": "balances", "data": {"USDT": "10"}}


async def test_a_rejected_login_is_logged_once_with_the_exchange_message_then_retried(
    exchange: FakeExchange, data_source: ReferenceDataSource, caplog: pytest.LogCaptureFixture
) -> None:
    exchange.reject_next_login("API key expired")
    with caplog.at_level(logging.INFO, logger="userstream"):
        start_listening(data_source)
        await subscribed(exchange)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["authentication rejected by the exchange: API key expired (code 401)"]
    assert data_source.status.last_error == "AuthenticationError: API key expired (code 401)"
    assert data_source.status.reconnect_count == 1
    assert any(r.getMessage().startswith("reconnecting in 0.05 s (attempt 1)") for r in caplog.records)


async def test_a_rejected_subscription_ends_the_connection_and_is_retried(
    exchange: FakeExchange, auth: ReferenceAuth
) -> None:
    class WithUnknownChannel(ReferenceDataSource):
        channels = ("orders", "positions")

    data_source = WithUnknownChannel(
        auth, ws_url="memory://", websocket_factory=exchange.connect_in_memory, reconnect=FAST_RECONNECT
    )
    start_listening(data_source)
    await eventually(lambda: data_source.status.reconnect_count >= 1, "a reconnect after the refused subscription")
    assert data_source.status.last_error == "SubscriptionError: unknown channel 'positions' (code 403)"
    await data_source.stop()


async def test_a_server_ended_stream_reconnects(exchange: FakeExchange, data_source: ReferenceDataSource) -> None:
    output = start_listening(data_source)
    await subscribed(exchange)
    await exchange.push({"event": "stream_expired", "msg": "listen key expired", "code": 0})
    await subscribed(exchange, connections=2)
    assert data_source.status.last_error == "ServerRequestedReconnect: listen key expired (code 0)"
    await exchange.push_event("orders", {"order_id": "3"})
    assert await next_message(output) == {"channel": "orders", "data": {"order_id": "3"}}


async def test_a_missing_login_ack_times_out_the_handshake(auth: ReferenceAuth) -> None:
    sockets: list[MemoryWebSocket] = []

    async def connect(target: ConnectionTarget, timings: StreamTimings) -> MemoryWebSocket:
        client, server = MemoryWebSocket.pair()
        sockets.append(server)
        return client

    data_source = ReferenceDataSource(
        auth, ws_url="memory://", websocket_factory=connect, timings=QUIET_TIMINGS, reconnect=FAST_RECONNECT
    )
    start_listening(data_source)
    await eventually(lambda: len(sockets) >= 2, "a second connection after the handshake timeout")
    assert data_source.status.last_error == "HandshakeTimeout: no auth_ok frame within 0.3 s"
    await data_source.stop()


async def test_protocol_pings_are_answered_and_pongs_count_as_traffic(
    exchange: FakeExchange, data_source: ReferenceDataSource
) -> None:
    start_listening(data_source)
    await subscribed(exchange)
    server_end: MemoryWebSocket = exchange.connections[0].socket  # type: ignore[assignment]
    before = data_source.last_recv_time
    await server_end.pong(b"")
    await eventually(lambda: data_source.last_recv_time > before, "last_recv_time to move on a pong")
    assert data_source.status.messages_queued == 0


async def test_last_recv_time_never_goes_backwards(
    exchange: FakeExchange, data_source: ReferenceDataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_listening(data_source)
    await subscribed(exchange)
    high_water = data_source.last_recv_time
    assert high_water > 0
    monkeypatch.setattr("userstream.record.time.time", lambda: high_water - 3600)  # the clock is stepped back
    data_source.record.measure_wall_clock()  # as the watchdog does on its next turn
    await exchange.push_heartbeat()
    await asyncio.sleep(0.05)
    assert data_source.last_recv_time == high_water


async def test_last_recv_time_is_zero_before_the_first_frame(data_source: ReferenceDataSource) -> None:
    assert data_source.last_recv_time == 0.0
    assert data_source.status.state is StreamState.IDLE


async def test_the_legacy_call_form_works_and_warns(exchange: FakeExchange, data_source: ReferenceDataSource) -> None:
    # The warning fires when the listener first runs, which happens during the await inside the block.
    with pytest.warns(DeprecationWarning, match=r"listen_for_user_stream\(ev_loop, output\) is deprecated"):  # noqa: PT031
        output = start_listening(data_source, asyncio.get_running_loop())
        await subscribed(exchange)
    await exchange.push_event("orders", {"order_id": "4"})
    assert await next_message(output) == {"channel": "orders", "data": {"order_id": "4"}}


async def test_keyword_call_forms_are_accepted(exchange: FakeExchange, data_source: ReferenceDataSource) -> None:
    output: asyncio.Queue[Any] = asyncio.Queue()
    first = asyncio.create_task(data_source.listen_for_user_stream(output=output))
    await subscribed(exchange)
    await data_source.stop()
    assert first.cancelled()
    with pytest.warns(DeprecationWarning, match="is deprecated"):  # noqa: PT031 - fires when the task first runs
        second = asyncio.create_task(
            data_source.listen_for_user_stream(ev_loop=asyncio.get_running_loop(), output=output)
        )
        await subscribed(exchange, connections=2)
    await data_source.stop()
    assert second.cancelled()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("not a queue",), {}, "takes an asyncio.Queue"),
        ((), {}, "takes an asyncio.Queue"),
        ((1, 2, asyncio.Queue()), {}, "takes an asyncio.Queue"),
        ((asyncio.Queue(),), {"loop": None}, "unexpected keyword argument"),
    ],
)
async def test_wrong_arguments_are_a_clear_type_error(
    data_source: ReferenceDataSource, args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        await data_source.listen_for_user_stream(*args, **kwargs)


async def test_a_second_concurrent_listener_is_refused(
    exchange: FakeExchange, data_source: ReferenceDataSource
) -> None:
    start_listening(data_source)
    await subscribed(exchange)
    with pytest.raises(RuntimeError, match="already streaming; a second listener would open a second socket"):
        await data_source.listen_for_user_stream(asyncio.Queue())
    assert len(exchange.connections) == 1


async def test_an_unexpected_error_in_connector_code_is_logged_and_retried(
    exchange: FakeExchange, auth: ReferenceAuth, caplog: pytest.LogCaptureFixture
) -> None:
    class Buggy(ReferenceDataSource):
        calls = 0

        def subscribe_messages(self) -> list[Any]:
            Buggy.calls += 1
            if Buggy.calls == 1:
                raise ZeroDivisionError("bug in subscribe_messages")
            return list(super().subscribe_messages())

    data_source = Buggy(
        auth, ws_url="memory://", websocket_factory=exchange.connect_in_memory, reconnect=FAST_RECONNECT
    )
    with caplog.at_level(logging.ERROR, logger="userstream"):
        start_listening(data_source)
        await subscribed(exchange)
    assert "unexpected error in the user stream: ZeroDivisionError: bug in subscribe_messages" in caplog.text
    # The traceback is kept for the developer, formatted into the line so that it is redacted like the rest.
    assert "Traceback (most recent call last)" in caplog.records[0].getMessage()
    await data_source.stop()


def test_classify_is_a_pure_function_of_the_message(auth: ReferenceAuth) -> None:
    data_source = ReferenceDataSource(auth, ws_url="memory://")
    assert data_source.classify({"event": "login", "code": 0}) is FrameKind.AUTH_OK
    assert data_source.classify({"event": "error", "code": 401, "msg": "x"}) is FrameKind.AUTH_REJECTED
    assert data_source.classify({"channel": "orders", "data": {}}) is FrameKind.USER_MESSAGE
    assert data_source.classify({"op": "pong"}) is FrameKind.CONTROL


async def test_a_connector_needing_only_a_url_streams_with_the_defaults(exchange: FakeExchange) -> None:
    class UrlOnly(UserStreamTrackerDataSource):
        """Like a listen-key stream: the URL is the credential; no login, no subscribe, protocol pings."""

        def classify(self, message: Any) -> FrameKind:
            return FrameKind.USER_MESSAGE if "e" in message else FrameKind.CONTROL

    data_source = UrlOnly(ws_url="memory://", websocket_factory=exchange.connect_in_memory, timings=FAST_TIMINGS)
    output = start_listening(data_source)
    await exchange.wait_until(lambda: exchange.open_connections == 1, what="a connection")
    await exchange.push({"e": "executionReport", "i": 1})
    assert await next_message(output) == {"e": "executionReport", "i": 1}
    assert data_source.status.state is StreamState.STREAMING
    assert exchange.received == []  # it sent nothing but protocol pings
    await data_source.stop()


async def test_an_in_memory_drop_is_recovered_like_a_tcp_reset(
    exchange: FakeExchange, data_source: ReferenceDataSource
) -> None:
    output = start_listening(data_source)
    await subscribed(exchange)
    await exchange.drop_connections()
    await subscribed(exchange, connections=2)
    assert data_source.status.last_error == "ConnectionLost: connection closed by the exchange (code 1006)"
    await exchange.push_event("orders", {"order_id": "5"})
    assert (await next_message(output))["data"] == {"order_id": "5"}


def test_urls_default_to_the_class_constants_and_a_missing_one_is_named() -> None:
    class Defaults(ReferenceDataSource):
        WS_URL = "wss://ws.example/private"
        REST_URL = "https://api.example"

    defaults = Defaults(None)
    assert (defaults.ws_url, defaults.rest_url) == ("wss://ws.example/private", "https://api.example")
    overridden = Defaults(None, ws_url="ws://127.0.0.1:1/ws", rest_url="http://127.0.0.1:1")
    assert (overridden.ws_url, overridden.rest_url) == ("ws://127.0.0.1:1/ws", "http://127.0.0.1:1")
    with pytest.raises(TypeError, match="needs ws_url="):
        ReferenceDataSource(None)
