"""KuCoin spot's account as userstream's typed events: pure functions from KuCoin's shapes.

``/spotMarket/tradeOrdersV2`` pushes an ``orderChange`` per change of an order (``type`` received, open, match,
update, filled or canceled; ``status`` new, open, match or done); a ``match`` is a fill (``tradeId``,
``matchPrice``, ``matchSize``). KuCoin pushes no fee with it: a fill read from a push has fee 0 and no fee asset,
and only a fill first read from ``/api/v1/hf/fills`` (after a gap) carries its fee.

``/account/balance`` pushes one account's currency: its absolute ``total``, ``available`` and ``hold``, with the
``availableChange`` and ``holdChange`` deltas beside them. Only the absolute values are read and the deltas never
added, so a push that a snapshot already holds (or one read twice) cannot count twice. Only the spot account's
pushes are read (``relationEvent`` ``trade.*``, or ``trade_hf.*`` from the days of a separate HF account): the
funding (``main.*``), margin and isolated accounts push theirs on the same topic.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

from kucoin import kucoin_constants as CONSTANTS

SPOT_ACCOUNTS: Final = frozenset({"trade", "trade_hf"})
"""The account a ``relationEvent`` names before its dot, for the spot account."""
NS_PER_MS: Final = 1_000_000


class KucoinError(ValueError):
    """A REST reply whose ``code`` is not ``"200000"``: KuCoin answers some failures with HTTP 200."""

    def __init__(self, reply: Mapping[str, Any]) -> None:
        super().__init__(f"{reply.get('msg') or 'KuCoin error'} (code {reply.get('code')})")
        self.code = str(reply.get("code"))


def data_of(reply: Any) -> Any:
    """The ``data`` of a REST reply, or `KucoinError` for a failure."""
    if reply.get("code") != CONSTANTS.SUCCESS_CODE:
        raise KucoinError(reply)
    return reply["data"]


def parse_pushed_order(data: Mapping[str, Any]) -> OrderUpdate:
    """The order as an ``orderChange`` leaves it (a ``received`` one shows only its ``originSize``)."""
    quantity = Decimal(data.get("size") or data["originSize"])
    filled = Decimal(data.get("filledSize") or "0")
    return OrderUpdate(
        exchange_order_id=data["orderId"],
        client_order_id=data["clientOid"] or None,
        symbol=data["symbol"],
        status=_pushed_status(data, quantity, filled),
        price=Decimal(data.get("price") or "0"),
        quantity=quantity,
        filled_quantity=filled,
        updated_at=int(data["ts"]) // NS_PER_MS,
    )


def _pushed_status(data: Mapping[str, Any], quantity: Decimal, filled: Decimal) -> OrderStatus:
    if data["status"] == "done":
        # filled: executed in full; canceled, or an update that ended it: the rest was cancelled.
        return OrderStatus.FILLED if data["type"] == "filled" else OrderStatus.CANCELED
    if not filled:
        return OrderStatus.OPEN
    # The match that leaves nothing to fill is the order's last: it is filled, though "filled" follows.
    return OrderStatus.FILLED if filled >= quantity else OrderStatus.PARTIALLY_FILLED


def parse_pushed_fill(data: Mapping[str, Any]) -> TradeFill | None:
    """The fill a ``match`` reports, or None for another ``orderChange``; KuCoin pushes no fee with it."""
    if data["type"] != "match":
        return None
    return TradeFill(
        trade_id=data["tradeId"],
        exchange_order_id=data["orderId"],
        client_order_id=data["clientOid"] or None,
        symbol=data["symbol"],
        price=Decimal(data["matchPrice"]),
        quantity=Decimal(data["matchSize"]),
        fee=Decimal(0),
        fee_asset=None,
        timestamp=int(data["ts"]) // NS_PER_MS,
    )


def parse_pushed_balance(data: Mapping[str, Any]) -> BalanceUpdate | None:
    """The spot account's currency as an ``account.balance`` leaves it; None for another account's."""
    if data["relationEvent"].split(".", 1)[0] not in SPOT_ACCOUNTS:
        return None
    return BalanceUpdate(
        asset=data["currency"],
        total=Decimal(data["total"]),
        available=Decimal(data["available"]),
        updated_at=int(data["time"]),
    )


def parse_push(message: Mapping[str, Any]) -> list[AccountEvent]:
    """The typed events of one user message: a fill before its order's new state, or a balance."""
    data = message["data"]
    if message["topic"] == CONSTANTS.ORDER_TOPIC:
        fill = parse_pushed_fill(data)
        order = parse_pushed_order(data)
        return [order] if fill is None else [fill, order]
    if message["topic"] == CONSTANTS.BALANCE_TOPIC:
        balance = parse_pushed_balance(data)
        return [] if balance is None else [balance]
    return []


def parse_order(row: Mapping[str, Any]) -> OrderUpdate:
    """One order of the HF order endpoints' replies: ``active`` while open; done, filled or (in part) cancelled."""
    quantity = Decimal(row["size"])
    filled = Decimal(row["dealSize"])
    if row["active"]:
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN
    else:
        status = OrderStatus.FILLED if filled >= quantity else OrderStatus.CANCELED
    return OrderUpdate(
        exchange_order_id=row["id"],
        client_order_id=row["clientOid"] or None,
        symbol=row["symbol"],
        status=status,
        price=Decimal(row["price"] or "0"),
        quantity=quantity,
        filled_quantity=filled,
        updated_at=int(row["lastUpdatedAt"]),
    )


def parse_fill(row: Mapping[str, Any], client_order_id: str | None = None) -> TradeFill:
    """One row of ``/api/v1/hf/fills`` (which names no client order id: ``client_order_id`` is its order's)."""
    return TradeFill(
        trade_id=str(row["tradeId"]),  # a number here, a string in the push
        exchange_order_id=row["orderId"],
        client_order_id=client_order_id,
        symbol=row["symbol"],
        price=Decimal(row["price"]),
        quantity=Decimal(row["size"]),
        fee=Decimal(row["fee"]),
        fee_asset=row["feeCurrency"] or None,
        timestamp=int(row["createdAt"]),
    )


def parse_balance(row: Mapping[str, Any]) -> BalanceUpdate:
    """One currency of the spot account (``/api/v1/accounts?type=trade``), which gives no time."""
    return BalanceUpdate(asset=row["currency"], total=Decimal(row["balance"]), available=Decimal(row["available"]))


def parse_snapshot(
    accounts: Sequence[Any], open_orders: Sequence[Any], closed_orders: Sequence[Any], fills: Sequence[Any]
) -> AccountSnapshot:
    """The account from the balance reply's ``data`` and the rows of the order and fill replies."""
    client_order_ids = {row["id"]: row["clientOid"] or None for row in [*open_orders, *closed_orders]}
    parsed_fills = [parse_fill(row, client_order_ids.get(row["orderId"])) for row in fills]
    parsed_orders = [parse_order(row) for row in open_orders]
    return AccountSnapshot(
        balances={balance.asset: balance for balance in map(parse_balance, accounts)},
        open_orders={order.exchange_order_id: order for order in parsed_orders},
        fills=sorted(parsed_fills, key=lambda fill: fill.timestamp or 0),
        closed_orders=[parse_order(row) for row in closed_orders],
    )
