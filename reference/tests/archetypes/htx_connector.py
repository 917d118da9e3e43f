"""An HTX (Huobi) spot connector on the REST-polling archetype: what a generated connector looks like.

Only constants and pure methods: HTX's paths, its "Signature Version 2" query signing, and parsers
for its replies. The polling, diffing, rate limiting and backoff come from `RestPollingDataSource`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from userstream import MarketAuth, OrderStatus
from userstream.archetypes.rest_polling import (
    Balance,
    Order,
    PollRequest,
    RestPollingDataSource,
    encode_query,
    utc_seconds,
)


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
    OPEN_ORDERS_PAGE = "500"  # HTX's maximum page size (default 100)

    def open_orders_request(self, account_id: str) -> PollRequest:
        return PollRequest(self.OPEN_ORDERS_PATH, {"account-id": account_id, "size": self.OPEN_ORDERS_PAGE})

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
