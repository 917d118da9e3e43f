"""Kraken's spot private user stream (WebSocket API v2): a token minted over REST, in each subscribe.

The token per connection, its single-flight fetch and reconnects come from userstream's REST-token
archetype; what is here is Kraken's message shapes, and the REST requests that read the account after
every gap. Kraken's token must be used within 15 minutes of minting and then lasts as long as the
connection; the connection has no documented lifetime, and Kraken announces no close in advance (its
``status`` channel reports maintenance, when the engine stops matching), so there is nothing to hand over.
"""

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

from userstream import (
    AccountEvent,
    AccountSnapshot,
    AuthenticationError,
    FrameKind,
    OrderUpdate,
    OutgoingMessage,
    RestError,
    SnapshotScope,
    StreamTimings,
)
from userstream.archetypes.rest_token import RestTokenDataSource, TokenGrant

from kraken import kraken_constants as CONSTANTS
from kraken.kraken_account import (
    KnownOrder,
    KrakenNames,
    UnknownName,
    parse_push,
    parse_rest_order,
    parse_snapshot,
    result_of,
)
from kraken.kraken_auth import KrakenAuth


class KrakenAPIUserStreamDataSource(RestTokenDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    TOKEN_PATH: ClassVar[str] = CONSTANTS.TOKEN_PATH

    def configure(self) -> None:
        super().configure()
        if not isinstance(self.auth, KrakenAuth):
            raise TypeError(
                f"{type(self).__name__} signs its token call with KrakenAuth, which keeps the nonce Kraken checks"
            )
        self._kraken_auth = self.auth
        self._req_ids = itertools.count(1)
        self._signing = asyncio.Lock()
        self._names: KrakenNames | None = None
        self._orders: dict[str, KnownOrder] = {}
        """What the stream and the REST listings told of each open order (`KnownOrder`), by order id."""
        self._unavailable: dict[str, Decimal] = {}
        """Per asset, what the last snapshot showed of the balance as not available (held for orders)."""

    def parse_token_reply(self, reply: Any) -> TokenGrant:
        # Kraken answers errors with HTTP 200 and says what went wrong in "error".
        errors = reply.get("error") or []
        if any(error.startswith(CONSTANTS.KEY_ERROR_PREFIXES) for error in errors):
            raise AuthenticationError(", ".join(errors))
        if errors:
            raise RestError("POST", self.TOKEN_PATH, 200, reply)
        result = reply["result"]
        return TokenGrant(token=result["token"], expires_in=float(result["expires"]))

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        # The token goes in every subscribe: the connection itself is anonymous.
        return [
            {"method": "subscribe", "params": {"channel": channel, "token": self.token, **options}, **self._req_id()}
            for channel, options in CONSTANTS.SUBSCRIPTIONS.items()
        ]

    def ping_message(self) -> OutgoingMessage | None:
        return {"method": "ping", **self._req_id()}

    def classify(self, message: Any) -> FrameKind:
        if not isinstance(message, dict):
            return FrameKind.MALFORMED
        channel = message.get("channel")
        if channel in CONSTANTS.SUBSCRIPTIONS:
            return FrameKind.USER_MESSAGE
        if channel in CONSTANTS.CONTROL_CHANNELS:
            return FrameKind.CONTROL
        method = message.get("method")
        if method == "subscribe":
            # A refusal may leave out "result"; a success is only ever a true "success".
            return FrameKind.SUBSCRIBED if message.get("success") is True else FrameKind.SUBSCRIBE_REJECTED
        if method == "pong":
            return FrameKind.CONTROL
        return FrameKind.MALFORMED

    def describe_rejection(self, message: Any) -> str:
        if isinstance(message, dict) and isinstance(message.get("error"), str):
            return self.quote(message["error"], 300)
        return super().describe_rejection(message)

    def parse_account_events(self, message: Any) -> Sequence[AccountEvent]:
        return parse_push(message, self._orders, self.account.order, self._unavailable)

    async def rest_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = False,
    ) -> Any:
        if not signed:
            return await super().rest_request(method, path, params=params, body=body, headers=headers)
        # Kraken refuses a nonce not above the last one it saw from this key, so calls that overlap (the token
        # call of a reconnect, a snapshot) would refuse each other: each is stamped only when its turn comes.
        async with self._signing:
            return await super().rest_request(
                method,
                path,
                params=params,
                body=self._kraken_auth.form_with_nonce(body),
                headers={"Content-Type": CONSTANTS.FORM_CONTENT_TYPE, **(headers or {})},
                signed=True,
            )

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> AccountSnapshot:
        # Every order and trade of every pair comes in each reply: no symbol needs asking for.
        balances = result_of(await self.rest_request("POST", CONSTANTS.BALANCE_PATH, signed=True))
        opened = result_of(await self.rest_request("POST", CONSTANTS.OPEN_ORDERS_PATH, body="trades=true", signed=True))
        start = scope.since if scope.since is not None else scope.taken_at - CONSTANTS.FIRST_HISTORY
        window = {"start": str(int(start))}
        closed = await self._pages(CONSTANTS.CLOSED_ORDERS_PATH, "closed", {**window, "closetime": "close"})
        # The trades last: then every fill of an order the replies above show finished is among them.
        trades = await self._pages(CONSTANTS.TRADES_PATH, "trades", {**window, "consolidate_taker": "false"})
        try:
            snapshot = parse_snapshot(balances, opened["open"], closed, trades, await self._known_names(), self._orders)
        except UnknownName:  # listed since the tables were read: read them again
            snapshot = parse_snapshot(balances, opened["open"], closed, trades, await self._read_names(), self._orders)
        self._unavailable = {asset: balance.total - balance.available for asset, balance in snapshot.balances.items()}
        return snapshot

    async def fetch_order(self, order: OrderUpdate) -> OrderUpdate:
        body = urlencode({"txid": order.exchange_order_id, "trades": "true"})
        reply = await self.rest_request("POST", CONSTANTS.QUERY_ORDERS_PATH, body=body, signed=True)
        [(txid, row)] = result_of(reply).items()
        try:
            return parse_rest_order(txid, row, await self._known_names(), self._orders)
        except UnknownName:
            return parse_rest_order(txid, row, await self._read_names(), self._orders)

    def _req_id(self) -> dict[str, int]:
        """A request's ``req_id``, which Kraken echoes in its answer: counted per data source."""
        return {"req_id": next(self._req_ids)}

    async def _pages(self, path: str, key: str, fields: Mapping[str, str]) -> dict[str, Any]:
        """Every row of a newest-first history, page after page (``ofs``), by txid: one listed twice (a row
        that arrived meanwhile moves the others down a place) is kept once."""
        rows: dict[str, Any] = {}
        offset = 0
        while True:
            form = urlencode({**fields, "ofs": offset})
            page = result_of(await self.rest_request("POST", path, body=form, signed=True))[key]
            rows.update(page)
            offset += len(page)
            if len(page) < CONSTANTS.PAGE_SIZE:
                return rows

    async def _known_names(self) -> KrakenNames:
        return self._names or await self._read_names()

    async def _read_names(self) -> KrakenNames:
        """Kraken's public Assets and AssetPairs tables, as `KrakenNames`."""
        assets = result_of(await self.rest_request("GET", CONSTANTS.ASSETS_PATH))
        pairs = result_of(await self.rest_request("GET", CONSTANTS.ASSET_PAIRS_PATH))
        self._names = KrakenNames(assets, pairs)
        return self._names
