"""Binance spot: the WebSocket API's user data stream, the account's REST endpoints and timings.

From Binance's spot API documentation (github.com/binance/binance-spot-api-docs): "web-socket-api.md" (General API
Information, Connection events, User Data Stream requests), "user-data-stream.md" and "rest-api.md" (Request
Security, Account Endpoints).
"""

from typing import Final

from userstream import StreamTimings

WS_API_URL: Final = "wss://ws-api.binance.com:443/ws-api/v3"
REST_URL: Final = "https://api.binance.com"
SERVER_TIME_PATH: Final = "/api/v3/time"

# One signed request subscribes the connection to the account's events: there is no separate login.
USER_DATA_SUBSCRIBE_METHOD: Final = "userDataStream.subscribe.signature"
# Binance ends a subscription with this event; a new connection must sign a new subscribe.
STREAM_TERMINATED_EVENT: Final = "eventStreamTerminated"
# Sent (without a subscriptionId) when the server is about to shut down; the connection delivers until it closes.
SERVER_SHUTDOWN_EVENT: Final = "serverShutdown"
# "A single connection to the API is only valid for 24 hours": replaced well before Binance ends it.
MAX_CONNECTION_AGE: Final = 23.5 * 3600

# Binance pings every 20 s and drops a connection that leaves it unanswered for a minute; our own
# protocol pings are what tell us, from this side, that the socket has died.
TIMINGS: Final = StreamTimings(ping_interval=20.0, stale_after=60.0)

# -1021 "Timestamp for this request is outside of the recvWindow": our clock is off, measure Binance's.
CLOCK_SKEW_CODES: Final = frozenset({-1021})

# The account, read after every gap (SIGNED, header X-MBX-APIKEY). Request weights: account 20, openOrders 80
# without a symbol, allOrders 20 and myTrades 20 a page, order 4.
API_KEY_HEADER: Final = "X-MBX-APIKEY"
ACCOUNT_PATH: Final = "/api/v3/account"
OPEN_ORDERS_PATH: Final = "/api/v3/openOrders"
# One symbol at a time, oldest first from startTime, then from an id on (allOrders: orderId, myTrades: fromId).
ALL_ORDERS_PATH: Final = "/api/v3/allOrders"
MY_TRADES_PATH: Final = "/api/v3/myTrades"
ORDER_PATH: Final = "/api/v3/order"
PAGE_LIMIT: Final = 1000
DAY: Final = 24 * 3600.0
# The first snapshot reads a day of history; after a gap, back to its start, but no further than 90 days: Binance
# archives an order canceled or expired without a fill 90 days after it ended (-2026).
FIRST_SNAPSHOT_WINDOW: Final = DAY
HISTORY_WINDOW: Final = 90 * DAY
