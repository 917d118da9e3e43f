"""REST polling: a user stream for exchanges that have no private WebSocket.

`RestPollingDataSource` keeps the interface of every other data source
(``listen_for_user_stream(output)``, ``stop()``, ``status``, ``last_recv_time``) but its transport
is a loop of signed REST requests: each poll reads the open orders and the balances, compares them
with what the previous poll saw, and queues only the differences. When an order leaves the open
list, its final state (filled, cancelled) is read from the order history or the order-detail endpoint.

Messages it queues (all amounts are decimal strings, exactly as the exchange wrote them)::

    {"type": "balance", "asset": "usdt", "total": "1000.5", "available": "900.5"}
    {"type": "order", "event": "new" | "changed" | "closed", "order_id": "59378",
     "client_order_id": "my-1" | None, "symbol": "ethusdt", "order_type": "buy-limit",
     "price": "100.1", "amount": "10", "filled_amount": "2.5", "status": "partial-filled",
     "created_at": 1494901162595 | None}
    {"type": "fill", "trade_id": "100282808529", "order_id": "59378", "client_order_id": "my-1" | None,
     "symbol": "ethusdt", "price": "100.1", "amount": "2.5", "fee": "0.005", "fee_asset": "eth" | None,
     "liquidity": "maker" | "taker" | None, "time": 1494901400435}

The first successful poll after start emits a snapshot: one ``balance`` message per non-zero
asset and one ``order`` ``new`` message per open order. After that, a poll that finds nothing
different emits nothing. ``changed`` means any field of an open order moved (a partial fill, an
amended price); ``closed`` carries the final ``status`` (the exchange's own word: ``filled``,
``canceled``...), or ``"unknown"`` if the exchange had no record of the order after
`CLOSED_LOOKUP_ATTEMPTS` polls. An asset that disappears from the balances is reported with
``total`` and ``available`` ``"0"``. A ``fill`` is one execution (``fee`` positive: what the account
paid, negative: a rebate; ``time`` in the exchange's ms); each is queued once.

Fills and the order history are optional (`FILLS_PATH`, `ORDER_HISTORY_PATH`; without them a
connector sees only filled amounts, and no order that was born and finished between two polls):

- every poll after the first reads the order history from the previous poll's start (less
  `HISTORY_OVERLAP`): a final order never seen open is reported ``closed`` once, and a vanished order
  found there needs no detail request;
- when an order's filled amount moves, the fills of its symbol are read from the poll before the move
  until fills adding up to the move have arrived (so the fills of a quiet account cost nothing). A poll
  queues its new fills first, then the orders: a final order whose fills are still missing is held back
  (at most `FILL_WAIT_POLLS` polls), so no order is reported closed before its fills;
- what was reported (trade ids, closed orders, the fills still awaited) survives failed polls and
  `stop()`: the next poll, or the first after a restart, reports only what is new;
- the first poll after the data source is built reports no history: fills before it are not the
  stream's, and orders open then are the baseline. With history, the clock is measured at the start of
  each run of polls (`SERVER_TIME_PATH`), so the exchange's ms the reads start from are the exchange's own.

What a concrete connector fills in (constants and pure methods, no I/O):

- paths: `ACCOUNTS_PATH` (optional: where the account id comes from), `BALANCE_PATH`,
  `OPEN_ORDERS_PATH`, `ORDER_DETAIL_PATH` (``{account_id}`` and ``{order_id}`` are filled in), or
  the `balance_request` / `open_orders_request` / `order_detail_request` methods for extra query
  parameters; optionally `FILLS_PATH` with `fills_requests` and `ORDER_HISTORY_PATH` with
  `order_history_requests` (the windows the exchange takes: `FILLS_WINDOW`, `ORDER_HISTORY_WINDOW`);
- parsers: `parse_account_id`, `parse_balances`, `parse_open_orders`, `parse_order_detail`, and with
  history `parse_fills` and `parse_order_history`, each returning one `Page` (its rows, and the request
  for the next page when the reply is full);
- `FINAL_ORDER_STATUSES`, and `ORDER_STATUSES` (the exchange's statuses in userstream's vocabulary: with
  it, every queued message also becomes typed events that keep `account` current; a fill becomes a
  `TradeFill`);
- how the exchange says "error": `is_error_reply`, `is_auth_error`,
  `is_clock_skew`, `describe_rejection`;
- how a request is signed: `authenticate_request` (default: `MarketAuth.rest_auth_headers`; exchanges
  that sign in the query string, like HTX, return signed parameters instead).

The loop owns the rest: the poll interval, single-flight account lookup, pagination (at most
`MAX_PAGES` pages per request a poll), HTTP 429 with ``Retry-After``, backoff after any other failure
(through the base class), clock-skew re-sync, ``last_recv_time`` (moved by successful polls only) and a
clean `stop()`.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, NoReturn, TypeVar
from urllib.parse import urlsplit

import aiohttp

from userstream.auth import MarketAuth
from userstream.backoff import ReconnectPolicy
from userstream.credentials import SingleFlight
from userstream.data_source import UserStreamTrackerDataSource
from userstream.errors import AuthenticationError
from userstream.events import AccountEvent, BalanceUpdate, OrderStatus, OrderUpdate, TradeFill
from userstream.frames import PARSE_ERRORS, FrameKind, encode_message
from userstream.outbox import Outbox
from userstream.rest import (
    MAX_RETRY_AFTER,
    ExchangeError,
    MalformedReply,
    RateLimited,
    RestReply,
    encode_query,
    parse_retry_after,
)
from userstream.status import StreamState
from userstream.timings import StreamTimings
from userstream.transport import Transport
from userstream.websocket_transport import WebSocketFactory

__all__ = [
    "AwaitedFills",
    "Balance",
    "ExchangeError",
    "Fill",
    "History",
    "MalformedReply",
    "Order",
    "Page",
    "Poll",
    "PollRequest",
    "PolledAccount",
    "PollingTransport",
    "RateLimited",
    "RestPollingDataSource",
    "diff_snapshots",
    "encode_query",
    "expect_fills",
    "parse_retry_after",
    "release_closed",
    "take_fills",
    "utc_seconds",
]

_ZERO = Decimal(0)
T = TypeVar("T")
USER_MESSAGE_TYPES = frozenset({"balance", "order", "fill"})
UNKNOWN_STATUS = "unknown"


# --- the account as data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """One asset's balance. Compared by value, so ``"1.0"`` and ``"1.00"`` are the same balance."""

    asset: str
    total: Decimal
    available: Decimal

    def __post_init__(self) -> None:
        # Checked as the reply is parsed, so a NaN or a wrong type is a malformed reply, not a corrupt account.
        _check_amounts(self, "total", "available")


@dataclass(frozen=True)
class Order:
    """One order as the exchange reports it, normalised. Any field that differs between polls is a change."""

    order_id: str
    client_order_id: str | None
    symbol: str
    order_type: str
    price: Decimal
    amount: Decimal
    filled_amount: Decimal
    status: str
    created_at: int | None = None

    def __post_init__(self) -> None:
        _check_amounts(self, "price", "amount", "filled_amount")


@dataclass(frozen=True)
class PolledAccount:
    """What one poll saw: balances by asset, open orders by order id (the exchange's words, before typing)."""

    balances: Mapping[str, Balance] = field(default_factory=dict)
    open_orders: Mapping[str, Order] = field(default_factory=dict)


@dataclass(frozen=True)
class PollRequest:
    """A GET the loop sends: a path and its query parameters (before signing)."""

    path: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fill:
    """One execution against an order, as the exchange's fills endpoint reports it, normalised."""

    trade_id: str
    order_id: str
    symbol: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    """What the account paid, in ``fee_asset``: positive for a fee, negative for a rebate."""
    fee_asset: str | None
    time: int
    """When it executed, in the exchange's ms."""
    liquidity: str | None = None
    """``maker`` or ``taker``, where the exchange says."""
    client_order_id: str | None = None
    """Where the fills endpoint does not give it, the data source fills it in from the order it knows."""

    def __post_init__(self) -> None:
        _check_amounts(self, "price", "amount", "fee")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paginated reply: its rows, and the request for the next page (None: this is the last)."""

    rows: Sequence[T]
    next: PollRequest | None = None


@dataclass(frozen=True)
class AwaitedFills:
    """Fills that an order's filled amount announced and the fills endpoint has not shown yet."""

    symbol: str
    amount: Decimal
    since_ms: int
    """The exchange's ms they are looked for from: the start of the last poll before the amount moved."""
    polls: int = 0
    """Polls that looked for them in vain."""


@dataclass(frozen=True)
class History:
    """What the fills and order-history reads carry from one successful poll to the next (it survives `stop()`)."""

    since_ms: int | None = None
    """The exchange's ms at the start of the last successful poll; None before the first."""
    followed: Mapping[str, Order] = field(default_factory=dict)
    """The open orders that poll saw: one that leaves them is looked up, even across a restart."""
    held: Mapping[str, Order] = field(default_factory=dict)
    """Final orders whose ``closed`` message waits for their fills."""
    awaited: Mapping[str, AwaitedFills] = field(default_factory=dict)
    """By order id."""
    reported_fills: Mapping[str, int] = field(default_factory=dict)
    """The fills queued (by `fill_key`), with their times: a fill read again is not queued again."""
    reported_closed: Mapping[str, int] = field(default_factory=dict)
    """Order ids reported closed, with the poll's ms: an order the history lists again is not reported again."""


def _check_amounts(value: object, *names: str) -> None:
    for name in names:
        amount = getattr(value, name)
        if not isinstance(amount, Decimal):
            raise TypeError(f"{type(value).__name__}.{name} must be a Decimal, got {amount!r:.60}")
        if not amount.is_finite():
            raise ValueError(f"{type(value).__name__}.{name} must be a finite amount, got {amount}")


# --- the diff: pure ----------------------------------------------------------------------------


def balance_message(balance: Balance) -> dict[str, Any]:
    return {"type": "balance", "asset": balance.asset, "total": str(balance.total), "available": str(balance.available)}


def order_message(event: str, order: Order) -> dict[str, Any]:
    return {
        "type": "order",
        "event": event,
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "order_type": order.order_type,
        "price": str(order.price),
        "amount": str(order.amount),
        "filled_amount": str(order.filled_amount),
        "status": order.status,
        "created_at": order.created_at,
    }


def fill_key(fill: Fill) -> str:
    """What tells one fill from another: its trade id, with its order's (a self-trade has one trade id, two orders)."""
    return f"{fill.order_id}/{fill.trade_id}"


def fill_message(fill: Fill) -> dict[str, Any]:
    return {
        "type": "fill",
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "symbol": fill.symbol,
        "price": str(fill.price),
        "amount": str(fill.amount),
        "fee": str(fill.fee),
        "fee_asset": fill.fee_asset,
        "liquidity": fill.liquidity,
        "time": fill.time,
    }


def diff_snapshots(
    before: PolledAccount | None,
    after: PolledAccount,
    closed: Mapping[str, Order] | None = None,
    fills: Sequence[Fill] = (),
) -> list[dict[str, Any]]:
    """The user messages that take a bot from ``before`` to ``after``; ``before=None`` gives the full snapshot.

    ``closed`` holds the final state of orders that are no longer open (or never were seen open), and
    ``fills`` the executions not reported before. Fills come first, then orders (closed, changed, new),
    then balances by asset: no order is reported closed before its fills.
    """
    previous = before or PolledAccount()
    messages = [fill_message(fill) for fill in fills]
    messages += [order_message("closed", order) for order in (closed or {}).values()]
    for order_id, order in after.open_orders.items():
        known = previous.open_orders.get(order_id)
        if known is None:
            messages.append(order_message("new", order))
        elif known != order:
            messages.append(order_message("changed", order))
    for asset in sorted(previous.balances.keys() | after.balances.keys()):
        now = after.balances.get(asset) or Balance(asset, _ZERO, _ZERO)
        then = previous.balances.get(asset) or Balance(asset, _ZERO, _ZERO)
        if (now.total, now.available) != (then.total, then.available):
            messages.append(balance_message(now))
    return messages


def expect_fills(
    awaited: Mapping[str, AwaitedFills], known: Mapping[str, Order], seen: Iterable[Order], since_ms: int
) -> dict[str, AwaitedFills]:
    """``awaited`` plus what each order in ``seen`` filled since it was ``known`` (from zero if it was not)."""
    result = dict(awaited)
    for order in seen:
        previous = known.get(order.order_id)
        moved = order.filled_amount - (previous.filled_amount if previous is not None else _ZERO)
        if moved <= 0:
            continue
        waiting = result.get(order.order_id)
        if waiting is None:
            result[order.order_id] = AwaitedFills(order.symbol, moved, since_ms)
        else:
            result[order.order_id] = replace(waiting, amount=waiting.amount + moved)
    return result


def take_fills(
    awaited: Mapping[str, AwaitedFills], fetched: Iterable[Fill], reported: Mapping[str, int]
) -> tuple[list[Fill], dict[str, AwaitedFills]]:
    """The fills not ``reported`` before, oldest first, and what is still awaited once they are counted.

    What is still awaited has been looked for once more (`AwaitedFills.polls`).
    """
    new = {fill_key(fill): fill for fill in fetched if fill_key(fill) not in reported}
    fills = sorted(new.values(), key=lambda fill: (fill.time, fill_key(fill)))
    result = dict(awaited)
    for fill in fills:
        waiting = result.get(fill.order_id)
        if waiting is None:
            continue
        if waiting.amount > fill.amount:
            result[fill.order_id] = replace(waiting, amount=waiting.amount - fill.amount)
        else:
            del result[fill.order_id]
    return fills, {order_id: replace(waiting, polls=waiting.polls + 1) for order_id, waiting in result.items()}


def release_closed(
    closed: Mapping[str, Order], awaited: Mapping[str, AwaitedFills], wait_polls: int
) -> tuple[dict[str, Order], dict[str, Order], dict[str, AwaitedFills], list[str]]:
    """``(released, held, awaited, given up)``: final orders whose fills are all in are released, the others held.

    Fills looked for in vain `wait_polls` times are given up on (their orders released): an exchange whose
    fills endpoint never shows them must not hold an order back for ever.
    """
    given_up = [order_id for order_id, waiting in awaited.items() if waiting.polls >= wait_polls]
    remaining = {order_id: waiting for order_id, waiting in awaited.items() if order_id not in given_up}
    released = {order_id: order for order_id, order in closed.items() if order_id not in remaining}
    held = {order_id: order for order_id, order in closed.items() if order_id in remaining}
    return released, held, remaining, given_up


@dataclass(frozen=True)
class Poll:
    """One successful poll: the messages it yields, and the state and history to remember once they are queued."""

    messages: Sequence[dict[str, Any]]
    account: PolledAccount
    history: History


# --- the data source ---------------------------------------------------------------------------


class RestPollingDataSource(UserStreamTrackerDataSource):
    """A user stream built from REST polls: open orders and balances every `poll_interval` seconds, changes only,
    and where the connector names the endpoints, the fills and the orders finished between two polls.

    Fill in the paths and parsers (see the module docstring). ``ws_url`` does not exist here; pass
    ``rest_url``. The data source only ever talks to ``rest_url``.
    """

    POLL_INTERVAL: ClassVar[float] = 2.0
    """Seconds between the end of one successful poll and the start of the next."""
    DEFAULT_RECONNECT: ClassVar[ReconnectPolicy] = ReconnectPolicy(initial_delay=1.0, max_delay=60.0)
    MAX_RETRY_AFTER: ClassVar[float] = MAX_RETRY_AFTER
    """A longer ``Retry-After`` is capped: a buggy header must not silence the stream for hours."""
    CLOSED_LOOKUP_ATTEMPTS: ClassVar[int] = 3
    """Polls on which a vanished order's detail may be missing before it is reported closed with status unknown."""

    ACCOUNTS_PATH: ClassVar[str | None] = None
    """Where the account id comes from (HTX ``/v1/account/accounts``); None if no lookup is needed."""
    BALANCE_PATH: ClassVar[str] = ""
    OPEN_ORDERS_PATH: ClassVar[str] = ""
    ORDER_DETAIL_PATH: ClassVar[str] = ""
    FINAL_ORDER_STATUSES: ClassVar[frozenset[str]] = frozenset()
    """Statuses in which an order can no longer change (HTX: filled, canceled, partial-canceled)."""
    ORDER_STATUSES: ClassVar[Mapping[str, OrderStatus]] = {}
    """The exchange's order statuses in userstream's vocabulary. Empty: no typed events (raw messages only)."""
    FILLS_PATH: ClassVar[str | None] = None
    """Where the account's fills are read (HTX ``/v1/order/matchresults``); None: no fills are reported."""
    ORDER_HISTORY_PATH: ClassVar[str | None] = None
    """Where recently finished orders are read (HTX ``/v1/order/history``); None: only orders seen open are."""
    FILLS_WINDOW: ClassVar[float] = 2 * 24 * 3600.0
    """How far back (seconds) the fills endpoint reaches: after a longer outage, older fills are lost."""
    ORDER_HISTORY_WINDOW: ClassVar[float] = 2 * 24 * 3600.0
    """How far back (seconds) the order history reaches."""
    HISTORY_OVERLAP: ClassVar[float] = 5.0
    """Seconds each history read reaches back before the previous poll's start: clock error and records that
    the exchange shows a moment after their time."""
    FILL_WAIT_POLLS: ClassVar[int] = 5
    """Polls an order waits for the fills its filled amount announced before it is released without them."""
    MAX_PAGES: ClassVar[int] = 100
    """Pages one request may run to in a poll: a reply whose pagination does not end is an error."""

    def __init__(
        self,
        auth: MarketAuth | None = None,
        *,
        rest_url: str | None = None,
        poll_interval: float | None = None,
        account_id: str | None = None,
        rest_timeout: float | None = None,
        session: aiohttp.ClientSession | None = None,
        timings: StreamTimings | None = None,
        reconnect: ReconnectPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        rest_url = rest_url or self.REST_URL
        if not rest_url:
            raise TypeError(f"{type(self).__name__} needs rest_url= (or a REST_URL class attribute)")
        super().__init__(auth, rest_url=rest_url, session=session, timings=timings, reconnect=reconnect, rng=rng)
        self.poll_interval = self.POLL_INTERVAL if poll_interval is None else poll_interval
        if not self.poll_interval > 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {self.poll_interval!r}")
        assert self.rest is not None  # rest_url is checked above
        if rest_timeout is not None:
            self.rest.timeout = rest_timeout  # the one REST client's, for every request of every poll
        self.rest_host = urlsplit(rest_url).netloc.lower()
        self._fixed_account_id = account_id
        self._account_id_lookup = SingleFlight(self._fetch_account_id)
        self._known: PolledAccount | None = None
        self._history = History()
        self._clock_measured = False
        self._lookup_misses: dict[str, int] = {}

    # --- public -----------------------------------------------------------------------------------

    @property
    def known_state(self) -> PolledAccount | None:
        """The account as of the last successful poll (None before the first, and after `stop()`)."""
        return self._known

    @property
    def history(self) -> History:
        """What the fills and order-history reads remember (kept across `stop()`, so a restart reports only the new)."""
        return self._history

    @property
    def reads_history(self) -> bool:
        """Whether polls read fills or the order history (`FILLS_PATH`, `ORDER_HISTORY_PATH`)."""
        return self.FILLS_PATH is not None or self.ORDER_HISTORY_PATH is not None

    async def account_id(self) -> str:
        """The account the polls read, looked up once (single-flight) and cached until credentials are discarded."""
        return await self._account_id_lookup.get()

    # --- exchange specifics: override these -------------------------------------------------------

    def balance_request(self, account_id: str) -> PollRequest:
        return PollRequest(self.BALANCE_PATH.format(account_id=account_id))

    def open_orders_request(self, account_id: str) -> PollRequest:
        return PollRequest(self.OPEN_ORDERS_PATH.format(account_id=account_id))

    def order_detail_request(self, account_id: str, order: Order) -> PollRequest:
        return PollRequest(self.ORDER_DETAIL_PATH.format(account_id=account_id, order_id=order.order_id))

    def fills_requests(self, account_id: str, starts: Mapping[str, int], now_ms: int) -> Sequence[PollRequest]:
        """The first page of each request for the fills of ``starts``' symbols, each from its start (exchange ms).

        Default: one request to `FILLS_PATH`. An exchange whose fills endpoint takes one symbol, or a bounded
        time window, returns one request per symbol and window.
        """
        return [PollRequest((self.FILLS_PATH or "").format(account_id=account_id))]

    def order_history_requests(self, account_id: str, start_ms: int, now_ms: int) -> Sequence[PollRequest]:
        """The first page of each request for the orders finished since ``start_ms``; default: `ORDER_HISTORY_PATH`."""
        return [PollRequest((self.ORDER_HISTORY_PATH or "").format(account_id=account_id))]

    def parse_fills(self, request: PollRequest, reply: Any) -> Page[Fill]:
        """One page of fills from a reply to ``request``, and the request for the next page if there is one."""
        raise NotImplementedError(f"{type(self).__name__} sets FILLS_PATH but does not override parse_fills()")

    def parse_order_history(self, request: PollRequest, reply: Any) -> Page[Order]:
        """One page of orders from the order history's reply to ``request``; rows not final are ignored."""
        raise NotImplementedError(
            f"{type(self).__name__} sets ORDER_HISTORY_PATH but does not override parse_order_history()"
        )

    def parse_account_id(self, reply: Any) -> str:
        """The account id from `ACCOUNTS_PATH`'s reply."""
        raise NotImplementedError(f"{type(self).__name__} sets ACCOUNTS_PATH but does not override parse_account_id()")

    @abc.abstractmethod
    def parse_balances(self, reply: Any) -> Mapping[str, Balance]:
        """Balances by asset from the balance reply. Assets with a zero balance may be left out."""

    @abc.abstractmethod
    def parse_open_orders(self, reply: Any) -> Mapping[str, Order]:
        """Open orders by order id from the open-orders reply."""

    @abc.abstractmethod
    def parse_order_detail(self, reply: Any) -> Order:
        """One order (with its final status, if it has one) from the order-detail reply."""

    def is_final(self, order: Order) -> bool:
        return order.status in self.FINAL_ORDER_STATUSES

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        """The typed twin of a message this source queued."""
        if not self.ORDER_STATUSES:
            return ()
        if message["type"] == "balance":
            total, available = Decimal(message["total"]), Decimal(message["available"])
            return [BalanceUpdate(asset=message["asset"], total=total, available=available)]
        if message["type"] == "fill":
            return [
                TradeFill(
                    trade_id=message["trade_id"],
                    exchange_order_id=message["order_id"],
                    client_order_id=message["client_order_id"],
                    symbol=message["symbol"],
                    price=Decimal(message["price"]),
                    quantity=Decimal(message["amount"]),
                    fee=Decimal(message["fee"]),
                    fee_asset=message["fee_asset"],
                    timestamp=message["time"],
                )
            ]
        status = message["status"]
        return [
            OrderUpdate(
                exchange_order_id=message["order_id"],
                client_order_id=message["client_order_id"],
                symbol=message["symbol"],
                status=OrderStatus.UNKNOWN if status == UNKNOWN_STATUS else self.ORDER_STATUSES[status],
                price=Decimal(message["price"]),
                quantity=Decimal(message["amount"]),
                filled_quantity=Decimal(message["filled_amount"]),
            )
        ]

    def is_error_reply(self, status: int, reply: Any) -> bool:
        """Whether a reply is an error. Default: an HTTP error status. HTX also answers errors with HTTP 200."""
        return status >= 400

    def is_auth_error(self, reply: Any) -> bool:
        """Whether an error reply rejects the credentials or the signature (logged at ERROR, then backoff)."""
        return False

    def is_rate_limited(self, status: int, reply: Any) -> bool:
        """Whether a reply says "too many requests"; HTTP 429 by default (Binance also uses 418)."""
        return status == 429

    def retry_after(self, status: int, headers: Mapping[str, str], reply: Any) -> float | None:
        """Seconds a rate-limited reply asks us to wait: the ``Retry-After`` header by default."""
        return parse_retry_after(headers.get("Retry-After"))

    def authenticate_request(
        self, method: str, host: str, path: str, params: Mapping[str, str]
    ) -> tuple[Mapping[str, str], Mapping[str, str]]:
        """``(query parameters, headers)`` that authenticate one request, built fresh (new timestamp) every time.

        Default: the parameters unchanged and `MarketAuth.rest_auth_headers` over path and query. ``host``
        is the lower-case ``host[:port]`` of ``rest_url``, for schemes that sign it (HTX).
        """
        if self.auth is None:
            return params, {}
        query = encode_query(params)
        return params, self.auth.rest_auth_headers(method, f"{path}?{query}" if query else path, "")

    def classify(self, message: Any) -> FrameKind:
        """Every message this source builds is a user message; anything else would be a bug, so it is dropped."""
        if isinstance(message, dict) and message.get("type") in USER_MESSAGE_TYPES:
            return FrameKind.USER_MESSAGE
        return FrameKind.MALFORMED

    def discard_credentials(self) -> None:
        # A rejected key may belong to another account once it is replaced: look the account up again.
        self._account_id_lookup.invalidate()

    async def on_stop(self) -> None:
        # The history stays: a restart reports what happened while stopped, and nothing twice.
        await self._account_id_lookup.close()
        self._known = None
        self._lookup_misses.clear()

    def open_transport(self, websocket_factory: WebSocketFactory | None) -> Transport[Any]:
        return PollingTransport(self)

    # --- the loop -----------------------------------------------------------------------------------

    def begin_polls(self) -> None:
        """A run of polls starts (after start or a failure): the clock is measured again before the first."""
        self._clock_measured = False

    def remember(self, poll: Poll) -> None:
        """A poll's messages are queued: what it saw is what the next poll compares with."""
        self._known, self._history = poll.account, poll.history

    async def poll(self) -> Poll:
        """One poll: the messages it yields, and the state and history to `remember` once they are queued."""
        if self.reads_history and not self._clock_measured and self.SERVER_TIME_PATH and self.auth is not None:
            await self.sync_server_time()  # the history is read from the exchange's ms, so know its clock
            self._clock_measured = True
        started_at = time.time()
        account_id = await self.account_id()
        request = self.open_orders_request(account_id)
        open_orders = dict(self._parse(self.parse_open_orders, request, await self._get(request)))
        request = self.balance_request(account_id)
        balances = self._parse(self.parse_balances, request, await self._get(request))
        # The poll's start in the exchange's ms, by the clock offset as it stands now that a request may have
        # re-measured it.
        started_ms = self._exchange_ms(since=started_at)
        before, past = self._known, self._history
        followed = dict(before.open_orders) if before else dict(past.followed)
        finished = await self._finished_orders(account_id, past, started_ms)
        closed: dict[str, Order] = {}
        for order_id, order in followed.items():
            if order_id in open_orders:
                self._lookup_misses.pop(order_id, None)
                continue
            final = finished.get(order_id) or await self._final_state(account_id, order)
            if final is None:
                open_orders[order_id] = order  # no verdict yet: look again next poll
            elif self.is_final(final) or final.status == UNKNOWN_STATUS:
                closed[order_id] = final
            else:
                open_orders[order_id] = final  # momentarily missing from the list but still live
        for order in sorted(finished.values(), key=lambda order: (order.created_at or 0, order.order_id)):
            unseen = order.order_id not in followed and order.order_id not in open_orders
            if unseen and order.order_id not in past.held and order.order_id not in past.reported_closed:
                closed[order.order_id] = order  # born and finished between two polls: oldest first
        after = PolledAccount(balances=dict(balances), open_orders=open_orders)
        if not self.reads_history:
            return Poll(diff_snapshots(before, after, closed), after, past)
        fills, released, history = await self._settle(account_id, past, after, closed, started_ms)
        return Poll(diff_snapshots(before, after, released, fills), after, history)

    async def _finished_orders(self, account_id: str, past: History, now_ms: int) -> dict[str, Order]:
        """Final orders from the order history since the previous poll; none on the first poll or without one."""
        if self.ORDER_HISTORY_PATH is None or past.since_ms is None:
            return {}
        earliest = now_ms - int(self.ORDER_HISTORY_WINDOW * 1000)
        start_ms = min(max(past.since_ms - int(self.HISTORY_OVERLAP * 1000), earliest), now_ms)
        finished: dict[str, Order] = {}
        for request in self.order_history_requests(account_id, start_ms, now_ms):
            for order in await self._pages(request, self.parse_order_history):
                if self.is_final(order):
                    finished[order.order_id] = order
        return finished

    async def _settle(
        self, account_id: str, past: History, after: PolledAccount, closed: Mapping[str, Order], started_ms: int
    ) -> tuple[list[Fill], dict[str, Order], History]:
        """The new fills, the final orders to report now (those whose fills are in), and the history after this poll."""
        final = {**past.held, **closed}
        released: dict[str, Order] = dict(final)
        fills: list[Fill] = []
        awaited: dict[str, AwaitedFills] = {}
        if self.FILLS_PATH is not None:
            # The first poll is the baseline: what its open orders had filled before is not the stream's.
            known = {**past.followed, **past.held} if past.since_ms is not None else dict(after.open_orders)
            seen = [*after.open_orders.values(), *closed.values()]
            awaited = expect_fills(past.awaited, known, seen, past.since_ms or started_ms)
            fetched = await self._fills(account_id, awaited, started_ms)
            fills, awaited = take_fills(awaited, fetched, past.reported_fills)
            released, held, awaited, given_up = release_closed(final, awaited, self.FILL_WAIT_POLLS)
            for order_id in given_up:
                self.logger.warning(
                    "order %s: its fills did not appear after %d polls; its state is reported without them",
                    order_id,
                    self.FILL_WAIT_POLLS,
                )
            orders = {**final, **past.followed, **after.open_orders}
            fills = [self._with_client_order_id(fill, orders) for fill in fills]
        else:
            held = {}
        overlap_ms = int(self.HISTORY_OVERLAP * 1000)
        # A fill can be read again while a read may start before its time; a closed order, within the history window.
        fills_floor = min([started_ms, *(waiting.since_ms for waiting in awaited.values())]) - overlap_ms
        closed_floor = started_ms - int(self.ORDER_HISTORY_WINDOW * 1000) - overlap_ms
        reported_fills = {**past.reported_fills, **{fill_key(fill): fill.time for fill in fills}}
        reported_closed = {**past.reported_closed, **dict.fromkeys(released, started_ms)}
        history = History(
            since_ms=started_ms,
            followed=dict(after.open_orders),
            held=held,
            awaited=awaited,
            reported_fills={key: at for key, at in reported_fills.items() if at >= fills_floor},
            reported_closed={order_id: at for order_id, at in reported_closed.items() if at >= closed_floor},
        )
        return fills, released, history

    async def _fills(self, account_id: str, awaited: Mapping[str, AwaitedFills], now_ms: int) -> list[Fill]:
        """The fills of every symbol with awaited fills, each read from its earliest awaited moment."""
        if not awaited:
            return []
        earliest = now_ms - int(self.FILLS_WINDOW * 1000)
        starts: dict[str, int] = {}
        for waiting in awaited.values():
            start = min(max(waiting.since_ms - int(self.HISTORY_OVERLAP * 1000), earliest), now_ms)
            starts[waiting.symbol] = min(starts.get(waiting.symbol, start), start)
        fills: list[Fill] = []
        for request in self.fills_requests(account_id, starts, now_ms):
            fills += await self._pages(request, self.parse_fills)
        return fills

    @staticmethod
    def _with_client_order_id(fill: Fill, orders: Mapping[str, Order]) -> Fill:
        order = orders.get(fill.order_id)
        if fill.client_order_id is not None or order is None or order.client_order_id is None:
            return fill
        return replace(fill, client_order_id=order.client_order_id)

    def _exchange_ms(self, *, since: float) -> int:
        """The exchange's ms at the local `time.time()` ``since``."""
        now = self.auth.now() if self.auth is not None else time.time()
        return int((now - (time.time() - since)) * 1000)

    async def _final_state(self, account_id: str, order: Order) -> Order | None:
        """The order's state from the detail endpoint; None while the exchange has no record of it yet."""
        request = self.order_detail_request(account_id, order)
        try:
            reply = await self._get(request)
        except RateLimited:
            raise
        except ExchangeError as error:
            if isinstance(error, MalformedReply) or error.status >= 500:
                raise
            misses = self._lookup_misses.get(order.order_id, 0) + 1
            self._lookup_misses[order.order_id] = misses
            if misses < self.CLOSED_LOOKUP_ATTEMPTS:
                self.logger.info(
                    "order %s left the open orders but has no detail yet: %s", order.order_id, error.reason
                )
                return None
            self.logger.warning(
                "order %s left the open orders; no detail after %d polls (%s): reported closed, status unknown",
                order.order_id,
                misses,
                error.reason,
            )
            self._lookup_misses.pop(order.order_id, None)
            return replace(order, status=UNKNOWN_STATUS)
        self._lookup_misses.pop(order.order_id, None)
        return self._parse(self.parse_order_detail, request, reply)

    # --- REST -------------------------------------------------------------------------------------

    async def _fetch_account_id(self) -> str:
        if self._fixed_account_id is not None:
            return self._fixed_account_id
        if self.ACCOUNTS_PATH is None:
            return ""
        request = PollRequest(self.ACCOUNTS_PATH)
        return self._parse(self.parse_account_id, request, await self._get(request))

    async def _get(self, request: PollRequest) -> Any:
        """A signed GET's decoded reply; an error reply raises (re-measuring the clock once if it blames our time)."""
        assert self.rest is not None  # rest_url is required
        return await self.rest.request(
            "GET", request.path, params=request.params, sign=self._sign_poll, check=self._check_reply
        )

    def _sign_poll(self, method: str, path: str, params: Mapping[str, str], body: str) -> tuple[str, Mapping[str, str]]:
        signed_params, headers = self.authenticate_request(method, self.rest_host, path, params)
        return encode_query(signed_params), headers

    def _check_reply(self, method: str, path: str, reply: RestReply) -> Exception | None:
        """What a reply means in this exchange's terms: None for a success, else the error to raise."""
        if self.is_rate_limited(reply.status, reply.body):
            reason = self.redact(self.describe_rejection(reply.body))
            retry_after = self.retry_after(reply.status, reply.headers, reply.body)
            return RateLimited(method, path, reply.status, reply.body, reason, retry_after)
        if not self.is_error_reply(reply.status, reply.body):
            return None
        reason = self.redact(self.describe_rejection(reply.body))
        if self.is_clock_skew(reply.body):
            return AuthenticationError(reason, clock_skew=True)
        if self.is_auth_error(reply.body):
            return AuthenticationError(reason)
        return ExchangeError(method, path, reply.status, reply.body, reason)

    async def _pages(self, first: PollRequest, parser: Callable[[PollRequest, Any], Page[T]]) -> list[T]:
        """Every row of a paginated reply, following each page's next request to the last page."""
        rows: list[T] = []
        sent: list[PollRequest] = []
        request: PollRequest | None = first
        while request is not None:
            if request in sent or len(sent) >= self.MAX_PAGES:
                reason = f"pagination did not end after {len(sent)} pages (next: {dict(request.params)})"
                raise MalformedReply("GET", request.path, 200, None, reason)
            sent.append(request)
            page = self._parse(functools.partial(parser, request), request, await self._get(request))
            rows += page.rows
            request = page.next
        return rows

    def _parse(self, parser: Callable[[Any], T], request: PollRequest, reply: Any) -> T:
        try:
            return parser(reply)
        except PARSE_ERRORS as error:
            self.record.malformed_frames += 1
            raise MalformedReply(
                "GET",
                request.path,
                200,
                reply,
                self.redact(f"unexpected reply ({type(error).__name__}: {error}): {self.quote(str(reply), 300)}"),
            ) from error


class PollingTransport:
    """The REST polling transport: polls until one fails, as a WebSocket connection reads until it ends.

    The supervisor records the failure, backs off and runs it again; the account survives, so the first poll
    after an outage reports what changed during it. A rate limit is sat out here instead: at least its
    ``Retry-After``, never less than one poll interval.
    """

    def __init__(self, source: RestPollingDataSource) -> None:
        self.source = source
        self.connected = False
        """The last poll succeeded."""

    async def run(self, output: Outbox[Any], handed_over: None) -> NoReturn:
        source, record = self.source, self.source.record
        record.state = StreamState.CONNECTING
        source.begin_polls()
        try:
            while True:
                try:
                    poll = await source.poll()
                except RateLimited as error:
                    self.connected = False
                    await self._wait_out(error)
                    continue
                record.frame_received()
                self.connected = True
                if record.state is not StreamState.STREAMING:
                    record.start_streaming()
                    source.logger.info("polling every %g s", source.poll_interval)
                for message in poll.messages:
                    if source.classify(message) is not FrameKind.USER_MESSAGE:
                        record.skip_malformed(encode_message(message), "not a user message")
                        continue
                    await source.delivery.deliver(message, output)
                source.remember(poll)
                await asyncio.sleep(source.poll_interval)
        finally:
            self.connected = False

    async def release(self, handover: None) -> None:
        """Polls are never handed over."""

    async def close(self) -> None:
        """Nothing stays open between polls."""

    async def _wait_out(self, error: RateLimited) -> None:
        source, supervisor = self.source, self.source.supervisor
        supervisor.failed(error)
        if error.retry_after is not None:
            delay = max(min(error.retry_after, source.MAX_RETRY_AFTER), source.poll_interval)
        else:
            delay = max(supervisor.backoff.next_delay(), source.poll_interval)
        previous = source.record.state
        await supervisor.wait(delay, "rate limited by the exchange: next poll")
        source.record.state = previous


def utc_seconds(moment: float) -> str:
    """``YYYY-MM-DDThh:mm:ss`` in UTC, the timestamp format of query-signed exchanges (HTX)."""
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
