"""Binance USDⓈ-M futures: the listen-key user data stream, its REST paths and timings (docs: "User Data Streams")."""

from collections.abc import Mapping
from typing import Final

from userstream import StreamTimings

# The stream of one listen key is at <WS_PRIVATE_URL>/<listenKey>.
WS_PRIVATE_URL: Final = "wss://fstream.binance.com/private/ws"
REST_URL: Final = "https://fapi.binance.com"
SERVER_TIME_PATH: Final = "/fapi/v1/time"

# POST creates the key (or returns the account's live one), PUT extends it, DELETE closes it.
LISTEN_KEY_PATH: Final = "/fapi/v1/listenKey"
# Listen-key calls are not signed: the API key in this header names the account.
API_KEY_HEADER: Final = "X-MBX-APIKEY"
# A key lives 60 minutes; Binance recommends a keepalive every 30, so one failed PUT is not yet fatal.
LISTEN_KEY_KEEPALIVE_INTERVAL: Final = 30 * 60.0

# Every event names its type in "e". After listenKeyExpired the socket stays open but carries nothing:
# the connection must be replaced, with a new key.
EVENT_TYPE_FIELD: Final = "e"
TERMINATION_EVENTS: Final[Mapping[str, str]] = {"listenKeyExpired": "the listen key expired"}

# Binance pings only every few minutes; our protocol pings, answered within the interval, are what
# reveal a dead socket in good time.
TIMINGS: Final = StreamTimings(ping_interval=30.0, stale_after=90.0)
