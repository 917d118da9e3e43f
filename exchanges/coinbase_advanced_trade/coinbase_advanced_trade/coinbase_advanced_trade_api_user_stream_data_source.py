"""Coinbase Advanced Trade's user-order stream: one subscribe per channel, each carrying a fresh ES256 JWT.

The I/O loop, reconnects and reply handling come from userstream's signed-subscribe archetype;
what is here is Coinbase's subscribe, reply and event shapes, and the REST requests that read the account.

Coinbase pushes orders, not fills or balances. A push that shows an order filled further is completed over REST
before its events go on: that order's fills (trade id, price, size, commission), then the balances they moved.
The whole account is read after every gap and every `RECONCILE_INTERVAL`, which is what keeps a balance moved
by anything else (a deposit, a transfer) current.
"""

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

from userstream import (
    AccountEvent,
    AccountSnapshot,
    OrderUpdate,
    OutgoingMessage,
    SnapshotScope,
    StreamTimings,
)
from userstream.archetypes.signed_subscribe import ReplyVerdict, SignedSubscribeDataSource
from userstream.frames import PARSE_ERRORS
from userstream.rest import REST_FAILURES

from coinbase_advanced_trade import coinbase_advanced_trade_constants as CONSTANTS
from coinbase_advanced_trade.coinbase_advanced_trade_account import (
    lists_every_fill,
    parse_balances,
    parse_fills,
    parse_order,
    parse_push,
    parse_snapshot,
    pushed_orders,
    reports_new_fills,
    rfc3339,
)
from coinbase_advanced_trade.coinbase_advanced_trade_auth import CoinbaseAdvancedTradeAuth

LOOKUP_ERRORS = (*REST_FAILURES, *PARSE_ERRORS)
"""What reading a push's fills can fail with: the account is then reconciled instead."""


class FillsNotListedYet(LookupError):
    """The fills list shows fewer fills of an order than a push counted."""


class CoinbaseAdvancedTradeAPIUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_USER_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    CHANNELS: ClassVar[Sequence[str]] = CONSTANTS.CHANNELS
    RECONCILE_INTERVAL: ClassVar[float | None] = CONSTANTS.RECONCILE_INTERVAL_S

    def configure(self) -> None:
        super().configure()
        if isinstance(self.auth, CoinbaseAdvancedTradeAuth) and self.rest_url:
            self.auth.rest_host = urlsplit(self.rest_url).netloc  # a REST JWT names the host it is sent to

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        # Coinbase echoes no request id: replies are matched by count, one per subscribe.
        assert isinstance(self.auth, CoinbaseAdvancedTradeAuth)
        return {"type": "subscribe", "channel": channel, "jwt": self.auth.websocket_jwt()}

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if message.get("channel") == CONSTANTS.SUBSCRIPTIONS_CHANNEL:
            return ReplyVerdict.ACCEPTED
        if message.get("type") == CONSTANTS.ERROR_TYPE:
            return ReplyVerdict.REJECTED  # "authentication failure": Coinbase gives no code to tell causes apart
        return None

    def rejection_text(self, message: Any) -> str:
        return str(message["message"])

    def is_user_message(self, message: Any) -> bool:
        return message.get("channel") == CONSTANTS.USER_CHANNEL and isinstance(message.get("events"), list)

    def is_control(self, message: Any) -> bool:
        channel: str | None = message.get("channel")
        return channel == CONSTANTS.HEARTBEATS_CHANNEL

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        return parse_push(message)

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        read_at = int(time.time() * 1000)
        accounts = await self._pages(CONSTANTS.ACCOUNTS_PATH, "accounts")
        open_orders = await self._pages(CONSTANTS.ORDERS_PATH, "orders", order_status=CONSTANTS.OPEN_STATUS)
        # Coinbase keeps all history: a gap is read from its start. The history filters on when an order was
        # placed, so one placed before the gap and finished within it is looked up on its own (it was open).
        since = rfc3339(scope.taken_at - CONSTANTS.FIRST_HISTORY_S if scope.since is None else scope.since)
        history = await self._pages(CONSTANTS.ORDERS_PATH, "orders", start_date=since)
        # The fills last: then every fill of an order the replies above show finished is among them.
        fills = await self._pages(CONSTANTS.FILLS_PATH, "fills", start_sequence_timestamp=since)
        return parse_snapshot(accounts, open_orders, history, fills, read_at)

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        path = CONSTANTS.ORDER_PATH.format(order_id=order.exchange_order_id)
        reply = await self.rest_request("GET", path, signed=True)
        return parse_order(reply["order"])

    async def complete_account_events(self, message: Any, events: Sequence[AccountEvent]) -> Sequence[AccountEvent]:
        # The fills a push reports go first, then the push's orders, then the balances the fills moved.
        fills, balances = await self._executions_of(message)
        return [*fills, *events, *balances]

    async def _executions_of(self, message: Any) -> tuple[list[AccountEvent], list[AccountEvent]]:
        """The fills a push reports (read over REST) and the balances after them; none if it reports no fill."""
        try:
            filled = [row for row in pushed_orders(message) if reports_new_fills(row, self._filled(row["order_id"]))]
        except PARSE_ERRORS:
            return [], []  # unreadable: the base counts it and reconciles the account
        if not filled:
            return [], []
        fills: list[AccountEvent] = []
        try:
            for row in filled:
                rows = await self._pages(CONSTANTS.FILLS_PATH, "fills", order_ids=row["order_id"])
                if not lists_every_fill(row, rows):
                    raise FillsNotListedYet(f"order {row['order_id']}: {len(rows)} of {row['number_of_fills']} fills")
                client_order_ids = {row["order_id"]: row["client_order_id"]} if row["client_order_id"] else {}
                fills += parse_fills(rows, client_order_ids)
            read_at = int(time.time() * 1000)
            balances = parse_balances(await self._pages(CONSTANTS.ACCOUNTS_PATH, "accounts"), read_at)
        except LOOKUP_ERRORS as error:
            self.logger.warning("could not read the fills a push reports (%s): reconciling instead", error)
            self.request_reconciliation()  # opens the gap now: this push's orders wait for the snapshot
            return [], []
        return fills, list(balances.values())

    def _filled(self, order_id: str) -> Decimal:
        known = self.account.order(order_id)
        return Decimal(0) if known is None else known.filled_quantity

    async def _pages(self, path: str, rows_key: str, **params: str) -> list[Any]:
        """Every row (the reply's ``rows_key`` list) of a list endpoint, page after page by ``cursor``."""
        rows: list[Any] = []
        cursor = ""
        while True:
            page_params = {**params, "limit": str(CONSTANTS.PAGE_LIMIT)}
            if cursor:
                page_params["cursor"] = cursor
            reply = await self.rest_request("GET", path, params=page_params, signed=True)
            page = reply[rows_key]
            rows += page
            cursor = reply.get("cursor") or ""
            # The fills list has no has_next: its last page is short, or comes without a cursor.
            if len(page) < CONSTANTS.PAGE_LIMIT or not cursor or not reply.get("has_next", True):
                return rows
