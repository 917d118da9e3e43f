"""Gate spot v4's private user stream: one signed subscribe per channel, pinged with ``spot.ping``.

The I/O loop, reconnects, reply matching and the make-before-break handover after Gate's ``spot.system`` notice come
from userstream's signed-subscribe archetype; what is here is Gate's request, reply and update shapes, and the REST
requests that read the account after every gap.
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

from gate_io import gate_io_constants as CONSTANTS
from gate_io.gate_io_account import parse_order, parse_push, parse_snapshot
from gate_io.gate_io_auth import GateIoAuth


class GateIoAPIUserStreamDataSource(SignedSubscribeDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    CHANNELS: ClassVar[Sequence[str]] = CONSTANTS.PRIVATE_CHANNELS
    REPLY_ID_FIELD: ClassVar[str | None] = "id"
    AUTH_ERROR_CODES: ClassVar[frozenset[Any] | None] = CONSTANTS.AUTH_ERROR_CODES
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH

    def signed_subscribe(self, channel: str, request_id: int) -> OutgoingMessage:
        assert isinstance(self.auth, GateIoAuth)
        timestamp = self.auth.timestamp_s()
        event = CONSTANTS.SUBSCRIBE_EVENT
        request: dict[str, Any] = {"time": timestamp, "id": request_id, "channel": channel, "event": event}
        if channel in CONSTANTS.CHANNEL_PAYLOADS:
            request["payload"] = list(CONSTANTS.CHANNEL_PAYLOADS[channel])
        request["auth"] = self.auth.channel_auth(channel, event, timestamp)
        return request

    def ping_message(self) -> OutgoingMessage | None:
        assert self.auth is not None
        return {"time": self.auth.timestamp_s(), "channel": CONSTANTS.PING_CHANNEL}

    def classify(self, message: Any) -> FrameKind:
        if message.get("channel") == CONSTANTS.SYSTEM_CHANNEL and message.get("event") == CONSTANTS.UPDATE_EVENT:
            return FrameKind.CLOSING_SOON
        return super().classify(message)

    def reply_verdict(self, message: Any) -> ReplyVerdict | None:
        if message.get("event") != CONSTANTS.SUBSCRIBE_EVENT:
            return None
        return ReplyVerdict.REJECTED if message.get("error") else ReplyVerdict.ACCEPTED

    def rejection_code(self, message: Any) -> Any:
        return message["error"]["code"]

    def rejection_text(self, message: Any) -> str:
        if message.get("channel") == CONSTANTS.SYSTEM_CHANNEL:
            return f"{message['channel']}: {message['result']['msg']}"
        return f"{message['channel']}: {message['error']['message']}"

    def is_user_message(self, message: Any) -> bool:
        return message.get("event") == CONSTANTS.UPDATE_EVENT and message.get("channel") in self.CHANNELS

    def is_control(self, message: Any) -> bool:
        channel: str | None = message.get("channel")
        return channel == CONSTANTS.PONG_CHANNEL

    def is_clock_skew(self, reply: Any) -> bool:
        if isinstance(reply, Mapping) and reply.get("label") == CONSTANTS.CLOCK_SKEW_LABEL:
            return True  # a REST refusal; Gate's WebSocket refuses a skewed time as it refuses a wrong key
        return super().is_clock_skew(reply)

    def parse_server_time(self, body: Any) -> float:
        return int(body["server_time"]) / 1000

    def parse_account_events(self, message: Any) -> list[AccountEvent]:
        return parse_push(message)

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        accounts = await self._signed(CONSTANTS.ACCOUNTS_PATH)
        open_orders = await self._open_order_pages()
        start, end = history_range(scope)
        # Finished orders are listed one currency pair at a time: those the account is known to trade, and those
        # of the open orders just read. Each list is read by end time, so an order placed before the gap is in it.
        pairs = scope.symbols | {group["currency_pair"] for group in open_orders}
        finished: list[Any] = []
        for pair in sorted(pairs):
            of_pair = {"currency_pair": pair, "status": "finished", "from": start, "to": end}
            finished += await self._pages(CONSTANTS.ORDERS_PATH, of_pair, CONSTANTS.FINISHED_ORDERS_LIMIT)
        # The fills last, of every pair at once: then every fill of an order the replies above show finished is here.
        trades: list[Any] = []
        query: Mapping[str, Any] | None = {"from": start, "to": end, "page": 1}
        while query is not None:
            page = await self._signed(CONSTANTS.MY_TRADES_PATH, {**query, "limit": CONSTANTS.TRADES_LIMIT})
            trades += page
            query = next_trades_query(query, page)
        return parse_snapshot(accounts, open_orders, finished, trades)

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        path = f"{CONSTANTS.ORDERS_PATH}/{order.exchange_order_id}"
        return parse_order(await self._signed(path, {"currency_pair": order.symbol}))

    async def _signed(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.rest_request("GET", path, params=params, signed=True)

    async def _open_order_pages(self) -> list[Any]:
        """Every page of the open orders: each page holds up to ``limit`` of each currency pair's orders."""
        groups: list[Any] = []
        page = 1
        while True:
            reply = await self._signed(CONSTANTS.OPEN_ORDERS_PATH, {"page": page, "limit": CONSTANTS.OPEN_ORDERS_LIMIT})
            groups += reply
            if all(len(group["orders"]) < CONSTANTS.OPEN_ORDERS_LIMIT for group in reply):
                return groups
            page += 1

    async def _pages(self, path: str, query: Mapping[str, Any], limit: int) -> list[Any]:
        """Every row of a list endpoint, page after page until one holds fewer than ``limit``."""
        rows: list[Any] = []
        page = 1
        while True:
            reply = await self._signed(path, {**query, "page": page, "limit": limit})
            rows += reply
            if len(reply) < limit:
                return rows
            page += 1


def history_range(scope: SnapshotScope) -> tuple[int, int]:
    """The ``from`` and ``to`` (seconds) history is read between: from the gap's start (the first snapshot: the last
    7 days) to a little after now, at most Gate's 30 days apart. ``to`` allows for Gate's clock running ahead."""
    end = int(scope.taken_at) + CONSTANTS.CLOCK_TOLERANCE
    window = CONSTANTS.RECENT_WINDOW if scope.since is None else CONSTANTS.HISTORY_RANGE
    return max(int(scope.history_start(window)), end - CONSTANTS.HISTORY_RANGE), end


def next_trades_query(query: Mapping[str, Any], page: list[Any]) -> Mapping[str, Any] | None:
    """The query for the trades after ``page`` (newest first), or None when it was the last.

    Gate pages only ``TRADES_MAX_OFFSET`` rows deep: past that, the range is cut at the oldest second read and
    paged again from its start (that second's rows come twice, and count once).
    """
    if len(page) < CONSTANTS.TRADES_LIMIT:
        return None
    if CONSTANTS.TRADES_LIMIT * query["page"] <= CONSTANTS.TRADES_MAX_OFFSET:
        return {**query, "page": query["page"] + 1}
    oldest = min(int(row["create_time"]) for row in page)
    if oldest >= query["to"]:
        raise RuntimeError(f"Gate lists more fills within the second {oldest} than it pages through")
    return {**query, "to": oldest, "page": 1}
