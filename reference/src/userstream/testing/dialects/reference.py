"""The kit's reference protocol in each of the five archetypes: the fakes behind a generated connector's tests.

A connector generated from an archetype alone (no exchange preset) speaks this protocol, and its tests
run against these fakes; its contributor then edits it towards the real exchange. The login-message
variant is `ReferenceDialect`'s protocol; the other archetypes carry its shapes over. Three answers
given when generating shape every variant, held in a `ReferenceSettings`: how signatures are encoded,
whether API keys come with a passphrase, and how the client pings.

Shared by every archetype:

=================  ==================================================================================
signature          HMAC-SHA256(secret, payload), hex or base64 (``signature_encoding``)
timestamp          integer milliseconds, at most 5 s off the exchange's clock, else refused with
                   ``"timestamp outside the recv window"`` (the connector re-measures its clock)
passphrase         with ``passphrase=True`` every signed message also carries the key's passphrase,
                   in clear; a wrong or missing one is refused with ``"invalid passphrase"``
client ping        ``json``: ``{"op": "ping"}``, answered by ``{"op": "pong"}``; ``text``: the text
                   frame ``ping``, answered by ``pong``; ``protocol``: WebSocket ping frames only (an
                   app-level ping goes unanswered)
server heartbeat   ``{"event": "heartbeat"}``
REST time          ``GET /time`` → ``{"serverTime": ms}``
signed REST        headers ``X-API-KEY``, ``X-TIMESTAMP`` (ms), ``X-SIGNATURE`` over
                   ``f"{timestamp}{METHOD}{path_and_query}{body}"`` (and ``X-PASSPHRASE``); refused
                   with HTTP 401 ``{"code": 401, "msg": reason}``
channels           ``orders``, ``fills``, ``balances``; each event's ``data`` is one order, fill or
                   balance, shaped as below
balances           ``GET /api/v1/balances`` → ``{"balances": [balance, ...]}``
open orders        ``GET /api/v1/open-orders`` → ``{"orders": [order, ...]}`` (``new``,
                   ``partially_filled``)
one order          ``GET /api/v1/order?order_id=N`` → ``{"order": order}`` (also once ``filled`` or
                   ``canceled``); HTTP 404 ``{"code": 404, "msg": "order not found"}``
recent fills       ``GET /api/v1/fills?limit=N`` (1 to 1000, default 1000) → ``{"fills": [fill, ...]}``,
                   oldest first
order history      ``GET /api/v1/order-history?limit=N`` → ``{"orders": [order, ...]}``: the orders that
                   last became ``filled`` or ``canceled``, oldest first
balance            ``{"asset", "total", "available", "time"}``
order              ``{"order_id", "client_order_id", "symbol", "side", "type", "price", "amount",
                   "filled_amount", "status", "created_at", "updated_at"}``
fill               ``{"trade_id", "order_id", "client_order_id", "symbol", "side", "price", "amount",
                   "fee", "fee_asset", "time"}``
=================  ==================================================================================

Amounts are decimal strings; ``time``, ``created_at`` and ``updated_at`` are the exchange's clock in ms,
strictly increasing from one change to the next. The account routes are signed REST, served by
`install_account` for every archetype, from a `ReferenceAccount` that also pushes each change.

Each archetype's own messages are in its dialect's docstring: `LoginMessageDialect`,
`SignedSubscribeDialect`, `RestTokenDialect`, `ListenKeyDialect` and `RestPollingDialect`. The
archetypes that talk REST have an ``install_*`` function that serves their routes on a `FakeExchange`
and returns the test's handle on the exchange's state (tokens, listen keys); `install_account` serves
the account (balances, orders, fills) for every archetype.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal, get_args

from userstream.account import AccountSnapshot
from userstream.auth import Encoding
from userstream.events import BalanceUpdate, OrderStatus, OrderUpdate
from userstream.testing.dialect import ClientIntent, Credentials, ReferenceDialect
from userstream.testing.fake_exchange import WS_PATH, FakeExchange, RestRequest, RestResponse
from userstream.testing.ledger import LedgerFill

PingStyle = Literal["json", "text", "protocol"]

CHANNELS = ReferenceDialect.CHANNELS
SERVER_TIME_PATH = "/time"
"""`FakeExchange` serves it without being told: ``{"serverTime": ms}``."""
AUTH_ERROR = 401
FORBIDDEN = 403
NOT_FOUND = 404
UNAVAILABLE = 503
CLOCK_SKEW = "timestamp outside the recv window"
INVALID_API_KEY = "invalid api key"
INVALID_PASSPHRASE = "invalid passphrase"

API_KEY_HEADER = "X-API-KEY"
TIMESTAMP_HEADER = "X-TIMESTAMP"
SIGNATURE_HEADER = "X-SIGNATURE"
PASSPHRASE_HEADER = "X-PASSPHRASE"

TOKEN_PATH = "/api/v1/user-stream/token"
TOKEN_LIFETIME = 600
LISTEN_KEY_PATH = "/api/v1/user-stream/listen-key"
LISTEN_KEY_PARAM = "listenKey"
LISTEN_KEY_EXPIRED = "listen_key_expired"
BALANCES_PATH = "/api/v1/balances"
OPEN_ORDERS_PATH = "/api/v1/open-orders"
ORDER_PATH = "/api/v1/order"
ORDER_ID_PARAM = "order_id"
FILLS_PATH = "/api/v1/fills"
ORDER_HISTORY_PATH = "/api/v1/order-history"
HISTORY_LIMIT = 1000
"""The most fills or closed orders one request returns (``limit``, also the default)."""
ORDERS_CHANNEL, FILLS_CHANNEL, BALANCES_CHANNEL = CHANNELS
OPEN_ORDER_STATUSES = frozenset({"new", "partially_filled"})
ORDER_STATUSES = {
    "new": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
}
"""The reference protocol's order statuses in userstream's vocabulary."""
FINAL_ORDER_STATUSES = frozenset({"filled", "canceled"})

_WS_PREFIX = WS_PATH + "/"


@dataclass(frozen=True)
class ReferenceSettings:
    """The answers that shape the reference protocol, as a generated connector was asked them."""

    signature_encoding: Encoding = "hex"
    passphrase: bool = False
    """API keys come with a passphrase, carried by every signed message."""
    ping_style: PingStyle = "json"

    def __post_init__(self) -> None:
        if self.signature_encoding not in get_args(Encoding):
            raise ValueError(f"signature_encoding must be 'hex' or 'base64', got {self.signature_encoding!r}")
        if self.ping_style not in get_args(PingStyle):
            raise ValueError(f"ping_style must be 'json', 'text' or 'protocol', got {self.ping_style!r}")

    def sign(self, secret: str, payload: str) -> str:
        """What the exchange expects as the signature of ``payload`` with ``secret``."""
        mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256)
        return mac.hexdigest() if self.signature_encoding == "hex" else base64.b64encode(mac.digest()).decode()


DEFAULT_SETTINGS = ReferenceSettings()


def credentials(settings: ReferenceSettings = DEFAULT_SETTINGS) -> Credentials:
    """The account the fake accepts: the default test key and secret, and a passphrase if keys have one."""
    return Credentials(passphrase="test-passphrase" if settings.passphrase else None)


def error_body(code: int, reason: str) -> dict[str, Any]:
    """A REST error reply: ``{"code": 401, "msg": "invalid signature"}``."""
    return {"code": code, "msg": reason}


class _ReferenceVariant(ReferenceDialect):
    """`ReferenceDialect` shaped by `ReferenceSettings`: the signature's encoding, the passphrase, the ping style."""

    SPOKEN: ClassVar[frozenset[ClientIntent]] = frozenset({ClientIntent.LOGIN, ClientIntent.SUBSCRIBE})
    """The client requests this archetype has; any other op goes unanswered."""

    def __init__(self, settings: ReferenceSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings

    def signature(self, secret: str, payload: str) -> str:
        return self.settings.sign(secret, payload)

    def check_signed_fields(
        self,
        fields: Mapping[str, Any],
        payload: Callable[[int], str],
        credentials: Credentials,
        server_time: float,
    ) -> str | None:
        reason = super().check_signed_fields(fields, payload, credentials, server_time)
        if reason is None and self.settings.passphrase and fields.get("passphrase") != credentials.passphrase:
            return INVALID_PASSPHRASE
        return reason

    def check_rest_request(self, request: RestRequest, credentials: Credentials, server_time: float) -> str | None:
        """Why a signed REST request is refused (see the module docstring), or None to accept it."""
        headers = request.headers
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        fields = {
            "api_key": headers.get(API_KEY_HEADER.lower()),
            "timestamp": int(timestamp) if timestamp.isdecimal() else timestamp,
            "signature": headers.get(SIGNATURE_HEADER.lower()),
            "passphrase": headers.get(PASSPHRASE_HEADER.lower()),
        }
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        method = request.method.upper()
        return self.check_signed_fields(
            fields, lambda sent: f"{sent}{method}{path}{request.body}", credentials, server_time
        )

    def classify_client(self, message: Any) -> ClientIntent:
        if message == "ping":
            return ClientIntent.PING if self.settings.ping_style == "text" else ClientIntent.OTHER
        intent = super().classify_client(message)
        if intent is ClientIntent.PING:
            return intent if self.settings.ping_style == "json" else ClientIntent.OTHER
        return intent if intent in self.SPOKEN else ClientIntent.OTHER

    def pong(self, message: Any) -> Any:
        return "pong" if self.settings.ping_style == "text" else {"op": "pong"}


class LoginMessageDialect(_ReferenceVariant):
    """The login-message archetype: `ReferenceDialect`'s protocol, shaped by the settings.

    =================  ==================================================================================
    client login       ``{"op": "login", "args": {"api_key", "timestamp", "signature"[, "passphrase"]}}``,
                       signed over ``f"{timestamp}GET/users/self/verify"``
    login ack          ``{"event": "login", "code": 0}``
    login rejected     ``{"event": "error", "code": 401, "msg": reason}``
    client subscribe   ``{"op": "subscribe", "channel": C}``, one channel per message, after the ack
    subscribe ack      ``{"event": "subscribed", "channel": C}``
    subscribe refused  ``{"event": "error", "code": 403, "msg": reason}``
    user event         ``{"channel": C, "data": {...}}``
    =================  ==================================================================================
    """


class SignedSubscribeDialect(_ReferenceVariant):
    """The signed-subscribe archetype: no login; every subscribe carries its own signature.

    =================  ==================================================================================
    client subscribe   ``{"op": "subscribe", "id": N, "channel": C, "auth": {"api_key", "timestamp",
                       "signature"[, "passphrase"]}}``, signed over ``f"{timestamp}subscribe{channel}"``
    subscribe ack      ``{"event": "subscribed", "id": N, "channel": C}``
    signature refused  ``{"event": "error", "id": N, "code": 401, "msg": reason}``
    channel refused    ``{"event": "error", "id": N, "code": 403, "msg": "unknown channel ..."}``
    user event         ``{"channel": C, "data": {...}}``
    =================  ==================================================================================
    """

    requires_login = False
    SPOKEN: ClassVar[frozenset[ClientIntent]] = frozenset({ClientIntent.SUBSCRIBE})

    @staticmethod
    def subscribe_payload(timestamp_ms: int, channel: str) -> str:
        return f"{timestamp_ms}subscribe{channel}"

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        auth = message.get("auth")
        if not isinstance(auth, dict):
            return "subscribe auth must be an object"
        channel = str(message.get("channel"))
        return self.check_signed_fields(
            auth, lambda timestamp: self.subscribe_payload(timestamp, channel), credentials, server_time
        )

    def subscribe_replies(self, message: Any) -> list[Any]:
        channel = message.get("channel")
        if channel not in self.CHANNELS:
            return [self.error(message, FORBIDDEN, f"unknown channel {channel!r}")]
        return [{"event": "subscribed", "id": message.get("id"), "channel": channel}]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return self.error(message, AUTH_ERROR, reason)  # check_subscribe refuses signatures only

    @staticmethod
    def error(message: Any, code: int, reason: str) -> dict[str, Any]:
        return {"event": "error", "id": message.get("id"), "code": code, "msg": reason}


# --- REST token --------------------------------------------------------------------------------------


@dataclass
class TokenState:
    """The tokens the fake issued, and the knobs a test turns."""

    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    failures: list[RestResponse] = field(default_factory=list)
    exchange: FakeExchange | None = field(default=None, repr=False)

    def is_valid(self, token: str | None) -> bool:
        return token is not None and token in self.issued and token not in self.revoked

    def fail_next(self, status: int = UNAVAILABLE, reason: str = "service unavailable", times: int = 1) -> None:
        """Answer the next token requests with ``status`` and ``reason``."""
        self.failures.extend([RestResponse(error_body(status, reason), status)] * times)

    async def expire(self, token: str | None = None) -> None:
        """Expire one token (or every token issued) and tell the connections using it, as the exchange would."""
        expired = [token] if token is not None else list(self.issued)
        self.revoked.update(expired)
        exchange = _installed(self.exchange)
        for connection in exchange.connections:
            if connection.open and connection.query.get("token") in expired:
                await exchange.push({"event": "error", "code": AUTH_ERROR, "msg": "token expired"}, to=connection)

    def mint(self) -> str:
        token = secrets.token_urlsafe(32)
        self.issued.append(token)
        return token


class RestTokenDialect(_ReferenceVariant):
    """The REST-token archetype: a signed REST call mints a token, the connection URL carries it.

    =================  ==================================================================================
    mint a token       ``POST /api/v1/user-stream/token``, signed REST (no body) →
                       ``{"token": T, "expires_in": 600}``
    connect            ``<ws_url>?token=T``; an unknown or expired token is refused at the upgrade (401)
    client subscribe   ``{"op": "subscribe", "channel": C}``, no login
    subscribe ack      ``{"event": "subscribed", "channel": C}``
    subscribe refused  ``{"event": "error", "code": 403, "msg": reason}``
    token expired      ``{"event": "error", "code": 401, "msg": "token expired"}`` while streaming
    user event         ``{"channel": C, "data": {...}}``
    =================  ==================================================================================
    """

    requires_login = False
    SPOKEN: ClassVar[frozenset[ClientIntent]] = frozenset({ClientIntent.SUBSCRIBE})

    def __init__(self, settings: ReferenceSettings = DEFAULT_SETTINGS) -> None:
        super().__init__(settings)
        self.tokens = TokenState()

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        return None if self.tokens.is_valid(query.get("token")) else "invalid or expired token"


def install_rest_token(exchange: FakeExchange) -> TokenState:
    """Serve the token endpoint on ``exchange`` (whose dialect must be a `RestTokenDialect`); return its tokens."""
    dialect = exchange.dialect
    if not isinstance(dialect, RestTokenDialect):
        raise TypeError(f"install_rest_token() needs a FakeExchange speaking RestTokenDialect, not {dialect!r}")
    tokens = dialect.tokens
    tokens.exchange = exchange

    def mint(request: RestRequest) -> RestResponse:
        if tokens.failures:
            return tokens.failures.pop(0)
        reason = dialect.check_rest_request(request, exchange.credentials, exchange.now())
        if reason is not None:
            return RestResponse(error_body(AUTH_ERROR, reason), AUTH_ERROR)
        return RestResponse({"token": tokens.mint(), "expires_in": TOKEN_LIFETIME})

    exchange.route("POST", TOKEN_PATH, mint)
    return tokens


# --- listen key --------------------------------------------------------------------------------------


@dataclass
class ListenKeyState:
    """The listen keys the fake issued, extended and closed, and the knobs a test turns."""

    issued: list[str] = field(default_factory=list)
    active: set[str] = field(default_factory=set)
    keepalives: list[str] = field(default_factory=list)
    """The key of each successful PUT, in order."""
    closed: list[str] = field(default_factory=list)
    failures: dict[str, list[RestResponse]] = field(default_factory=dict)
    exchange: FakeExchange | None = field(default=None, repr=False)

    def fail_next(self, method: str, status: int = NOT_FOUND, reason: str = "listen key does not exist") -> None:
        """Answer the next ``method`` (POST, PUT, DELETE) call with ``status`` and ``reason``."""
        self.failures.setdefault(method.upper(), []).append(RestResponse(error_body(status, reason), status))

    async def expire(self, key: str | None = None) -> list[str]:
        """Expire one key (or every active key) and push ``listen_key_expired`` on the connections using it."""
        expired = [key] if key is not None else sorted(self.active)
        self.active.difference_update(expired)
        exchange = _installed(self.exchange)
        for connection in exchange.connections:
            used = listen_key_of(connection.path)
            if connection.open and used in expired:
                await exchange.push({"event": LISTEN_KEY_EXPIRED, "listen_key": used}, to=connection)
        return expired

    def serve(self, request: RestRequest) -> RestResponse:
        """``POST``, ``PUT`` or ``DELETE`` on the listen-key path."""
        exchange = _installed(self.exchange)
        if request.headers.get(API_KEY_HEADER) != exchange.credentials.api_key:
            return RestResponse(error_body(AUTH_ERROR, INVALID_API_KEY), AUTH_ERROR)
        scripted = self.failures.get(request.method.upper())
        if scripted:
            return scripted.pop(0)
        if request.method.upper() == "POST":
            key = secrets.token_urlsafe(32)
            self.issued.append(key)
            self.active.add(key)
            return RestResponse({"listenKey": key})
        key = request.query.get(LISTEN_KEY_PARAM, "")
        if key not in self.active:
            return RestResponse(error_body(NOT_FOUND, "listen key does not exist"), NOT_FOUND)
        if request.method.upper() == "PUT":
            self.keepalives.append(key)
        else:
            self.active.discard(key)
            self.closed.append(key)
        return RestResponse({})


def listen_key_of(path: str) -> str | None:
    """The listen key in a WebSocket path (``/ws/<key>``), or None."""
    if not path.startswith(_WS_PREFIX):
        return None
    return path[len(_WS_PREFIX) :] or None


class ListenKeyDialect(_ReferenceVariant):
    """The listen-key archetype: a key minted over REST is the only credential; clients send nothing but pings.

    =================  ==================================================================================
    create a key       ``POST /api/v1/user-stream/listen-key``, header ``X-API-KEY`` → ``{"listenKey": K}``
    extend it          ``PUT /api/v1/user-stream/listen-key?listenKey=K`` → ``{}``
    close it           ``DELETE /api/v1/user-stream/listen-key?listenKey=K`` → ``{}``
    errors             HTTP 401 ``{"code": 401, "msg": "invalid api key"}``; HTTP 404 ``{"code": 404,
                       "msg": "listen key does not exist"}``
    connect            ``<ws_url>/<K>``: no login, no subscribe; a dead key is refused at the upgrade (401)
    user event         ``{"event": C, "data": {...}}``, ``C`` one of the channels
    end of stream      ``{"event": "listen_key_expired", "listen_key": K}``
    =================  ==================================================================================
    """

    requires_login = False
    SPOKEN: ClassVar[frozenset[ClientIntent]] = frozenset()

    def __init__(self, settings: ReferenceSettings = DEFAULT_SETTINGS) -> None:
        super().__init__(settings)
        self.keys = ListenKeyState()

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        key = listen_key_of(path)
        if key is None:
            return "no listen key in the URL"
        return None if key in self.keys.active else "invalid or expired listen key"

    def user_event(self, channel: str, data: Any) -> Any:
        return {"event": channel, "data": data}


def install_listen_key(exchange: FakeExchange) -> ListenKeyState:
    """Serve the listen-key endpoint on ``exchange`` (whose dialect must be a `ListenKeyDialect`); return its keys."""
    dialect = exchange.dialect
    if not isinstance(dialect, ListenKeyDialect):
        raise TypeError(f"install_listen_key() needs a FakeExchange speaking ListenKeyDialect, not {dialect!r}")
    keys = dialect.keys
    keys.exchange = exchange
    for method in ("POST", "PUT", "DELETE"):
        exchange.route(method, LISTEN_KEY_PATH, keys.serve)
    return keys


# --- REST polling ------------------------------------------------------------------------------------


class RestPollingDialect(_ReferenceVariant):
    """The REST-polling archetype: no private WebSocket; signed GETs read the account (`install_account`).

    The account routes are the module docstring's. Only the settings' signing matters: no client
    connects to its WebSocket.
    """

    SPOKEN: ClassVar[frozenset[ClientIntent]] = frozenset()


@dataclass
class ReferenceOrder:
    """One order as the exchange stores it."""

    order_id: str
    symbol: str
    side: str
    type: str
    price: Decimal
    amount: Decimal
    client_order_id: str | None
    created_at: int
    updated_at: int
    filled_amount: Decimal = Decimal(0)
    status: str = "new"

    def as_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "type": self.type,
            "price": str(self.price),
            "amount": str(self.amount),
            "filled_amount": str(self.filled_amount),
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def as_update(self) -> OrderUpdate:
        return OrderUpdate(
            exchange_order_id=self.order_id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            status=ORDER_STATUSES[self.status],
            price=self.price,
            quantity=self.amount,
            filled_quantity=self.filled_amount,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True)
class ReferenceFill(LedgerFill):
    """One execution, as the exchange stores it, and as the reference protocol writes it."""

    def as_json(self) -> dict[str, Any]:
        return {
            "trade_id": self.trade_id,
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "price": str(self.price),
            "amount": str(self.amount),
            "fee": str(self.fee),
            "fee_asset": self.fee_asset,
            "time": self.time,
        }


@dataclass
class ReferenceAccount:
    """The exchange's own truth about one account: balances, orders and fills (`install_account`).

    Tests change it with `set_balance`, `place_order`, `fill` and `cancel`. Each change is served at once
    by the REST routes, and queued as the user events the exchange would push (`pending_events`);
    `publish()` pushes them to the open connections. A polling connector sees changes on its next poll.
    Every change is stamped with the exchange's clock in ms, strictly increasing, as ``updated_at`` /
    ``time``: the ordering a connector uses to tell an older snapshot from a newer event.
    """

    exchange: FakeExchange
    dialect: _ReferenceVariant
    balances: dict[str, tuple[Decimal, Decimal, int]] = field(default_factory=dict)
    """asset → (total, available, time of the last change)."""
    orders: dict[str, ReferenceOrder] = field(default_factory=dict)
    fills: list[ReferenceFill] = field(default_factory=list)
    pending_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """``(channel, data)`` of the changes not yet pushed, in the order they happened."""
    rejections: list[tuple[str, str]] = field(default_factory=list)
    """Signed requests refused, as ``(path, reason)``."""
    _faults: list[RestResponse] = field(default_factory=list)
    _order_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _trade_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5001))
    _last_stamp: int = 0

    def stamp(self) -> int:
        """The exchange's clock in ms, strictly after the previous stamp: every change has its own moment."""
        self._last_stamp = max(int(self.exchange.now() * 1000), self._last_stamp + 1)
        return self._last_stamp

    def set_balance(self, asset: str, total: str | Decimal, available: str | Decimal | None = None) -> None:
        total = Decimal(total)
        available = total if available is None else Decimal(available)
        stamp = self.stamp()
        self.balances[asset] = (total, available, stamp)
        self.pending_events.append((BALANCES_CHANNEL, self.balance_json(asset)))

    def deposit(self, asset: str, amount: str | Decimal) -> None:
        """Credit ``amount`` (negative: a withdrawal): the reference protocol pushes the balance it leaves."""
        total, available, _ = self.balances.get(asset, (Decimal(0), Decimal(0), 0))
        self.set_balance(asset, total + Decimal(amount), available + Decimal(amount))

    @property
    def pages_served(self) -> Mapping[str, int]:
        """Always empty: the reference protocol's account endpoints answer in one reply, never paged."""
        return {}

    def place_order(
        self,
        symbol: str | None = "BTC-USDT",
        side: str = "buy",
        price: str = "30000",
        amount: str = "0.01",
        *,
        order_type: str = "limit",
        client_order_id: str | None = None,
    ) -> ReferenceOrder:
        stamp = self.stamp()
        order = ReferenceOrder(
            order_id=str(next(self._order_ids)),
            symbol=symbol or "BTC-USDT",
            side=side,
            type=order_type,
            price=Decimal(price),
            amount=Decimal(amount),
            client_order_id=client_order_id,
            created_at=stamp,
            updated_at=stamp,
        )
        self.orders[order.order_id] = order
        self.pending_events.append((ORDERS_CHANNEL, order.as_json()))
        return order

    def fill(self, order_id: str, amount: str, *, fee: str = "0", fee_asset: str = "USDT") -> ReferenceOrder:
        """Fill ``amount`` more of an open order (at most what is left): ``partially_filled``, or ``filled``.

        Records the fill, then the order's new state, as the exchange pushes them: fill first. Balances
        are not touched; a test moves them with `set_balance`.
        """
        order = self.orders[order_id]
        if order.status not in OPEN_ORDER_STATUSES:
            raise ValueError(f"order {order_id} is {order.status}: it cannot fill")
        executed = min(order.amount - order.filled_amount, Decimal(amount))
        stamp = self.stamp()
        execution = ReferenceFill(
            trade_id=str(next(self._trade_ids)),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=order.price,
            amount=executed,
            fee=Decimal(fee),
            fee_asset=fee_asset,
            time=stamp,
        )
        self.fills.append(execution)
        order.filled_amount += executed
        order.status = "filled" if order.filled_amount >= order.amount else "partially_filled"
        order.updated_at = stamp
        self.pending_events.append((FILLS_CHANNEL, execution.as_json()))
        self.pending_events.append((ORDERS_CHANNEL, order.as_json()))
        return order

    def cancel(self, order_id: str) -> ReferenceOrder:
        order = self.orders[order_id]
        if order.status not in OPEN_ORDER_STATUSES:
            raise ValueError(f"order {order_id} is {order.status}: it cannot be canceled")
        order.status = "canceled"
        order.updated_at = self.stamp()
        self.pending_events.append((ORDERS_CHANNEL, order.as_json()))
        return order

    async def publish(self) -> int:
        """Push the pending changes' user events, in order, to every open connection; return how many events.

        A connection that is down or silent misses them, as it would on the real exchange.
        """
        events, self.pending_events = self.pending_events, []
        for channel, data in events:
            await self.exchange.push_event(channel, data)
        return len(events)

    def fail_next(self, count: int = 1, status: int = UNAVAILABLE) -> None:
        """The next ``count`` signed requests fail with ``status``."""
        self._faults.extend([RestResponse(error_body(status, "service unavailable"), status)] * count)

    def signed(self, handler: Callable[[RestRequest], Any]) -> Callable[[RestRequest], Any]:
        """``handler`` behind the signature check and the scripted faults."""

        def serve(request: RestRequest) -> Any:
            if self._faults:
                return self._faults.pop(0)
            reason = self.dialect.check_rest_request(request, self.exchange.credentials, self.exchange.now())
            if reason is not None:
                self.rejections.append((request.path, reason))
                return RestResponse(error_body(AUTH_ERROR, reason), AUTH_ERROR)
            return handler(request)

        return serve

    def truth(self) -> AccountSnapshot:
        """Balances, open orders and every fill, typed as a connector reports them: what a tracker must end up with."""
        balances = {
            asset: BalanceUpdate(asset=asset, total=total, available=available, updated_at=stamp)
            for asset, (total, available, stamp) in self.balances.items()
        }
        orders = {order.order_id: order.as_update() for order in self.open_orders()}
        return AccountSnapshot(balances, orders, [execution.as_fill() for execution in self.fills])

    def closed_orders(self) -> list[OrderUpdate]:
        return [order.as_update() for order in self.finished_orders()]

    def finished_orders(self) -> list[ReferenceOrder]:
        """The orders that became ``filled`` or ``canceled``, in the order they did."""
        finished = (order for order in self.orders.values() if order.status in FINAL_ORDER_STATUSES)
        return sorted(finished, key=lambda order: order.updated_at)

    def balance_json(self, asset: str) -> dict[str, Any]:
        total, available, stamp = self.balances[asset]
        return {"asset": asset, "total": str(total), "available": str(available), "time": stamp}

    def open_orders(self) -> list[ReferenceOrder]:
        return [order for order in self.orders.values() if order.status in OPEN_ORDER_STATUSES]

    def balances_reply(self, request: RestRequest) -> Any:
        return {"balances": [self.balance_json(asset) for asset in sorted(self.balances)]}

    def open_orders_reply(self, request: RestRequest) -> Any:
        return {"orders": [order.as_json() for order in self.open_orders()]}

    def order_reply(self, request: RestRequest) -> Any:
        order = self.orders.get(request.query.get(ORDER_ID_PARAM, ""))
        if order is None:
            return RestResponse(error_body(NOT_FOUND, "order not found"), NOT_FOUND)
        return {"order": order.as_json()}

    def fills_reply(self, request: RestRequest) -> Any:
        return _most_recent(request, "fills", [execution.as_json() for execution in self.fills])

    def order_history_reply(self, request: RestRequest) -> Any:
        return _most_recent(request, "orders", [order.as_json() for order in self.finished_orders()])


def _most_recent(request: RestRequest, key: str, rows: list[dict[str, Any]]) -> Any:
    """``{key: the last `limit` rows}`` (default `HISTORY_LIMIT`); HTTP 400 for a limit outside 1 to `HISTORY_LIMIT`."""
    limit = request.query.get("limit", str(HISTORY_LIMIT))
    if not (limit.isdecimal() and 1 <= int(limit) <= HISTORY_LIMIT):
        return RestResponse(error_body(400, f"limit must be 1 to {HISTORY_LIMIT}"), 400)
    return {key: rows[-int(limit) :]}


def install_account(exchange: FakeExchange) -> ReferenceAccount:
    """Serve the account routes on ``exchange`` (speaking any reference variant); return the account's truth."""
    dialect = exchange.dialect
    if not isinstance(dialect, _ReferenceVariant):
        raise TypeError(f"install_account() needs a FakeExchange speaking a reference dialect, not {dialect!r}")
    account = ReferenceAccount(exchange, dialect)
    exchange.route("GET", BALANCES_PATH, account.signed(account.balances_reply))
    exchange.route("GET", OPEN_ORDERS_PATH, account.signed(account.open_orders_reply))
    exchange.route("GET", ORDER_PATH, account.signed(account.order_reply))
    exchange.route("GET", FILLS_PATH, account.signed(account.fills_reply))
    exchange.route("GET", ORDER_HISTORY_PATH, account.signed(account.order_history_reply))
    return account


def _installed(exchange: FakeExchange | None) -> FakeExchange:
    if exchange is None:
        raise RuntimeError("the state is not installed on a fake exchange; call its install_*() function")
    return exchange
