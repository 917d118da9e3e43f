"""Binance spot's account as userstream's typed events: pure functions from the user data stream's and REST shapes.

``executionReport`` pushes one order's state per change; an execution (``x`` = ``TRADE``) carries its fill too:
``t``, ``l``, ``L``, ``n``, ``N``. ``outboundAccountPosition`` pushes the free and locked amounts of every asset a
change touched: absolute, so a balance is total = free + locked, available = free. ``balanceUpdate`` (deposits,
withdrawals, transfers) and ``externalLockUpdate`` push only the amount moved; Binance sends an
``outboundAccountPosition`` "any time an account balance has changed", so those deltas give no event here and are
never added to a total: the new total arrives whole. Commissions (``n``, ``commission``) are what the account paid.
Binance writes every amount with 8 decimals; they are read without the trailing zeros (``"100.00000000"``: 100).
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

ORDER_STATUSES: Final[Mapping[str, OrderStatus]] = {
    "NEW": OrderStatus.OPEN,
    "PENDING_NEW": OrderStatus.OPEN,  # an order list's pending order: alive, not yet working
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.OPEN,  # "currently unused"
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,  # expired by self-trade prevention
}


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros, and in positional notation: 100, not 100.00000000 or 1E+2."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def amount(text: str) -> Decimal:
    """One of Binance's amounts, read without the zeros its 8 decimals pad it with."""
    if "." in text and "e" not in text and "E" not in text:
        # Binance's own form ("100.00000000"): the zeros come off the text, which costs a third of the arithmetic.
        return Decimal(text.rstrip("0").rstrip("."))
    return plain(Decimal(text))


def parse_order(row: Mapping[str, Any]) -> OrderUpdate:
    """One order as the order endpoints (``openOrders``, ``allOrders``, ``order``) write it."""
    return OrderUpdate(
        exchange_order_id=str(row["orderId"]),
        client_order_id=row["clientOrderId"] or None,
        symbol=row["symbol"],
        status=ORDER_STATUSES[row["status"]],
        price=amount(row["price"]),
        quantity=amount(row["origQty"]),
        filled_quantity=amount(row["executedQty"]),
        updated_at=int(row["updateTime"]),
    )


def parse_execution_report(event: Mapping[str, Any]) -> list[AccountEvent]:
    """An ``executionReport``: its fill (when it reports an execution), then the order as it now stands."""
    # On a cancel, "c" is the cancel request's own client id and "C" the order's.
    client_order_id = (event["C"] if event["x"] == "CANCELED" and event["C"] else event["c"]) or None
    order = OrderUpdate(
        exchange_order_id=str(event["i"]),
        client_order_id=client_order_id,
        symbol=event["s"],
        status=ORDER_STATUSES[event["X"]],
        price=amount(event["p"]),
        quantity=amount(event["q"]),
        filled_quantity=amount(event["z"]),
        updated_at=int(event["T"]),
    )
    if event["x"] != "TRADE":
        return [order]
    fill = TradeFill(
        trade_id=str(event["t"]),
        exchange_order_id=order.exchange_order_id,
        client_order_id=client_order_id,
        symbol=order.symbol,
        price=amount(event["L"]),
        quantity=amount(event["l"]),
        fee=amount(event["n"]),
        fee_asset=event["N"] or None,
        timestamp=int(event["T"]),
    )
    return [fill, order]


def parse_account_position(event: Mapping[str, Any]) -> list[AccountEvent]:
    """An ``outboundAccountPosition``: each asset's total (free + locked) and available (free) balance."""
    return [
        BalanceUpdate(
            asset=asset["a"],
            total=plain(Decimal(asset["f"]) + Decimal(asset["l"])),
            available=amount(asset["f"]),
            updated_at=int(event["u"]),
        )
        for asset in event["B"]
    ]


def parse_push(message: Mapping[str, Any]) -> list[AccountEvent]:
    """The typed events of one wrapped user data stream event; none for the amounts moved and other events."""
    event = message["event"]
    kind = event["e"]
    if kind == "executionReport":
        return parse_execution_report(event)
    if kind == "outboundAccountPosition":
        return parse_account_position(event)
    return []


def parse_trade(row: Mapping[str, Any], client_order_id: str | None) -> TradeFill:
    """One row of ``myTrades``, which does not name the order's client id: ``client_order_id`` is it, if known."""
    return TradeFill(
        trade_id=str(row["id"]),
        exchange_order_id=str(row["orderId"]),
        client_order_id=client_order_id,
        symbol=row["symbol"],
        price=amount(row["price"]),
        quantity=amount(row["qty"]),
        fee=amount(row["commission"]),
        fee_asset=row["commissionAsset"] or None,
        timestamp=int(row["time"]),
    )


def parse_balances(account: Mapping[str, Any]) -> dict[str, BalanceUpdate]:
    """The ``account`` reply's balances, each as of the account's last update (``updateTime``)."""
    return {
        row["asset"]: BalanceUpdate(
            asset=row["asset"],
            total=plain(Decimal(row["free"]) + Decimal(row["locked"])),
            available=amount(row["free"]),
            updated_at=int(account["updateTime"]),
        )
        for row in account["balances"]
    }


def parse_snapshot(
    account: Mapping[str, Any], open_orders: Sequence[Any], all_orders: Sequence[Any], trades: Sequence[Any]
) -> AccountSnapshot:
    """The account from the ``account`` and ``openOrders`` replies and the rows of the ``allOrders`` and ``myTrades``
    pages; of ``allOrders``, the orders in a final state are the closed ones."""
    client_order_ids = {row["orderId"]: row["clientOrderId"] or None for row in (*all_orders, *open_orders)}
    parsed_orders = [parse_order(row) for row in open_orders]
    history = [parse_order(row) for row in all_orders]
    fills = [parse_trade(row, client_order_ids.get(row["orderId"])) for row in trades]
    return AccountSnapshot(
        balances=parse_balances(account),
        open_orders={order.exchange_order_id: order for order in parsed_orders},
        fills=sorted(fills, key=lambda fill: fill.timestamp or 0),
        closed_orders=[order for order in history if order.status.is_final],
    )
