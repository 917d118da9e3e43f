"""Gate spot v4's account as userstream's typed events: pure functions from Gate's shapes.

``spot.orders`` pushes an order as it now stands on every change (``event`` put, update or finish; how it ended in
``finish_as``), ``spot.usertrades`` each fill of the account's orders, ``spot.balances`` a currency's ``total`` and
``available`` beside ``change``, the amount that moved. Only the absolute amounts are read: ``change`` is never added
to anything, so a deposit a snapshot already shows cannot be counted twice. The REST rows of orders and trades have
the push's field names, so one parser reads both; the balance reply has ``available`` and ``locked`` (their sum is
the total) and no time, so between it and a push the later to arrive wins. Gate's ``fee`` is what was paid.

Gate numbers trades within each currency pair, so the same ``id`` can come back on another pair: a fill's
``trade_id`` is ``<currency_pair>:<id>``.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

ORDER_ENDS: Final[Mapping[str, OrderStatus]] = {
    "filled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELED,
    "liquidate_cancelled": OrderStatus.CANCELED,
    "small": OrderStatus.CANCELED,
    "depth_not_enough": OrderStatus.CANCELED,
    "trader_not_enough": OrderStatus.CANCELED,
    "ioc": OrderStatus.CANCELED,
    "poc": OrderStatus.CANCELED,
    "fok": OrderStatus.CANCELED,
    "stp": OrderStatus.CANCELED,
    "unknown": OrderStatus.UNKNOWN,
}
"""``finish_as`` of a finished order; an order still on the book says ``open``."""
STILL_OPEN: Final = "open"
CLIENT_ORDER_ID_PREFIX: Final = "t-"
"""Gate's mark of a client's own ``text``; other texts say where the order came from (``apiv4``, ``web``...)."""
# Fees Gate took in GT or points instead of the fee currency.
FEE_DEDUCTIONS: Final = (("gt_fee", "GT"), ("point_fee", "POINT"))


def client_order_id(text: str) -> str | None:
    """The client's id in an order's ``text``, or None where Gate wrote where the order came from."""
    return text if text.startswith(CLIENT_ORDER_ID_PREFIX) else None


def trade_id(row: Mapping[str, Any]) -> str:
    """A fill's id across every currency pair."""
    return f"{row['currency_pair']}:{row['id']}"


def parse_order(row: Mapping[str, Any]) -> OrderUpdate:
    """One order as it now stands: a ``spot.orders`` push's row, or an order of the REST replies."""
    quantity = Decimal(row["amount"])
    filled = quantity - Decimal(row["left"])
    if row["finish_as"] == STILL_OPEN:
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN
    else:
        status = ORDER_ENDS[row["finish_as"]]
    return OrderUpdate(
        exchange_order_id=str(row["id"]),
        client_order_id=client_order_id(row["text"]),
        symbol=row["currency_pair"],
        status=status,
        price=Decimal(row.get("price") or "0"),
        quantity=quantity,
        filled_quantity=filled,
        updated_at=int(row["update_time_ms"]),
    )


def paid_fee(row: Mapping[str, Any]) -> tuple[Decimal, str | None]:
    """What a fill cost and in which asset: its fee currency, or GT or points where they paid it instead."""
    fee = Decimal(row["fee"] or "0")
    if not fee:
        for field, asset in FEE_DEDUCTIONS:
            deducted = Decimal(row.get(field) or "0")
            if deducted:
                return deducted, asset
    return fee, row["fee_currency"] or None


def parse_fill(row: Mapping[str, Any]) -> TradeFill:
    """One fill: a ``spot.usertrades`` push's row, or a row of ``GET /spot/my_trades``."""
    fee, fee_asset = paid_fee(row)
    return TradeFill(
        trade_id=trade_id(row),
        exchange_order_id=str(row["order_id"]),
        client_order_id=client_order_id(row["text"]),
        symbol=row["currency_pair"],
        price=Decimal(row["price"]),
        quantity=Decimal(row["amount"]),
        fee=fee,
        fee_asset=fee_asset,
        timestamp=int(Decimal(row["create_time_ms"])),  # milliseconds with a fraction: "1795568753127.123"
    )


def parse_balance(row: Mapping[str, Any]) -> BalanceUpdate:
    """One currency of a ``spot.balances`` push: its total and what is available, never its ``change``."""
    return BalanceUpdate(
        asset=row["currency"],
        total=Decimal(row["total"]),
        available=Decimal(row["available"]),
        updated_at=int(row["timestamp_ms"]),
    )


def parse_account(row: Mapping[str, Any]) -> BalanceUpdate:
    """One currency of ``GET /spot/accounts``: what is available and what is locked in orders."""
    available = Decimal(row["available"])
    return BalanceUpdate(asset=row["currency"], total=available + Decimal(row["locked"]), available=available)


def parse_push(message: Mapping[str, Any]) -> list[AccountEvent]:
    """The typed events of one update: orders, fills or balances, by channel; none for other channels."""
    channel = message["channel"]
    rows: list[Any] = message["result"]
    if channel == "spot.orders":
        return [parse_order(row) for row in rows]
    if channel == "spot.usertrades":
        return [parse_fill(row) for row in rows]
    if channel == "spot.balances":
        return [parse_balance(row) for row in rows]
    return []


def parse_snapshot(
    accounts: Sequence[Any], open_orders: Sequence[Any], finished_orders: Sequence[Any], trades: Sequence[Any]
) -> AccountSnapshot:
    """The account from the balance reply, the open orders' pages (grouped by currency pair), the finished orders'
    pages and the trades' pages. A row read on two pages counts once."""
    balances = [parse_account(row) for row in accounts]
    orders = [parse_order(row) for group in open_orders for row in group["orders"]]
    finished = {order.exchange_order_id: order for order in map(parse_order, finished_orders)}
    fills = {fill.trade_id: fill for fill in map(parse_fill, trades)}
    return AccountSnapshot(
        balances={balance.asset: balance for balance in balances},
        open_orders={order.exchange_order_id: order for order in orders},
        fills=sorted(fills.values(), key=lambda fill: fill.timestamp or 0),
        closed_orders=list(finished.values()),
    )
