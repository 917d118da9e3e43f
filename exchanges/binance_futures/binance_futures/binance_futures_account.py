"""Binance USDⓈ-M futures' account as userstream's typed events: pure functions from Binance's shapes.

``ORDER_TRADE_UPDATE`` pushes one order's state per change (its ``o``); with execution type ``TRADE`` it is
also a fill (``t``, ``l``, ``L``, ``n``, ``N``), given before the order's new state. ``ACCOUNT_UPDATE`` pushes
each changed asset's wallet balance (``wb``) and cross wallet balance (``cw``), both absolute, beside ``bc``,
the amount moved. ``bc`` is never added to anything: a balance is always the absolute ``wb`` and ``cw``, so a
deposit that a snapshot already shows cannot be counted twice.

What "available" means here: the stream carries no available balance, only the cross wallet balance, so
`BalanceUpdate.available` is the cross wallet balance (the wallet less what isolated positions hold), in the
stream (``cw``) and in the snapshot (``crossWalletBalance`` of ``GET /fapi/v3/balance``) alike. Binance's
``availableBalance`` (which also nets out the margin of open orders and positions and moves with mark prices)
is never pushed, so it is not used. `BalanceUpdate.total` is the wallet balance (``wb``, ``balance``).

Binance writes a commission as what was paid (a rebate is negative), as userstream counts fees.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

ORDER_STATES: Final[Mapping[str, OrderStatus]] = {
    "NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,  # expired by self-trade prevention
}
FILL_EXECUTION: Final = "TRADE"


def parse_pushed_order(order: Mapping[str, Any]) -> OrderUpdate:
    """The order an ``ORDER_TRADE_UPDATE`` reports (its ``o``), as it now stands."""
    return OrderUpdate(
        exchange_order_id=str(order["i"]),
        client_order_id=order["c"] or None,
        symbol=order["s"],
        status=ORDER_STATES[order["X"]],
        price=Decimal(order["p"]),
        quantity=Decimal(order["q"]),
        filled_quantity=Decimal(order["z"]),
        updated_at=int(order["T"]),
    )


def parse_pushed_fill(order: Mapping[str, Any]) -> TradeFill | None:
    """The fill an ``ORDER_TRADE_UPDATE`` reports, or None when its execution is not a trade."""
    if order["x"] != FILL_EXECUTION:
        return None
    return TradeFill(
        trade_id=str(order["t"]),
        exchange_order_id=str(order["i"]),
        client_order_id=order["c"] or None,
        symbol=order["s"],
        price=Decimal(order["L"]),
        quantity=Decimal(order["l"]),
        fee=Decimal(order.get("n", "0")),  # Binance leaves n and N out when there is no commission
        fee_asset=order.get("N") or None,
        timestamp=int(order["T"]),
    )


def parse_pushed_balance(balance: Mapping[str, Any], moment: int) -> BalanceUpdate:
    """One asset of an ``ACCOUNT_UPDATE``'s ``a.B``: its wallet and cross wallet balance (``bc`` is not used)."""
    return BalanceUpdate(
        asset=balance["a"], total=Decimal(balance["wb"]), available=Decimal(balance["cw"]), updated_at=moment
    )


def parse_event(message: Mapping[str, Any]) -> list[AccountEvent]:
    """The typed events of one user data stream event: a fill before its order's new state, balances; none for the
    other event types (``TRADE_LITE`` repeats a fill ``ORDER_TRADE_UPDATE`` reports with its commission)."""
    event = message["e"]
    if event == "ORDER_TRADE_UPDATE":
        order = message["o"]
        fill = parse_pushed_fill(order)
        return [parse_pushed_order(order)] if fill is None else [fill, parse_pushed_order(order)]
    if event == "ACCOUNT_UPDATE":
        moment = int(message["T"])
        return [parse_pushed_balance(balance, moment) for balance in message["a"]["B"]]
    return []


def parse_order(row: Mapping[str, Any]) -> OrderUpdate:
    """One order of ``GET /fapi/v1/openOrders``, ``/fapi/v1/allOrders`` or ``/fapi/v1/order``."""
    return OrderUpdate(
        exchange_order_id=str(row["orderId"]),
        client_order_id=row["clientOrderId"] or None,
        symbol=row["symbol"],
        status=ORDER_STATES[row["status"]],
        price=Decimal(row["price"]),
        quantity=Decimal(row["origQty"]),
        filled_quantity=Decimal(row["executedQty"]),
        updated_at=int(row["updateTime"]),
    )


def parse_trade(row: Mapping[str, Any], client_order_ids: Mapping[str, str | None]) -> TradeFill:
    """One row of ``GET /fapi/v1/userTrades``; it names no client order id, so that is taken from the orders read."""
    order_id = str(row["orderId"])
    return TradeFill(
        trade_id=str(row["id"]),
        exchange_order_id=order_id,
        client_order_id=client_order_ids.get(order_id),
        symbol=row["symbol"],
        price=Decimal(row["price"]),
        quantity=Decimal(row["qty"]),
        fee=Decimal(row["commission"]),
        fee_asset=row["commissionAsset"] or None,
        timestamp=int(row["time"]),
    )


def parse_balance(row: Mapping[str, Any]) -> BalanceUpdate:
    """One asset of ``GET /fapi/v3/balance``: its wallet balance and cross wallet balance, as the stream pushes them."""
    return BalanceUpdate(
        asset=row["asset"],
        total=Decimal(row["balance"]),
        available=Decimal(row["crossWalletBalance"]),
        updated_at=int(row["updateTime"]),
    )


def parse_snapshot(
    balances: Sequence[Any], open_orders: Sequence[Any], orders: Sequence[Any], trades: Sequence[Any]
) -> AccountSnapshot:
    """The account from the balance reply, the open orders, every symbol's order history and its trades."""
    parsed_open = [parse_order(row) for row in open_orders]
    parsed_history = [parse_order(row) for row in orders]
    client_order_ids = {order.exchange_order_id: order.client_order_id for order in parsed_open + parsed_history}
    parsed_balances = [parse_balance(row) for row in balances]
    return AccountSnapshot(
        balances={balance.asset: balance for balance in parsed_balances},
        open_orders={order.exchange_order_id: order for order in parsed_open},
        fills=sorted((parse_trade(row, client_order_ids) for row in trades), key=lambda fill: fill.timestamp or 0),
        closed_orders=[order for order in parsed_history if order.status.is_final],
    )
