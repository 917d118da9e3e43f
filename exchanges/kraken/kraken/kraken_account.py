"""Kraken's account as userstream's typed events, from WebSocket v2's rows and the REST snapshot's replies.

One spelling throughout: v2's (assets ``BTC``, ``USD``; pairs ``BTC/USD``). REST names assets and pairs
as Kraken always has (``XXBT``, ``ZUSD``; ``XXBTZUSD`` in trades, ``XBTUSD`` in orders); `KrakenNames`
translates them through Kraken's public Assets and AssetPairs tables.

The ``executions`` channel is sparse: only an order's first row (``pending_new``) names its pair, size and
limit price; a later row carries what changed, and a ``trade`` row carries the fill (``exec_id``,
``last_qty``, ``last_price``, ``fees``) but not the order's filled total. So what the stream and the REST
snapshot told of each open order is kept in a `KnownOrder`: its terms, and its fills by trade id, those the
stream reported and those the last REST listing counted (``vol_exec`` and its ``trades``). Its filled
total is the listing's plus the streamed fills the listing had not counted: neither a fill the REST reply
already held nor one the stream reports twice is counted twice, whichever arrives first.

The ``balances`` channel pushes, per ledger entry, the amount moved and the asset's ``balance`` after it:
the balance is taken, never the amount, so a deposit the snapshot already shows is not added again. Kraken
pushes no holds: what is available is the balance less what the last snapshot showed unavailable
(``BalanceEx``: balance + credit - credit_used - hold_trade is available). Balances are the spot wallet's:
Earn wallets (``wallet_type`` earn; REST's ``.F``, ``.S``, ``.B``... assets) are read-only and left out.
Kraken's fees are positive for a charge, as userstream counts them.
"""

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from userstream import AccountEvent, AccountSnapshot, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill

from kraken import kraken_constants as CONSTANTS

FINAL_EXECUTIONS: Final[Mapping[str, OrderStatus]] = {
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}
ORDER_STATUSES: Final[Mapping[str, OrderStatus]] = {
    "pending_new": OrderStatus.OPEN,
    "new": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    **FINAL_EXECUTIONS,
}
REST_STATUSES: Final[Mapping[str, OrderStatus]] = {
    "pending": OrderStatus.OPEN,
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)


class KrakenError(ValueError):
    """A REST reply whose ``error`` list is not empty: Kraken answers refusals with HTTP 200."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


class UnknownName(KeyError):
    """A REST asset or pair that Kraken's public tables, as last read, do not list."""


def result_of(reply: Any) -> Any:
    """The ``result`` of a REST reply, or `KrakenError` for a refusal."""
    if reply.get("error"):
        raise KrakenError(reply["error"])
    return reply["result"]


def amount(value: Any) -> Decimal:
    """A decimal as Kraken writes it: a string (REST) or a JSON number (WebSocket v2)."""
    return Decimal(str(value))


def moment_ms(timestamp: str) -> int:
    """A v2 RFC 3339 timestamp (``2023-09-22T10:33:05.709950Z``) in whole milliseconds."""
    return (datetime.fromisoformat(timestamp) - _EPOCH) // _MILLISECOND


def seconds_ms(seconds: Any) -> int:
    """A REST time (unix seconds with a fraction, ``1688667796.8802``) in whole milliseconds."""
    return int(amount(seconds) * 1000)


def v2_name(altname: str) -> str:
    """An asset's name in WebSocket v2, from its REST altname."""
    return CONSTANTS.V2_RENAMES.get(altname, altname)


class KrakenNames:
    """REST's asset ids and pair names in v2's spelling, from the ``result`` of Assets and of AssetPairs."""

    def __init__(self, assets: Mapping[str, Any], pairs: Mapping[str, Any]) -> None:
        self._assets = {asset_id: v2_name(info["altname"]) for asset_id, info in assets.items()}
        self._pairs: dict[str, tuple[str, str]] = {}
        for key, info in pairs.items():
            quote = self.asset(info["quote"])
            listing = (f"{self.asset(info['base'])}/{quote}", quote)
            self._pairs[key] = self._pairs[info["altname"]] = listing

    def asset(self, asset_id: str) -> str:
        if asset_id not in self._assets:
            raise UnknownName(f"Kraken's Assets table does not list {asset_id!r}")
        return self._assets[asset_id]

    def symbol(self, pair: str) -> str:
        """The v2 symbol of a pair as REST names it: its key (``XXBTZUSD``) or altname (``XBTUSD``)."""
        return self._listing(pair)[0]

    def quote(self, pair: str) -> str:
        return self._listing(pair)[1]

    def _listing(self, pair: str) -> tuple[str, str]:
        if pair not in self._pairs:
            raise UnknownName(f"Kraken's AssetPairs table does not list {pair!r}")
        return self._pairs[pair]


@dataclass
class KnownOrder:
    """One open order as the stream and the last REST listing told of it; see the module docstring."""

    symbol: str
    price: Decimal
    quantity: Decimal
    client_order_id: str | None
    listed_filled: Decimal = Decimal(0)
    listed_trades: frozenset[str] = frozenset()
    streamed: dict[str, Decimal] = field(default_factory=dict)
    """The stream's fills of this order: trade id (``exec_id``) to quantity."""

    @property
    def filled(self) -> Decimal:
        unlisted = (quantity for trade_id, quantity in self.streamed.items() if trade_id not in self.listed_trades)
        return self.listed_filled + sum(unlisted, Decimal(0))

    def update(self, row: Mapping[str, Any]) -> None:
        """Take the terms a row carries: a placement names them all, an amend those it changed."""
        if "order_qty" in row:
            self.quantity = amount(row["order_qty"])
        if "limit_price" in row:
            self.price = amount(row["limit_price"])
        if row.get("cl_ord_id"):
            self.client_order_id = row["cl_ord_id"]


def standing(filled: Decimal, quantity: Decimal) -> OrderStatus:
    """An order that is neither cancelled nor expired, by how much of it is filled."""
    if filled >= quantity:
        return OrderStatus.FILLED
    return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN


def known_order(
    row: Mapping[str, Any],
    known: MutableMapping[str, KnownOrder],
    recall: Callable[[str], OrderUpdate | None],
) -> KnownOrder:
    """The order a row is about, with the row's terms taken; ``recall`` is the account's view, for an order
    neither this stream nor a REST listing told of (a late row of one the account has seen finish)."""
    order_id = row["order_id"]
    order = known.get(order_id)
    if order is None:
        recalled = recall(order_id)
        if "symbol" in row and "order_qty" in row:
            order = KnownOrder(row["symbol"], Decimal(0), amount(row["order_qty"]), None)
        elif recalled is not None:
            order = KnownOrder(recalled.symbol, recalled.price, recalled.quantity, recalled.client_order_id)
        else:
            raise KeyError(f"order {order_id}: this executions row leaves out its terms, and none are known")
        known[order_id] = order
    order.update(row)
    return order


def parse_execution(
    row: Mapping[str, Any],
    known: MutableMapping[str, KnownOrder],
    recall: Callable[[str], OrderUpdate | None],
) -> list[AccountEvent]:
    """One executions row: a fill (``trade`` rows) before the order as it now stands; updates ``known``."""
    order = known_order(row, known, recall)
    order_id = row["order_id"]
    timestamp = moment_ms(row["timestamp"])
    events: list[AccountEvent] = []
    if row["exec_type"] == "trade":
        quantity = amount(row["last_qty"])
        order.streamed[row["exec_id"]] = quantity
        [fee] = row.get("fees") or [{"asset": None, "qty": 0}]  # a spot fill is charged in one asset
        events.append(
            TradeFill(
                trade_id=row["exec_id"],
                exchange_order_id=order_id,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                price=amount(row["last_price"]),
                quantity=quantity,
                fee=amount(fee["qty"]),
                fee_asset=fee["asset"],
                timestamp=timestamp,
            )
        )
    status = FINAL_EXECUTIONS.get(row["exec_type"]) or ORDER_STATUSES[row["order_status"]]
    if "cum_qty" in row:
        filled = amount(row["cum_qty"])
    else:
        filled = order.quantity if status is OrderStatus.FILLED else order.filled
    if not status.is_final:
        status = standing(filled, order.quantity)
    if row["exec_type"] in FINAL_EXECUTIONS:
        del known[order_id]  # the order's last row: after a fill that completes it, Kraken sends a "filled" one
    events.append(
        OrderUpdate(
            exchange_order_id=order_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            status=status,
            price=order.price,
            quantity=order.quantity,
            filled_quantity=filled,
            updated_at=timestamp,
        )
    )
    return events


def parse_balance_entry(row: Mapping[str, Any], unavailable: Mapping[str, Decimal]) -> BalanceUpdate | None:
    """One ledger entry of a ``balances`` update: the asset's balance after it, or None for an Earn wallet's."""
    if row["wallet_type"] != "spot":
        return None
    balance = amount(row["balance"])
    return BalanceUpdate(
        asset=row["asset"],
        total=balance,
        available=balance - unavailable.get(row["asset"], Decimal(0)),
        updated_at=moment_ms(row["timestamp"]),
    )


def parse_push(
    message: Mapping[str, Any],
    known: MutableMapping[str, KnownOrder],
    recall: Callable[[str], OrderUpdate | None],
    unavailable: Mapping[str, Decimal],
) -> list[AccountEvent]:
    """The typed events of one ``executions`` or ``balances`` message, row after row."""
    events: list[AccountEvent] = []
    for row in message["data"]:
        if message["channel"] == CONSTANTS.EXECUTIONS:
            events += parse_execution(row, known, recall)
        elif (balance := parse_balance_entry(row, unavailable)) is not None:
            events.append(balance)
    return events


def parse_rest_balances(result: Mapping[str, Any], names: KrakenNames) -> list[BalanceUpdate]:
    """The ``result`` of BalanceEx: each spot asset's balance, and what of it is available."""
    balances = []
    for asset_id, row in result.items():
        if "." in asset_id:
            continue  # an Earn or other read-only balance (XBT.F, ETH2.S, USD.HOLD): not the spot account's
        total = amount(row["balance"])
        credit = amount(row.get("credit", 0)) - amount(row.get("credit_used", 0))
        available = total + credit - amount(row.get("hold_trade", 0))
        balances.append(BalanceUpdate(asset=names.asset(asset_id), total=total, available=available))
    return balances


def parse_rest_order(
    txid: str, row: Mapping[str, Any], names: KrakenNames, known: MutableMapping[str, KnownOrder]
) -> OrderUpdate:
    """One order of OpenOrders, ClosedOrders or QueryOrders; an open one's listing is recorded in ``known``."""
    symbol = names.symbol(row["descr"]["pair"])
    price = amount(row["descr"]["price"])
    quantity = amount(row["vol"])
    client_order_id = row.get("cl_ord_id") or None
    status = REST_STATUSES[row["status"]]
    filled = amount(row["vol_exec"])
    if not status.is_final:
        order = known.setdefault(txid, KnownOrder(symbol, price, quantity, client_order_id))
        order.listed_filled, order.listed_trades = filled, frozenset(row.get("trades", ()))
        filled = order.filled
        status = standing(filled, quantity)
    if status.is_final:
        known.pop(txid, None)
    return OrderUpdate(
        exchange_order_id=txid,
        client_order_id=client_order_id,
        symbol=symbol,
        status=status,
        price=price,
        quantity=quantity,
        filled_quantity=filled,
        updated_at=seconds_ms(row["closetm"]) if "closetm" in row else None,
    )


def parse_rest_trade(txid: str, row: Mapping[str, Any], names: KrakenNames, client_order_id: str | None) -> TradeFill:
    """One trade of TradesHistory; its ``fee`` is in the pair's quote currency."""
    return TradeFill(
        trade_id=txid,
        exchange_order_id=row["ordertxid"],
        client_order_id=client_order_id,
        symbol=names.symbol(row["pair"]),
        price=amount(row["price"]),
        quantity=amount(row["vol"]),
        fee=amount(row["fee"]),
        fee_asset=names.quote(row["pair"]),
        timestamp=seconds_ms(row["time"]),
    )


def parse_snapshot(
    balances: Mapping[str, Any],
    open_orders: Mapping[str, Any],
    closed_orders: Mapping[str, Any],
    trades: Mapping[str, Any],
    names: KrakenNames,
    known: MutableMapping[str, KnownOrder],
) -> AccountSnapshot:
    """The account from BalanceEx's result and the orders and trades of the other replies, by txid."""
    opened = {txid: parse_rest_order(txid, row, names, known) for txid, row in open_orders.items()}
    closed = [parse_rest_order(txid, row, names, known) for txid, row in closed_orders.items()]
    client_order_ids = {order.exchange_order_id: order.client_order_id for order in [*opened.values(), *closed]}
    fills = [parse_rest_trade(txid, row, names, client_order_ids.get(row["ordertxid"])) for txid, row in trades.items()]
    return AccountSnapshot(
        balances={balance.asset: balance for balance in parse_rest_balances(balances, names)},
        open_orders=opened,
        fills=sorted(fills, key=lambda fill: fill.timestamp or 0),
        closed_orders=closed,
    )
