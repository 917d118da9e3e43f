"""Binance's listen-key user data stream, as the fake exchange speaks it (USD-M futures; spot reuses it).

Modelled on Binance's documentation (developers.binance.com, "USDⓈ-M Futures > User Data Streams"):

=========================  ===========================================================================
create a key               ``POST /fapi/v1/listenKey``, header ``X-MBX-APIKEY`` → ``{"listenKey": K}``;
                           the account's active key if it has one (its validity extended), else a new one
extend it                  ``PUT /fapi/v1/listenKey`` → ``{"listenKey": K}``; no parameters on futures
                           (the API key names the account's one key); spot passes ``listenKey``
close it                   ``DELETE /fapi/v1/listenKey`` → ``{}``
errors                     ``{"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}`` (401),
                           ``{"code": -2014, "msg": "API-key format invalid."}`` (401, no or bad header),
                           ``{"code": -1125, "msg": "This listenKey does not exist."}`` (400)
connect                    ``wss://fstream.binance.com/ws/<listenKey>``: no login, no subscribe; the
                           server pings at the protocol level and expects pongs
user events                unwrapped: ``ORDER_TRADE_UPDATE`` (the order in ``o``), ``ACCOUNT_UPDATE``
                           (balances in ``a.B``, positions in ``a.P``), ``listenKeyExpired``
time                       ``GET /fapi/v1/time`` → ``{"serverTime": ms}``
=========================  ===========================================================================

``install(exchange)`` registers the REST routes and returns a `BinanceListenKeyState`, the test's
handle on the account's keys: which were issued, which connection used which, how to expire one,
how to make the next call fail.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialect import ClientIntent, Credentials, Dialect
from userstream.testing.fake_exchange import WS_PATH, FakeExchange, RestRequest, RestResponse

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


# --- the connector contract's harness -----------------------------------------------------------------


class Harness(WebSocketHarness):
    """How the connector contract runs against this fake; a connector's harness adds its own classes."""

    def dialect(self) -> Dialect:
        return BinanceListenKeyDialect(USDM_FUTURES)

    def install(self, exchange: FakeExchange) -> None:
        install(exchange)  # the listen-key routes (POST, PUT, DELETE) and the time endpoint

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The fake serves each key's stream at <ws_url>/<listenKey>, as Binance does under WS_PRIVATE_URL.
        return {"ws_url": exchange.ws_url, "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [DocumentedFrames.ORDER_UPDATE, DocumentedFrames.FILL, DocumentedFrames.ACCOUNT_UPDATE]
