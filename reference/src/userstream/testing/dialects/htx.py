"""HTX (Huobi) spot REST, as the fake exchange speaks it: the account a REST-polling user stream reads.

`install(exchange)` registers HTX's private REST routes on a `FakeExchange` and returns an
`HtxAccount`: the account's truth (balances, orders) that a test mutates between polls, plus faults
(a 5xx, a stalled reply, HTTP 429 with ``Retry-After``, an order whose detail is missing).

Routes (HTX spot API v1; every private one is a signed GET, checked like HTX checks it):

=========================================  ============================================================
``GET /v1/common/timestamp``               ``{"status": "ok", "data": <ms>}`` (public)
``GET /v1/account/accounts``               ``{"status": "ok", "data": [{"id", "type": "spot", ...}]}``
``GET /v1/account/accounts/{id}/balance``  ``{"status": "ok", "data": {"id", "type", "state", "list": [
                                           {"currency", "type": "trade"|"frozen", "balance"}]}}``
``GET /v1/order/openOrders``               ``{"status": "ok", "data": [order, ...]}`` (``account-id`` required)
``GET /v1/order/orders/{order-id}``        ``{"status": "ok", "data": order}``; registered per order when
                                           it is placed; its filled amount is spelled ``field-amount``
=========================================  ============================================================

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
from collections.abc import Awaitable, Callable, Mapping
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
OPEN_STATES = frozenset({"created", "submitted", "partial-filled", "cancelling"})
TIMESTAMP_WINDOW = 300.0  # HTX: "时间戳有效时间5分钟"

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
                "filled-fees": "0",
            },
        )

    def detail_json(self, account_id: int) -> dict[str, Any]:
        """``/v1/order/orders/{order-id}``'s data: HTX's documented spelling is ``field-amount`` here."""
        return self._json(
            account_id,
            {
                "field-amount": str(self.filled_amount),
                "field-cash-amount": str(self.filled_cash_amount),
                "field-fees": "0",
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


@dataclass
class _Fault:
    status: int = 200
    body: Any = None
    retry_after: str | None = None
    stall: float = 0.0


@dataclass
class HtxAccount:
    """The account behind the fake's HTX routes. Tests change it; the next poll sees the change."""

    exchange: FakeExchange
    account_id: int = ACCOUNT_ID
    balances: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """currency → {"trade": available, "frozen": held by open orders}."""
    orders: dict[int, HtxOrder] = field(default_factory=dict)
    rejections: list[tuple[str, str]] = field(default_factory=list)
    """Signed requests refused, as ``(path, err-msg)``."""
    arrivals: list[tuple[float, RestRequest]] = field(default_factory=list)
    """Every request to a signed route with the event loop's time it arrived, faults included."""
    _faults: list[_Fault] = field(default_factory=list)
    _forgotten: set[int] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(59378))

    @property
    def balance_path(self) -> str:
        return f"{ACCOUNTS_PATH}/{self.account_id}/balance"

    # --- the account ----------------------------------------------------------------------------

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
            created_at=int(self.exchange.now() * 1000),
        )
        self.orders[order.id] = order
        self.exchange.route(
            "GET", ORDER_DETAIL_PATH.format(order_id=order.id), self._signed(self._order_detail(order.id))
        )
        return order

    def fill(self, order_id: int, amount: str) -> HtxOrder:
        """Fill ``amount`` more of an order: ``partial-filled``, or ``filled`` (and closed) once complete."""
        order = self.orders[order_id]
        order.filled_amount += Decimal(amount)
        order.filled_cash_amount += Decimal(amount) * order.price
        if order.filled_amount >= order.amount:
            order.filled_amount = order.amount
            order.state = "filled"
            order.finished_at = int(self.exchange.now() * 1000)
        else:
            order.state = "partial-filled"
        return order

    def cancel(self, order_id: int) -> HtxOrder:
        """Cancel an open order: ``canceled``, or ``partial-canceled`` if part of it had filled."""
        order = self.orders[order_id]
        order.state = "partial-canceled" if order.filled_amount > 0 else "canceled"
        order.canceled_at = order.finished_at = int(self.exchange.now() * 1000)
        return order

    def forget_order(self, order_id: int) -> None:
        """Make an order vanish: gone from the open list, and its detail answers ``base-record-invalid``."""
        self._forgotten.add(order_id)

    # --- faults -----------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """The next ``count`` signed requests fail with ``status`` (a gateway error)."""
        body = error_body("gateway-internal-error", "Service unavailable, please try again later")
        self._faults.extend(_Fault(status=status, body=body) for _ in range(count))

    def rate_limit_next(self, retry_after: float = 1, count: int = 1) -> None:
        """The next ``count`` signed requests answer HTTP 429 with ``Retry-After``."""
        body = error_body("too-many-requests", "Too many requests, please try again later")
        self._faults.extend(_Fault(status=429, body=body, retry_after=f"{retry_after:g}") for _ in range(count))

    def stall_next(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` signed requests are answered only after ``seconds`` (a slow or hung gateway)."""
        self._faults.extend(_Fault(stall=seconds) for _ in range(count))

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
            if self._faults:
                fault = self._faults.pop(0)
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


def install(exchange: FakeExchange, *, account_id: int = ACCOUNT_ID) -> HtxAccount:
    """Serve HTX's spot REST routes from ``exchange`` for one spot account; returns that account."""
    account = HtxAccount(exchange, account_id=account_id)

    def server_time(request: RestRequest) -> Any:
        return {"status": "ok", "data": int(exchange.now() * 1000)}

    exchange.route("GET", TIMESTAMP_PATH, server_time)
    exchange.route("GET", ACCOUNTS_PATH, account._signed(account._accounts))
    exchange.route("GET", account.balance_path, account._signed(account._balance))
    exchange.route("GET", OPEN_ORDERS_PATH, account._signed(account._open_orders))
    return account
