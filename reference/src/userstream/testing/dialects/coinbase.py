"""Coinbase Advanced Trade's user-order WebSocket and account endpoints, as the fake exchange speaks them.

Modelled on the CDP documentation (https://docs.cdp.coinbase.com/): "WebSocket Overview", "WebSocket Channels"
(the ``user`` and ``heartbeats`` channels), "API Key Authentication" (ES256 JWTs, the REST ``uri`` claim), and the
Advanced Trade REST reference: "List Accounts", "List Orders", "List Fills", "Get Order".

=====================  =====================================================================================
endpoint               ``wss://advanced-trade-ws-user.coinbase.com`` (the fake serves ``<ws_url>``)
client subscribe       ``{"type": "subscribe", "channel": "user" | "heartbeats", "jwt": JWT}``, one per channel;
                       JWT = ES256, header ``{"alg": "ES256", "kid": key name, "nonce": hex, "typ": "JWT"}``,
                       claims ``{"iss": "cdp", "sub": key name, "nbf": s, "exp": nbf + 120}`` (no ``uri``)
accepted               ``{"channel": "subscriptions", "client_id": "", "timestamp", "sequence_num",
                       "events": [{"subscriptions": {channel: [...]}}]}``; after a ``user`` subscribe, the
                       open orders in ``snapshot`` events, 50 orders a message (none when nothing is open)
rejected               ``{"type": "error", "message": "authentication failure"}``
heartbeats             ``{"channel": "heartbeats", ..., "events": [{"current_time", "heartbeat_counter"}]}``
user events            ``{"channel": "user", ..., "sequence_num", "events": [{"type": "snapshot" | "update",
                       "orders": [...]}]}``: each order as it now stands, never a fill or a balance
REST                   ``Authorization: Bearer JWT``, the JWT's claims with ``"uri": "GET host/path"`` (no
                       query); refused with HTTP 401 ``{"error": "UNAUTHENTICATED", ...}``
=====================  =====================================================================================

The fake verifies each JWT with the key pair's public key: signature, ``kid``/``sub`` against the API key name,
``iss``, ``nbf``/``exp`` against its clock, a lifetime of at most two minutes, a nonce it has not seen before (a
replayed JWT is refused) and, on REST, that ``uri`` names the request. Verifying needs the optional
``cryptography`` package.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qs

from userstream.events import OrderStatus
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest, RestResponse
from userstream.testing.ledger import Change, Ledger, LedgerBalance, LedgerFill, LedgerOrder, OrderChanged

CHANNELS = ("user", "heartbeats", "futures_balance_summary")
AUTHENTICATION_FAILURE = "authentication failure"
JWT_ISSUER = "cdp"
MAX_JWT_LIFETIME_S = 120
CLOCK_LEEWAY_S = 5
SNAPSHOT_BATCH = 50
"""Open orders per ``snapshot`` message after a ``user`` subscribe ("returned in the snapshot batched by 50")."""


class CoinbaseAdvancedTradeDialect(Dialect):
    """The exchange side of Coinbase's JWT-signed subscribes; see the module docstring."""

    requires_login = False

    def __init__(self, public_key_pem: str, clock: Callable[[], float] = time.time) -> None:
        self.public_key_pem = public_key_pem
        self.clock = clock
        """The exchange's clock for JWT lifetimes; `install` points it at the fake's (skewed) clock."""
        self.seen_nonces: set[str] = set()
        self.revoked_keys: set[str] = set()
        self.open_orders: Callable[[], list[dict[str, Any]]] = list
        """The account's open orders as the ``user`` channel shows them (`install_account` serves the account's)."""
        self._sequence = itertools.count()
        self._heartbeats = itertools.count(1)

    def classify_client(self, message: Any) -> ClientIntent:
        if isinstance(message, dict) and message.get("type") == "subscribe":
            return ClientIntent.SUBSCRIBE
        return ClientIntent.OTHER

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        if message.get("channel") not in CHANNELS:
            return AUTHENTICATION_FAILURE
        return self.check_jwt(message.get("jwt"), credentials, server_time)

    def check_jwt(self, token: Any, credentials: Credentials, server_time: float, uri: str | None = None) -> str | None:
        """Why a JWT is refused (``authentication failure``), or None to accept it; ``uri``: the REST request's."""
        if not isinstance(token, str):
            return AUTHENTICATION_FAILURE
        try:
            header, claims = verify_es256_jwt(token, self.public_key_pem)
        except ValueError:
            return AUTHENTICATION_FAILURE
        key_name = credentials.api_key
        nonce = header.get("nonce")
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if (
            header.get("kid") != key_name
            or claims.get("sub") != key_name
            or key_name in self.revoked_keys
            or claims.get("iss") != JWT_ISSUER
            or (uri is not None and claims.get("uri") != uri)
            or not isinstance(nonce, str)
            or nonce in self.seen_nonces
            or not isinstance(nbf, int)
            or not isinstance(exp, int)
            or not nbf - CLOCK_LEEWAY_S <= server_time < exp
            or exp - nbf > MAX_JWT_LIFETIME_S
        ):
            return AUTHENTICATION_FAILURE
        self.seen_nonces.add(nonce)
        return None

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "Coinbase Advanced Trade has no login: send a JWT with each subscribe"

    def login_ack(self, message: Any) -> Any:
        return self.subscribe_rejection(message, AUTHENTICATION_FAILURE)

    def login_rejection(self, message: Any, reason: str) -> Any:
        return self.subscribe_rejection(message, reason)

    def subscribe_replies(self, message: Any) -> list[Any]:
        channel = str(message.get("channel"))
        product_ids = message.get("product_ids", [])
        replies = [self.frame("subscriptions", [{"subscriptions": {channel: product_ids}}])]
        if channel == "user":
            orders = self.open_orders()
            for first in range(0, len(orders), SNAPSHOT_BATCH):
                replies.append(self.frame("user", [user_snapshot(orders[first : first + SNAPSHOT_BATCH])]))
        return replies

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        return {"type": "error", "message": reason}

    def pong(self, message: Any) -> Any:
        return self.heartbeat()  # Coinbase has no app-level ping; heartbeats are its liveness signal

    def heartbeat(self) -> Any:
        moment = datetime.fromtimestamp(self.clock(), tz=UTC)
        current_time = moment.strftime("%Y-%m-%d %H:%M:%S.%f000 +0000 UTC")
        return self.frame("heartbeats", [{"current_time": current_time, "heartbeat_counter": next(self._heartbeats)}])

    def user_event(self, channel: str, data: Any) -> Any:
        """``data`` is the ``events`` list, e.g. ``[user_update([order(...)])]``."""
        return self.frame(channel, data)

    def frame(self, channel: str, events: Any, at: float | None = None) -> dict[str, Any]:
        """A message of ``channel``, stamped ``at`` (seconds; default now) with the next sequence number."""
        moment = datetime.fromtimestamp(self.clock() if at is None else at, tz=UTC)
        return {
            "channel": channel,
            "client_id": "",
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "sequence_num": next(self._sequence),
            "events": events,
        }


def verify_es256_jwt(token: str, public_key_pem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of an ES256 JWT signed by the key pair of ``public_key_pem``; ValueError if not."""
    # cryptography is optional (the ES256 extra): imported here so the rest of the fake works without it.
    from cryptography.exceptions import InvalidSignature  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives import hashes, serialization  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec, utils  # type: ignore[import-not-found,unused-ignore]

    public_key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ValueError("not an EC public key")
    try:
        encoded_header, encoded_claims, encoded_signature = token.split(".")
        header = json.loads(_b64url_decode(encoded_header))
        claims = json.loads(_b64url_decode(encoded_claims))
        signature = _b64url_decode(encoded_signature)
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a compact JWT: {error}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "ES256":
        raise ValueError("not an ES256 JWT")
    if header.get("typ") != "JWT" or len(signature) != 64:
        raise ValueError("not an ES256 JWT")
    der = utils.encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{encoded_header}.{encoded_claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("bad signature") from None
    return header, claims


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- REST routes and state --------------------------------------------------------------------------------------


@dataclass
class CoinbaseState:
    """What a test can see and script on a fake Coinbase Advanced Trade."""

    exchange: FakeExchange
    dialect: CoinbaseAdvancedTradeDialect

    def revoke_key(self, key_name: str) -> None:
        """Refuse every later JWT for ``key_name`` (a key deleted in the CDP portal)."""
        self.dialect.revoked_keys.add(key_name)

    def restore_key(self, key_name: str) -> None:
        self.dialect.revoked_keys.discard(key_name)

    @property
    def accepted_nonces(self) -> int:
        """How many distinct JWTs the exchange accepted."""
        return len(self.dialect.seen_nonces)


def install(exchange: FakeExchange) -> CoinbaseState:
    """Run the dialect on the fake's clock. Coinbase's WebSocket needs no REST route: a JWT is made, not fetched."""
    if not isinstance(exchange.dialect, CoinbaseAdvancedTradeDialect):
        raise TypeError("install() needs a FakeExchange created with a CoinbaseAdvancedTradeDialect")
    exchange.dialect.clock = exchange.now
    return CoinbaseState(exchange, exchange.dialect)


# --- user events with Coinbase's real shapes ----------------------------------------------------------------------


def order(
    *,
    order_id: str = "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    client_order_id: str = "11111-000000-000001",
    product_id: str = "BTC-USD",
    side: str = "BUY",
    status: str = "OPEN",
    cumulative_quantity: str = "0",
    leaves_quantity: str = "0.001",
    avg_price: str = "0",
    total_fees: str = "0",
    limit_price: str = "68900.5",
) -> dict[str, Any]:
    """One order of a ``user`` channel event (status ``PENDING``, ``OPEN``, ``FILLED``, ``CANCELLED``, ...)."""
    return {
        "order_id": order_id,
        "client_order_id": client_order_id,
        "cumulative_quantity": cumulative_quantity,
        "leaves_quantity": leaves_quantity,
        "avg_price": avg_price,
        "total_fees": total_fees,
        "status": status,
        "product_id": product_id,
        "creation_time": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "order_side": side,
        "order_type": "Limit",
        "cancel_reason": "",
        "reject_reason": "",
        "limit_price": limit_price,
        "product_type": "SPOT",
        "time_in_force": "GOOD_UNTIL_CANCELLED",
        "trigger_status": "INVALID_ORDER_TYPE",
    }


def fill(**overrides: Any) -> dict[str, Any]:
    """An order that has just filled completely: Coinbase reports fills as order updates with cumulative fields."""
    fields: dict[str, Any] = {
        "status": "FILLED",
        "cumulative_quantity": "0.001",
        "leaves_quantity": "0",
        "avg_price": "68900.5",
        "total_fees": "0.413403",
    }
    return order(**{**fields, **overrides})


def user_snapshot(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """The first ``user`` event after subscribing: every open order."""
    return {"type": "snapshot", "orders": orders}


def user_update(orders: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "update", "orders": orders}


# --- the account over REST ------------------------------------------------------------------------

ACCOUNTS_PATH = "/api/v3/brokerage/accounts"
ORDERS_PATH = "/api/v3/brokerage/orders/historical/batch"
FILLS_PATH = "/api/v3/brokerage/orders/historical/fills"
ORDER_PATH = "/api/v3/brokerage/orders/historical/{order_id}"
ACCOUNTS_LIMIT = (49, 250)
"""``GET /accounts``: 49 accounts a page unless ``limit`` says otherwise, 250 at most."""
USER_ID = "3333-333333-3333333"
PORTFOLIO_ID = "4444-444444-4444444"
FIAT = frozenset({"USD", "EUR", "GBP"})
_STATUSES = {
    OrderStatus.OPEN: "OPEN",
    OrderStatus.PARTIALLY_FILLED: "OPEN",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
Row = TypeVar("Row")
_REST_ERRORS: Mapping[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def rfc3339(ms: int) -> str:
    """A moment in ms as Coinbase's REST replies write it: ``2021-05-31T09:59:59.000Z``."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rest_error(status: int, message: str) -> dict[str, Any]:
    """Coinbase's REST error body."""
    return {"error": _REST_ERRORS.get(status, "UNKNOWN_FAILURE_REASON"), "error_details": message, "message": message}


class CoinbaseAccount(Ledger):
    """The account on the fake Coinbase Advanced Trade: SPOT orders, fills and balances as its API shows them.

    ===============================  =============================================================================
    ``GET /api/v3/brokerage/         ``{"accounts": [{"uuid", "currency", "available_balance": {"value",
    accounts``                       "currency"}, "hold": {...}, ...}], "has_next", "cursor", "size"}``; ``limit``
                                     49 by default, 250 at most; ``cursor`` the previous page's
    ``GET .../orders/historical/     ``{"orders": [...], "sequence", "has_next", "cursor"}``, newest first;
    batch``                          ``order_status``, ``order_ids``, ``product_ids`` (repeated for several),
                                     ``start_date``/``end_date`` on when an order was placed; ``limit``, ``cursor``
    ``GET .../orders/historical/     ``{"fills": [...], "cursor"}`` (an empty cursor on the last page), newest first;
    fills``                          ``order_ids``, ``trade_ids``, ``product_ids``, ``start_sequence_timestamp``,
                                     ``end_sequence_timestamp``; ``limit``, ``cursor``; ``commission`` is what was paid
    ``GET .../orders/historical/     ``{"order": {...}}``
    {order_id}``
    errors                           ``{"error": "UNAUTHENTICATED" | "INVALID_ARGUMENT" | ..., "error_details",
                                     "message"}`` with the HTTP status
    pushes                           ``user``: each changed order as it now stands; a fill moves its
                                     ``cumulative_quantity`` and ``number_of_fills``; balances are never pushed
    ===============================  =============================================================================
    """

    DEFAULT_SYMBOL = "BTC-USD"

    def __init__(self, exchange: FakeExchange, dialect: CoinbaseAdvancedTradeDialect) -> None:
        super().__init__(exchange)
        self.dialect = dialect
        self._numbers = itertools.count(1)
        self._placed: dict[str, int] = {}
        """Each order's place in the order it was placed (the order list's newest-first cursor)."""

    # --- how Coinbase names things -------------------------------------------------------------------

    def new_order_id(self) -> str:
        order_id = self._uuid()
        self._placed[order_id] = len(self._placed)
        route = ORDER_PATH.format(order_id=order_id)
        self.exchange.route("GET", route, self.signed(self.order_reply))
        return order_id

    def new_trade_id(self) -> str:
        return self._uuid()

    def client_order_id(self, given: str | None) -> str | None:
        return given or self._uuid()  # Coinbase requires one: clients that give none get one made up

    def _uuid(self) -> str:
        return str(uuid.UUID(int=next(self._numbers), version=4))

    # --- the exchange's shapes -----------------------------------------------------------------------

    def pushed_order_json(self, order: LedgerOrder) -> dict[str, Any]:
        """One order as the ``user`` channel shows it."""
        return {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id or "",
            "cumulative_quantity": str(order.filled_amount),
            "leaves_quantity": str(order.amount - order.filled_amount),
            "avg_price": str(order.average_price),
            "total_fees": str(order.fees),
            "status": _STATUSES[order.status],
            "product_id": order.symbol,
            "product_type": "SPOT",
            "creation_time": rfc3339(order.created_at),
            "order_side": order.side.upper(),
            "order_type": order.order_type.capitalize(),
            "cancel_reason": "",
            "reject_reason": "",
            "limit_price": str(order.price),
            "stop_price": "",
            "number_of_fills": str(order.fills),
            "filled_value": str(order.filled_value),
            "total_value_after_fees": str(order.filled_value + order.fees),
            "completion_percentage": str(100 * order.filled_amount / order.amount),
            "outstanding_hold_amount": str(order.price * (order.amount - order.filled_amount) if order.is_open else 0),
            "post_only": False,
            "time_in_force": "GOOD_UNTIL_CANCELLED",
            "trigger_status": "INVALID_ORDER_TYPE",
            "retail_portfolio_id": PORTFOLIO_ID,
            "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
            "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
        }

    def rest_order_json(self, order: LedgerOrder) -> dict[str, Any]:
        """One order as the order list and the order-detail reply show it."""
        fill_times = [fill.time for fill in self.fills if fill.order_id == order.order_id]
        configuration: dict[str, dict[str, Any]] = (
            {"market_market_ioc": {"base_size": str(order.amount)}}
            if order.order_type == "market"
            else {
                "limit_limit_gtc": {"base_size": str(order.amount), "limit_price": str(order.price), "post_only": False}
            }
        )
        return {
            "order_id": order.order_id,
            "product_id": order.symbol,
            "user_id": USER_ID,
            "order_configuration": configuration,
            "side": order.side.upper(),
            "client_order_id": order.client_order_id or "",
            "status": _STATUSES[order.status],
            "time_in_force": "GOOD_UNTIL_CANCELLED" if order.order_type != "market" else "IMMEDIATE_OR_CANCEL",
            "created_time": rfc3339(order.created_at),
            "completion_percentage": str(100 * order.filled_amount / order.amount),
            "filled_size": str(order.filled_amount),
            "average_filled_price": str(order.average_price),
            "fee": "",
            "number_of_fills": str(order.fills),
            "filled_value": str(order.filled_value),
            "pending_cancel": False,
            "size_in_quote": False,
            "total_fees": str(order.fees),
            "size_inclusive_of_fees": False,
            "total_value_after_fees": str(order.filled_value + order.fees),
            "trigger_status": "INVALID_ORDER_TYPE",
            "order_type": order.order_type.upper(),
            "reject_reason": "",
            "settled": not order.is_open,
            "product_type": "SPOT",
            "reject_message": "",
            "cancel_message": "",
            "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": str(order.price * (order.amount - order.filled_amount) if order.is_open else 0),
            "is_liquidation": False,
            "last_fill_time": rfc3339(max(fill_times)) if fill_times else None,
            "edit_history": [],
            "leverage": "",
            "margin_type": "",
            "retail_portfolio_id": PORTFOLIO_ID,
            "originating_order_id": "",
            "attached_order_id": "",
        }

    def fill_json(self, fill: LedgerFill) -> dict[str, Any]:
        """One row of the fills list."""
        return {
            "entry_id": str(uuid.uuid5(uuid.NAMESPACE_OID, fill.trade_id)),
            "trade_id": fill.trade_id,
            "order_id": fill.order_id,
            "trade_time": rfc3339(fill.time),
            "trade_type": "FILL",
            "price": str(fill.price),
            "size": str(fill.amount),
            "commission": str(fill.fee),
            "product_id": fill.symbol,
            "sequence_timestamp": rfc3339(fill.time),
            "liquidity_indicator": "MAKER" if fill.maker else "TAKER",
            "size_in_quote": False,
            "user_id": USER_ID,
            "side": fill.side.upper(),
            "retail_portfolio_id": PORTFOLIO_ID,
        }

    def account_json(self, balance: LedgerBalance) -> dict[str, Any]:
        """One row of the accounts list: a currency's wallet."""
        return {
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_OID, balance.asset)),
            "name": f"{balance.asset} Wallet",
            "currency": balance.asset,
            "available_balance": {"value": str(balance.available), "currency": balance.asset},
            "default": True,
            "active": True,
            "created_at": rfc3339(0),
            "updated_at": rfc3339(balance.updated_at),
            "deleted_at": None,
            "type": "ACCOUNT_TYPE_FIAT" if balance.asset in FIAT else "ACCOUNT_TYPE_CRYPTO",
            "ready": True,
            "hold": {"value": str(balance.locked), "currency": balance.asset},
            "retail_portfolio_id": PORTFOLIO_ID,
            "platform": "ACCOUNT_PLATFORM_CONSUMER",
        }

    def open_orders_json(self) -> list[dict[str, Any]]:
        """The open orders, oldest first, as the ``user`` channel's snapshot shows them."""
        return [self.pushed_order_json(order) for order in self.open_orders()]

    def frames(self, change: Change) -> Sequence[Any]:
        if not isinstance(change, OrderChanged):
            return []  # Coinbase pushes no balance, and no deposit
        events = [user_update([self.pushed_order_json(change.order)])]
        return [self.dialect.frame("user", events, at=change.order.updated_at / 1000)]

    def error_reply(self, status: int, reason: str) -> Any:
        return rest_error(status, reason)

    # --- the REST routes -----------------------------------------------------------------------------

    def check(self, request: RestRequest) -> RestResponse | None:
        """Coinbase's refusal of a request whose JWT is missing, forged, stale, replayed or names another request."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        uri = f"{request.method} {request.headers.get('Host', '')}{request.path}"
        if self.dialect.check_jwt(token, self.exchange.credentials, self.exchange.now(), uri=uri) is None:
            return None
        return RestResponse(rest_error(401, "Unauthorized"), 401)

    def accounts_reply(self, request: RestRequest) -> Any:
        default, largest = ACCOUNTS_LIMIT
        limit = _limit(request, default, largest)
        if isinstance(limit, RestResponse):
            return limit
        assets = sorted(self.balances, key=self._account_id)
        cursor = request.query.get("cursor")
        later = [asset for asset in assets if cursor is None or self._account_id(asset) > cursor]
        page = later[:limit]
        self.served_page(request.path)
        has_next = len(later) > len(page)
        return {
            "accounts": [self.account_json(self.balances[asset]) for asset in page],
            "has_next": has_next,
            "cursor": self._account_id(page[-1]) if has_next else "",
            "size": len(page),
        }

    def orders_reply(self, request: RestRequest) -> Any:
        query = parse_qs(request.query_string)
        statuses = set(query.get("order_status", ()))
        wanted_ids = set(query.get("order_ids", ()))
        products = set(query.get("product_ids", ()))
        start, end = _moment(request, "start_date"), _moment(request, "end_date")
        if isinstance(start, RestResponse):
            return start
        if isinstance(end, RestResponse):
            return end
        matching = [
            order
            for order in self.orders.values()
            if (not statuses or _STATUSES[order.status] in statuses)
            and (not wanted_ids or order.order_id in wanted_ids)
            and (not products or order.symbol in products)
            and (start is None or order.created_at >= start)
            and (end is None or order.created_at <= end)
        ]
        newest_first = sorted(matching, key=lambda order: self._placed[order.order_id], reverse=True)
        page, cursor = self._page(request, newest_first, lambda order: self._placed[order.order_id])
        if isinstance(page, RestResponse):
            return page
        return {
            "orders": [self.rest_order_json(order) for order in page],
            "sequence": "0",
            "has_next": bool(cursor),
            "cursor": cursor,
        }

    def fills_reply(self, request: RestRequest) -> Any:
        query = parse_qs(request.query_string)
        order_ids, trade_ids = set(query.get("order_ids", ())), set(query.get("trade_ids", ()))
        products = set(query.get("product_ids", ()))
        start, end = _moment(request, "start_sequence_timestamp"), _moment(request, "end_sequence_timestamp")
        if isinstance(start, RestResponse):
            return start
        if isinstance(end, RestResponse):
            return end
        positions = {fill.trade_id: index for index, fill in enumerate(self.fills)}
        matching = [
            fill
            for fill in self.fills
            if (not order_ids or fill.order_id in order_ids)
            and (not trade_ids or fill.trade_id in trade_ids)
            and (not products or fill.symbol in products)
            and (start is None or fill.time >= start)
            and (end is None or fill.time <= end)
        ]
        page, cursor = self._page(request, matching[::-1], lambda fill: positions[fill.trade_id])
        if isinstance(page, RestResponse):
            return page
        return {"fills": [self.fill_json(fill) for fill in page], "cursor": cursor}

    def order_reply(self, request: RestRequest) -> Any:
        order_id = request.path.rsplit("/", 1)[-1]
        return {"order": self.rest_order_json(self.orders[order_id])}

    def _page(
        self, request: RestRequest, newest_first: list[Row], position: Callable[[Row], int]
    ) -> tuple[list[Row] | RestResponse, str]:
        """One page of a newest-first list, after the row ``cursor`` names; the cursor of the next ("" if none).

        Without a ``limit`` (the docs give no default), the page holds every row.
        """
        limit = _limit(request, max(len(newest_first), 1), None)
        if isinstance(limit, RestResponse):
            return limit, ""
        cursor = request.query.get("cursor")
        if cursor is not None and not cursor.isdecimal():
            return RestResponse(rest_error(400, "invalid cursor"), 400), ""
        older = [row for row in newest_first if cursor is None or position(row) < int(cursor)]
        page = older[:limit]
        self.served_page(request.path)
        return page, str(position(page[-1])) if len(older) > len(page) else ""

    @staticmethod
    def _account_id(asset: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_OID, asset))


def _limit(request: RestRequest, default: int, largest: int | None) -> int | RestResponse:
    limit = request.query.get("limit")
    if limit is None:
        return default
    if not limit.isdecimal() or int(limit) < 1 or (largest is not None and int(limit) > largest):
        return RestResponse(rest_error(400, f"invalid limit {limit!r}"), 400)
    return int(limit)


def _moment(request: RestRequest, name: str) -> int | RestResponse | None:
    """A time filter of the query, in ms; None when the request has none."""
    text = request.query.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return RestResponse(rest_error(400, f"invalid {name} {text!r}"), 400)
    if moment.tzinfo is None:
        return RestResponse(rest_error(400, f"{name} must be RFC 3339 with a time zone"), 400)
    return (moment - _EPOCH) // _MILLISECOND


def install_account(exchange: FakeExchange) -> CoinbaseAccount:
    """Serve Coinbase's account endpoints on ``exchange`` (speaking its dialect); return the account's truth."""
    if not isinstance(exchange.dialect, CoinbaseAdvancedTradeDialect):
        raise TypeError(f"install_account() needs CoinbaseAdvancedTradeDialect, not {type(exchange.dialect).__name__}")
    account = CoinbaseAccount(exchange, exchange.dialect)
    exchange.dialect.open_orders = account.open_orders_json
    routes = {ACCOUNTS_PATH: account.accounts_reply, ORDERS_PATH: account.orders_reply, FILLS_PATH: account.fills_reply}
    account.serve_signed("GET", routes)
    return account


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Coinbase Advanced Trade documents them, for the tests."""

    OPEN_ORDER: ClassVar[dict[str, Any]] = {
        "order_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "client_order_id": "11111-000000-000001",
        "cumulative_quantity": "0",
        "leaves_quantity": "0.001",
        "avg_price": "0",
        "total_fees": "0",
        "status": "OPEN",
        "product_id": "BTC-USD",
        "creation_time": "2026-11-25T06:25:53.027Z",
        "order_side": "BUY",
        "order_type": "Limit",
        "cancel_reason": "",
        "reject_reason": "",
        "limit_price": "68900.5",
        "number_of_fills": "0",
        "filled_value": "0",
        "product_type": "SPOT",
        "time_in_force": "GOOD_UNTIL_CANCELLED",
        "trigger_status": "INVALID_ORDER_TYPE",
    }
    SNAPSHOT: ClassVar[dict[str, Any]] = {
        "channel": "user",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.027000Z",
        "sequence_num": 2,
        "events": [{"type": "snapshot", "orders": []}],
    }
    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "channel": "user",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.127000Z",
        "sequence_num": 3,
        "events": [{"type": "update", "orders": [OPEN_ORDER]}],
    }
    FILLED_ORDER: ClassVar[dict[str, Any]] = {
        **OPEN_ORDER,
        "status": "FILLED",
        "cumulative_quantity": "0.001",
        "leaves_quantity": "0",
        "avg_price": "68900.5",
        "total_fees": "0.413403",
        "number_of_fills": "1",
        "filled_value": "68.9005",
    }
    FILL: ClassVar[dict[str, Any]] = {
        "channel": "user",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.227000Z",
        "sequence_num": 4,
        "events": [{"type": "update", "orders": [FILLED_ORDER]}],
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "channel": "subscriptions",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:53.017000Z",
        "sequence_num": 0,
        "events": [
            {
                "subscriptions": {"user": []},
            }
        ],
    }
    AUTHENTICATION_FAILURE: ClassVar[dict[str, Any]] = {"type": "error", "message": "authentication failure"}
    HEARTBEAT: ClassVar[dict[str, Any]] = {
        "channel": "heartbeats",
        "client_id": "",
        "timestamp": "2026-11-25T06:25:54.027000Z",
        "sequence_num": 5,
        "events": [{"current_time": "2026-11-25 06:25:54.026421000 +0000 UTC", "heartbeat_counter": 1}],
    }
    ACCOUNTS_REPLY: ClassVar[dict[str, Any]] = {
        "accounts": [
            {
                "uuid": "8bfc20d7-f7c6-4422-bf07-8243ca4169fe",
                "name": "BTC Wallet",
                "currency": "BTC",
                "available_balance": {"value": "1.23", "currency": "BTC"},
                "default": False,
                "active": True,
                "created_at": "2021-05-31T09:59:59.000Z",
                "updated_at": "2021-05-31T09:59:59.000Z",
                "deleted_at": None,
                "type": "ACCOUNT_TYPE_CRYPTO",
                "ready": True,
                "hold": {"value": "0.01", "currency": "BTC"},
                "retail_portfolio_id": "4444-444444-4444444",
                "platform": "ACCOUNT_PLATFORM_CONSUMER",
            },
            {
                "uuid": "f3a2b1c0-d9e8-4f7a-8b6c-5d4e3f2a1b0c",
                "name": "USD Wallet",
                "currency": "USD",
                "available_balance": {"value": "931.0995", "currency": "USD"},
                "default": True,
                "active": True,
                "created_at": "2021-05-31T09:59:59.000Z",
                "updated_at": "2021-05-31T09:59:59.000Z",
                "deleted_at": None,
                "type": "ACCOUNT_TYPE_FIAT",
                "ready": True,
                "hold": {"value": "68.9005", "currency": "USD"},
                "retail_portfolio_id": "4444-444444-4444444",
                "platform": "ACCOUNT_PLATFORM_CONSUMER",
            },
        ],
        "has_next": False,
        "cursor": "",
        "size": 2,
    }
    REST_OPEN_ORDER: ClassVar[dict[str, Any]] = {
        "order_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "product_id": "BTC-USD",
        "user_id": "3333-333333-3333333",
        "order_configuration": {
            "limit_limit_gtc": {"base_size": "0.001", "limit_price": "68900.5", "post_only": False}
        },
        "side": "BUY",
        "client_order_id": "11111-000000-000001",
        "status": "OPEN",
        "time_in_force": "GOOD_UNTIL_CANCELLED",
        "created_time": "2026-11-25T06:25:53.027Z",
        "completion_percentage": "0",
        "filled_size": "0",
        "average_filled_price": "0",
        "fee": "",
        "number_of_fills": "0",
        "filled_value": "0",
        "pending_cancel": False,
        "size_in_quote": False,
        "total_fees": "0",
        "size_inclusive_of_fees": False,
        "total_value_after_fees": "0",
        "trigger_status": "INVALID_ORDER_TYPE",
        "order_type": "LIMIT",
        "reject_reason": "",
        "settled": False,
        "product_type": "SPOT",
        "reject_message": "",
        "cancel_message": "",
        "order_placement_source": "RETAIL_ADVANCED",
        "outstanding_hold_amount": "68.9005",
        "is_liquidation": False,
        "last_fill_time": None,
        "edit_history": [],
        "leverage": "",
        "margin_type": "",
        "retail_portfolio_id": "4444-444444-4444444",
        "originating_order_id": "",
        "attached_order_id": "",
    }
    REST_FILLED_ORDER: ClassVar[dict[str, Any]] = {
        **REST_OPEN_ORDER,
        "order_id": "0000-000000-000002",
        "client_order_id": "11111-000000-000002",
        "status": "FILLED",
        "completion_percentage": "100",
        "filled_size": "0.001",
        "average_filled_price": "68900.5",
        "number_of_fills": "1",
        "filled_value": "68.9005",
        "total_fees": "0.413403",
        "total_value_after_fees": "69.313903",
        "settled": True,
        "outstanding_hold_amount": "0",
        "last_fill_time": "2026-11-25T06:25:53.227Z",
    }
    OPEN_ORDERS_REPLY: ClassVar[dict[str, Any]] = {
        "orders": [REST_OPEN_ORDER],
        "sequence": "0",
        "has_next": False,
        "cursor": "",
    }
    ORDER_HISTORY_REPLY: ClassVar[dict[str, Any]] = {
        "orders": [REST_FILLED_ORDER, REST_OPEN_ORDER],
        "sequence": "0",
        "has_next": False,
        "cursor": "",
    }
    FILLS_REPLY: ClassVar[dict[str, Any]] = {
        "fills": [
            {
                "entry_id": "22222-2222222-22222222",
                "trade_id": "1111-11111-111111",
                "order_id": "0000-000000-000002",
                "trade_time": "2026-11-25T06:25:53.227Z",
                "trade_type": "FILL",
                "price": "68900.5",
                "size": "0.001",
                "commission": "0.413403",
                "product_id": "BTC-USD",
                "sequence_timestamp": "2026-11-25T06:25:53.228Z",
                "liquidity_indicator": "MAKER",
                "size_in_quote": False,
                "user_id": "3333-333333-3333333",
                "side": "BUY",
                "retail_portfolio_id": "4444-444444-4444444",
            }
        ],
        "cursor": "",
    }
    ORDER_REPLY: ClassVar[dict[str, Any]] = {"order": REST_FILLED_ORDER}
    UNAUTHENTICATED: ClassVar[dict[str, Any]] = {
        "error": "UNAUTHENTICATED",
        "error_details": "Unauthorized",
        "message": "Unauthorized",
    }


# --- the connector contract's harness -----------------------------------------------------------------


KEY_NAME = "organizations/test-org/apiKeys/test-key"


def ec_key_pair() -> tuple[str, str]:
    """A new P-256 key pair as ``(private PEM, public PEM)``: a CDP key's secret, and Coinbase's copy to verify with."""
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found,unused-ignore]

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return str(private.decode()), str(public.decode())


class Harness(ReconcilingHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    LARGEST_PAGE: ClassVar[int | None] = ACCOUNTS_LIMIT[1]
    SYMBOLS: ClassVar[tuple[str, str]] = ("BTC-USD", "ETH-USD")
    GUARANTEE: ClassVar[str] = (
        "orders live; each fill read over REST when a push shows it, once; balances as of the last fill or "
        "reconciliation (every 3 s)"
    )
    account: CoinbaseAccount

    def __init__(self) -> None:
        # The fake verifies each JWT's signature with the public half of the account's key, as Coinbase does.
        self.private_key, self.public_key = ec_key_pair()

    def dialect(self) -> Dialect:
        return CoinbaseAdvancedTradeDialect(self.public_key)

    def credentials(self) -> Credentials:
        return Credentials(api_key=KEY_NAME, secret=self.private_key)

    def wrong_credentials(self) -> Credentials:
        # Another account's key: a secret that is not an EC key at all would already fail in the auth's constructor.
        return Credentials(api_key=f"{KEY_NAME}-other", secret=ec_key_pair()[0])

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)  # the fake checks JWT lifetimes against its own clock
        self.account = install_account(exchange)

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def refuse_next_authentication(self, exchange: FakeExchange) -> bool:
        exchange.reject_next_subscribe(AUTHENTICATION_FAILURE)
        return True

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.SNAPSHOT, DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL]
