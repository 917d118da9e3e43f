"""A complete connector for the fake exchange's reference dialect: what a generated connector looks like.

Its exchange specifics are pure methods; the tests drive them through the base class's I/O loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from userstream import (
    AccountEvent,
    AccountSnapshot,
    BalanceUpdate,
    FrameKind,
    MarketAuth,
    OrderStatus,
    OrderUpdate,
    OutgoingMessage,
    SnapshotScope,
    TradeFill,
    UserStreamTrackerDataSource,
)
from userstream.testing import ReferenceDialect


class ReferenceAuth(MarketAuth):
    def ws_login_payload(self) -> dict[str, Any]:
        timestamp = self.timestamp_ms()
        signature = self.hmac_sha256_hex(ReferenceDialect.signature_payload(timestamp))
        return {"op": "login", "args": {"api_key": self.api_key, "timestamp": timestamp, "signature": signature}}


class ReferenceDataSource(UserStreamTrackerDataSource):
    channels: ClassVar[Sequence[str]] = ("orders", "fills", "balances")
    app_ping: ClassVar[OutgoingMessage | None] = {"op": "ping"}

    def login_messages(self) -> Sequence[OutgoingMessage]:
        assert self.auth is not None
        return [self.auth.ws_login_payload()]

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        return [{"op": "subscribe", "channel": channel} for channel in self.channels]

    def ping_message(self) -> OutgoingMessage | None:
        return self.app_ping

    def classify(self, message: Any) -> FrameKind:
        if "channel" in message and "data" in message:
            return FrameKind.USER_MESSAGE
        event = message.get("event")
        if event == "login":
            return FrameKind.AUTH_OK
        if event == "subscribed":
            return FrameKind.SUBSCRIBED
        if event == "error":
            return FrameKind.AUTH_REJECTED if message["code"] == 401 else FrameKind.SUBSCRIBE_REJECTED
        if event == "stream_expired":
            return FrameKind.RECONNECT
        if event == "heartbeat" or message.get("op") == "pong":
            return FrameKind.CONTROL
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        return f"{message.get('msg', message)} (code {message.get('code')})"


ORDER_STATUSES = {
    "new": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
}


def parse_balance(data: Mapping[str, Any]) -> BalanceUpdate:
    return BalanceUpdate(
        asset=data["asset"], total=Decimal(data["total"]), available=Decimal(data["available"]), updated_at=data["time"]
    )


def parse_order(data: Mapping[str, Any]) -> OrderUpdate:
    return OrderUpdate(
        exchange_order_id=data["order_id"],
        client_order_id=data["client_order_id"],
        symbol=data["symbol"],
        status=ORDER_STATUSES[data["status"]],
        price=Decimal(data["price"]),
        quantity=Decimal(data["amount"]),
        filled_quantity=Decimal(data["filled_amount"]),
        updated_at=data["updated_at"],
    )


def parse_fill(data: Mapping[str, Any]) -> TradeFill:
    return TradeFill(
        trade_id=data["trade_id"],
        exchange_order_id=data["order_id"],
        client_order_id=data.get("client_order_id"),
        symbol=data["symbol"],
        price=Decimal(data["price"]),
        quantity=Decimal(data["amount"]),
        fee=Decimal(data["fee"]),
        fee_asset=data["fee_asset"],
        timestamp=data["time"],
    )


EVENT_PARSERS: Mapping[str, Callable[[Mapping[str, Any]], AccountEvent]] = {
    "orders": parse_order,
    "fills": parse_fill,
    "balances": parse_balance,
}


class ReconcilingReferenceDataSource(ReferenceDataSource):
    """The reference connector with typed events and reconciliation over the reference protocol's account routes."""

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        parse = EVENT_PARSERS.get(message["channel"])
        return () if parse is None else [parse(message["data"])]

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        balances = await self.rest_request("GET", "/api/v1/balances", signed=True)
        orders = await self.rest_request("GET", "/api/v1/open-orders", signed=True)
        history = await self.rest_request("GET", "/api/v1/order-history", signed=True)
        fills = await self.rest_request("GET", "/api/v1/fills", signed=True)  # last: see fetch_account_snapshot
        return AccountSnapshot(
            balances={row["asset"]: parse_balance(row) for row in balances["balances"]},
            open_orders={row["order_id"]: parse_order(row) for row in orders["orders"]},
            fills=[parse_fill(row) for row in fills["fills"]],
            closed_orders=[parse_order(row) for row in history["orders"]],
        )

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        reply = await self.rest_request(
            "GET", "/api/v1/order", params={"order_id": order.exchange_order_id}, signed=True
        )
        return parse_order(reply["order"])


class ReconcilingReferenceAuth(ReferenceAuth):
    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        timestamp = str(self.timestamp_ms())
        signature = self.hmac_sha256_hex(timestamp + method.upper() + path + body)
        return {"X-API-KEY": self.api_key, "X-TIMESTAMP": timestamp, "X-SIGNATURE": signature}


DataSourceFactory = Callable[..., ReferenceDataSource]
"""The ``make_data_source`` fixture's type: keyword overrides in, a data source out."""
