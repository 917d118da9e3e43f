"""Binance's listen-key user data stream, as the fake exchange speaks it (USD-M futures; spot reuses it).

Modelled on Binance's documentation (developers.binance.com, "USDⓈ-M Futures > User Data Streams", "> Trade",
"> Account", "General Info > SIGNED Endpoint Security", "Error Codes"):

=========================  ===========================================================================
create a key               ``POST /fapi/v1/listenKey``, header ``X-MBX-APIKEY`` → ``{"listenKey": K}``;
                           the account's active key if it has one (its validity extended), else a new one
extend it                  ``PUT /fapi/v1/listenKey`` → ``{"listenKey": K}``; no parameters on futures
                           (the API key names the account's one key); spot passes ``listenKey``
close it                   ``DELETE /fapi/v1/listenKey`` → ``{}``
errors                     ``{"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}`` (401),
                           ``{"code": -2014, "msg": "API-key format invalid."}`` (401, no or bad header),
                           ``{"code": -1125, "msg": "This listenKey does not exist."}`` (400)
connect                    ``wss://fstream.binance.com/private/ws/<listenKey>`` (the fake: ``<ws_url>/<key>``):
                           no login, no subscribe; the server pings at the protocol level and expects pongs;
                           a connection lives 24 hours at most, and no close is announced before it ends
user events                unwrapped: ``ORDER_TRADE_UPDATE`` (the order in ``o``), ``ACCOUNT_UPDATE``
                           (balances in ``a.B``, positions in ``a.P``), ``listenKeyExpired`` (after which the
                           connection stays open and carries nothing)
time                       ``GET /fapi/v1/time`` → ``{"serverTime": ms}``
the account                ``BinanceFuturesAccount``: the signed REST endpoints, see its docstring
=========================  ===========================================================================

``install(exchange)`` registers the listen-key routes and returns a `BinanceListenKeyState`, the test's
handle on the account's keys: which were issued, which connection used which, how to expire one,
how to make the next call fail. ``install_account(exchange)`` serves the account on top (USD-M only).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from userstream.events import OrderStatus
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import WS_PATH, FakeExchange, RestRequest, RestResponse
from userstream.testing.ledger import BalanceChanged, Change, Ledger, LedgerBalance, LedgerFill, LedgerOrder

API_KEY_HEADER = "X-MBX-APIKEY"

INVALID_API_KEY = RestResponse({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, 401)
API_KEY_FORMAT_INVALID = RestResponse({"code": -2014, "msg": "API-key format invalid."}, 401)
LISTEN_KEY_DOES_NOT_EXIST = RestResponse({"code": -1125, "msg": "This listenKey does not exist."}, 400)
MISSING_LISTEN_KEY = RestResponse(
    {"code": -1102, "msg": "Mandatory parameter 'listenKey' was not sent, was empty/null, or malformed."}, 400
)

_KEY_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class BinanceListenKeyProfile:
    """What differs between Binance products that share the listen-key flow."""

    name: str
    listen_key_path: str
    time_path: str
    key_param: str | None
    """Query parameter naming the key on PUT and DELETE (spot), or None: the API key names it (futures)."""
    keepalive_returns_key: bool
    """Futures answers a PUT with ``{"listenKey": K}``, spot with ``{}``."""


USDM_FUTURES = BinanceListenKeyProfile(
    name="Binance USD-M futures",
    listen_key_path="/fapi/v1/listenKey",
    time_path="/fapi/v1/time",
    key_param=None,
    keepalive_returns_key=True,
)


@dataclass
class BinanceListenKeyState:
    """One account's listen keys on the fake exchange, and the knobs a test turns."""

    profile: BinanceListenKeyProfile
    active_key: str | None = None
    """The account's live key, or None: Binance keeps at most one per account and product."""
    issued: list[str] = field(default_factory=list)
    """Every key minted, in order (a POST that returned the active key mints nothing)."""
    created: list[str] = field(default_factory=list)
    """The key each successful POST returned, in order."""
    keepalives: list[tuple[float, str]] = field(default_factory=list)
    """Each successful PUT as ``(event loop time, key)``."""
    closed: list[str] = field(default_factory=list)
    """Keys closed by a DELETE."""
    exchange: FakeExchange | None = field(default=None, repr=False)
    _failures: dict[str, list[RestResponse]] = field(default_factory=dict, repr=False)
    _dead_on_arrival: int = field(default=0, repr=False)

    def is_valid(self, key: str) -> bool:
        return key == self.active_key

    def fail_next(self, method: str, response: RestResponse = LISTEN_KEY_DOES_NOT_EXIST) -> None:
        """Answer the next ``method`` call on the listen-key path with ``response``. Call again to queue more."""
        self._failures.setdefault(method.upper(), []).append(response)

    def kill_next_key(self) -> None:
        """The next POST returns a key that is already dead (as if another client of the account DELETEd it)."""
        self._dead_on_arrival += 1

    async def expire(self, *, notify: bool = True) -> str:
        """Expire the active key; with ``notify``, push ``listenKeyExpired`` on every connection using it.

        Binance leaves such a connection open and silent, so the client must end it itself. Without
        ``notify`` the key dies unannounced, and the next keepalive is the first to learn it (-1125).
        """
        key = self.active_key
        if key is None:
            raise RuntimeError("the account has no active listen key to expire")
        self.active_key = None
        if notify:
            exchange = self._exchange()
            for connection in exchange.connections:
                if connection.open and listen_key_of(connection.path) == key:
                    await exchange.push(listen_key_expired(key), to=connection)
        return key

    def connections_with(self, key: str) -> int:
        """How many connections the fake exchange accepted with ``key`` in their URL."""
        return sum(1 for connection in self._exchange().connections if listen_key_of(connection.path) == key)

    # --- the REST routes ------------------------------------------------------------------------

    def create(self, request: RestRequest) -> RestResponse:
        refusal = self._refusal("POST", request)
        if refusal is not None:
            return refusal
        if self._dead_on_arrival:
            self._dead_on_arrival -= 1
            key = self._mint()  # minted and immediately gone: the WebSocket upgrade will be refused
        else:
            if self.active_key is None:
                self.active_key = self._mint()
            key = self.active_key
        self.created.append(key)
        return RestResponse({"listenKey": key})

    def keepalive(self, request: RestRequest) -> RestResponse:
        refusal = self._refusal("PUT", request)
        if refusal is not None:
            return refusal
        key = self._named_key(request)
        if isinstance(key, RestResponse):
            return key
        self.keepalives.append((asyncio.get_running_loop().time(), key))
        return RestResponse({"listenKey": key} if self.profile.keepalive_returns_key else {})

    def close(self, request: RestRequest) -> RestResponse:
        refusal = self._refusal("DELETE", request)
        if refusal is not None:
            return refusal
        key = self._named_key(request)
        if isinstance(key, RestResponse):
            return key
        self.active_key = None
        self.closed.append(key)
        return RestResponse({})

    def server_time(self, request: RestRequest) -> RestResponse:
        return RestResponse({"serverTime": int(self._exchange().now() * 1000)})

    def _refusal(self, method: str, request: RestRequest) -> RestResponse | None:
        """The error for a bad API key or a scripted failure, checked in Binance's order: key first."""
        api_key = request.headers.get(API_KEY_HEADER)
        if not api_key:
            return API_KEY_FORMAT_INVALID
        if api_key != self._exchange().credentials.api_key:
            return INVALID_API_KEY
        scripted = self._failures.get(method)
        return scripted.pop(0) if scripted else None

    def _named_key(self, request: RestRequest) -> str | RestResponse:
        """The live key a PUT or DELETE refers to, or the error Binance answers."""
        if self.profile.key_param is None:
            key = self.active_key
        else:
            key = request.query.get(self.profile.key_param)
            if not key:
                return MISSING_LISTEN_KEY
        if key is None or not self.is_valid(key):
            return LISTEN_KEY_DOES_NOT_EXIST
        return key

    def _mint(self) -> str:
        key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(64))
        self.issued.append(key)
        return key

    def _exchange(self) -> FakeExchange:
        if self.exchange is None:
            raise RuntimeError("the listen-key state is not installed on a fake exchange; call install(exchange)")
        return self.exchange


def listen_key_of(path: str) -> str | None:
    """The listen key in a WebSocket path (``/ws/<listenKey>``), or None."""
    prefix = WS_PATH + "/"
    key = path[len(prefix) :] if path.startswith(prefix) else ""
    return key or None


class BinanceListenKeyDialect(Dialect):
    """Binance's listen-key streams: the key in the URL is the only credential; clients send nothing.

    Clients may still send Binance's stream requests (``{"method": "SUBSCRIBE", "params", "id"}``),
    answered ``{"result": null, "id"}``; a user data stream needs none.
    """

    requires_login = False

    def __init__(self, profile: BinanceListenKeyProfile = USDM_FUTURES) -> None:
        self.profile = profile
        self.state = BinanceListenKeyState(profile)

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        key = listen_key_of(path)
        if key is None:
            return "no listen key in the URL"
        if not self.state.is_valid(key):
            return "invalid or expired listen key"
        return None

    def classify_client(self, message: Any) -> ClientIntent:
        if isinstance(message, dict) and message.get("method") == "SUBSCRIBE":
            return ClientIntent.SUBSCRIBE
        return ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "Binance user data streams have no login: the listen key in the URL authenticates"

    def login_ack(self, message: Any) -> Any:
        return self.subscribe_replies(message)[0]

    def login_rejection(self, message: Any, reason: str) -> Any:
        return self.subscribe_rejection(message, reason)

    def subscribe_replies(self, message: Any) -> list[Any]:
        return [{"result": None, "id": _request_id(message)}]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return {"code": 2, "msg": reason, "id": _request_id(message)}

    def pong(self, message: Any) -> Any:
        # Binance has no app-level ping: classify_client never reports one, so this is never sent.
        return None

    def heartbeat(self) -> Any:
        raise NotImplementedError(
            "Binance sends no heartbeat frames on user data streams; liveness is protocol ping/pong"
        )

    def user_event(self, channel: str, data: Any) -> Any:
        """An unwrapped event of type ``channel`` (``ORDER_TRADE_UPDATE``, ...) with ``data``'s fields."""
        return {"e": channel, "E": _now_ms(), **data}


def install(exchange: FakeExchange) -> BinanceListenKeyState:
    """Register the listen-key and time routes of ``exchange.dialect``'s product; return its key state."""
    dialect = exchange.dialect
    if not isinstance(dialect, BinanceListenKeyDialect):
        raise TypeError(f"install() needs a FakeExchange speaking BinanceListenKeyDialect, not {dialect!r}")
    state = dialect.state
    state.exchange = exchange
    path = dialect.profile.listen_key_path
    exchange.route("POST", path, state.create)
    exchange.route("PUT", path, state.keepalive)
    exchange.route("DELETE", path, state.close)
    exchange.route("GET", dialect.profile.time_path, state.server_time)
    return state


# --- user events with Binance's real shapes (USD-M futures) ---------------------------------------


def order_trade_update(
    *,
    symbol: str = "BTCUSDT",
    order_id: int = 8886774,
    client_order_id: str = "userstream-1",
    side: str = "BUY",
    order_type: str = "LIMIT",
    time_in_force: str = "GTC",
    quantity: str = "0.001",
    price: str = "60000",
    execution_type: str = "NEW",
    status: str = "NEW",
    last_quantity: str = "0",
    filled_quantity: str = "0",
    last_price: str = "0",
    average_price: str = "0",
    commission: str | None = None,
    commission_asset: str = "USDT",
    trade_id: int = 0,
    maker: bool = False,
    realized_profit: str = "0",
    position_side: str = "BOTH",
    event_time: int | None = None,
) -> dict[str, Any]:
    """An ``ORDER_TRADE_UPDATE``: an order's new state, and for ``execution_type="TRADE"`` a fill."""
    now = _now_ms() if event_time is None else event_time
    order: dict[str, Any] = {
        "s": symbol,
        "c": client_order_id,
        "S": side,
        "o": order_type,
        "f": time_in_force,
        "q": quantity,
        "p": price,
        "ap": average_price,
        "sp": "0",
        "x": execution_type,
        "X": status,
        "i": order_id,
        "l": last_quantity,
        "z": filled_quantity,
        "L": last_price,
        "T": now,
        "t": trade_id,
        "b": "0",
        "a": "0",
        "m": maker,
        "R": False,
        "wt": "CONTRACT_PRICE",
        "ot": order_type,
        "ps": position_side,
        "cp": False,
        "rp": realized_profit,
        "pP": False,
        "si": 0,
        "ss": 0,
        "V": "EXPIRE_TAKER",
        "pm": "NONE",
        "gtd": 0,
    }
    if commission is not None:  # Binance omits N and n when there is no commission
        order["N"] = commission_asset
        order["n"] = commission
    return {"e": "ORDER_TRADE_UPDATE", "E": now + 1, "T": now, "o": order}


def fill(
    *,
    quantity: str = "0.001",
    last_quantity: str = "0.001",
    filled_quantity: str | None = None,
    last_price: str = "60000",
    commission: str = "0.024",
    trade_id: int = 1001,
    **order: Any,
) -> dict[str, Any]:
    """An ``ORDER_TRADE_UPDATE`` for a trade: ``x`` is ``TRADE``, ``X`` FILLED or PARTIALLY_FILLED."""
    filled = last_quantity if filled_quantity is None else filled_quantity
    status = "FILLED" if float(filled) >= float(quantity) else "PARTIALLY_FILLED"
    return order_trade_update(
        quantity=quantity,
        execution_type="TRADE",
        status=status,
        last_quantity=last_quantity,
        filled_quantity=filled,
        last_price=last_price,
        average_price=last_price,
        commission=commission,
        trade_id=trade_id,
        **order,
    )


def balance(
    asset: str, wallet_balance: str, cross_wallet_balance: str | None = None, change: str = "0"
) -> dict[str, Any]:
    """One entry of ``ACCOUNT_UPDATE``'s ``a.B``."""
    cross = wallet_balance if cross_wallet_balance is None else cross_wallet_balance
    return {"a": asset, "wb": wallet_balance, "cw": cross, "bc": change}


def position(
    symbol: str,
    amount: str,
    entry_price: str = "0",
    *,
    unrealized_pnl: str = "0",
    margin_type: str = "cross",
    position_side: str = "BOTH",
) -> dict[str, Any]:
    """One entry of ``ACCOUNT_UPDATE``'s ``a.P``."""
    return {
        "s": symbol,
        "pa": amount,
        "ep": entry_price,
        "bep": entry_price,
        "cr": "0",
        "up": unrealized_pnl,
        "mt": margin_type,
        "iw": "0",
        "ps": position_side,
    }


def account_update(
    balances: Sequence[Mapping[str, Any]] = (),
    positions: Sequence[Mapping[str, Any]] = (),
    *,
    reason: str = "ORDER",
    event_time: int | None = None,
) -> dict[str, Any]:
    """An ``ACCOUNT_UPDATE``: only the balances and positions that changed, with the reason in ``a.m``."""
    now = _now_ms() if event_time is None else event_time
    return {
        "e": "ACCOUNT_UPDATE",
        "E": now + 1,
        "T": now,
        "a": {"m": reason, "B": [dict(b) for b in balances], "P": [dict(p) for p in positions]},
    }


def listen_key_expired(listen_key: str, event_time: int | None = None) -> dict[str, Any]:
    """``listenKeyExpired``: the key died; the connection stays open but carries no more events."""
    return {"e": "listenKeyExpired", "E": _now_ms() if event_time is None else event_time, "listenKey": listen_key}


def _request_id(message: Any) -> Any:
    return message.get("id") if isinstance(message, dict) else None


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- the account over REST (USD-M futures) ----------------------------------------------------------------

BALANCE_PATH = "/fapi/v3/balance"
OPEN_ORDERS_PATH = "/fapi/v1/openOrders"
"""Every open order, or one ``symbol``'s: one reply, not paginated."""
ALL_ORDERS_PATH = "/fapi/v1/allOrders"
"""One ``symbol``'s orders (required), oldest first: from ``orderId`` on, and/or within ``startTime``..``endTime``
(less than 7 days; 7 days from the one given; the recent 7 days when neither is); without either, the most recent."""
USER_TRADES_PATH = "/fapi/v1/userTrades"
"""One ``symbol``'s trades (required), oldest first: from ``fromId`` on (never with a time), or within
``startTime``..``endTime`` (at most 7 days); without either, the last 7 days' most recent; the past 6 months only."""
ORDER_PATH = "/fapi/v1/order"
"""One order by ``symbol`` and ``orderId`` (or ``origClientOrderId``)."""
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
"""The most rows one page of ``allOrders`` or ``userTrades`` holds (``limit``: default 500, at most 1000)."""
RECV_WINDOW_MS = 5000
"""How far a request's ``timestamp`` may lag the server's clock when it sends no ``recvWindow``."""
MAX_RECV_WINDOW_MS = 60_000
AHEAD_TOLERANCE_MS = 1000
"""How far a ``timestamp`` may run ahead of the server's clock ("timestamp < serverTime + 1000")."""
_DAY_MS = 24 * 3600 * 1000
HISTORY_SPAN_MS = 7 * _DAY_MS
"""The longest ``startTime``..``endTime`` window of the history endpoints, and the one they default to."""
TRADES_KEPT_MS = 183 * _DAY_MS
"""``userTrades`` reaches back 6 months."""
ORDERS_KEPT_MS = 90 * _DAY_MS
"""An order created longer ago than this is not found."""
UNFILLED_FINISHED_KEPT_MS = 3 * _DAY_MS
"""A CANCELED or EXPIRED order without any fill is not found once it was created longer ago than this."""
ACCOUNT_ALIAS = "SgsR"

INVALID_SIGNATURE = RestResponse({"code": -1022, "msg": "Signature for this request is not valid."}, 400)
TIMESTAMP_OUTSIDE_RECV_WINDOW = RestResponse(
    {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}, 400
)
BAD_RECV_WINDOW = RestResponse({"code": -1131, "msg": "recvWindow must be less than 60000"}, 400)
INVALID_LIMIT = RestResponse({"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}, 400)
INVALID_INTERVAL = RestResponse({"code": -1127, "msg": "More than 168 hours between startTime and endTime."}, 400)
PARAMETERS_BAD_COMBINATION = RestResponse({"code": -1128, "msg": "Combination of optional parameters invalid."}, 400)
NO_ORDER_NAMED = RestResponse(
    {"code": -1102, "msg": "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"}, 400
)
ORDER_DOES_NOT_EXIST = RestResponse({"code": -2013, "msg": "Order does not exist."}, 400)
_REST_ERRORS: Mapping[int, tuple[int, str]] = {
    429: (
        -1003,
        "Too many requests; current limit is 2400 requests per minute. Please use the websocket for live "
        "updates to avoid polling the API.",
    ),
    500: (-1001, "Internal error; unable to process your request. Please try again."),
    503: (-1001, "Internal error; unable to process your request. Please try again."),
}
_STATUSES: Mapping[OrderStatus, str] = {
    OrderStatus.OPEN: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.REJECTED: "REJECTED",
    OrderStatus.EXPIRED: "EXPIRED",
}
_EXECUTIONS: Mapping[OrderStatus, str] = {OrderStatus.CANCELED: "CANCELED", OrderStatus.EXPIRED: "EXPIRED"}
"""The execution type of an ``ORDER_TRADE_UPDATE`` that reports no trade: ``NEW`` unless the order ended so."""
_UNFILLED_ENDINGS = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED})
_Row = TypeVar("_Row", LedgerOrder, LedgerFill)


def mandatory(name: str) -> RestResponse:
    """Binance's -1102 for a parameter the endpoint needs and the request left out."""
    return RestResponse(
        {"code": -1102, "msg": f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."}, 400
    )


def rest_signature(secret: str, total_params: str) -> str:
    """A SIGNED request's ``signature``: hex HMAC-SHA256 of its query string (without the signature) and body."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def check_signed_request(request: RestRequest, credentials: Credentials, server_time: float) -> RestResponse | None:
    """Binance's refusal of a SIGNED request, or None to serve it: the API key, the signature, then the timing."""
    api_key = request.headers.get(API_KEY_HEADER)
    if not api_key:
        return API_KEY_FORMAT_INVALID
    if api_key != credentials.api_key:
        return INVALID_API_KEY
    sent = request.query.get("signature")
    if not sent:
        return mandatory("signature")
    # Signed as sent: the query string's own order and encoding, less the signature itself, then the body.
    query = "&".join(part for part in request.query_string.split("&") if not part.startswith("signature="))
    if not hmac.compare_digest(sent, rest_signature(credentials.secret, query + request.body)):
        return INVALID_SIGNATURE
    timestamp = request.query.get("timestamp", "")
    if not timestamp.isdecimal():
        return mandatory("timestamp")
    recv_window = request.query.get("recvWindow", str(RECV_WINDOW_MS))
    if not recv_window.isdecimal() or int(recv_window) > MAX_RECV_WINDOW_MS:
        return BAD_RECV_WINDOW
    now_ms = int(server_time * 1000)
    if not (int(timestamp) < now_ms + AHEAD_TOLERANCE_MS and now_ms - int(timestamp) <= int(recv_window)):
        return TIMESTAMP_OUTSIDE_RECV_WINDOW
    return None


class BinanceFuturesAccount(Ledger):
    """The account on the fake Binance USD-M futures: orders, trades and wallet balances, pushed and served as Binance
    documents them. Every route is SIGNED (`check_signed_request`).

    ==================================  ==========================================================================
    ``GET /fapi/v3/balance``            ``[{"accountAlias", "asset", "balance", "crossWalletBalance",
                                        "availableBalance", "updateTime", ...}]``: the wallet balance is the
                                        ledger's total, the cross wallet balance its available (no isolated
                                        position, order margin or PnL is modelled, so ``availableBalance`` is the
                                        cross wallet balance, as in the docs' example)
    ``GET /fapi/v1/openOrders``         every open order (``symbol`` optional), in one reply
    ``GET /fapi/v1/allOrders``          see `ALL_ORDERS_PATH`; a CANCELED or EXPIRED order without fills is gone
                                        3 days after its creation, any order 90 days after
    ``GET /fapi/v1/userTrades``         see `USER_TRADES_PATH`; ``commission`` is what was paid
    ``GET /fapi/v1/order``              ``-2013 "Order does not exist."`` (HTTP 400) for an order it cannot find
    errors                              ``{"code": -1022, "msg": ...}`` (400) and the like; 429 ``-1003``, 5xx
                                        ``-1001``
    pushes                              ``ORDER_TRADE_UPDATE`` per order change (``x`` ``TRADE`` for a fill, with
                                        ``t``, ``l``, ``L``, ``n``, ``N``); ``ACCOUNT_UPDATE`` per balance change,
                                        ``m`` ``DEPOSIT``/``WITHDRAW`` (``bc`` the amount) or ``ADJUSTMENT``;
                                        only on connections whose listen key is live
    ==================================  ==========================================================================
    """

    DEFAULT_SYMBOL = "BTCUSDT"
    FIRST_ORDER_ID = 8886774
    FIRST_TRADE_ID = 698759

    def __init__(self, exchange: FakeExchange, keys: BinanceListenKeyState) -> None:
        super().__init__(exchange)
        self.keys = keys
        self._pushed_wallets: dict[str, Decimal] = {}
        """Each asset's wallet balance as last pushed: what an adjustment's ``bc`` is measured from."""

    def client_order_id(self, given: str | None) -> str | None:
        # "newClientOrderId: A unique id among open orders. Automatically generated if not sent."
        return given or "".join(secrets.choice(_KEY_ALPHABET) for _ in range(22))

    # --- the exchange's shapes --------------------------------------------------------------------

    def order_json(self, order: LedgerOrder) -> dict[str, Any]:
        """One order as the order endpoints write it."""
        return {
            "avgPrice": str(order.average_price),
            "clientOrderId": order.client_order_id or "",
            "cumQuote": str(order.filled_value),
            "executedQty": str(order.filled_amount),
            "orderId": int(order.order_id),
            "origQty": str(order.amount),
            "origType": order.order_type.upper(),
            "price": str(order.price),
            "reduceOnly": False,
            "side": order.side.upper(),
            "positionSide": "BOTH",
            "status": _STATUSES[order.status],
            "stopPrice": "0",
            "closePosition": False,
            "symbol": order.symbol,
            "time": order.created_at,
            "timeInForce": "GTC",
            "type": order.order_type.upper(),
            "updateTime": order.updated_at,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
        }

    def trade_json(self, fill: LedgerFill) -> dict[str, Any]:
        """One row of ``GET /fapi/v1/userTrades``."""
        return {
            "buyer": fill.side == "buy",
            "commission": str(fill.fee),
            "commissionAsset": fill.fee_asset,
            "id": int(fill.trade_id),
            "maker": fill.maker,
            "orderId": int(fill.order_id),
            "price": str(fill.price),
            "qty": str(fill.amount),
            "quoteQty": str(fill.price * fill.amount),
            "realizedPnl": "0",
            "side": fill.side.upper(),
            "positionSide": "BOTH",
            "symbol": fill.symbol,
            "time": fill.time,
        }

    def balance_json(self, balance: LedgerBalance) -> dict[str, Any]:
        """One asset of ``GET /fapi/v3/balance``."""
        return {
            "accountAlias": ACCOUNT_ALIAS,
            "asset": balance.asset,
            "balance": str(balance.total),
            "crossWalletBalance": str(balance.available),
            "crossUnPnl": "0",
            "availableBalance": str(balance.available),
            "maxWithdrawAmount": str(balance.available),
            "marginAvailable": True,
            "updateTime": balance.updated_at,
        }

    def frames(self, change: Change) -> Sequence[Any]:
        if isinstance(change, BalanceChanged):
            wallet = change.balance
            moved = change.delta
            if moved is None:
                reason, moved = "ADJUSTMENT", wallet.total - self._pushed_wallets.get(wallet.asset, Decimal(0))
            else:
                reason = "DEPOSIT" if moved >= 0 else "WITHDRAW"
            self._pushed_wallets[wallet.asset] = wallet.total
            entry = balance(wallet.asset, str(wallet.total), str(wallet.available), str(moved))
            return [account_update([entry], reason=reason, event_time=wallet.updated_at)]
        order, execution = change.order, change.fill
        return [
            order_trade_update(
                symbol=order.symbol,
                order_id=int(order.order_id),
                client_order_id=order.client_order_id or "",
                side=order.side.upper(),
                order_type=order.order_type.upper(),
                quantity=str(order.amount),
                price=str(order.price),
                execution_type="TRADE" if execution else _EXECUTIONS.get(order.status, "NEW"),
                status=_STATUSES[order.status],
                last_quantity=str(execution.amount) if execution else "0",
                filled_quantity=str(order.filled_amount),
                last_price=str(execution.price) if execution else "0",
                average_price=str(order.average_price),
                commission=str(execution.fee) if execution and execution.fee else None,
                commission_asset=execution.fee_asset if execution else "USDT",
                trade_id=int(execution.trade_id) if execution else 0,
                maker=execution.maker if execution else False,
                event_time=order.updated_at,
            )
        ]

    def error_reply(self, status: int, reason: str) -> Any:
        code, msg = _REST_ERRORS.get(status, (-1000, reason))
        return {"code": code, "msg": msg}

    async def publish(self) -> int:
        """`Ledger.publish`, on the connections whose listen key is live: after ``listenKeyExpired`` a connection
        stays open but Binance delivers nothing more on it."""
        changes, self.pending = self.pending, []
        frames = [frame for change in changes for frame in self.frames(change)]
        for frame in frames:
            for connection in self.exchange.connections:
                if self.keys.is_valid(listen_key_of(connection.path) or ""):
                    await self.exchange.push(frame, to=connection)
        return len(frames)

    # --- the REST routes -----------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        return check_signed_request(request, self.exchange.credentials, self.exchange.now())

    def balance_reply(self, request: RestRequest) -> Any:
        return [self.balance_json(balance) for _, balance in sorted(self.balances.items())]

    def open_orders_reply(self, request: RestRequest) -> Any:
        symbol = request.query.get("symbol")
        return [self.order_json(order) for order in self.open_orders() if symbol in (None, order.symbol)]

    def all_orders_reply(self, request: RestRequest) -> Any:
        return self._history(
            request,
            lambda symbol, now: [o for o in self.orders.values() if o.symbol == symbol and self._findable(o, now)],
            row_id=lambda order: int(order.order_id),
            moment=lambda order: order.created_at,
            cursor="orderId",
            cursor_reaches_back=False,
            render=self.order_json,
        )

    def user_trades_reply(self, request: RestRequest) -> Any:
        if "fromId" in request.query and {"startTime", "endTime"} & request.query.keys():
            return PARAMETERS_BAD_COMBINATION
        return self._history(
            request,
            lambda symbol, now: [f for f in self.fills if f.symbol == symbol and f.time >= now - TRADES_KEPT_MS],
            row_id=lambda fill: int(fill.trade_id),
            moment=lambda fill: fill.time,
            cursor="fromId",
            cursor_reaches_back=True,
            render=self.trade_json,
        )

    def order_reply(self, request: RestRequest) -> Any:
        symbol = request.query.get("symbol")
        if not symbol:
            return mandatory("symbol")
        order_id, client_order_id = request.query.get("orderId"), request.query.get("origClientOrderId")
        if not (order_id or client_order_id):
            return NO_ORDER_NAMED
        if order_id:
            known = self.orders.get(order_id)
            candidates = [] if known is None else [known]
        else:
            candidates = list(self.orders.values())
        now = self._now_ms()
        found = [
            order
            for order in candidates
            if order.symbol == symbol
            and client_order_id in (None, order.client_order_id)
            and self._findable(order, now)
        ]
        return self.order_json(found[0]) if found else ORDER_DOES_NOT_EXIST

    def _history(
        self,
        request: RestRequest,
        rows_of: Callable[[str, int], list[_Row]],
        *,
        row_id: Callable[[_Row], int],
        moment: Callable[[_Row], int],
        cursor: str,
        cursor_reaches_back: bool,
        render: Callable[[_Row], dict[str, Any]],
    ) -> Any:
        """A page of one symbol's history, oldest first, as `ALL_ORDERS_PATH` and `USER_TRADES_PATH` say.

        ``rows_of(symbol, now_ms)`` is what the endpoint still finds; ``cursor`` names the id to start from, which
        reaches past the recent 7 days when ``cursor_reaches_back``."""
        query = request.query
        symbol = query.get("symbol")
        if not symbol:
            return mandatory("symbol")
        limit = query.get("limit", str(DEFAULT_LIMIT))
        if not (limit.isdecimal() and 1 <= int(limit) <= MAX_LIMIT):
            return INVALID_LIMIT
        start, end = query.get("startTime"), query.get("endTime")
        if start is not None and end is not None and int(end) - int(start) > HISTORY_SPAN_MS:
            return INVALID_INTERVAL
        now = self._now_ms()
        rows = sorted(rows_of(symbol, now), key=row_id)
        if cursor in query:
            rows = [row for row in rows if row_id(row) >= int(query[cursor])]
        if start is not None or end is not None:
            # From the one given, 7 days on (or back); never cut at "now": the ledger's stamps may run ahead of it.
            earliest = int(start) if start is not None else int(end or 0) - HISTORY_SPAN_MS
            latest = int(end) if end is not None else earliest + HISTORY_SPAN_MS
            rows = [row for row in rows if earliest <= moment(row) <= latest]
        elif not (cursor in query and cursor_reaches_back):
            rows = [row for row in rows if moment(row) >= now - HISTORY_SPAN_MS]  # "the recent 7 days"
        chosen = rows[: int(limit)] if cursor in query or start is not None or end is not None else rows[-int(limit) :]
        self.served_page(request.path)
        return [render(row) for row in chosen]

    def _findable(self, order: LedgerOrder, now: int) -> bool:
        if order.created_at + ORDERS_KEPT_MS < now:
            return False
        unfilled_ending = order.status in _UNFILLED_ENDINGS and not order.filled_amount
        return not (unfilled_ending and order.created_at + UNFILLED_FINISHED_KEPT_MS < now)

    def _now_ms(self) -> int:
        return int(self.exchange.now() * 1000)


def install_account(exchange: FakeExchange) -> BinanceFuturesAccount:
    """Serve USD-M futures' account endpoints on ``exchange`` (speaking `BinanceListenKeyDialect` with the USD-M
    profile, its listen-key routes installed); return the account's truth."""
    dialect = exchange.dialect
    if not isinstance(dialect, BinanceListenKeyDialect) or dialect.profile is not USDM_FUTURES:
        raise TypeError(f"install_account() needs BinanceListenKeyDialect(USDM_FUTURES), not {dialect!r}")
    account = BinanceFuturesAccount(exchange, dialect.state)
    routes = {
        BALANCE_PATH: account.balance_reply,
        OPEN_ORDERS_PATH: account.open_orders_reply,
        ALL_ORDERS_PATH: account.all_orders_reply,
        USER_TRADES_PATH: account.user_trades_reply,
        ORDER_PATH: account.order_reply,
    }
    account.serve_signed("GET", routes)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Binance USDⓈ-M futures documents them, for the tests."""

    LISTEN_KEY: ClassVar[dict[str, Any]] = {
        "listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    }
    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "e": "ORDER_TRADE_UPDATE",
        "E": 1795568753028,
        "T": 1795568753027,
        "o": {
            "s": "BTCUSDT",
            "c": "userstream-1",
            "S": "BUY",
            "o": "LIMIT",
            "f": "GTC",
            "q": "0.001",
            "p": "60000",
            "ap": "0",
            "sp": "0",
            "x": "NEW",
            "X": "NEW",
            "i": 8886774,
            "l": "0",
            "z": "0",
            "L": "0",
            "T": 1795568753027,
            "t": 0,
            "b": "60",
            "a": "0",
            "m": False,
            "R": False,
            "wt": "CONTRACT_PRICE",
            "ot": "LIMIT",
            "ps": "BOTH",
            "cp": False,
            "rp": "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_TAKER",
            "pm": "NONE",
            "gtd": 0,
        },
    }
    FILL: ClassVar[dict[str, Any]] = {
        "e": "ORDER_TRADE_UPDATE",
        "E": 1795568753128,
        "T": 1795568753127,
        "o": {
            **ORDER_UPDATE["o"],
            "ap": "60000",
            "x": "TRADE",
            "X": "FILLED",
            "l": "0.001",
            "z": "0.001",
            "L": "60000",
            "T": 1795568753127,
            "t": 1001,
            "b": "0",
            "N": "USDT",
            "n": "0.024",
        },
    }
    ACCOUNT_UPDATE: ClassVar[dict[str, Any]] = {
        "e": "ACCOUNT_UPDATE",
        "E": 1795568753128,
        "T": 1795568753127,
        "a": {
            "m": "ORDER",
            "B": [{"a": "USDT", "wb": "999.976", "cw": "999.976", "bc": "0"}],
            "P": [
                {
                    "s": "BTCUSDT",
                    "pa": "0.001",
                    "ep": "60000",
                    "bep": "60024",
                    "cr": "0",
                    "up": "0",
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                }
            ],
        },
    }
    TRADE_LITE: ClassVar[dict[str, Any]] = {
        "e": "TRADE_LITE",
        "E": 1795568753129,
        "T": 1795568753127,
        "s": "BTCUSDT",
        "q": "0.001",
        "p": "60000",
        "m": False,
        "c": "userstream-1",
        "S": "BUY",
        "L": "60000",
        "l": "0.001",
        "t": 1001,
        "i": 8886774,
    }
    LISTEN_KEY_EXPIRED: ClassVar[dict[str, Any]] = {
        "e": "listenKeyExpired",
        "E": 1795572353027,
        "listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1",
    }
    INVALID_API_KEY: ClassVar[dict[str, Any]] = {
        "code": -2015,
        "msg": "Invalid API-key, IP, or permissions for action.",
    }
    SERVER_TIME: ClassVar[dict[str, Any]] = {"serverTime": 1795568753027}
    PARTIAL_FILL: ClassVar[dict[str, Any]] = {
        "e": "ORDER_TRADE_UPDATE",
        "E": 1795568753228,
        "T": 1795568753227,
        "o": {
            **ORDER_UPDATE["o"],
            "c": "userstream-2",
            "q": "0.002",
            "ap": "60000",
            "x": "TRADE",
            "X": "PARTIALLY_FILLED",
            "i": 8886775,
            "l": "0.001",
            "z": "0.001",
            "L": "60000",
            "T": 1795568753227,
            "t": 1002,
            "m": True,
            "N": "USDT",
            "n": "0.012",
        },
    }
    CANCELED: ClassVar[dict[str, Any]] = {
        "e": "ORDER_TRADE_UPDATE",
        "E": 1795568753328,
        "T": 1795568753327,
        "o": {
            **{name: value for name, value in PARTIAL_FILL["o"].items() if name not in ("N", "n")},
            "x": "CANCELED",
            "X": "CANCELED",
            "l": "0",
            "L": "0",
            "T": 1795568753327,
            "t": 0,
            "m": False,
        },
    }
    DEPOSIT: ClassVar[dict[str, Any]] = {
        "e": "ACCOUNT_UPDATE",
        "E": 1564745798939,
        "T": 1564745798938,
        "a": {
            "m": "DEPOSIT",
            "B": [{"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678", "bc": "50.12345678"}],
            "P": [],
        },
    }
    BALANCE_REPLY: ClassVar[list[dict[str, Any]]] = [
        {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": "122607.35137903",
            "crossWalletBalance": "23.72469206",
            "crossUnPnl": "0.00000000",
            "availableBalance": "23.72469206",
            "maxWithdrawAmount": "23.72469206",
            "marginAvailable": True,
            "updateTime": 1617939110373,
        }
    ]
    OPEN_ORDER: ClassVar[dict[str, Any]] = {
        "avgPrice": "0.00000",
        "clientOrderId": "userstream-1",
        "cumQuote": "0",
        "executedQty": "0",
        "orderId": 8886774,
        "origQty": "0.001",
        "origType": "LIMIT",
        "price": "60000",
        "reduceOnly": False,
        "side": "BUY",
        "positionSide": "BOTH",
        "status": "NEW",
        "stopPrice": "0",
        "closePosition": False,
        "symbol": "BTCUSDT",
        "time": 1795568753027,
        "timeInForce": "GTC",
        "type": "LIMIT",
        "updateTime": 1795568753027,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
    }
    OPEN_ORDERS_REPLY: ClassVar[list[dict[str, Any]]] = [OPEN_ORDER]
    ORDER_REPLY: ClassVar[dict[str, Any]] = {
        **OPEN_ORDER,
        "avgPrice": "60000.00000",
        "cumQuote": "60.00000",
        "executedQty": "0.001",
        "status": "FILLED",
        "updateTime": 1795568753127,
    }
    ALL_ORDERS_REPLY: ClassVar[list[dict[str, Any]]] = [ORDER_REPLY]
    USER_TRADES_REPLY: ClassVar[list[dict[str, Any]]] = [
        {
            "buyer": True,
            "commission": "0.024",
            "commissionAsset": "USDT",
            "id": 1001,
            "maker": False,
            "orderId": 8886774,
            "price": "60000",
            "qty": "0.001",
            "quoteQty": "60",
            "realizedPnl": "0",
            "side": "BUY",
            "positionSide": "BOTH",
            "symbol": "BTCUSDT",
            "time": 1795568753127,
        }
    ]
    ORDER_NOT_FOUND: ClassVar[dict[str, Any]] = {"code": -2013, "msg": "Order does not exist."}
    TIMESTAMP_OUTSIDE_RECV_WINDOW: ClassVar[dict[str, Any]] = {
        "code": -1021,
        "msg": "Timestamp for this request is outside of the recvWindow.",
    }
    INVALID_SIGNATURE: ClassVar[dict[str, Any]] = {"code": -1022, "msg": "Signature for this request is not valid."}


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    LARGEST_PAGE: ClassVar[int | None] = MAX_LIMIT
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTCUSDT", "ETHUSDT")
    GUARANTEE: ClassVar[str] = (
        "exact: every fill and every order's final state once; balances: wallet (total) and cross wallet (available)"
    )
    keys: BinanceListenKeyState
    account: BinanceFuturesAccount

    def dialect(self) -> Dialect:
        return BinanceListenKeyDialect(USDM_FUTURES)

    def install(self, exchange: FakeExchange) -> None:
        self.keys = install(exchange)  # the listen-key routes (POST, PUT, DELETE) and the time endpoint
        self.account = install_account(exchange)

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The fake serves each key's stream at <ws_url>/<listenKey>, as Binance does under WS_PRIVATE_URL.
        return {"ws_url": exchange.ws_url, "rest_url": exchange.rest_url}

    def options(self) -> Mapping[str, Any]:
        # The order history and the trades take one symbol at a time: a bot names the symbols it trades, as the
        # generated README asks, or an order placed and finished within a gap on a symbol it has not seen is missed.
        return {"symbols": self.SYMBOLS}

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        self.keys.fail_next("POST", INVALID_API_KEY)  # the listen key is the stream's one credential
        return True

    async def expire_credentials(self, exchange: FakeExchange) -> bool:
        if self.keys.active_key is None:
            return False
        await self.keys.expire()  # listenKeyExpired on the connections using it
        return True

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.ACCOUNT_UPDATE]
