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
time                   ``GET /api/v3/time`` → ``{"serverTime": ms}``
=====================  =====================================================================================

The signed subscribe is the whole handshake, so the fake treats it as the login: `FakeExchange.reject_next_login`
injects a rejection (pass one of the messages below to pick its code) and a connection counts as subscribed once
``authenticated``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import Connection, FakeExchange, TimeEndpoint

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


def _ms() -> int:
    return int(time.time() * 1000)


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


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    def dialect(self) -> Dialect:
        return BinanceSpotWsApiDialect()

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The fake serves the WebSocket API at the same path as Binance does: <host>/ws-api/v3.
        return {"ws_url": exchange.ws_url + WS_API_PATH_SUFFIX, "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.ACCOUNT_POSITION]
