"""Binance USDⓈ-M futures' user data stream: a listen key, minted over REST, in the WebSocket URL.

userstream's listen-key archetype does the work: it creates the key before every connection (Binance
returns the account's live key if there is one), extends it every 30 minutes beside the connection,
replaces it after ``listenKeyExpired`` and deletes it on ``stop()``. There is no login and no
subscribe: every typed event on the stream is the account's, so event types Binance adds later
(``TRADE_LITE``, ``ALGO_UPDATE``, ...) reach the bot too. A connection lives 24 hours at most and Binance
announces no close in advance, so each one is replaced make-before-break shortly before (`MAX_CONNECTION_AGE`).
What is here is Binance's shapes, and the signed REST requests that read the account after every gap.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from userstream import AccountEvent, AccountSnapshot, OrderUpdate, SnapshotScope, StreamTimings
from userstream.archetypes.listen_key import ListenKeyDataSource

from binance_futures import binance_futures_constants as CONSTANTS
from binance_futures.binance_futures_account import parse_event, parse_order, parse_snapshot


class BinanceFuturesAPIUserStreamDataSource(ListenKeyDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    LISTEN_KEY_PATH: ClassVar[str] = CONSTANTS.LISTEN_KEY_PATH
    API_KEY_HEADER: ClassVar[str] = CONSTANTS.API_KEY_HEADER
    KEEPALIVE_INTERVAL: ClassVar[float] = CONSTANTS.LISTEN_KEY_KEEPALIVE_INTERVAL
    EVENT_TYPE_FIELD: ClassVar[str] = CONSTANTS.EVENT_TYPE_FIELD
    TERMINATION_EVENTS: ClassVar[Mapping[str, str]] = CONSTANTS.TERMINATION_EVENTS
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    MAX_CONNECTION_AGE: ClassVar[float | None] = CONSTANTS.MAX_CONNECTION_AGE

    def is_clock_skew(self, reply: Any) -> bool:
        return isinstance(reply, Mapping) and reply.get("code") in CONSTANTS.CLOCK_SKEW_CODES

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        return parse_event(message)

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        balances = await self.rest_request("GET", CONSTANTS.BALANCE_PATH, signed=True)
        open_orders = await self.rest_request("GET", CONSTANTS.OPEN_ORDERS_PATH, signed=True)
        # The history endpoints take one symbol each: the ones the account is known to trade and those of its
        # open orders. An order placed before the window and finished within it was open before, so it is looked
        # up on its own.
        symbols = sorted(scope.symbols | {row["symbol"] for row in open_orders})
        start_ms = scope.history_start_ms(CONSTANTS.HISTORY_WINDOW)
        orders: list[Any] = []
        for symbol in symbols:
            orders += await self._pages(CONSTANTS.ALL_ORDERS_PATH, symbol, start_ms, cursor="orderId", row_id="orderId")
        # The trades last: then every fill of an order the replies above show finished is among them.
        trades: list[Any] = []
        for symbol in symbols:
            trades += await self._pages(CONSTANTS.USER_TRADES_PATH, symbol, start_ms, cursor="fromId", row_id="id")
        return parse_snapshot(balances, open_orders, orders, trades)

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        params = {"symbol": order.symbol, "orderId": order.exchange_order_id}
        return parse_order(await self.rest_request("GET", CONSTANTS.ORDER_PATH, params=params, signed=True))

    async def _pages(self, path: str, symbol: str, start_ms: int, *, cursor: str, row_id: str) -> list[Any]:
        """Every row of one symbol's oldest-first history from ``start_ms``, page after page (``cursor`` = the last
        row's ``row_id`` + 1; Binance takes no start time beside it)."""
        rows: list[Any] = []
        params = {"symbol": symbol, "startTime": str(start_ms), "limit": str(CONSTANTS.PAGE_LIMIT)}
        while True:
            page = await self.rest_request("GET", path, params=params, signed=True)
            rows += page
            if len(page) < CONSTANTS.PAGE_LIMIT:
                return rows
            following = max(int(row[row_id]) for row in page) + 1
            params = {"symbol": symbol, cursor: str(following), "limit": str(CONSTANTS.PAGE_LIMIT)}
