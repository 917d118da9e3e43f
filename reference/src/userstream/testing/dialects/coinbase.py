"""Coinbase Advanced Trade's user-order WebSocket, as the fake exchange speaks it.

=====================  =====================================================================================
endpoint               ``wss://advanced-trade-ws-user.coinbase.com`` (the fake serves ``<ws_url>``)
client subscribe       ``{"type": "subscribe", "channel": "user" | "heartbeats", "jwt": JWT}``, one per channel;
                       JWT = ES256, header ``{"alg": "ES256", "kid": key name, "nonce": hex, "typ": "JWT"}``,
                       claims ``{"iss": "cdp", "sub": key name, "nbf": s, "exp": nbf + 120}`` (no ``uri``)
accepted               ``{"channel": "subscriptions", "client_id": "", "timestamp", "sequence_num",
                       "events": [{"subscriptions": {channel: [...]}}]}``
rejected               ``{"type": "error", "message": "authentication failure"}``
heartbeats             ``{"channel": "heartbeats", ..., "events": [{"current_time", "heartbeat_counter"}]}``
user events            ``{"channel": "user", ..., "sequence_num", "events": [{"type": "snapshot" | "update",
                       "orders": [...]}]}``
=====================  =====================================================================================

The fake verifies each JWT with the key pair's public key: signature, ``kid``/``sub`` against the API key name,
``iss``, ``nbf``/``exp`` against its clock, a lifetime of at most two minutes, and a nonce it has not seen before (a
replayed JWT is refused). Verifying needs the optional ``cryptography`` package.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange

CHANNELS = ("user", "heartbeats", "futures_balance_summary")
AUTHENTICATION_FAILURE = "authentication failure"
JWT_ISSUER = "cdp"
MAX_JWT_LIFETIME_S = 120
CLOCK_LEEWAY_S = 5


class CoinbaseAdvancedTradeDialect(Dialect):
    """The exchange side of Coinbase's JWT-signed subscribes; see the module docstring."""

    requires_login = False

    def __init__(self, public_key_pem: str, clock: Callable[[], float] = time.time) -> None:
        self.public_key_pem = public_key_pem
        self.clock = clock
        """The exchange's clock for JWT lifetimes; `install` points it at the fake's (skewed) clock."""
        self.seen_nonces: set[str] = set()
        self.revoked_keys: set[str] = set()
        self._sequence = itertools.count()
        self._heartbeats = itertools.count(1)

    def classify_client(self, message: Any) -> ClientIntent:
        if isinstance(message, dict) and message.get("type") == "subscribe":
            return ClientIntent.SUBSCRIBE
        return ClientIntent.OTHER

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        token = message.get("jwt")
        if message.get("channel") not in CHANNELS or not isinstance(token, str):
            return AUTHENTICATION_FAILURE
        try:
            header, claims = verify_es256_jwt(token, self.public_key_pem)
        except ValueError:
            return AUTHENTICATION_FAILURE
        key_name = credentials.api_key
        nonce = header.get("nonce")
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if (
            header.get("kid") != key_name
            or claims.get("sub") != key_name
            or key_name in self.revoked_keys
            or claims.get("iss") != JWT_ISSUER
            or not isinstance(nonce, str)
            or nonce in self.seen_nonces
            or not isinstance(nbf, int)
            or not isinstance(exp, int)
            or not nbf - CLOCK_LEEWAY_S <= server_time < exp
            or exp - nbf > MAX_JWT_LIFETIME_S
        ):
            return AUTHENTICATION_FAILURE
        self.seen_nonces.add(nonce)
        return None

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "Coinbase Advanced Trade has no login: send a JWT with each subscribe"

    def login_ack(self, message: Any) -> Any:
        return self.subscribe_rejection(message, AUTHENTICATION_FAILURE)

    def login_rejection(self, message: Any, reason: str) -> Any:
        return self.subscribe_rejection(message, reason)

    def subscribe_replies(self, message: Any) -> list[Any]:
        channel = str(message.get("channel"))
        product_ids = message.get("product_ids", [])
        return [self._frame("subscriptions", [{"subscriptions": {channel: product_ids}}])]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return {"type": "error", "message": reason}

    def pong(self, message: Any) -> Any:
        return self.heartbeat()  # Coinbase has no app-level ping; heartbeats are its liveness signal

    def heartbeat(self) -> Any:
        moment = datetime.fromtimestamp(self.clock(), tz=UTC)
        current_time = moment.strftime("%Y-%m-%d %H:%M:%S.%f000 +0000 UTC")
        return self._frame("heartbeats", [{"current_time": current_time, "heartbeat_counter": next(self._heartbeats)}])

    def user_event(self, channel: str, data: Any) -> Any:
        """``data`` is the ``events`` list, e.g. ``[user_update([order(...)])]``."""
        return self._frame(channel, data)

    def _frame(self, channel: str, events: Any) -> dict[str, Any]:
        timestamp = datetime.fromtimestamp(self.clock(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {
            "channel": channel,
            "client_id": "",
            "timestamp": timestamp,
            "sequence_num": next(self._sequence),
            "events": events,
        }


def verify_es256_jwt(token: str, public_key_pem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of an ES256 JWT signed by the key pair of ``public_key_pem``; ValueError if not."""
    # cryptography is optional (the ES256 extra): imported here so the rest of the fake works without it.
    from cryptography.exceptions import InvalidSignature  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives import hashes, serialization  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec, utils  # type: ignore[import-not-found,unused-ignore]

    public_key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ValueError("not an EC public key")
    try:
        encoded_header, encoded_claims, encoded_signature = token.split(".")
        header = json.loads(_b64url_decode(encoded_header))
        claims = json.loads(_b64url_decode(encoded_claims))
        signature = _b64url_decode(encoded_signature)
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a compact JWT: {error}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "ES256":
        raise ValueError("not an ES256 JWT")
    if header.get("typ") != "JWT" or len(signature) != 64:
        raise ValueError("not an ES256 JWT")
    der = utils.encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{encoded_header}.{encoded_claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("bad signature") from None
    return header, claims


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- REST routes and state --------------------------------------------------------------------------------------


@dataclass
class CoinbaseState:
    """What a test can see and script on a fake Coinbase Advanced Trade."""

    exchange: FakeExchange
    dialect: CoinbaseAdvancedTradeDialect

    def revoke_key(self, key_name: str) -> None:
        """Refuse every later JWT for ``key_name`` (a key deleted in the CDP portal)."""
        self.dialect.revoked_keys.add(key_name)

    def restore_key(self, key_name: str) -> None:
        self.dialect.revoked_keys.discard(key_name)

    @property
    def accepted_nonces(self) -> int:
        """How many distinct JWTs the exchange accepted."""
        return len(self.dialect.seen_nonces)


def install(exchange: FakeExchange) -> CoinbaseState:
    """Run the dialect on the fake's clock. Coinbase's WebSocket needs no REST route: a JWT is made, not fetched."""
    if not isinstance(exchange.dialect, CoinbaseAdvancedTradeDialect):
        raise TypeError("install() needs a FakeExchange created with a CoinbaseAdvancedTradeDialect")
    exchange.dialect.clock = exchange.now
    return CoinbaseState(exchange, exchange.dialect)


# --- user events with Coinbase's real shapes ----------------------------------------------------------------------


def order(
    *,
    order_id: str = "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    client_order_id: str = "11111-000000-000001",
    product_id: str = "BTC-USD",
    side: str = "BUY",
    status: str = "OPEN",
    cumulative_quantity: str = "0",
    leaves_quantity: str = "0.001",
    avg_price: str = "0",
    total_fees: str = "0",
    limit_price: str = "68900.5",
) -> dict[str, Any]:
    """One order of a ``user`` channel event (status ``PENDING``, ``OPEN``, ``FILLED``, ``CANCELLED``, ...)."""
    return {
        "order_id": order_id,
        "client_order_id": client_order_id,
        "cumulative_quantity": cumulative_quantity,
        "leaves_quantity": leaves_quantity,
        "avg_price": avg_price,
        "total_fees": total_fees,
        "status": status,
        "product_id": product_id,
        "creation_time": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "order_side": side,
        "order_type": "Limit",
        "cancel_reason": "",
        "reject_reason": "",
        "limit_price": limit_price,
        "product_type": "SPOT",
        "time_in_force": "GOOD_UNTIL_CANCELLED",
        "trigger_status": "INVALID_ORDER_TYPE",
    }


def fill(**overrides: Any) -> dict[str, Any]:
    """An order that has just filled completely: Coinbase reports fills as order updates with cumulative fields."""
    fields: dict[str, Any] = {
        "status": "FILLED",
        "cumulative_quantity": "0.001",
        "leaves_quantity": "0",
        "avg_price": "68900.5",
        "total_fees": "0.413403",
    }
    return order(**{**fields, **overrides})


def user_snapshot(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """The first ``user`` event after subscribing: every open order."""
    return {"type": "snapshot", "orders": orders}


def user_update(orders: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "update", "orders": orders}


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Coinbase Advanced Trade documents them, for the tests."""

    OPEN_ORDER: ClassVar[dict[str, Any]] = {
        "order_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "client_order_id": "11111-000000-000001",
        "cumulative_quantity": "0",
        "leaves_quantity": "0.001",
        "avg_price": "0",
        "total_fees": "0",
        "status": "OPEN",
        "product_id": "BTC-USD",
        "creation_time": "2026-11-25T06:25:53.027Z",
        "order_side": "BUY",
        "order_type": "Limit",
        "cancel_reason": "",
        "reject_reason": "",
        "limit_price": "68900.5",
        "product_type": "SPOT",
        "time_in_force": "GOOD_UNTIL_CANCELLED",
        "trigger_status": "INVALID_ORDER_TYPE",
    }
    SNAPSHOT: ClassVar[dict[str, Any]] = {
        "channel": "user",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.027000Z",
        "sequence_num": 2,
        "events": [{"type": "snapshot", "orders": []}],
    }
    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "channel": "user",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.127000Z",
        "sequence_num": 3,
        "events": [{"type": "update", "orders": [OPEN_ORDER]}],
    }
    FILL: ClassVar[dict[str, Any]] = {
        "channel": "user",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.227000Z",
        "sequence_num": 4,
        "events": [
            {
                "type": "update",
                "orders": [
                    {
                        **OPEN_ORDER,
                        "status": "FILLED",
                        "cumulative_quantity": "0.001",
                        "leaves_quantity": "0",
                        "avg_price": "68900.5",
                        "total_fees": "0.413403",
                    }
                ],
            }
        ],
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "channel": "subscriptions",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.017000Z",
        "sequence_num": 0,
        "events": [
            {
                "subscriptions": {"user": []},
            }
        ],
    }
    AUTHENTICATION_FAILURE: ClassVar[dict[str, Any]] = {"type": "error", "message": "authentication failure"}
    HEARTBEAT: ClassVar[dict[str, Any]] = {
        "channel": "heartbeats",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:54.027000Z",
        "sequence_num": 5,
        "events": [{"current_time": "2026-11-25 06:25:54.026421000 +0000 UTC", "heartbeat_counter": 1}],
    }


# --- the connector contract's harness -----------------------------------------------------------------


KEY_NAME = "organizations/test-org/apiKeys/test-key"


def ec_key_pair() -> tuple[str, str]:
    """A new P-256 key pair as ``(private PEM, public PEM)``: a CDP key's secret, and Coinbase's copy to verify with."""
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found,unused-ignore]

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return str(private.decode()), str(public.decode())


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    def __init__(self) -> None:
        # The fake verifies each JWT's signature with the public half of the account's key, as Coinbase does.
        self.private_key, self.public_key = ec_key_pair()

    def dialect(self) -> Dialect:
        return CoinbaseAdvancedTradeDialect(self.public_key)

    def credentials(self) -> Credentials:
        return Credentials(api_key=KEY_NAME, secret=self.private_key)

    def wrong_credentials(self) -> Credentials:
        # Another account's key: a secret that is not an EC key at all would already fail in the auth's constructor.
        return Credentials(api_key=f"{KEY_NAME}-other", secret=ec_key_pair()[0])

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)  # the fake checks JWT lifetimes against its own clock

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.SNAPSHOT, DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL]
