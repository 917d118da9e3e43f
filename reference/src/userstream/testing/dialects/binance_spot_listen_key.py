"""Binance spot's older listen-key flow (``/api/v3/userDataStream``, deprecated in favour of the WebSocket API).

The same flow as futures (`binance_futures`), with spot's constants: PUT and DELETE name the key in a
``listenKey`` query parameter and answer ``{}``; the stream is ``wss://stream.binance.com:9443/ws/<listenKey>``;
the events are ``executionReport``, ``outboundAccountPosition``, ``balanceUpdate`` and ``listenKeyExpired``
(plus ``eventStreamTerminated``, which spot sends when it ends a user data stream on its side).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from userstream.testing.dialects.binance_futures import (
    BinanceListenKeyDialect,
    BinanceListenKeyProfile,
    BinanceListenKeyState,
    install,
    listen_key_expired,
)

SPOT = BinanceListenKeyProfile(
    name="Binance spot (listen key)",
    listen_key_path="/api/v3/userDataStream",
    time_path="/api/v3/time",
    key_param="listenKey",
    keepalive_returns_key=False,
)

__all__ = [
    "SPOT",
    "BinanceListenKeyState",
    "balance_update",
    "event_stream_terminated",
    "execution_report",
    "install",
    "listen_key_expired",
    "outbound_account_position",
    "spot_dialect",
]


def spot_dialect() -> BinanceListenKeyDialect:
    return BinanceListenKeyDialect(SPOT)


def execution_report(
    *,
    symbol: str = "ETHBTC",
    order_id: int = 4293153,
    client_order_id: str = "userstream-1",
    side: str = "BUY",
    order_type: str = "LIMIT",
    quantity: str = "1.00000000",
    price: str = "0.10264410",
    execution_type: str = "NEW",
    status: str = "NEW",
    last_quantity: str = "0.00000000",
    filled_quantity: str = "0.00000000",
    last_price: str = "0.00000000",
    commission: str = "0",
    commission_asset: str | None = None,
    trade_id: int = -1,
    maker: bool = False,
    event_time: int | None = None,
) -> dict[str, Any]:
    """An ``executionReport``: an order's new state, and for ``execution_type="TRADE"`` a fill."""
    now = _now_ms() if event_time is None else event_time
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
        "X": status,
        "r": "NONE",
        "i": order_id,
        "l": last_quantity,
        "z": filled_quantity,
        "L": last_price,
        "n": commission,
        "N": commission_asset,
        "T": now,
        "t": trade_id,
        "v": 3,
        "I": 8641984,
        "w": execution_type == "NEW",
        "m": maker,
        "M": False,
        "O": now,
        "Z": "0.00000000",
        "Y": "0.00000000",
        "Q": "0.00000000",
        "W": now,
        "V": "EXPIRE_MAKER",
    }


def outbound_account_position(
    balances: Sequence[Mapping[str, str]] = ({"a": "ETH", "f": "10000.000000", "l": "0.000000"},),
    event_time: int | None = None,
) -> dict[str, Any]:
    """An ``outboundAccountPosition``: the assets that may have changed, free (``f``) and locked (``l``)."""
    now = _now_ms() if event_time is None else event_time
    return {"e": "outboundAccountPosition", "E": now, "u": now, "B": [dict(b) for b in balances]}


def balance_update(asset: str = "BTC", delta: str = "100.00000000", event_time: int | None = None) -> dict[str, Any]:
    """A ``balanceUpdate``: a deposit, withdrawal or transfer changed ``asset`` by ``delta``."""
    now = _now_ms() if event_time is None else event_time
    return {"e": "balanceUpdate", "E": now, "a": asset, "d": delta, "T": now}


def event_stream_terminated(event_time: int | None = None) -> dict[str, Any]:
    """``eventStreamTerminated``: spot ended the user data stream (unwrapped, as on a listen-key stream)."""
    return {"e": "eventStreamTerminated", "E": _now_ms() if event_time is None else event_time}


def _now_ms() -> int:
    return int(time.time() * 1000)
