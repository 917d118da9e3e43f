"""Gate.io spot WebSocket v4, as the fake exchange speaks it.

=====================  =====================================================================================
endpoint               ``wss://api.gateio.ws/ws/v4/`` (the fake serves ``<ws_url>/v4/``)
client subscribe       ``{"time": s, "id"?, "channel", "event": "subscribe", "payload"?, "auth": {"method":
                       "api_key", "KEY", "SIGN"}}``, ``SIGN`` = hex HMAC-SHA512(secret,
                       ``"channel=<channel>&event=<event>&time=<time>"``); private channels need ``auth``
accepted               ``{"time", "time_ms", "id"?, "channel", "event": "subscribe", "error": null,
                       "result": {"status": "success"}}``
rejected               the same with ``"error": {"code", "message"}`` and ``"result": null``: code 4
                       "Authentication fail", code 2 "Invalid argument provided", code 1 "Invalid request body format"
ping                   ``{"time", "channel": "spot.ping"}`` → ``{"time", "time_ms", "channel": "spot.pong",
                       "event": "", "error": null, "result": null}``
updates                ``{"time", "time_ms", "channel", "event": "update", "result": [...]}``
end of stream          ``{"time", "time_ms", "channel": "spot.system", "event": "update", "result": {"type":
                       "upgrade", "msg"}}``, pushed unasked before an upgrade closes the connections
time                   ``GET /api/v4/spot/time`` → ``{"server_time": ms}``
=====================  =====================================================================================

There is no login: each private subscribe is checked on its own (`Dialect.check_subscribe`). Gate documents that a
request's ``time`` may differ from the server's by at most 60 seconds but not which error reports it; the fake
answers such a request with code 4 "Authentication fail". The account's REST endpoints are `GateIoAccount`'s.

Sources: Gate's "Spot WebSocket v4" and API v4 documentation (gate.com/docs/developers/apiv4), the models and
endpoint notes of Gate's own SDKs generated from it (github.com/gateio/gateapi-python, github.com/gateio/gatews),
Gate's announcements "WebSocket Upgrade Notification Feature" (2026-02-12) and "Adjustment of Transaction Record
Fields" (2025: a trade's ``id`` is unique within its currency pair only).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import unquote_plus

import msgspec

from userstream.account import AccountSnapshot
from userstream.events import OrderStatus
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse, TimeEndpoint
from userstream.testing.ledger import Change, Ledger, LedgerBalance, LedgerFill, LedgerOrder, OrderChanged

PRIVATE_CHANNELS = ("spot.orders", "spot.usertrades", "spot.balances")
PUBLIC_CHANNELS = ("spot.tickers", "spot.trades")
SYSTEM_CHANNEL = "spot.system"
SERVER_TIME_PATH = "/api/v4/spot/time"

INVALID_REQUEST_BODY = "Invalid request body format"
INVALID_ARGUMENT = "Invalid argument provided"
AUTHENTICATION_FAIL = "Authentication fail"
ERROR_CODES = {INVALID_REQUEST_BODY: 1, INVALID_ARGUMENT: 2, "Server side error happened": 3, AUTHENTICATION_FAIL: 4}
"""Gate's documented WebSocket error codes by message; any other reason is sent with code 2."""


def signature_payload(channel: str, event: str, timestamp: int) -> str:
    return f"channel={channel}&event={event}&time={timestamp}"


class GateIoSpotDialect(Dialect):
    """The exchange side of Gate.io's signed subscribes; see the module docstring."""

    requires_login = False
    TIME_WINDOW_S = 60

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        """The exchange's clock for the ``time`` of its frames; `install` points it at the fake's (skewed) clock."""
        self.revoked_keys: set[str] = set()
        """API keys the exchange refuses from now on, whatever their signature."""

    def classify_client(self, message: Any) -> ClientIntent:
        if not isinstance(message, dict):
            return ClientIntent.OTHER
        if message.get("channel") == "spot.ping":
            return ClientIntent.PING
        if message.get("event") == "subscribe":
            return ClientIntent.SUBSCRIBE
        return ClientIntent.OTHER

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        channel, timestamp = message.get("channel"), message.get("time")
        if not isinstance(channel, str) or not isinstance(timestamp, int):
            return INVALID_REQUEST_BODY
        if channel not in PRIVATE_CHANNELS:
            return None
        auth = message.get("auth")
        if not isinstance(auth, dict) or auth.get("method") != "api_key":
            return AUTHENTICATION_FAIL
        key = auth.get("KEY")
        if key != credentials.api_key or key in self.revoked_keys:
            return AUTHENTICATION_FAIL
        if abs(timestamp - server_time) > self.TIME_WINDOW_S:
            return AUTHENTICATION_FAIL
        payload = signature_payload(channel, str(message.get("event")), timestamp)
        expected = hmac.new(credentials.secret.encode(), payload.encode(), "sha512").hexdigest()
        if not hmac.compare_digest(str(auth.get("SIGN")), expected):
            return AUTHENTICATION_FAIL
        return None

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "Gate.io v4 has no login: sign each subscribe"

    def login_ack(self, message: Any) -> Any:
        return self.subscribe_rejection(message, INVALID_ARGUMENT)

    def login_rejection(self, message: Any, reason: str) -> Any:
        return self.subscribe_rejection(message, reason)

    def subscribe_replies(self, message: Any) -> list[Any]:
        channel = message.get("channel")
        if channel not in PRIVATE_CHANNELS + PUBLIC_CHANNELS:
            return [self.subscribe_rejection(message, f"unknown channel {channel}")]
        return [{**self._reply_header(message), "error": None, "result": {"status": "success"}}]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        code = ERROR_CODES.get(reason, 2)
        return {**self._reply_header(message), "error": {"code": code, "message": reason}, "result": None}

    def pong(self, message: Any) -> Any:
        return {**self._frame("spot.pong", ""), "error": None, "result": None}

    def heartbeat(self) -> Any:
        # Gate pings at the protocol level and sends no heartbeat of its own; its pong is the only control frame.
        return self.pong({})

    def user_event(self, channel: str, data: Any) -> Any:
        return {**self._frame(channel, "update"), "result": data}

    def service_upgrade_notice(self) -> Any:
        """What Gate pushes on ``spot.system`` before it closes every connection for a service upgrade."""
        msg = "The connection will soon be closed for a service upgrade. Please reconnect."
        return self.user_event(SYSTEM_CHANNEL, {"type": "upgrade", "msg": msg})

    def _frame(self, channel: str, event: str) -> dict[str, Any]:
        now = self.clock()
        return {"time": int(now), "time_ms": int(now * 1000), "channel": channel, "event": event}

    def _reply_header(self, message: Any) -> dict[str, Any]:
        header = self._frame(str(message.get("channel")), str(message.get("event")))
        if "id" in message:
            header["id"] = message["id"]
        return header


# --- REST routes and state --------------------------------------------------------------------------------------


@dataclass
class GateIoState:
    """What a test can see and script on a fake Gate.io."""

    exchange: FakeExchange
    dialect: GateIoSpotDialect
    time: TimeEndpoint

    def revoke_key(self, api_key: str) -> None:
        """Refuse every later subscribe signed with ``api_key`` (a key deleted in Gate's console)."""
        self.dialect.revoked_keys.add(api_key)

    def restore_key(self, api_key: str) -> None:
        self.dialect.revoked_keys.discard(api_key)


def install(exchange: FakeExchange) -> GateIoState:
    """Register Gate's time endpoint on ``exchange`` and run its dialect on the fake's clock (``clock_skew`` too)."""
    if not isinstance(exchange.dialect, GateIoSpotDialect):
        raise TypeError("install() needs a FakeExchange created with a GateIoSpotDialect")
    exchange.dialect.clock = exchange.now
    time = exchange.serve_time(
        SERVER_TIME_PATH,
        reply=lambda now: {"server_time": int(now * 1000)},
        error=lambda now: {"label": "SERVER_ERROR", "message": "Internal server error"},
    )
    return GateIoState(exchange, exchange.dialect, time)


# --- user events with Gate's real shapes (the ``result`` of an update frame) ---------------------------------------


def order_update(
    *,
    order_id: str = "399123456",
    text: str = "t-my-order",
    currency_pair: str = "BTC_USDT",
    side: str = "buy",
    amount: str = "0.0001",
    price: str = "26253.3",
    left: str = "0.0001",
    filled_total: str = "0",
    event: str = "put",
    finish_as: str = "open",
) -> dict[str, Any]:
    """One order of a ``spot.orders`` update; ``event`` is ``put``, ``update`` (a fill) or ``finish``."""
    now = time.time()
    return {
        "id": order_id,
        "text": text,
        "create_time": str(int(now)),
        "update_time": str(int(now)),
        "create_time_ms": str(int(now * 1000)),
        "update_time_ms": str(int(now * 1000)),
        "currency_pair": currency_pair,
        "type": "limit",
        "account": "spot",
        "side": side,
        "amount": amount,
        "price": price,
        "time_in_force": "gtc",
        "left": left,
        "filled_total": filled_total,
        "avg_deal_price": "0",
        "fee": "0",
        "fee_currency": "USDT",
        "point_fee": "0",
        "gt_fee": "0",
        "rebated_fee": "0",
        "rebated_fee_currency": "USDT",
        "user": 1000001,
        "event": event,
        "stp_id": 0,
        "stp_act": "-",
        "finish_as": finish_as,
        "biz_info": "-",
        "amend_text": "-",
    }


def user_trade(
    *,
    trade_id: int = 5736713,
    order_id: str = "399123456",
    currency_pair: str = "BTC_USDT",
    side: str = "buy",
    amount: str = "0.0001",
    price: str = "26253.3",
    role: str = "taker",
    fee: str = "0.00000020",
    fee_currency: str = "BTC",
    text: str = "t-my-order",
) -> dict[str, Any]:
    """One trade of a ``spot.usertrades`` update: a fill of one of the account's orders."""
    now = time.time()
    return {
        "id": trade_id,
        "user_id": 1000001,
        "order_id": order_id,
        "currency_pair": currency_pair,
        "create_time": int(now),
        "create_time_ms": f"{now * 1000:.3f}",
        "side": side,
        "amount": amount,
        "role": role,
        "price": price,
        "fee": fee,
        "fee_currency": fee_currency,
        "point_fee": "0",
        "gt_fee": "0",
        "text": text,
        "id_market": trade_id,
    }


def balance(
    *,
    currency: str = "USDT",
    change: str = "-2.6253",
    total: str = "997.3747",
    available: str = "997.3747",
    freeze: str = "0",
    freeze_change: str = "0",
    change_type: str = "order-match",
) -> dict[str, Any]:
    """One entry of a ``spot.balances`` update."""
    now = time.time()
    return {
        "timestamp": str(int(now)),
        "timestamp_ms": str(int(now * 1000)),
        "user": "1000001",
        "currency": currency,
        "change": change,
        "total": total,
        "available": available,
        "freeze": freeze,
        "freeze_change": freeze_change,
        "change_type": change_type,
    }


# --- the account over REST --------------------------------------------------------------------------------------

ACCOUNTS_PATH = "/api/v4/spot/accounts"
OPEN_ORDERS_PATH = "/api/v4/spot/open_orders"
ORDERS_PATH = "/api/v4/spot/orders"
"""``GET`` lists one currency pair's orders (``status`` and ``currency_pair`` required); ``GET <path>/<order_id>``
is one order."""
MY_TRADES_PATH = "/api/v4/spot/my_trades"
OPEN_ORDERS_MAX_LIMIT = 100
"""The most orders of each currency pair one page of the open orders holds, and of the open orders of one pair."""
DEFAULT_LIMIT = 100
TRADES_MAX_LIMIT = 1000
TRADES_MAX_OFFSET = 1000
"""``limit * (page - 1)`` may be at most this: Gate pages the trades no deeper."""
TRADES_DEFAULT_DAYS = 7
"""What the trades endpoint covers without ``from`` and ``to``, or from (or up to) the one given."""
TRADES_MAX_RANGE_DAYS = 30
REST_TIMESTAMP_WINDOW = 60.0
"""Seconds a signed request's ``Timestamp`` may be off the exchange's clock."""
ORDER_SOURCE_TEXT = "apiv4"
"""The ``text`` Gate gives an order placed over API v4 without a client id."""
CLIENT_ORDER_ID_PREFIX = "t-"
_DAY_S = 24 * 3600
_FINISHED_AS = {OrderStatus.FILLED: "filled", OrderStatus.CANCELED: "cancelled"}
_REST_STATUS = {OrderStatus.FILLED: "closed", OrderStatus.CANCELED: "cancelled"}
_REST_ERRORS: Mapping[int, tuple[str, str]] = {
    429: ("TOO_MANY_REQUESTS", "Request Rate limit Exceeded"),
    500: ("SERVER_ERROR", "Internal server error"),
    503: ("TOO_BUSY", "Server is too busy at the moment"),
}


def rest_signature(secret: str, method: str, path: str, query_string: str, body: str, timestamp: str) -> str:
    """``SIGN``: hex HMAC-SHA512 of the method, the path, the query (not URL-encoded), the hex SHA-512 of the body and
    the ``Timestamp`` header as sent, one per line."""
    body_hash = hashlib.sha512(body.encode()).hexdigest()
    payload = "\n".join((method.upper(), path, unquote_plus(query_string), body_hash, timestamp))
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def rest_error(label: str, message: str) -> dict[str, str]:
    return {"label": label, "message": message}


def check_rest_request(
    request: RestRequest, credentials: Credentials, server_time: float, revoked_keys: set[str]
) -> tuple[str, str] | None:
    """The label and message Gate refuses a signed request with (HTTP 401), or None to accept it."""
    headers = request.headers
    key, timestamp, sign = (headers.get(name) for name in ("KEY", "Timestamp", "SIGN"))
    if not (key and timestamp and sign):
        return "MISSING_REQUIRED_HEADER", "Missing required authentication header"
    if key != credentials.api_key or key in revoked_keys:
        return "INVALID_KEY", "Invalid key provided"
    try:
        sent = float(timestamp)
    except ValueError:
        return "REQUEST_EXPIRED", "Timestamp is not a number of seconds"
    if abs(sent - server_time) > REST_TIMESTAMP_WINDOW:
        return "REQUEST_EXPIRED", f"gap between request Timestamp and server time exceeds {REST_TIMESTAMP_WINDOW:g}"
    expected = rest_signature(
        credentials.secret, request.method, request.path, request.query_string, request.body, timestamp
    )
    if not hmac.compare_digest(sign, expected):
        return "INVALID_SIGNATURE", "Signature mismatch"
    return None


def _refusal(status: int, label: str, message: str) -> RestResponse:
    return RestResponse(rest_error(label, message), status)


def _number(request: RestRequest, name: str, default: int, *, most: int | None = None) -> int | RestResponse:
    """A positive integer query parameter (at most ``most``), or Gate's refusal of it."""
    value = request.query.get(name, str(default))
    if not value.isdecimal() or int(value) < 1 or (most is not None and int(value) > most):
        return _refusal(400, "INVALID_PARAM_VALUE", f"invalid argument: {name}")
    return int(value)


def _paging(request: RestRequest, *, most: int | None) -> tuple[int, int] | RestResponse:
    """``(page, limit)`` of a list request, or Gate's refusal of either."""
    page = _number(request, "page", 1)
    if isinstance(page, RestResponse):
        return page
    limit = _number(request, "limit", DEFAULT_LIMIT, most=most)
    return limit if isinstance(limit, RestResponse) else (page, limit)


def _page_of(rows: Sequence[Any], page: int, limit: int) -> list[Any]:
    return list(rows[(page - 1) * limit : page * limit])


def _seconds(stamp_ms: int) -> int:
    return stamp_ms // 1000


class GateIoAccount(Ledger):
    """The account on the fake Gate: spot orders, fills and balances, pushed and served as Gate spot v4 does.

    ===================================  ========================================================================
    ``GET /api/v4/spot/accounts``        ``[{"currency", "available", "locked", "update_id"}]``; ``currency``
                                         filters
    ``GET /api/v4/spot/open_orders``     ``[{"currency_pair", "total", "orders": [...]}]``: every pair with open
                                         orders on the page; ``page``, ``limit`` (≤ 100) apply to each pair
    ``GET /api/v4/spot/orders``          one pair's orders: ``currency_pair`` and ``status`` (``open``:
                                         ``limit`` ≤ 100; ``finished``: ``from``/``to`` on the end time), newest
                                         first, ``page``/``limit``
    ``GET /api/v4/spot/my_trades``       the fills, newest first, of one pair or all; ``from``/``to`` on the
                                         trade time, at most 30 days apart (7 days without them, or from the one
                                         given); ``limit`` ≤ 1000, ``limit * (page - 1)`` ≤ 1000
    ``GET /api/v4/spot/orders/<id>``     one order; ``currency_pair`` required while it is open; another pair's:
                                         HTTP 404 ``ORDER_NOT_FOUND``
    errors                               ``{"label", "message"}``: HTTP 401 ``INVALID_SIGNATURE``,
                                         ``INVALID_KEY``, ``REQUEST_EXPIRED``, ``MISSING_REQUIRED_HEADER``; 400
                                         ``MISSING_REQUIRED_PARAM``, ``INVALID_PARAM_VALUE``; 429
                                         ``TOO_MANY_REQUESTS``; 5xx ``SERVER_ERROR``, ``TOO_BUSY``
    pushes                               ``spot.usertrades`` (a fill) before ``spot.orders`` (``event`` put,
                                         update, finish); ``spot.balances`` (``total``, ``available`` and
                                         ``change``, the amount moved)
    ===================================  ========================================================================

    Gate numbers each currency pair's trades on their own, so two pairs' fills can share an ``id``; the typed fill
    (`truth`) is ``<currency_pair>:<id>``. A client order id is Gate's ``text``: ``t-`` and the client's own id.
    Gate's specification marks ``currency_pair`` of ``GET /spot/orders`` required whatever the ``status`` (its note
    calls it optional for finished orders): the fake requires it, as the specification does.
    """

    DEFAULT_SYMBOL = "BTC_USDT"
    FIRST_ORDER_ID = 399123456
    FIRST_TRADE_ID = 5736713

    def __init__(self, exchange: FakeExchange, dialect: GateIoSpotDialect) -> None:
        super().__init__(exchange)
        self.dialect = dialect
        self._trade_numbers: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(self.FIRST_TRADE_ID))
        self._filling = self.DEFAULT_SYMBOL
        self._fee_assets: dict[str, str] = {}
        self._pushed_balances: dict[str, LedgerBalance] = {}

    # --- how Gate numbers and names ------------------------------------------------------------------------

    def new_order_id(self) -> str:
        order_id = super().new_order_id()
        self.exchange.route("GET", f"{ORDERS_PATH}/{order_id}", self.signed(self.order_reply))
        return order_id

    def fill(
        self, order_id: str, amount: str, *, fee: str = "0", fee_asset: str = "USDT", maker: bool = True
    ) -> LedgerOrder:
        self._filling = self.orders[order_id].symbol  # the trade is numbered within its currency pair
        self._fee_assets[order_id] = fee_asset
        return super().fill(order_id, amount, fee=fee, fee_asset=fee_asset, maker=maker)

    def new_trade_id(self) -> str:
        return str(next(self._trade_numbers[self._filling]))

    def client_order_id(self, given: str | None) -> str | None:
        if given is None or given.startswith(CLIENT_ORDER_ID_PREFIX):
            return given
        return CLIENT_ORDER_ID_PREFIX + given

    def truth(self) -> AccountSnapshot:
        truth = super().truth()
        fills = [msgspec.structs.replace(fill, trade_id=f"{fill.symbol}:{fill.trade_id}") for fill in truth.fills]
        return replace(truth, fills=fills)

    # --- the exchange's shapes --------------------------------------------------------------------------------

    def order_json(self, order: LedgerOrder, *, rest: bool = False) -> dict[str, Any]:
        """One order as Gate writes it: in a ``spot.orders`` push, or (``rest``) in a REST reply."""
        finish_as = _FINISHED_AS.get(order.status, "open")
        row: dict[str, Any] = {
            "id": order.order_id,
            "text": order.client_order_id or ORDER_SOURCE_TEXT,
            "amend_text": "-",
            "create_time": str(_seconds(order.created_at)),
            "update_time": str(_seconds(order.updated_at)),
            "create_time_ms": order.created_at if rest else str(order.created_at),
            "update_time_ms": order.updated_at if rest else str(order.updated_at),
            "currency_pair": order.symbol,
            "type": order.order_type,
            "account": "spot",
            "side": order.side,
            "amount": str(order.amount),
            "price": str(order.price),
            "time_in_force": "gtc",
            "iceberg": "0",
            "left": str(order.amount - order.filled_amount),
            "filled_total": str(order.filled_value),
            "avg_deal_price": str(order.average_price),
            "fee": str(order.fees),
            "fee_currency": self._fee_currency(order),
            "point_fee": "0",
            "gt_fee": "0",
            "gt_discount": False,
            "rebated_fee": "0",
            "rebated_fee_currency": order.symbol.split("_")[1],
            "stp_id": 0,
            "stp_act": "-",
            "finish_as": finish_as,
        }
        if rest:
            row["status"] = _REST_STATUS.get(order.status, "open")
            row["filled_amount"] = str(order.filled_amount)
        else:
            row["user"] = 1000001
            row["event"] = "finish" if not order.is_open else "update" if order.fills else "put"
            row["biz_info"] = "-"
        return row

    def trade_json(self, fill: LedgerFill, *, rest: bool = False) -> dict[str, Any]:
        """One fill as Gate writes it: in a ``spot.usertrades`` push, or (``rest``) in ``GET /spot/my_trades``."""
        row: dict[str, Any] = {
            "id": fill.trade_id if rest else int(fill.trade_id),
            "create_time": str(_seconds(fill.time)) if rest else _seconds(fill.time),
            "create_time_ms": f"{fill.time}.000",
            "currency_pair": fill.symbol,
            "side": fill.side,
            "role": "maker" if fill.maker else "taker",
            "amount": str(fill.amount),
            "price": str(fill.price),
            "order_id": fill.order_id,
            "fee": str(fill.fee),
            "fee_currency": fill.fee_asset,
            "point_fee": "0",
            "gt_fee": "0",
            "amend_text": "-",
            "text": fill.client_order_id or ORDER_SOURCE_TEXT,
        }
        if rest:
            row["sequence_id"] = fill.trade_id
        else:
            row["user_id"] = 1000001
            row["id_market"] = int(fill.trade_id)
            row["biz_info"] = "-"
        return row

    def balance_json(self, balance: LedgerBalance, change: Decimal, freeze_change: Decimal, kind: str) -> Any:
        """One currency of a ``spot.balances`` push: ``change`` is the amount that moved."""
        return {
            "timestamp": str(_seconds(balance.updated_at)),
            "timestamp_ms": str(balance.updated_at),
            "user": "1000001",
            "currency": balance.asset,
            "change": str(change),
            "total": str(balance.total),
            "available": str(balance.available),
            "freeze": str(balance.locked),
            "freeze_change": str(freeze_change),
            "change_type": kind,
        }

    def frames(self, change: Change) -> Sequence[Any]:
        if isinstance(change, OrderChanged):
            trade = [] if change.fill is None else [self.user_event("spot.usertrades", self.trade_json(change.fill))]
            return [*trade, self.user_event("spot.orders", self.order_json(change.order))]
        balance = change.balance
        before = self._pushed_balances.get(balance.asset) or LedgerBalance(balance.asset, Decimal(0), Decimal(0), 0)
        self._pushed_balances[balance.asset] = balance
        moved = balance.total - before.total if change.delta is None else change.delta
        kind = "order-match" if change.delta is None else "deposit" if change.delta >= 0 else "withdraw"
        row = self.balance_json(balance, moved, balance.locked - before.locked, kind)
        return [self.user_event("spot.balances", row)]

    def user_event(self, channel: str, row: Any) -> Any:
        return self.dialect.user_event(channel, [row])

    def error_reply(self, status: int, reason: str) -> Any:
        return rest_error(*_REST_ERRORS.get(status, ("SERVER_ERROR", reason)))

    def _fee_currency(self, order: LedgerOrder) -> str:
        """The asset its fills' fees were taken in; before any, what a fill would pay in (what it receives)."""
        base, quote = order.symbol.split("_")
        return self._fee_assets.get(order.order_id) or (base if order.side == "buy" else quote)

    # --- the REST routes ------------------------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        refusal = check_rest_request(request, self.exchange.credentials, self.exchange.now(), self.dialect.revoked_keys)
        return None if refusal is None else _refusal(401, *refusal)

    def accounts_reply(self, request: RestRequest) -> Any:
        wanted = request.query.get("currency")
        return [
            {
                "currency": asset,
                "available": str(balance.available),
                "locked": str(balance.locked),
                "update_id": balance.updated_at,
            }
            for asset, balance in sorted(self.balances.items())
            if wanted in (None, asset)
        ]

    def open_orders_reply(self, request: RestRequest) -> Any:
        paging = _paging(request, most=OPEN_ORDERS_MAX_LIMIT)
        if isinstance(paging, RestResponse):
            return paging
        self.served_page(request.path)
        groups = []
        for pair in sorted({order.symbol for order in self.open_orders()}):
            orders = _page_of(self._newest_placed_first(self._open_of(pair)), *paging)
            if orders:
                rows = [self.order_json(order, rest=True) for order in orders]
                groups.append({"currency_pair": pair, "total": len(rows), "orders": rows})
        return groups

    def orders_reply(self, request: RestRequest) -> Any:
        pair, status = request.query.get("currency_pair"), request.query.get("status")
        if not pair or not status:
            missing = "status" if pair else "currency_pair"
            return _refusal(400, "MISSING_REQUIRED_PARAM", f"missing required parameter: {missing}")
        if status not in ("open", "finished"):
            return _refusal(400, "INVALID_PARAM_VALUE", "invalid argument: status")
        paging = _paging(request, most=OPEN_ORDERS_MAX_LIMIT if status == "open" else None)
        if isinstance(paging, RestResponse):
            return paging
        if status == "open":
            orders = self._newest_placed_first(self._open_of(pair))
        else:
            since, until = request.query.get("from"), request.query.get("to")
            orders = [
                order
                for order in self.finished_orders()
                if order.symbol == pair
                and (since is None or _seconds(order.updated_at) >= int(since))
                and (until is None or _seconds(order.updated_at) <= int(until))
            ]
            orders.sort(key=lambda order: (order.updated_at, int(order.order_id)), reverse=True)  # by end time
        self.served_page(request.path)
        return [self.order_json(order, rest=True) for order in _page_of(orders, *paging)]

    def my_trades_reply(self, request: RestRequest) -> Any:
        paging = _paging(request, most=TRADES_MAX_LIMIT)
        if isinstance(paging, RestResponse):
            return paging
        page, limit = paging
        if limit * (page - 1) > TRADES_MAX_OFFSET:
            return _refusal(400, "INVALID_PARAM_VALUE", f"limit * (page - 1) must not exceed {TRADES_MAX_OFFSET}")
        pair, order_id = request.query.get("currency_pair"), request.query.get("order_id")
        if order_id is not None and pair is None:
            return _refusal(400, "MISSING_REQUIRED_PARAM", "missing required parameter: currency_pair")
        since, until = self._trades_range(request)
        if until is not None and until - since > TRADES_MAX_RANGE_DAYS * _DAY_S:
            return _refusal(400, "INVALID_PARAM_VALUE", f"time range exceeds {TRADES_MAX_RANGE_DAYS} days")
        rows = [
            fill
            for fill in self.fills
            if pair in (None, fill.symbol)
            and order_id in (None, fill.order_id)
            and _seconds(fill.time) >= since
            and (until is None or _seconds(fill.time) <= until)
        ]
        newest_first = sorted(rows, key=lambda fill: (fill.time, int(fill.trade_id)), reverse=True)
        self.served_page(request.path)
        return [self.trade_json(fill, rest=True) for fill in _page_of(newest_first, page, limit)]

    def order_reply(self, request: RestRequest) -> Any:
        order = self.orders[request.path.rsplit("/", 1)[1]]
        pair = request.query.get("currency_pair")
        if pair is None and order.is_open:
            return _refusal(400, "MISSING_REQUIRED_PARAM", "missing required parameter: currency_pair")
        if pair not in (None, order.symbol):
            return _refusal(404, "ORDER_NOT_FOUND", "Order not found")
        return self.order_json(order, rest=True)

    def _trades_range(self, request: RestRequest) -> tuple[int, int | None]:
        """``from`` and ``to`` as Gate reads them: a missing one is 7 days from the other, or the last 7 days
        (then without an end: the ledger's stamps may run a little ahead of the exchange's clock)."""
        since, until = request.query.get("from"), request.query.get("to")
        default = TRADES_DEFAULT_DAYS * _DAY_S
        if since is None and until is None:
            return int(self.exchange.now()) - default, None
        if since is None:
            assert until is not None
            return int(until) - default, int(until)
        return int(since), int(until) if until is not None else int(since) + default

    def _open_of(self, pair: str) -> list[LedgerOrder]:
        return [order for order in self.open_orders() if order.symbol == pair]

    @staticmethod
    def _newest_placed_first(orders: list[LedgerOrder]) -> list[LedgerOrder]:
        return sorted(orders, key=lambda order: (order.created_at, int(order.order_id)), reverse=True)


def install_account(exchange: FakeExchange) -> GateIoAccount:
    """Serve Gate's account endpoints on ``exchange`` (speaking `GateIoSpotDialect`); return the account's truth."""
    if not isinstance(exchange.dialect, GateIoSpotDialect):
        raise TypeError(f"install_account() needs GateIoSpotDialect, not {type(exchange.dialect).__name__}")
    account = GateIoAccount(exchange, exchange.dialect)
    routes = {
        ACCOUNTS_PATH: account.accounts_reply,
        OPEN_ORDERS_PATH: account.open_orders_reply,
        ORDERS_PATH: account.orders_reply,
        MY_TRADES_PATH: account.my_trades_reply,
    }
    account.serve_signed("GET", routes)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Gate spot v4 documents them, for the tests."""

    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "channel": "spot.orders",
        "event": "update",
        "result": [
            {
                "id": "399123456",
                "text": "t-my-order",
                "create_time": "1795568753",
                "update_time": "1795568753",
                "create_time_ms": "1795568753027",
                "update_time_ms": "1795568753027",
                "currency_pair": "BTC_USDT",
                "type": "limit",
                "account": "spot",
                "side": "buy",
                "amount": "0.0001",
                "price": "26253.3",
                "time_in_force": "gtc",
                "left": "0.0001",
                "filled_total": "0",
                "avg_deal_price": "0",
                "fee": "0",
                "fee_currency": "BTC",
                "point_fee": "0",
                "gt_fee": "0",
                "rebated_fee": "0",
                "rebated_fee_currency": "USDT",
                "user": 1000001,
                "event": "put",
                "stp_id": 0,
                "stp_act": "-",
                "finish_as": "open",
                "biz_info": "-",
                "amend_text": "-",
            }
        ],
    }
    FILL: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753127,
        "channel": "spot.usertrades",
        "event": "update",
        "result": [
            {
                "id": 5736713,
                "user_id": 1000001,
                "order_id": "399123456",
                "currency_pair": "BTC_USDT",
                "create_time": 1795568753,
                "create_time_ms": "1795568753127.123",
                "side": "buy",
                "amount": "0.0001",
                "role": "taker",
                "price": "26253.3",
                "fee": "0.00000020",
                "fee_currency": "BTC",
                "point_fee": "0",
                "gt_fee": "0",
                "text": "t-my-order",
                "id_market": 5736713,
            }
        ],
    }
    BALANCE_UPDATE: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753128,
        "channel": "spot.balances",
        "event": "update",
        "result": [
            {
                "timestamp": "1795568753",
                "timestamp_ms": "1795568753128",
                "user": "1000001",
                "currency": "USDT",
                "change": "-2.6253",
                "total": "997.3747",
                "available": "997.3747",
                "freeze": "0",
                "freeze_change": "0",
                "change_type": "order-match",
            }
        ],
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "id": 1,
        "channel": "spot.orders",
        "event": "subscribe",
        "error": None,
        "result": {"status": "success"},
    }
    AUTHENTICATION_FAIL: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "id": 1,
        "channel": "spot.orders",
        "event": "subscribe",
        "error": {"code": 4, "message": "Authentication fail"},
        "result": None,
    }
    INVALID_ARGUMENT: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "id": 1,
        "channel": "spot.orders",
        "event": "subscribe",
        "error": {"code": 2, "message": "Invalid argument provided"},
        "result": None,
    }
    PONG: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "channel": "spot.pong",
        "event": "",
        "error": None,
        "result": None,
    }
    SERVER_TIME: ClassVar[dict[str, Any]] = {"server_time": 1795568753027}
    ORDER_FILLED: ClassVar[dict[str, Any]] = {
        **ORDER_UPDATE,
        "time_ms": 1795568753127,
        "result": [
            {
                **ORDER_UPDATE["result"][0],
                "update_time_ms": "1795568753127",
                "left": "0",
                "filled_total": "2.62533",
                "avg_deal_price": "26253.3",
                "fee": "0.0000002",
                "event": "finish",
                "finish_as": "filled",
            }
        ],
    }
    SERVICE_UPGRADE: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753773,
        "channel": "spot.system",
        "event": "update",
        "result": {
            "type": "upgrade",
            "msg": "The connection will soon be closed for a service upgrade. Please reconnect.",
        },
    }
    ACCOUNTS_REPLY: ClassVar[list[dict[str, Any]]] = [
        {"currency": "BTC", "available": "0.0001", "locked": "0", "update_id": 101},
        {"currency": "USDT", "available": "997.3747", "locked": "2.6253", "update_id": 102},
    ]
    OPEN_ORDER: ClassVar[dict[str, Any]] = {
        "id": "399123457",
        "text": "apiv4",
        "amend_text": "-",
        "create_time": "1795568754",
        "update_time": "1795568754",
        "create_time_ms": 1795568754027,
        "update_time_ms": 1795568754027,
        "status": "open",
        "currency_pair": "BTC_USDT",
        "type": "limit",
        "account": "spot",
        "side": "buy",
        "amount": "0.0001",
        "price": "26253",
        "time_in_force": "gtc",
        "iceberg": "0",
        "left": "0.0001",
        "filled_amount": "0",
        "filled_total": "0",
        "avg_deal_price": "0",
        "fee": "0",
        "fee_currency": "BTC",
        "point_fee": "0",
        "gt_fee": "0",
        "gt_discount": False,
        "rebated_fee": "0",
        "rebated_fee_currency": "USDT",
        "stp_id": 0,
        "stp_act": "-",
        "finish_as": "open",
    }
    OPEN_ORDERS_REPLY: ClassVar[list[dict[str, Any]]] = [
        {"currency_pair": "BTC_USDT", "total": 1, "orders": [OPEN_ORDER]}
    ]
    FINISHED_ORDERS_REPLY: ClassVar[list[dict[str, Any]]] = [
        {
            **OPEN_ORDER,
            "id": "399123456",
            "text": "t-my-order",
            "create_time": "1795568753",
            "update_time": "1795568753",
            "create_time_ms": 1795568753027,
            "update_time_ms": 1795568753127,
            "status": "closed",
            "price": "26253.3",
            "left": "0",
            "filled_amount": "0.0001",
            "filled_total": "2.62533",
            "avg_deal_price": "26253.3",
            "fee": "0.0000002",
            "finish_as": "filled",
        }
    ]
    MY_TRADES_REPLY: ClassVar[list[dict[str, Any]]] = [
        {
            "id": "5736713",
            "create_time": "1795568753",
            "create_time_ms": "1795568753127.123",
            "currency_pair": "BTC_USDT",
            "side": "buy",
            "role": "taker",
            "amount": "0.0001",
            "price": "26253.3",
            "order_id": "399123456",
            "fee": "0.00000020",
            "fee_currency": "BTC",
            "point_fee": "0",
            "gt_fee": "0",
            "amend_text": "-",
            "sequence_id": "588018",
            "text": "t-my-order",
        }
    ]
    ORDER_REPLY: ClassVar[dict[str, Any]] = OPEN_ORDER
    ORDER_NOT_FOUND: ClassVar[dict[str, Any]] = {"label": "ORDER_NOT_FOUND", "message": "Order not found"}
    INVALID_SIGNATURE: ClassVar[dict[str, Any]] = {"label": "INVALID_SIGNATURE", "message": "Signature mismatch"}


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    ANNOUNCES_CLOSE: ClassVar[bool] = True
    LARGEST_PAGE: ClassVar[int | None] = TRADES_MAX_LIMIT
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTC_USDT", "ETH_USDT")
    GUARANTEE: ClassVar[str] = (
        "exact: every fill and every order's final state once, absolute balances; finished orders read per pair"
    )
    account: GateIoAccount

    def dialect(self) -> Dialect:
        return GateIoSpotDialect()

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)  # the time endpoint, and the fake's frames stamped with its own clock
        self.account = install_account(exchange)

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The same path as Gate's own wss://api.gateio.ws/ws/v4/.
        return {"ws_url": exchange.ws_url + "/v4/", "rest_url": exchange.rest_url}

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        exchange.reject_next_subscribe(AUTHENTICATION_FAIL)
        return True

    async def announce_close(self, exchange: FakeExchange, *, after: float) -> None:
        dialect = exchange.dialect
        assert isinstance(dialect, GateIoSpotDialect)
        await exchange.announce_close(dialect.service_upgrade_notice(), after=after)

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.BALANCE_UPDATE]
