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
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, TimeEndpoint

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
                "fee": "-0.0003",
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


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    def dialect(self) -> Dialect:
        return OkxDialect()

    def credentials(self) -> Credentials:
        return credentials()

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        return {"ws_url": private_url(exchange), "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.BALANCE_UPDATE]
