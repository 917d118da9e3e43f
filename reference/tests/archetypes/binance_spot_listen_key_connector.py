"""Binance spot's older listen-key flow: the USD-M futures connector with spot's paths and events.

Binance spot now authenticates its user stream on the WebSocket API (the ``binance`` preset); the
listen-key flow is kept here because the listen-key archetype still serves it (and MEXC's copy of it).
It streams only: spot's account endpoints are not futures', so it keeps no account and reconciles nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from binance_futures.binance_futures_api_user_stream_data_source import BinanceFuturesAPIUserStreamDataSource

from userstream import UserStreamTrackerDataSource


class BinanceSpotListenKeyDataSource(BinanceFuturesAPIUserStreamDataSource):
    """``ws_url="wss://stream.binance.com:9443/ws"``, ``rest_url="https://api.binance.com"``."""

    LISTEN_KEY_PATH = "/api/v3/userDataStream"
    LISTEN_KEY_PARAM = "listenKey"  # spot names the key on PUT and DELETE; futures does not
    TERMINATION_EVENTS: ClassVar[Mapping[str, str]] = {
        "listenKeyExpired": "the listen key expired",
        "eventStreamTerminated": "Binance terminated the user data stream",
    }
    SERVER_TIME_PATH = "/api/v3/time"
    fetch_account_snapshot = UserStreamTrackerDataSource.fetch_account_snapshot  # not overridden: no reconciling
