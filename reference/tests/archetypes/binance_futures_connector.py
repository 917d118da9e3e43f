"""Binance's listen-key user streams as connectors of the listen-key archetype: constants only.

What a generated connector looks like: the archetype owns creating, extending, discarding and
closing the key; the connector says where and how Binance names things.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from userstream import StreamTimings
from userstream.archetypes.listen_key import ListenKeyDataSource

# Binance's servers ping every few minutes and answer ours; a pong every 30 s proves the socket is alive.
BINANCE_TIMINGS = StreamTimings(ping_interval=30.0, stale_after=90.0)


class BinanceFuturesUserStreamDataSource(ListenKeyDataSource):
    """USD-M futures: ``ws_url="wss://fstream.binance.com/ws"``, ``rest_url="https://fapi.binance.com"``."""

    LISTEN_KEY_PATH = "/fapi/v1/listenKey"
    API_KEY_HEADER = "X-MBX-APIKEY"
    KEEPALIVE_INTERVAL = 30 * 60.0  # a key lives 60 minutes; Binance recommends extending it every 30
    EVENT_TYPE_FIELD = "e"
    TERMINATION_EVENTS: ClassVar[Mapping[str, str]] = {"listenKeyExpired": "the listen key expired"}
    SERVER_TIME_PATH = "/fapi/v1/time"
    DEFAULT_TIMINGS = BINANCE_TIMINGS


class BinanceSpotListenKeyDataSource(ListenKeyDataSource):
    """Spot's older flow: ``ws_url="wss://stream.binance.com:9443/ws"``, ``rest_url="https://api.binance.com"``."""

    LISTEN_KEY_PATH = "/api/v3/userDataStream"
    LISTEN_KEY_PARAM = "listenKey"  # spot names the key on PUT and DELETE; futures does not
    API_KEY_HEADER = "X-MBX-APIKEY"
    KEEPALIVE_INTERVAL = 30 * 60.0
    EVENT_TYPE_FIELD = "e"
    TERMINATION_EVENTS: ClassVar[Mapping[str, str]] = {
        "listenKeyExpired": "the listen key expired",
        "eventStreamTerminated": "Binance terminated the user data stream",
    }
    SERVER_TIME_PATH = "/api/v3/time"
    DEFAULT_TIMINGS = BINANCE_TIMINGS
