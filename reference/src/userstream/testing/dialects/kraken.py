"""Kraken's spot private stream (WebSocket API v1) as the fake exchange speaks it: a REST token in every subscribe.

Modelled on Kraken's documentation:

- token: ``POST /0/private/GetWebSocketsToken`` with the form body ``nonce=...``, headers ``API-Key``
  and ``API-Sign`` = base64 HMAC-SHA512, keyed with the base64-decoded secret, of the URI path's
  bytes followed by the raw SHA-256 digest of ``nonce + POST data``. The nonce must increase on
  every call. Reply ``{"error": [], "result": {"token", "expires": 900}}``; errors come with HTTP
  200 as ``{"error": ["EAPI:Invalid key"]}`` (also ``EAPI:Invalid signature``, ``EAPI:Invalid nonce``).
- connect ``wss://ws-auth.kraken.com/``; the first frame is ``{"connectionID", "event":
  "systemStatus", "status": "online", "version"}``.
- subscribe ``{"event": "subscribe", "subscription": {"name": "openOrders" | "ownTrades", "token"}}``
  → ``{"channelName", "event": "subscriptionStatus", "status": "subscribed", "subscription": {"name"}}``,
  or ``"status": "error"`` with ``"errorMessage": "ESession:Invalid session"`` for a token that is
  unknown, revoked, or older than ``expires`` seconds when first used. An exchange-initiated
  unsubscribe is a ``subscriptionStatus`` with ``"status": "unsubscribed"``.
- ping ``{"event": "ping", "reqid"}`` → ``{"event": "pong", "reqid"}``; heartbeat ``{"event": "heartbeat"}``.
- data ``[[{order_id: {...}}], "openOrders", {"sequence": n}]`` and the same for ``ownTrades``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs

from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, RestRequest

TOKEN_PATH = "/0/private/GetWebSocketsToken"
OPEN_ORDERS = "openOrders"
OWN_TRADES = "ownTrades"
CHANNELS = (OPEN_ORDERS, OWN_TRADES)
TOKEN_LIFETIME = 900
VERSION = "1.9.5"

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
INVALID_SESSION = "ESession:Invalid session"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
SERVICE_UNAVAILABLE = "EService:Unavailable"


def api_sign(uri_path: str, post_data: str, secret_b64: str) -> str:
    """Kraken's ``API-Sign``: base64 HMAC-SHA512(base64-decoded secret, path bytes + SHA-256(nonce + POST data))."""
    nonce = parse_qs(post_data).get("nonce", [""])[0]
    message = uri_path.encode() + hashlib.sha256((nonce + post_data).encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), message, hashlib.sha512).digest()).decode()


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
        minted = self.issued.get(token) if isinstance(token, str) else None
        return minted is not None and token not in self.revoked and now - minted <= self.expires

    def revoke(self, token: str | None = None) -> None:
        """Invalidate one token, or every token issued so far."""
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
    """The WebSocket half of the fake Kraken; `install` adds the REST half."""

    requires_login = False  # each subscribe carries the token

    def __init__(self, state: KrakenState | None = None) -> None:
        self.state = state or KrakenState()
        self._connection_ids = itertools.count(14950811667203285981)
        self._sequences: dict[str, itertools.count[int]] = {}

    def greeting(self) -> list[Any]:
        return [
            {
                "connectionID": next(self._connection_ids),
                "event": "systemStatus",
                "status": "online",
                "version": VERSION,
            }
        ]

    def classify_client(self, message: Any) -> ClientIntent:
        event = message.get("event") if isinstance(message, dict) else None
        if event == "subscribe":
            return ClientIntent.SUBSCRIBE
        if event == "ping":
            return ClientIntent.PING
        return ClientIntent.OTHER

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "Kraken has no login message: each subscribe carries the token"

    def login_ack(self, message: Any) -> Any:
        return {"event": "error", "errorMessage": "Unsupported event"}

    def login_rejection(self, message: Any, reason: str) -> Any:
        return {"event": "error", "errorMessage": reason}

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        subscription = message.get("subscription")
        if not isinstance(subscription, dict) or subscription.get("name") not in CHANNELS:
            return INVALID_ARGUMENTS
        if not self.state.is_valid(subscription.get("token"), server_time):
            return INVALID_SESSION
        return None

    def subscribe_replies(self, message: Any) -> list[Any]:
        name = message["subscription"]["name"]
        reply = {
            "channelName": name,
            "event": "subscriptionStatus",
            "status": "subscribed",
            "subscription": {"name": name},
        }
        return [_with_reqid(reply, message)]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        subscription = message.get("subscription")
        name = subscription.get("name") if isinstance(subscription, dict) else None
        reply = {
            "errorMessage": reason,
            "event": "subscriptionStatus",
            "status": "error",
            "subscription": {"name": name},
        }
        return _with_reqid(reply, message)

    def pong(self, message: Any) -> Any:
        return _with_reqid({"event": "pong"}, message)

    def heartbeat(self) -> Any:
        return {"event": "heartbeat"}

    def user_event(self, channel: str, data: Any) -> Any:
        """``data`` is the list of ``{id: {...}}`` objects; the sequence counts per channel from 1."""
        sequence = next(self._sequences.setdefault(channel, itertools.count(1)))
        return [data, channel, {"sequence": sequence}]


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


# --- frames tests push ---------------------------------------------------------------------------


def new_order(
    order_id: str,
    *,
    pair: str = "XBT/USD",
    side: str = "buy",
    price: str = "30000.0",
    volume: str = "0.01000000",
    sequence: int = 1,
    opentm: str = "1700000000.000000",
) -> list[Any]:
    """An ``openOrders`` update for an order that was just placed (status ``pending``), with its full fields."""
    fields = {
        "avg_price": "0.00000",
        "cost": "0.00000",
        "descr": {
            "close": "",
            "leverage": "none",
            "order": f"{side} {volume} {pair} @ limit {price}",
            "ordertype": "limit",
            "pair": pair,
            "price": price,
            "price2": "0.00000",
            "type": side,
        },
        "expiretm": None,
        "fee": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
        "opentm": opentm,
        "refid": None,
        "starttm": None,
        "status": "pending",
        "stopprice": "0.00000",
        "userref": 0,
        "vol": volume,
        "vol_exec": "0.00000000",
    }
    return [[{order_id: fields}], OPEN_ORDERS, {"sequence": sequence}]


def order_update(order_id: str, *, status: str, sequence: int = 1, **fields: Any) -> list[Any]:
    """An ``openOrders`` status change, e.g. ``status="open"``, ``"closed"`` or ``"canceled"``."""
    return [[{order_id: {"status": status, **fields}}], OPEN_ORDERS, {"sequence": sequence}]


def own_trade(
    trade_id: str,
    *,
    ordertxid: str,
    pair: str = "XBT/USD",
    side: str = "buy",
    price: str = "30000.00000",
    vol: str = "0.01000000",
    fee: str = "0.78000",
    sequence: int = 1,
    time: str = "1700000000.123456",
) -> list[Any]:
    """An ``ownTrades`` message for one fill."""
    cost = f"{float(price) * float(vol):.5f}"
    trade = {
        "cost": cost,
        "fee": fee,
        "margin": "0.00000",
        "ordertxid": ordertxid,
        "ordertype": "limit",
        "pair": pair,
        "postxid": "TKH2SE-M7IF5-CFI7LT",
        "price": price,
        "time": time,
        "type": side,
        "vol": vol,
    }
    return [[{trade_id: trade}], OWN_TRADES, {"sequence": sequence}]


def unsubscribed(channel: str) -> dict[str, Any]:
    """An exchange-initiated unsubscribe: the feed ended and the client must subscribe again."""
    return {
        "channelName": channel,
        "event": "subscriptionStatus",
        "status": "unsubscribed",
        "subscription": {"name": channel},
    }


def _with_reqid(reply: dict[str, Any], message: Mapping[str, Any]) -> dict[str, Any]:
    return {**reply, "reqid": message["reqid"]} if "reqid" in message else reply


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Kraken spot (WebSocket v1) documents them, for the tests."""

    NEW_ORDER: ClassVar[list[Any]] = [
        [
            {
                "OGTT3Y-C6I3P-XRI6HX": {
                    "avg_price": "0.00000",
                    "cost": "0.00000",
                    "descr": {
                        "close": "",
                        "leverage": "none",
                        "order": "buy 0.01000000 XBT/USD @ limit 30000.0",
                        "ordertype": "limit",
                        "pair": "XBT/USD",
                        "price": "30000.0",
                        "price2": "0.00000",
                        "type": "buy",
                    },
                    "expiretm": None,
                    "fee": "0.00000",
                    "limitprice": "0.00000",
                    "misc": "",
                    "oflags": "fciq",
                    "opentm": "1795568753.027000",
                    "refid": None,
                    "starttm": None,
                    "status": "pending",
                    "stopprice": "0.00000",
                    "userref": 0,
                    "vol": "0.01000000",
                    "vol_exec": "0.00000000",
                }
            }
        ],
        "openOrders",
        {"sequence": 1},
    ]
    OWN_TRADE: ClassVar[list[Any]] = [
        [
            {
                "TDLH43-DVQXD-2KHVYY": {
                    "cost": "300.00000",
                    "fee": "0.78000",
                    "margin": "0.00000",
                    "ordertxid": "OGTT3Y-C6I3P-XRI6HX",
                    "ordertype": "limit",
                    "pair": "XBT/USD",
                    "postxid": "TKH2SE-M7IF5-CFI7LT",
                    "price": "30000.00000",
                    "time": "1795568753.127000",
                    "type": "buy",
                    "vol": "0.01000000",
                }
            }
        ],
        "ownTrades",
        {"sequence": 1},
    ]
    ORDER_CLOSED: ClassVar[list[Any]] = [
        [
            {
                "OGTT3Y-C6I3P-XRI6HX": {"status": "closed"},
            }
        ],
        "openOrders",
        {"sequence": 2},
    ]
    SYSTEM_STATUS: ClassVar[dict[str, Any]] = {
        "connectionID": 14950811667203285981,
        "event": "systemStatus",
        "status": "online",
        "version": "1.9.5",
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "channelName": "openOrders",
        "event": "subscriptionStatus",
        "status": "subscribed",
        "subscription": {"name": "openOrders"},
    }
    SESSION_REFUSED: ClassVar[dict[str, Any]] = {
        "errorMessage": "ESession:Invalid session",
        "event": "subscriptionStatus",
        "status": "error",
        "subscription": {"name": "openOrders"},
    }
    FEED_ENDED: ClassVar[dict[str, Any]] = {
        "channelName": "ownTrades",
        "event": "subscriptionStatus",
        "status": "unsubscribed",
        "subscription": {"name": "ownTrades"},
    }
    HEARTBEAT: ClassVar[dict[str, Any]] = {"event": "heartbeat"}
    PONG: ClassVar[dict[str, Any]] = {"event": "pong", "reqid": 1}

    # REST: POST /0/private/GetWebSocketsToken.
    TOKEN_GRANTED: ClassVar[dict[str, Any]] = {
        "error": [],
        "result": {"token": "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw", "expires": 900},
    }
    INVALID_KEY: ClassVar[dict[str, Any]] = {"error": ["EAPI:Invalid key"]}
    UNAVAILABLE: ClassVar[dict[str, Any]] = {"error": ["EService:Unavailable"]}


# --- the connector contract's harness -----------------------------------------------------------------


def private_key(text: bytes) -> str:
    """A Kraken private key as Kraken shows it: base64 (the fake decodes it to verify API-Sign)."""
    return base64.b64encode(text).decode()


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

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

    def user_events(self) -> Sequence[Any]:
        # An order placed, its fill, its closing: Kraken's v1 feeds report no balance change.
        return [DocumentedFrames.NEW_ORDER, DocumentedFrames.OWN_TRADE, DocumentedFrames.ORDER_CLOSED]
