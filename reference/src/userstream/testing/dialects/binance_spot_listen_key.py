"""Binance spot's older listen-key flow (``/api/v3/userDataStream``, deprecated in favour of the WebSocket API).

The same flow as futures (`binance_futures`), with spot's constants: PUT and DELETE name the key in a
``listenKey`` query parameter and answer ``{}``; the stream is ``wss://stream.binance.com:9443/ws/<listenKey>``;
the events are ``executionReport``, ``outboundAccountPosition``, ``balanceUpdate`` and ``listenKeyExpired``
(plus ``eventStreamTerminated``, which spot sends when it ends a user data stream on its side).
"""

from __future__ import annotations

import time
from typing import Any

# The events are spot's own, the same on both spot transports: one definition, in the WS-API module.
from userstream.testing.dialects.binance import account_position, balance_update, execution_report
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
    "account_position",
    "balance_update",
    "event_stream_terminated",
    "execution_report",
    "install",
    "listen_key_expired",
    "spot_dialect",
]


def spot_dialect() -> BinanceListenKeyDialect:
    return BinanceListenKeyDialect(SPOT)


def event_stream_terminated(event_time: int | None = None) -> dict[str, Any]:
    """``eventStreamTerminated``: spot ended the user data stream (unwrapped, as on a listen-key stream)."""
    return {"e": "eventStreamTerminated", "E": _now_ms() if event_time is None else event_time}


def _now_ms() -> int:
    return int(time.time() * 1000)
