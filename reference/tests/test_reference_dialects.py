"""The reference protocol's fakes (`userstream.testing.dialects.reference`) refuse what they must and answer per style.

Generated connectors without a preset test themselves against these fakes, so a fake that accepted a
wrong signature or passphrase, or answered a ping the exchange would not, would let a broken connector
pass. Signatures here are computed independently of `MarketAuth`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from userstream import ConnectionTarget, StreamTimings
from userstream.testing import ClientIntent, Credentials, FakeExchange, ReferenceDialect
from userstream.testing.dialects import reference
from userstream.testing.dialects.reference import ReferenceSettings

NOW = 1_700_000_000.0
NOW_MS = int(NOW * 1000)
HEX = ReferenceSettings()
BASE64_WITH_PASSPHRASE = ReferenceSettings(signature_encoding="base64", passphrase=True)
TIMINGS = StreamTimings()


def hmac_sha256(secret: str, payload: str, encoding: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256)
    return digest.hexdigest() if encoding == "hex" else base64.b64encode(digest.digest()).decode()


def signed_fields(
    payload: str, settings: ReferenceSettings, *, secret: str = "test-secret", passphrase: str | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "api_key": "test-api-key",
        "timestamp": NOW_MS,
        "signature": hmac_sha256(secret, payload.format(timestamp=NOW_MS), settings.signature_encoding),
    }
    if passphrase is not None:
        fields["passphrase"] = passphrase
    return fields


def signed_headers(
    method: str,
    path: str,
    settings: ReferenceSettings,
    *,
    body: str = "",
    secret: str = "test-secret",
    passphrase: str | None = None,
) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000))
    headers = {
        "X-API-KEY": "test-api-key",
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": hmac_sha256(secret, f"{timestamp}{method}{path}{body}", settings.signature_encoding),
    }
    if passphrase is not None:
        headers["X-PASSPHRASE"] = passphrase
    return headers


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_the_settings_sign_as_documented(encoding: str) -> None:
    settings = ReferenceSettings(signature_encoding=encoding)  # type: ignore[arg-type]
    assert settings.sign("secret", "payload") == hmac_sha256("secret", "payload", encoding)


@pytest.mark.parametrize(
    "answers", [{"signature_encoding": "base32"}, {"ping_style": "carrier-pigeon"}], ids=["encoding", "ping"]
)
def test_settings_outside_the_protocol_are_refused(answers: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        ReferenceSettings(**answers)


def test_credentials_have_a_passphrase_only_when_keys_do() -> None:
    assert reference.credentials(HEX).passphrase is None
    assert reference.credentials(BASE64_WITH_PASSPHRASE).passphrase == "test-passphrase"


# --- login message -----------------------------------------------------------------------------------


LOGIN_PAYLOAD = "{timestamp}GET/users/self/verify"


def login(fields: dict[str, Any]) -> dict[str, Any]:
    return {"op": "login", "args": fields}


def test_a_base64_login_with_its_passphrase_is_accepted() -> None:
    dialect = reference.LoginMessageDialect(BASE64_WITH_PASSPHRASE)
    message = login(signed_fields(LOGIN_PAYLOAD, BASE64_WITH_PASSPHRASE, passphrase="test-passphrase"))
    credentials = reference.credentials(BASE64_WITH_PASSPHRASE)
    assert dialect.classify_client(message) is ClientIntent.LOGIN
    assert dialect.check_login(message, credentials, NOW) is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (signed_fields(LOGIN_PAYLOAD, HEX, passphrase="test-passphrase"), "invalid signature"),  # hex, not base64
        (signed_fields(LOGIN_PAYLOAD, BASE64_WITH_PASSPHRASE, secret="wrong"), "invalid signature"),
        (signed_fields(LOGIN_PAYLOAD, BASE64_WITH_PASSPHRASE, passphrase="wrong"), "invalid passphrase"),
        (signed_fields(LOGIN_PAYLOAD, BASE64_WITH_PASSPHRASE), "invalid passphrase"),
    ],
    ids=["wrong-encoding", "wrong-secret", "wrong-passphrase", "no-passphrase"],
)
def test_a_login_with_a_wrong_signature_or_passphrase_is_refused(fields: dict[str, Any], reason: str) -> None:
    dialect = reference.LoginMessageDialect(BASE64_WITH_PASSPHRASE)
    assert dialect.check_login(login(fields), reference.credentials(BASE64_WITH_PASSPHRASE), NOW) == reason


def test_without_passphrases_a_hex_login_is_accepted_and_a_late_one_blamed_on_the_clock() -> None:
    dialect = reference.LoginMessageDialect(HEX)
    message = login(signed_fields(LOGIN_PAYLOAD, HEX))
    assert dialect.check_login(message, Credentials(), NOW) is None
    assert dialect.check_login(message, Credentials(), NOW + 6) == reference.CLOCK_SKEW


# --- pings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "ping", "pong"), [("json", {"op": "ping"}, {"op": "pong"}), ("text", "ping", "pong")]
)
async def test_an_app_level_ping_is_answered_in_its_style(style: str, ping: Any, pong: Any) -> None:
    dialect = reference.LoginMessageDialect(ReferenceSettings(ping_style=style))  # type: ignore[arg-type]
    async with FakeExchange(dialect) as exchange:
        client = await exchange.connect_in_memory(ConnectionTarget(exchange.ws_url), TIMINGS)
        await client.send_str(ping if isinstance(ping, str) else json.dumps(ping))
        frame = await client.receive(timeout=2)
        assert frame.type is WSMsgType.TEXT
        assert (frame.data if isinstance(pong, str) else json.loads(frame.data)) == pong
        assert exchange.messages(ClientIntent.PING) == [ping]
        await client.close()


@pytest.mark.parametrize(
    ("style", "foreign"),
    [("json", ["ping"]), ("text", [{"op": "ping"}]), ("protocol", ["ping", {"op": "ping"}])],
)
async def test_a_ping_in_another_style_goes_unanswered(style: str, foreign: list[Any]) -> None:
    dialect = reference.LoginMessageDialect(ReferenceSettings(ping_style=style))  # type: ignore[arg-type]
    async with FakeExchange(dialect) as exchange:
        client = await exchange.connect_in_memory(ConnectionTarget(exchange.ws_url), TIMINGS)
        for ping in foreign:
            await client.send_str(ping if isinstance(ping, str) else json.dumps(ping))
        await client.ping(b"still there?")  # protocol pings are answered whatever the style
        frame = await client.receive(timeout=2)
        assert frame.type is WSMsgType.PONG, "an app-level ping of another style was answered"
        assert exchange.messages(ClientIntent.PING) == []
        await client.close()


# --- signed subscribe -----------------------------------------------------------------------------------


def subscribe(channel: str, fields: dict[str, Any], request_id: int = 7) -> dict[str, Any]:
    return {"op": "subscribe", "id": request_id, "channel": channel, "auth": fields}


async def test_a_signed_subscribe_is_acknowledged_with_its_id_and_a_wrong_one_refused_as_401() -> None:
    settings = BASE64_WITH_PASSPHRASE
    dialect = reference.SignedSubscribeDialect(settings)
    async with (
        FakeExchange(dialect, reference.credentials(settings)) as exchange,
        aiohttp.ClientSession() as session,
        session.ws_connect(exchange.ws_url) as websocket,
    ):
        now = int(time.time() * 1000)
        good = {
            "api_key": "test-api-key",
            "timestamp": now,
            "signature": hmac_sha256("test-secret", f"{now}subscribeorders", "base64"),
            "passphrase": "test-passphrase",
        }
        await websocket.send_json(subscribe("orders", good, 1))
        assert await websocket.receive_json(timeout=2) == {"event": "subscribed", "id": 1, "channel": "orders"}
        await websocket.send_json(subscribe("fills", good, 2))  # the signature covers the channel
        assert await websocket.receive_json(timeout=2) == {
            "event": "error",
            "id": 2,
            "code": 401,
            "msg": "invalid signature",
        }
        await websocket.send_json(subscribe("orders", {**good, "passphrase": "wrong"}, 3))
        assert (await websocket.receive_json(timeout=2))["msg"] == "invalid passphrase"
        exchange.reject_next_subscribe("maintenance")  # the soak's "rejected login" for this archetype
        await websocket.send_json(subscribe("orders", good, 4))
        assert await websocket.receive_json(timeout=2) == {"event": "error", "id": 4, "code": 401, "msg": "maintenance"}
    assert exchange.connections[0].subscriptions == [subscribe("orders", good, 1)]


def test_a_subscribe_to_an_unknown_channel_is_refused_as_403() -> None:
    dialect = reference.SignedSubscribeDialect(HEX)
    fields = signed_fields("{timestamp}subscribeledger", HEX)
    assert dialect.check_subscribe(subscribe("ledger", fields), Credentials(), NOW) is None
    assert dialect.subscribe_replies(subscribe("ledger", fields)) == [
        {"event": "error", "id": 7, "code": 403, "msg": "unknown channel 'ledger'"}
    ]
    assert dialect.classify_client(login(fields)) is ClientIntent.OTHER  # no login in this archetype


# --- REST token -----------------------------------------------------------------------------------------


async def test_a_signed_token_request_mints_a_token_that_opens_one_connection() -> None:
    settings = BASE64_WITH_PASSPHRASE
    async with FakeExchange(reference.RestTokenDialect(settings), reference.credentials(settings)) as exchange:
        tokens = reference.install_rest_token(exchange)
        url = exchange.rest_url + reference.TOKEN_PATH
        async with aiohttp.ClientSession() as session:
            headers = signed_headers("POST", reference.TOKEN_PATH, settings, passphrase="test-passphrase")
            async with session.post(url, headers=headers) as response:
                assert response.status == 200
                token = (await response.json())["token"]
            wrong = signed_headers("POST", reference.TOKEN_PATH, settings, passphrase="nope")
            async with session.post(url, headers=wrong) as response:
                assert (response.status, await response.json()) == (401, {"code": 401, "msg": "invalid passphrase"})
            async with session.ws_connect(f"{exchange.ws_url}?token={token}") as websocket:
                await tokens.expire(token)
                assert await websocket.receive_json(timeout=2) == {
                    "event": "error",
                    "code": 401,
                    "msg": "token expired",
                }
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"{exchange.ws_url}?token={token}")
            assert refused.value.status == 401
    assert tokens.issued == [token]


# --- listen key -----------------------------------------------------------------------------------------


async def test_a_listen_key_is_created_extended_and_closed_with_the_api_key_only() -> None:
    async with FakeExchange(reference.ListenKeyDialect(HEX)) as exchange:
        keys = reference.install_listen_key(exchange)
        url = exchange.rest_url + reference.LISTEN_KEY_PATH
        async with aiohttp.ClientSession() as session:
            async with session.post(url, headers={"X-API-KEY": "wrong-key"}) as response:
                assert (response.status, await response.json()) == (401, {"code": 401, "msg": "invalid api key"})
            async with session.post(url, headers={"X-API-KEY": "test-api-key"}) as response:
                key = (await response.json())["listenKey"]
            async with session.ws_connect(f"{exchange.ws_url}/{key}") as websocket:
                await exchange.push_event("orders", {"order_id": "1"})
                assert await websocket.receive_json(timeout=2) == {"event": "orders", "data": {"order_id": "1"}}
                async with session.put(url, params={"listenKey": key}, headers={"X-API-KEY": "test-api-key"}) as r:
                    assert r.status == 200
                await keys.expire(key)
                assert await websocket.receive_json(timeout=2) == {"event": "listen_key_expired", "listen_key": key}
            async with session.delete(url, params={"listenKey": key}, headers={"X-API-KEY": "test-api-key"}) as r:
                assert (r.status, await r.json()) == (404, {"code": 404, "msg": "listen key does not exist"})
    assert keys.keepalives == [key]
    assert exchange.dialect.check_connection(f"/ws/{key}", {}) == "invalid or expired listen key"


# --- the account ------------------------------------------------------------------------------------------


async def test_the_account_is_served_to_signed_requests_only() -> None:
    settings = BASE64_WITH_PASSPHRASE
    async with FakeExchange(reference.RestPollingDialect(settings), reference.credentials(settings)) as exchange:
        account = reference.install_account(exchange)
        account.set_balance("USDT", "100", "90")
        order = account.place_order(client_order_id="my-1")
        path = f"{reference.ORDER_PATH}?order_id={order.order_id}"
        async with aiohttp.ClientSession() as session:

            async def get(path: str, **signing: Any) -> tuple[int, Any]:
                headers = signed_headers("GET", path, settings, **signing)
                async with session.get(exchange.rest_url + path, headers=headers) as response:
                    return response.status, await response.json()

            assert await get(reference.BALANCES_PATH, passphrase="test-passphrase") == (
                200,
                {
                    "balances": [
                        {"asset": "USDT", "total": "100", "available": "90", "time": account.balances["USDT"][2]}
                    ]
                },
            )
            assert await get(reference.BALANCES_PATH, passphrase="wrong") == (
                401,
                reference.error_body(401, "invalid passphrase"),
            )
            assert await get(reference.BALANCES_PATH, secret="wrong", passphrase="test-passphrase") == (
                401,
                reference.error_body(401, "invalid signature"),
            )
            status, body = await get(reference.OPEN_ORDERS_PATH, passphrase="test-passphrase")
            assert [listed["order_id"] for listed in body["orders"]] == [order.order_id]
            account.fill(order.order_id, "0.01")
            status, body = await get(reference.OPEN_ORDERS_PATH, passphrase="test-passphrase")
            assert body == {"orders": []}
            status, body = await get(path, passphrase="test-passphrase")
            assert (status, body["order"]["status"], body["order"]["filled_amount"]) == (200, "filled", "0.01")
            status, body = await get(f"{reference.FILLS_PATH}?limit=5", passphrase="test-passphrase")
            [execution] = body["fills"]
            assert (execution["order_id"], execution["amount"], execution["client_order_id"]) == (
                order.order_id,
                "0.01",
                "my-1",
            )
            status, body = await get(f"{reference.FILLS_PATH}?limit=0", passphrase="test-passphrase")
            assert (status, body["msg"]) == (400, "limit must be 1 to 1000")
            account.fail_next()
            assert (await get(path, passphrase="test-passphrase"))[0] == 503
            assert await get(f"{reference.ORDER_PATH}?order_id=404", passphrase="test-passphrase") == (
                404,
                reference.error_body(404, "order not found"),
            )
    assert [reason for _, reason in account.rejections] == ["invalid passphrase", "invalid signature"]


def test_install_refuses_an_exchange_speaking_another_dialect() -> None:
    exchange = FakeExchange(reference.LoginMessageDialect())
    for install in (reference.install_rest_token, reference.install_listen_key):
        with pytest.raises(TypeError, match="needs a FakeExchange speaking"):
            install(exchange)
    with pytest.raises(TypeError, match="needs a FakeExchange speaking a reference dialect"):
        reference.install_account(FakeExchange(ReferenceDialect()))


async def test_each_account_change_is_pushed_in_order_with_strictly_increasing_stamps() -> None:
    async with FakeExchange(reference.LoginMessageDialect()) as exchange:
        account = reference.install_account(exchange)
        order = account.place_order(amount="0.02")
        account.fill(order.order_id, "0.01", fee="0.3")
        account.set_balance("BTC", "0.01")
        account.cancel(order.order_id)
        with pytest.raises(ValueError, match="is canceled: it cannot fill"):
            account.fill(order.order_id, "0.01")
        channels = [channel for channel, _ in account.pending_events]
        assert channels == ["orders", "fills", "orders", "balances", "orders"]
        stamps = [data.get("updated_at", data.get("time")) for _, data in account.pending_events]
        assert stamps == sorted(stamps), "stamps never go back"
        assert len(set(stamps)) == 4, "every change has its own moment (a fill and its order update share one)"
        assert await account.publish() == 5, "no connection: the events are missed, as on the exchange"
        assert account.pending_events == []
        assert account.fills[0].fee == Decimal("0.3")
        assert [o.order_id for o in account.open_orders()] == []
