"""Kraken's spot private stream (WebSocket API v2) as the fake exchange speaks it: a REST token in every subscribe.

Modelled on Kraken's documentation (docs.kraken.com): "Spot REST Authentication", "GetWebSocketsToken",
"WebSocket v2" (executions, balances, status, heartbeat, ping), and the REST endpoints BalanceEx,
OpenOrders, ClosedOrders, TradesHistory, QueryOrders, Assets and AssetPairs.

- token: ``POST /0/private/GetWebSocketsToken`` with the form body ``nonce=...``, headers ``API-Key``
  and ``API-Sign`` = base64 HMAC-SHA512, keyed with the base64-decoded secret, of the URI path's
  bytes followed by the raw SHA-256 digest of ``nonce + POST data``. The nonce must increase on
  every call. Reply ``{"error": [], "result": {"token", "expires": 900}}``; errors come with HTTP
  200 as ``{"error": ["EAPI:Invalid key"]}`` (also ``EAPI:Invalid signature``, ``EAPI:Invalid nonce``).
  A token must be used within 15 minutes of minting; once subscribed with, it lasts the connection.
- connect ``wss://ws-auth.kraken.com/v2``; the first frame is the ``status`` channel's
  ``{"channel": "status", "type": "update", "data": [{"api_version": "v2", "connection_id", "system":
  "online", "version"}]}``, sent again whenever the engine's status changes (``maintenance``, ...).
- subscribe ``{"method": "subscribe", "params": {"channel": "executions" | "balances", "token", ...},
  "req_id"}`` → ``{"method": "subscribe", "result": {"channel", ...}, "success": true, "time_in",
  "time_out", "req_id"}``; refused with ``"success": false, "error": "EAPI:Invalid token"`` (and no
  ``result``). Each subscription sends its snapshot unless asked not to (executions: ``snap_orders``,
  default true, ``snap_trades``, default false; balances: ``snapshot``, default true).
- ping ``{"method": "ping", "req_id"}`` → ``{"method": "pong", "req_id", "time_in", "time_out"}``;
  heartbeat ``{"channel": "heartbeat"}``.
- data ``{"channel": "executions" | "balances", "type": "snapshot" | "update", "data": [...], "sequence"}``;
  see `KrakenAccount` for the rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs

from userstream.events import OrderStatus
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse
from userstream.testing.ledger import BalanceChanged, Change, Ledger, LedgerFill, LedgerOrder, OrderChanged

PRIVATE_PATH = "/v2"
"""Appended to the fake exchange's ``ws_url``, as ``/v2`` is to ``wss://ws-auth.kraken.com``."""
TOKEN_PATH = "/0/private/GetWebSocketsToken"
EXECUTIONS = "executions"
BALANCES = "balances"
CHANNELS = (EXECUTIONS, BALANCES)
TOKEN_LIFETIME = 900
VERSION = "2.0.10"

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
INVALID_TOKEN = "EAPI:Invalid token"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
INVALID_ORDER = "EOrder:Invalid order"
SERVICE_UNAVAILABLE = "EService:Unavailable"
RATE_LIMIT_EXCEEDED = "EAPI:Rate limit exceeded"
INTERNAL_ERROR = "EGeneral:Internal error"
SUBSCRIPTION_NAME_INVALID = "Subscription name invalid"

SUBSCRIBE_DEFAULTS: Mapping[str, Mapping[str, bool]] = {
    EXECUTIONS: {"snap_orders": True, "snap_trades": False},
    BALANCES: {"snapshot": True},
}
"""Each channel's snapshot options and Kraken's defaults for them."""


def api_sign(uri_path: str, post_data: str, secret_b64: str) -> str:
    """Kraken's ``API-Sign``: base64 HMAC-SHA512(base64-decoded secret, path bytes + SHA-256(nonce + POST data))."""
    nonce = parse_qs(post_data).get("nonce", [""])[0]
    message = uri_path.encode() + hashlib.sha256((nonce + post_data).encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), message, hashlib.sha512).digest()).decode()


def rfc3339(stamp_ms: int) -> str:
    """A v2 timestamp, as Kraken writes them (microseconds, ``Z``), of a moment in ms."""
    return datetime.fromtimestamp(stamp_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> str:
    return rfc3339(int(time.time() * 1000))


@dataclass
class KrakenState:
    """The tokens the fake Kraken issued, and the knobs tests turn."""

    expires: int = TOKEN_LIFETIME
    issued: dict[str, float] = field(default_factory=dict)
    """Every token minted, with the exchange's time of minting, in order."""
    revoked: set[str] = field(default_factory=set)
    expire_on_issue: int = 0
    """How many of the next tokens are born expired: minted, but refused in a subscribe."""
    failures: list[str] = field(default_factory=list)
    last_nonce: int = 0

    @property
    def tokens(self) -> list[str]:
        return list(self.issued)

    def is_valid(self, token: Any, now: float) -> bool:
        """Whether a subscribe may use ``token``: minted here, not revoked, and within 15 minutes of its minting."""
        minted = self.issued.get(token) if isinstance(token, str) else None
        return minted is not None and token not in self.revoked and now - minted <= self.expires

    def revoke(self, token: str | None = None) -> None:
        """Invalidate one token, or every token issued so far, for subscribes from now on."""
        self.revoked.update([token] if token is not None else self.issued)

    def fail_next(self, error: str = INVALID_KEY, times: int = 1) -> None:
        """Answer the next token calls with ``{"error": [error]}``."""
        self.failures.extend([error] * times)

    def mint(self, now: float) -> str:
        token = base64.b64encode(secrets.token_bytes(30)).decode()
        self.issued[token] = now
        if self.expire_on_issue > 0:
            self.expire_on_issue -= 1
            self.revoked.add(token)
        return token


class KrakenDialect(Dialect):
    """The WebSocket half of the fake Kraken; `install` adds the token call and `install_account` the account."""

    requires_login = False  # each subscribe carries the token

    def __init__(self, state: KrakenState | None = None) -> None:
        self.state = state or KrakenState()
        self.account: KrakenAccount | None = None
        """The account whose snapshots a subscribe sends, once `install_account` has set one up."""
        self._connection_ids = itertools.count(13834774380200032777)
        self._sequences: dict[str, itertools.count[int]] = {}

    def check_connection(self, path: str, query: Mapping[str, str]) -> str | None:
        if not path.endswith(PRIVATE_PATH):
            return f"this fake Kraken speaks WebSocket v2, at {PRIVATE_PATH}"
        return None

    def greeting(self) -> list[Any]:
        return [self.status("online")]

    def status(self, system: str) -> dict[str, Any]:
        """The ``status`` channel's update: ``online``, ``cancel_only``, ``post_only`` or ``maintenance``."""
        data = {"api_version": "v2", "connection_id": next(self._connection_ids), "system": system, "version": VERSION}
        return {"channel": "status", "data": [data], "type": "update"}

    def classify_client(self, message: Any) -> ClientIntent:
        method = message.get("method") if isinstance(message, dict) else None
        if method == "subscribe":
            return ClientIntent.SUBSCRIBE
        if method == "ping":
            return ClientIntent.PING
        return ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "Kraken has no login message: each subscribe carries the token"

    def login_ack(self, message: Any) -> Any:
        return {"error": "Unsupported method", "success": False}

    def login_rejection(self, message: Any, reason: str) -> Any:
        return {"error": reason, "success": False}

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        params = message.get("params")
        if not isinstance(params, dict) or params.get("channel") not in CHANNELS:
            return SUBSCRIPTION_NAME_INVALID
        if not self.state.is_valid(params.get("token"), server_time):
            return INVALID_TOKEN
        return None

    def subscribe_replies(self, message: Any) -> list[Any]:
        params = message["params"]
        channel = params["channel"]
        options = {name: bool(params.get(name, default)) for name, default in SUBSCRIBE_DEFAULTS[channel].items()}
        result = {"channel": channel, **({"maxratecount": 125} if channel == EXECUTIONS else {}), **options}
        replies: list[Any] = [_answer(message, result=result, success=True)]
        if self.account is not None and any(options.values()):
            rows = self.account.snapshot_rows(channel, options)
            replies.append({"channel": channel, "type": "snapshot", "data": rows, "sequence": self.sequence(channel)})
        return replies

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return _answer(message, error=reason, success=False)

    def pong(self, message: Any) -> Any:
        return {"method": "pong", **_echoed_req_id(message), "time_in": _now(), "time_out": _now()}

    def heartbeat(self) -> Any:
        return {"channel": "heartbeat"}

    def user_event(self, channel: str, data: Any) -> Any:
        """An ``update`` of ``channel`` carrying the rows ``data`` (one row, or a list of them)."""
        rows = data if isinstance(data, list) else [data]
        return {"channel": channel, "type": "update", "data": rows, "sequence": self.sequence(channel)}

    def sequence(self, channel: str) -> int:
        """The channel's next ``sequence``: one count per channel, from 1."""
        return next(self._sequences.setdefault(channel, itertools.count(1)))


def _echoed_req_id(message: Any) -> dict[str, Any]:
    return {"req_id": message["req_id"]} if isinstance(message, dict) and "req_id" in message else {}


def _answer(message: Any, **fields: Any) -> dict[str, Any]:
    """A method's answer: ``method``, what it says, the times it came in and went out, and the ``req_id``."""
    method = message.get("method") if isinstance(message, dict) else None
    return {"method": method, **fields, "time_in": _now(), "time_out": _now(), **_echoed_req_id(message)}


def install(exchange: FakeExchange) -> KrakenState:
    """Serve Kraken's token endpoint on ``exchange`` (whose dialect must be a `KrakenDialect`)."""
    dialect = exchange.dialect
    if not isinstance(dialect, KrakenDialect):
        raise TypeError(f"install() needs a FakeExchange speaking KrakenDialect, not {type(dialect).__name__}")
    state = dialect.state

    def get_websockets_token(request: RestRequest) -> dict[str, Any]:
        if state.failures:
            return {"error": [state.failures.pop(0)]}
        error = check_signature(request, exchange.credentials, state)
        if error is not None:
            return {"error": [error]}
        return {"error": [], "result": {"token": state.mint(exchange.now()), "expires": state.expires}}

    exchange.route("POST", TOKEN_PATH, get_websockets_token)
    return state


def check_signature(request: RestRequest, credentials: Credentials, state: KrakenState) -> str | None:
    """Why Kraken refuses a private call (its error string), or None to accept it; a good nonce is recorded."""
    headers = request.headers
    if headers.get("api-key") != credentials.api_key:
        return INVALID_KEY
    nonce = parse_qs(request.body).get("nonce", [""])[0]
    if not nonce.isdigit() or int(nonce) <= state.last_nonce:
        return INVALID_NONCE
    try:
        expected = api_sign(request.path, request.body, credentials.secret)
    except (binascii.Error, ValueError):
        return INVALID_KEY  # the account's secret is not base64: no key of Kraken's looks like that
    if not hmac.compare_digest(headers.get("api-sign", ""), expected):
        return INVALID_SIGNATURE
    state.last_nonce = int(nonce)
    return None


def private_url(exchange: FakeExchange) -> str:
    """The fake's private stream URL, shaped like Kraken's ``wss://ws-auth.kraken.com/v2``."""
    return exchange.ws_url + PRIVATE_PATH


# --- the account over REST ------------------------------------------------------------------------

BALANCE_EX_PATH = "/0/private/BalanceEx"
OPEN_ORDERS_PATH = "/0/private/OpenOrders"
CLOSED_ORDERS_PATH = "/0/private/ClosedOrders"
TRADES_HISTORY_PATH = "/0/private/TradesHistory"
QUERY_ORDERS_PATH = "/0/private/QueryOrders"
ASSETS_PATH = "/0/public/Assets"
ASSET_PAIRS_PATH = "/0/public/AssetPairs"
PAGE_SIZE = 50
"""ClosedOrders and TradesHistory return 50 rows a call, the most recent first; ``ofs`` skips that many."""
QUERY_LIMIT = 50
"""QueryOrders takes at most 50 txids."""
SNAPSHOT_TRADES = 50
"""An executions snapshot with ``snap_trades`` holds the last 50 fills."""

LEGACY_ASSETS: Mapping[str, tuple[str, str]] = {
    "BTC": ("XXBT", "XBT"),
    "ETH": ("XETH", "ETH"),
    "DOGE": ("XXDG", "XDG"),
    "LTC": ("XLTC", "LTC"),
    "XRP": ("XXRP", "XRP"),
    "USD": ("ZUSD", "USD"),
    "EUR": ("ZEUR", "EUR"),
    "GBP": ("ZGBP", "GBP"),
}
"""REST's asset id and altname of the assets Kraken listed first, by their v2 names; any other is its own."""
MARKETS = ("BTC/USD", "ETH/USD", "BTC/EUR", "ETH/BTC", "USDT/USD")
"""The pairs the fake lists (and any a test trades)."""
_REST_STATUSES = {
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "closed",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "expired",
}
_V2_STATUSES = {
    OrderStatus.OPEN: "new",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "expired",
}
_REST_ERRORS: Mapping[int, str] = {429: RATE_LIMIT_EXCEEDED, 500: INTERNAL_ERROR, 503: SERVICE_UNAVAILABLE}
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def asset_id(asset: str) -> str:
    """REST's id of a v2-named asset (``BTC`` → ``XXBT``)."""
    return LEGACY_ASSETS.get(asset, (asset, asset))[0]


def altname(asset: str) -> str:
    """REST's altname of a v2-named asset (``BTC`` → ``XBT``)."""
    return LEGACY_ASSETS.get(asset, (asset, asset))[1]


def pair_key(symbol: str) -> str:
    """REST's key of a v2 pair (``BTC/USD`` → ``XXBTZUSD``), as TradesHistory names it."""
    base, quote = symbol.split("/")
    return asset_id(base) + asset_id(quote)


def pair_altname(symbol: str) -> str:
    """REST's altname of a v2 pair (``BTC/USD`` → ``XBTUSD``), as the order endpoints' ``descr.pair`` names it."""
    base, quote = symbol.split("/")
    return altname(base) + altname(quote)


def txid(prefix: str, number: int) -> str:
    """A Kraken transaction id (``OQCLML-BW3P3-BUCMWZ``): a letter, then 16 base32 digits in groups of 5, 5, 6."""
    digits = "".join(_BASE32[(number >> (5 * place)) % 32] for place in reversed(range(16)))
    return f"{prefix}{digits[:5]}-{digits[5:10]}-{digits[10:]}"


def reply(result: Any) -> dict[str, Any]:
    return {"error": [], "result": result}


def rest_error(error: str) -> dict[str, Any]:
    return {"error": [error]}


def _number(value: Decimal) -> float:
    """A decimal as WebSocket v2 writes it: a JSON number."""
    return float(value)


def _seconds(stamp_ms: int) -> float:
    """A REST time: unix seconds with a fraction."""
    return stamp_ms / 1000


class KrakenAccount(Ledger):
    """The account on the fake Kraken: spot orders, fills and balances, pushed and served as Kraken does.

    ===============================  ==============================================================================
    ``POST /0/private/BalanceEx``    ``{asset id: {"balance", "hold_trade"}}``, strings; available is balance
                                     less hold_trade; assets by REST id (``XXBT``, ``ZUSD``, ``USDT``)
    ``POST .../OpenOrders``          ``{"open": {txid: order}}``, every open order at once; ``trades=true``
                                     adds each order's trade ids
    ``POST .../ClosedOrders``        ``{"closed": {txid: order}, "count"}``: 50 a call, newest first (by
                                     ``closetime``: close, open or both), from ``ofs``; ``start``/``end``
                                     (exclusive unix seconds) bound them; no window: Kraken keeps everything
    ``POST .../TradesHistory``       ``{"trades": {txid: trade}, "count"}``, paged the same way by ``time``;
                                     a trade names its pair by key (``XXBTZUSD``), its fee in the quote currency
    ``POST .../QueryOrders``         ``txid`` (up to 50, comma-separated) → ``{txid: order}``; an unknown one is
                                     ``EOrder:Invalid order``
    ``GET /0/public/Assets``         ``{asset id: {"aclass", "altname", "decimals", ...}}``
    ``GET /0/public/AssetPairs``     ``{key: {"altname", "wsname", "base", "quote", ...}}``
    orders                           ``descr.pair`` the pair's altname (``XBTUSD``), ``descr.price`` the limit
                                     price, ``vol``/``vol_exec``, ``status`` open, closed, canceled, expired
    errors                           HTTP 200 ``{"error": ["EAPI:Invalid key"]}`` and the like; a fault is
                                     ``EAPI:Rate limit exceeded`` or ``EService:Unavailable``
    pushes                           ``executions``: a placement's ``pending_new`` row (all its terms) then its
                                     ``new`` row (only what changed); a fill's ``trade`` row (``exec_id``,
                                     ``last_qty``, ``last_price``, ``fees``; ``order_status`` partially_filled,
                                     as Kraken may report even for the fill that completes the order), then, if
                                     it completed it, a ``filled`` row; a cancel's ``canceled`` row (``cum_qty``)
                                     ``balances``: one ledger entry per change: ``amount`` moved, ``balance``
                                     after it (a hold moves no balance, so it is not pushed)
    ===============================  ==============================================================================
    """

    DEFAULT_SYMBOL: ClassVar[str] = "BTC/USD"
    FIRST_TRADE_NUMBER: ClassVar[int] = 40274859

    def __init__(self, exchange: FakeExchange, dialect: KrakenDialect) -> None:
        super().__init__(exchange)
        self.dialect = dialect
        self._pushed_totals: dict[str, Decimal] = {}
        self._ledger_ids = itertools.count(1)
        self._trade_numbers: dict[str, int] = {}
        self._next_trade_number = itertools.count(self.FIRST_TRADE_NUMBER)

    def new_order_id(self) -> str:
        return txid("O", int(super().new_order_id()) * 7919)

    def new_trade_id(self) -> str:
        return txid("T", int(super().new_trade_id()) * 7907)

    # --- the exchange's shapes: REST -------------------------------------------------------------------

    def order_info(self, order: LedgerOrder, *, trades: bool = False) -> dict[str, Any]:
        """One order as the order endpoints write it."""
        pair = pair_altname(order.symbol)
        info: dict[str, Any] = {"refid": None, "userref": 0}
        if order.client_order_id is not None:
            info["cl_ord_id"] = order.client_order_id
        info |= {"status": _REST_STATUSES[order.status], "opentm": _seconds(order.created_at)}
        info |= {"starttm": 0, "expiretm": 0}
        if not order.is_open:
            reason = "User requested" if order.status is OrderStatus.CANCELED else None
            info |= {"closetm": _seconds(order.updated_at), "reason": reason}
        info["descr"] = {
            "pair": pair,
            "type": order.side,
            "ordertype": order.order_type,
            "price": str(order.price),
            "price2": "0",
            "leverage": "none",
            "order": f"{order.side} {order.amount} {pair} @ {order.order_type} {order.price}",
            "close": "",
        }
        info |= {
            "vol": str(order.amount),
            "vol_exec": str(order.filled_amount),
            "cost": str(order.filled_value),
            "fee": str(order.fees),
            "price": str(order.average_price),
            "stopprice": "0.00000",
            "limitprice": "0.00000",
            "misc": "",
            "oflags": "fciq",
        }
        if trades:
            info["trades"] = [fill.trade_id for fill in self.fills if fill.order_id == order.order_id]
        return info

    def trade_info(self, fill: LedgerFill) -> dict[str, Any]:
        """One trade as TradesHistory writes it."""
        return {
            "ordertxid": fill.order_id,
            "postxid": "TKH2SE-M7IF5-CFI7LT",
            "pair": pair_key(fill.symbol),
            "time": _seconds(fill.time),
            "type": fill.side,
            "ordertype": self.orders[fill.order_id].order_type,
            "price": str(fill.price),
            "cost": str(fill.price * fill.amount),
            "fee": str(fill.fee),
            "vol": str(fill.amount),
            "margin": "0.00000",
            "leverage": "0",
            "misc": "",
            "trade_id": self._trade_number(fill),
            "maker": fill.maker,
        }

    def markets(self) -> list[str]:
        """Every pair the exchange lists: its own, and any an order was placed on."""
        return sorted({*MARKETS, *(order.symbol for order in self.orders.values())})

    def assets(self) -> list[str]:
        """Every asset the exchange lists, by v2 name."""
        parts = (part for symbol in self.markets() for part in symbol.split("/"))
        return sorted({*LEGACY_ASSETS, *parts, *self.balances})

    # --- the exchange's shapes: WebSocket v2 ---------------------------------------------------------

    def placement_rows(self, order: LedgerOrder) -> list[dict[str, Any]]:
        """The ``pending_new`` row with every term of the order, then the ``new`` row saying it is live."""
        pending = {
            "order_id": order.order_id,
            **self._client_order_id(order),
            "order_userref": 0,
            "symbol": order.symbol,
            "order_qty": _number(order.amount),
            "cum_cost": 0.0,
            "time_in_force": "GTC",
            "exec_type": "pending_new",
            "side": order.side,
            "order_type": order.order_type,
            "limit_price_type": "static",
            "limit_price": _number(order.price),
            "stop_price": 0.0,
            "order_status": "pending_new",
            "fee_usd_equiv": 0.0,
            "fee_ccy_pref": "fciq",
            "timestamp": rfc3339(order.created_at),
        }
        live = {
            "timestamp": rfc3339(order.created_at),
            "order_status": "new",
            "exec_type": "new",
            "order_userref": 0,
            "order_id": order.order_id,
            **self._client_order_id(order),
        }
        return [pending, live]

    def trade_row(self, order: LedgerOrder, fill: LedgerFill) -> dict[str, Any]:
        """A fill: what traded, not the order's filled total."""
        return {
            "order_id": order.order_id,
            **self._client_order_id(order),
            "order_userref": 0,
            "exec_id": fill.trade_id,
            "exec_type": "trade",
            "trade_id": self._trade_number(fill),
            "symbol": order.symbol,
            "side": order.side,
            "last_qty": _number(fill.amount),
            "last_price": _number(fill.price),
            "liquidity_ind": "m" if fill.maker else "t",
            "cost": _number(fill.price * fill.amount),
            "order_status": "partially_filled",
            "order_type": order.order_type,
            "timestamp": rfc3339(fill.time),
            "fee_usd_equiv": _number(fill.fee),
            "fees": [{"asset": fill.fee_asset, "qty": _number(fill.fee)}],
        }

    def state_row(self, order: LedgerOrder) -> dict[str, Any]:
        """An order's end (``filled``, ``canceled``): its totals, and no terms."""
        exec_type = _V2_STATUSES[order.status]
        row = {"order_id": order.order_id, **self._client_order_id(order), "order_userref": 0}
        row |= {"exec_type": exec_type, "order_status": exec_type}
        if order.status is OrderStatus.CANCELED:
            row["reason"] = "User requested"
        return row | {
            "cum_qty": _number(order.filled_amount),
            "cum_cost": _number(order.filled_value),
            "avg_price": _number(order.average_price),
            "fee_usd_equiv": _number(order.fees),
            "timestamp": rfc3339(order.updated_at),
        }

    def open_order_row(self, order: LedgerOrder) -> dict[str, Any]:
        """An open order in an executions snapshot: all its terms and its filled total."""
        pending, _ = self.placement_rows(order)
        status = _V2_STATUSES[order.status]
        return pending | {
            "exec_type": "new",
            "order_status": status,
            "cum_qty": _number(order.filled_amount),
            "cum_cost": _number(order.filled_value),
            "avg_price": _number(order.average_price),
            "timestamp": rfc3339(order.updated_at),
        }

    def snapshot_rows(self, channel: str, options: Mapping[str, bool]) -> list[dict[str, Any]]:
        """What a subscription's snapshot holds: open orders and the last fills, or every spot balance."""
        if channel == BALANCES:
            return [
                {
                    "asset": asset,
                    "asset_class": "currency",
                    "balance": _number(balance.total),
                    "wallets": [{"type": "spot", "id": "main", "balance": _number(balance.total)}],
                }
                for asset, balance in sorted(self.balances.items())
            ]
        rows = [self.open_order_row(order) for order in self.open_orders()] if options["snap_orders"] else []
        if options["snap_trades"]:
            rows += [self.trade_row(self.orders[fill.order_id], fill) for fill in self.fills[-SNAPSHOT_TRADES:]]
        return rows

    def frames(self, change: Change) -> Sequence[Any]:
        if isinstance(change, OrderChanged):
            return [self.dialect.user_event(EXECUTIONS, row) for row in self._execution_rows(change)]
        return [self.dialect.user_event(BALANCES, row) for row in self._balance_rows(change)]

    def error_reply(self, status: int, reason: str) -> Any:
        return rest_error(_REST_ERRORS.get(status, SERVICE_UNAVAILABLE))

    def _execution_rows(self, change: OrderChanged) -> list[dict[str, Any]]:
        order, fill = change.order, change.fill
        if fill is not None:
            ending = [self.state_row(order)] if order.status is OrderStatus.FILLED else []
            return [self.trade_row(order, fill), *ending]
        if order.status is OrderStatus.OPEN:
            return self.placement_rows(order)
        return [self.state_row(order)]

    def _balance_rows(self, change: BalanceChanged) -> list[dict[str, Any]]:
        balance = change.balance
        moved = balance.total - self._pushed_totals.get(balance.asset, Decimal(0))
        self._pushed_totals[balance.asset] = balance.total
        if not moved:
            return []
        kind = "adjustment" if change.delta is None else "deposit" if change.delta > 0 else "withdrawal"
        number = next(self._ledger_ids)
        return [
            {
                "ledger_id": txid("L", number * 7901),
                "ref_id": txid("A", number * 7883),
                "timestamp": rfc3339(balance.updated_at),
                "type": kind,
                "asset": balance.asset,
                "asset_class": "currency",
                "category": kind,
                "wallet_type": "spot",
                "wallet_id": "main",
                "amount": _number(moved),
                "fee": 0.0,
                "balance": _number(balance.total),
            }
        ]

    @staticmethod
    def _client_order_id(order: LedgerOrder) -> dict[str, str]:
        return {} if order.client_order_id is None else {"cl_ord_id": order.client_order_id}

    def _trade_number(self, fill: LedgerFill) -> int:
        """v2's ``trade_id`` (REST's too): a number per trade, beside its txid."""
        if fill.trade_id not in self._trade_numbers:
            self._trade_numbers[fill.trade_id] = next(self._next_trade_number)
        return self._trade_numbers[fill.trade_id]

    # --- the REST routes -----------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        refusal = check_signature(request, self.exchange.credentials, self.dialect.state)
        return None if refusal is None else RestResponse(rest_error(refusal))

    def balance_ex_reply(self, request: RestRequest) -> Any:
        return reply(
            {
                asset_id(asset): {"balance": str(balance.total), "hold_trade": str(balance.locked)}
                for asset, balance in sorted(self.balances.items())
            }
        )

    def open_orders_reply(self, request: RestRequest) -> Any:
        trades = _form(request).get("trades") == "true"
        newest_first = sorted(self.open_orders(), key=lambda order: order.created_at, reverse=True)
        return reply({"open": {order.order_id: self.order_info(order, trades=trades) for order in newest_first}})

    def closed_orders_reply(self, request: RestRequest) -> Any:
        form = _form(request)
        closetime = form.get("closetime", "both")
        if closetime not in ("open", "close", "both"):
            return rest_error(f"{INVALID_ARGUMENTS}:closetime")
        bounds = _bounds(form)
        if bounds is None:
            return rest_error(f"{INVALID_ARGUMENTS}:start")

        kept = [
            order
            for order in self.finished_orders()
            if any(_within(moment, bounds) for moment in _searched_moments(order, closetime))
        ]
        newest_first = sorted(kept, key=lambda order: max(_searched_moments(order, closetime)), reverse=True)
        page = self._page(request, CLOSED_ORDERS_PATH, form, newest_first)
        if isinstance(page, RestResponse):
            return page
        trades = form.get("trades") == "true"
        closed = {order.order_id: self.order_info(order, trades=trades) for order in page}
        return reply({"closed": closed, "count": len(kept)})

    def trades_history_reply(self, request: RestRequest) -> Any:
        form = _form(request)
        bounds = _bounds(form)
        if bounds is None:
            return rest_error(f"{INVALID_ARGUMENTS}:start")
        kept = [fill for fill in self.fills if _within(fill.time, bounds)]
        newest_first = sorted(kept, key=lambda fill: fill.time, reverse=True)
        page = self._page(request, TRADES_HISTORY_PATH, form, newest_first)
        if isinstance(page, RestResponse):
            return page
        return reply({"trades": {fill.trade_id: self.trade_info(fill) for fill in page}, "count": len(kept)})

    def query_orders_reply(self, request: RestRequest) -> Any:
        form = _form(request)
        txids = [txid for txid in form.get("txid", "").split(",") if txid]
        if not txids or len(txids) > QUERY_LIMIT:
            return rest_error(f"{INVALID_ARGUMENTS}:txid")
        if any(txid not in self.orders for txid in txids):
            return rest_error(INVALID_ORDER)
        trades = form.get("trades") == "true"
        return reply({txid: self.order_info(self.orders[txid], trades=trades) for txid in txids})

    def assets_reply(self, request: RestRequest) -> Any:
        return reply(
            {
                asset_id(asset): {
                    "aclass": "currency",
                    "altname": altname(asset),
                    "decimals": 10,
                    "display_decimals": 5,
                    "status": "enabled",
                }
                for asset in self.assets()
            }
        )

    def asset_pairs_reply(self, request: RestRequest) -> Any:
        pairs = {}
        for symbol in self.markets():
            base, quote = symbol.split("/")
            pairs[pair_key(symbol)] = {
                "altname": pair_altname(symbol),
                "wsname": f"{altname(base)}/{altname(quote)}",
                "aclass_base": "currency",
                "base": asset_id(base),
                "aclass_quote": "currency",
                "quote": asset_id(quote),
                "lot": "unit",
                "cost_decimals": 5,
                "pair_decimals": 1,
                "lot_decimals": 8,
                "lot_multiplier": 1,
                "ordermin": "0.0001",
                "costmin": "0.5",
                "tick_size": "0.1",
                "status": "online",
            }
        return reply(pairs)

    def _page(
        self, request: RestRequest, path: str, form: Mapping[str, str], rows: list[Any]
    ) -> list[Any] | RestResponse:
        offset = form.get("ofs", "0")
        if not offset.isdecimal():
            return RestResponse(rest_error(f"{INVALID_ARGUMENTS}:ofs"))
        self.served_page(path)
        return rows[int(offset) : int(offset) + PAGE_SIZE]


def _form(request: RestRequest) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(request.body).items()}


def _bounds(form: Mapping[str, str]) -> tuple[float | None, float | None] | None:
    """``start`` and ``end`` (unix seconds, both exclusive; an order's or trade's txid is not modelled), or None
    when one is not a number."""
    try:
        start = float(form["start"]) if "start" in form else None
        end = float(form["end"]) if "end" in form else None
    except ValueError:
        return None
    return start, end


def _searched_moments(order: LedgerOrder, closetime: str) -> tuple[int, ...]:
    """The times ClosedOrders' ``closetime`` (open, close or both) searches an order by."""
    if closetime == "open":
        return (order.created_at,)
    if closetime == "close":
        return (order.updated_at,)
    return order.created_at, order.updated_at


def _within(moment_ms: int, bounds: tuple[float | None, float | None]) -> bool:
    start, end = bounds
    seconds = moment_ms / 1000
    return (start is None or seconds > start) and (end is None or seconds < end)


def install_account(exchange: FakeExchange) -> KrakenAccount:
    """Serve Kraken's account endpoints on ``exchange`` (speaking `KrakenDialect`); return the account's truth."""
    dialect = exchange.dialect
    if not isinstance(dialect, KrakenDialect):
        raise TypeError(f"install_account() needs KrakenDialect, not {type(dialect).__name__}")
    account = KrakenAccount(exchange, dialect)
    dialect.account = account
    private = {
        BALANCE_EX_PATH: account.balance_ex_reply,
        OPEN_ORDERS_PATH: account.open_orders_reply,
        CLOSED_ORDERS_PATH: account.closed_orders_reply,
        TRADES_HISTORY_PATH: account.trades_history_reply,
        QUERY_ORDERS_PATH: account.query_orders_reply,
    }
    account.serve_signed("POST", private)
    exchange.route("GET", ASSETS_PATH, account.assets_reply)
    exchange.route("GET", ASSET_PAIRS_PATH, account.asset_pairs_reply)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Kraken documents them (WebSocket v2, spot REST), for the tests."""

    STATUS: ClassVar[dict[str, Any]] = {
        "channel": "status",
        "data": [{"api_version": "v2", "connection_id": 13834774380200032777, "system": "online", "version": "2.0.0"}],
        "type": "update",
    }
    MAINTENANCE: ClassVar[dict[str, Any]] = {
        "channel": "status",
        "data": [{**STATUS["data"][0], "system": "maintenance"}],
        "type": "update",
    }
    HEARTBEAT: ClassVar[dict[str, Any]] = {"channel": "heartbeat"}
    PONG: ClassVar[dict[str, Any]] = {
        "method": "pong",
        "req_id": 3,
        "time_in": "2023-09-24T14:10:23.799685Z",
        "time_out": "2023-09-24T14:10:23.799703Z",
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "method": "subscribe",
        "result": {"channel": "executions", "maxratecount": 125, "snap_orders": False, "snap_trades": False},
        "success": True,
        "time_in": "2023-10-16T13:18:35.303171Z",
        "time_out": "2023-10-16T13:18:35.318297Z",
        "req_id": 1,
    }
    BALANCES_SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "method": "subscribe",
        "result": {"channel": "balances", "snapshot": False},
        "success": True,
        "time_in": "2023-10-16T13:29:13.111530Z",
        "time_out": "2023-10-16T13:29:13.111775Z",
        "req_id": 2,
    }
    TOKEN_REFUSED: ClassVar[dict[str, Any]] = {
        "method": "subscribe",
        "error": "EAPI:Invalid token",
        "success": False,
        "time_in": "2023-10-16T13:18:35.303171Z",
        "time_out": "2023-10-16T13:18:35.303192Z",
        "req_id": 1,
    }
    # A limit order's life: placed (every term), live (only what changed), two fills (the second completes
    # it, yet says partially_filled, as Kraken warns it may), then its end.
    PENDING_NEW: ClassVar[dict[str, Any]] = {
        "channel": "executions",
        "type": "update",
        "data": [
            {
                "order_id": "OK4GJX-KSTLS-7DZZO5",
                "cl_ord_id": "bot-7",
                "order_userref": 3,
                "symbol": "BTC/USD",
                "order_qty": 0.005,
                "cum_cost": 0.0,
                "time_in_force": "GTC",
                "exec_type": "pending_new",
                "side": "sell",
                "order_type": "limit",
                "limit_price_type": "static",
                "limit_price": 26500.0,
                "stop_price": 0.0,
                "order_status": "pending_new",
                "fee_usd_equiv": 0.0,
                "fee_ccy_pref": "fciq",
                "timestamp": "2023-09-22T10:33:05.709950Z",
            }
        ],
        "sequence": 8,
    }
    NEW: ClassVar[dict[str, Any]] = {
        "channel": "executions",
        "type": "update",
        "data": [
            {
                "timestamp": "2023-09-22T10:33:05.709993Z",
                "order_status": "new",
                "exec_type": "new",
                "order_userref": 3,
                "order_id": "OK4GJX-KSTLS-7DZZO5",
            }
        ],
        "sequence": 9,
    }
    TRADE: ClassVar[dict[str, Any]] = {
        "channel": "executions",
        "type": "update",
        "data": [
            {
                "order_id": "OK4GJX-KSTLS-7DZZO5",
                "order_userref": 3,
                "exec_id": "TOUZLP-ZMMXO-UOGQBT",
                "exec_type": "trade",
                "trade_id": 10759,
                "symbol": "BTC/USD",
                "side": "sell",
                "last_qty": 0.002,
                "last_price": 26599.9,
                "liquidity_ind": "m",
                "cost": 53.1998,
                "order_status": "partially_filled",
                "order_type": "limit",
                "timestamp": "2023-09-22T10:33:09.789098Z",
                "fee_usd_equiv": 0.0851,
                "fees": [{"asset": "USD", "qty": 0.0851}],
            }
        ],
        "sequence": 10,
    }
    COMPLETING_TRADE: ClassVar[dict[str, Any]] = {
        "channel": "executions",
        "type": "update",
        "data": [
            {
                **TRADE["data"][0],
                "exec_id": "TWLCHU-4QQEY-RRE7DF",
                "trade_id": 10760,
                "last_qty": 0.003,
                "cost": 79.7997,
                "timestamp": "2023-09-22T10:33:10.012377Z",
                "fee_usd_equiv": 0.1276,
                "fees": [{"asset": "USD", "qty": 0.1276}],
            }
        ],
        "sequence": 11,
    }
    FILLED: ClassVar[dict[str, Any]] = {
        "channel": "executions",
        "type": "update",
        "data": [
            {
                "order_id": "OK4GJX-KSTLS-7DZZO5",
                "order_userref": 3,
                "exec_type": "filled",
                "order_status": "filled",
                "cum_qty": 0.005,
                "cum_cost": 132.9995,
                "avg_price": 26599.9,
                "fee_usd_equiv": 0.2127,
                "timestamp": "2023-09-22T10:33:10.012377Z",
            }
        ],
        "sequence": 12,
    }
    CANCELED: ClassVar[dict[str, Any]] = {
        "channel": "executions",
        "type": "update",
        "data": [
            {
                "exec_type": "canceled",
                "order_id": "OK4GJX-KSTLS-7DZZO5",
                "cl_ord_id": "bot-7",
                "order_status": "canceled",
                "reason": "User requested",
                "avg_price": 26599.9,
                "cum_cost": 53.1998,
                "cum_qty": 0.002,
                "fee_usd_equiv": 0.0851,
                "timestamp": "2023-09-22T10:34:01.455102Z",
            }
        ],
        "sequence": 11,
    }
    DEPOSIT: ClassVar[dict[str, Any]] = {
        "channel": "balances",
        "type": "update",
        "data": [
            {
                "ledger_id": "ADKKFF-WEA5A-CNUBHG",
                "ref_id": "AGBWUJRU-LAREZ-W3UFAN",
                "timestamp": "2023-09-22T10:23:42.925034Z",
                "type": "deposit",
                "asset": "BTC",
                "asset_class": "currency",
                "category": "deposit",
                "wallet_type": "spot",
                "wallet_id": "main",
                "amount": 0.01,
                "fee": 0.0,
                "balance": 0.02,
            }
        ],
        "sequence": 2,
    }
    TRADE_BALANCES: ClassVar[dict[str, Any]] = {
        "channel": "balances",
        "type": "update",
        "data": [
            {
                "ledger_id": "LPNGPD-QP6CL-3LXF4D",
                "ref_id": "TOUZLP-ZMMXO-UOGQBT",
                "timestamp": "2023-09-22T10:33:09.789098Z",
                "type": "trade",
                "asset": "USD",
                "asset_class": "currency",
                "category": "trade",
                "wallet_type": "spot",
                "wallet_id": "main",
                "amount": 53.1147,
                "fee": 0.0851,
                "balance": 80648.609,
            },
            {
                "ledger_id": "LAHGZG-2NDC5-IC5VTW",
                "ref_id": "TOUZLP-ZMMXO-UOGQBT",
                "timestamp": "2023-09-22T10:33:09.789098Z",
                "type": "trade",
                "asset": "BTC",
                "asset_class": "currency",
                "category": "trade",
                "wallet_type": "spot",
                "wallet_id": "main",
                "amount": -0.002,
                "fee": 0.0,
                "balance": 1.198,
            },
        ],
        "sequence": 3,
    }
    EARN_ALLOCATION: ClassVar[dict[str, Any]] = {
        "channel": "balances",
        "type": "update",
        "data": [{**DEPOSIT["data"][0], "type": "transfer", "wallet_type": "earn", "wallet_id": "flex"}],
        "sequence": 4,
    }

    # REST: POST /0/private/GetWebSocketsToken.
    TOKEN_GRANTED: ClassVar[dict[str, Any]] = {
        "error": [],
        "result": {"token": "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw", "expires": 900},
    }
    INVALID_KEY: ClassVar[dict[str, Any]] = {"error": ["EAPI:Invalid key"]}
    UNAVAILABLE: ClassVar[dict[str, Any]] = {"error": ["EService:Unavailable"]}
    RATE_LIMITED: ClassVar[dict[str, Any]] = {"error": ["EAPI:Rate limit exceeded"]}
    # REST: GET /0/public/Assets and /0/public/AssetPairs (a few rows of each).
    ASSETS: ClassVar[dict[str, Any]] = {
        "error": [],
        "result": {
            "XXBT": {
                "aclass": "currency",
                "altname": "XBT",
                "decimals": 10,
                "display_decimals": 5,
                "status": "enabled",
            },
            "XBT.F": {"aclass": "currency", "altname": "XBT.F", "decimals": 10, "display_decimals": 5},
            "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2},
            "USDT": {"aclass": "currency", "altname": "USDT", "decimals": 8, "display_decimals": 4},
        },
    }
    ASSET_PAIRS: ClassVar[dict[str, Any]] = {
        "error": [],
        "result": {
            "XXBTZUSD": {
                "altname": "XBTUSD",
                "wsname": "XBT/USD",
                "aclass_base": "currency",
                "base": "XXBT",
                "aclass_quote": "currency",
                "quote": "ZUSD",
                "lot": "unit",
                "cost_decimals": 5,
                "pair_decimals": 1,
                "lot_decimals": 8,
                "lot_multiplier": 1,
                "ordermin": "0.0001",
                "costmin": "0.5",
                "tick_size": "0.1",
                "status": "online",
            },
            "USDTZUSD": {
                "altname": "USDTUSD",
                "wsname": "USDT/USD",
                "aclass_base": "currency",
                "base": "USDT",
                "aclass_quote": "currency",
                "quote": "ZUSD",
                "lot": "unit",
                "cost_decimals": 5,
                "pair_decimals": 5,
                "lot_decimals": 8,
                "lot_multiplier": 1,
                "ordermin": "5",
                "costmin": "0.5",
                "tick_size": "0.00001",
                "status": "online",
            },
        },
    }
    # REST: POST /0/private/BalanceEx, OpenOrders, ClosedOrders, TradesHistory, QueryOrders.
    BALANCE_EX: ClassVar[dict[str, Any]] = {
        "error": [],
        "result": {
            "ZUSD": {"balance": "25435.21", "hold_trade": "8249.76"},
            "XXBT": {"balance": "1.2435", "hold_trade": "0.8423"},
            "USDT": {"balance": "500.0000", "credit": "100.0000", "credit_used": "20.0000", "hold_trade": "0.0000"},
            "XBT.F": {"balance": "0.0105", "hold_trade": "0.0000"},
        },
    }
    OPEN_ORDER: ClassVar[dict[str, Any]] = {
        "refid": None,
        "userref": 0,
        "cl_ord_id": "bot-1",
        "status": "open",
        "opentm": 1688666559.8974,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "price": "30010.0",
            "price2": "0",
            "leverage": "none",
            "order": "buy 1.25000000 XBTUSD @ limit 30010.0",
            "close": "",
        },
        "vol": "1.25000000",
        "vol_exec": "0.37500000",
        "cost": "11253.7",
        "fee": "0.00000",
        "price": "30010.0",
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
        "trades": ["TCCCTY-WE2O6-P3NB37"],
    }
    OPEN_ORDERS: ClassVar[dict[str, Any]] = {"error": [], "result": {"open": {"OQCLML-BW3P3-BUCMWZ": OPEN_ORDER}}}
    CLOSED_ORDER: ClassVar[dict[str, Any]] = {
        **OPEN_ORDER,
        "cl_ord_id": "bot-2",
        "status": "closed",
        "opentm": 1688665496.7808,
        "closetm": 1688665499.1922,
        "reason": None,
        "descr": {**OPEN_ORDER["descr"], "price": "27500.0", "order": "buy 0.02000000 XBTUSD @ limit 27500.0"},
        "vol": "0.02000000",
        "vol_exec": "0.02000000",
        "cost": "550.0",
        "fee": "0.88",
        "price": "27500.0",
        "trades": ["THVRQM-33VKH-UCI7BS"],
    }
    CLOSED_ORDERS: ClassVar[dict[str, Any]] = {
        "error": [],
        "result": {"closed": {"OBCMZD-JIEE7-77TH3F": CLOSED_ORDER}, "count": 1},
    }
    TRADES_HISTORY: ClassVar[dict[str, Any]] = {
        "error": [],
        "result": {
            "trades": {
                "THVRQM-33VKH-UCI7BS": {
                    "ordertxid": "OBCMZD-JIEE7-77TH3F",
                    "postxid": "TKH2SE-M7IF5-CFI7LT",
                    "pair": "XXBTZUSD",
                    "time": 1688665499.1922,
                    "type": "buy",
                    "ordertype": "limit",
                    "price": "27500.00000",
                    "cost": "550.00000",
                    "fee": "0.88000",
                    "vol": "0.02000000",
                    "margin": "0.00000",
                    "leverage": "0",
                    "misc": "",
                    "trade_id": 40274859,
                    "maker": True,
                }
            },
            "count": 1,
        },
    }
    QUERY_ORDERS: ClassVar[dict[str, Any]] = {"error": [], "result": {"OBCMZD-JIEE7-77TH3F": CLOSED_ORDER}}
    ORDER_NOT_FOUND: ClassVar[dict[str, Any]] = {"error": ["EOrder:Invalid order"]}


# --- the connector contract's harness -----------------------------------------------------------------


def private_key(text: bytes) -> str:
    """A Kraken private key as Kraken shows it: base64 (the fake decodes it to verify API-Sign)."""
    return base64.b64encode(text).decode()


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes.

    Kraken announces no close (ANNOUNCES_CLOSE stays False), and a token cannot expire under the connection
    it opened (so `expire_credentials` has nothing to do): each connection mints its own.
    """

    LARGEST_PAGE: ClassVar[int | None] = PAGE_SIZE
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTC/USD", "ETH/USD")
    GUARANTEE: ClassVar[str] = (
        "exact: every fill and every order's final state once; balances as pushed, available less the last holds read"
    )
    account: KrakenAccount

    def dialect(self) -> Dialect:
        return KrakenDialect()

    def credentials(self) -> Credentials:
        return Credentials(api_key="kraken-api-key", secret=private_key(b"the private key the fake Kraken accepts"))

    def wrong_credentials(self) -> Credentials:
        # Another well-formed key: the contract's default ("wrong-" + secret) is not base64, so no Kraken key.
        return Credentials(
            api_key="wrong-kraken-api-key", secret=private_key(b"a private key the fake Kraken never issued")
        )

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)
        self.account = install_account(exchange)

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        return {"ws_url": private_url(exchange), "rest_url": exchange.rest_url}

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        exchange.reject_next_subscribe(INVALID_TOKEN)
        return True

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.PENDING_NEW, DocumentedFrames.TRADE, DocumentedFrames.DEPOSIT]
