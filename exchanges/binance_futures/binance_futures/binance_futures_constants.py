"""Binance USDⓈ-M futures: the listen-key user data stream, the account's REST endpoints and timings.

"User Data Streams", "Trade" and "Account" in Binance's USDⓈ-M futures documentation (developers.binance.com).
"""

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

# "A single connection is only valid for 24 hours; expect to be disconnected at the 24 hour mark." Binance announces
# no close in advance on futures user streams, so each connection is replaced make-before-break a little before.
MAX_CONNECTION_AGE: Final = 23.5 * 3600

# Binance pings only every few minutes; our protocol pings, answered within the interval, are what
# reveal a dead socket in good time.
TIMINGS: Final = StreamTimings(ping_interval=30.0, stale_after=90.0)

# Signed REST: the query carries timestamp, recvWindow and the hex HMAC-SHA256 of the query string as sent.
RECV_WINDOW_MS: Final = 5000
# -1021 "Timestamp for this request is outside of the recvWindow": our clock is off, measure Binance's.
CLOCK_SKEW_CODES: Final = frozenset({-1021})

# The account, read after every gap. Balances and open orders (all symbols) come in one reply each; the order
# history and the trades take one symbol at a time, oldest first from `startTime`, at most PAGE_LIMIT rows a
# page: the next page starts at the last row's id + 1 (`orderId`, `fromId`).
BALANCE_PATH: Final = "/fapi/v3/balance"
OPEN_ORDERS_PATH: Final = "/fapi/v1/openOrders"
ALL_ORDERS_PATH: Final = "/fapi/v1/allOrders"
USER_TRADES_PATH: Final = "/fapi/v1/userTrades"
ORDER_PATH: Final = "/fapi/v1/order"
PAGE_LIMIT: Final = 1000
# Both history endpoints take a window of less than 7 days: a minute is kept for the clocks.
HISTORY_WINDOW: Final = 7 * 24 * 3600.0 - 60
