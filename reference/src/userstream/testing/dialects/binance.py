"""Binance spot's WebSocket API user data stream (2026), as the fake exchange speaks it.

=====================  =====================================================================================
endpoint               ``wss://ws-api.binance.com:443/ws-api/v3`` (the fake serves ``<ws_url>/ws-api/v3``)
client subscribe       ``{"id", "method": "userDataStream.subscribe.signature",
                       "params": {"apiKey", "timestamp", "signature"[, "recvWindow"]}}``; ``signature`` =
                       hex HMAC-SHA256(secret, params sorted by key as ``k=v`` joined by ``&``, less signature)
accepted               ``{"id", "status": 200, "result": {"subscriptionId": 0}}``
rejected               ``{"id", "status": 400, "error": {"code": -1022, "msg": ...}}``: -1022 bad signature,
                       -1021 timestamp outside ``recvWindow`` (default 5000 ms) or over 1000 ms ahead,
                       -2015 unknown API key
events                 ``{"subscriptionId": 0, "event": {"e": "executionReport" | "outboundAccountPosition" |
                       "balanceUpdate", ...}}``
end of subscription    ``{"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": ms}}``
keepalive              WebSocket protocol ping/pong; also ``{"id", "method": "ping"}`` → ``{"id", "status": 200,
                       "result": {}}``
announced close        ``{"event": {"e": "serverShutdown", "E": ms}}`` (no ``subscriptionId``): the server is about
                       to shut down; the connection still delivers until it closes ("Connection events")
lifetime               a connection is valid for 24 hours at most
time                   ``GET /api/v3/time`` → ``{"serverTime": ms}``
account                signed REST (`BinanceAccount`): ``/api/v3/account``, ``openOrders``, ``allOrders``,
                       ``myTrades``, ``order``
=====================  =====================================================================================

The signed subscribe is the whole handshake, so the fake treats it as the login: `FakeExchange.reject_next_login`
injects a rejection (pass one of the messages below to pick its code) and a connection counts as subscribed once
``authenticated``.

Modelled on Binance's spot API documentation (github.com/binance/binance-spot-api-docs): ``web-socket-api.md``
("General API Information", "Connection events", "User Data Stream requests"), ``user-data-stream.md``,
``rest-api.md`` ("Request Security", "Timing security", "SIGNED Endpoint Examples", "Account Endpoints") and
``errors.md``.
"""

from __future__ import annotations

import hmac
import itertools
import secrets
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from userstream.events import OrderStatus
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import Connection, FakeExchange, RestRequest, RestResponse, TimeEndpoint
from userstream.testing.ledger import BalanceChanged, Change, Ledger, LedgerBalance, LedgerFill, LedgerOrder

SUBSCRIBE_METHOD = "userDataStream.subscribe.signature"
WS_API_PATH_SUFFIX = "/ws-api/v3"
SERVER_TIME_PATH = "/api/v3/time"

INVALID_SIGNATURE = "Signature for this request is not valid."
TIMESTAMP_OUTSIDE_RECV_WINDOW = "Timestamp for this request is outside of the recvWindow."
INVALID_API_KEY = "Invalid API-key, IP, or permissions for action."
ERROR_CODES = {INVALID_SIGNATURE: -1022, TIMESTAMP_OUTSIDE_RECV_WINDOW: -1021, INVALID_API_KEY: -2015}
"""Binance's error codes by message (errors.md); a rejection with another message gets -1022."""


def signature_payload(params: Mapping[str, Any]) -> str:
    """What Binance signs: every parameter but ``signature``, sorted by key, as ``k=v`` joined by ``&``."""
    return "&".join(f"{key}={params[key]}" for key in sorted(params) if key != "signature")


class BinanceSpotWsApiDialect(Dialect):
    """The exchange side of ``userDataStream.subscribe.signature``; see the module docstring."""

    requires_login = True
    RECV_WINDOW_MS = 5_000
    MAX_AHEAD_MS = 1_000
    SUBSCRIPTION_ID = 0

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        if not path.endswith(WS_API_PATH_SUFFIX):
            return f"no WebSocket API at {path}; connect to {WS_API_PATH_SUFFIX}"
        return None

    def classify_client(self, message: Any) -> ClientIntent:
        method = message.get("method") if isinstance(message, dict) else None
        if method == SUBSCRIBE_METHOD:
            return ClientIntent.LOGIN
        if method == "ping":  # the WebSocket API's own ping request
            return ClientIntent.PING
        return ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        params = message.get("params")
        if not isinstance(params, dict) or not {"apiKey", "timestamp", "signature"} <= params.keys():
            return INVALID_SIGNATURE
        if params["apiKey"] != credentials.api_key:
            return INVALID_API_KEY
        timestamp, recv_window = params["timestamp"], params.get("recvWindow", self.RECV_WINDOW_MS)
        if not isinstance(timestamp, int) or not isinstance(recv_window, int | float):
            return INVALID_SIGNATURE
        server_ms = server_time * 1000
        if timestamp < server_ms - recv_window or timestamp > server_ms + self.MAX_AHEAD_MS:
            return TIMESTAMP_OUTSIDE_RECV_WINDOW
        expected = hmac.new(credentials.secret.encode(), signature_payload(params).encode(), "sha256").hexdigest()
        if not hmac.compare_digest(str(params["signature"]), expected):
            return INVALID_SIGNATURE
        return None

    def login_ack(self, message: Any) -> Any:
        return {"id": message.get("id"), "status": 200, "result": {"subscriptionId": self.SUBSCRIPTION_ID}}

    def login_rejection(self, message: Any, reason: str) -> Any:
        request_id = message.get("id") if isinstance(message, dict) else None
        code = ERROR_CODES.get(reason, -1022)
        return {"id": request_id, "status": 400, "error": {"code": code, "msg": reason}}

    def subscribe_replies(self, message: Any) -> list[Any]:
        return []  # the signed subscribe is classified as the login

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return self.login_rejection(message, reason)

    def pong(self, message: Any) -> Any:
        return {"id": message.get("id"), "status": 200, "result": {}}

    def heartbeat(self) -> Any:
        raise NotImplementedError("Binance sends no app-level heartbeat: it pings at the WebSocket protocol level")

    def user_event(self, channel: str, data: Any) -> Any:
        return {"subscriptionId": self.SUBSCRIPTION_ID, "event": data}


# --- REST routes and state --------------------------------------------------------------------------------------


@dataclass
class BinanceState:
    """What a test can see and script on a fake Binance."""

    exchange: FakeExchange
    time: TimeEndpoint

    def authenticated_connections(self) -> list[Connection]:
        """Connections whose signed subscribe was accepted: Binance's "subscribed"."""
        return [c for c in self.exchange.connections if c.authenticated]

    async def terminate_streams(self) -> int:
        """End the subscription on every open connection, as Binance does (``eventStreamTerminated``)."""
        return await self.exchange.push(event_stream_terminated())


def install(exchange: FakeExchange) -> BinanceState:
    """Register Binance's REST routes on ``exchange`` (its time endpoint; the signed subscribe needs no other)."""
    time = exchange.serve_time(
        SERVER_TIME_PATH,
        reply=lambda now: {"serverTime": int(now * 1000)},
        error=lambda now: {"code": -1001, "msg": "Internal error; unable to process your request."},
    )
    return BinanceState(exchange, time)


# --- user events with Binance's real shapes (the ``event`` of a wrapped frame) ------------------------------------


def execution_report(
    *,
    symbol: str = "BTCUSDT",
    order_id: int = 4293153,
    client_order_id: str = "mUvoqJxFIILMdfAW5iGSOW",
    side: str = "BUY",
    order_type: str = "LIMIT",
    quantity: str = "1.00000000",
    price: str = "0.10264410",
    execution_type: str = "NEW",
    order_status: str = "NEW",
    last_quantity: str = "0.00000000",
    last_price: str = "0.00000000",
    cumulative_quantity: str = "0.00000000",
    cumulative_quote: str = "0.00000000",
    commission: str = "0",
    commission_asset: str | None = None,
    trade_id: int = -1,
    is_maker: bool = False,
) -> dict[str, Any]:
    """An ``executionReport``: an order update, or a fill when ``execution_type`` is ``"TRADE"``."""
    now = _ms()
    return {
        "e": "executionReport",
        "E": now,
        "s": symbol,
        "c": client_order_id,
        "S": side,
        "o": order_type,
        "f": "GTC",
        "q": quantity,
        "p": price,
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": execution_type,
        "X": order_status,
        "r": "NONE",
        "i": order_id,
        "l": last_quantity,
        "z": cumulative_quantity,
        "L": last_price,
        "n": commission,
        "N": commission_asset,
        "T": now,
        "t": trade_id,
        "I": 8641984,
        "w": order_status in ("NEW", "PARTIALLY_FILLED"),
        "m": is_maker,
        "M": False,
        "O": now,
        "Z": cumulative_quote,
        "Y": "0.00000000",
        "Q": "0.00000000",
        "W": now,
        "V": "EXPIRE_MAKER",
    }


def trade_fill(
    *,
    order_id: int = 4293153,
    client_order_id: str = "mUvoqJxFIILMdfAW5iGSOW",
    trade_id: int = 1234,
    quantity: str = "1.00000000",
    price: str = "0.10264410",
    commission: str = "0.00010000",
    commission_asset: str = "BNB",
    side: str = "BUY",
) -> dict[str, Any]:
    """An ``executionReport`` for a complete fill (``x == "TRADE"``, ``X == "FILLED"``)."""
    quote = f"{float(quantity) * float(price):.8f}"
    return execution_report(
        order_id=order_id,
        client_order_id=client_order_id,
        side=side,
        quantity=quantity,
        price=price,
        execution_type="TRADE",
        order_status="FILLED",
        last_quantity=quantity,
        last_price=price,
        cumulative_quantity=quantity,
        cumulative_quote=quote,
        commission=commission,
        commission_asset=commission_asset,
        trade_id=trade_id,
    )


def account_position(balances: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """An ``outboundAccountPosition``: ``balances`` maps asset to ``(free, locked)``."""
    now = _ms()
    return {
        "e": "outboundAccountPosition",
        "E": now,
        "u": now,
        "B": [{"a": asset, "f": free, "l": locked} for asset, (free, locked) in balances.items()],
    }


def balance_update(asset: str = "BTC", delta: str = "100.00000000") -> dict[str, Any]:
    """A ``balanceUpdate`` (deposit, withdrawal or transfer)."""
    now = _ms()
    return {"e": "balanceUpdate", "E": now, "a": asset, "d": delta, "T": now}


def event_stream_terminated() -> dict[str, Any]:
    """The wrapped frame Binance sends when it ends a user data subscription."""
    return {
        "subscriptionId": BinanceSpotWsApiDialect.SUBSCRIPTION_ID,
        "event": {"e": "eventStreamTerminated", "E": _ms()},
    }


def server_shutdown() -> dict[str, Any]:
    """The connection event the WebSocket API sends when its server is about to shut down (no ``subscriptionId``)."""
    return {"event": {"e": "serverShutdown", "E": _ms()}}


def _ms() -> int:
    return int(time.time() * 1000)


# --- the account over signed REST ------------------------------------------------------------------------

ACCOUNT_PATH = "/api/v3/account"
OPEN_ORDERS_PATH = "/api/v3/openOrders"
ALL_ORDERS_PATH = "/api/v3/allOrders"
MY_TRADES_PATH = "/api/v3/myTrades"
ORDER_PATH = "/api/v3/order"
API_KEY_HEADER = "X-MBX-APIKEY"
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
"""``limit`` of ``allOrders`` and ``myTrades``: "Default: 500; Maximum: 1000"."""
MAX_WINDOW_MS = 24 * 3600 * 1000
"""The longest time between ``startTime`` and ``endTime`` both ``allOrders`` and ``myTrades`` accept."""
MAX_RECV_WINDOW_MS = 60_000
ARCHIVED_AFTER_MS = 90 * 24 * 3600 * 1000
"""An order canceled or expired with no executed quantity is archived this long after it ended (-2026)."""
ORDER_NOT_FOUND = (-2013, "Order does not exist.")
ORDER_ARCHIVED = (-2026, "Order was canceled or expired with no executed qty over 90 days ago and has been archived.")
_MY_TRADES_COMBINATIONS = frozenset(
    frozenset(combination)
    for combination in (
        (),
        ("orderId",),
        ("startTime",),
        ("endTime",),
        ("fromId",),
        ("startTime", "endTime"),
        ("orderId", "fromId"),
    )
)
"""The optional parameters ``myTrades`` accepts together; any other combination is refused with -1128."""
_STATUSES = {
    OrderStatus.OPEN: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
}
_REST_ERRORS: Mapping[int, tuple[int, str]] = {
    418: (
        -1003,
        "Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live "
        "updates to avoid bans.",
    ),
    429: (
        -1003,
        "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use "
        "WebSocket Streams for live updates to avoid polling the API.",
    ),
    503: (-1008, "Server is currently overloaded with other requests. Please try again in a few minutes."),
}
_CLIENT_ORDER_ID_ALPHABET = string.ascii_letters + string.digits


def rest_error(code: int, msg: str) -> dict[str, Any]:
    """Binance's REST error body (HTTP 4xx and 5xx): ``{"code": -1022, "msg": ...}``."""
    return {"code": code, "msg": msg}


def refusal(status: int, code: int, msg: str) -> RestResponse:
    return RestResponse(rest_error(code, msg), status)


def rest_signature_payload(query_string: str, body: str = "") -> str:
    """What a SIGNED request's ``signature`` covers: its query string as sent, less ``signature``, then its body."""
    kept = [part for part in query_string.split("&") if part and not part.startswith("signature=")]
    return "&".join(kept) + body


def check_signed_request(request: RestRequest, credentials: Credentials, server_time: float) -> RestResponse | None:
    """Binance's refusal of a SIGNED request (API key, ``timestamp`` within ``recvWindow``, ``signature``), or None."""
    api_key = request.headers.get(API_KEY_HEADER)
    if not api_key:
        return refusal(401, -2014, "API-key format invalid.")
    if api_key != credentials.api_key:
        return refusal(401, -2015, INVALID_API_KEY)
    query = request.query
    for name in ("timestamp", "signature"):
        if not query.get(name):
            return refusal(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    if not query["timestamp"].isdecimal():
        return refusal(400, -1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.")
    try:
        recv_window = float(query.get("recvWindow", BinanceSpotWsApiDialect.RECV_WINDOW_MS))
    except ValueError:
        return refusal(400, -1102, "Mandatory parameter 'recvWindow' was not sent, was empty/null, or malformed.")
    if recv_window > MAX_RECV_WINDOW_MS:
        return refusal(
            400, -1102, f"'recvWindow' contains unexpected value. Cannot be greater than {MAX_RECV_WINDOW_MS}."
        )
    timestamp = int(query["timestamp"])
    timestamp_ms = timestamp / 1000 if timestamp >= 10**15 else timestamp  # microseconds are accepted too
    server_ms = server_time * 1000
    if timestamp_ms >= server_ms + BinanceSpotWsApiDialect.MAX_AHEAD_MS:
        return refusal(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - timestamp_ms > recv_window:
        return refusal(400, -1021, TIMESTAMP_OUTSIDE_RECV_WINDOW)
    payload = rest_signature_payload(request.query_string, request.body)
    expected = hmac.new(credentials.secret.encode(), payload.encode(), "sha256").hexdigest()
    # HMAC signatures are not case-sensitive ("Signature Case Sensitivity").
    if not hmac.compare_digest(query["signature"].lower(), expected):
        return refusal(400, -1022, INVALID_SIGNATURE)
    return None


def made_up_client_order_id() -> str:
    """A client order id as Binance makes one up for an order (or a cancel) sent without: 22 letters and digits."""
    return "".join(secrets.choice(_CLIENT_ORDER_ID_ALPHABET) for _ in range(22))


def _amount(value: Decimal) -> str:
    return f"{value:.8f}"


class BinanceAccount(Ledger):
    """The account on the fake Binance: spot orders, fills and balances, pushed and served as Binance does.

    ===============================  =============================================================================
    ``GET /api/v3/account``          ``{"updateTime", "balances": [{"asset", "free", "locked"}], ...}``;
                                     ``omitZeroBalances=true`` leaves out the assets at zero
    ``GET /api/v3/openOrders``       every open order (of ``symbol`` when given); not paginated
    ``GET /api/v3/allOrders``        ``symbol`` required; oldest first from ``orderId`` (>=) or ``startTime``
                                     (on the order's creation ``time``), else the most recent; ``limit`` ≤ 1000
                                     (default 500); ``startTime``..``endTime`` at most 24 h (-1127); an order
                                     canceled or expired unfilled is archived 90 days after it ended
    ``GET /api/v3/myTrades``         ``symbol`` required; oldest first from ``fromId`` (>=) or ``startTime``, else
                                     the most recent; the documented parameter combinations only (-1128);
                                     ``commission`` positive: what the account paid
    ``GET /api/v3/order``            ``symbol`` and ``orderId`` (or ``origClientOrderId``); HTTP 400 ``{"code":
                                     -2013, "msg": "Order does not exist."}``
    signing                          ``X-MBX-APIKEY``; ``timestamp`` (+ ``recvWindow``, default 5000 ms) and
                                     ``signature`` = hex HMAC-SHA256 of the query string as sent (-1021, -1022,
                                     -2014, -2015)
    pushes                           ``executionReport`` (one per change: NEW, TRADE with the fill, CANCELED with
                                     the cancel's own ``c`` and the order's ``C``), ``outboundAccountPosition``
                                     (the changed asset's free and locked); a deposit is an ``outboundAccountPosition``
                                     (the new balance) and a ``balanceUpdate`` (the amount moved); only to
                                     connections whose subscription was accepted
    ===============================  =============================================================================
    """

    DEFAULT_SYMBOL: ClassVar[str] = "BTCUSDT"
    FIRST_ORDER_ID: ClassVar[int] = 4293153
    FIRST_TRADE_ID: ClassVar[int] = 28457

    def __init__(self, exchange: FakeExchange) -> None:
        super().__init__(exchange)
        self._execution_ids = itertools.count(8641984)

    def client_order_id(self, given: str | None) -> str | None:
        return given or made_up_client_order_id()

    # --- the exchange's shapes ----------------------------------------------------------------------

    def order_json(self, order: LedgerOrder) -> dict[str, Any]:
        """One order as the order endpoints write it."""
        return {
            "symbol": order.symbol,
            "orderId": int(order.order_id),
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "price": _amount(order.price),
            "origQty": _amount(order.amount),
            "executedQty": _amount(order.filled_amount),
            "cummulativeQuoteQty": _amount(order.filled_value),
            "status": _STATUSES[order.status],
            "timeInForce": "GTC",
            "type": order.order_type.upper(),
            "side": order.side.upper(),
            "stopPrice": _amount(Decimal(0)),
            "icebergQty": _amount(Decimal(0)),
            "time": order.created_at,
            "updateTime": order.updated_at,
            "isWorking": True,
            "workingTime": order.created_at,
            "origQuoteOrderQty": _amount(Decimal(0)),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def execution_report(self, order: LedgerOrder, fill: LedgerFill | None) -> dict[str, Any]:
        """The ``executionReport`` of one change of ``order``: placed, executed (``fill``) or canceled."""
        canceled = fill is None and order.status is OrderStatus.CANCELED
        execution_type = "TRADE" if fill is not None else "CANCELED" if canceled else "NEW"
        return {
            "e": "executionReport",
            "E": order.updated_at,
            "s": order.symbol,
            # A cancel is a request of its own, with a client id of its own; the order's is in "C".
            "c": made_up_client_order_id() if canceled else order.client_order_id,
            "S": order.side.upper(),
            "o": order.order_type.upper(),
            "f": "GTC",
            "q": _amount(order.amount),
            "p": _amount(order.price),
            "P": _amount(Decimal(0)),
            "F": _amount(Decimal(0)),
            "g": -1,
            "C": order.client_order_id if canceled else "",
            "x": execution_type,
            "X": _STATUSES[order.status],
            "r": "NONE",
            "i": int(order.order_id),
            "l": _amount(fill.amount if fill else Decimal(0)),
            "z": _amount(order.filled_amount),
            "L": _amount(fill.price if fill else Decimal(0)),
            "n": _amount(fill.fee) if fill else "0",
            "N": fill.fee_asset if fill else None,
            "T": order.updated_at,
            "t": int(fill.trade_id) if fill else -1,
            "I": next(self._execution_ids),
            "w": order.is_open,
            "m": fill.maker if fill else False,
            "M": False,
            "O": order.created_at,
            "Z": _amount(order.filled_value),
            "Y": _amount(fill.price * fill.amount if fill else Decimal(0)),
            "Q": _amount(Decimal(0)),
            "W": order.created_at,
            "V": "EXPIRE_MAKER",
        }

    def trade_json(self, fill: LedgerFill) -> dict[str, Any]:
        """One row of ``GET /api/v3/myTrades``."""
        return {
            "symbol": fill.symbol,
            "id": int(fill.trade_id),
            "orderId": int(fill.order_id),
            "orderListId": -1,
            "price": _amount(fill.price),
            "qty": _amount(fill.amount),
            "quoteQty": _amount(fill.price * fill.amount),
            "commission": _amount(fill.fee),
            "commissionAsset": fill.fee_asset,
            "time": fill.time,
            "isBuyer": fill.side == "buy",
            "isMaker": fill.maker,
            "isBestMatch": True,
        }

    @staticmethod
    def balance_json(balance: LedgerBalance) -> dict[str, str]:
        return {"asset": balance.asset, "free": _amount(balance.available), "locked": _amount(balance.locked)}

    def frames(self, change: Change) -> Sequence[Any]:
        if not isinstance(change, BalanceChanged):
            return [self._wrapped(self.execution_report(change.order, change.fill))]
        balance = change.balance
        position = {
            "e": "outboundAccountPosition",
            "E": balance.updated_at,
            "u": balance.updated_at,
            "B": [{"a": balance.asset, "f": _amount(balance.available), "l": _amount(balance.locked)}],
        }
        if change.delta is None:
            return [self._wrapped(position)]
        # A deposit, withdrawal or transfer: the new balance (as for every balance change) and the amount moved. The
        # docs give no order; the amount last, so a connector that added it to the balance would be caught.
        moved = {"e": "balanceUpdate", "E": balance.updated_at, "a": balance.asset, "d": _amount(change.delta)}
        return [self._wrapped(position), self._wrapped({**moved, "T": balance.updated_at})]

    def error_reply(self, status: int, reason: str) -> Any:
        code, msg = _REST_ERRORS.get(
            status, (-1001, "Internal error; unable to process your request. Please try again.")
        )
        return rest_error(code, msg.format(until=int(self.exchange.now() * 1000) + 120_000))

    async def publish(self) -> int:
        """Push the pending changes, in order, to every connection whose subscription Binance accepted."""
        changes, self.pending = self.pending, []
        frames = [frame for change in changes for frame in self.frames(change)]
        for frame in frames:
            for connection in [c for c in self.exchange.connections if c.open and c.authenticated]:
                await self.exchange.push(frame, to=connection)
        return len(frames)

    @staticmethod
    def _wrapped(event: dict[str, Any]) -> dict[str, Any]:
        return {"subscriptionId": BinanceSpotWsApiDialect.SUBSCRIPTION_ID, "event": event}

    # --- the REST routes -----------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        return check_signed_request(request, self.exchange.credentials, self.exchange.now())

    def account_reply(self, request: RestRequest) -> Any:
        balances = sorted(self.balances.values(), key=lambda balance: balance.asset)
        if request.query.get("omitZeroBalances") == "true":
            balances = [balance for balance in balances if balance.total]
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": max((balance.updated_at for balance in self.balances.values()), default=0),
            "accountType": "SPOT",
            "balances": [self.balance_json(balance) for balance in balances],
            "permissions": ["SPOT"],
            "uid": 354937868,
        }

    def open_orders_reply(self, request: RestRequest) -> Any:
        symbol = request.query.get("symbol")
        orders = [order for order in self.open_orders() if symbol in (None, order.symbol)]
        return [self.order_json(order) for order in sorted(orders, key=lambda order: int(order.order_id))]

    def all_orders_reply(self, request: RestRequest) -> Any:
        query = request.query
        limits = self._symbol_and_limit(request)
        if isinstance(limits, RestResponse):
            return limits
        symbol, limit = limits
        window = self._window(request)
        if isinstance(window, RestResponse):
            return window
        start, end = window
        from_id = query.get("orderId")
        orders = sorted(
            (order for order in self.orders.values() if order.symbol == symbol and not self._archived(order)),
            key=lambda order: int(order.order_id),
        )
        kept = [
            order
            for order in orders
            if (from_id is None or int(order.order_id) >= int(from_id))
            and (start is None or order.created_at >= start)
            and (end is None or order.created_at <= end)
        ]
        self.served_page(request.path)
        return [self.order_json(order) for order in self._select(kept, limit, oldest_first=bool(from_id or start))]

    def my_trades_reply(self, request: RestRequest) -> Any:
        query = request.query
        given = frozenset(name for name in ("orderId", "startTime", "endTime", "fromId") if name in query)
        if given not in _MY_TRADES_COMBINATIONS:
            return refusal(400, -1128, "Combination of optional parameters invalid.")
        limits = self._symbol_and_limit(request)
        if isinstance(limits, RestResponse):
            return limits
        symbol, limit = limits
        window = self._window(request)
        if isinstance(window, RestResponse):
            return window
        start, end = window
        order_id, from_id = query.get("orderId"), query.get("fromId")
        kept = [
            fill
            for fill in sorted(self.fills, key=lambda fill: int(fill.trade_id))
            if fill.symbol == symbol
            and (order_id is None or fill.order_id == order_id)
            and (from_id is None or int(fill.trade_id) >= int(from_id))
            and (start is None or fill.time >= start)
            and (end is None or fill.time <= end)
        ]
        oldest_first = bool(from_id or start or order_id)
        self.served_page(request.path)
        return [self.trade_json(fill) for fill in self._select(kept, limit, oldest_first=oldest_first)]

    def order_reply(self, request: RestRequest) -> Any:
        query = request.query
        if not query.get("symbol"):
            return refusal(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        order_id, client_order_id = query.get("orderId"), query.get("origClientOrderId")
        if not order_id and not client_order_id:
            return refusal(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if order_id:
            order = self.orders.get(order_id)
        else:
            order = next((o for o in self.orders.values() if o.client_order_id == client_order_id), None)
        if (
            order is None
            or order.symbol != query["symbol"]
            or (client_order_id is not None and order.client_order_id != client_order_id)
        ):
            return refusal(400, *ORDER_NOT_FOUND)
        if self._archived(order):
            return refusal(400, *ORDER_ARCHIVED)
        return self.order_json(order)

    @staticmethod
    def _symbol_and_limit(request: RestRequest) -> tuple[str, int] | RestResponse:
        symbol = request.query.get("symbol")
        if not symbol:
            return refusal(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        limit = request.query.get("limit", str(DEFAULT_LIMIT))
        if not (limit.isdecimal() and 1 <= int(limit) <= MAX_LIMIT):
            return refusal(400, -1130, "Data sent for parameter 'limit' is not valid.")
        return symbol, int(limit)

    @staticmethod
    def _window(request: RestRequest) -> tuple[int | None, int | None] | RestResponse:
        """``startTime`` and ``endTime`` (ms), either absent; refused when both are sent more than 24 h apart."""
        times = [request.query.get(name) for name in ("startTime", "endTime")]
        if not all(value is None or value.isdecimal() for value in times):
            return refusal(
                400, -1100, "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'."
            )
        start, end = (None if value is None else int(value) for value in times)
        if start is not None and end is not None and end - start > MAX_WINDOW_MS:
            return refusal(400, -1127, "More than 24 hours between startTime and endTime.")
        return start, end

    @staticmethod
    def _select(rows: list[Any], limit: int, *, oldest_first: bool) -> list[Any]:
        """From a starting point, the oldest ``limit`` rows; without one, the most recent (in chronological order)."""
        return rows[:limit] if oldest_first else rows[-limit:]

    def _archived(self, order: LedgerOrder) -> bool:
        ended_long_ago = order.updated_at < self.exchange.now() * 1000 - ARCHIVED_AFTER_MS
        return order.status is OrderStatus.CANCELED and not order.filled_amount and ended_long_ago


def install_account(exchange: FakeExchange) -> BinanceAccount:
    """Serve Binance's signed account endpoints on ``exchange``; return the account's truth."""
    account = BinanceAccount(exchange)
    routes: Mapping[str, Callable[[RestRequest], Any]] = {
        ACCOUNT_PATH: account.account_reply,
        OPEN_ORDERS_PATH: account.open_orders_reply,
        ALL_ORDERS_PATH: account.all_orders_reply,
        MY_TRADES_PATH: account.my_trades_reply,
        ORDER_PATH: account.order_reply,
    }
    account.serve_signed("GET", routes)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Binance's spot WebSocket API documents them, for the tests."""

    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "subscriptionId": 0,
        "event": {
            "e": "executionReport",
            "E": 1795568753027,
            "s": "BTCUSDT",
            "c": "mUvoqJxFIILMdfAW5iGSOW",
            "S": "BUY",
            "o": "LIMIT",
            "f": "GTC",
            "q": "1.00000000",
            "p": "0.10264410",
            "P": "0.00000000",
            "F": "0.00000000",
            "g": -1,
            "C": "",
            "x": "NEW",
            "X": "NEW",
            "r": "NONE",
            "i": 4293153,
            "l": "0.00000000",
            "z": "0.00000000",
            "L": "0.00000000",
            "n": "0",
            "N": None,
            "T": 1795568753027,
            "t": -1,
            "I": 8641984,
            "w": True,
            "m": False,
            "M": False,
            "O": 1795568753027,
            "Z": "0.00000000",
            "Y": "0.00000000",
            "Q": "0.00000000",
            "W": 1795568753027,
            "V": "EXPIRE_MAKER",
        },
    }
    FILL: ClassVar[dict[str, Any]] = {
        "subscriptionId": 0,
        "event": {
            **ORDER_UPDATE["event"],
            "E": 1795568753127,
            "x": "TRADE",
            "X": "FILLED",
            "l": "1.00000000",
            "z": "1.00000000",
            "L": "0.10264410",
            "n": "0.00010000",
            "N": "BNB",
            "T": 1795568753127,
            "t": 1234,
            "I": 8641985,
            "w": False,
            "Z": "0.10264410",
            "Y": "0.10264410",
            "Q": "0.00000000",
        },
    }
    ACCOUNT_POSITION: ClassVar[dict[str, Any]] = {
        "subscriptionId": 0,
        "event": {
            "e": "outboundAccountPosition",
            "E": 1795568753127,
            "u": 1795568753127,
            "B": [
                {"a": "BTC", "f": "1.00000000", "l": "0.00000000"},
                {"a": "USDT", "f": "999.89735590", "l": "0.00000000"},
            ],
        },
    }
    BALANCE_UPDATE: ClassVar[dict[str, Any]] = {
        "subscriptionId": 0,
        "event": {"e": "balanceUpdate", "E": 1795568753227, "a": "USDT", "d": "100.00000000", "T": 1795568753227},
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "id": 1,
        "status": 200,
        "result": {"subscriptionId": 0},
    }
    INVALID_SIGNATURE: ClassVar[dict[str, Any]] = {
        "id": 1,
        "status": 400,
        "error": {"code": -1022, "msg": "Signature for this request is not valid."},
    }
    TIMESTAMP_OUTSIDE_RECV_WINDOW: ClassVar[dict[str, Any]] = {
        "id": 1,
        "status": 400,
        "error": {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
    }
    STREAM_TERMINATED: ClassVar[dict[str, Any]] = {
        "subscriptionId": 0,
        "event": {"e": "eventStreamTerminated", "E": 1795568753327},
    }
    SERVER_TIME: ClassVar[dict[str, Any]] = {"serverTime": 1795568753027}
    SERVER_SHUTDOWN: ClassVar[dict[str, Any]] = {"event": {"e": "serverShutdown", "E": 1770123456789}}
    PARTIAL_FILL: ClassVar[dict[str, Any]] = {
        "subscriptionId": 0,
        "event": {
            **ORDER_UPDATE["event"],
            "c": "bot-7",
            "i": 4293160,
            "E": 1795568754027,
            "x": "TRADE",
            "X": "PARTIALLY_FILLED",
            "l": "0.40000000",
            "z": "0.40000000",
            "L": "0.10264410",
            "n": "0.00004106",
            "N": "USDT",
            "T": 1795568754027,
            "t": 1240,
            "I": 8641990,
            "m": True,
            "O": 1795568753927,
            "Z": "0.04105764",
            "Y": "0.04105764",
            "W": 1795568753927,
        },
    }
    CANCELED: ClassVar[dict[str, Any]] = {
        "subscriptionId": 0,
        "event": {
            **PARTIAL_FILL["event"],
            # The cancel request's own client id; the order's is in "C".
            "c": "9m7bTq2fVnX0s1LgYhR4aZ",
            "C": "bot-7",
            "E": 1795568755027,
            "x": "CANCELED",
            "X": "CANCELED",
            "l": "0.00000000",
            "L": "0.00000000",
            "n": "0",
            "N": None,
            "T": 1795568755027,
            "t": -1,
            "I": 8641991,
            "w": False,
            "m": False,
            "Y": "0.00000000",
        },
    }
    ACCOUNT_REPLY: ClassVar[dict[str, Any]] = {
        "makerCommission": 15,
        "takerCommission": 15,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": "0.00150000",
            "taker": "0.00150000",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": 1795568754027,
        "accountType": "SPOT",
        "balances": [
            {"asset": "BTC", "free": "1.00000000", "locked": "0.00000000"},
            {"asset": "USDT", "free": "899.89735590", "locked": "100.00000000"},
        ],
        "permissions": ["SPOT"],
        "uid": 354937868,
    }
    OPEN_ORDER_ROW: ClassVar[dict[str, Any]] = {
        "symbol": "BTCUSDT",
        "orderId": 4293160,
        "orderListId": -1,
        "clientOrderId": "bot-7",
        "price": "0.10264410",
        "origQty": "1.00000000",
        "executedQty": "0.40000000",
        "cummulativeQuoteQty": "0.04105764",
        "status": "PARTIALLY_FILLED",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "stopPrice": "0.00000000",
        "icebergQty": "0.00000000",
        "time": 1795568753927,
        "updateTime": 1795568754027,
        "isWorking": True,
        "workingTime": 1795568753927,
        "origQuoteOrderQty": "0.00000000",
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    FILLED_ORDER_ROW: ClassVar[dict[str, Any]] = {
        **OPEN_ORDER_ROW,
        "orderId": 4293153,
        "clientOrderId": "mUvoqJxFIILMdfAW5iGSOW",
        "executedQty": "1.00000000",
        "cummulativeQuoteQty": "0.10264410",
        "status": "FILLED",
        "time": 1795568753027,
        "updateTime": 1795568753127,
        "workingTime": 1795568753027,
    }
    OPEN_ORDERS_REPLY: ClassVar[list[dict[str, Any]]] = [OPEN_ORDER_ROW]
    ALL_ORDERS_REPLY: ClassVar[list[dict[str, Any]]] = [FILLED_ORDER_ROW, OPEN_ORDER_ROW]
    MY_TRADES_REPLY: ClassVar[list[dict[str, Any]]] = [
        {
            "symbol": "BTCUSDT",
            "id": 1234,
            "orderId": 4293153,
            "orderListId": -1,
            "price": "0.10264410",
            "qty": "1.00000000",
            "quoteQty": "0.10264410",
            "commission": "0.00010000",
            "commissionAsset": "BNB",
            "time": 1795568753127,
            "isBuyer": True,
            "isMaker": False,
            "isBestMatch": True,
        },
        {
            "symbol": "BTCUSDT",
            "id": 1240,
            "orderId": 4293160,
            "orderListId": -1,
            "price": "0.10264410",
            "qty": "0.40000000",
            "quoteQty": "0.04105764",
            "commission": "0.00004106",
            "commissionAsset": "USDT",
            "time": 1795568754027,
            "isBuyer": True,
            "isMaker": True,
            "isBestMatch": True,
        },
    ]
    ORDER_REPLY: ClassVar[dict[str, Any]] = FILLED_ORDER_ROW
    ORDER_NOT_FOUND: ClassVar[dict[str, Any]] = {"code": -2013, "msg": "Order does not exist."}
    REST_TIMESTAMP_OUTSIDE_RECV_WINDOW: ClassVar[dict[str, Any]] = {
        "code": -1021,
        "msg": "Timestamp for this request is outside of the recvWindow.",
    }


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    ANNOUNCES_CLOSE: ClassVar[bool] = True
    LARGEST_PAGE: ClassVar[int | None] = MAX_LIMIT
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTCUSDT", "ETHUSDT")
    GUARANTEE: ClassVar[str] = (
        "exact: every fill and final order state once, balances as outboundAccountPosition states them (deltas never "
        "added); history per symbol: open orders' and symbols= ones"
    )
    account: BinanceAccount

    def dialect(self) -> Dialect:
        return BinanceSpotWsApiDialect()

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)
        self.account = install_account(exchange)

    def options(self) -> Mapping[str, Any]:
        # allOrders and myTrades take one symbol at a time: a Binance user names the symbols the bot trades.
        return {"symbols": self.SYMBOLS}

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The fake serves the WebSocket API at the same path as Binance does: <host>/ws-api/v3.
        return {"ws_url": exchange.ws_url + WS_API_PATH_SUFFIX, "rest_url": exchange.rest_url}

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        exchange.reject_next_login(INVALID_SIGNATURE)
        return True

    async def announce_close(self, exchange: FakeExchange, *, after: float) -> None:
        await exchange.announce_close(server_shutdown(), after=after)

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.ACCOUNT_POSITION]
