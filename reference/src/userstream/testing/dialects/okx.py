"""OKX v5's private WebSocket, as the fake exchange speaks it (login-message archetype).

Modelled on OKX's API v5 documentation (https://www.okx.com/docs-v5/en/): "WebSocket / Login",
"Subscribe", "Notification", "Connection count limit", the WebSocket error codes 60004-64008,
"Order channel", "Account channel" and "Get system time".

=====================  ===========================================================================
client login           ``{"op": "login", "args": [{"apiKey", "passphrase", "timestamp", "sign"}]}``;
                       ``timestamp`` in seconds (a string), ``sign`` = base64 HMAC-SHA256(secret,
                       ``timestamp + "GET" + "/users/self/verify"``); refused more than 30 s off
login ack              ``{"event": "login", "code": "0", "msg": "", "connId"}``
errors                 ``{"event": "error", "code": "600xx", "msg", "connId"}`` for logins and subscribes
client subscribe       ``{"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}, ...]}``
subscribe acks         one ``{"event": "subscribe", "arg": {...}, "connId"}`` per argument, then a
                       ``{"event": "channel-conn-count", ...}`` for channels with a connection limit
keepalive              the text ``"ping"``, answered by the text ``"pong"`` (not JSON)
end of stream          ``{"event": "notice", "code": "64008", ...}`` 60 s before a service upgrade
user events            ``{"arg": {"channel", "uid", ...}, "data": [...]}``
REST time              ``GET /api/v5/public/time`` -> ``{"code": "0", "msg": "", "data": [{"ts": ms}]}``
=====================  ===========================================================================
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from userstream.events import OrderStatus
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse, TimeEndpoint
from userstream.testing.ledger import Change, Ledger, LedgerBalance, LedgerFill, LedgerOrder, OrderChanged

PRIVATE_PATH = "/v5/private"
"""Appended to the fake exchange's ``ws_url``, as ``wss://ws.okx.com:8443/ws/v5/private`` is to the host."""
SERVER_TIME_PATH = "/api/v5/public/time"
TIMESTAMP_WINDOW = 30.0
"""Seconds a login's timestamp may be off the exchange's clock ("The request will expire 30 seconds after")."""
IDLE_TIMEOUT = 30.0
"""OKX closes a connection (code 4004, "No data received in 30s") after this long without client traffic."""
IDLE_CLOSE_CODE = 4004
DEFAULT_UID = "44012345678901234"

# The documented WebSocket error codes the fake produces, by message.
ERROR_CODES: Mapping[str, str] = {
    "Invalid timestamp": "60004",
    "Invalid apiKey": "60005",
    "Timestamp request expired": "60006",
    "Invalid sign": "60007",
    "Login failed.": "60009",
    "Please log in": "60011",
    "Invalid request": "60012",
    "Wrong passphrase": "60024",
}
LOGIN_FAILED = "60009"
"""The code of a refusal the fake was told to make (`FakeExchange.reject_next_login`) with a reason of its own."""
SERVICE_UPGRADE = "64008"

_INST_TYPES = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"})
_CHANNELS_NEEDING_INST_TYPE = frozenset({"orders", "positions"})
# Channels OKX limits to 30 connections per sub-account; a subscription to one is followed by a count.
_COUNTED_CHANNELS = frozenset({"orders", "account", "positions", "balance_and_position"})
_PRIVATE_CHANNELS = _COUNTED_CHANNELS


class OkxDialect(Dialect):
    """OKX v5's private stream: verifies the real login signature, passphrase and 30-second window."""

    requires_login = True

    def __init__(self, *, uid: str = DEFAULT_UID, conn_id: str = "a4d3ae55") -> None:
        self.uid = uid
        self.conn_id = conn_id
        self.revoked_keys: set[str] = set()
        """API keys the exchange now refuses (`OkxExchangeState.revoke`)."""

    @staticmethod
    def expected_sign(secret: str, timestamp: str) -> str:
        """What OKX expects in ``sign`` for a login with ``timestamp`` (the string exactly as sent)."""
        mac = hmac.new(secret.encode(), f"{timestamp}GET/users/self/verify".encode(), hashlib.sha256)
        return base64.b64encode(mac.digest()).decode()

    def classify_client(self, message: Any) -> ClientIntent:
        if message == "ping":
            return ClientIntent.PING
        op = message.get("op") if isinstance(message, dict) else None
        if op == "login":
            return ClientIntent.LOGIN
        return ClientIntent.SUBSCRIBE if op == "subscribe" else ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        args = message.get("args")
        if not (isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict)):
            return "Invalid request"
        login: dict[str, Any] = args[0]
        for name in ("apiKey", "passphrase", "timestamp", "sign"):
            if not isinstance(login.get(name), str) or not login[name]:
                return "Invalid request"
        if login["apiKey"] != credentials.api_key or login["apiKey"] in self.revoked_keys:
            return "Invalid apiKey"
        if credentials.passphrase is not None and login["passphrase"] != credentials.passphrase:
            return "Wrong passphrase"
        try:
            timestamp = float(login["timestamp"])
        except ValueError:
            return "Invalid timestamp"
        if timestamp < server_time - TIMESTAMP_WINDOW:
            return "Timestamp request expired"
        if timestamp > server_time + TIMESTAMP_WINDOW:
            return "Invalid timestamp"
        if not hmac.compare_digest(login["sign"], self.expected_sign(credentials.secret, login["timestamp"])):
            return "Invalid sign"
        return None

    def login_ack(self, message: Any) -> Any:
        return {"event": "login", "code": "0", "msg": "", "connId": self.conn_id}

    def login_rejection(self, message: Any, reason: str) -> Any:
        return self.error(ERROR_CODES.get(reason, LOGIN_FAILED), reason)

    def subscribe_replies(self, message: Any) -> list[Any]:
        args = message.get("args")
        if not isinstance(args, list) or not args:
            return [self.error("60012", f"Invalid request: {json.dumps(message)}")]
        replies: list[Any] = []
        for arg in args:
            reason = self._check_arg(arg)
            if reason is not None:
                replies.append(self.error("60018", reason))
                continue
            replies.append({"event": "subscribe", "arg": arg, "connId": self.conn_id})
            if arg["channel"] in _COUNTED_CHANNELS:
                replies.append(
                    {"event": "channel-conn-count", "channel": arg["channel"], "connCount": "1", "connId": self.conn_id}
                )
        return replies

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        if reason == "login required":
            return self.error("60011", "Please log in")
        return self.error("60012", f"Invalid request: {reason}")

    def pong(self, message: Any) -> Any:
        return "pong"

    def heartbeat(self) -> Any:
        # OKX sends no heartbeat of its own; an unsolicited "pong" is the nearest liveness frame.
        return "pong"

    def user_event(self, channel: str, data: Any) -> Any:
        arg = {"channel": channel, "uid": self.uid}
        if channel in _CHANNELS_NEEDING_INST_TYPE:
            arg["instType"] = "SPOT"
        return {"arg": arg, "data": data if isinstance(data, list) else [data]}

    def error(self, code: str, msg: str) -> dict[str, Any]:
        return {"event": "error", "code": code, "msg": msg, "connId": self.conn_id}

    def service_upgrade_notice(self) -> dict[str, Any]:
        """The notice OKX sends 60 s before it closes every connection for a service upgrade."""
        return {
            "event": "notice",
            "code": SERVICE_UPGRADE,
            "msg": "The connection will soon be closed for a service upgrade. Please reconnect.",
            "connId": self.conn_id,
        }

    @staticmethod
    def _check_arg(arg: Any) -> str | None:
        channel = arg.get("channel") if isinstance(arg, dict) else None
        inst_type = arg.get("instType") if isinstance(arg, dict) else None
        if channel not in _PRIVATE_CHANNELS or (
            channel in _CHANNELS_NEEDING_INST_TYPE and inst_type not in _INST_TYPES
        ):
            return f"Wrong URL or channel:{channel},instType:{inst_type} doesn't exist."
        return None


# --- user events with OKX's real shapes ------------------------------------------------------------


def _now_ms() -> str:
    return str(int(time.time() * 1000))


def order_update(
    ord_id: str,
    *,
    cl_ord_id: str = "",
    inst_id: str = "BTC-USDT",
    side: str = "buy",
    px: str = "30000",
    sz: str = "0.01",
    state: str = "live",
    acc_fill_sz: str = "0",
    fill_sz: str = "0",
    fill_px: str = "",
    trade_id: str = "",
    fee: str = "0",
    fee_ccy: str = "USDT",
    u_time: str | None = None,
    uid: str = DEFAULT_UID,
) -> dict[str, Any]:
    """An ``orders`` channel push for one SPOT order (``state``: live, partially_filled, filled, canceled)."""
    moment = u_time or _now_ms()
    order = {
        "instType": "SPOT",
        "instId": inst_id,
        "ordId": ord_id,
        "clOrdId": cl_ord_id,
        "px": px,
        "sz": sz,
        "ordType": "limit",
        "side": side,
        "tdMode": "cash",
        "state": state,
        "accFillSz": acc_fill_sz,
        "fillSz": fill_sz,
        "fillPx": fill_px,
        "tradeId": trade_id,
        "fillTime": moment if trade_id else "",
        "avgPx": fill_px or "0",
        "fee": fee,
        "feeCcy": fee_ccy,
        "execType": "T" if trade_id else "",
        "code": "0",
        "msg": "",
        "cTime": moment,
        "uTime": moment,
    }
    return {"arg": {"channel": "orders", "instType": "SPOT", "uid": uid}, "data": [order]}


def fill(
    ord_id: str,
    trade_id: str,
    *,
    fill_sz: str,
    fill_px: str,
    acc_fill_sz: str | None = None,
    sz: str = "0.01",
    fee: str = "-0.0003",
    **fields: Any,
) -> dict[str, Any]:
    """An ``orders`` push reporting a fill: OKX has no separate fills channel for most accounts."""
    accumulated = acc_fill_sz or fill_sz
    state = "filled" if float(accumulated) >= float(sz) else "partially_filled"
    return order_update(
        ord_id,
        sz=sz,
        state=state,
        acc_fill_sz=accumulated,
        fill_sz=fill_sz,
        fill_px=fill_px,
        trade_id=trade_id,
        fee=fee,
        **fields,
    )


def balance_update(
    ccy: str, *, cash_bal: str, avail_bal: str, frozen_bal: str = "0", uid: str = DEFAULT_UID
) -> dict[str, Any]:
    """An ``account`` channel push for one currency's balance (an event-driven update)."""
    moment = _now_ms()
    detail = {
        "ccy": ccy,
        "cashBal": cash_bal,
        "availBal": avail_bal,
        "frozenBal": frozen_bal,
        "eq": cash_bal,
        "availEq": avail_bal,
        "ordFrozen": frozen_bal,
        "uTime": moment,
    }
    return {
        "arg": {"channel": "account", "uid": uid},
        "eventType": "event_update",
        "data": [{"uTime": moment, "totalEq": "", "details": [detail]}],
    }


# --- REST ------------------------------------------------------------------------------------------


@dataclass
class OkxExchangeState:
    """What a test steers on the fake OKX: the time endpoint and which API keys are valid."""

    exchange: FakeExchange
    dialect: OkxDialect
    time: TimeEndpoint

    async def close_idle_connections(self, idle_after: float = IDLE_TIMEOUT) -> None:
        """Close (code 4004) every connection whose client sent nothing for ``idle_after`` seconds, as OKX does.

        Runs until cancelled: a test starts it as a task and cancels it when done.
        """
        loop = asyncio.get_running_loop()
        last_heard: dict[int, tuple[int, float]] = {}  # connection id -> (messages received, when that changed)
        while True:
            await asyncio.sleep(idle_after / 10)
            now = loop.time()
            for connection in [c for c in self.exchange.connections if c.open]:
                count, since = last_heard.get(connection.id, (-1, connection.opened_at))
                if len(connection.received) != count:
                    last_heard[connection.id] = (len(connection.received), now)
                elif now - since >= idle_after:
                    await connection.socket.close(code=IDLE_CLOSE_CODE, message=b"No data received in 30s")

    def revoke(self, api_key: str) -> None:
        """Refuse logins with ``api_key`` from now on (60005 "Invalid apiKey")."""
        self.dialect.revoked_keys.add(api_key)

    def restore(self, api_key: str) -> None:
        self.dialect.revoked_keys.discard(api_key)


def install(exchange: FakeExchange) -> OkxExchangeState:
    """Serve OKX's REST time endpoint on ``exchange`` (whose dialect must be an `OkxDialect`)."""
    if not isinstance(exchange.dialect, OkxDialect):
        raise TypeError(f"install() needs a FakeExchange speaking OkxDialect, not {type(exchange.dialect).__name__}")
    time = exchange.serve_time(
        SERVER_TIME_PATH,
        reply=lambda now: {"code": "0", "msg": "", "data": [{"ts": str(int(now * 1000))}]},
        error=lambda now: {"code": "50001", "msg": "Service temporarily unavailable", "data": []},
    )
    return OkxExchangeState(exchange, exchange.dialect, time)


def private_url(exchange: FakeExchange) -> str:
    """The fake's private stream URL, shaped like OKX's ``wss://ws.okx.com:8443/ws/v5/private``."""
    return exchange.ws_url + PRIVATE_PATH


def credentials(
    api_key: str = "okx-api-key", secret: str = "okx-secret", passphrase: str = "okx-passphrase"
) -> Credentials:
    """An OKX account: OKX keys always come with a passphrase."""
    return Credentials(api_key=api_key, secret=secret, passphrase=passphrase)


# --- the account over REST ------------------------------------------------------------------------

BALANCE_PATH = "/api/v5/account/balance"
ORDERS_PENDING_PATH = "/api/v5/trade/orders-pending"
ORDERS_HISTORY_PATH = "/api/v5/trade/orders-history"
"""Orders completed in the last 7 days; one cancelled without a fill is kept only 2 hours."""
ORDERS_HISTORY_ARCHIVE_PATH = "/api/v5/trade/orders-history-archive"
"""The same over the last 3 months."""
FILLS_PATH = "/api/v5/trade/fills"
"""Fills of the last 3 days."""
FILLS_HISTORY_PATH = "/api/v5/trade/fills-history"
"""Fills of the last 3 months."""
ORDER_PATH = "/api/v5/trade/order"
MAX_LIMIT = 100
"""The most rows one page of a list endpoint holds (``limit``, also its default)."""
HISTORY_DAYS = 7
ARCHIVE_DAYS = 92
FILLS_DAYS = 3
UNFILLED_CANCEL_KEPT_MS = 2 * 3600 * 1000
"""How long OKX lists an order cancelled without any fill in its order history."""
REST_TIMESTAMP_WINDOW = 30.0
"""Seconds an ``OK-ACCESS-TIMESTAMP`` may be off the exchange's clock."""
ORDER_NOT_FOUND = ("51603", "Order does not exist")
_DAY_MS = 24 * 3600 * 1000
_STATES = {
    OrderStatus.OPEN: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
}
_REST_ERRORS: Mapping[int, tuple[str, str]] = {
    429: ("50011", "Rate limit reached. Please refer to API documentation and throttle requests accordingly."),
    500: ("50000", "Internal error"),
    503: ("50001", "Service temporarily unavailable. Please try again later."),
}


def rest_signature(secret: str, timestamp: str, method: str, path_and_query: str, body: str) -> str:
    """``OK-ACCESS-SIGN``: base64 HMAC-SHA256 of timestamp + method + request path (with its query) + body."""
    payload = f"{timestamp}{method.upper()}{path_and_query}{body}"
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()


def check_rest_request(request: RestRequest, credentials: Credentials, server_time: float) -> tuple[str, str] | None:
    """The code and message OKX refuses a signed request with (HTTP 401), or None to accept it."""
    headers = request.headers
    if headers.get("OK-ACCESS-KEY") != credentials.api_key:
        return "50111", "Invalid OK-ACCESS-KEY"
    if credentials.passphrase is not None and headers.get("OK-ACCESS-PASSPHRASE") != credentials.passphrase:
        return "50105", "Invalid OK-ACCESS-PASSPHRASE"
    timestamp = headers.get("OK-ACCESS-TIMESTAMP", "")
    try:
        sent = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return "50112", "Invalid OK-ACCESS-TIMESTAMP"
    if abs(sent - server_time) > REST_TIMESTAMP_WINDOW:
        return "50102", "Timestamp request expired"
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    expected = rest_signature(credentials.secret, timestamp, request.method, path, request.body)
    if not hmac.compare_digest(headers.get("OK-ACCESS-SIGN", ""), expected):
        return "50113", "Invalid Sign"
    return None


def reply(data: list[Any]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def rest_error(code: str, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": []}


class OkxAccount(Ledger):
    """The account on the fake OKX: SPOT orders, fills and balances, pushed and served as OKX v5 does.

    ===============================  =============================================================================
    ``GET /api/v5/account/balance``  ``data: [{"uTime", "totalEq", "details": [{"ccy", "cashBal", "availBal",
                                     "frozenBal", "uTime", ...}]}]``
    ``GET .../trade/orders-pending`` open orders, newest first; ``after=<ordId>`` pages back, ``limit`` ≤ 100
    ``GET .../trade/orders-history`` ``instType`` required; orders completed in the last 7 days (cancelled
                                     unfilled: 2 hours), newest first, paged by ``after=<ordId>``
    ``GET .../trade/fills``          the last 3 days' fills, newest first, paged by ``after=<billId>``;
                                     ``begin``/``end`` filter on ``ts``; ``fee`` negative for a charge
    ``GET /api/v5/trade/order``      ``instId`` and ``ordId``; ``51603 Order does not exist`` (HTTP 200)
    errors                           HTTP 401 ``{"code": "50113", "msg": "Invalid Sign", "data": []}`` and the
                                     like; any other failure HTTP 4xx/5xx with OKX's code
    pushes                           ``orders`` (one per change; a fill carries ``tradeId``, ``fillSz``,
                                     ``fillPx``, ``fillFee``), ``account`` (the changed currency's balance)
    ===============================  =============================================================================
    """

    FIRST_ORDER_ID = 680800019749904384
    FIRST_TRADE_ID = 1468

    def __init__(self, exchange: FakeExchange, dialect: OkxDialect) -> None:
        super().__init__(exchange)
        self.dialect = dialect
        self._bill_ids: dict[str, int] = {}
        self._next_bill_id = itertools.count(6250000000000000)

    # --- the exchange's shapes --------------------------------------------------------------------

    def order_json(self, order: LedgerOrder, fill: LedgerFill | None = None) -> dict[str, Any]:
        """One order as OKX writes it, in a push and in every REST reply; ``fill``: the push's execution."""
        return {
            "instType": "SPOT",
            "instId": order.symbol,
            "ordId": order.order_id,
            "clOrdId": order.client_order_id or "",
            "px": str(order.price),
            "sz": str(order.amount),
            "ordType": order.order_type,
            "side": order.side,
            "tdMode": "cash",
            "state": _STATES[order.status],
            "accFillSz": str(order.filled_amount),
            "avgPx": str(order.average_price) if order.filled_amount else "",
            "fillPx": str(fill.price) if fill else "",
            "fillSz": str(fill.amount) if fill else "0",
            "tradeId": fill.trade_id if fill else "",
            "fillTime": str(fill.time) if fill else "",
            "fillFee": str(-fill.fee) if fill else "0",
            "fillFeeCcy": fill.fee_asset if fill else "",
            "execType": ("M" if fill.maker else "T") if fill else "",
            "fee": str(-order.fees),
            "feeCcy": fill.fee_asset if fill else "",
            "code": "0",
            "msg": "",
            "cTime": str(order.created_at),
            "uTime": str(order.updated_at),
        }

    def fill_json(self, fill: LedgerFill) -> dict[str, Any]:
        """One row of ``GET /api/v5/trade/fills``."""
        return {
            "instType": "SPOT",
            "instId": fill.symbol,
            "tradeId": fill.trade_id,
            "ordId": fill.order_id,
            "clOrdId": fill.client_order_id or "",
            "billId": str(self._bill_id(fill)),
            "tag": "",
            "fillPx": str(fill.price),
            "fillSz": str(fill.amount),
            "side": fill.side,
            "posSide": "net",
            "execType": "M" if fill.maker else "T",
            "feeCcy": fill.fee_asset,
            "fee": str(-fill.fee),
            "ts": str(fill.time),
            "fillTime": str(fill.time),
        }

    def balance_json(self, balance: LedgerBalance) -> dict[str, Any]:
        return {
            "ccy": balance.asset,
            "cashBal": str(balance.total),
            "availBal": str(balance.available),
            "frozenBal": str(balance.locked),
            "eq": str(balance.total),
            "availEq": str(balance.available),
            "ordFrozen": str(balance.locked),
            "uTime": str(balance.updated_at),
        }

    def frames(self, change: Change) -> Sequence[Any]:
        uid = self.dialect.uid
        if isinstance(change, OrderChanged):
            data = [self.order_json(change.order, change.fill)]
            return [{"arg": {"channel": "orders", "instType": "SPOT", "uid": uid}, "data": data}]
        balance = change.balance
        detail = {"uTime": str(balance.updated_at), "totalEq": "", "details": [self.balance_json(balance)]}
        return [{"arg": {"channel": "account", "uid": uid}, "eventType": "event_update", "data": [detail]}]

    def error_reply(self, status: int, reason: str) -> Any:
        code, msg = _REST_ERRORS.get(status, ("50000", reason))
        return rest_error(code, msg)

    # --- the REST routes -----------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        refusal = check_rest_request(request, self.exchange.credentials, self.exchange.now())
        return None if refusal is None else RestResponse(rest_error(*refusal), 401)

    def balance_reply(self, request: RestRequest) -> Any:
        wanted = set(filter(None, request.query.get("ccy", "").split(",")))
        details = [self.balance_json(b) for asset, b in sorted(self.balances.items()) if not wanted or asset in wanted]
        moment = max((b.updated_at for b in self.balances.values()), default=self.stamp())
        return reply([{"uTime": str(moment), "totalEq": "", "details": details}])

    def orders_pending_reply(self, request: RestRequest) -> Any:
        return self._page(request, ORDERS_PENDING_PATH, self._of_inst(request, self.open_orders()))

    def orders_history_reply(self, request: RestRequest) -> Any:
        if request.query.get("instType") != "SPOT":
            return RestResponse(rest_error("51000", "Parameter instType error"), 400)
        now = int(self.exchange.now() * 1000)
        archive = request.path == ORDERS_HISTORY_ARCHIVE_PATH
        oldest = now - (ARCHIVE_DAYS if archive else HISTORY_DAYS) * _DAY_MS
        kept = [
            order
            for order in self.finished_orders()
            if order.updated_at >= oldest
            and (archive or order.filled_amount or order.updated_at >= now - UNFILLED_CANCEL_KEPT_MS)
        ]
        state = request.query.get("state")
        if state:
            kept = [order for order in kept if _STATES[order.status] == state]
        return self._page(request, request.path, self._of_inst(request, kept))

    def fills_reply(self, request: RestRequest) -> Any:
        now = int(self.exchange.now() * 1000)
        days = FILLS_DAYS if request.path == FILLS_PATH else ARCHIVE_DAYS
        if request.path == FILLS_HISTORY_PATH and request.query.get("instType") != "SPOT":
            return RestResponse(rest_error("51000", "Parameter instType error"), 400)
        begin = max(int(request.query.get("begin") or 0), now - days * _DAY_MS)
        end = request.query.get("end")
        rows = [f for f in self.fills if begin <= f.time and (end is None or f.time <= int(end))]
        inst_id = request.query.get("instId")
        rows = [f for f in rows if inst_id in (None, f.symbol)]
        limit = self._limit(request)
        if isinstance(limit, RestResponse):
            return limit
        after = request.query.get("after")
        newest_first = sorted(rows, key=self._bill_id, reverse=True)
        older = [f for f in newest_first if after is None or self._bill_id(f) < int(after)]
        self.served_page(request.path)
        return reply([self.fill_json(f) for f in older[:limit]])

    def order_reply(self, request: RestRequest) -> Any:
        order = self.orders.get(request.query.get("ordId", ""))
        if order is None or order.symbol != request.query.get("instId"):
            return reply([]) | {"code": ORDER_NOT_FOUND[0], "msg": ORDER_NOT_FOUND[1]}
        return reply([self.order_json(order)])

    def _page(self, request: RestRequest, path: str, orders: list[LedgerOrder]) -> Any:
        limit = self._limit(request)
        if isinstance(limit, RestResponse):
            return limit
        after = request.query.get("after")
        newest_first = sorted(orders, key=lambda order: int(order.order_id), reverse=True)
        older = [order for order in newest_first if after is None or int(order.order_id) < int(after)]
        self.served_page(path)
        return reply([self.order_json(order) for order in older[:limit]])

    @staticmethod
    def _limit(request: RestRequest) -> int | RestResponse:
        limit = request.query.get("limit", str(MAX_LIMIT))
        if not (limit.isdecimal() and 1 <= int(limit) <= MAX_LIMIT):
            return RestResponse(rest_error("51000", "Parameter limit error"), 400)
        return int(limit)

    @staticmethod
    def _of_inst(request: RestRequest, orders: list[LedgerOrder]) -> list[LedgerOrder]:
        inst_id = request.query.get("instId")
        return [order for order in orders if inst_id in (None, order.symbol)]

    def _bill_id(self, fill: LedgerFill) -> int:
        if fill.trade_id not in self._bill_ids:
            self._bill_ids[fill.trade_id] = next(self._next_bill_id)
        return self._bill_ids[fill.trade_id]


def install_account(exchange: FakeExchange) -> OkxAccount:
    """Serve OKX's account endpoints on ``exchange`` (speaking `OkxDialect`); return the account's truth."""
    if not isinstance(exchange.dialect, OkxDialect):
        raise TypeError(f"install_account() needs OkxDialect, not {type(exchange.dialect).__name__}")
    account = OkxAccount(exchange, exchange.dialect)
    routes = {
        BALANCE_PATH: account.balance_reply,
        ORDERS_PENDING_PATH: account.orders_pending_reply,
        ORDERS_HISTORY_PATH: account.orders_history_reply,
        ORDERS_HISTORY_ARCHIVE_PATH: account.orders_history_reply,
        FILLS_PATH: account.fills_reply,
        FILLS_HISTORY_PATH: account.fills_reply,
        ORDER_PATH: account.order_reply,
    }
    account.serve_signed("GET", routes)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as OKX v5 documents them, for the tests."""

    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "arg": {"channel": "orders", "instType": "SPOT", "uid": "44012345678901234"},
        "data": [
            {
                "instType": "SPOT",
                "instId": "BTC-USDT",
                "ordId": "680800019749904384",
                "clOrdId": "b15",
                "px": "30000",
                "sz": "0.01",
                "ordType": "limit",
                "side": "buy",
                "tdMode": "cash",
                "state": "live",
                "accFillSz": "0",
                "fillSz": "0",
                "fillPx": "",
                "tradeId": "",
                "fillTime": "",
                "avgPx": "0",
                "fillFee": "0",
                "fillFeeCcy": "",
                "fee": "0",
                "feeCcy": "USDT",
                "execType": "",
                "code": "0",
                "msg": "",
                "cTime": "1795568753027",
                "uTime": "1795568753027",
            }
        ],
    }
    FILL: ClassVar[dict[str, Any]] = {
        "arg": {"channel": "orders", "instType": "SPOT", "uid": "44012345678901234"},
        "data": [
            {
                **ORDER_UPDATE["data"][0],
                "state": "filled",
                "accFillSz": "0.01",
                "fillSz": "0.01",
                "fillPx": "30000",
                "tradeId": "1468",
                "fillTime": "1795568753127",
                "avgPx": "30000",
                "fillFee": "-0.00001",
                "fillFeeCcy": "BTC",
                "fee": "-0.00001",
                "feeCcy": "BTC",
                "execType": "T",
                "uTime": "1795568753127",
            }
        ],
    }
    BALANCE_UPDATE: ClassVar[dict[str, Any]] = {
        "arg": {"channel": "account", "uid": "44012345678901234"},
        "eventType": "event_update",
        "data": [
            {
                "uTime": "1795568753127",
                "totalEq": "",
                "details": [
                    {
                        "ccy": "USDT",
                        "cashBal": "100",
                        "availBal": "90",
                        "frozenBal": "10",
                        "eq": "100",
                        "availEq": "90",
                        "ordFrozen": "10",
                        "uTime": "1795568753127",
                    }
                ],
            }
        ],
    }
    LOGIN_OK: ClassVar[dict[str, Any]] = {"event": "login", "code": "0", "msg": "", "connId": "a4d3ae55"}
    LOGIN_REFUSED: ClassVar[dict[str, Any]] = {
        "event": "error",
        "code": "60007",
        "msg": "Invalid sign",
        "connId": "a4d3ae55",
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "event": "subscribe",
        "arg": {"channel": "orders", "instType": "SPOT"},
        "connId": "a4d3ae55",
    }
    CONNECTION_COUNT: ClassVar[dict[str, Any]] = {
        "event": "channel-conn-count",
        "channel": "orders",
        "connCount": "1",
        "connId": "a4d3ae55",
    }
    SERVICE_UPGRADE: ClassVar[dict[str, Any]] = {
        "event": "notice",
        "code": "64008",
        "msg": "The connection will soon be closed for a service upgrade. Please reconnect.",
        "connId": "a4d3ae55",
    }
    SERVER_TIME: ClassVar[dict[str, Any]] = {"code": "0", "msg": "", "data": [{"ts": "1795568753027"}]}
    BALANCE_REPLY: ClassVar[dict[str, Any]] = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "uTime": "1795568754027",
                "totalEq": "730.5",
                "details": [
                    {
                        "ccy": "BTC",
                        "cashBal": "0.01",
                        "availBal": "0.01",
                        "frozenBal": "0",
                        "eq": "0.01",
                        "availEq": "0.01",
                        "ordFrozen": "0",
                        "uTime": "1795568753127",
                    },
                    {
                        "ccy": "USDT",
                        "cashBal": "699.7",
                        "availBal": "400.7",
                        "frozenBal": "299",
                        "eq": "699.7",
                        "availEq": "400.7",
                        "ordFrozen": "299",
                        "uTime": "1795568754027",
                    },
                ],
            }
        ],
    }
    OPEN_ORDERS_REPLY: ClassVar[dict[str, Any]] = {"code": "0", "msg": "", "data": [ORDER_UPDATE["data"][0]]}
    ORDER_HISTORY_REPLY: ClassVar[dict[str, Any]] = {"code": "0", "msg": "", "data": [FILL["data"][0]]}
    FILLS_REPLY: ClassVar[dict[str, Any]] = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instType": "SPOT",
                "instId": "BTC-USDT",
                "tradeId": "1468",
                "ordId": "680800019749904384",
                "clOrdId": "b15",
                "billId": "6250000000000000",
                "tag": "",
                "fillPx": "30000",
                "fillSz": "0.01",
                "side": "buy",
                "posSide": "net",
                "execType": "T",
                "feeCcy": "BTC",
                "fee": "-0.00001",
                "ts": "1795568753127",
                "fillTime": "1795568753127",
            }
        ],
    }
    ORDER_NOT_FOUND: ClassVar[dict[str, Any]] = {"code": "51603", "msg": "Order does not exist", "data": []}


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    ANNOUNCES_CLOSE: ClassVar[bool] = True
    LARGEST_PAGE: ClassVar[int | None] = MAX_LIMIT
    account: OkxAccount

    def dialect(self) -> Dialect:
        return OkxDialect()

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
        exchange.reject_next_login("Invalid sign")
        return True

    async def announce_close(self, exchange: FakeExchange, *, after: float) -> None:
        dialect = exchange.dialect
        assert isinstance(dialect, OkxDialect)
        await exchange.announce_close(dialect.service_upgrade_notice(), after=after)

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.BALANCE_UPDATE]
