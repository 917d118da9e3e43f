"""Bybit's spot account as userstream's typed events: pure functions from Bybit v5's shapes.

The ``order`` topic pushes one order's state per change, the ``execution`` topic each fill (``execId``,
``execPrice``, ``execQty``, ``execFee`` in ``feeCurrency``; positive for a fee charged, as userstream counts
it), the ``wallet`` topic each coin's balance. Balances are absolute: ``walletBalance`` is the total and
``walletBalance - locked`` what is available (``free`` and ``availableToWithdraw`` are deprecated for a
unified account). Bybit pushes no amounts moved, so no delta is ever added to a total.

The all-in-one topics report every category; only ``spot`` rows enter the account, as only spot is read
back over REST. A push or reply carries no update time per coin: its ``creationTime`` (push) or ``time``
(reply) orders balance changes. The REST rows have the push's shapes, so one parser reads both.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

from bybit import bybit_constants as CONSTANTS

ORDER_STATES: Final[Mapping[str, OrderStatus]] = {
    "New": OrderStatus.OPEN,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Untriggered": OrderStatus.OPEN,
    "Triggered": OrderStatus.OPEN,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,
    "Deactivated": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
}


class BybitError(ValueError):
    """A REST reply whose ``retCode`` is not 0: Bybit answers most refusals with HTTP 200."""

    def __init__(self, reply: Mapping[str, Any]) -> None:
        super().__init__(f"{reply.get('retMsg') or 'Bybit error'} (retCode {reply.get('retCode')})")
        self.ret_code = reply.get("retCode")


def result_of(reply: Any) -> Mapping[str, Any]:
    """The ``result`` of a REST reply, or `BybitError` for a refusal."""
    if reply.get("retCode") != 0:
        raise BybitError(reply)
    result: Mapping[str, Any] = reply["result"]
    return result


def parse_order(row: Mapping[str, Any]) -> OrderUpdate:
    """One order as it now stands: an ``order`` push's row, or a row of the order endpoints' replies."""
    return OrderUpdate(
        exchange_order_id=row["orderId"],
        client_order_id=row["orderLinkId"] or None,
        symbol=row["symbol"],
        status=ORDER_STATES[row["orderStatus"]],
        price=Decimal(row["price"] or "0"),
        quantity=Decimal(row["qty"]),
        filled_quantity=Decimal(row["cumExecQty"] or "0"),
        updated_at=int(row["updatedTime"]),
    )


def parse_execution(row: Mapping[str, Any]) -> TradeFill:
    """One fill: an ``execution`` push's row, or a row of the trade history."""
    return TradeFill(
        trade_id=row["execId"],
        exchange_order_id=row["orderId"],
        client_order_id=row["orderLinkId"] or None,
        symbol=row["symbol"],
        price=Decimal(row["execPrice"]),
        quantity=Decimal(row["execQty"]),
        fee=Decimal(row["execFee"] or "0"),
        fee_asset=row["feeCurrency"] or None,
        timestamp=int(row["execTime"]),
    )


def parse_balances(accounts: Sequence[Any], moment: int) -> list[BalanceUpdate]:
    """Each coin of the unified account, as of ``moment`` (ms): its wallet balance, and that less what is locked."""
    return [
        BalanceUpdate(
            asset=coin["coin"],
            total=Decimal(coin["walletBalance"]),
            available=Decimal(coin["walletBalance"]) - Decimal(coin["locked"] or "0"),
            updated_at=moment,
        )
        for account in accounts
        if account["accountType"] == CONSTANTS.ACCOUNT_TYPE
        for coin in account["coin"]
    ]


def parse_push(message: Mapping[str, Any]) -> list[AccountEvent]:
    """The typed events of one push (spot rows only); none for other topics."""
    topic = message["topic"]
    events: list[AccountEvent] = []
    if topic == CONSTANTS.ORDER_TOPIC:
        events += [parse_order(row) for row in message["data"] if row["category"] == CONSTANTS.CATEGORY]
    elif topic == CONSTANTS.EXECUTION_TOPIC:
        events += [parse_execution(row) for row in message["data"] if row["category"] == CONSTANTS.CATEGORY]
    elif topic == CONSTANTS.WALLET_TOPIC:
        events += parse_balances(message["data"], int(message["creationTime"]))
    return events


def parse_snapshot(
    balance_reply: Mapping[str, Any],
    open_orders: Sequence[Any],
    closed_orders: Sequence[Any],
    executions: Sequence[Any],
) -> AccountSnapshot:
    """The account from the wallet-balance reply and the rows of the order and trade history pages."""
    balances = parse_balances(result_of(balance_reply)["list"], int(balance_reply["time"]))
    parsed_orders = [parse_order(row) for row in open_orders]
    return AccountSnapshot(
        balances={balance.asset: balance for balance in balances},
        open_orders={order.exchange_order_id: order for order in parsed_orders},
        fills=sorted((parse_execution(row) for row in executions), key=lambda fill: fill.timestamp or 0),
        closed_orders=[parse_order(row) for row in closed_orders],
    )
