"""Binance USDⓈ-M futures' user data stream: a listen key, minted over REST, in the WebSocket URL.

userstream's listen-key archetype does the work: it creates the key before every connection (Binance
returns the account's live key if there is one), extends it every 30 minutes beside the connection,
replaces it after ``listenKeyExpired`` and deletes it on ``stop()``. There is no login and no
subscribe: every typed event on the stream is the account's, so event types Binance adds later
(``TRADE_LITE``, ``ALGO_UPDATE``, ...) reach the bot too.
"""

from collections.abc import Mapping
from typing import ClassVar

from userstream import StreamTimings
from userstream.archetypes.listen_key import ListenKeyDataSource

from binance_futures import binance_futures_constants as CONSTANTS


class BinanceFuturesAPIUserStreamDataSource(ListenKeyDataSource):
    WS_URL: ClassVar[str | None] = CONSTANTS.WS_PRIVATE_URL
    REST_URL: ClassVar[str | None] = CONSTANTS.REST_URL
    DEFAULT_TIMINGS: ClassVar[StreamTimings] = CONSTANTS.TIMINGS
    LISTEN_KEY_PATH: ClassVar[str] = CONSTANTS.LISTEN_KEY_PATH
    API_KEY_HEADER: ClassVar[str] = CONSTANTS.API_KEY_HEADER
    KEEPALIVE_INTERVAL: ClassVar[float] = CONSTANTS.LISTEN_KEY_KEEPALIVE_INTERVAL
    EVENT_TYPE_FIELD: ClassVar[str] = CONSTANTS.EVENT_TYPE_FIELD
    TERMINATION_EVENTS: ClassVar[Mapping[str, str]] = CONSTANTS.TERMINATION_EVENTS
    SERVER_TIME_PATH: ClassVar[str | None] = CONSTANTS.SERVER_TIME_PATH
