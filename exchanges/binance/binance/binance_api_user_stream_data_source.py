"""Binance spot's user data stream over the WebSocket API: one signed ``userDataStream.subscribe.signature``.

The I/O loop, reconnects, clock-skew retries, reply matching and the make-before-break handover (after a
``serverShutdown``, or before a connection reaches Binance's 24-hour limit) come from userstream's signed-subscribe
archetype; what is here is Binance's request, reply and event shapes, and the signed REST requests that read the
account after every gap.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from userstream import (
    AccountEvent,
    AccountSnapshot,
    FrameKind,
    OrderUpdate,
    OutgoingMessage,
    SnapshotScope,
    StreamTimings,
)
from userstream.archetypes.signed_subscribe import ReplyVerdict, SignedSubscribeDataSource

from binance import binance_constants as CONSTANTS
from binance.binance_account import parse_order, parse_push, parse_snapshot
from binance.binance_auth import BinanceAuth


class BinanceAPIUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_API_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    MAX_CONNECTION_AGE: ClassVar[float | None] = CONSTANTS.MAX_CONNECTION_AGE
    CHANNELS: ClassVar[Sequence[str]] = (CONSTANTS.USER_DATA_SUBSCRIBE_METHOD,)
    REPLY_ID_FIELD: ClassVar[str | None] = "id"
    # The signed subscribe is the whole handshake: Binance's "status": 200 reply is the login's ack.
    SIGNED_REQUEST_IS_LOGIN: ClassVar[bool] = True
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    CLOCK_SKEW_CODES: ClassVar[frozenset[Any]] = CONSTANTS.CLOCK_SKEW_CODES

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        assert isinstance(self.auth, BinanceAuth)
        return {"id": request_id, "method": channel, "params": self.auth.signed_params()}

    def classify(self, message: Any) -> FrameKind:
        # The subscription's events first: they are nearly every frame, and no reply carries a top-level
        # "subscriptionId" (a reply nests it in "result"), so asking this first cannot mistake a reply for one.
        if self.is_stream_end(message):
            return FrameKind.RECONNECT
        if self.is_user_message(message):
            return FrameKind.USER_MESSAGE
        # A connection event: the server is about to shut down and goes on delivering until it does.
        if "subscriptionId" not in message and message.get("event", {}).get("e") == CONSTANTS.SERVER_SHUTDOWN_EVENT:
            return FrameKind.CLOSING_SOON
        return super().classify(message)

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if "status" not in message or "id" not in message:
            return None
        return ReplyVerdict.ACCEPTED if message["status"] == 200 else ReplyVerdict.REJECTED

    def rejection_code(self, message: Any) -> Any:
        return message["error"]["code"]

    def rejection_text(self, message: Any) -> str:
        if "error" in message:
            return str(message["error"]["msg"])
        event = message["event"]
        if event["e"] == CONSTANTS.SERVER_SHUTDOWN_EVENT:
            return f"server shutdown announced at {event['E']}"
        return f"event stream terminated at {event['E']}"

    def is_user_message(self, message: Any) -> bool:
        # Events arrive wrapped: the subscription's id, and the event itself (typed by "e") in "event".
        return "subscriptionId" in message and isinstance(message["event"]["e"], str)

    def is_stream_end(self, message: Any) -> bool:
        return "subscriptionId" in message and message["event"]["e"] == CONSTANTS.STREAM_TERMINATED_EVENT

    def is_clock_skew(self, reply: Any) -> bool:
        # A REST refusal is {"code": -1021, "msg": ...}; a WebSocket one nests the same in "error".
        if isinstance(reply, Mapping) and reply.get("code") in self.CLOCK_SKEW_CODES:
            return True
        return super().is_clock_skew(reply)

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        return parse_push(message)

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        account = await self.rest_request(
            "GET", CONSTANTS.ACCOUNT_PATH, params={"omitZeroBalances": "true"}, signed=True
        )
        open_orders = await self.rest_request("GET", CONSTANTS.OPEN_ORDERS_PATH, signed=True)  # every symbol
        # The history endpoints take one symbol at a time: those the account is known to trade, and the open orders'.
        symbols = sorted(scope.symbols | {row["symbol"] for row in open_orders})
        window = CONSTANTS.FIRST_SNAPSHOT_WINDOW if scope.since is None else CONSTANTS.HISTORY_WINDOW
        start_ms = scope.history_start_ms(window)
        # By creation time: an order placed before the gap and finished within it was open before, so it is
        # looked up on its own if this history does not list it.
        all_orders: list[Any] = []
        for symbol in symbols:
            all_orders += await self._pages(CONSTANTS.ALL_ORDERS_PATH, symbol, start_ms, "orderId", "orderId")
        # The fills last: then every fill of an order the replies above show finished is among them.
        trades: list[Any] = []
        for symbol in symbols:
            trades += await self._pages(CONSTANTS.MY_TRADES_PATH, symbol, start_ms, "fromId", "id")
        return parse_snapshot(account, open_orders, all_orders, trades)

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        params = {"symbol": order.symbol, "orderId": order.exchange_order_id}
        return parse_order(await self.rest_request("GET", CONSTANTS.ORDER_PATH, params=params, signed=True))

    async def _pages(self, path: str, symbol: str, start_ms: int, cursor: str, row_id: str) -> list[Any]:
        """Every row of one symbol's history from ``start_ms`` on, oldest first: the first page from that time, each
        next one from the id after the last row's (``cursor``), until a page shorter than asked."""
        params = {"symbol": symbol, "startTime": str(start_ms)}
        rows: list[Any] = []
        while True:
            page = await self.rest_request(
                "GET", path, params={**params, "limit": str(CONSTANTS.PAGE_LIMIT)}, signed=True
            )
            rows += page
            if len(page) < CONSTANTS.PAGE_LIMIT:
                return rows
            params = {"symbol": symbol, cursor: str(int(page[-1][row_id]) + 1)}
