"""The REST-token block against fake KuCoin and Kraken exchanges on 127.0.0.1, speaking their real shapes."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from kraken.kraken_api_user_stream_data_source import KrakenAPIUserStreamDataSource
from kraken.kraken_auth import KrakenAuth
from kucoin.kucoin_api_user_stream_data_source import KucoinAPIUserStreamDataSource
from kucoin.kucoin_auth import KucoinAuth
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, client_tasks, eventually, next_message, start_listening

from userstream import AuthenticationError, StreamState, StreamTimings, UserStreamTrackerDataSource
from userstream.archetypes.rest_token import TokenGrant
from userstream.testing import ClientIntent, Credentials, FakeExchange, RestRequest, RestResponse
from userstream.testing.dialects import kraken, kucoin

KUCOIN_CREDENTIALS = Credentials(api_key="kucoin-api-key", secret="kucoin-secret", passphrase="kucoin-passphrase")
KRAKEN_CREDENTIALS = Credentials(
    api_key="kraken-api-key", secret=base64.b64encode(b"kraken private key, 64 bytes once decoded..").decode()
)
# KuCoin's token reply names the endpoint to connect to; a data source that used ws_url instead would fail here.
UNUSED_WS_URL = "ws://127.0.0.1:9/not-the-endpoint-kucoin-assigned"


class Venue(NamedTuple):
    exchange: FakeExchange
    state: Any


@pytest.fixture
async def kucoin_venue() -> AsyncIterator[Venue]:
    async with FakeExchange(kucoin.KucoinDialect(), KUCOIN_CREDENTIALS) as exchange:
        yield Venue(exchange, kucoin.install(exchange))


@pytest.fixture
async def kraken_venue() -> AsyncIterator[Venue]:
    async with FakeExchange(kraken.KrakenDialect(), KRAKEN_CREDENTIALS) as exchange:
        yield Venue(exchange, kraken.install(exchange))


@pytest.fixture
async def created() -> AsyncIterator[list[UserStreamTrackerDataSource]]:
    """Data sources made by a test, all stopped after it (before the fake exchange closes)."""
    sources: list[UserStreamTrackerDataSource] = []
    yield sources
    for data_source in sources:
        await data_source.stop()


def _options(exchange: FakeExchange, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "rest_url": exchange.rest_url,
        "timings": FAST_TIMINGS,
        "reconnect": FAST_RECONNECT,
        "rng": random.Random(7),
    }
    options.update(overrides)
    return options


@pytest.fixture
def make_kucoin(created: list[UserStreamTrackerDataSource]) -> Callable[..., KucoinAPIUserStreamDataSource]:
    def make(exchange: FakeExchange, auth: KucoinAuth | None = None, **overrides: Any) -> KucoinAPIUserStreamDataSource:
        credentials = KUCOIN_CREDENTIALS
        auth = auth or KucoinAuth(credentials.api_key, credentials.secret, credentials.passphrase)
        data_source = KucoinAPIUserStreamDataSource(auth, **_options(exchange, ws_url=UNUSED_WS_URL, **overrides))
        created.append(data_source)
        return data_source

    return make


@pytest.fixture
def make_kraken(created: list[UserStreamTrackerDataSource]) -> Callable[..., KrakenAPIUserStreamDataSource]:
    def make(exchange: FakeExchange, auth: KrakenAuth | None = None, **overrides: Any) -> KrakenAPIUserStreamDataSource:
        auth = auth or KrakenAuth(KRAKEN_CREDENTIALS.api_key, KRAKEN_CREDENTIALS.secret)
        data_source = KrakenAPIUserStreamDataSource(
            auth, **_options(exchange, ws_url=kraken.private_url(exchange), **overrides)
        )
        created.append(data_source)
        return data_source

    return make


async def streaming(exchange: FakeExchange, connections: int = 1) -> None:
    """Wait until ``connections`` connections have subscribed to both private topics and the latest is open."""

    def reached() -> bool:
        done = [c for c in exchange.connections if len(c.subscriptions) == 2]
        return len(done) >= connections and done[-1].open

    await exchange.wait_until(reached, what=f"{connections} fully subscribed connection(s)")


def token_calls(exchange: FakeExchange, path: str) -> list[RestRequest]:
    return [request for request in exchange.rest_requests if request.path == path]


def url_token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def subscribe_tokens(exchange: FakeExchange, connection_index: int) -> list[str]:
    connection = exchange.connections[connection_index]
    return [m["params"]["token"] for m in connection.received if m.get("method") == "subscribe"]


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]


def delay_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconnecting in")]


# --- the grant -----------------------------------------------------------------------------------------


def test_a_token_grant_never_shows_its_token() -> None:
    grant = TokenGrant("secret-token-value", endpoint="wss://ws-api-spot.kucoin.com/", ping_interval=18.0)
    assert "secret-token-value" not in repr(grant)
    assert "wss://ws-api-spot.kucoin.com/" in repr(grant)


# --- KuCoin ------------------------------------------------------------------------------------------------


async def test_kucoin_streams_orders_fills_and_balances_from_the_endpoint_its_token_names(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, state = kucoin_venue
    data_source = make_kucoin(exchange)
    output = start_listening(data_source)
    await streaming(exchange)

    connection = exchange.connections[0]
    assert connection.query["token"] == state.issued[0]
    assert connection.query["connectId"]
    assert [m["topic"] for m in connection.subscriptions] == [kucoin.ORDER_TOPIC, kucoin.BALANCE_TOPIC]
    assert all(m["privateChannel"] is True and m["response"] is True for m in connection.subscriptions)
    [call] = token_calls(exchange, kucoin.BULLET_PRIVATE_PATH)
    assert (call.method, call.headers["KC-API-KEY-VERSION"]) == ("POST", "2")  # signature checked by the fake

    events = [
        kucoin.order_change("order-1", kind="open", status="open"),
        kucoin.order_fill("order-1", "trade-1", match_price="30000", match_size="0.1"),
        kucoin.balance_change("USDT", total="970", available="970", available_change="-30", order_id="order-1"),
    ]
    for event in events:
        await exchange.push(event)
    assert [await next_message(output) for _ in events] == events
    assert data_source.status.reconnect_count == 0


class KucoinAuthSigningTheWrongPayload(KucoinAuth):
    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        headers = dict(super().rest_auth_headers(method, path, body))
        headers["KC-API-SIGN"] = self.hmac_sha256_base64(headers["KC-API-TIMESTAMP"] + path)  # method left out
        return headers


@pytest.mark.parametrize(
    ("make_auth", "exchange_says"),
    [
        (lambda: KucoinAuth("not-my-key", "kucoin-secret", "kucoin-passphrase"), "KC-API-KEY not exists (code 400003)"),
        (
            lambda: KucoinAuth("kucoin-api-key", "kucoin-secret", "wrong-passphrase"),
            "Invalid KC-API-PASSPHRASE (code 400004)",
        ),
        (
            lambda: KucoinAuthSigningTheWrongPayload("kucoin-api-key", "kucoin-secret", "kucoin-passphrase"),
            "Invalid KC-API-SIGN (code 400005)",
        ),
    ],
    ids=["unknown-key", "wrong-passphrase", "bad-signature"],
)
async def test_kucoin_refused_credentials_are_reported_in_kucoins_words_and_retried_with_backoff(
    kucoin_venue: Venue,
    make_kucoin: Callable[..., KucoinAPIUserStreamDataSource],
    caplog: pytest.LogCaptureFixture,
    make_auth: Callable[[], KucoinAuth],
    exchange_says: str,
) -> None:
    exchange, state = kucoin_venue
    data_source = make_kucoin(exchange, auth=make_auth())
    with caplog.at_level(logging.INFO, logger="userstream"):
        output = start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 3, "three refused attempts")

    assert data_source.status.last_error == f"AuthenticationError: {exchange_says}"
    assert error_lines(caplog)[:3] == [f"authentication rejected by the exchange: {exchange_says}"] * 3
    assert delay_lines(caplog)[:3] == [
        "reconnecting in 0.05 s (attempt 1)",
        "reconnecting in 0.10 s (attempt 2)",
        "reconnecting in 0.20 s (attempt 3)",
    ]
    assert exchange.connections == []  # without a token there is nothing to connect with
    assert state.issued == []
    assert "kucoin-secret" not in repr(data_source.status)
    assert output.empty()
    assert data_source.status.state in (StreamState.BACKING_OFF, StreamState.CONNECTING)  # still trying, not crashed


async def test_kucoin_recovers_once_the_token_call_succeeds_and_a_server_error_is_not_an_auth_error(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource], caplog: pytest.LogCaptureFixture
) -> None:
    exchange, state = kucoin_venue
    state.fail_next(kucoin.KEY_NOT_EXISTS)
    state.fail_next(kucoin.INTERNAL_ERROR)
    data_source = make_kucoin(exchange)
    with caplog.at_level(logging.INFO, logger="userstream"):
        output = start_listening(data_source)
        await streaming(exchange)
    assert error_lines(caplog) == ["authentication rejected by the exchange: KC-API-KEY not exists (code 400003)"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("failed with HTTP 500" in line and "Internal Server Error" in line for line in warnings), warnings
    assert len(token_calls(exchange, kucoin.BULLET_PRIVATE_PATH)) == 3
    assert data_source.status.reconnect_count == 2
    await exchange.push(kucoin.order_change("after-recovery"))
    assert (await next_message(output))["data"]["orderId"] == "after-recovery"


async def test_kucoin_token_expired_mid_stream_is_replaced_by_a_fresh_one(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, state = kucoin_venue
    data_source = make_kucoin(exchange)
    output = start_listening(data_source)
    await streaming(exchange)
    first = exchange.connections[0].query["token"]

    state.revoke(first)
    await exchange.push(kucoin.error_frame(401, "token is expired"))
    await streaming(exchange, connections=2)

    second = exchange.connections[1].query["token"]
    assert second != first
    assert (state.is_valid(first), state.is_valid(second)) == (False, True)
    assert data_source.status.last_error == "ServerRequestedReconnect: token is expired (code 401)"
    assert exchange.connections[0].client_close_code == 1000  # the client closed the old socket, not abandoned it
    await exchange.push(kucoin.order_change("after-expiry"))
    assert (await next_message(output))["data"]["orderId"] == "after-expiry"


async def test_kucoin_errors_quoting_the_token_or_the_signed_headers_reveal_neither(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource], caplog: pytest.LogCaptureFixture
) -> None:
    exchange, _ = kucoin_venue
    refusals: list[RestRequest] = []

    def refuse_quoting_the_headers(request: RestRequest) -> RestResponse:
        refusals.append(request)
        return RestResponse({"code": "400005", "msg": f"Invalid KC-API-SIGN: {dict(request.headers)}"}, 401)

    data_source = make_kucoin(exchange)
    with caplog.at_level(logging.DEBUG, logger="userstream"):
        start_listening(data_source)
        await streaming(exchange)
        token = exchange.connections[0].query["token"]
        await exchange.push(kucoin.error_frame(401, f"token {token} is expired"))
        await streaming(exchange, connections=2)
        assert data_source.status.last_error == "ServerRequestedReconnect: token *** is expired (code 401)"

        exchange.route("POST", kucoin.BULLET_PRIVATE_PATH, refuse_quoting_the_headers)
        await exchange.push(kucoin.error_frame(401, "token is expired"))
        await eventually(lambda: len(refusals) >= 2, "two refused token calls")

    last_error = data_source.status.last_error
    assert last_error is not None
    assert last_error.startswith("AuthenticationError: Invalid KC-API-SIGN:")
    secrets = [
        token,
        KUCOIN_CREDENTIALS.secret,
        *(request.headers[header] for request in refusals for header in ("KC-API-SIGN", "KC-API-PASSPHRASE")),
    ]
    for secret in secrets:
        assert secret not in last_error
        assert secret not in caplog.text


async def test_kucoin_token_refused_at_connect_is_fetched_again(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, state = kucoin_venue
    state.expire_on_issue = 1  # the first token is dead on arrival: the upgrade is refused with HTTP 401
    data_source = make_kucoin(exchange)
    start_listening(data_source)
    await streaming(exchange)

    assert [(query["token"], reason) for _, query, reason in exchange.refused_connections] == [
        (state.issued[0], kucoin.TOKEN_INVALID)
    ]
    assert exchange.connections[0].query["token"] == state.issued[1]
    assert data_source.tokens_minted == 2
    assert data_source.status.last_error is not None
    assert "401" in data_source.status.last_error


async def test_kucoin_every_reconnect_mints_a_fresh_token(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, state = kucoin_venue
    data_source = make_kucoin(exchange)
    start_listening(data_source)
    await streaming(exchange)
    await exchange.drop_connections()
    await streaming(exchange, connections=2)
    await exchange.close_connections(code=1001)
    await streaming(exchange, connections=3)

    tokens = [c.query["token"] for c in exchange.connections]
    assert tokens == state.issued
    assert len(set(tokens)) == 3
    assert len({c.query["connectId"] for c in exchange.connections}) == 3
    assert data_source.tokens_minted == 3


async def test_kucoin_ping_interval_from_the_token_reply_is_honoured(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, state = kucoin_venue
    state.ping_interval_ms = 100
    # Our own default would ping every 5 s: any ping seen below comes from KuCoin's interval.
    slow_pings = StreamTimings(connect_timeout=2.0, handshake_timeout=2.0, ping_interval=5.0, stale_after=15.0)
    data_source = make_kucoin(exchange, timings=slow_pings)
    start_listening(data_source)
    await streaming(exchange)
    assert data_source.token_grant is not None
    assert data_source.token_grant.ping_interval == pytest.approx(0.1)

    loop = asyncio.get_running_loop()
    started = loop.time()
    await exchange.wait_until(lambda: len(exchange.messages(ClientIntent.PING)) >= 5, timeout=2.0, what="5 pings")
    elapsed = loop.time() - started
    assert elapsed < 1.5  # five pings at 100 ms; at our own 5 s interval there would be none yet
    pings = exchange.messages(ClientIntent.PING)
    assert all(ping["type"] == "ping" and ping["id"] for ping in pings)
    assert len({ping["id"] for ping in pings}) == len(pings)
    assert (data_source.status.reconnect_count, len(exchange.connections)) == (0, 1)


async def test_kucoin_concurrent_connection_targets_mint_one_token(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, state = kucoin_venue
    data_source = make_kucoin(exchange)

    targets = await asyncio.gather(*(data_source.connection_target() for _ in range(5)))
    assert {url_token(target.url) for target in targets} == {state.issued[0]}
    assert len(token_calls(exchange, kucoin.BULLET_PRIVATE_PATH)) == 1
    assert all(target.ping_interval == pytest.approx(18.0) for target in targets)
    assert all(target.url.startswith(exchange.ws_url + "?") for target in targets)

    later = await data_source.connection_target()  # a later connection is not a concurrent one: its own token
    assert url_token(later.url) == state.issued[1]

    state.fail_next(kucoin.KEY_NOT_EXISTS)
    failures = await asyncio.gather(*(data_source.connection_target() for _ in range(3)), return_exceptions=True)
    assert all(isinstance(failure, AuthenticationError) for failure in failures)
    assert len(token_calls(exchange, kucoin.BULLET_PRIVATE_PATH)) == 3  # one call shared by the three failures
    assert data_source.tokens_minted == 3


async def test_kucoin_clock_skew_on_the_token_call_is_measured_and_the_call_re_signed(
    make_kucoin: Callable[..., KucoinAPIUserStreamDataSource], created: list[UserStreamTrackerDataSource]
) -> None:
    async with FakeExchange(kucoin.KucoinDialect(), KUCOIN_CREDENTIALS, clock_skew=30.0) as exchange:
        kucoin.install(exchange)
        data_source = make_kucoin(exchange)
        start_listening(data_source)
        await streaming(exchange)
        assert [request.path for request in exchange.rest_requests] == [
            kucoin.BULLET_PRIVATE_PATH,  # refused: 400002 Invalid KC-API-TIMESTAMP
            kucoin.SERVER_TIME_PATH,
            kucoin.BULLET_PRIVATE_PATH,  # re-signed with the measured offset
        ]
        assert data_source.auth is not None
        assert data_source.auth.time_offset == pytest.approx(30.0, abs=0.5)
        assert (data_source.status.reconnect_count, data_source.tokens_minted) == (0, 1)
        await data_source.stop()


async def test_kucoin_stop_leaves_no_task_no_socket_and_no_token(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, _ = kucoin_venue
    data_source = make_kucoin(exchange)
    start_listening(data_source)
    await streaming(exchange)
    assert data_source.token_grant is not None

    await data_source.stop()
    assert client_tasks() == set()
    assert exchange.open_connections == 0
    assert [c.client_close_code for c in exchange.connections] == [1000]
    assert data_source.token_grant is None
    with pytest.raises(RuntimeError, match="no token"):
        _ = data_source.token
    assert data_source.status.state is StreamState.STOPPED


async def test_kucoin_stop_during_a_token_call_cancels_it(
    kucoin_venue: Venue, make_kucoin: Callable[..., KucoinAPIUserStreamDataSource]
) -> None:
    exchange, _ = kucoin_venue
    release = asyncio.Event()

    async def stalled(request: RestRequest) -> RestResponse:
        await release.wait()
        return RestResponse({"code": "500000", "msg": "released"}, status=500)

    exchange.route("POST", kucoin.BULLET_PRIVATE_PATH, stalled)
    # A shared session outlives stop(): closing it cannot be what ends the fetch, only the block can.
    async with aiohttp.ClientSession() as session:
        data_source = make_kucoin(exchange, session=session)
        start_listening(data_source)
        try:
            await exchange.wait_until(lambda: bool(exchange.rest_requests), what="the token call")
            await data_source.stop()
            assert client_tasks() == set()
            assert exchange.connections == []
            assert data_source.token_grant is None
            assert not session.closed
        finally:
            release.set()


# --- Kraken ------------------------------------------------------------------------------------------------


def test_kraken_signature_matches_krakens_documented_example() -> None:
    # The worked example of https://docs.kraken.com/api/docs/guides/spot-rest-auth
    secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    body = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    expected = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    assert KrakenAuth("key", secret).rest_auth_headers("POST", "/0/private/AddOrder", body)["API-Sign"] == expected
    assert kraken.api_sign("/0/private/AddOrder", body, secret) == expected


async def test_kraken_streams_orders_and_fills_with_the_token_in_every_subscribe(
    kraken_venue: Venue, make_kraken: Callable[..., KrakenAPIUserStreamDataSource]
) -> None:
    exchange, state = kraken_venue
    data_source = make_kraken(exchange)
    output = start_listening(data_source)
    await streaming(exchange)

    assert subscribe_tokens(exchange, 0) == [state.tokens[0]] * 2
    assert [m["params"]["channel"] for m in exchange.connections[0].subscriptions] == ["executions", "balances"]
    [call] = token_calls(exchange, kraken.TOKEN_PATH)
    assert call.body.startswith("nonce=")
    assert call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert data_source.token_grant is not None
    assert data_source.token_grant.expires_in == kraken.TOKEN_LIFETIME

    frames = kraken.DocumentedFrames
    events = [frames.PENDING_NEW, frames.NEW, frames.TRADE, frames.COMPLETING_TRADE, frames.FILLED]
    for event in events:
        await exchange.push(event)
    assert [await next_message(output) for _ in events] == events

    # Kraken's app-level ping keeps the quiet stream alive; heartbeats are not queued.
    await exchange.push(kraken.KrakenDialect().heartbeat())
    await exchange.wait_until(lambda: len(exchange.messages(ClientIntent.PING)) >= 2, what="two pings")
    assert all(isinstance(ping["req_id"], int) for ping in exchange.messages(ClientIntent.PING))
    assert output.empty()
    assert data_source.status.reconnect_count == 0


@pytest.mark.parametrize(
    ("make_auth", "exchange_says"),
    [
        (lambda: KrakenAuth("not-my-key", KRAKEN_CREDENTIALS.secret), "EAPI:Invalid key"),
        (lambda: KrakenAuth(KRAKEN_CREDENTIALS.api_key, base64.b64encode(b"wrong").decode()), "EAPI:Invalid signature"),
    ],
    ids=["unknown-key", "wrong-secret"],
)
async def test_kraken_refused_credentials_are_reported_in_krakens_words_and_retried_with_backoff(
    kraken_venue: Venue,
    make_kraken: Callable[..., KrakenAPIUserStreamDataSource],
    caplog: pytest.LogCaptureFixture,
    make_auth: Callable[[], KrakenAuth],
    exchange_says: str,
) -> None:
    exchange, state = kraken_venue
    data_source = make_kraken(exchange, auth=make_auth())
    with caplog.at_level(logging.INFO, logger="userstream"):
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 3, "three refused attempts")
    assert data_source.status.last_error == f"AuthenticationError: {exchange_says}"
    assert error_lines(caplog)[:3] == [f"authentication rejected by the exchange: {exchange_says}"] * 3
    assert delay_lines(caplog)[:3] == [
        "reconnecting in 0.05 s (attempt 1)",
        "reconnecting in 0.10 s (attempt 2)",
        "reconnecting in 0.20 s (attempt 3)",
    ]
    assert exchange.connections == []
    assert state.tokens == []


async def test_kraken_unavailable_service_is_a_warning_and_retried(
    kraken_venue: Venue, make_kraken: Callable[..., KrakenAPIUserStreamDataSource], caplog: pytest.LogCaptureFixture
) -> None:
    exchange, state = kraken_venue
    state.fail_next(kraken.SERVICE_UNAVAILABLE)
    data_source = make_kraken(exchange)
    with caplog.at_level(logging.INFO, logger="userstream"):
        start_listening(data_source)
        await streaming(exchange)
    assert error_lines(caplog) == []
    assert data_source.status.last_error is not None
    assert data_source.status.last_error.startswith("RestError")
    assert "EService:Unavailable" in data_source.status.last_error
    assert subscribe_tokens(exchange, 0) == [state.tokens[0]] * 2


async def test_kraken_token_refused_in_a_subscribe_is_replaced_by_a_fresh_one(
    kraken_venue: Venue, make_kraken: Callable[..., KrakenAPIUserStreamDataSource]
) -> None:
    exchange, state = kraken_venue
    state.expire_on_issue = 1
    data_source = make_kraken(exchange)
    output = start_listening(data_source)
    await streaming(exchange)

    refused, accepted = exchange.connections
    assert refused.subscriptions == []
    assert subscribe_tokens(exchange, 0)[0] == state.tokens[0]
    assert subscribe_tokens(exchange, 1) == [state.tokens[1]] * 2
    assert data_source.status.last_error is not None
    assert data_source.status.last_error.startswith("SubscriptionError: EAPI:Invalid token")
    assert refused.client_close_code == 1000
    await exchange.push(kraken.DocumentedFrames.NEW)
    assert (await next_message(output))["channel"] == "executions"
    assert accepted.open


async def test_kraken_every_reconnect_mints_a_fresh_token(
    kraken_venue: Venue, make_kraken: Callable[..., KrakenAPIUserStreamDataSource]
) -> None:
    exchange, state = kraken_venue
    data_source = make_kraken(exchange)
    start_listening(data_source)
    await streaming(exchange)
    await exchange.drop_connections()
    await streaming(exchange, connections=2)
    await exchange.close_connections(code=1001)
    await streaming(exchange, connections=3)

    assert [subscribe_tokens(exchange, n) for n in range(3)] == [[token] * 2 for token in state.tokens]
    assert len(set(state.tokens)) == 3
    assert data_source.tokens_minted == 3
    nonces = [int(parse_qs(call.body)["nonce"][0]) for call in token_calls(exchange, kraken.TOKEN_PATH)]
    assert nonces == sorted(set(nonces))  # strictly increasing, as Kraken demands


async def test_kraken_concurrent_connection_targets_mint_one_token(
    kraken_venue: Venue, make_kraken: Callable[..., KrakenAPIUserStreamDataSource]
) -> None:
    exchange, state = kraken_venue
    data_source = make_kraken(exchange)
    targets = await asyncio.gather(*(data_source.connection_target() for _ in range(5)))
    assert {target.url for target in targets} == {kraken.private_url(exchange)}  # Kraken's token goes in the subscribes
    assert len(token_calls(exchange, kraken.TOKEN_PATH)) == 1
    assert data_source.token == state.tokens[0]
    assert data_source.tokens_minted == 1


async def test_kraken_stop_leaves_no_task_no_socket_and_no_token(
    kraken_venue: Venue, make_kraken: Callable[..., KrakenAPIUserStreamDataSource]
) -> None:
    exchange, _ = kraken_venue
    data_source = make_kraken(exchange)
    start_listening(data_source)
    await streaming(exchange)

    await data_source.stop()
    assert client_tasks() == set()
    assert exchange.open_connections == 0
    assert [c.client_close_code for c in exchange.connections] == [1000]
    assert data_source.token_grant is None
    assert data_source.status.state is StreamState.STOPPED
