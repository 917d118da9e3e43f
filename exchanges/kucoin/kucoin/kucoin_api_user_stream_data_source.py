"""KuCoin's spot private user stream: mint a token over REST, connect where it says, subscribe to orders and balances.

The token per connection, its single-flight fetch, reconnects and clock-skew retries come from userstream's
REST-token archetype; the make-before-break handover before KuCoin's 24-hour connection limit from the data source;
what is here is KuCoin's message shapes, and the REST requests that read the spot account after every gap.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from userstream import (
    AccountEvent,
    AccountSnapshot,
    AuthenticationError,
    FrameKind,
    OrderUpdate,
    OutgoingMessage,
    SnapshotScope,
    StreamTimings,
)
from userstream.archetypes.rest_token import RestTokenDataSource, TokenGrant

from kucoin import kucoin_constants as CONSTANTS
from kucoin.kucoin_account import data_of, parse_order, parse_push, parse_snapshot


class KucoinAPIUserStreamDataSource(RestTokenDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    AWAIT_READY: ClassVar[bool] = True  # a connection may be used only after KuCoin's welcome
    TOKEN_PATH: ClassVar[str] = CONSTANTS.TOKEN_PATH
    TOKEN_QUERY_PARAM: ClassVar[str | None] = "token"
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
    MAX_CONNECTION_AGE: ClassVar[float | None] = CONSTANTS.MAX_CONNECTION_AGE

    def configure(self) -> None:
        super().configure()
        if self.auth is None or not self.auth.passphrase:
            raise ValueError(
                f"{type(self).__name__} signs its token call with the key's passphrase: "
                "KucoinAuth(api_key, secret, passphrase)"
            )

    def parse_token_reply(self, reply: Any) -> TokenGrant:
        if reply.get("code") != CONSTANTS.SUCCESS_CODE:
            raise AuthenticationError(self.describe_token_error(reply))
        data = reply["data"]
        server = data["instanceServers"][0]
        return TokenGrant(token=data["token"], endpoint=server["endpoint"], ping_interval=server["pingInterval"] / 1000)

    def describe_token_error(self, body: Any) -> str:
        if isinstance(body, dict) and "msg" in body:
            return f"{body['msg']} (code {body.get('code')})"
        return super().describe_token_error(body)

    def is_clock_skew(self, reply: Any) -> bool:
        return isinstance(reply, dict) and reply.get("code") == CONSTANTS.CLOCK_SKEW_CODE

    def parse_server_time(self, body: Any) -> float:
        return float(body["data"]) / 1000

    def connection_query(self) -> Mapping[str, str]:
        # KuCoin echoes the connectId in its welcome and errors: one per connection tells them apart.
        return {"connectId": uuid.uuid4().hex}

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        # privateChannel: only this account's messages; response: acknowledge each subscribe.
        return [
            {"id": uuid.uuid4().hex, "type": "subscribe", "topic": topic, "privateChannel": True, "response": True}
            for topic in CONSTANTS.TOPICS
        ]

    def ping_message(self) -> OutgoingMessage | None:
        return {"id": uuid.uuid4().hex, "type": "ping"}

    def classify(self, message: Any) -> FrameKind:
        # KuCoin announces no close: its connections end after 24 hours (MAX_CONNECTION_AGE hands over before).
        kind = message.get("type")
        if kind == "message":
            return FrameKind.USER_MESSAGE
        if kind == "ack":
            return FrameKind.SUBSCRIBED
        if kind == "welcome":
            return FrameKind.READY
        if kind == "pong":
            return FrameKind.CONTROL
        if kind == "error":
            if message.get("code") == CONSTANTS.TOKEN_INVALID_CODE:
                return FrameKind.RECONNECT
            return FrameKind.SUBSCRIBE_REJECTED
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        return f"{message.get('data')} (code {message.get('code')})"

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        return parse_push(message)

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        accounts = await self._get(CONSTANTS.ACCOUNTS_PATH, {"type": CONSTANTS.ACCOUNT_TYPE})
        open_symbols: list[str] = (await self._get(CONSTANTS.OPEN_ORDER_SYMBOLS_PATH))["symbols"]
        open_orders: list[Any] = []
        for symbol in sorted(open_symbols):
            open_orders += await self._get(CONSTANTS.OPEN_ORDERS_PATH, {"symbol": symbol})
        # The history takes one symbol a request: those the account is known to trade, and those with open orders.
        symbols = sorted(scope.symbols | set(open_symbols))
        start = str(scope.history_start_ms(CONSTANTS.HISTORY_WINDOW))
        closed_orders: list[Any] = []
        for symbol in symbols:
            closed_orders += await self._pages(CONSTANTS.CLOSED_ORDERS_PATH, symbol, start)
        # The fills last: then every fill of an order the replies above show finished is among them.
        fills: list[Any] = []
        for symbol in symbols:
            fills += await self._pages(CONSTANTS.FILLS_PATH, symbol, start)
        return parse_snapshot(accounts, open_orders, closed_orders, fills)

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        path = CONSTANTS.ORDER_PATH.format(order_id=order.exchange_order_id)
        return parse_order(await self._get(path, {"symbol": order.symbol}))

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return data_of(await self.rest_request("GET", path, params=params, signed=True))

    async def _pages(self, path: str, symbol: str, start_ms: str) -> list[Any]:
        """Every row of a newest-first history endpoint for ``symbol`` since ``start_ms``, page after page."""
        rows: list[Any] = []
        params = {"symbol": symbol, "startAt": start_ms, "limit": str(CONSTANTS.PAGE_LIMIT)}
        while True:
            page = await self._get(path, params)
            rows += page["items"]
            if len(page["items"]) < CONSTANTS.PAGE_LIMIT:
                return rows
            params = {**params, "lastId": str(page["lastId"])}
