"""KuCoin's spot private stream and account as the fake exchange speaks them: a REST token, a WebSocket, signed REST.

Modelled on KuCoin's documentation (https://www.kucoin.com/docs-new, "WebSocket API / Base Info", "Private
Channels / Get Order(V2)", "Get Account Balance", "Spot Trading / Orders"; the machine-readable copy of it in
Kucoin/kucoin-universal-sdk, ``spec/ws/openapi-spot-private.json``, ``spec/rest/api/openapi-spot-order.json`` and
``openapi-account-account.json``, where the classic ``/api/v1/orders`` and ``/api/v1/fills`` are deprecated; the
high-frequency (HF) endpoints' time ranges and relation events from Kucoin/kucoin-api-docs-hf):

=========================  ===========================================================================
token                      ``POST /api/v1/bullet-private``, signed (below). Reply ``{"code": "200000",
                           "data": {"token", "instanceServers": [{"endpoint", "encrypt", "protocol",
                           "pingInterval", "pingTimeout"}]}}``; valid 24 hours
signed REST                ``KC-API-KEY``, ``KC-API-SIGN`` (base64 HMAC-SHA256 of ``timestamp + METHOD +
                           path + "?" + query + body``), ``KC-API-TIMESTAMP`` (ms, within 5 s of the
                           exchange's clock), ``KC-API-PASSPHRASE`` (key version 2: base64 HMAC-SHA256 of
                           the passphrase), ``KC-API-KEY-VERSION: 2``; refused with HTTP 401 and a gateway
                           code (``400002`` Invalid KC-API-TIMESTAMP, ``400003`` KC-API-KEY not exists, ...)
time                       ``GET /api/v1/timestamp`` → ``{"code": "200000", "data": ms}``
connect                    ``endpoint?token=...&connectId=...``; a token that is unknown, expired or revoked
                           is refused at the upgrade (HTTP 401, WebSocket error 401 "token is invalid"); the
                           first frame is ``{"id", "type": "welcome"}``; KuCoin ends a connection after 24
                           hours, announced by nothing (not modelled: no test runs that long)
subscribe                  ``{"id", "type": "subscribe", "topic", "privateChannel": true, "response": true}``
                           → ``{"id", "type": "ack"}``, or ``{"id", "type": "error", "code": 404, "data"}``
ping                       ``{"id", "type": "ping"}`` → ``{"id", "type": "pong"}``
user messages              ``{"topic", "type": "message", "subject", "userId", "channelType": "private",
                           "data"}``: ``/spotMarket/tradeOrdersV2`` (``orderChange``) and ``/account/balance``
                           (``account.balance``)
``GET /api/v1/accounts``   ``type=trade``: the spot account's ``[{"id", "currency", "type", "balance",
                           "available", "holds"}]``
``.../hf/orders/active``   ``symbol`` required: every open order of that symbol, newest update first;
                           ``.../active/symbols`` → ``{"symbols": [...]}``: the symbols with open orders
``.../hf/orders/done``     ``symbol`` required; orders done in the last 3 * 24 hours (an earlier ``startAt``
                           is moved up to that), newest update first; ``limit`` 1-100 (default 20);
                           ``{"lastId", "items"}``, and ``lastId=`` asks for the rows before it
``GET /api/v1/hf/fills``   the same over fills (``createdAt``); ``fee`` positive for a charge
``.../hf/orders/{id}``     ``symbol`` required; a done order only within 3 * 24 hours
errors                     HTTP 4xx/5xx ``{"code": "400100", "msg": ...}``; 429 ``429000``; 5xx ``500000``
=========================  ===========================================================================

An order change pushes ``received`` then ``open`` when placed, ``match`` per fill (with ``tradeId``,
``matchPrice``, ``matchSize``, ``liquidity``; no fee: KuCoin pushes none), ``filled`` once the last fill is in,
``canceled`` when cancelled; ``ts`` is in nanoseconds. A balance push carries the account's absolute ``total``,
``available`` and ``hold`` beside the ``availableChange`` and ``holdChange`` deltas; a deposit reaches the spot
account from the funding account, so it pushes ``main.deposit`` and ``main.transfer`` (the funding account)
before ``trade.transfer``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from userstream.events import OrderStatus
from userstream.testing.contract import TEST_TIMINGS, ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse
from userstream.testing.ledger import BalanceChanged, Change, Ledger, LedgerBalance, LedgerFill, LedgerOrder

BULLET_PRIVATE_PATH = "/api/v1/bullet-private"
SERVER_TIME_PATH = "/api/v1/timestamp"
ORDER_TOPIC = "/spotMarket/tradeOrdersV2"
BALANCE_TOPIC = "/account/balance"
SUBJECTS: Mapping[str, str] = {ORDER_TOPIC: "orderChange", BALANCE_TOPIC: "account.balance"}
SUCCESS = "200000"
TIMESTAMP_WINDOW_MS = 5_000
API_KEY_VERSION = "2"
DEFAULT_USER_ID = "633559791e1cbc0001f319bc"

ACCOUNTS_PATH = "/api/v1/accounts"
OPEN_ORDER_SYMBOLS_PATH = "/api/v1/hf/orders/active/symbols"
OPEN_ORDERS_PATH = "/api/v1/hf/orders/active"
CLOSED_ORDERS_PATH = "/api/v1/hf/orders/done"
FILLS_PATH = "/api/v1/hf/fills"
ORDER_PATH = "/api/v1/hf/orders/{order_id}"
MAX_LIMIT = 100
"""The most rows one page of ``.../hf/orders/done`` or ``.../hf/fills`` holds (``limit``)."""
DEFAULT_LIMIT = 20
HISTORY_MS = 3 * 24 * 3600 * 1000
"""How far back the done orders, the fills and a done order's detail reach: 3 * 24 hours."""
TRADE_ACCOUNT_ID = "548674591753"
MAIN_ACCOUNT_ID = "63355cd156298d0001b66e61"

# KuCoin's gateway errors (code, message, HTTP status).
MISSING_HEADERS = ("400001", "Please check the URL of your request.", 401)
INVALID_TIMESTAMP = ("400002", "Invalid KC-API-TIMESTAMP", 401)
KEY_NOT_EXISTS = ("400003", "KC-API-KEY not exists", 401)
INVALID_PASSPHRASE = ("400004", "Invalid KC-API-PASSPHRASE", 401)
INVALID_SIGN = ("400005", "Invalid KC-API-SIGN", 401)
INVALID_KEY_VERSION = ("400009", "Invalid KC-API-KEY-VERSION", 401)
INTERNAL_ERROR = ("500000", "Internal Server Error", 500)
INVALID_PARAMETER = ("400100", "Invalid Parameter.", 400)
ORDER_NOT_FOUND = ("400100", "order not exist.", 400)
"""The docs say only that a lookup of an unknown order "prompts that the order does not exist"."""
_REST_ERRORS: Mapping[int, tuple[str, str]] = {
    429: ("429000", "Too Many Requests"),
    500: ("500000", "Internal Server Error"),
    503: ("500000", "Internal Server Error"),
}

TOKEN_INVALID = "token is invalid"
_SUBSCRIBE_ERROR_CODES = {"topic is required": 406, "login is required": 403}


def sign(secret: str, payload: str) -> str:
    """Base64 HMAC-SHA256, KuCoin's signature for ``KC-API-SIGN`` and (key version 2) ``KC-API-PASSPHRASE``."""
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()


def credentials() -> Credentials:
    """A KuCoin account: KuCoin keys always come with a passphrase."""
    return Credentials(api_key="kucoin-api-key", secret="kucoin-secret", passphrase="kucoin-passphrase")


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
    """The WebSocket half of the fake KuCoin; `install` adds the token and time endpoints, `install_account` the
    account's."""

    requires_login = False  # the token in the URL authenticates the connection

    def __init__(self, state: KucoinState | None = None, *, user_id: str = DEFAULT_USER_ID) -> None:
        self.state = state or KucoinState()
        self.user_id = user_id

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
        return user_message(channel, data, user_id=self.user_id)


def install(exchange: FakeExchange) -> KucoinState:
    """Serve KuCoin's token and time endpoints on ``exchange`` (whose dialect must be a `KucoinDialect`)."""
    dialect = _dialect_of(exchange)
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
    # The endpoint as requested, its query exactly as sent.
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    expected = sign(credentials.secret, timestamp + request.method.upper() + path + request.body)
    if not hmac.compare_digest(headers["kc-api-sign"], expected):
        return INVALID_SIGN
    return None


# --- the pushes, in KuCoin's shapes --------------------------------------------------------------------


def error_frame(code: int, data: str, *, message_id: Any = None) -> dict[str, Any]:
    """KuCoin's WebSocket error: ``{"id", "type": "error", "code": 401, "data": "token is invalid"}``."""
    return {
        "id": str(message_id) if message_id is not None else uuid.uuid4().hex,
        "type": "error",
        "code": code,
        "data": data,
    }


def user_message(
    topic: str, data: Any, *, user_id: str = DEFAULT_USER_ID, message_id: str | None = None
) -> dict[str, Any]:
    """A private message on ``topic``; a balance message also has an ``id``."""
    message: dict[str, Any] = {"topic": topic, "type": "message", "subject": SUBJECTS.get(topic, "message")}
    if message_id is not None:
        message["id"] = message_id
    return {**message, "userId": user_id, "channelType": "private", "data": data}


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
    canceled_size: str = "0",
    client_oid: str = "",
    order_time_ms: int | None = None,
    ts_ns: int = 1_700_000_000_000_000_000,
    user_id: str = DEFAULT_USER_ID,
    **extra: Any,
) -> dict[str, Any]:
    """An ``orderChange`` on ``/spotMarket/tradeOrdersV2``: ``kind`` is its ``type`` (received, open, match, update,
    filled, canceled), ``status`` the order's (new, open, match, done); ``extra``, a match's fields."""
    data: dict[str, Any] = {
        "clientOid": client_oid,
        "orderId": order_id,
        "orderTime": ts_ns // 1_000_000 if order_time_ms is None else order_time_ms,
        "orderType": order_type,
        "originSize": size,
        "price": price,
        "side": side,
        "status": status,
        "symbol": symbol,
        "ts": ts_ns,
        "type": kind,
    }
    if kind != "received":  # an order just received has not met the book yet: the docs show no sizes
        remain = "0" if status == "done" else str(Decimal(size) - Decimal(filled_size))
        data |= {"canceledSize": canceled_size, "filledSize": filled_size, "remainSize": remain, "size": size}
    return user_message(ORDER_TOPIC, data | extra, user_id=user_id)


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
        feeType=f"{liquidity}Fee",
        liquidity=liquidity,
        matchPrice=match_price,
        matchSize=match_size,
        tradeId=trade_id,
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
    account_id: str = TRADE_ACCOUNT_ID,
    time_ms: int = 1_700_000_000_000,
    user_id: str = DEFAULT_USER_ID,
) -> dict[str, Any]:
    """An ``account.balance`` message on ``/account/balance``: one account's currency, absolute and changed."""
    event_id = uuid.uuid4().hex[:24]
    data = {
        "accountId": account_id,
        "available": available,
        "availableChange": available_change,
        "currency": currency,
        "hold": hold,
        "holdChange": hold_change,
        "relationContext": {"symbol": "BTC-USDT", "orderId": order_id} if order_id else {},
        "relationEvent": relation_event,
        "relationEventId": event_id,
        "time": str(time_ms),
        "total": total,
    }
    return user_message(BALANCE_TOPIC, data, user_id=user_id, message_id=event_id)


def _error(error: tuple[str, str, int]) -> RestResponse:
    code, msg, status = error
    return RestResponse({"code": code, "msg": msg}, status=status)


def _dialect_of(exchange: FakeExchange) -> KucoinDialect:
    dialect = exchange.dialect
    if not isinstance(dialect, KucoinDialect):
        raise TypeError(f"needs a FakeExchange speaking KucoinDialect, not {type(dialect).__name__}")
    return dialect


# --- the account -----------------------------------------------------------------------------------------


def reply(data: Any) -> dict[str, Any]:
    return {"code": SUCCESS, "data": data}


class KucoinAccount(Ledger):
    """The spot account on the fake KuCoin: HF orders, fills and balances, pushed and served as KuCoin does."""

    FIRST_ORDER_ID = 0x6712C8B1E2F5A30007E5D8C1
    FIRST_TRADE_ID = 11116472408846337
    FIRST_ROW_ID = 19814995255305
    """The numeric ``id`` (and ``lastId``) of the first done order and of the first fill."""

    def __init__(self, exchange: FakeExchange, dialect: KucoinDialect) -> None:
        super().__init__(exchange)
        self.dialect = dialect
        self._pushed: dict[str, LedgerBalance] = {}
        """By ``accountId:currency``, the balance last pushed: the next push's ``availableChange`` and ``holdChange``
        are measured from it."""
        self._event_ids = itertools.count(354689988084000)

    def new_order_id(self) -> str:
        return f"{int(super().new_order_id()):024x}"

    def place_order(
        self,
        symbol: str | None = None,
        side: str = "buy",
        price: str = "30000",
        amount: str = "0.01",
        *,
        order_type: str = "limit",
        client_order_id: str | None = None,
    ) -> LedgerOrder:
        """`Ledger.place_order`, and the order's own detail route (``/api/v1/hf/orders/{orderId}``)."""
        order = super().place_order(symbol, side, price, amount, order_type=order_type, client_order_id=client_order_id)
        path = ORDER_PATH.format(order_id=order.order_id)
        self.exchange.route("GET", path, self.signed(self.order_reply))
        return order

    # --- the exchange's shapes --------------------------------------------------------------------

    def order_json(self, order: LedgerOrder) -> dict[str, Any]:
        """One order as the HF order endpoints write it."""
        canceled = order.amount - order.filled_amount if order.status is OrderStatus.CANCELED else Decimal(0)
        remaining = order.amount - order.filled_amount if order.is_open else Decimal(0)
        return {
            "id": order.order_id,
            "clientOid": order.client_order_id or "",
            "symbol": order.symbol,
            "opType": "DEAL",
            "type": order.order_type,
            "side": order.side,
            "price": str(order.price),
            "size": str(order.amount),
            "funds": str(order.price * order.amount),
            "dealSize": str(order.filled_amount),
            "dealFunds": str(order.filled_value),
            "remainSize": str(remaining),
            "remainFunds": str(remaining * order.price),
            "cancelledSize": str(canceled),
            "cancelledFunds": str(canceled * order.price),
            "fee": str(order.fees),
            "feeCurrency": _quote(order.symbol),
            "stp": None,
            "timeInForce": "GTC",
            "postOnly": False,
            "hidden": False,
            "iceberg": False,
            "visibleSize": "0",
            "cancelAfter": 0,
            "channel": "API",
            "remark": None,
            "tags": None,
            "cancelExist": order.status is OrderStatus.CANCELED,
            "tradeType": "TRADE",
            "inOrderBook": order.is_open,
            "active": order.is_open,
            "tax": "0",
            "createdAt": order.created_at,
            "lastUpdatedAt": order.updated_at,
        }

    def fill_json(self, fill: LedgerFill, row_id: int) -> dict[str, Any]:
        """One row of ``GET /api/v1/hf/fills``; its ``tradeId`` is a number there, a string in the push."""
        funds = fill.price * fill.amount
        return {
            "id": row_id,
            "orderId": fill.order_id,
            "counterOrderId": f"{int(fill.trade_id):024x}",
            "tradeId": int(fill.trade_id),
            "symbol": fill.symbol,
            "side": fill.side,
            "liquidity": "maker" if fill.maker else "taker",
            "type": self.orders[fill.order_id].order_type,
            "forceTaker": False,
            "price": str(fill.price),
            "size": str(fill.amount),
            "funds": str(funds),
            "fee": str(fill.fee),
            "feeRate": str(fill.fee / funds) if funds else "0",
            "feeCurrency": fill.fee_asset,
            "stop": "",
            "tradeType": "TRADE",
            "taxRate": "0",
            "tax": "0",
            "createdAt": fill.time,
        }

    def order_push(self, order: LedgerOrder, kind: str, status: str, fill: LedgerFill | None = None) -> dict[str, Any]:
        """One ``orderChange`` of ``order`` (as it stands after the change); a ``match`` carries ``fill``."""
        match: dict[str, Any] = {}
        if fill is not None:
            liquidity = "maker" if fill.maker else "taker"
            match = {
                "feeType": f"{liquidity}Fee",
                "liquidity": liquidity,
                "matchPrice": str(fill.price),
                "matchSize": str(fill.amount),
                "tradeId": fill.trade_id,
            }
        canceled = order.amount - order.filled_amount if kind == "canceled" else Decimal(0)
        return order_change(
            order.order_id,
            kind=kind,
            status=status,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            price=str(order.price),
            size=str(order.amount),
            filled_size=str(order.filled_amount),
            canceled_size=str(canceled),
            client_oid=order.client_order_id or "",
            order_time_ms=order.created_at,
            ts_ns=order.updated_at * 1_000_000,
            user_id=self.dialect.user_id,
            **match,
        )

    def balance_push(
        self, balance: LedgerBalance, relation_event: str, *, account_id: str = TRADE_ACCOUNT_ID
    ) -> dict[str, Any]:
        """One ``account.balance`` of ``account_id``: absolute, with the change from what was last pushed."""
        key = f"{account_id}:{balance.asset}"
        before = self._pushed.get(key) or LedgerBalance(balance.asset, Decimal(0), Decimal(0), 0)
        self._pushed[key] = balance
        event_id = str(next(self._event_ids))
        data = {
            "accountId": account_id,
            "currency": balance.asset,
            "total": str(balance.total),
            "available": str(balance.available),
            "hold": str(balance.locked),
            "availableChange": str(balance.available - before.available),
            "holdChange": str(balance.locked - before.locked),
            "relationContext": {},
            "relationEvent": relation_event,
            "relationEventId": event_id,
            "time": str(balance.updated_at),
        }
        return user_message(BALANCE_TOPIC, data, user_id=self.dialect.user_id, message_id=event_id)

    def frames(self, change: Change) -> Sequence[Any]:
        if isinstance(change, BalanceChanged):
            return self._balance_frames(change)
        order, fill = change.order, change.fill
        if fill is not None:
            pushes = [self.order_push(order, "match", "open" if fill.maker else "match", fill)]
            if order.status is OrderStatus.FILLED:
                pushes.append(self.order_push(order, "filled", "done"))
            return pushes
        if order.status is OrderStatus.CANCELED:
            return [self.order_push(order, "canceled", "done")]
        return [self.order_push(order, "received", "new"), self.order_push(order, "open", "open")]

    def _balance_frames(self, change: BalanceChanged) -> list[Any]:
        balance, delta = change.balance, change.delta
        if delta is None:
            return [self.balance_push(balance, "trade.other")]
        # Deposits and withdrawals happen on the funding (main) account; the spot account sees a transfer.
        moved = LedgerBalance(balance.asset, abs(delta), abs(delta), balance.updated_at)
        emptied = LedgerBalance(balance.asset, Decimal(0), Decimal(0), balance.updated_at)
        spot = self.balance_push(balance, "trade.transfer")
        if delta >= 0:
            arrived = self.balance_push(moved, "main.deposit", account_id=MAIN_ACCOUNT_ID)
            return [arrived, self.balance_push(emptied, "main.transfer", account_id=MAIN_ACCOUNT_ID), spot]
        returned = self.balance_push(moved, "main.transfer", account_id=MAIN_ACCOUNT_ID)
        return [spot, returned, self.balance_push(emptied, "main.withdraw_done", account_id=MAIN_ACCOUNT_ID)]

    def error_reply(self, status: int, reason: str) -> Any:
        code, msg = _REST_ERRORS.get(status, ("400100", reason))
        return {"code": code, "msg": msg}

    # --- the REST routes -------------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        refusal = check_signature(request, self.exchange.credentials, self.exchange.now())
        return None if refusal is None else _error(refusal)

    def accounts_reply(self, request: RestRequest) -> Any:
        kind, currency = request.query.get("type"), request.query.get("currency")
        if kind not in (None, "trade"):
            return reply([])  # the fake keeps the spot account only
        return reply(
            [
                {
                    "id": TRADE_ACCOUNT_ID,
                    "currency": asset,
                    "type": "trade",
                    "balance": str(balance.total),
                    "available": str(balance.available),
                    "holds": str(balance.locked),
                }
                for asset, balance in sorted(self.balances.items())
                if currency in (None, asset)
            ]
        )

    def open_order_symbols_reply(self, request: RestRequest) -> Any:
        return reply({"symbols": sorted({order.symbol for order in self.open_orders()})})

    def open_orders_reply(self, request: RestRequest) -> Any:
        symbol = request.query.get("symbol")
        if not symbol:
            return _error(INVALID_PARAMETER)
        orders = [order for order in self.open_orders() if order.symbol == symbol]
        return reply([self.order_json(order) for order in sorted(orders, key=_latest_update, reverse=True)])

    def closed_orders_reply(self, request: RestRequest) -> Any:
        side, kind = request.query.get("side"), request.query.get("type")
        finished = self.finished_orders()
        rows = [
            (row_id, order.symbol, order.updated_at)
            for row_id, order in enumerate(finished, self.FIRST_ROW_ID)
            if side in (None, order.side) and kind in (None, order.order_type)
        ]

        def render(row_id: int) -> dict[str, Any]:
            return self.order_json(finished[row_id - self.FIRST_ROW_ID])

        return self._page(request, CLOSED_ORDERS_PATH, rows, render)

    def fills_reply(self, request: RestRequest) -> Any:
        rows = [(row_id, fill.symbol, fill.time) for row_id, fill in enumerate(self.fills, self.FIRST_ROW_ID)]

        def render(row_id: int) -> dict[str, Any]:
            return self.fill_json(self.fills[row_id - self.FIRST_ROW_ID], row_id)

        return self._page(request, FILLS_PATH, rows, render)

    def order_reply(self, request: RestRequest) -> Any:
        symbol = request.query.get("symbol")
        if not symbol:
            return _error(INVALID_PARAMETER)
        order = self.orders.get(request.path.rsplit("/", 1)[-1])
        oldest = int(self.exchange.now() * 1000) - HISTORY_MS
        if order is None or order.symbol != symbol or (not order.is_open and order.updated_at < oldest):
            return _error(ORDER_NOT_FOUND)
        return reply(self.order_json(order))

    def _page(
        self,
        request: RestRequest,
        path: str,
        rows: Sequence[tuple[int, str, int]],
        render: Callable[[int], dict[str, Any]],
    ) -> Any:
        """One page, newest first, of ``(id, symbol, time)`` ``rows``: the query's symbol, within the last 3 * 24 hours
        and ``startAt``/``endAt``, before ``lastId``, ``limit`` long; ``{"lastId", "items"}``."""
        query = request.query
        symbol, limit = query.get("symbol"), query.get("limit", str(DEFAULT_LIMIT))
        if not symbol or not (limit.isdecimal() and 1 <= int(limit) <= MAX_LIMIT):
            return _error(INVALID_PARAMETER)
        try:
            start, end, last_id = (
                int(query[name]) if name in query else None for name in ("startAt", "endAt", "lastId")
            )
        except ValueError:
            return _error(INVALID_PARAMETER)
        oldest = max(start or 0, int(self.exchange.now() * 1000) - HISTORY_MS)  # earlier: the 3 * 24 h default
        kept = [
            row_id
            for row_id, row_symbol, moment in rows
            if row_symbol == symbol
            and moment >= oldest
            and (end is None or moment <= end)
            and (last_id is None or row_id < last_id)
        ]
        page = sorted(kept, reverse=True)[: int(limit)]
        self.served_page(path)
        return reply({"lastId": page[-1] if page else last_id or 0, "items": [render(row_id) for row_id in page]})


def _latest_update(order: LedgerOrder) -> int:
    return order.updated_at


def _quote(symbol: str) -> str:
    return symbol.rsplit("-", 1)[-1]


def install_account(exchange: FakeExchange) -> KucoinAccount:
    """Serve KuCoin's spot account endpoints on ``exchange`` (speaking `KucoinDialect`); return the account's truth."""
    account = KucoinAccount(exchange, _dialect_of(exchange))
    routes = {
        ACCOUNTS_PATH: account.accounts_reply,
        OPEN_ORDER_SYMBOLS_PATH: account.open_order_symbols_reply,
        OPEN_ORDERS_PATH: account.open_orders_reply,
        CLOSED_ORDERS_PATH: account.closed_orders_reply,
        FILLS_PATH: account.fills_reply,
    }
    account.serve_signed("GET", routes)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as KuCoin spot documents them, for the tests.

    Order ``...c1`` is placed and filled at once (a taker); ``...c2`` rests, fills in part (as a maker) and is
    cancelled. The REST replies show the account between ``...c2``'s fill and its cancel.
    """

    RECEIVED: ClassVar[dict[str, Any]] = {
        "topic": "/spotMarket/tradeOrdersV2",
        "type": "message",
        "subject": "orderChange",
        "userId": "633559791e1cbc0001f319bc",
        "channelType": "private",
        "data": {
            "clientOid": "bot-1",
            "orderId": "6712c8b1e2f5a30007e5d8c1",
            "orderTime": 1795568753027,
            "orderType": "limit",
            "originSize": "0.1",
            "price": "30000",
            "side": "buy",
            "status": "new",
            "symbol": "BTC-USDT",
            "ts": 1795568753027000000,
            "type": "received",
        },
    }
    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        **RECEIVED,
        "data": {
            "canceledSize": "0",
            "clientOid": "bot-1",
            "filledSize": "0",
            "orderId": "6712c8b1e2f5a30007e5d8c1",
            "orderTime": 1795568753027,
            "orderType": "limit",
            "originSize": "0.1",
            "price": "30000",
            "remainSize": "0.1",
            "side": "buy",
            "size": "0.1",
            "status": "open",
            "symbol": "BTC-USDT",
            "ts": 1795568753027000000,
            "type": "open",
        },
    }
    FILL: ClassVar[dict[str, Any]] = {
        **RECEIVED,
        "data": {
            **ORDER_UPDATE["data"],
            "filledSize": "0.1",
            "remainSize": "0",
            "status": "match",
            "ts": 1795568753127000000,
            "type": "match",
            "feeType": "takerFee",
            "liquidity": "taker",
            "matchPrice": "30000",
            "matchSize": "0.1",
            "tradeId": "11116472408846337",
        },
    }
    FILLED: ClassVar[dict[str, Any]] = {
        **RECEIVED,
        "data": {
            **ORDER_UPDATE["data"],
            "filledSize": "0.1",
            "remainSize": "0",
            "status": "done",
            "ts": 1795568753127000000,
            "type": "filled",
        },
    }
    PARTIAL_FILL: ClassVar[dict[str, Any]] = {
        **RECEIVED,
        "data": {
            "canceledSize": "0",
            "clientOid": "bot-2",
            "filledSize": "0.04",
            "orderId": "6712c8b1e2f5a30007e5d8c2",
            "orderTime": 1795568753227,
            "orderType": "limit",
            "originSize": "0.1",
            "price": "29000",
            "remainSize": "0.06",
            "side": "buy",
            "size": "0.1",
            "status": "open",
            "symbol": "BTC-USDT",
            "ts": 1795568753327000000,
            "type": "match",
            "feeType": "makerFee",
            "liquidity": "maker",
            "matchPrice": "29000",
            "matchSize": "0.04",
            "tradeId": "11116472408846338",
        },
    }
    CANCELED: ClassVar[dict[str, Any]] = {
        **RECEIVED,
        "data": {
            "canceledSize": "0.06",
            "clientOid": "bot-2",
            "filledSize": "0.04",
            "orderId": "6712c8b1e2f5a30007e5d8c2",
            "orderTime": 1795568753227,
            "orderType": "limit",
            "originSize": "0.1",
            "price": "29000",
            "remainSize": "0",
            "side": "buy",
            "size": "0.1",
            "status": "done",
            "symbol": "BTC-USDT",
            "ts": 1795568753427000000,
            "type": "canceled",
        },
    }
    BALANCE_UPDATE: ClassVar[dict[str, Any]] = {
        "topic": "/account/balance",
        "type": "message",
        "subject": "account.balance",
        "id": "354689988084000",
        "userId": "633559791e1cbc0001f319bc",
        "channelType": "private",
        "data": {
            "accountId": "548674591753",
            "currency": "USDT",
            "total": "970",
            "available": "968.84",
            "hold": "1.16",
            "availableChange": "-1.16",
            "holdChange": "1.16",
            "relationContext": {"symbol": "BTC-USDT", "orderId": "6712c8b1e2f5a30007e5d8c2"},
            "relationEvent": "trade.hold",
            "relationEventId": "354689988084000",
            "time": "1795568753227",
        },
    }
    MAIN_DEPOSIT: ClassVar[dict[str, Any]] = {
        **BALANCE_UPDATE,
        "id": "354689988084001",
        "data": {
            "accountId": "63355cd156298d0001b66e61",
            "currency": "USDT",
            "total": "25",
            "available": "25",
            "hold": "0",
            "availableChange": "25",
            "holdChange": "0",
            "relationContext": {},
            "relationEvent": "main.deposit",
            "relationEventId": "354689988084001",
            "time": "1795568754027",
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

    # REST: the account, between ...c2's fill and its cancel.
    ACCOUNTS_REPLY: ClassVar[dict[str, Any]] = {
        "code": "200000",
        "data": [
            {
                "id": "548674591754",
                "currency": "BTC",
                "type": "trade",
                "balance": "0.14",
                "available": "0.14",
                "holds": "0",
            },
            {
                "id": "548674591753",
                "currency": "USDT",
                "type": "trade",
                "balance": "970",
                "available": "968.84",
                "holds": "1.16",
            },
        ],
    }
    OPEN_ORDER_SYMBOLS_REPLY: ClassVar[dict[str, Any]] = {"code": "200000", "data": {"symbols": ["BTC-USDT"]}}
    OPEN_ORDERS_REPLY: ClassVar[dict[str, Any]] = {
        "code": "200000",
        "data": [
            {
                "id": "6712c8b1e2f5a30007e5d8c2",
                "clientOid": "bot-2",
                "symbol": "BTC-USDT",
                "opType": "DEAL",
                "type": "limit",
                "side": "buy",
                "price": "29000",
                "size": "0.1",
                "funds": "2900",
                "dealSize": "0.04",
                "dealFunds": "1160",
                "fee": "1.16",
                "feeCurrency": "USDT",
                "stp": None,
                "timeInForce": "GTC",
                "postOnly": False,
                "hidden": False,
                "iceberg": False,
                "visibleSize": "0",
                "cancelAfter": 0,
                "channel": "API",
                "remark": None,
                "tags": None,
                "cancelExist": False,
                "tradeType": "TRADE",
                "inOrderBook": True,
                "cancelledSize": "0",
                "cancelledFunds": "0",
                "remainSize": "0.06",
                "remainFunds": "1740",
                "tax": "0",
                "active": True,
                "createdAt": 1795568753227,
                "lastUpdatedAt": 1795568753327,
            }
        ],
    }
    ORDER_REPLY: ClassVar[dict[str, Any]] = {
        "code": "200000",
        "data": {
            **OPEN_ORDERS_REPLY["data"][0],
            "id": "6712c8b1e2f5a30007e5d8c1",
            "clientOid": "bot-1",
            "price": "30000",
            "funds": "3000",
            "dealSize": "0.1",
            "dealFunds": "3000",
            "remainSize": "0",
            "remainFunds": "0",
            "fee": "3",
            "inOrderBook": False,
            "active": False,
            "createdAt": 1795568753027,
            "lastUpdatedAt": 1795568753127,
        },
    }
    CLOSED_ORDERS_REPLY: ClassVar[dict[str, Any]] = {
        "code": "200000",
        "data": {"lastId": 19814995255305, "items": [ORDER_REPLY["data"]]},
    }
    FILLS_REPLY: ClassVar[dict[str, Any]] = {
        "code": "200000",
        "data": {
            "items": [
                {
                    "id": 19814995255306,
                    "orderId": "6712c8b1e2f5a30007e5d8c2",
                    "counterOrderId": "67174228135f9e000709da8c",
                    "tradeId": 11116472408846338,
                    "symbol": "BTC-USDT",
                    "side": "buy",
                    "liquidity": "maker",
                    "type": "limit",
                    "forceTaker": False,
                    "price": "29000",
                    "size": "0.04",
                    "funds": "1160",
                    "fee": "1.16",
                    "feeRate": "0.001",
                    "feeCurrency": "USDT",
                    "stop": "",
                    "tradeType": "TRADE",
                    "taxRate": "0",
                    "tax": "0",
                    "createdAt": 1795568753327,
                },
                {
                    "id": 19814995255305,
                    "orderId": "6712c8b1e2f5a30007e5d8c1",
                    "counterOrderId": "67174228135f9e000709da8b",
                    "tradeId": 11116472408846337,
                    "symbol": "BTC-USDT",
                    "side": "buy",
                    "liquidity": "taker",
                    "type": "limit",
                    "forceTaker": False,
                    "price": "30000",
                    "size": "0.1",
                    "funds": "3000",
                    "fee": "3",
                    "feeRate": "0.001",
                    "feeCurrency": "USDT",
                    "stop": "",
                    "tradeType": "TRADE",
                    "taxRate": "0",
                    "tax": "0",
                    "createdAt": 1795568753127,
                },
            ],
            "lastId": 19814995255305,
        },
    }
    ORDER_NOT_FOUND: ClassVar[dict[str, Any]] = {"code": "400100", "msg": "order not exist."}
    TOO_MANY_REQUESTS: ClassVar[dict[str, Any]] = {"code": "429000", "msg": "Too Many Requests"}


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    LARGEST_PAGE: ClassVar[int | None] = MAX_LIMIT
    GUARANTEE: ClassVar[str] = "exact: every fill and final state once, balances absolute; pushed fills carry no fee"
    account: KucoinAccount

    def dialect(self) -> Dialect:
        return KucoinDialect()

    def credentials(self) -> Credentials:
        return credentials()

    def install(self, exchange: FakeExchange) -> None:
        state = install(exchange)  # the token replies name the fake as the endpoint
        # The token reply's pingInterval overrides the contract's timings: make it the contract's, not KuCoin's 18 s.
        state.ping_interval_ms = round(TEST_TIMINGS.ping_interval * 1000)
        self.account = install_account(exchange)

    def options(self) -> Mapping[str, Any]:
        # The HF history endpoints take one symbol a request: a KuCoin user names the symbols the bot trades.
        return {"symbols": self.SYMBOLS}

    def exchange_account(self) -> KucoinAccount:
        return self.account

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        _dialect_of(exchange).state.fail_next(INVALID_SIGN)  # the next token call
        return True

    async def expire_credentials(self, exchange: FakeExchange) -> bool:
        """Expire every token issued; each connection on one is told so (WebSocket error 401)."""
        _dialect_of(exchange).state.revoke()
        for connection in [connection for connection in exchange.connections if connection.open]:
            await exchange.push(error_frame(401, TOKEN_INVALID), to=connection)
        return True

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.BALANCE_UPDATE]
