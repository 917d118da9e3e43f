"""Bybit v5's private WebSocket, as the fake exchange speaks it (login-message archetype).

Modelled on Bybit's V5 documentation (https://bybit-exchange.github.io/docs/v5/ws/connect): the
"Connect" page (authentication, heartbeat, subscription responses), the private topics "Order",
"Execution" and "Wallet", and "Get Bybit Server Time" (``/v5/market/time``); the account over REST
(`BybitAccount`) from "Integration Guidance", "Get Wallet Balance", "Get Open & Closed Orders", "Get Order
History", "Get Trade History" and "Error Codes". Bybit documents no notice before it ends a private
connection and no lifetime for one (only an idle cut-off after 10 minutes without traffic).

=====================  ===========================================================================
client auth            ``{"op": "auth", "args": [api_key, expires, signature]}``; ``expires`` a
                       future moment in ms, ``signature`` = hex HMAC-SHA256(secret,
                       ``"GET/realtime" + expires``); an ``expires`` already past is refused
auth ack / refusal     ``{"success": true|false, "ret_msg": "" | reason, "op": "auth", "conn_id"}``
client subscribe       ``{"op": "subscribe", "args": ["order", "execution", "wallet"]}``
subscribe ack          one ``{"success": true, "ret_msg": "", "op": "subscribe", "conn_id"}`` per message
keepalive              ``{"op": "ping"}`` (every 20 s recommended), answered on the private stream by
                       ``{"req_id", "op": "pong", "args": [server ms], "conn_id"}``
user events            ``{"id", "topic": "order" | "execution" | "wallet", "creationTime", "data": [...]}``
REST time              ``GET /v5/market/time`` -> ``{"retCode": 0, "result": {"timeSecond", "timeNano"}, "time"}``
=====================  ===========================================================================
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from userstream.events import OrderStatus
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse, TimeEndpoint
from userstream.testing.ledger import Change, Ledger, LedgerBalance, LedgerFill, LedgerOrder, OrderChanged

PRIVATE_PATH = "/v5/private"
"""Appended to the fake exchange's ``ws_url``, as ``wss://stream.bybit.com/v5/private`` is to the host."""
SERVER_TIME_PATH = "/v5/market/time"
PARAMS_ERROR = "Params Error"
"""What Bybit v5 answers to an auth whose ``expires`` has passed (or is malformed)."""
INVALID_KEY = "Invalid apikey"
INVALID_SIGNATURE = "Invalid sign"
NOT_AUTHORIZED = "Request not authorized"

# Private topics: all-in-one, or categorised (the two kinds cannot share one request).
_ALL_IN_ONE = frozenset({"order", "execution", "execution.fast", "position", "wallet", "greeks", "dcp"})
_CATEGORISED = frozenset(
    f"{topic}.{category}"
    for topic in ("order", "execution", "execution.fast", "position")
    for category in ("spot", "linear", "inverse", "option")
)
_OPS = {"auth": ClientIntent.LOGIN, "subscribe": ClientIntent.SUBSCRIBE, "ping": ClientIntent.PING}


class BybitDialect(Dialect):
    """Bybit v5's private stream: verifies the real auth signature and that ``expires`` is still ahead."""

    requires_login = True

    def __init__(self, *, conn_id: str = "cejreaspqfh3sjdnldmg-p", clock: Callable[[], float] = time.time) -> None:
        self.conn_id = conn_id
        self.clock = clock
        """The exchange's clock for pongs and event times; `install` sets it to the fake exchange's (skewed) one."""
        self.revoked_keys: set[str] = set()
        self._event_ids = itertools.count(1)

    @staticmethod
    def expected_signature(secret: str, expires: str) -> str:
        """What Bybit expects as the third auth argument for ``expires`` (its decimal text)."""
        return hmac.new(secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()

    def classify_client(self, message: Any) -> ClientIntent:
        op = message.get("op") if isinstance(message, dict) else None
        return _OPS.get(op, ClientIntent.OTHER) if isinstance(op, str) else ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        args = message.get("args")
        if not isinstance(args, list) or len(args) != 3:
            return PARAMS_ERROR
        api_key, expires, signature = args
        if api_key != credentials.api_key or api_key in self.revoked_keys:
            return INVALID_KEY
        # An integer, or its decimal text: both are seen in Bybit's own examples. A bool is neither.
        if isinstance(expires, bool) or not isinstance(expires, int | str) or not str(expires).isdigit():
            return PARAMS_ERROR
        if int(expires) <= server_time * 1000:
            return PARAMS_ERROR
        if not isinstance(signature, str) or not hmac.compare_digest(
            signature, self.expected_signature(credentials.secret, str(expires))
        ):
            return INVALID_SIGNATURE
        return None

    def login_ack(self, message: Any) -> Any:
        return self._reply(message, "auth", success=True, ret_msg="")

    def login_rejection(self, message: Any, reason: str) -> Any:
        return self._reply(message, "auth", success=False, ret_msg=reason)

    def subscribe_replies(self, message: Any) -> list[Any]:
        args = message.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(arg, str) for arg in args):
            return [self._reply(message, "subscribe", success=False, ret_msg=PARAMS_ERROR)]
        unknown = [arg for arg in args if arg not in _ALL_IN_ONE | _CATEGORISED]
        if unknown:
            return [self.subscribe_rejection(message, f"error:handler not found,topic:{unknown[0]}")]
        if any(arg in _ALL_IN_ONE for arg in args) and any(arg in _CATEGORISED for arg in args):
            return [self.subscribe_rejection(message, "error:all-in-one and categorised topics in one request")]
        return [self._reply(message, "subscribe", success=True, ret_msg="")]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        ret_msg = NOT_AUTHORIZED if reason == "login required" else reason
        return self._reply(message, "subscribe", success=False, ret_msg=ret_msg)

    def pong(self, message: Any) -> Any:
        # The private stream's pong (the public streams answer {"success": true, "ret_msg": "pong", "op": "ping"}).
        return {
            "req_id": message.get("req_id", ""),
            "op": "pong",
            "args": [str(int(self.clock() * 1000))],
            "conn_id": self.conn_id,
        }

    def heartbeat(self) -> Any:
        # Bybit sends nothing unprompted but data; an unsolicited pong is the nearest liveness frame.
        return self.pong({})

    def user_event(self, channel: str, data: Any) -> Any:
        return {
            "id": f"{next(self._event_ids):08d}-fake",
            "topic": channel,
            "creationTime": int(self.clock() * 1000),
            "data": data if isinstance(data, list) else [data],
        }

    def _reply(self, message: Any, op: str, *, success: bool, ret_msg: str) -> dict[str, Any]:
        reply: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "op": op, "conn_id": self.conn_id}
        if isinstance(message, dict) and "req_id" in message:
            reply["req_id"] = message["req_id"]
        return reply


# --- user events with Bybit's real shapes ----------------------------------------------------------


def _now_ms() -> int:
    return int(time.time() * 1000)


def order_update(
    order_id: str,
    *,
    order_link_id: str = "",
    symbol: str = "BTCUSDT",
    side: str = "Buy",
    price: str = "30000",
    qty: str = "0.01",
    order_status: str = "New",
    cum_exec_qty: str = "0",
    cum_exec_value: str = "0",
    cum_exec_fee: str = "0",
    avg_price: str = "",
    category: str = "spot",
) -> dict[str, Any]:
    """An ``order`` topic push for one order (``order_status``: New, PartiallyFilled, Filled, Cancelled)."""
    moment = _now_ms()
    order = {
        "category": category,
        "symbol": symbol,
        "orderId": order_id,
        "orderLinkId": order_link_id,
        "side": side,
        "orderType": "Limit",
        "price": price,
        "qty": qty,
        "timeInForce": "GTC",
        "orderStatus": order_status,
        "cancelType": "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": avg_price,
        "leavesQty": str(float(qty) - float(cum_exec_qty)),
        "cumExecQty": cum_exec_qty,
        "cumExecValue": cum_exec_value,
        "cumExecFee": cum_exec_fee,
        "feeCurrency": "BTC" if category == "spot" and side == "Buy" else "USDT",
        "createdTime": str(moment),
        "updatedTime": str(moment),
    }
    return {"id": f"{order_id}-{moment}", "topic": "order", "creationTime": moment, "data": [order]}


def execution(
    order_id: str,
    exec_id: str,
    *,
    exec_qty: str,
    exec_price: str,
    exec_fee: str = "0.00001",
    symbol: str = "BTCUSDT",
    side: str = "Buy",
    order_qty: str = "0.01",
    leaves_qty: str = "0",
    is_maker: bool = False,
    category: str = "spot",
) -> dict[str, Any]:
    """An ``execution`` topic push: one fill of an order."""
    moment = _now_ms()
    fill = {
        "category": category,
        "symbol": symbol,
        "orderId": order_id,
        "orderLinkId": "",
        "side": side,
        "orderPrice": exec_price,
        "orderQty": order_qty,
        "leavesQty": leaves_qty,
        "orderType": "Limit",
        "execId": exec_id,
        "execPrice": exec_price,
        "execQty": exec_qty,
        "execValue": str(float(exec_qty) * float(exec_price)),
        "execFee": exec_fee,
        "feeRate": "0.001",
        "execType": "Trade",
        "execTime": str(moment),
        "isMaker": is_maker,
        "seq": moment,
        "feeCurrency": "BTC" if category == "spot" and side == "Buy" else "USDT",
    }
    return {"id": f"{exec_id}-{moment}", "topic": "execution", "creationTime": moment, "data": [fill]}


def wallet_update(
    coin: str, *, wallet_balance: str, locked: str = "0", account_type: str = "UNIFIED"
) -> dict[str, Any]:
    """A ``wallet`` topic push for one coin's balance."""
    moment = _now_ms()
    coin_balance = {
        "coin": coin,
        "equity": wallet_balance,
        "walletBalance": wallet_balance,
        "locked": locked,
        "usdValue": "",
        "unrealisedPnl": "0",
        "cumRealisedPnl": "0",
    }
    account = {"accountType": account_type, "totalEquity": "", "totalWalletBalance": "", "coin": [coin_balance]}
    return {"id": f"wallet-{moment}", "topic": "wallet", "creationTime": moment, "data": [account]}


# --- REST ------------------------------------------------------------------------------------------


@dataclass
class BybitExchangeState:
    """What a test steers on the fake Bybit: the time endpoint and which API keys are valid."""

    exchange: FakeExchange
    dialect: BybitDialect
    time: TimeEndpoint

    def revoke(self, api_key: str) -> None:
        """Refuse auths with ``api_key`` from now on."""
        self.dialect.revoked_keys.add(api_key)

    def restore(self, api_key: str) -> None:
        self.dialect.revoked_keys.discard(api_key)


def install(exchange: FakeExchange) -> BybitExchangeState:
    """Serve Bybit's REST time endpoint on ``exchange`` (whose dialect must be a `BybitDialect`)."""
    if not isinstance(exchange.dialect, BybitDialect):
        raise TypeError(f"install() needs a FakeExchange speaking BybitDialect, not {type(exchange.dialect).__name__}")
    exchange.dialect.clock = exchange.now
    time = exchange.serve_time(
        SERVER_TIME_PATH,
        reply=lambda now: {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"timeSecond": str(int(now)), "timeNano": str(int(now * 1_000_000_000))},
            "retExtInfo": {},
            "time": int(now * 1000),
        },
        error=lambda now: {"retCode": 10016, "retMsg": "Server Error", "result": {}, "time": int(now * 1000)},
    )
    return BybitExchangeState(exchange, exchange.dialect, time)


def private_url(exchange: FakeExchange) -> str:
    """The fake's private stream URL, shaped like Bybit's ``wss://stream.bybit.com/v5/private``."""
    return exchange.ws_url + PRIVATE_PATH


def credentials(api_key: str = "bybit-api-key", secret: str = "bybit-secret") -> Credentials:
    return Credentials(api_key=api_key, secret=secret)


# --- the account over REST ------------------------------------------------------------------------

BALANCE_PATH = "/v5/account/wallet-balance"
OPEN_ORDERS_PATH = "/v5/order/realtime"
"""Open orders, newest first; ``openOnly=1`` the 500 most recently closed; by ``orderId``, either."""
ORDER_HISTORY_PATH = "/v5/order/history"
EXECUTIONS_PATH = "/v5/execution/list"
ORDERS_MAX_LIMIT = 50
ORDERS_DEFAULT_LIMIT = 20
EXECUTIONS_MAX_LIMIT = 100
EXECUTIONS_DEFAULT_LIMIT = 50
RECENTLY_CLOSED = 500
"""How many closed orders per category the open-orders endpoint still shows."""
_HOUR_MS = 3600 * 1000
_DAY_MS = 24 * _HOUR_MS
HISTORY_SPAN_MS = 7 * _DAY_MS
"""The most a history request may span (``endTime - startTime``), and what it reads when given one end or none."""
HISTORY_REACH_MS = 730 * _DAY_MS
"""How far back the order and trade histories reach (2 years)."""
UNFILLED_CLOSE_KEPT_MS = 24 * _HOUR_MS
"""How long an order closed without a fill (cancelled, rejected) stays in the history; one with fills stays 2 years."""
DEFAULT_RECV_WINDOW = "5000"
FUTURE_TOLERANCE_MS = 1000
"""A timestamp may be this far ahead of the server's clock: ``server_time - recv_window <= timestamp < server_time
+ 1000``."""
REST_INVALID_KEY = (10003, "API key is invalid.")
PARAMETER_ERROR = 10001
OTHER_CATEGORIES = frozenset({"linear", "inverse", "option"})
"""Valid ``category`` values the spot-only account has nothing in."""
_STATUSES = {
    OrderStatus.OPEN: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
}
_REST_ERRORS: Mapping[int, tuple[int, str]] = {
    403: (10006, "access too frequent"),
    429: (10006, "Too many visits. Exceeded the API Rate Limit."),
    500: (10016, "Server error."),
    503: (10016, "Server error."),
    504: (10000, "Server Timeout"),
}


def rest_signature(secret: str, timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    """``X-BAPI-SIGN``: hex HMAC-SHA256 of timestamp + API key + recv window + query string (GET) or JSON body."""
    prehash = f"{timestamp}{api_key}{recv_window}{payload}"
    return hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).hexdigest()


def check_rest_request(
    request: RestRequest, credentials: Credentials, server_time: float, revoked_keys: Collection[str] = ()
) -> RestResponse | None:
    """Bybit's refusal of a signed request, or None to accept it.

    Missing authentication headers: HTTP 401. A key, timestamp or signature Bybit does not accept: HTTP 200 with
    ``retCode`` 10003, 10002 or 10004.
    """
    headers = request.headers
    api_key, timestamp, sign = (headers.get(name, "") for name in ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-SIGN"))
    now_ms = int(server_time * 1000)
    if not (api_key and timestamp and sign):
        return RestResponse(rest_error(*REST_INVALID_KEY, now_ms), 401)
    if api_key != credentials.api_key or api_key in revoked_keys:
        return RestResponse(rest_error(*REST_INVALID_KEY, now_ms))
    recv_window = headers.get("X-BAPI-RECV-WINDOW", DEFAULT_RECV_WINDOW)
    if not (timestamp.isdigit() and recv_window.isdigit()) or not (
        now_ms - int(recv_window) <= int(timestamp) < now_ms + FUTURE_TOLERANCE_MS
    ):
        message = (
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]"
        )
        return RestResponse(rest_error(10002, message, now_ms))
    payload = request.query_string if request.method == "GET" else request.body
    expected = rest_signature(credentials.secret, timestamp, api_key, recv_window, payload)
    if not hmac.compare_digest(sign, expected):
        origin = f"{timestamp}{api_key}{recv_window}{payload}"
        return RestResponse(rest_error(10004, f"error sign! origin_string[{origin}]", now_ms))
    return None


def reply(result: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": dict(result), "retExtInfo": {}, "time": now_ms}


def rest_error(ret_code: int, ret_msg: str, now_ms: int) -> dict[str, Any]:
    return {"retCode": ret_code, "retMsg": ret_msg, "result": {}, "retExtInfo": {}, "time": now_ms}


def _cursor(key: tuple[int, int]) -> str:
    # Bybit's cursors are opaque; this one needs no escaping, so the query the fake sees is the one signed.
    return f"{key[0]}-{key[1]}"


def _after_cursor(cursor: str) -> tuple[int, int] | None:
    moment, _, row_id = cursor.partition("-")
    return (int(moment), int(row_id)) if moment.isdigit() and row_id.isdigit() else None


class BybitAccount(Ledger):
    """The account on the fake Bybit: spot orders, fills and balances of a unified account, as Bybit v5 has them.

    ========================================  ====================================================================
    ``GET /v5/account/wallet-balance``        ``accountType=UNIFIED``; ``result.list[0].coin[]``: ``walletBalance``,
                                              ``locked`` (by spot orders)..., coins with a zero balance left out
    ``GET /v5/order/realtime``                ``category`` required; open orders (``openOnly=0``, the default) or the
                                              500 most recently closed (``openOnly=1``), newest first by
                                              ``createdTime``; by ``orderId``/``orderLinkId`` either kind
    ``GET /v5/order/history``                 closed orders: all of the last 7 days, those cancelled unfilled only
                                              for 24 hours, older ones only with fills (2 years back)
    ``GET /v5/execution/list``                fills, newest first by ``execTime``; ``execFee`` positive when paid
    all three lists                           ``limit`` 1-50 (executions 1-100); ``cursor`` = ``nextPageCursor``
                                              (``""`` on the last page); ``startTime``/``endTime`` at most 7 days
                                              apart, one of them alone reads 7 days from (or up to) it, neither the
                                              last 7 days
    errors                                    HTTP 200 with ``retCode``: 10001 parameters, 10002 timestamp, 10003
                                              key, 10004 sign; HTTP 401 without the authentication headers;
                                              429/403/5xx with Bybit's code
    pushes                                    ``execution`` (each fill) then ``order`` (its new state) per change;
                                              ``wallet`` (the changed coin's absolute balance)
    ========================================  ====================================================================

    The docs do not say which time the history's ``startTime``/``endTime`` select by; the fake takes the stricter
    reading, ``createdTime`` (its sort order), so an order placed before the window is found only by its own lookup.
    """

    DEFAULT_SYMBOL = "BTCUSDT"
    FIRST_ORDER_ID = 1811634547419049216
    FIRST_TRADE_ID = 2100000000062580127

    def __init__(self, exchange: FakeExchange, dialect: BybitDialect) -> None:
        super().__init__(exchange)
        self.dialect = dialect

    # --- the exchange's shapes --------------------------------------------------------------------

    def order_json(self, order: LedgerOrder) -> dict[str, Any]:
        """One spot order as Bybit writes it in a REST row; an ``order`` push adds its ``category``."""
        fills = [fill for fill in self.fills if fill.order_id == order.order_id and fill.time <= order.updated_at]
        fee_detail: dict[str, Decimal] = {}
        for fill in fills:
            fee_detail[fill.fee_asset] = fee_detail.get(fill.fee_asset, Decimal(0)) + fill.fee
        canceled = order.status is OrderStatus.CANCELED
        leaves = order.amount - order.filled_amount if order.is_open else Decimal(0)
        return {
            "orderId": order.order_id,
            "orderLinkId": order.client_order_id or "",
            "blockTradeId": "",
            "symbol": order.symbol,
            "price": str(order.price),
            "qty": str(order.amount),
            "side": order.side.capitalize(),
            "isLeverage": "0",
            "positionIdx": 0,
            "orderStatus": _order_status(order),
            "cancelType": "CancelByUser" if canceled else "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": str(order.average_price) if order.filled_amount else "",
            "leavesQty": str(leaves),
            "leavesValue": str(leaves * order.price),
            "cumExecQty": str(order.filled_amount),
            "cumExecValue": str(order.filled_value),
            "cumExecFee": "",
            "feeCurrency": "",
            "timeInForce": "GTC",
            "orderType": order.order_type.capitalize(),
            "stopOrderType": "",
            "ocoTriggerBy": "OcoTriggerByUnknown",
            "orderIv": "",
            "marketUnit": "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "basePrice": str(order.price),
            "reduceOnly": False,
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(order.created_at),
            "updatedTime": str(order.updated_at),
            "cumFeeDetail": {asset: str(fee) for asset, fee in fee_detail.items()},
        }

    def execution_json(self, fill: LedgerFill) -> dict[str, Any]:
        """One fill as Bybit writes it in a REST row; an ``execution`` push adds its ``category``."""
        order = self.orders[fill.order_id]
        executed = sum(
            (f.amount for f in self.fills if f.order_id == fill.order_id and f.time <= fill.time), Decimal(0)
        )
        return {
            "symbol": fill.symbol,
            "isLeverage": "0",
            "orderId": fill.order_id,
            "orderLinkId": fill.client_order_id or "",
            "side": fill.side.capitalize(),
            "orderPrice": str(order.price),
            "orderQty": str(order.amount),
            "leavesQty": str(order.amount - executed),
            "orderType": order.order_type.capitalize(),
            "stopOrderType": "",
            "execFee": str(fill.fee),
            "execId": fill.trade_id,
            "execPrice": str(fill.price),
            "execQty": str(fill.amount),
            "execType": "Trade",
            "execValue": str(fill.price * fill.amount),
            "execTime": str(fill.time),
            "feeCurrency": fill.fee_asset,
            "isMaker": fill.maker,
            "feeRate": "0.001",
            "tradeIv": "",
            "markIv": "",
            "markPrice": "",
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "extraFees": "",
            "seq": fill.time,
        }

    @staticmethod
    def coin_json(balance: LedgerBalance) -> dict[str, Any]:
        """One coin of the unified account; ``free`` and ``availableToWithdraw`` are deprecated for it."""
        return {
            "coin": balance.asset,
            "equity": str(balance.total),
            "usdValue": "",
            "walletBalance": str(balance.total),
            "locked": str(balance.locked),
            "spotHedgingQty": "0",
            "borrowAmount": "0",
            "accruedInterest": "0",
            "totalOrderIM": "0",
            "totalPositionIM": "0",
            "totalPositionMM": "0",
            "unrealisedPnl": "0",
            "cumRealisedPnl": "0",
            "bonus": "0",
            "collateralSwitch": True,
            "marginCollateral": True,
            "spotBorrow": "0",
            "availableToWithdraw": "",
            "availableToBorrow": "",
        }

    @staticmethod
    def wallet_json(coins: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "accountType": "UNIFIED",
            "accountIMRate": "0",
            "accountMMRate": "0",
            "totalEquity": "",
            "totalWalletBalance": "",
            "totalMarginBalance": "",
            "totalAvailableBalance": "",
            "totalPerpUPL": "0",
            "totalInitialMargin": "0",
            "totalMaintenanceMargin": "0",
            "accountLTV": "0",
            "coin": coins,
        }

    def frames(self, change: Change) -> Sequence[Any]:
        if isinstance(change, OrderChanged):
            frames = []
            if change.fill is not None:
                execution = {"category": "spot", **self.execution_json(change.fill)}
                frames.append(self._push("execution", execution, change.fill.time))
            order = {"category": "spot", **self.order_json(change.order)}
            return [*frames, self._push("order", order, change.order.updated_at)]
        balance = change.balance
        return [self._push("wallet", self.wallet_json([self.coin_json(balance)]), balance.updated_at)]

    def error_reply(self, status: int, reason: str) -> Any:
        ret_code, ret_msg = _REST_ERRORS.get(status, (10016, reason))
        return rest_error(ret_code, ret_msg, self._now_ms())

    # --- the REST routes -----------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        return check_rest_request(request, self.exchange.credentials, self.exchange.now(), self.dialect.revoked_keys)

    def wallet_balance_reply(self, request: RestRequest) -> Any:
        if request.query.get("accountType") != "UNIFIED":
            return self._parameter_error("accountType only support UNIFIED.")
        wanted = set(filter(None, request.query.get("coin", "").split(",")))
        shown = [b for asset, b in sorted(self.balances.items()) if asset in wanted or (not wanted and b.total != 0)]
        coins = [self.coin_json(balance) for balance in shown]
        # Stamped after every change so far: the balances are as of the reply's `time`.
        return reply({"list": [self.wallet_json(coins)]}, self.stamp())

    def open_orders_reply(self, request: RestRequest) -> Any:
        recently_closed = self.finished_orders()[-RECENTLY_CLOSED:]
        order_id, link_id = request.query.get("orderId"), request.query.get("orderLinkId")
        if order_id or link_id:
            orders = [
                order
                for order in [*self.open_orders(), *recently_closed]
                if order_id in (None, order.order_id) and link_id in (None, order.client_order_id)
            ]
        else:
            orders = recently_closed if request.query.get("openOnly") == "1" else self.open_orders()
        return self._page(request, self._of_symbol(request, orders), ORDERS_MAX_LIMIT, ORDERS_DEFAULT_LIMIT)

    def order_history_reply(self, request: RestRequest) -> Any:
        window = self._window(request)
        if isinstance(window, RestResponse):
            return window
        now = self._now_ms()
        kept = [
            order
            for order in self.finished_orders()
            if self._in_history(order, now) and _within(order.created_at, window)
        ]
        order_id, link_id = request.query.get("orderId"), request.query.get("orderLinkId")
        kept = [o for o in kept if order_id in (None, o.order_id) and link_id in (None, o.client_order_id)]
        return self._page(request, self._of_symbol(request, kept), ORDERS_MAX_LIMIT, ORDERS_DEFAULT_LIMIT)

    def executions_reply(self, request: RestRequest) -> Any:
        window = self._window(request)
        if isinstance(window, RestResponse):
            return window
        oldest = self._now_ms() - HISTORY_REACH_MS
        order_id = request.query.get("orderId")
        fills = [
            fill
            for fill in self.fills
            if fill.time >= oldest and _within(fill.time, window) and order_id in (None, fill.order_id)
        ]
        symbol = request.query.get("symbol")
        fills = [fill for fill in fills if symbol in (None, fill.symbol)]
        return self._page(request, fills, EXECUTIONS_MAX_LIMIT, EXECUTIONS_DEFAULT_LIMIT)

    # --- helpers -------------------------------------------------------------------------------------

    def _page(self, request: RestRequest, rows: Sequence[LedgerOrder | LedgerFill], most: int, default: int) -> Any:
        """One page of ``rows``, newest first, after the request's ``cursor``; ``nextPageCursor`` "" on the last."""
        category = request.query.get("category", "")
        if category != "spot":
            if category not in OTHER_CATEGORIES:
                return self._parameter_error("params error: category is invalid")
            rows = []  # the account trades spot only
        limit = request.query.get("limit", str(default))
        if not (limit.isdecimal() and 1 <= int(limit) <= most):
            return self._parameter_error(f"params error: limit must be between 1 and {most}")
        newest_first = sorted(rows, key=_row_key, reverse=True)
        cursor = request.query.get("cursor")
        if cursor:
            after = _after_cursor(cursor)
            if after is None:
                return self._parameter_error("params error: cursor invalid")
            newest_first = [row for row in newest_first if _row_key(row) < after]
        page = newest_first[: int(limit)]
        next_cursor = _cursor(_row_key(page[-1])) if len(newest_first) > len(page) else ""
        self.served_page(request.path)
        rendered = [self.order_json(row) if isinstance(row, LedgerOrder) else self.execution_json(row) for row in page]
        return reply({"category": category, "list": rendered, "nextPageCursor": next_cursor}, self._now_ms())

    def _window(self, request: RestRequest) -> tuple[int, int | None] | RestResponse:
        """The ``(start, end)`` in ms a history request reads; end None: no end (stamps may be ahead of the clock)."""
        start, end = request.query.get("startTime"), request.query.get("endTime")
        if not all(text.isdigit() for text in (start, end) if text is not None):
            return self._parameter_error("params error: startTime and endTime must be timestamps in ms")
        if start is not None and end is not None:
            if not 0 <= int(end) - int(start) <= HISTORY_SPAN_MS:
                return self._parameter_error("The time range between startTime and endTime cannot exceed 7 days.")
            return int(start), int(end)
        if start is not None:
            return int(start), int(start) + HISTORY_SPAN_MS
        if end is not None:
            return int(end) - HISTORY_SPAN_MS, int(end)
        return self._now_ms() - HISTORY_SPAN_MS, None

    @staticmethod
    def _in_history(order: LedgerOrder, now_ms: int) -> bool:
        """Whether Bybit still lists the closed ``order`` in its history."""
        age = now_ms - order.updated_at
        if not order.filled_amount:
            return age <= UNFILLED_CLOSE_KEPT_MS
        return age <= HISTORY_REACH_MS

    @staticmethod
    def _of_symbol(request: RestRequest, orders: Sequence[LedgerOrder]) -> list[LedgerOrder]:
        symbol = request.query.get("symbol")
        return [order for order in orders if symbol in (None, order.symbol)]

    def _parameter_error(self, message: str) -> RestResponse:
        return RestResponse(rest_error(PARAMETER_ERROR, message, self._now_ms()))

    @staticmethod
    def _push(topic: str, row: dict[str, Any], moment: int) -> dict[str, Any]:
        return {"id": f"{topic}-{moment}", "topic": topic, "creationTime": moment, "data": [row]}

    def _now_ms(self) -> int:
        return int(self.exchange.now() * 1000)


def _order_status(order: LedgerOrder) -> str:
    if order.status is OrderStatus.CANCELED:
        return "PartiallyFilledCanceled" if order.filled_amount else "Cancelled"
    return _STATUSES[order.status]


def _row_key(row: LedgerOrder | LedgerFill) -> tuple[int, int]:
    """How Bybit orders a list, newest first: orders by ``createdTime``, fills by ``execTime``, then by id."""
    if isinstance(row, LedgerOrder):
        return row.created_at, int(row.order_id)
    return row.time, int(row.trade_id)


def _within(moment: int, window: tuple[int, int | None]) -> bool:
    start, end = window
    return start <= moment and (end is None or moment <= end)


def install_account(exchange: FakeExchange) -> BybitAccount:
    """Serve Bybit's account endpoints on ``exchange`` (speaking `BybitDialect`); return the account's truth."""
    if not isinstance(exchange.dialect, BybitDialect):
        raise TypeError(f"install_account() needs BybitDialect, not {type(exchange.dialect).__name__}")
    account = BybitAccount(exchange, exchange.dialect)
    routes = {
        BALANCE_PATH: account.wallet_balance_reply,
        OPEN_ORDERS_PATH: account.open_orders_reply,
        ORDER_HISTORY_PATH: account.order_history_reply,
        EXECUTIONS_PATH: account.executions_reply,
    }
    account.serve_signed("GET", routes)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Bybit v5 documents them, for the tests."""

    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "id": "1811634547419049216-1795568753027",
        "topic": "order",
        "creationTime": 1795568753027,
        "data": [
            {
                "category": "spot",
                "symbol": "BTCUSDT",
                "orderId": "1811634547419049216",
                "orderLinkId": "bot-1",
                "blockTradeId": "",
                "isLeverage": "0",
                "positionIdx": 0,
                "side": "Buy",
                "orderType": "Limit",
                "price": "30000",
                "qty": "0.01",
                "timeInForce": "GTC",
                "orderStatus": "New",
                "cancelType": "UNKNOWN",
                "rejectReason": "EC_NoError",
                "avgPrice": "",
                "leavesQty": "0.01",
                "leavesValue": "300",
                "cumExecQty": "0",
                "cumExecValue": "0",
                "cumExecFee": "0",
                "feeCurrency": "",
                "stopOrderType": "",
                "ocoTriggerBy": "OcoTriggerByUnknown",
                "smpType": "None",
                "smpGroup": 0,
                "smpOrderId": "",
                "createdTime": "1795568753027",
                "updatedTime": "1795568753027",
                "cumFeeDetail": {},
            }
        ],
    }
    EXECUTION: ClassVar[dict[str, Any]] = {
        "id": "2100000000062580127-1795568753127",
        "topic": "execution",
        "creationTime": 1795568753127,
        "data": [
            {
                "category": "spot",
                "symbol": "BTCUSDT",
                "isLeverage": "0",
                "orderId": "1811634547419049216",
                "orderLinkId": "bot-1",
                "side": "Buy",
                "orderPrice": "30000",
                "orderQty": "0.01",
                "leavesQty": "0.006",
                "orderType": "Limit",
                "stopOrderType": "",
                "execId": "2100000000062580127",
                "execPrice": "30000",
                "execQty": "0.004",
                "execValue": "120",
                "execFee": "0.000004",
                "feeRate": "0.001",
                "execType": "Trade",
                "execTime": "1795568753127",
                "isMaker": False,
                "blockTradeId": "",
                "closedSize": "",
                "extraFees": "",
                "seq": 4688002127,
                "feeCurrency": "BTC",
            }
        ],
    }
    ORDER_PARTIALLY_FILLED: ClassVar[dict[str, Any]] = {
        "id": "1811634547419049216-1795568753127",
        "topic": "order",
        "creationTime": 1795568753127,
        "data": [
            {
                **ORDER_UPDATE["data"][0],
                "orderStatus": "PartiallyFilled",
                "avgPrice": "30000",
                "leavesQty": "0.006",
                "leavesValue": "180",
                "cumExecQty": "0.004",
                "cumExecValue": "120",
                "updatedTime": "1795568753127",
                "cumFeeDetail": {"BTC": "0.000004"},
            }
        ],
    }
    ORDER_CANCELLED: ClassVar[dict[str, Any]] = {
        "id": "1811634547419049216-1795568754027",
        "topic": "order",
        "creationTime": 1795568754027,
        "data": [
            {
                **ORDER_PARTIALLY_FILLED["data"][0],
                "orderStatus": "PartiallyFilledCanceled",
                "cancelType": "CancelByUser",
                "leavesQty": "0",
                "leavesValue": "0",
                "updatedTime": "1795568754027",
            }
        ],
    }
    OPTION_ORDER: ClassVar[dict[str, Any]] = {
        "id": "5923240c6880ab-c59f-420b-9adb-3639adc9dd90",
        "topic": "order",
        "creationTime": 1672364262474,
        "data": [
            {
                "symbol": "ETH-30DEC22-1400-C",
                "orderId": "5cf98598-39a7-459e-97bf-76ca765ee020",
                "side": "Sell",
                "orderType": "Market",
                "cancelType": "UNKNOWN",
                "price": "72.5",
                "qty": "1",
                "timeInForce": "IOC",
                "orderStatus": "Filled",
                "orderLinkId": "",
                "leavesQty": "",
                "cumExecQty": "1",
                "cumExecValue": "75",
                "avgPrice": "75",
                "cumExecFee": "0.358635",
                "createdTime": "1672364262444",
                "updatedTime": "1672364262457",
                "category": "option",
                "feeCurrency": "",
                "cumFeeDetail": {"MNT": "0.00242968"},
            }
        ],
    }
    """The documentation's own example: an option order, which the spot account leaves out."""
    LINEAR_EXECUTION: ClassVar[dict[str, Any]] = {
        "topic": "execution",
        "id": "386825804_BTCUSDT_140612148849382",
        "creationTime": 1746270400355,
        "data": [
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "execFee": "26.3725275",
                "execId": "0ab1bdf7-4219-438b-b30a-32ec863018f7",
                "execPrice": "95900.1",
                "execQty": "0.5",
                "execType": "Trade",
                "execValue": "47950.05",
                "orderId": "9aac161b-8ed6-450d-9cab-c5cc67c21784",
                "orderLinkId": "",
                "side": "Sell",
                "execTime": "1746270400353",
                "isMaker": False,
                "feeCurrency": "USDT",
            }
        ],
    }
    """The documentation's own example: a USDT perpetual fill, which the spot account leaves out."""
    WALLET_UPDATE: ClassVar[dict[str, Any]] = {
        "id": "592324d2bce751-ad38-48eb-8f42-4671d1fb4d4e",
        "topic": "wallet",
        "creationTime": 1795568753127,
        "data": [
            {
                "accountIMRate": "0",
                "accountMMRate": "0",
                "totalEquity": "880.1",
                "totalWalletBalance": "880.1",
                "totalMarginBalance": "880.1",
                "totalAvailableBalance": "760.1",
                "totalPerpUPL": "0",
                "totalInitialMargin": "0",
                "totalMaintenanceMargin": "0",
                "coin": [
                    {
                        "coin": "USDT",
                        "equity": "879.998",
                        "usdValue": "879.998",
                        "walletBalance": "879.998",
                        "availableToWithdraw": "",
                        "availableToBorrow": "",
                        "borrowAmount": "0",
                        "accruedInterest": "0",
                        "totalOrderIM": "0",
                        "totalPositionIM": "0",
                        "totalPositionMM": "0",
                        "unrealisedPnl": "0",
                        "cumRealisedPnl": "0",
                        "bonus": "0",
                        "collateralSwitch": True,
                        "marginCollateral": True,
                        "locked": "120",
                        "spotHedgingQty": "0",
                        "spotBorrow": "0",
                    }
                ],
                "accountLTV": "0",
                "accountType": "UNIFIED",
            }
        ],
    }
    AUTH_OK: ClassVar[dict[str, Any]] = {
        "success": True,
        "ret_msg": "",
        "op": "auth",
        "conn_id": "cejreaspqfh3sjdnldmg-p",
    }
    AUTH_REFUSED: ClassVar[dict[str, Any]] = {
        "success": False,
        "ret_msg": "Invalid sign",
        "op": "auth",
        "conn_id": "cejreaspqfh3sjdnldmg-p",
    }
    AUTH_EXPIRED: ClassVar[dict[str, Any]] = {
        "success": False,
        "ret_msg": "Params Error",
        "op": "auth",
        "conn_id": "cejreaspqfh3sjdnldmg-p",
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "success": True,
        "ret_msg": "",
        "op": "subscribe",
        "conn_id": "cejreaspqfh3sjdnldmg-p",
    }
    SUBSCRIBE_REFUSED: ClassVar[dict[str, Any]] = {
        "success": False,
        "ret_msg": "error:handler not found,topic:orders",
        "op": "subscribe",
        "conn_id": "cejreaspqfh3sjdnldmg-p",
    }
    PONG: ClassVar[dict[str, Any]] = {
        "req_id": "",
        "op": "pong",
        "args": ["1795568753127"],
        "conn_id": "cejreaspqfh3sjdnldmg-p",
    }
    PUBLIC_PONG: ClassVar[dict[str, Any]] = {
        "success": True,
        "ret_msg": "pong",
        "conn_id": "0970e817-426e-429a-a679-ff7f55e0b16a",
        "op": "ping",
    }
    SERVER_TIME: ClassVar[dict[str, Any]] = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"timeSecond": "1688639403", "timeNano": "1688639403423213947"},
        "retExtInfo": {},
        "time": 1688639403423,
    }
    BALANCE_REPLY: ClassVar[dict[str, Any]] = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "list": [
                {
                    "totalEquity": "1180.1",
                    "accountIMRate": "0",
                    "totalMarginBalance": "1180.1",
                    "totalInitialMargin": "0",
                    "accountType": "UNIFIED",
                    "totalAvailableBalance": "1060.1",
                    "accountMMRate": "0",
                    "totalPerpUPL": "0",
                    "totalWalletBalance": "1180.1",
                    "accountLTV": "0",
                    "totalMaintenanceMargin": "0",
                    "coin": [
                        {
                            "availableToBorrow": "",
                            "bonus": "0",
                            "accruedInterest": "0",
                            "availableToWithdraw": "",
                            "totalOrderIM": "0",
                            "equity": "0.01",
                            "totalPositionMM": "0",
                            "usdValue": "300.1",
                            "spotHedgingQty": "0",
                            "unrealisedPnl": "0",
                            "collateralSwitch": True,
                            "borrowAmount": "0.0",
                            "totalPositionIM": "0",
                            "walletBalance": "0.01",
                            "cumRealisedPnl": "0",
                            "locked": "0",
                            "marginCollateral": True,
                            "coin": "BTC",
                            "spotBorrow": "0",
                        },
                        {
                            "availableToBorrow": "",
                            "bonus": "0",
                            "accruedInterest": "0",
                            "availableToWithdraw": "",
                            "totalOrderIM": "0",
                            "equity": "879.998",
                            "totalPositionMM": "0",
                            "usdValue": "879.998",
                            "spotHedgingQty": "0",
                            "unrealisedPnl": "0",
                            "collateralSwitch": True,
                            "borrowAmount": "0.0",
                            "totalPositionIM": "0",
                            "walletBalance": "879.998",
                            "cumRealisedPnl": "0",
                            "locked": "120",
                            "marginCollateral": True,
                            "coin": "USDT",
                            "spotBorrow": "0",
                        },
                    ],
                }
            ]
        },
        "retExtInfo": {},
        "time": 1795568754127,
    }
    OPEN_ORDERS_REPLY: ClassVar[dict[str, Any]] = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "list": [{key: value for key, value in ORDER_UPDATE["data"][0].items() if key != "category"}],
            "nextPageCursor": "",
            "category": "spot",
        },
        "retExtInfo": {},
        "time": 1795568754127,
    }
    ORDER_HISTORY_REPLY: ClassVar[dict[str, Any]] = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "list": [{key: value for key, value in ORDER_CANCELLED["data"][0].items() if key != "category"}],
            "nextPageCursor": "page_token%3D39380%26",
            "category": "spot",
        },
        "retExtInfo": {},
        "time": 1795568754127,
    }
    EXECUTIONS_REPLY: ClassVar[dict[str, Any]] = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "nextPageCursor": "132766%3A2%2C132766%3A2",
            "category": "spot",
            "list": [{key: value for key, value in EXECUTION["data"][0].items() if key != "category"}],
        },
        "retExtInfo": {},
        "time": 1795568754127,
    }
    NO_ORDERS_REPLY: ClassVar[dict[str, Any]] = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"list": [], "nextPageCursor": "", "category": "spot"},
        "retExtInfo": {},
        "time": 1795568754127,
    }
    SIGN_REFUSED_REPLY: ClassVar[dict[str, Any]] = {
        "retCode": 10004,
        "retMsg": "error sign! origin_string[1795568754127bybit-api-key5000accountType=UNIFIED]",
        "result": {},
        "retExtInfo": {},
        "time": 1795568754128,
    }
    TIMESTAMP_REFUSED_REPLY: ClassVar[dict[str, Any]] = {
        "retCode": 10002,
        "retMsg": "invalid request, please check your server timestamp or recv_window param. "
        "req_timestamp[1795568744127],server_timestamp[1795568754127],recv_window[5000]",
        "result": {},
        "retExtInfo": {},
        "time": 1795568754127,
    }


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    LARGEST_PAGE: ClassVar[int | None] = EXECUTIONS_MAX_LIMIT
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTCUSDT", "ETHUSDT")
    GUARANTEE: ClassVar[str] = "exact (spot): every fill and every order's final state once, balances absolute"
    account: BybitAccount

    def dialect(self) -> Dialect:
        return BybitDialect()

    def credentials(self) -> Credentials:
        return credentials()

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)
        self.account = install_account(exchange)

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        return {"ws_url": private_url(exchange), "rest_url": exchange.rest_url}

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        exchange.reject_next_login(INVALID_SIGNATURE)
        return True

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.EXECUTION, DocumentedFrames.WALLET_UPDATE]
