"""Coinbase Advanced Trade's account as userstream's typed events: pure functions from its documented shapes.

The ``user`` channel pushes each changed order as it now stands (``cumulative_quantity``, ``leaves_quantity``,
``status``, ``number_of_fills``...), but never an execution (no trade id, price or fee of a fill) and never a
balance. So a push gives `OrderUpdate` values only. Fills are the rows of ``GET /orders/historical/fills``
(``commission`` is what was paid, in the product's quote currency); balances are the rows of ``GET /accounts``,
``available_balance`` and ``hold`` (absolute amounts: nothing is ever added to a balance, so a deposit, which
Coinbase does not push, cannot be counted twice). Those rows carry no update time, so each balance is stamped with
the moment it was read: a read that started earlier never overwrites a later one.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

LIVE_STATES: Final = frozenset({"PENDING", "OPEN", "QUEUED", "CANCEL_QUEUED", "EDIT_QUEUED"})
"""Statuses of an order still on the book (or about to be): open, or partially filled."""
FINAL_STATES: Final[Mapping[str, OrderStatus]] = {
    "FILLED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "FAILED": OrderStatus.REJECTED,
}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)


def moment_ms(text: str) -> int:
    """An RFC 3339 time as Coinbase writes it (``2023-02-09T20:33:57.609931463Z``) in integer ms."""
    return (datetime.fromisoformat(text) - _EPOCH) // _MILLISECOND


def rfc3339(seconds: float) -> str:
    """A moment as the REST filters take it: ``2023-02-09T20:33:57.609Z``."""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def order_status(status: str, filled: Decimal) -> OrderStatus:
    """userstream's status for Coinbase's; an unknown one raises KeyError (the message is then reconciled)."""
    if status in LIVE_STATES:
        return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN
    return FINAL_STATES[status]


def pushed_orders(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The orders of a ``user`` push, from every event (``snapshot`` and ``update`` alike)."""
    return [row for event in message["events"] for row in event.get("orders") or ()]


def parse_pushed_order(row: Mapping[str, Any], pushed_at: int) -> OrderUpdate:
    """One order of a ``user`` push; its size is what is filled plus what is left."""
    filled = Decimal(row["cumulative_quantity"])
    return OrderUpdate(
        exchange_order_id=row["order_id"],
        client_order_id=row["client_order_id"] or None,
        symbol=row["product_id"],
        status=order_status(row["status"], filled),
        price=Decimal(row.get("limit_price") or "0"),
        quantity=filled + Decimal(row["leaves_quantity"]),
        filled_quantity=filled,
        updated_at=pushed_at,
    )


def parse_push(message: Mapping[str, Any]) -> list[AccountEvent]:
    """The orders a ``user`` push reports, as they stand at the push's ``timestamp``."""
    pushed_at = moment_ms(message["timestamp"])
    return [parse_pushed_order(row, pushed_at) for row in pushed_orders(message)]


def reports_new_fills(row: Mapping[str, Any], known_filled: Decimal) -> bool:
    """Whether a pushed order has filled more than the account knows: its fills must be read."""
    return Decimal(row["cumulative_quantity"]) > known_filled


def lists_every_fill(row: Mapping[str, Any], fills: Sequence[Any]) -> bool:
    """Whether the fills read for a pushed order are as many as the push counts (``number_of_fills``)."""
    counted = row.get("number_of_fills")
    return counted is None or len(fills) >= int(counted)


def parse_fill(row: Mapping[str, Any], client_order_ids: Mapping[str, str]) -> TradeFill:
    """One row of the fills list; ``client_order_ids`` by order id (a fill does not carry its order's)."""
    price = Decimal(row["price"])
    size = Decimal(row["size"])
    return TradeFill(
        trade_id=row["trade_id"],
        exchange_order_id=row["order_id"],
        client_order_id=client_order_ids.get(row["order_id"]),
        symbol=row["product_id"],
        price=price,
        quantity=size / price if row.get("size_in_quote") else size,
        fee=Decimal(row["commission"]),
        fee_asset=row["product_id"].split("-")[1],
        timestamp=moment_ms(row["trade_time"]),
    )


def parse_fills(rows: Iterable[Mapping[str, Any]], client_order_ids: Mapping[str, str]) -> list[TradeFill]:
    """Rows of the fills list, oldest first."""
    return sorted((parse_fill(row, client_order_ids) for row in rows), key=lambda fill: fill.timestamp or 0)


def parse_balances(accounts: Iterable[Mapping[str, Any]], read_at: int) -> dict[str, BalanceUpdate]:
    """Each currency's balance from the accounts list: what is available plus what is on hold, read at ``read_at``."""
    amounts: dict[str, tuple[Decimal, Decimal]] = {}
    for account in accounts:
        available, held = amounts.get(account["currency"], (Decimal(0), Decimal(0)))
        amounts[account["currency"]] = (
            available + Decimal(account["available_balance"]["value"]),
            held + Decimal(account["hold"]["value"]),
        )
    return {
        asset: BalanceUpdate(asset=asset, total=available + held, available=available, updated_at=read_at)
        for asset, (available, held) in amounts.items()
    }


def parse_order(row: Mapping[str, Any]) -> OrderUpdate:
    """One order of the order list or the order-detail reply; its size and price are its configuration's.

    A REST order carries no time of its last change, so it is measured against pushed ones by what it has filled.
    """
    [configuration] = row["order_configuration"].values()
    filled = Decimal(row["filled_size"])
    return OrderUpdate(
        exchange_order_id=row["order_id"],
        client_order_id=row["client_order_id"] or None,
        symbol=row["product_id"],
        status=order_status(row["status"], filled),
        price=Decimal(configuration.get("limit_price") or "0"),
        quantity=Decimal(configuration.get("base_size") or filled),
        filled_quantity=filled,
    )


def parse_snapshot(
    accounts: Sequence[Any], open_orders: Sequence[Any], history: Sequence[Any], fills: Sequence[Any], read_at: int
) -> AccountSnapshot:
    """The account from the accounts list, the open orders, the orders placed since the gap, and the fills since.

    The history lists every order placed in its window, open ones too: only the finished ones are kept.
    """
    client_order_ids = {
        row["order_id"]: row["client_order_id"] for row in [*open_orders, *history] if row["client_order_id"]
    }
    finished = [order for order in map(parse_order, history) if order.status.is_final]
    return AccountSnapshot(
        balances=parse_balances(accounts, read_at),
        open_orders={order.exchange_order_id: order for order in map(parse_order, open_orders)},
        fills=parse_fills(fills, client_order_ids),
        closed_orders=finished,
    )
