"""Bybit v5's private user stream: authenticate with a signed expiry, subscribe to order, execution and wallet.

The I/O loop, reconnects, clock-skew retries and phase-aware error handling come from userstream's
login-message archetype; what is here is Bybit's message shapes, and the REST requests that read the spot
account after every gap. Bybit announces no close of its private stream and states no connection lifetime
(only an idle cut-off, which the pings prevent), so connections are replaced only when they fail.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode

from userstream import (
    AccountEvent,
    AccountSnapshot,
    FrameKind,
    OrderUpdate,
    OutgoingMessage,
    SnapshotScope,
    StreamTimings,
)
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin

from bybit import bybit_constants as CONSTANTS
from bybit.bybit_account import parse_order, parse_push, parse_snapshot, result_of


def history_spans(start_ms: int, end_ms: int, span_ms: int) -> list[tuple[int, int | None]]:
    """The ``(startTime, endTime)`` of each request that together read ``start_ms`` to ``end_ms``.

    Each spans at most ``span_ms``; the last sends no end (Bybit then reads ``span_ms`` on from its start),
    so nothing recorded as the snapshot is taken is cut off.
    """
    spans: list[tuple[int, int | None]] = []
    while start_ms + span_ms < end_ms:
        spans.append((start_ms, start_ms + span_ms - 1))
        start_ms += span_ms
    return [*spans, (start_ms, None)]


class BybitAPIUserStreamDataSource(LoginMessageDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    LOGIN_SIGNATURE: ClassVar[LoginSignature] = LoginSignature(
        CONSTANTS.AUTH_PREHASH, timestamp_unit="ms", valid_for=CONSTANTS.AUTH_VALID_FOR
    )
    SUBSCRIPTIONS: ClassVar[Sequence[Any]] = CONSTANTS.SUBSCRIPTIONS
    PING: ClassVar[OutgoingMessage | None] = {"op": "ping"}
    # Bybit's replies carry their reason in ret_msg, with no code beside it.
    ERROR_TEXT_FIELD: ClassVar[str] = "ret_msg"
    ERROR_CODE_FIELD: ClassVar[str | None] = None
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    CLOCK_SKEW_TEXTS: ClassVar[frozenset[str]] = CONSTANTS.CLOCK_SKEW_TEXTS

    def login_message(self, login: SignedLogin) -> OutgoingMessage:
        # The expiry goes as an integer of milliseconds, as in Bybit's own examples.
        return {"op": "auth", "args": [login.api_key, login.timestamp, login.signature]}

    def subscribe_message(self, args: Sequence[Any]) -> OutgoingMessage:
        return {"op": "subscribe", "args": list(args)}

    def classify_reply(self, message: Any) -> FrameKind:
        if "topic" in message and "data" in message:
            return FrameKind.USER_MESSAGE
        op = message.get("op")
        if op == "pong" or (op == "ping" and message.get("success") is True):
            return FrameKind.CONTROL  # the private stream's pong, or the public streams' shape of it
        succeeded = message.get("success")
        if op == "auth":
            return FrameKind.AUTH_OK if succeeded is True else FrameKind.AUTH_REJECTED
        if op == "subscribe":
            return FrameKind.SUBSCRIBED if succeeded is True else FrameKind.SUBSCRIBE_REJECTED
        if succeeded is False:
            return FrameKind.AUTH_REJECTED  # any other refusal: the archetype decides by phase
        return FrameKind.MALFORMED

    def parse_server_time(self, body: Any) -> float:
        return int(body["result"]["timeNano"]) / 1_000_000_000

    def is_clock_skew(self, reply: Any) -> bool:
        # A REST refusal carries a retCode where the stream's carries only words.
        skewed_request = isinstance(reply, Mapping) and reply.get("retCode") == CONSTANTS.CLOCK_SKEW_RET_CODE
        return skewed_request or super().is_clock_skew(reply)

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        return parse_push(message)

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        spot = {"category": CONSTANTS.CATEGORY}
        balances = await self._get(CONSTANTS.BALANCE_PATH, {"accountType": CONSTANTS.ACCOUNT_TYPE})
        open_orders = await self._pages(CONSTANTS.OPEN_ORDERS_PATH, spot, CONSTANTS.ORDERS_PAGE_LIMIT)
        # The first snapshot reads the last day's history; after a gap, from its start on (2 years back at most).
        start = scope.history_start(CONSTANTS.FIRST_HISTORY_WINDOW if scope.since is None else CONSTANTS.HISTORY_REACH)
        spans = history_spans(int(start * 1000), int(scope.taken_at * 1000), int(CONSTANTS.HISTORY_SPAN * 1000))
        # Bybit keeps an order cancelled unfilled in its history for 24 hours: one that was open before the gap is
        # then looked up on its own (fetch_order), from the 500 most recently closed orders.
        closed_orders = await self._history(CONSTANTS.ORDER_HISTORY_PATH, CONSTANTS.ORDERS_PAGE_LIMIT, spans)
        # The fills last: then every fill of an order the replies above show finished is among them.
        executions = await self._history(CONSTANTS.EXECUTIONS_PATH, CONSTANTS.EXECUTIONS_PAGE_LIMIT, spans)
        return parse_snapshot(balances, open_orders, closed_orders, executions)

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        params = {"category": CONSTANTS.CATEGORY, "orderId": order.exchange_order_id}
        # By orderId, the open-orders endpoint also finds one of the 500 most recently closed; the history, older.
        for path in (CONSTANTS.OPEN_ORDERS_PATH, CONSTANTS.ORDER_HISTORY_PATH):
            rows = result_of(await self._get(path, params))["list"]
            if rows:
                return parse_order(rows[0])
        raise LookupError(f"Bybit knows no spot order {order.exchange_order_id}")

    async def _get(self, path: str, params: Mapping[str, str], cursor: str = "") -> Mapping[str, Any]:
        """A signed GET's reply, once checked: a refusal for our clock (HTTP 200, 10002) re-measures it first.

        Bybit hands ``nextPageCursor`` out percent-encoded, ready for the query: it is sent (and signed) as it is.
        """
        query = urlencode(params) + (f"&cursor={cursor}" if cursor else "")
        reply = await self.rest_request("GET", f"{path}?{query}", signed=True)
        if self.is_clock_skew(reply):
            await self.sync_server_time()
            reply = await self.rest_request("GET", f"{path}?{query}", signed=True)
        checked: Mapping[str, Any] = reply
        result_of(checked)  # a refusal raises here, before the next request is sent
        return checked

    async def _history(self, path: str, limit: int, spans: Sequence[tuple[int, int | None]]) -> list[Any]:
        """Every row of a history endpoint over ``spans``."""
        rows: list[Any] = []
        for start_ms, end_ms in spans:
            window = {"category": CONSTANTS.CATEGORY, "startTime": str(start_ms)}
            rows += await self._pages(path, window if end_ms is None else {**window, "endTime": str(end_ms)}, limit)
        return rows

    async def _pages(self, path: str, params: Mapping[str, str], limit: int) -> list[Any]:
        """Every row of a list endpoint, page after page (``cursor`` = the last page's ``nextPageCursor``)."""
        rows: list[Any] = []
        cursor = ""
        while True:
            result = result_of(await self._get(path, {**params, "limit": str(limit)}, cursor))
            page: list[Any] = result["list"]
            rows += page
            cursor = result["nextPageCursor"]
            if len(page) < limit or not cursor:
                return rows
