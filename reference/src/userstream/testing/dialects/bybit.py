"""Bybit v5's private WebSocket, as the fake exchange speaks it (login-message archetype).

Modelled on Bybit's V5 documentation (https://bybit-exchange.github.io/docs/v5/ws/connect): the
"Connect" page (authentication, heartbeat, subscription responses), the private topics "Order",
"Execution" and "Wallet", and "Get Bybit Server Time" (``/v5/market/time``).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import FakeExchange, TimeEndpoint

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
                "cumExecQty": "0",
                "cumExecValue": "0",
                "cumExecFee": "0",
                "feeCurrency": "BTC",
                "createdTime": "1795568753027",
                "updatedTime": "1795568753027",
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
                "orderId": "1811634547419049216",
                "orderLinkId": "bot-1",
                "side": "Buy",
                "orderPrice": "30000",
                "orderQty": "0.01",
                "leavesQty": "0.006",
                "orderType": "Limit",
                "execId": "2100000000062580127",
                "execPrice": "30000",
                "execQty": "0.004",
                "execValue": "120",
                "execFee": "0.000004",
                "feeRate": "0.001",
                "execType": "Trade",
                "execTime": "1795568753127",
                "isMaker": False,
                "seq": 4688002127,
            }
        ],
    }
    WALLET_UPDATE: ClassVar[dict[str, Any]] = {
        "id": "592324d2bce751-ad38-48eb-8f42-4671d1fb4d4e",
        "topic": "wallet",
        "creationTime": 1795568753127,
        "data": [
            {
                "accountType": "UNIFIED",
                "totalEquity": "",
                "totalWalletBalance": "",
                "coin": [
                    {
                        "coin": "USDT",
                        "equity": "879.998",
                        "walletBalance": "879.998",
                        "locked": "120",
                        "usdValue": "",
                        "unrealisedPnl": "0",
                        "cumRealisedPnl": "0",
                    }
                ],
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


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    def dialect(self) -> Dialect:
        return BybitDialect()

    def credentials(self) -> Credentials:
        return credentials()

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        return {"ws_url": private_url(exchange), "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.EXECUTION, DocumentedFrames.WALLET_UPDATE]
