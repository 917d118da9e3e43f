"""Gate.io spot WebSocket v4, as the fake exchange speaks it.

=====================  =====================================================================================
endpoint               ``wss://api.gateio.ws/ws/v4/`` (the fake serves ``<ws_url>/v4/``)
client subscribe       ``{"time": s, "id"?, "channel", "event": "subscribe", "payload"?, "auth": {"method":
                       "api_key", "KEY", "SIGN"}}``, ``SIGN`` = hex HMAC-SHA512(secret,
                       ``"channel=<channel>&event=<event>&time=<time>"``); private channels need ``auth``
accepted               ``{"time", "time_ms", "id"?, "channel", "event": "subscribe", "error": null,
                       "result": {"status": "success"}}``
rejected               the same with ``"error": {"code", "message"}`` and ``"result": null``: code 4
                       "Authentication fail", code 2 "Invalid argument provided", code 1 "Invalid request body format"
ping                   ``{"time", "channel": "spot.ping"}`` → ``{"time", "time_ms", "channel": "spot.pong",
                       "event": "", "error": null, "result": null}``
updates                ``{"time", "time_ms", "channel", "event": "update", "result": [...]}``
time                   ``GET /api/v4/spot/time`` → ``{"server_time": ms}``
=====================  =====================================================================================

There is no login: each private subscribe is checked on its own (`Dialect.check_subscribe`). Gate documents that a
request's ``time`` may differ from the server's by at most 60 seconds but not which error reports it; the fake
answers such a request with code 4 "Authentication fail".
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, TimeEndpoint

PRIVATE_CHANNELS = ("spot.orders", "spot.usertrades", "spot.balances")
PUBLIC_CHANNELS = ("spot.tickers", "spot.trades")
SERVER_TIME_PATH = "/api/v4/spot/time"

INVALID_REQUEST_BODY = "Invalid request body format"
INVALID_ARGUMENT = "Invalid argument provided"
AUTHENTICATION_FAIL = "Authentication fail"
ERROR_CODES = {INVALID_REQUEST_BODY: 1, INVALID_ARGUMENT: 2, "Server side error happened": 3, AUTHENTICATION_FAIL: 4}
"""Gate's documented WebSocket error codes by message; any other reason is sent with code 2."""


def signature_payload(channel: str, event: str, timestamp: int) -> str:
    return f"channel={channel}&event={event}&time={timestamp}"


class GateIoSpotDialect(Dialect):
    """The exchange side of Gate.io's signed subscribes; see the module docstring."""

    requires_login = False
    TIME_WINDOW_S = 60

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        """The exchange's clock for the ``time`` of its frames; `install` points it at the fake's (skewed) clock."""
        self.revoked_keys: set[str] = set()
        """API keys the exchange refuses from now on, whatever their signature."""

    def classify_client(self, message: Any) -> ClientIntent:
        if not isinstance(message, dict):
            return ClientIntent.OTHER
        if message.get("channel") == "spot.ping":
            return ClientIntent.PING
        if message.get("event") == "subscribe":
            return ClientIntent.SUBSCRIBE
        return ClientIntent.OTHER

    def check_subscribe(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        channel, timestamp = message.get("channel"), message.get("time")
        if not isinstance(channel, str) or not isinstance(timestamp, int):
            return INVALID_REQUEST_BODY
        if channel not in PRIVATE_CHANNELS:
            return None
        auth = message.get("auth")
        if not isinstance(auth, dict) or auth.get("method") != "api_key":
            return AUTHENTICATION_FAIL
        key = auth.get("KEY")
        if key != credentials.api_key or key in self.revoked_keys:
            return AUTHENTICATION_FAIL
        if abs(timestamp - server_time) > self.TIME_WINDOW_S:
            return AUTHENTICATION_FAIL
        payload = signature_payload(channel, str(message.get("event")), timestamp)
        expected = hmac.new(credentials.secret.encode(), payload.encode(), "sha512").hexdigest()
        if not hmac.compare_digest(str(auth.get("SIGN")), expected):
            return AUTHENTICATION_FAIL
        return None

    def check_login(self, message: Any, credentials: Credentials, server_time: float) -> str | None:
        return "Gate.io v4 has no login: sign each subscribe"

    def login_ack(self, message: Any) -> Any:
        return self.subscribe_rejection(message, INVALID_ARGUMENT)

    def login_rejection(self, message: Any, reason: str) -> Any:
        return self.subscribe_rejection(message, reason)

    def subscribe_replies(self, message: Any) -> list[Any]:
        channel = message.get("channel")
        if channel not in PRIVATE_CHANNELS + PUBLIC_CHANNELS:
            return [self.subscribe_rejection(message, f"unknown channel {channel}")]
        return [{**self._reply_header(message), "error": None, "result": {"status": "success"}}]

    def subscribe_rejection(self, message: Any, reason: str) -> Any:
        code = ERROR_CODES.get(reason, 2)
        return {**self._reply_header(message), "error": {"code": code, "message": reason}, "result": None}

    def pong(self, message: Any) -> Any:
        return {**self._frame("spot.pong", ""), "error": None, "result": None}

    def heartbeat(self) -> Any:
        # Gate pings at the protocol level and sends no heartbeat of its own; its pong is the only control frame.
        return self.pong({})

    def user_event(self, channel: str, data: Any) -> Any:
        return {**self._frame(channel, "update"), "result": data}

    def _frame(self, channel: str, event: str) -> dict[str, Any]:
        now = self.clock()
        return {"time": int(now), "time_ms": int(now * 1000), "channel": channel, "event": event}

    def _reply_header(self, message: Any) -> dict[str, Any]:
        header = self._frame(str(message.get("channel")), str(message.get("event")))
        if "id" in message:
            header["id"] = message["id"]
        return header


# --- REST routes and state --------------------------------------------------------------------------------------


@dataclass
class GateIoState:
    """What a test can see and script on a fake Gate.io."""

    exchange: FakeExchange
    dialect: GateIoSpotDialect
    time: TimeEndpoint

    def revoke_key(self, api_key: str) -> None:
        """Refuse every later subscribe signed with ``api_key`` (a key deleted in Gate's console)."""
        self.dialect.revoked_keys.add(api_key)

    def restore_key(self, api_key: str) -> None:
        self.dialect.revoked_keys.discard(api_key)


def install(exchange: FakeExchange) -> GateIoState:
    """Register Gate's time endpoint on ``exchange`` and run its dialect on the fake's clock (``clock_skew`` too)."""
    if not isinstance(exchange.dialect, GateIoSpotDialect):
        raise TypeError("install() needs a FakeExchange created with a GateIoSpotDialect")
    exchange.dialect.clock = exchange.now
    time = exchange.serve_time(
        SERVER_TIME_PATH,
        reply=lambda now: {"server_time": int(now * 1000)},
        error=lambda now: {"label": "SERVER_ERROR", "message": "Internal server error"},
    )
    return GateIoState(exchange, exchange.dialect, time)


# --- user events with Gate's real shapes (the ``result`` of an update frame) ---------------------------------------


def order_update(
    *,
    order_id: str = "399123456",
    text: str = "t-my-order",
    currency_pair: str = "BTC_USDT",
    side: str = "buy",
    amount: str = "0.0001",
    price: str = "26253.3",
    left: str = "0.0001",
    filled_total: str = "0",
    event: str = "put",
    finish_as: str = "open",
) -> dict[str, Any]:
    """One order of a ``spot.orders`` update; ``event`` is ``put``, ``update`` (a fill) or ``finish``."""
    now = time.time()
    return {
        "id": order_id,
        "text": text,
        "create_time": str(int(now)),
        "update_time": str(int(now)),
        "create_time_ms": str(int(now * 1000)),
        "update_time_ms": str(int(now * 1000)),
        "currency_pair": currency_pair,
        "type": "limit",
        "account": "spot",
        "side": side,
        "amount": amount,
        "price": price,
        "time_in_force": "gtc",
        "left": left,
        "filled_total": filled_total,
        "avg_deal_price": "0",
        "fee": "0",
        "fee_currency": "USDT",
        "point_fee": "0",
        "gt_fee": "0",
        "rebated_fee": "0",
        "rebated_fee_currency": "USDT",
        "user": 1000001,
        "event": event,
        "stp_id": 0,
        "stp_act": "-",
        "finish_as": finish_as,
        "biz_info": "-",
        "amend_text": "-",
    }


def user_trade(
    *,
    trade_id: int = 5736713,
    order_id: str = "399123456",
    currency_pair: str = "BTC_USDT",
    side: str = "buy",
    amount: str = "0.0001",
    price: str = "26253.3",
    role: str = "taker",
    fee: str = "0.00000020",
    fee_currency: str = "BTC",
    text: str = "t-my-order",
) -> dict[str, Any]:
    """One trade of a ``spot.usertrades`` update: a fill of one of the account's orders."""
    now = time.time()
    return {
        "id": trade_id,
        "user_id": 1000001,
        "order_id": order_id,
        "currency_pair": currency_pair,
        "create_time": int(now),
        "create_time_ms": f"{now * 1000:.3f}",
        "side": side,
        "amount": amount,
        "role": role,
        "price": price,
        "fee": fee,
        "fee_currency": fee_currency,
        "point_fee": "0",
        "gt_fee": "0",
        "text": text,
        "id_market": trade_id,
    }


def balance(
    *,
    currency: str = "USDT",
    change: str = "-2.6253",
    total: str = "997.3747",
    available: str = "997.3747",
    freeze: str = "0",
    freeze_change: str = "0",
    change_type: str = "order-match",
) -> dict[str, Any]:
    """One entry of a ``spot.balances`` update."""
    now = time.time()
    return {
        "timestamp": str(int(now)),
        "timestamp_ms": str(int(now * 1000)),
        "user": "1000001",
        "currency": currency,
        "change": change,
        "total": total,
        "available": available,
        "freeze": freeze,
        "freeze_change": freeze_change,
        "change_type": change_type,
    }


# --- documented frames ---------------------------------------------------------------------------------


class DocumentedFrames:
    """Frames and replies as Gate spot v4 documents them, for the tests."""

    ORDER_UPDATE: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "channel": "spot.orders",
        "event": "update",
        "result": [
            {
                "id": "399123456",
                "text": "t-my-order",
                "create_time": "1795568753",
                "update_time": "1795568753",
                "create_time_ms": "1795568753027",
                "update_time_ms": "1795568753027",
                "currency_pair": "BTC_USDT",
                "type": "limit",
                "account": "spot",
                "side": "buy",
                "amount": "0.0001",
                "price": "26253.3",
                "time_in_force": "gtc",
                "left": "0.0001",
                "filled_total": "0",
                "avg_deal_price": "0",
                "fee": "0",
                "fee_currency": "BTC",
                "point_fee": "0",
                "gt_fee": "0",
                "rebated_fee": "0",
                "rebated_fee_currency": "USDT",
                "user": 1000001,
                "event": "put",
                "stp_id": 0,
                "stp_act": "-",
                "finish_as": "open",
                "biz_info": "-",
                "amend_text": "-",
            }
        ],
    }
    FILL: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753127,
        "channel": "spot.usertrades",
        "event": "update",
        "result": [
            {
                "id": 5736713,
                "user_id": 1000001,
                "order_id": "399123456",
                "currency_pair": "BTC_USDT",
                "create_time": 1795568753,
                "create_time_ms": "1795568753127.123",
                "side": "buy",
                "amount": "0.0001",
                "role": "taker",
                "price": "26253.3",
                "fee": "0.00000020",
                "fee_currency": "BTC",
                "point_fee": "0",
                "gt_fee": "0",
                "text": "t-my-order",
                "id_market": 5736713,
            }
        ],
    }
    BALANCE_UPDATE: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753128,
        "channel": "spot.balances",
        "event": "update",
        "result": [
            {
                "timestamp": "1795568753",
                "timestamp_ms": "1795568753128",
                "user": "1000001",
                "currency": "USDT",
                "change": "-2.6253",
                "total": "997.3747",
                "available": "997.3747",
                "freeze": "0",
                "freeze_change": "0",
                "change_type": "order-match",
            }
        ],
    }
    SUBSCRIBED: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "id": 1,
        "channel": "spot.orders",
        "event": "subscribe",
        "error": None,
        "result": {"status": "success"},
    }
    AUTHENTICATION_FAIL: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "id": 1,
        "channel": "spot.orders",
        "event": "subscribe",
        "error": {"code": 4, "message": "Authentication fail"},
        "result": None,
    }
    INVALID_ARGUMENT: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "id": 1,
        "channel": "spot.orders",
        "event": "subscribe",
        "error": {"code": 2, "message": "Invalid argument provided"},
        "result": None,
    }
    PONG: ClassVar[dict[str, Any]] = {
        "time": 1795568753,
        "time_ms": 1795568753027,
        "channel": "spot.pong",
        "event": "",
        "error": None,
        "result": None,
    }
    SERVER_TIME: ClassVar[dict[str, Any]] = {"server_time": 1795568753027}


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    def dialect(self) -> Dialect:
        return GateIoSpotDialect()

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)  # the time endpoint, and the fake's frames stamped with its own clock

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The same path as Gate's own wss://api.gateio.ws/ws/v4/.
        return {"ws_url": exchange.ws_url + "/v4/", "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.BALANCE_UPDATE]
