"""The loop's archetype support: signed REST with clock-skew retry, per-connection jobs, credential discarding."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from reference_connector import DataSourceFactory, ReferenceAuth, ReferenceDataSource
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, client_tasks, eventually, start_listening

from userstream import RestError
from userstream.data_source import ConnectionJob
from userstream.testing import Credentials, FakeExchange, RestRequest, RestResponse


class SigningAuth(ReferenceAuth):
    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        timestamp = str(self.timestamp_ms())
        return {
            "X-KEY": self.api_key,
            "X-TS": timestamp,
            "X-SIGN": self.hmac_sha256_hex(timestamp + method + path + body),
        }


class ClockAware(ReferenceDataSource):
    SERVER_TIME_PATH = "/time"

    def is_clock_skew(self, reply: Any) -> bool:
        return isinstance(reply, dict) and reply.get("msg") in {"timestamp outside the recv window", "bad timestamp"}


def verify(request: RestRequest, exchange: FakeExchange) -> RestResponse | None:
    """The fake's check of SigningAuth's headers: signature first, then a 5 s timestamp window."""
    import hashlib
    import hmac

    ts = request.headers.get("X-TS", "0")
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    expected = hmac.new(
        exchange.credentials.secret.encode(), (ts + request.method + path + request.body).encode(), hashlib.sha256
    )
    if not hmac.compare_digest(expected.hexdigest(), request.headers.get("X-SIGN", "")):
        return RestResponse({"msg": "bad signature"}, status=401)
    if abs(int(ts) / 1000 - exchange.now()) > 5:
        return RestResponse({"msg": "bad timestamp"}, status=400)
    return None


async def test_a_signed_rest_call_sends_the_auth_headers_and_returns_the_reply(fake_exchange: FakeExchange) -> None:
    fake_exchange.route("POST", "/token", lambda request: verify(request, fake_exchange) or {"token": "t-1"})
    data_source = ClockAware(SigningAuth("test-api-key", "test-secret"), ws_url="", rest_url=fake_exchange.rest_url)
    try:
        assert await data_source.rest_request("POST", "/token", body={"a": 1}, signed=True) == {"token": "t-1"}
        request = fake_exchange.rest_requests[-1]
        assert request.headers["X-KEY"] == "test-api-key"
        assert request.headers["Content-Type"] == "application/json"
        assert request.body == '{"a":1}'
    finally:
        await data_source.stop()


async def test_an_error_status_raises_rest_error_with_the_exchange_reply(fake_exchange: FakeExchange) -> None:
    fake_exchange.route("GET", "/busy", lambda request: RestResponse({"code": -1003, "msg": "Too many requests"}, 429))
    data_source = ClockAware(None, ws_url="", rest_url=fake_exchange.rest_url)
    try:
        with pytest.raises(RestError, match=r"GET /busy rate limited \(HTTP 429, no Retry-After\)") as raised:
            await data_source.rest_request("GET", "/busy", params={"symbol": "BTCUSDT"})
        assert raised.value.body == {"code": -1003, "msg": "Too many requests"}
        assert fake_exchange.rest_requests[-1].query == {"symbol": "BTCUSDT"}
    finally:
        await data_source.stop()


async def test_clock_skew_is_measured_and_the_call_retried_once_with_a_fresh_signature() -> None:
    async with FakeExchange(credentials=Credentials(), clock_skew=42.0) as exchange:
        exchange.route("POST", "/token", lambda request: verify(request, exchange) or {"token": "t-1"})
        auth = SigningAuth("test-api-key", "test-secret")
        data_source = ClockAware(auth, ws_url="", rest_url=exchange.rest_url)
        try:
            assert await data_source.rest_request("POST", "/token", signed=True) == {"token": "t-1"}
            assert [(r.method, r.path) for r in exchange.rest_requests] == [
                ("POST", "/token"),
                ("GET", "/time"),
                ("POST", "/token"),
            ]
            assert auth.time_offset == pytest.approx(42.0, abs=0.5)
            first, _, retry = exchange.rest_requests
            assert first.headers["X-SIGN"] != retry.headers["X-SIGN"]
        finally:
            await data_source.stop()


async def test_only_one_retry_when_the_clock_still_disagrees() -> None:
    async with FakeExchange(clock_skew=42.0) as exchange:
        exchange.route("POST", "/token", lambda request: RestResponse({"msg": "bad timestamp"}, 400))
        data_source = ClockAware(SigningAuth("k", "s"), ws_url="", rest_url=exchange.rest_url)
        try:
            with pytest.raises(RestError, match="HTTP 400"):
                await data_source.rest_request("POST", "/token", signed=True)
            assert [r.path for r in exchange.rest_requests] == ["/token", "/time", "/token"]
        finally:
            await data_source.stop()


async def test_a_login_refused_for_its_timestamp_resyncs_the_clock_before_the_retry(credentials: Credentials) -> None:
    async with FakeExchange(credentials=credentials, clock_skew=-30.0) as exchange:
        auth = ReferenceAuth(credentials.api_key, credentials.secret)
        data_source = ClockAware(
            auth, ws_url=exchange.ws_url, rest_url=exchange.rest_url, timings=FAST_TIMINGS, reconnect=FAST_RECONNECT
        )
        try:
            start_listening(data_source)
            await exchange.wait_for_subscribed()
            assert data_source.status.reconnect_count == 1
            assert data_source.status.last_error == "AuthenticationError: timestamp outside the recv window (code 401)"
            assert auth.time_offset == pytest.approx(-30.0, abs=0.5)
        finally:
            await data_source.stop()


async def test_rest_needs_a_rest_url_and_signing_needs_an_auth() -> None:
    with pytest.raises(RuntimeError, match="was given no rest_url"):
        await ClockAware(None, ws_url="").rest_request("GET", "/x")
    data_source = ClockAware(None, ws_url="", rest_url="http://127.0.0.1:9")
    with pytest.raises(RuntimeError, match="needs a MarketAuth to sign GET /x"):
        await data_source.rest_request("GET", "/x", signed=True)
    with pytest.raises(RuntimeError, match="has no auth or SERVER_TIME_PATH"):
        await data_source.sync_server_time()
    await data_source.stop()


class WithJob(ReferenceDataSource):
    """A connector with a keepalive-like job; the job fails on demand."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.beats = 0
        self.fail_next = False
        self.discarded = 0
        self.jobs_running = 0

    def connection_jobs(self) -> Sequence[ConnectionJob]:
        return [self._heartbeat]

    async def _heartbeat(self) -> None:
        self.jobs_running += 1
        try:
            while True:
                await asyncio.sleep(0.05)
                if self.fail_next:
                    self.fail_next = False
                    raise RestError("PUT", "/listenKey", 400, {"code": -1125, "msg": "This listenKey does not exist."})
                self.beats += 1
        finally:
            self.jobs_running -= 1

    def discard_credentials(self) -> None:
        self.discarded += 1


async def test_a_connection_job_runs_beside_the_connection_and_ends_with_it(
    fake_exchange: FakeExchange, auth: ReferenceAuth
) -> None:
    baseline = client_tasks()
    data_source = WithJob(auth, ws_url=fake_exchange.ws_url, timings=FAST_TIMINGS, reconnect=FAST_RECONNECT)
    start_listening(data_source)
    await fake_exchange.wait_for_subscribed()
    await eventually(lambda: data_source.beats >= 3, "three job beats")
    assert data_source.jobs_running == 1
    await fake_exchange.drop_connections()
    await fake_exchange.wait_for_subscribed(connections=2)
    assert data_source.jobs_running == 1  # the first connection's job ended with it: never two
    await data_source.stop()
    assert data_source.jobs_running == 0
    assert client_tasks() - baseline == set()


async def test_a_failing_job_ends_the_connection_with_its_error(
    fake_exchange: FakeExchange, auth: ReferenceAuth, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = WithJob(auth, ws_url=fake_exchange.ws_url, timings=FAST_TIMINGS, reconnect=FAST_RECONNECT)
    with caplog.at_level(logging.WARNING, logger="userstream"):
        start_listening(data_source)
        await fake_exchange.wait_for_subscribed()
        data_source.fail_next = True
        await fake_exchange.wait_for_subscribed(connections=2)
    assert data_source.status.last_error is not None
    assert data_source.status.last_error.startswith("RestError: PUT /listenKey failed with HTTP 400")
    assert fake_exchange.connections[0].client_close_code == 1000  # closed cleanly, then replaced
    await data_source.stop()


async def test_credentials_are_discarded_when_the_exchange_rejects_or_ends_the_stream(
    fake_exchange: FakeExchange, auth: ReferenceAuth
) -> None:
    data_source = WithJob(auth, ws_url=fake_exchange.ws_url, timings=FAST_TIMINGS, reconnect=FAST_RECONNECT)
    fake_exchange.reject_next_login()
    start_listening(data_source)
    await fake_exchange.wait_for_subscribed()
    assert data_source.discarded == 1
    await fake_exchange.push({"event": "stream_expired", "msg": "listen key expired", "code": 0})
    await fake_exchange.wait_for_subscribed(connections=2)
    assert data_source.discarded == 2
    await fake_exchange.drop_connections()  # a network fault says nothing about the credentials
    await fake_exchange.wait_for_subscribed(connections=3)
    assert data_source.discarded == 2
    await data_source.stop()


async def test_make_data_source_fixture_still_builds_plain_connectors(make_data_source: DataSourceFactory) -> None:
    assert isinstance(make_data_source(), ReferenceDataSource)


async def test_concurrent_clock_measurements_share_one_request(fake_exchange: FakeExchange) -> None:
    data_source = ClockAware(SigningAuth("k", "s"), ws_url="", rest_url=fake_exchange.rest_url)
    try:
        offsets = await asyncio.gather(*(data_source.sync_server_time() for _ in range(5)))
        assert len(set(offsets)) == 1
        assert [r.path for r in fake_exchange.rest_requests] == ["/time"]
        await data_source.sync_server_time()  # nothing is cached: a later rejection measures again
        assert [r.path for r in fake_exchange.rest_requests] == ["/time", "/time"]
    finally:
        await data_source.stop()


async def test_a_failing_time_endpoint_does_not_hide_the_exchanges_rejection(
    credentials: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeExchange(credentials=credentials, clock_skew=-30.0) as exchange:
        exchange.route("GET", "/time", lambda request: RestResponse({"msg": "maintenance"}, 503))
        data_source = ClockAware(
            ReferenceAuth(credentials.api_key, credentials.secret),
            ws_url=exchange.ws_url,
            rest_url=exchange.rest_url,
            timings=FAST_TIMINGS,
            reconnect=FAST_RECONNECT,
        )
        with caplog.at_level(logging.WARNING, logger="userstream"):
            start_listening(data_source)
            await eventually(lambda: data_source.status.reconnect_count >= 2, "two retries")
            await data_source.stop()
    assert data_source.status.last_error == "AuthenticationError: timestamp outside the recv window (code 401)"
    assert "could not measure the exchange's clock: GET /time failed with HTTP 503" in caplog.text


def test_configure_runs_at_construction_so_a_misconfigured_connector_fails_once() -> None:
    class NoChannels(ReferenceDataSource):
        channels = ()

        def configure(self) -> None:
            if not self.channels:
                raise TypeError(f"{type(self).__name__} names no channels")
            self.configured = True

    with pytest.raises(TypeError, match="NoChannels names no channels"):
        NoChannels(None, ws_url="memory://")

    class Fine(NoChannels):
        channels = ("orders",)

    assert Fine(None, ws_url="memory://").configured
