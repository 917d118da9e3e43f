"""OKX's account as userstream's typed events: pure functions from OKX v5's shapes.

The `orders` channel pushes one order's state per change, and a fill as that state with the fill's
`tradeId`, `fillSz`, `fillPx` and `fillFee`; the `account` channel pushes each changed currency's balance
(absolute: cash, available). The REST snapshot's rows have the same shapes, so one parser reads both.
OKX writes fees negative for a charge; userstream counts what was paid, so they are turned over.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

ORDER_STATES: Final[Mapping[str, OrderStatus]] = {
    "live": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}


class OkxError(ValueError):
    """A REST reply whose ``code`` is not ``"0"``: OKX answers some refusals with HTTP 200."""

    def __init__(self, reply: Mapping[str, Any]) -> None:
        super().__init__(f"{reply.get('msg') or 'OKX error'} (code {reply.get('code')})")
        self.code = str(reply.get("code"))


def data_of(reply: Any) -> list[Any]:
    """The ``data`` of a REST reply, or `OkxError` for a refusal."""
    if reply.get("code") != "0":
        raise OkxError(reply)
    data: list[Any] = reply["data"]
    return data


def parse_order(row: Mapping[str, Any]) -> OrderUpdate:
    """One order as it now stands: an ``orders`` push's row, or a row of the order endpoints' replies."""
    return OrderUpdate(
        exchange_order_id=row["ordId"],
        client_order_id=row["clOrdId"] or None,
        symbol=row["instId"],
        status=ORDER_STATES[row["state"]],
        price=Decimal(row["px"] or "0"),
        quantity=Decimal(row["sz"]),
        filled_quantity=Decimal(row["accFillSz"]),
        updated_at=int(row["uTime"]),
    )


def parse_pushed_fill(row: Mapping[str, Any]) -> TradeFill | None:
    """The fill an ``orders`` push reports, or None when it reports none (no ``tradeId``)."""
    if not row["tradeId"]:
        return None
    return TradeFill(
        trade_id=row["tradeId"],
        exchange_order_id=row["ordId"],
        client_order_id=row["clOrdId"] or None,
        symbol=row["instId"],
        price=Decimal(row["fillPx"]),
        quantity=Decimal(row["fillSz"]),
        fee=-Decimal(row["fillFee"] or "0"),
        fee_asset=row["fillFeeCcy"] or None,
        timestamp=int(row["fillTime"]),
    )


def parse_fill(row: Mapping[str, Any]) -> TradeFill:
    """One row of the fills endpoints' replies."""
    return TradeFill(
        trade_id=row["tradeId"],
        exchange_order_id=row["ordId"],
        client_order_id=row["clOrdId"] or None,
        symbol=row["instId"],
        price=Decimal(row["fillPx"]),
        quantity=Decimal(row["fillSz"]),
        fee=-Decimal(row["fee"]),
        fee_asset=row["feeCcy"] or None,
        timestamp=int(row["ts"]),
    )


def parse_balance(detail: Mapping[str, Any]) -> BalanceUpdate:
    """One currency of an ``account`` push or of the balance reply: its cash balance and what is available."""
    return BalanceUpdate(
        asset=detail["ccy"],
        total=Decimal(detail["cashBal"]),
        available=Decimal(detail["availBal"]),
        updated_at=int(detail["uTime"]),
    )


def parse_push(message: Mapping[str, Any]) -> list[AccountEvent]:
    """The typed events of one push: a fill before its order's new state, balances; none for other channels."""
    channel = message["arg"]["channel"]
    events: list[AccountEvent] = []
    if channel == "orders":
        for row in message["data"]:
            fill = parse_pushed_fill(row)
            if fill is not None:
                events.append(fill)
            events.append(parse_order(row))
    elif channel == "account":
        for account in message["data"]:
            events += [parse_balance(detail) for detail in account["details"]]
    return events


def parse_snapshot(
    balances: Sequence[Any], open_orders: Sequence[Any], closed_orders: Sequence[Any], fills: Sequence[Any]
) -> AccountSnapshot:
    """The account from the ``data`` of the balance reply and the rows of the order and fill pages."""
    parsed_balances = [parse_balance(detail) for account in balances for detail in account["details"]]
    parsed_orders = [parse_order(row) for row in open_orders]
    return AccountSnapshot(
        balances={balance.asset: balance for balance in parsed_balances},
        open_orders={order.exchange_order_id: order for order in parsed_orders},
        fills=sorted((parse_fill(row) for row in fills), key=lambda fill: fill.timestamp or 0),
        closed_orders=[parse_order(row) for row in closed_orders],
    )
