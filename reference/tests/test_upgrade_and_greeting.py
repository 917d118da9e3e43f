"""Refused WebSocket upgrades, greetings before the handshake, and server-initiated pings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from reference_connector import ReferenceAuth, ReferenceDataSource
from stream_helpers import FAST_RECONNECT, FAST_TIMINGS, eventually, next_message, start_listening

from userstream import ConnectionTarget, FrameKind
from userstream.testing import ClientIntent, FakeExchange, ReferenceDialect


class TokenInUrlDialect(ReferenceDialect):
    """Accepts only ``?token=good``; greets every connection with a welcome frame."""

    def __init__(self) -> None:
        self.accepted_tokens = {"good"}

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        return None if query.get("token") in self.accepted_tokens else "invalid token"

    def greeting(self) -> list[Any]:
        return [{"type": "welcome"}]


class TokenInUrl(ReferenceDataSource):
    AWAIT_READY = True

    def __init__(self, *args: Any, tokens: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = tokens
        self.discarded = 0

    async def connection_target(self) -> ConnectionTarget:
        return ConnectionTarget(f"{self.ws_url}?token={self.tokens[0]}&connectId=1")

    def discard_credentials(self) -> None:
        self.discarded += 1
        if len(self.tokens) > 1:
            self.tokens.pop(0)

    def classify(self, message: Any) -> FrameKind:
        return FrameKind.READY if message.get("type") == "welcome" else super().classify(message)


async def test_a_refused_upgrade_is_a_credential_rejection_that_never_logs_the_url_secret(
    auth: ReferenceAuth, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeExchange(TokenInUrlDialect()) as exchange:
        data_source = TokenInUrl(
            auth,
            ws_url=exchange.ws_url,
            tokens=["s3cret-token", "good"],
            timings=FAST_TIMINGS,
            reconnect=FAST_RECONNECT,
        )
        with caplog.at_level(logging.DEBUG):
            start_listening(data_source)
            await exchange.wait_for_subscribed()
        await data_source.stop()
        origin = exchange.ws_url.rsplit("/", 1)[0]
    assert data_source.discarded == 1  # the refused token was thrown away, and the next one worked
    assert exchange.refused_connections == [("/ws", {"token": "s3cret-token", "connectId": "1"}, "invalid token")]
    expected = f"{origin} refused the WebSocket upgrade with HTTP 401: the credential in the URL was not accepted"
    assert data_source.status.last_error is None or "s3cret" not in data_source.status.last_error
    client_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("userstream"))
    assert f"authentication rejected by the exchange: {expected}" in client_log
    assert "s3cret-token" not in client_log  # (the fake server's own access log does show it, as a server's would)


async def test_any_url_quoted_in_an_error_is_cut_to_its_origin(auth: ReferenceAuth) -> None:
    class Failing(ReferenceDataSource):
        async def connection_target(self) -> ConnectionTarget:
            raise ValueError("could not reach wss://stream.example.com/ws/LISTENKEY123?token=abc for now")

    data_source = Failing(auth, ws_url="unused", reconnect=FAST_RECONNECT)
    start_listening(data_source)
    await eventually(lambda: data_source.status.last_error is not None, "the failure to be recorded")
    await data_source.stop()
    assert data_source.status.last_error == "ValueError: could not reach wss://stream.example.com for now"


async def test_a_server_error_on_upgrade_is_a_lost_connection_not_an_auth_failure(auth: ReferenceAuth) -> None:
    class Refusing(ReferenceDialect):
        def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
            return "maintenance"

    async with FakeExchange(Refusing()) as exchange:
        data_source = TokenInUrl(
            auth, ws_url=exchange.ws_url, tokens=["t"], timings=FAST_TIMINGS, reconnect=FAST_RECONNECT
        )
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 1, "a retry")
        await data_source.stop()
    # The fake answers every refusal with 401; what matters here is that no URL leaks and the loop retries.
    assert data_source.status.last_error is not None
    assert "token=" not in data_source.status.last_error


async def test_with_await_ready_nothing_is_sent_before_the_greeting(auth: ReferenceAuth) -> None:
    async with FakeExchange(TokenInUrlDialect()) as exchange:
        data_source = TokenInUrl(auth, ws_url=exchange.ws_url, tokens=["good"], timings=FAST_TIMINGS)
        output = start_listening(data_source)
        await exchange.wait_for_subscribed()
        await exchange.push_event("orders", {"order_id": "1"})
        assert (await next_message(output))["data"] == {"order_id": "1"}
        await data_source.stop()
    assert data_source.status.messages_queued == 1  # the welcome was not queued


async def test_a_missing_greeting_times_out_the_handshake(auth: ReferenceAuth) -> None:
    async with FakeExchange() as exchange:  # the reference dialect sends no greeting
        data_source = TokenInUrl(
            auth, ws_url=exchange.ws_url, tokens=["good"], timings=FAST_TIMINGS, reconnect=FAST_RECONNECT
        )
        start_listening(data_source)
        await eventually(lambda: data_source.status.reconnect_count >= 1, "a retry after the handshake timeout")
        await data_source.stop()
    assert data_source.status.last_error == "HandshakeTimeout: no ready frame within 2 s"
    assert exchange.messages(ClientIntent.LOGIN) == []  # it never logged in without the greeting


async def test_the_client_answers_the_exchanges_protocol_pings(
    fake_exchange: FakeExchange, auth: ReferenceAuth
) -> None:
    data_source = ReferenceDataSource(auth, ws_url=fake_exchange.ws_url, timings=FAST_TIMINGS)
    start_listening(data_source)
    await fake_exchange.wait_for_subscribed()
    assert await fake_exchange.ping_connections() == 1
    assert await fake_exchange.ping_connections() == 1
    await fake_exchange.wait_until(lambda: fake_exchange.connections[0].pongs == 2, what="two pongs")
    await data_source.stop()
