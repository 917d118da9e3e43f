"""OKX v5's private user stream: log in with a signed message, subscribe to orders and account, ping with text.

The I/O loop, reconnects, clock-skew retries, phase-aware error handling and the make-before-break
handover after OKX's service-upgrade notice come from userstream's login-message archetype; what is here
is OKX's message shapes, and the REST requests that read the account after every gap.
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
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin

from okx import okx_constants as CONSTANTS
from okx.okx_account import data_of, parse_order, parse_push, parse_snapshot


class OkxAPIUserStreamDataSource(LoginMessageDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    LOGIN_SIGNATURE: ClassVar[LoginSignature] = LoginSignature(
        CONSTANTS.LOGIN_PREHASH, timestamp_unit="s", encoding="base64", requires_passphrase=True
    )
    SUBSCRIPTIONS: ClassVar[Sequence[Any]] = CONSTANTS.SUBSCRIPTIONS
    ACK_PER_ARG: ClassVar[bool] = True
    PING: ClassVar[OutgoingMessage | None] = "ping"
    TEXT_FRAMES: ClassVar[frozenset[str]] = frozenset({"pong"})
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    CLOCK_SKEW_CODES: ClassVar[frozenset[str]] = CONSTANTS.CLOCK_SKEW_CODES

    def login_message(self, login: SignedLogin) -> OutgoingMessage:
        arg = {"apiKey": login.api_key, "passphrase": login.passphrase, "timestamp": str(login.timestamp)}
        return {"op": "login", "args": [{**arg, "sign": login.signature}]}

    def subscribe_message(self, args: Sequence[Any]) -> OutgoingMessage:
        return {"op": "subscribe", "args": list(args)}

    def classify_reply(self, message: Any) -> FrameKind:
        if "arg" in message and "data" in message:
            return FrameKind.USER_MESSAGE
        event = message.get("event")
        if event == "login":
            return FrameKind.AUTH_OK if message.get("code") == "0" else FrameKind.AUTH_REJECTED
        if event == "subscribe":
            return FrameKind.SUBSCRIBED
        if event == "error":
            return FrameKind.AUTH_REJECTED  # the archetype tells login, subscribe and mid-stream errors apart
        if event == "notice":
            # 64008: a service upgrade closes the connection soon; OKX goes on delivering on it until then.
            return (
                FrameKind.CLOSING_SOON if message.get("code") == CONSTANTS.SERVICE_UPGRADE_CODE else FrameKind.CONTROL
            )
        if event == "channel-conn-count":
            return FrameKind.CONTROL
        if event == "channel-conn-count-error":
            return FrameKind.RECONNECT  # OKX dropped this subscription (too many connections): start over
        return FrameKind.MALFORMED

    def parse_server_time(self, body: Any) -> float:
        return int(body["data"][0]["ts"]) / 1000

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        return parse_push(message)

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        spot = {"instType": CONSTANTS.INST_TYPE}
        balances = data_of(await self.rest_request("GET", CONSTANTS.BALANCE_PATH, signed=True))
        open_orders = await self._pages(CONSTANTS.OPEN_ORDERS_PATH, spot, "ordId")
        # The first snapshot reads the recent endpoints' window; a longer gap, the archives (3 months at most).
        start = scope.history_start(CONSTANTS.FILLS_WINDOW if scope.since is None else CONSTANTS.ARCHIVE_WINDOW)
        start_ms = int(start * 1000)
        recent_orders = start >= scope.taken_at - CONSTANTS.ORDER_HISTORY_WINDOW
        history = CONSTANTS.ORDER_HISTORY_PATH if recent_orders else CONSTANTS.ORDER_HISTORY_ARCHIVE_PATH
        # Newest first: the pages stop at the first order placed before the gap. One placed earlier and finished
        # within it was open before, so it is looked up on its own if this history does not list it.
        closed_orders = await self._pages(history, spot, "ordId", placed_since_ms=start_ms)
        # The fills last: then every fill of an order the replies above show finished is among them.
        fills_path = (
            CONSTANTS.FILLS_PATH if start >= scope.taken_at - CONSTANTS.FILLS_WINDOW else CONSTANTS.FILLS_HISTORY_PATH
        )
        fills = await self._pages(fills_path, {**spot, "begin": str(start_ms)}, "billId")
        return parse_snapshot(balances, open_orders, closed_orders, fills)

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        params = {"instId": order.symbol, "ordId": order.exchange_order_id}
        [row] = data_of(await self.rest_request("GET", CONSTANTS.ORDER_PATH, params=params, signed=True))
        return parse_order(row)

    async def _pages(
        self, path: str, params: Mapping[str, str], cursor: str, *, placed_since_ms: int | None = None
    ) -> list[Any]:
        """Every row of a newest-first list endpoint, page after page (``after`` the last row's ``cursor``)."""
        rows: list[Any] = []
        while True:
            page_params = {**params, "limit": str(CONSTANTS.PAGE_LIMIT)}
            if rows:
                page_params["after"] = rows[-1][cursor]
            page = data_of(await self.rest_request("GET", path, params=page_params, signed=True))
            rows += page
            if len(page) < CONSTANTS.PAGE_LIMIT:
                return rows
            if placed_since_ms is not None and int(page[-1]["cTime"]) < placed_since_ms:
                return rows
