"""HTX (Huobi) spot REST, as the fake exchange speaks it: the account a REST-polling user stream reads.

`install(exchange)` registers HTX's private REST routes on a `FakeExchange` and returns an
`HtxAccount`: the account's truth (balances, orders, and every fill) that a test mutates between
polls, plus faults (a 5xx, a stalled reply, HTTP 429 with ``Retry-After``, an order whose detail is
missing), for every signed request or for one path.

Routes (HTX spot API v1; every private one is a signed GET, checked like HTX checks it):

=========================================  ============================================================
``GET /v1/common/timestamp``               ``{"status": "ok", "data": <ms>}`` (public)
``GET /v1/account/accounts``               ``{"status": "ok", "data": [{"id", "type": "spot", ...}]}``
``GET /v1/account/accounts/{id}/balance``  ``{"status": "ok", "data": {"id", "type", "state", "list": [
                                           {"currency", "type": "trade"|"frozen", "balance"}]}}``
``GET /v1/order/openOrders``               ``{"status": "ok", "data": [order, ...]}`` (``account-id`` required)
``GET /v1/order/orders/{order-id}``        ``{"status": "ok", "data": order}``; registered per order when
                                           it is placed; its filled amount is spelled ``field-amount``
``GET /v1/order/history``                  finished orders (``filled``, ``partial-canceled``,
                                           ``canceled``) of every symbol (or ``symbol``), created within
                                           ``start-time``..``end-time`` (default and limit: the last 48 h);
                                           ``size`` 10..1000 (100); newest first (``direct=next``, the
                                           default) or oldest first (``prev``); when more match than
                                           ``size``, ``next-time`` is the next query's ``end-time``
                                           (``next``) or ``start-time`` (``prev``). A fully cancelled order
                                           leaves it 2 h after its cancellation.
``GET /v1/order/matchresults``             ``{"status": "ok", "data": [match result, ...]}``: ``symbol``
                                           required; ``start-time``..``end-time`` (by ``created-at``) at
                                           most 48 h apart (``invalid_interval``), default the 48 h before
                                           ``end-time`` (default now), within 120 days; ``size`` 1..500
                                           (100); newest record ``id`` first; ``from`` an ``id`` with
                                           ``direct=next`` (older than it, the default) or ``prev`` (newer)
=========================================  ============================================================

The docs do not say which time the order history's window compares: the fake compares ``created-at``
(as ``/v1/order/orders`` documents for its own), the stricter choice for a client (an order created
before the window and finished in it is found only by its detail).

Signing (HTX "Signature Version 2"): query parameters ``AccessKeyId``, ``SignatureMethod=HmacSHA256``,
``SignatureVersion=2``, ``Timestamp=YYYY-MM-DDThh:mm:ss`` (UTC, valid 5 minutes) and ``Signature`` =
base64 HMAC-SHA256 of ``"GET\\n" + host + "\\n" + path + "\\n" + sorted, percent-encoded parameters``.
The host is the one the request was sent to (``127.0.0.1:<port>`` here). Errors are HTTP 200 with
``{"status": "error", "err-code": ..., "err-msg": ..., "data": null}``, e.g. ``api-signature-not-valid``
/ ``Signature not valid: Verification failure [校验失败]``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from userstream.testing.dialect import Credentials
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse

ACCOUNT_ID = 100009
TIMESTAMP_PATH = "/v1/common/timestamp"
ACCOUNTS_PATH = "/v1/account/accounts"
OPEN_ORDERS_PATH = "/v1/order/openOrders"
ORDER_DETAIL_PATH = "/v1/order/orders/{order_id}"
ORDER_HISTORY_PATH = "/v1/order/history"
MATCH_RESULTS_PATH = "/v1/order/matchresults"
OPEN_STATES = frozenset({"created", "submitted", "partial-filled", "cancelling"})
TIMESTAMP_WINDOW = 300.0  # HTX: "时间戳有效时间5分钟"
HOUR_MS = 3600 * 1000
HISTORY_WINDOW_MS = 48 * HOUR_MS
"""The order history's reach, and the widest matchresults window."""
MATCH_RESULTS_REACH_MS = 120 * 24 * HOUR_MS
CANCELED_VISIBLE_MS = 2 * HOUR_MS
"""A fully cancelled order leaves the order history this long after its cancellation."""
HISTORY_SIZES = range(10, 1001)
HISTORY_DEFAULT_SIZE = 100
MATCH_RESULTS_SIZES = range(1, 501)
MATCH_RESULTS_DEFAULT_SIZE = 100
QUOTE_CURRENCIES = ("usdt", "usdc", "husd", "btc", "eth", "ht", "trx")

# err-msg texts as HTX sends them (bilingual).
BAD_SIGNATURE = "Signature not valid: Verification failure [校验失败]"
BAD_ACCESS_KEY = "Signature not valid: Incorrect Access key [Access key错误]"
BAD_TIMESTAMP = (  # \uff0c: HTX's own full-width comma
    "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间\uff0c或时间格式错误]"
)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"status": "error", "err-code": code, "err-msg": message, "data": None}


def signature_payload(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """What HTX signs: method, lower-case host, path and the sorted, percent-encoded parameters, one per line."""
    query = urlencode(sorted(params.items()), quote_via=quote)
    return f"{method.upper()}\n{host.lower()}\n{path}\n{query}"


def check_signature(
    method: str, host: str, path: str, query: Mapping[str, str], credentials: Credentials, server_time: float
) -> str | None:
    """HTX's err-msg for a badly signed request, or None if it is good."""
    params = {key: value for key, value in query.items() if key != "Signature"}
    if params.get("AccessKeyId") != credentials.api_key:
        return BAD_ACCESS_KEY
    if params.get("SignatureMethod") != "HmacSHA256" or params.get("SignatureVersion") != "2":
        return BAD_SIGNATURE
    try:
        sent = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return BAD_TIMESTAMP
    if abs(sent.timestamp() - server_time) > TIMESTAMP_WINDOW:
        return BAD_TIMESTAMP
    payload = signature_payload(method, host, path, params).encode()
    expected = base64.b64encode(hmac.new(credentials.secret.encode(), payload, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(query.get("Signature", ""), expected):
        return BAD_SIGNATURE
    return None


# --- the account's truth -----------------------------------------------------------------------


@dataclass
class HtxOrder:
    """One spot order as HTX stores it; amounts are decimal strings on the wire."""

    id: int
    symbol: str
    type: str
    price: Decimal
    amount: Decimal
    client_order_id: str | None
    created_at: int
    filled_amount: Decimal = Decimal(0)
    filled_cash_amount: Decimal = Decimal(0)
    filled_fees: Decimal = Decimal(0)
    """Fees charged in the fee currency; rebates are not in it (as HTX's order endpoints document)."""
    state: str = "submitted"
    finished_at: int = 0
    canceled_at: int = 0

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    def open_order_json(self, account_id: int) -> dict[str, Any]:
        """An element of ``/v1/order/openOrders``: its fill is spelled ``filled-amount``."""
        return self._json(
            account_id,
            {
                "filled-amount": str(self.filled_amount),
                "filled-cash-amount": str(self.filled_cash_amount),
                "filled-fees": str(self.filled_fees),
            },
        )

    @property
    def side(self) -> str:
        return self.type.split("-", 1)[0]

    def detail_json(self, account_id: int) -> dict[str, Any]:
        """``/v1/order/orders/{order-id}``'s data: HTX's documented spelling is ``field-amount`` here."""
        return self._json(
            account_id,
            {
                "field-amount": str(self.filled_amount),
                "field-cash-amount": str(self.filled_cash_amount),
                "field-fees": str(self.filled_fees),
                "finished-at": self.finished_at,
                "canceled-at": self.canceled_at,
            },
        )

    def _json(self, account_id: int, fill_fields: dict[str, Any]) -> dict[str, Any]:
        """The fields both replies share, with each reply's own spelling of the fill."""
        body: dict[str, Any] = {
            "id": self.id,
            "symbol": self.symbol,
            "account-id": account_id,
            "amount": str(self.amount),
            "price": str(self.price),
            "created-at": self.created_at,
            "type": self.type,
            **fill_fields,
            "source": "api",
            "state": self.state,
        }
        if self.client_order_id is not None:
            body["client-order-id"] = self.client_order_id
        return body


@dataclass(frozen=True)
class HtxFill:
    """One match result: an execution against one of the account's orders."""

    id: int
    """The record id, what ``from`` pages by (increasing, not consecutive)."""
    trade_id: int
    match_id: int
    order_id: int
    symbol: str
    type: str
    price: Decimal
    filled_amount: Decimal
    filled_fees: Decimal
    """Positive: a fee; negative: a maker rebate. Zero when the fee was deducted in HT or points."""
    fee_currency: str
    role: str
    created_at: int
    filled_points: Decimal = Decimal(0)
    fee_deduct_currency: str = ""

    def json(self) -> dict[str, Any]:
        """An element of ``/v1/order/matchresults``, as HTX documents it."""
        return {
            "id": self.id,
            "order-id": self.order_id,
            "match-id": self.match_id,
            "trade-id": self.trade_id,
            "symbol": self.symbol,
            "type": self.type,
            "source": "api",
            "price": str(self.price),
            "filled-amount": str(self.filled_amount),
            "filled-fees": str(self.filled_fees),
            "fee-currency": self.fee_currency,
            "created-at": self.created_at,
            "role": self.role,
            "filled-points": str(self.filled_points),
            "fee-deduct-currency": self.fee_deduct_currency,
            "fee-deduct-state": "done",
        }


def base_and_quote(symbol: str) -> tuple[str, str]:
    """``ethusdt`` → ``("eth", "usdt")``."""
    for quote_currency in QUOTE_CURRENCIES:
        if symbol.endswith(quote_currency) and len(symbol) > len(quote_currency):
            return symbol[: -len(quote_currency)], quote_currency
    raise ValueError(f"no known quote currency in {symbol!r}")


@dataclass
class _Fault:
    status: int = 200
    body: Any = None
    retry_after: str | None = None
    stall: float = 0.0
    path: str | None = None
    """Only a request to this path meets the fault (None: the next signed request, whatever its path)."""


@dataclass
class HtxAccount:
    """The account behind the fake's HTX routes. Tests change it; the next poll sees the change."""

    exchange: FakeExchange
    account_id: int = ACCOUNT_ID
    balances: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """currency → {"trade": available, "frozen": held by open orders}."""
    orders: dict[int, HtxOrder] = field(default_factory=dict)
    fills: list[HtxFill] = field(default_factory=list)
    """Every execution, oldest first."""
    rejections: list[tuple[str, str]] = field(default_factory=list)
    """Signed requests refused, as ``(path, err-msg)``."""
    arrivals: list[tuple[float, RestRequest]] = field(default_factory=list)
    """Every request to a signed route with the event loop's time it arrived, faults included."""
    _faults: list[_Fault] = field(default_factory=list)
    _forgotten: set[int] = field(default_factory=set)
    _unshown: set[int] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(59378))
    _record_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(29553, 7))
    _trade_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100282808529))
    _match_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(59335))
    _last_stamp: int = 0

    @property
    def balance_path(self) -> str:
        return f"{ACCOUNTS_PATH}/{self.account_id}/balance"

    # --- the account ----------------------------------------------------------------------------

    def stamp(self) -> int:
        """The exchange's clock in ms, strictly after the previous stamp: every change has its own moment."""
        self._last_stamp = max(int(self.exchange.now() * 1000), self._last_stamp + 1)
        return self._last_stamp

    def set_balance(self, currency: str, trade: str | Decimal, frozen: str | Decimal = "0") -> None:
        self.balances[currency] = {"trade": Decimal(trade), "frozen": Decimal(frozen)}

    def place_order(
        self, symbol: str, order_type: str, price: str, amount: str, client_order_id: str | None = None
    ) -> HtxOrder:
        """A new open order (state ``submitted``); its detail route is registered at once, as HTX serves one per id."""
        order = HtxOrder(
            id=next(self._ids),
            symbol=symbol,
            type=order_type,
            price=Decimal(price),
            amount=Decimal(amount),
            client_order_id=client_order_id,
            created_at=self.stamp(),
        )
        self.orders[order.id] = order
        self.exchange.route(
            "GET", ORDER_DETAIL_PATH.format(order_id=order.id), self._signed(self._order_detail(order.id))
        )
        return order

    def fill(
        self,
        order_id: int,
        amount: str,
        *,
        fee: str = "0",
        role: str = "taker",
        points: str | None = None,
        deduct_currency: str = "ht",
        shown: bool = True,
    ) -> HtxOrder:
        """Fill ``amount`` more of an open order (at most what is left): ``partial-filled``, or ``filled`` (closed).

        ``fee`` is charged in HTX's fee currency (a buy pays in the base currency, a sell in the quote; negative:
        a maker rebate); ``points`` instead deducts the fee in ``deduct_currency`` (``filled-fees`` is then 0).
        ``shown=False``: the order moves at once, but the match result appears only at `show_fills` (a lagging
        clearing).
        """
        order = self.orders[order_id]
        if not order.open:
            raise ValueError(f"order {order_id} is {order.state}: it cannot fill")
        executed = min(Decimal(amount), order.amount - order.filled_amount)
        base, quote = base_and_quote(order.symbol)
        execution = HtxFill(
            id=next(self._record_ids),
            trade_id=next(self._trade_ids),
            match_id=next(self._match_ids),
            order_id=order.id,
            symbol=order.symbol,
            type=order.type,
            price=order.price,
            filled_amount=executed,
            filled_fees=Decimal(0) if points is not None else Decimal(fee),
            fee_currency=base if order.side == "buy" else quote,
            role=role,
            created_at=self.stamp(),
            filled_points=Decimal(points or 0),
            fee_deduct_currency=deduct_currency if points is not None else "",
        )
        self.fills.append(execution)
        if not shown:
            self._unshown.add(execution.id)
        order.filled_amount += executed
        order.filled_cash_amount += executed * order.price
        order.filled_fees += max(execution.filled_fees, Decimal(0))
        if order.filled_amount >= order.amount:
            order.state = "filled"
            order.finished_at = execution.created_at
        else:
            order.state = "partial-filled"
        return order

    def cancel(self, order_id: int) -> HtxOrder:
        """Cancel an open order: ``canceled``, or ``partial-canceled`` if part of it had filled."""
        order = self.orders[order_id]
        if not order.open:
            raise ValueError(f"order {order_id} is {order.state}: it cannot be canceled")
        order.state = "partial-canceled" if order.filled_amount > 0 else "canceled"
        order.canceled_at = order.finished_at = self.stamp()
        return order

    def show_fills(self) -> None:
        """The match results held back (``fill(shown=False)``) appear."""
        self._unshown.clear()

    def forget_order(self, order_id: int) -> None:
        """Make an order vanish: gone from the open list and the history; its detail answers ``base-record-invalid``."""
        self._forgotten.add(order_id)

    # --- faults -----------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503, *, path: str | None = None) -> None:
        """The next ``count`` signed requests (to ``path``, if given) fail with ``status`` (a gateway error)."""
        body = error_body("gateway-internal-error", "Service unavailable, please try again later")
        self._faults.extend(_Fault(status=status, body=body, path=path) for _ in range(count))

    def rate_limit_next(self, retry_after: float = 1, count: int = 1) -> None:
        """The next ``count`` signed requests answer HTTP 429 with ``Retry-After``."""
        body = error_body("too-many-requests", "Too many requests, please try again later")
        self._faults.extend(_Fault(status=429, body=body, retry_after=f"{retry_after:g}") for _ in range(count))

    def stall_next(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` signed requests are answered only after ``seconds`` (a slow or hung gateway)."""
        self._faults.extend(_Fault(stall=seconds) for _ in range(count))

    def fills_of(self, order_id: int) -> Sequence[HtxFill]:
        """One order's executions, oldest first."""
        return [execution for execution in self.fills if execution.order_id == order_id]

    def signed_requests(self, path: str | None = None) -> list[RestRequest]:
        """Requests that carried a signature (all but the time endpoint), optionally for one path."""
        return [
            request
            for request in self.exchange.rest_requests
            if "Signature" in request.query and (path is None or request.path == path)
        ]

    # --- serving -----------------------------------------------------------------------------------

    def _signed(self, handler: Callable[[RestRequest], Any]) -> Callable[[RestRequest], Awaitable[Any]]:
        async def serve(request: RestRequest) -> Any:
            self.arrivals.append((asyncio.get_running_loop().time(), request))
            fault = self._next_fault(request.path)
            if fault is not None:
                if fault.stall:
                    await asyncio.sleep(fault.stall)
                elif fault.retry_after is not None:
                    # RestResponse carries no headers; an aiohttp HTTPException raised here does.
                    raise web.HTTPTooManyRequests(
                        headers={"Retry-After": fault.retry_after},
                        text=json.dumps(fault.body),
                        content_type="application/json",
                    )
                else:
                    return RestResponse(fault.body, status=fault.status)
            host = request.headers.get("Host", "")
            reason = check_signature(
                request.method, host, request.path, request.query, self.exchange.credentials, self.exchange.now()
            )
            if reason is not None:
                self.rejections.append((request.path, reason))
                return error_body("api-signature-not-valid", reason)
            return handler(request)

        return serve

    def _next_fault(self, path: str) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.path is None or fault.path == path:
                return self._faults.pop(index)
        return None

    def _accounts(self, request: RestRequest) -> Any:
        return {"status": "ok", "data": [{"id": self.account_id, "type": "spot", "subtype": "", "state": "working"}]}

    def _balance(self, request: RestRequest) -> Any:
        entries = [
            {"currency": currency, "type": kind, "balance": str(amounts[kind])}
            for currency, amounts in self.balances.items()
            for kind in ("trade", "frozen")
        ]
        return {
            "status": "ok",
            "data": {"id": self.account_id, "type": "spot", "state": "working", "list": entries},
        }

    def _open_orders(self, request: RestRequest) -> Any:
        if request.query.get("account-id") != str(self.account_id):
            return error_body("invalid-parameter", "invalid account-id")
        orders = [
            order.open_order_json(self.account_id)
            for order in self.orders.values()
            if order.open and order.id not in self._forgotten
        ]
        return {"status": "ok", "data": orders}

    def _order_detail(self, order_id: int) -> Callable[[RestRequest], Any]:
        def detail(request: RestRequest) -> Any:
            if order_id in self._forgotten:
                return error_body("base-record-invalid", "record invalid")
            return {"status": "ok", "data": self.orders[order_id].detail_json(self.account_id)}

        return detail

    def _order_history(self, request: RestRequest) -> Any:
        now = int(self.exchange.now() * 1000)
        query = request.query
        try:
            size = int(query.get("size", HISTORY_DEFAULT_SIZE))
            end = int(query.get("end-time", now))
            start = max(int(query.get("start-time", now - HISTORY_WINDOW_MS)), now - HISTORY_WINDOW_MS)
        except ValueError:
            return error_body("invalid-parameter", "invalid parameter")
        direct = query.get("direct", "next")
        if size not in HISTORY_SIZES or direct not in ("next", "prev") or start > end:
            return error_body("invalid-parameter", f"invalid size, direct or time range: {size}, {direct}")
        symbol = query.get("symbol")
        matching = [
            order
            for order in self.orders.values()
            if not order.open
            and order.id not in self._forgotten
            and (symbol is None or order.symbol == symbol)
            and start <= order.created_at <= end
            and not (order.state == "canceled" and order.canceled_at < now - CANCELED_VISIBLE_MS)
        ]
        newest_first = direct == "next"
        matching.sort(key=lambda order: (order.created_at, order.id), reverse=newest_first)
        page, rest = matching[:size], matching[size:]
        reply: dict[str, Any] = {"status": "ok", "data": [order.detail_json(self.account_id) for order in page]}
        if rest:
            reply["next-time"] = rest[0].created_at
        return reply

    def _match_results(self, request: RestRequest) -> Any:
        now = int(self.exchange.now() * 1000)
        query = request.query
        symbol = query.get("symbol")
        if not symbol:
            return error_body("invalid-parameter", "invalid symbol")
        try:
            size = int(query.get("size", MATCH_RESULTS_DEFAULT_SIZE))
            end = int(query.get("end-time", now))
            start = int(query.get("start-time", end - HISTORY_WINDOW_MS))
            after_id = int(query["from"]) if "from" in query else None
        except ValueError:
            return error_body("invalid-parameter", "invalid parameter")
        direct = query.get("direct", "next")
        if size not in MATCH_RESULTS_SIZES or direct not in ("next", "prev"):
            return error_body("invalid-parameter", f"invalid size or direct: {size}, {direct}")
        if not start <= end <= now + HOUR_MS or end - start > HISTORY_WINDOW_MS or end < now - MATCH_RESULTS_REACH_MS:
            return error_body("invalid_interval", "the query window is at most 48 hours, within the last 120 days")
        rows = [
            execution
            for execution in self.fills
            if execution.symbol == symbol and start <= execution.created_at <= end and execution.id not in self._unshown
        ]
        if after_id is not None and direct == "next":
            rows = [execution for execution in rows if execution.id < after_id]
        elif after_id is not None:
            rows = sorted((execution for execution in rows if execution.id > after_id), key=lambda e: e.id)[:size]
        page = sorted(rows, key=lambda execution: execution.id, reverse=True)[:size]
        return {"status": "ok", "data": [execution.json() for execution in page]}


def install(exchange: FakeExchange, *, account_id: int = ACCOUNT_ID) -> HtxAccount:
    """Serve HTX's spot REST routes from ``exchange`` for one spot account; returns that account."""
    account = HtxAccount(exchange, account_id=account_id)

    def server_time(request: RestRequest) -> Any:
        return {"status": "ok", "data": int(exchange.now() * 1000)}

    exchange.route("GET", TIMESTAMP_PATH, server_time)
    exchange.route("GET", ACCOUNTS_PATH, account._signed(account._accounts))
    exchange.route("GET", account.balance_path, account._signed(account._balance))
    exchange.route("GET", OPEN_ORDERS_PATH, account._signed(account._open_orders))
    exchange.route("GET", ORDER_HISTORY_PATH, account._signed(account._order_history))
    exchange.route("GET", MATCH_RESULTS_PATH, account._signed(account._match_results))
    return account
