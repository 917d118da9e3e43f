"""The fake exchange is itself tested: a fake that accepts anything would make every other test worthless."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
from reference_connector import ReferenceAuth

from userstream.testing import ClientIntent, Credentials, FakeExchange, ReferenceDialect, RestResponse

NOW = 1_700_000_000.0


def login(auth: ReferenceAuth) -> dict[str, object]:
    return auth.ws_login_payload()


@pytest.fixture
def dialect() -> ReferenceDialect:
    return ReferenceDialect()


def test_the_reference_dialect_accepts_a_correct_login(dialect: ReferenceDialect, credentials: Credentials) -> None:
    auth = ReferenceAuth(credentials.api_key, credentials.secret, clock=lambda: NOW)
    assert dialect.check_login(login(auth), credentials, server_time=NOW) is None


@pytest.mark.parametrize(
    ("api_key", "secret", "clock_offset", "reason"),
    [
        ("other-key", "test-secret", 0.0, "invalid api key"),
        ("test-api-key", "wrong-secret", 0.0, "invalid signature"),
        ("test-api-key", "test-secret", -6.0, "timestamp outside the recv window"),
        ("test-api-key", "test-secret", +6.0, "timestamp outside the recv window"),
    ],
)
def test_the_reference_dialect_refuses_bad_logins(
    dialect: ReferenceDialect,
    credentials: Credentials,
    api_key: str,
    secret: str,
    clock_offset: float,
    reason: str,
) -> None:
    auth = ReferenceAuth(api_key, secret, clock=lambda: NOW + clock_offset)
    assert dialect.check_login(login(auth), credentials, server_time=NOW) == reason


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"op": "login", "args": ["positional"]}, "login args must be an object"),
        ({"op": "login", "args": {"api_key": "test-api-key", "timestamp": "now"}}, "timestamp must be an integer"),
    ],
)
def test_the_reference_dialect_refuses_malformed_logins(
    dialect: ReferenceDialect, credentials: Credentials, message: dict[str, object], reason: str
) -> None:
    assert (dialect.check_login(message, credentials, server_time=NOW) or "").startswith(reason)


def test_client_messages_are_classified(dialect: ReferenceDialect) -> None:
    assert dialect.classify_client({"op": "ping"}) is ClientIntent.PING
    assert dialect.classify_client({"op": "subscribe", "channel": "orders"}) is ClientIntent.SUBSCRIBE
    assert dialect.classify_client({"op": ["login"]}) is ClientIntent.OTHER
    assert dialect.classify_client("ping") is ClientIntent.OTHER
    assert dialect.parse("not json") == "not json"


async def test_subscribing_before_logging_in_is_refused(fake_exchange: FakeExchange) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake_exchange.ws_url) as ws:
        await ws.send_json({"op": "subscribe", "channel": "orders"})
        assert await ws.receive_json(timeout=2) == {"event": "error", "code": 403, "msg": "login required"}
        await ws.send_json({"op": "ping"})
        assert await ws.receive_json(timeout=2) == {"op": "pong"}
    await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 0, what="the socket to close")
    assert [message for _, message in fake_exchange.received] == [
        {"op": "subscribe", "channel": "orders"},
        {"op": "ping"},
    ]


async def test_a_silent_connection_answers_nothing_not_even_protocol_pings(fake_exchange: FakeExchange) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake_exchange.ws_url, autoping=False) as ws:
        await fake_exchange.wait_until(lambda: fake_exchange.open_connections == 1, what="the connection")
        fake_exchange.go_silent()
        await ws.ping()
        await ws.send_json({"op": "ping"})
        assert await fake_exchange.push_heartbeat() == 0
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=0.3)
        assert fake_exchange.open_connections == 1  # half-open: still there, saying nothing


async def test_rest_routes_record_requests_and_serve_the_exchange_clock(credentials: Credentials) -> None:
    async with FakeExchange(credentials=credentials, clock_skew=12.5) as exchange:
        exchange.route("POST", "/api/v3/userDataStream", lambda request: {"listenKey": "abc"})
        exchange.route("GET", "/fail", lambda request: RestResponse({"msg": "busy"}, status=503))
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{exchange.rest_url}/time") as response:
                server_ms = (await response.json())["serverTime"]
            assert server_ms / 1000 - time.time() == pytest.approx(12.5, abs=1.0)
            async with session.post(f"{exchange.rest_url}/api/v3/userDataStream", headers={"X-MBX-APIKEY": "k"}) as r:
                assert await r.json() == {"listenKey": "abc"}
            async with session.get(f"{exchange.rest_url}/fail") as r:
                assert r.status == 503
            async with session.get(f"{exchange.rest_url}/nowhere?x=1") as r:
                assert (r.status, await r.json()) == (404, {"error": "no route GET /nowhere"})
        assert [(r.method, r.path) for r in exchange.rest_requests] == [
            ("GET", "/time"),
            ("POST", "/api/v3/userDataStream"),
            ("GET", "/fail"),
            ("GET", "/nowhere"),
        ]
        assert exchange.rest_requests[1].headers["X-MBX-APIKEY"] == "k"
        assert exchange.rest_requests[3].query == {"x": "1"}


async def test_a_measured_clock_offset_turns_a_refused_login_into_an_accepted_one(credentials: Credentials) -> None:
    async with FakeExchange(credentials=credentials, clock_skew=30.0) as exchange:
        auth = ReferenceAuth(credentials.api_key, credentials.secret)
        async with aiohttp.ClientSession() as session, session.ws_connect(exchange.ws_url) as ws:
            await ws.send_str(json.dumps(auth.ws_login_payload()))
            reply = await ws.receive_json(timeout=2)
            assert reply["msg"] == "timestamp outside the recv window"

            sent_at = time.time()
            async with session.get(f"{exchange.rest_url}/time") as response:
                server_time = (await response.json())["serverTime"] / 1000
            auth.record_server_time(server_time, sent_at=sent_at, received_at=time.time())
            await ws.send_str(json.dumps(auth.ws_login_payload()))
            assert await ws.receive_json(timeout=2) == {"event": "login", "code": 0}


async def test_wait_until_names_what_did_not_happen(fake_exchange: FakeExchange) -> None:
    with pytest.raises(TimeoutError, match=r"fake exchange: 3 subscribed connection\(s\) did not happen within 0\.1 s"):
        await fake_exchange.wait_for_subscribed(connections=3, timeout=0.1)


def test_urls_need_a_running_exchange() -> None:
    with pytest.raises(RuntimeError, match="the fake exchange is not running"):
        _ = FakeExchange().ws_url


def test_credentials_hide_the_secret() -> None:
    assert "hunter2" not in repr(Credentials(secret="hunter2", passphrase="hunter3"))
    assert "hunter3" not in repr(Credentials(secret="hunter2", passphrase="hunter3"))


async def test_a_time_endpoint_answers_in_the_exchanges_shape_counts_and_fails_on_demand() -> None:
    async with FakeExchange(clock_skew=5.0) as exchange:
        endpoint = exchange.serve_time(
            "/api/v5/public/time",
            reply=lambda now: {"data": [{"ts": str(int(now * 1000))}]},
            error=lambda now: {"code": "50001"},
        )
        endpoint.fail_next(502)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{exchange.rest_url}/api/v5/public/time") as response:
                assert (response.status, await response.json()) == (502, {"code": "50001"})
            async with session.get(f"{exchange.rest_url}/api/v5/public/time") as response:
                server_ms = int((await response.json())["data"][0]["ts"])
        assert server_ms / 1000 - time.time() == pytest.approx(5.0, abs=1.0)
        assert endpoint.requests == 2
