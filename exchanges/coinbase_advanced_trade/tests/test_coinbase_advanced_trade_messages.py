"""Coinbase Advanced Trade's message shapes, checked as pure functions: no socket, no event loop."""

import base64
import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from userstream import BalanceUpdate, FrameKind, OrderStatus, OrderUpdate, TradeFill
from userstream.testing.dialects.coinbase import DocumentedFrames as messages

from coinbase_advanced_trade.coinbase_advanced_trade_account import (
    lists_every_fill,
    moment_ms,
    parse_balances,
    parse_fills,
    parse_order,
    parse_push,
    parse_snapshot,
    reports_new_fills,
    rfc3339,
)
from coinbase_advanced_trade.coinbase_advanced_trade_api_user_stream_data_source import (
    CoinbaseAdvancedTradeAPIUserStreamDataSource,
)
from coinbase_advanced_trade.coinbase_advanced_trade_auth import CoinbaseAdvancedTradeAuth

NOW = 1_700_000_000.0
KEY_NAME = "organizations/test-org/apiKeys/test-key"


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def auth(signing_key: ec.EllipticCurvePrivateKey) -> CoinbaseAdvancedTradeAuth:
    pem = signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return CoinbaseAdvancedTradeAuth(KEY_NAME, pem.decode(), clock=lambda: NOW)


@pytest.fixture
def data_source(auth: CoinbaseAdvancedTradeAuth) -> CoinbaseAdvancedTradeAPIUserStreamDataSource:
    return CoinbaseAdvancedTradeAPIUserStreamDataSource(auth)


def verified_jwt(token: str, public_key: ec.EllipticCurvePublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of an ES256 JWT, after checking its signature as Coinbase does (RFC 7515)."""

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header, claims, signature = token.split(".")
    raw = decode(signature)
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    return json.loads(decode(header)), json.loads(decode(claims))


def test_each_channel_gets_a_subscribe_with_its_own_jwt(
    data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    connection = data_source.open_conversation()
    assert not connection.login_messages(), "Coinbase has no login"
    subscribes = [subscribe for subscribe in connection.subscribe_messages() if isinstance(subscribe, dict)]
    assert [(s["type"], s["channel"]) for s in subscribes] == [("subscribe", "user"), ("subscribe", "heartbeats")]
    nonces = set()
    for subscribe in subscribes:
        header, claims = verified_jwt(subscribe["jwt"], signing_key.public_key())
        assert header == {"alg": "ES256", "typ": "JWT", "kid": KEY_NAME, "nonce": header["nonce"]}
        assert claims == {"iss": "cdp", "sub": KEY_NAME, "nbf": 1700000000, "exp": 1700000120}
        nonces.add(header["nonce"])
    assert len(nonces) == 2, "no two JWTs alike"


def test_a_secret_that_is_not_an_ec_key_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="PEM"):
        CoinbaseAdvancedTradeAuth(KEY_NAME, "not-a-private-key")


def test_the_client_pings_at_the_protocol_level(data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() is None


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.SNAPSHOT, FrameKind.USER_MESSAGE),
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.AUTHENTICATION_FAILURE, FrameKind.AUTH_REJECTED),
        (messages.HEARTBEAT, FrameKind.CONTROL),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    assert data_source.classify(frame) is kind


def test_a_refusal_is_described_in_coinbases_words(data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.AUTHENTICATION_FAILURE) == "authentication failure"


def test_a_rest_request_carries_a_jwt_naming_it(
    auth: CoinbaseAdvancedTradeAuth, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    """The docs' example: ``uri`` is "GET api.coinbase.com/api/v3/brokerage/accounts", without the query."""
    headers = auth.rest_auth_headers("get", "/api/v3/brokerage/accounts?limit=250&cursor=abc")
    scheme, token = headers["Authorization"].split(" ")
    header, claims = verified_jwt(token, signing_key.public_key())
    assert scheme == "Bearer"
    assert header == {"alg": "ES256", "typ": "JWT", "kid": KEY_NAME, "nonce": header["nonce"]}
    assert claims == {
        "iss": "cdp",
        "sub": KEY_NAME,
        "nbf": 1700000000,
        "exp": 1700000120,
        "uri": "GET api.coinbase.com/api/v3/brokerage/accounts",
    }
    assert auth.redact(headers["Authorization"]) == "Bearer ***", "the token never reaches a log"


def test_the_jwt_names_the_host_the_data_source_sends_to(auth: CoinbaseAdvancedTradeAuth) -> None:
    CoinbaseAdvancedTradeAPIUserStreamDataSource(auth, rest_url="http://127.0.0.1:8443")
    assert auth.rest_host == "127.0.0.1:8443"


OPEN_ORDER = OrderUpdate(
    exchange_order_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    client_order_id="11111-000000-000001",
    symbol="BTC-USD",
    status=OrderStatus.OPEN,
    price=Decimal("68900.5"),
    quantity=Decimal("0.001"),
    filled_quantity=Decimal(0),
    updated_at=1795587953127,
)


def test_an_order_push_is_the_order_as_it_stands_at_the_push() -> None:
    assert parse_push(messages.ORDER_UPDATE) == [OPEN_ORDER]
    assert parse_push(messages.SNAPSHOT) == []


@pytest.mark.parametrize(
    ("status", "cumulative", "expected"),
    [
        ("PENDING", "0", OrderStatus.OPEN),
        ("OPEN", "0.0004", OrderStatus.PARTIALLY_FILLED),
        ("FILLED", "0.001", OrderStatus.FILLED),
        ("CANCELLED", "0.0004", OrderStatus.CANCELED),
        ("EXPIRED", "0", OrderStatus.EXPIRED),
        ("FAILED", "0", OrderStatus.REJECTED),
    ],
)
def test_every_documented_status_is_mapped(status: str, cumulative: str, expected: OrderStatus) -> None:
    leaves = str(Decimal("0.001") - Decimal(cumulative))
    row = {**messages.OPEN_ORDER, "status": status, "cumulative_quantity": cumulative, "leaves_quantity": leaves}
    [order] = parse_push({**messages.ORDER_UPDATE, "events": [{"type": "update", "orders": [row]}]})
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity, order.quantity) == (expected, Decimal(cumulative), Decimal("0.001"))


def test_an_unknown_status_is_not_guessed() -> None:
    row = {**messages.OPEN_ORDER, "status": "UNKNOWN_ORDER_STATUS"}
    with pytest.raises(KeyError):
        parse_push({**messages.ORDER_UPDATE, "events": [{"type": "update", "orders": [row]}]})


def test_a_fill_push_is_the_order_filled_further_and_its_fills_must_be_read() -> None:
    [order] = parse_push(messages.FILL)
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, Decimal("0.001"))
    assert reports_new_fills(messages.FILLED_ORDER, known_filled=Decimal(0))
    assert not reports_new_fills(messages.FILLED_ORDER, known_filled=Decimal("0.001"))
    assert not lists_every_fill(messages.FILLED_ORDER, []), "the push counts one fill"
    assert lists_every_fill(messages.FILLED_ORDER, messages.FILLS_REPLY["fills"])


FILL = TradeFill(
    trade_id="1111-11111-111111",
    exchange_order_id="0000-000000-000002",
    client_order_id="11111-000000-000002",
    symbol="BTC-USD",
    price=Decimal("68900.5"),
    quantity=Decimal("0.001"),
    fee=Decimal("0.413403"),
    fee_asset="USD",
    timestamp=1795587953227,
)


def test_a_fill_row_is_the_execution_and_its_commission_is_what_was_paid() -> None:
    client_order_ids = {"0000-000000-000002": "11111-000000-000002"}
    assert parse_fills(messages.FILLS_REPLY["fills"], client_order_ids) == [FILL]


def test_a_fill_sized_in_quote_is_counted_in_base() -> None:
    row = {**messages.FILLS_REPLY["fills"][0], "size": "68.9005", "size_in_quote": True}
    [fill] = parse_fills([row], {})
    assert (fill.quantity, fill.client_order_id) == (Decimal("0.001"), None)


def test_a_balance_is_what_is_available_plus_what_is_on_hold_as_read() -> None:
    assert parse_balances(messages.ACCOUNTS_REPLY["accounts"], read_at=1795587954000) == {
        "BTC": BalanceUpdate(asset="BTC", total=Decimal("1.24"), available=Decimal("1.23"), updated_at=1795587954000),
        "USD": BalanceUpdate(asset="USD", total=Decimal(1000), available=Decimal("931.0995"), updated_at=1795587954000),
    }


def test_the_snapshot_reads_every_reply_and_keeps_only_finished_orders_of_the_history() -> None:
    snapshot = parse_snapshot(
        messages.ACCOUNTS_REPLY["accounts"],
        messages.OPEN_ORDERS_REPLY["orders"],
        messages.ORDER_HISTORY_REPLY["orders"],
        messages.FILLS_REPLY["fills"],
        read_at=1795587954000,
    )
    assert snapshot.balances["USD"].total == Decimal(1000)
    assert snapshot.open_orders == {OPEN_ORDER.exchange_order_id: msgspec.structs.replace(OPEN_ORDER, updated_at=None)}
    assert [(order.exchange_order_id, order.status) for order in snapshot.closed_orders] == [
        ("0000-000000-000002", OrderStatus.FILLED)
    ]
    assert list(snapshot.fills) == [FILL]


def test_the_order_detail_is_the_order_as_it_stands() -> None:
    order = parse_order(messages.ORDER_REPLY["order"])
    assert (order.status, order.filled_quantity, order.quantity, order.price, order.updated_at) == (
        OrderStatus.FILLED,
        Decimal("0.001"),
        Decimal("0.001"),
        Decimal("68900.5"),
        None,
    )


def test_times_are_read_to_the_millisecond_and_written_as_rfc_3339() -> None:
    assert moment_ms("2023-02-09T20:33:57.609931463Z") == 1675974837609
    assert moment_ms(rfc3339(1675974837.609)) == 1675974837609
