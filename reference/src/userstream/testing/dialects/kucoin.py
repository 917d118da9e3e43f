"""KuCoin's spot private stream as the fake exchange speaks it: a REST token, then a WebSocket.

Modelled on KuCoin's documentation (classic spot API, WebSocket v1):

- token: ``POST /api/v1/bullet-private``, signed with ``KC-API-KEY``, ``KC-API-SIGN`` (base64
  HMAC-SHA256 of ``timestamp + method + path + body``), ``KC-API-TIMESTAMP`` (ms, within 5 s of
  the exchange's clock), ``KC-API-PASSPHRASE`` (key version 2: base64 HMAC-SHA256 of the passphrase)
  and ``KC-API-KEY-VERSION: 2``. Reply ``{"code": "200000", "data": {"token", "instanceServers":
  [{"endpoint", "encrypt", "protocol", "pingInterval", "pingTimeout"}]}}``; errors are gateway codes
  with HTTP 401 (``400002`` Invalid KC-API-TIMESTAMP, ``400003`` KC-API-KEY not exists, ...).
- time: ``GET /api/v1/timestamp`` → ``{"code": "200000", "data": ms}``.
- connect: ``endpoint?token=...&connectId=...``; a token that is unknown, expired or revoked is
  refused at the upgrade (HTTP 401, KuCoin's WebSocket error 401 "token is invalid"); the first
  frame is ``{"id", "type": "welcome"}``.
- subscribe ``{"id", "type": "subscribe", "topic", "privateChannel": true, "response": true}`` →
  ``{"id", "type": "ack"}``, or ``{"id", "type": "error", "code": 404, "data": "topic ... is not found"}``.
- ping ``{"id", "type": "ping"}`` → ``{"id", "type": "pong"}``.
- user messages ``{"type": "message", "topic", "subject", "channelType": "private", "data"}``:
  ``/spotMarket/tradeOrdersV2`` (``orderChange``) and ``/account/balance`` (``account.balance``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from userstream.testing.contract import TEST_TIMINGS, WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse

BULLET_PRIVATE_PATH = "/api/v1/bullet-private"
SERVER_TIME_PATH = "/api/v1/timestamp"
ORDER_TOPIC = "/spotMarket/tradeOrdersV2"
BALANCE_TOPIC = "/account/balance"
SUBJECTS: Mapping[str, str] = {ORDER_TOPIC: "orderChange", BALANCE_TOPIC: "account.balance"}
SUCCESS = "200000"
TIMESTAMP_WINDOW_MS = 5_000
API_KEY_VERSION = "2"

# KuCoin's gateway errors (code, message, HTTP status).
MISSING_HEADERS = ("400001", "Please check the URL of your request.", 401)
INVALID_TIMESTAMP = ("400002", "Invalid KC-API-TIMESTAMP", 401)
KEY_NOT_EXISTS = ("400003", "KC-API-KEY not exists", 401)
INVALID_PASSPHRASE = ("400004", "Invalid KC-API-PASSPHRASE", 401)
INVALID_SIGN = ("400005", "Invalid KC-API-SIGN", 401)
INVALID_KEY_VERSION = ("400009", "Invalid KC-API-KEY-VERSION", 401)
INTERNAL_ERROR = ("500000", "Internal Server Error", 500)

TOKEN_INVALID = "token is invalid"
_SUBSCRIBE_ERROR_CODES = {"topic is required": 406, "login is required": 403}


def sign(secret: str, payload: str) -> str:
    """Base64 HMAC-SHA256, KuCoin's signature for ``KC-API-SIGN`` and (key version 2) ``KC-API-PASSPHRASE``."""
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()


@dataclass
class KucoinState:
    """The tokens the fake KuCoin issued, and the knobs tests turn."""

    endpoint: str = "wss://ws-api-spot.kucoin.com/"
    """Where ``instanceServers`` sends clients; `install` points it at the fake exchange."""
    ping_interval_ms: int = 18_000
    ping_timeout_ms: int = 10_000
    issued: list[str] = field(default_factory=list)
    """Every token minted, in order."""
    revoked: set[str] = field(default_factory=set)
    expire_on_issue: int = 0
    """How many of the next tokens are born expired: minted, but refused at connect."""
    failures: list[tuple[str, str, int]] = field(default_factory=list)

    def is_valid(self, token: str | None) -> bool:
        return token is not None and token in self.issued and token not in self.revoked

    def revoke(self, token: str | None = None) -> None:
        """Expire one token, or every token issued so far."""
        self.revoked.update([token] if token is not None else self.issued)

    def fail_next(self, error: tuple[str, str, int] = KEY_NOT_EXISTS, times: int = 1) -> None:
        """Answer the next token calls with a gateway error ``(code, msg, HTTP status)``."""
        self.failures.extend([error] * times)

    def mint(self) -> str:
        token = secrets.token_urlsafe(48) + "." + secrets.token_urlsafe(16)
        self.issued.append(token)
        if self.expire_on_issue > 0:
            self.expire_on_issue -= 1
            self.revoked.add(token)
        return token


class KucoinDialect(Dialect):
    """The WebSocket half of the fake KuCoin; `install` adds the REST half."""

    requires_login = False  # the token in the URL authenticates the connection

    def __init__(self, state: KucoinState | None = None) -> None:
        self.state = state or KucoinState()

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        return None if self.state.is_valid(query.get("token")) else TOKEN_INVALID

    def greeting(self) -> list[Any]:
        # KuCoin echoes the client's connectId here; greeting() does not see the URL, so the id is fresh.
        return [{"id": uuid.uuid4().hex, "type": "welcome"}]

    def classify_client(self, message: Any) -> ClientIntent:
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "subscribe":
            return ClientIntent.SUBSCRIBE
        if kind == "ping":
            return ClientIntent.PING
        return ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "KuCoin has no login message: the token in the URL authenticates"

    def login_ack(self, message: Any) -> Any:
        return error_frame(415, "command type is invalid")

    def login_rejection(self, message: Any, reason: str) -> Any:
        return error_frame(415, reason)

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        topic = message.get("topic")
        if not topic:
            return "topic is required"
        if topic not in SUBJECTS:
            return f"topic {topic} is not found"
        if message.get("privateChannel") not in (True, "true"):
            return "login is required"  # private topics on a public subscription
        return None

    def subscribe_replies(self, message: Any) -> list[Any]:
        return [{"id": str(message.get("id")), "type": "ack"}] if message.get("response") in (True, "true") else []

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return error_frame(_SUBSCRIBE_ERROR_CODES.get(reason, 404), reason, message_id=message.get("id"))

    def pong(self, message: Any) -> Any:
        return {"id": str(message.get("id")), "type": "pong"}

    def heartbeat(self) -> Any:
        # KuCoin pushes no heartbeat of its own; an unsolicited pong stands in for one.
        return {"id": uuid.uuid4().hex, "type": "pong"}

    def user_event(self, channel: str, data: Any) -> Any:
        return {"type": "message", "topic": channel, "subject": SUBJECTS.get(channel, "message"), **_private(data)}


def install(exchange: FakeExchange) -> KucoinState:
    """Serve KuCoin's token and time endpoints on ``exchange`` (whose dialect must be a `KucoinDialect`)."""
    dialect = exchange.dialect
    if not isinstance(dialect, KucoinDialect):
        raise TypeError(f"install() needs a FakeExchange speaking KucoinDialect, not {type(dialect).__name__}")
    state = dialect.state
    state.endpoint = exchange.ws_url

    def bullet_private(request: RestRequest) -> RestResponse:
        if state.failures:
            return _error(state.failures.pop(0))
        error = check_signature(request, exchange.credentials, exchange.now())
        if error is not None:
            return _error(error)
        server = {
            "endpoint": state.endpoint,
            "encrypt": state.endpoint.startswith("wss"),
            "protocol": "websocket",
            "pingInterval": state.ping_interval_ms,
            "pingTimeout": state.ping_timeout_ms,
        }
        return RestResponse({"code": SUCCESS, "data": {"token": state.mint(), "instanceServers": [server]}})

    def timestamp(request: RestRequest) -> RestResponse:
        return RestResponse({"code": SUCCESS, "msg": "success", "data": int(exchange.now() * 1000)})

    exchange.route("POST", BULLET_PRIVATE_PATH, bullet_private)
    exchange.route("GET", SERVER_TIME_PATH, timestamp)
    return state


def check_signature(request: RestRequest, credentials: Credentials, server_time: float) -> tuple[str, str, int] | None:
    """Why KuCoin's gateway refuses a signed request, as ``(code, msg, HTTP status)``, or None to accept it."""
    headers = request.headers
    required = ("kc-api-key", "kc-api-sign", "kc-api-timestamp", "kc-api-passphrase")
    if any(name not in headers for name in required):
        return MISSING_HEADERS
    if headers["kc-api-key"] != credentials.api_key:
        return KEY_NOT_EXISTS
    timestamp = headers["kc-api-timestamp"]
    if not timestamp.isdigit() or abs(int(timestamp) - server_time * 1000) > TIMESTAMP_WINDOW_MS:
        return INVALID_TIMESTAMP
    if headers.get("kc-api-key-version") != API_KEY_VERSION:
        return INVALID_KEY_VERSION
    if not hmac.compare_digest(headers["kc-api-passphrase"], sign(credentials.secret, credentials.passphrase or "")):
        return INVALID_PASSPHRASE
    path = request.path + ("?" + "&".join(f"{k}={v}" for k, v in request.query.items()) if request.query else "")
    expected = sign(credentials.secret, timestamp + request.method.upper() + path + request.body)
    if not hmac.compare_digest(headers["kc-api-sign"], expected):
        return INVALID_SIGN
    return None


# --- frames tests push ---------------------------------------------------------------------------


def error_frame(code: int, data: str, *, message_id: Any = None) -> dict[str, Any]:
    """KuCoin's WebSocket error: ``{"id", "type": "error", "code": 401, "data": "token is invalid"}``."""
    return {
        "id": str(message_id) if message_id is not None else uuid.uuid4().hex,
        "type": "error",
        "code": code,
        "data": data,
    }


def order_change(
    order_id: str,
    *,
    kind: str = "open",
    status: str = "open",
    symbol: str = "BTC-USDT",
    side: str = "buy",
    order_type: str = "limit",
    price: str = "30000",
    size: str = "0.1",
    filled_size: str = "0",
    client_oid: str | None = None,
    ts_ns: int = 1_700_000_000_000_000_000,
    **extra: Any,
) -> dict[str, Any]:
    """An ``orderChange`` on ``/spotMarket/tradeOrdersV2``; ``kind`` is its ``type``: received, open, match,
    update, filled or canceled."""
    remain = f"{float(size) - float(filled_size):g}"
    data = {
        "symbol": symbol,
        "orderType": order_type,
        "side": side,
        "orderId": order_id,
        "type": kind,
        "orderTime": ts_ns // 1_000_000,
        "size": size,
        "filledSize": filled_size,
        "price": price,
        "clientOid": client_oid or f"client-{order_id}",
        "remainSize": remain,
        "status": status,
        "ts": ts_ns,
        **extra,
    }
    return {"type": "message", "topic": ORDER_TOPIC, "subject": SUBJECTS[ORDER_TOPIC], **_private(data)}


def order_fill(
    order_id: str,
    trade_id: str,
    *,
    match_price: str,
    match_size: str,
    liquidity: str = "taker",
    size: str = "0.1",
    filled_size: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A fill: an ``orderChange`` of type ``match`` with ``matchPrice``, ``matchSize`` and ``tradeId``.

    The order's ``status`` is ``match`` for the taker side and ``open`` for a resting maker order.
    """
    return order_change(
        order_id,
        kind="match",
        status="match" if liquidity == "taker" else "open",
        size=size,
        filled_size=filled_size if filled_size is not None else match_size,
        matchPrice=match_price,
        matchSize=match_size,
        tradeId=trade_id,
        liquidity=liquidity,
        feeType=f"{liquidity}Fee",
        **fields,
    )


def balance_change(
    currency: str,
    *,
    total: str,
    available: str,
    hold: str = "0",
    available_change: str = "0",
    hold_change: str = "0",
    relation_event: str = "trade.setted",
    order_id: str | None = None,
    time_ms: int = 1_700_000_000_000,
) -> dict[str, Any]:
    """An ``account.balance`` message on ``/account/balance``."""
    context = {"symbol": "BTC-USDT", "orderId": order_id} if order_id else {}
    data = {
        "total": total,
        "available": available,
        "availableChange": available_change,
        "currency": currency,
        "hold": hold,
        "holdChange": hold_change,
        "relationEvent": relation_event,
        "relationEventId": uuid.uuid4().hex[:24],
        "relationContext": context,
        "time": str(time_ms),
    }
    return {"type": "message", "topic": BALANCE_TOPIC, "subject": SUBJECTS[BALANCE_TOPIC], **_private(data)}


def _private(data: Any) -> dict[str, Any]:
    return {"channelType": "private", "data": data}


def _error(error: tuple[str, str, int]) -> RestResponse:
    code, msg, status = error
    return RestResponse({"code": code, "msg": msg}, status=status)


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as KuCoin spot documents them, for the tests."""

    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "type": "message",
        "topic": "/spotMarket/tradeOrdersV2",
        "subject": "orderChange",
        "channelType": "private",
        "data": {
            "symbol": "BTC-USDT",
            "orderType": "limit",
            "side": "buy",
            "orderId": "6712c8b1e2f5a30007e5d8c1",
            "type": "open",
            "orderTime": 1795568753027,
            "size": "0.1",
            "filledSize": "0",
            "price": "30000",
            "clientOid": "bot-1",
            "remainSize": "0.1",
            "status": "open",
            "ts": 1795568753027000000,
        },
    }
    FILL: ClassVar[dict[str, Any]] = {
        "type": "message",
        "topic": "/spotMarket/tradeOrdersV2",
        "subject": "orderChange",
        "channelType": "private",
        "data": {
            **ORDER_UPDATE["data"],
            "type": "match",
            "status": "match",
            "filledSize": "0.1",
            "remainSize": "0",
            "matchPrice": "30000",
            "matchSize": "0.1",
            "tradeId": "11116472408846337",
            "liquidity": "taker",
            "feeType": "takerFee",
            "ts": 1795568753127000000,
        },
    }
    BALANCE_UPDATE: ClassVar[dict[str, Any]] = {
        "type": "message",
        "topic": "/account/balance",
        "subject": "account.balance",
        "channelType": "private",
        "data": {
            "total": "970",
            "available": "970",
            "availableChange": "-30",
            "currency": "USDT",
            "hold": "0",
            "holdChange": "0",
            "relationEvent": "trade.setted",
            "relationEventId": "3f3c16c17fd44060a0efdc31",
            "relationContext": {"symbol": "BTC-USDT", "orderId": "6712c8b1e2f5a30007e5d8c1"},
            "time": "1795568753127",
        },
    }
    WELCOME: ClassVar[dict[str, Any]] = {"id": "hQvf8jkno", "type": "welcome"}
    SUBSCRIBED: ClassVar[dict[str, Any]] = {"id": "1545910660739", "type": "ack"}
    PONG: ClassVar[dict[str, Any]] = {"id": "1545910590801", "type": "pong"}
    TOKEN_INVALID: ClassVar[dict[str, Any]] = {
        "id": "hQvf8jkno",
        "type": "error",
        "code": 401,
        "data": "token is invalid",
    }
    TOPIC_NOT_FOUND: ClassVar[dict[str, Any]] = {
        "id": "1545910660739",
        "type": "error",
        "code": 404,
        "data": "topic /spotMarket/tradeOrders is not found",
    }

    # REST: POST /api/v1/bullet-private and GET /api/v1/timestamp.
    TOKEN_GRANTED: ClassVar[dict[str, Any]] = {
        "code": "200000",
        "data": {
            "token": (
                "2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEsEWU64mdzUOPusi34M_wGoSf7i"
                "NyEWJ4aBZXpWhrmY9jKtqkdWoFa75w3istPvPtiYB9J6i9GjsxUuhPw3BlrzazF6ghq4L_u0MhKxG3x8"
                "TeN4aVbNiYo=.mvnekBb8DJegZIgYTs2FBQ=="
            ),
            "instanceServers": [
                {
                    "endpoint": "wss://ws-api-spot.kucoin.com/",
                    "encrypt": True,
                    "protocol": "websocket",
                    "pingInterval": 18000,
                    "pingTimeout": 10000,
                }
            ],
        },
    }
    KEY_NOT_EXISTS: ClassVar[dict[str, Any]] = {"code": "400003", "msg": "KC-API-KEY not exists"}
    INVALID_TIMESTAMP: ClassVar[dict[str, Any]] = {"code": "400002", "msg": "Invalid KC-API-TIMESTAMP"}
    SERVER_TIME: ClassVar[dict[str, Any]] = {"code": "200000", "msg": "success", "data": 1795568753027}


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    def dialect(self) -> Dialect:
        return KucoinDialect()

    def credentials(self) -> Credentials:
        return Credentials(api_key="kucoin-api-key", secret="kucoin-secret", passphrase="kucoin-passphrase")

    def install(self, exchange: FakeExchange) -> None:
        state = install(exchange)  # the token replies name the fake as the endpoint
        # The token reply's pingInterval overrides the contract's timings: make it the contract's, not KuCoin's 18 s.
        state.ping_interval_ms = round(TEST_TIMINGS.ping_interval * 1000)

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.BALANCE_UPDATE]
