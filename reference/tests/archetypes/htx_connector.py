"""An HTX (Huobi) spot connector on the REST-polling archetype: what a generated connector looks like.

Only constants and pure methods: HTX's paths, its "Signature Version 2" query signing, and parsers
for its replies. The polling, diffing, pagination, rate limiting and backoff come from `RestPollingDataSource`.

Fills come from ``GET /v1/order/matchresults`` (one request per symbol: HTX's documentation has
``symbol`` required; ``start-time``/``end-time`` at most 48 h apart and within 120 days, pages of 500
newest first, the next page ``from`` the last row's ``id`` with ``direct=next``), and orders finished
between two polls from ``GET /v1/order/history`` (every symbol at once, the last 48 h, pages of 1000
newest first, the next page ending at the reply's ``next-time``; fully cancelled orders leave it after 2 h).

Fees: ``filled-fees`` is positive for a fee and negative for a maker rebate, as `TradeFill.fee` counts
it, in ``fee-currency``. A fee deducted in HT or points has ``filled-fees`` zero and the deduction in
``filled-points``, in ``fee-deduct-currency``: that is reported as the fee. The fee is the one the
matchresults show when the fill is first read (a deduction still ``ongoing`` is not read again).

Poll cost: a quiet poll is 3 signed GETs (open orders, balance, order history) every 2 s; each symbol
with new fills adds one matchresults request (one per 48 h window after a longer outage) until its fills
are in, each order that left the open list and is not in the history one order detail, and a full page
one more request. HTX allows 20 requests per 2 s to each of ``/v1/order/history`` and
``/v1/order/matchresults``, 50 to ``openOrders`` and 100 to the balance: fills on more than about 15
symbols in one poll need a longer `poll_interval` (a 429 is waited out either way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from userstream import MarketAuth, OrderStatus
from userstream.archetypes.rest_polling import (
    Balance,
    Fill,
    Order,
    Page,
    PollRequest,
    RestPollingDataSource,
    encode_query,
    utc_seconds,
)

DAY = 24 * 3600.0
QUERY_WINDOW_MS = 48 * 3600 * 1000
"""The longest ``start-time`` to ``end-time`` span matchresults accepts."""
OPEN_WINDOW_MARGIN_MS = 60_000
"""A window left open (no ``end-time``: HTX's now) starts this much later than 48 h before our now."""


class HtxAuth(MarketAuth):
    """HTX signs in the query string: base64 HMAC-SHA256 over method, host, path and the sorted parameters."""

    def signed_params(self, method: str, host: str, path: str, params: Mapping[str, str]) -> dict[str, str]:
        signed = {
            **params,
            "AccessKeyId": self.api_key,
            "SignatureMethod": "HmacSHA256",
            "SignatureVersion": "2",
            "Timestamp": utc_seconds(self.now()),
        }
        ordered = dict(sorted(signed.items()))
        payload = f"{method.upper()}\n{host.lower()}\n{path}\n{encode_query(ordered)}"
        return {**ordered, "Signature": self.hmac_sha256_base64(payload)}


class HtxUserStreamDataSource(RestPollingDataSource):
    SERVER_TIME_PATH: ClassVar[str | None] = "/v1/common/timestamp"
    ACCOUNTS_PATH: ClassVar[str | None] = "/v1/account/accounts"
    BALANCE_PATH: ClassVar[str] = "/v1/account/accounts/{account_id}/balance"
    OPEN_ORDERS_PATH: ClassVar[str] = "/v1/order/openOrders"
    ORDER_DETAIL_PATH: ClassVar[str] = "/v1/order/orders/{order_id}"
    FINAL_ORDER_STATUSES: ClassVar[frozenset[str]] = frozenset({"filled", "canceled", "partial-canceled"})
    ORDER_STATUSES: ClassVar[Mapping[str, OrderStatus]] = {
        "created": OrderStatus.OPEN,
        "submitted": OrderStatus.OPEN,
        "partial-filled": OrderStatus.PARTIALLY_FILLED,
        "cancelling": OrderStatus.PARTIALLY_FILLED,
        "filled": OrderStatus.FILLED,
        "canceled": OrderStatus.CANCELED,
        "partial-canceled": OrderStatus.CANCELED,
    }
    FILLS_PATH: ClassVar[str | None] = "/v1/order/matchresults"
    ORDER_HISTORY_PATH: ClassVar[str | None] = "/v1/order/history"
    FILLS_WINDOW: ClassVar[float] = 120 * DAY
    # HTX's 48 h, less a minute: the exchange measures the window from its own, later, now.
    ORDER_HISTORY_WINDOW: ClassVar[float] = 2 * DAY - 60
    OPEN_ORDERS_PAGE: ClassVar[str] = "500"  # HTX's maximum page size (default 100)
    FILLS_PAGE: ClassVar[str] = "500"  # matchresults: [1, 500], default 100
    ORDER_HISTORY_PAGE: ClassVar[str] = "1000"  # order history: [10, 1000], default 100

    def open_orders_request(self, account_id: str) -> PollRequest:
        return PollRequest(self.OPEN_ORDERS_PATH, {"account-id": account_id, "size": self.OPEN_ORDERS_PAGE})

    def fills_requests(self, account_id: str, starts: Mapping[str, int], now_ms: int) -> Sequence[PollRequest]:
        return [
            PollRequest(self.FILLS_PATH or "", {"symbol": symbol, **window, "size": self.FILLS_PAGE})
            for symbol, start_ms in sorted(starts.items())
            for window in query_windows(start_ms, now_ms)
        ]

    def order_history_requests(self, account_id: str, start_ms: int, now_ms: int) -> Sequence[PollRequest]:
        params = {"start-time": str(start_ms), "direct": "next", "size": self.ORDER_HISTORY_PAGE}
        return [PollRequest(self.ORDER_HISTORY_PATH or "", params)]

    def authenticate_request(
        self, method: str, host: str, path: str, params: Mapping[str, str]
    ) -> tuple[Mapping[str, str], Mapping[str, str]]:
        if not isinstance(self.auth, HtxAuth):
            raise TypeError(f"{type(self).__name__} signs with an HtxAuth, got {type(self.auth).__name__}")
        return self.auth.signed_params(method, host, path, params), {}

    # --- replies -----------------------------------------------------------------------------

    def is_error_reply(self, status: int, reply: Any) -> bool:
        return status >= 400 or not (isinstance(reply, dict) and reply.get("status") == "ok")

    def is_auth_error(self, reply: Any) -> bool:
        return isinstance(reply, dict) and reply.get("err-code") == "api-signature-not-valid"

    def is_clock_skew(self, reply: Any) -> bool:
        return self.is_auth_error(reply) and "Invalid submission time" in str(reply.get("err-msg"))

    def describe_rejection(self, message: Any) -> str:
        if isinstance(message, dict) and "err-code" in message:
            return f"{message.get('err-msg')} ({message['err-code']})"
        return super().describe_rejection(message)

    def parse_server_time(self, body: Any) -> float:
        return float(body["data"]) / 1000

    def parse_account_id(self, reply: Any) -> str:
        spot = [account for account in reply["data"] if account["type"] == "spot"]
        if not spot:
            raise LookupError("the key's user has no spot account")
        return str(spot[0]["id"])

    def parse_balances(self, reply: Any) -> Mapping[str, Balance]:
        amounts: dict[str, dict[str, Decimal]] = {}
        for entry in reply["data"]["list"]:
            per_type = amounts.setdefault(entry["currency"], {})
            per_type[entry["type"]] = per_type.get(entry["type"], Decimal(0)) + Decimal(entry["balance"])
        balances = {}
        for currency, per_type in amounts.items():
            available = per_type.get("trade", Decimal(0))
            total = available + per_type.get("frozen", Decimal(0))
            if total or available:  # HTX lists every currency, most of them empty
                balances[currency] = Balance(currency, total, available)
        return balances

    def parse_open_orders(self, reply: Any) -> Mapping[str, Order]:
        orders = (parse_order(raw) for raw in reply["data"])
        return {order.order_id: order for order in orders}

    def parse_order_detail(self, reply: Any) -> Order:
        return parse_order(reply["data"])

    def parse_fills(self, request: PollRequest, reply: Any) -> Page[Fill]:
        rows = reply["data"]
        if len(rows) < int(request.params["size"]):
            return Page([parse_fill(raw) for raw in rows])
        # A full page: the next one starts after its last row's record id (not its trade id), older rows first.
        following = PollRequest(request.path, {**request.params, "from": str(rows[-1]["id"]), "direct": "next"})
        return Page([parse_fill(raw) for raw in rows], following)

    def parse_order_history(self, request: PollRequest, reply: Any) -> Page[Order]:
        orders = [parse_order(raw) for raw in reply["data"]]
        if "next-time" not in reply:  # present only when more orders matched than one page holds
            return Page(orders)
        return Page(orders, PollRequest(request.path, {**request.params, "end-time": str(reply["next-time"])}))


def parse_order(raw: Mapping[str, Any]) -> Order:
    """An HTX order: open orders spell the fill ``filled-amount``, the order detail ``field-amount``."""
    filled = raw.get("filled-amount", raw.get("field-amount", "0"))
    return Order(
        order_id=str(raw["id"]),
        client_order_id=raw.get("client-order-id") or None,
        symbol=raw["symbol"],
        order_type=raw["type"],
        price=Decimal(raw["price"]),
        amount=Decimal(raw["amount"]),
        filled_amount=Decimal(filled),
        status=raw["state"],
        created_at=raw.get("created-at"),
    )


def parse_fill(raw: Mapping[str, Any]) -> Fill:
    """One matchresults row; a fee paid by deduction (HT, points) is reported in the deduction's currency."""
    fee, fee_asset = Decimal(raw["filled-fees"]), raw.get("fee-currency") or None
    points, deduct_currency = Decimal(raw.get("filled-points") or "0"), raw.get("fee-deduct-currency") or None
    if not fee and points and deduct_currency:
        fee, fee_asset = points, deduct_currency
    return Fill(
        trade_id=str(raw["trade-id"]),
        order_id=str(raw["order-id"]),
        symbol=raw["symbol"],
        price=Decimal(raw["price"]),
        amount=Decimal(raw["filled-amount"]),
        fee=fee,
        fee_asset=fee_asset,
        time=raw["created-at"],
        liquidity=raw.get("role"),
    )


def query_windows(start_ms: int, now_ms: int) -> list[dict[str, str]]:
    """``start-time``/``end-time`` for each 48 h window from ``start_ms`` to now, oldest first; the last is open."""
    open_start = max(start_ms, now_ms - QUERY_WINDOW_MS + OPEN_WINDOW_MARGIN_MS)
    windows = []
    window_start = start_ms
    while window_start < open_start:
        window_end = min(window_start + QUERY_WINDOW_MS, open_start) - 1
        windows.append({"start-time": str(window_start), "end-time": str(window_end)})
        window_start = window_end + 1
    return [*windows, {"start-time": str(open_start)}]
