"""Binance spot: the WebSocket API's user data stream and its timings (Binance docs, "User Data Stream requests")."""

from typing import Final

from userstream import StreamTimings

WS_API_URL: Final = "wss://ws-api.binance.com:443/ws-api/v3"
REST_URL: Final = "https://api.binance.com"
SERVER_TIME_PATH: Final = "/api/v3/time"

# One signed request subscribes the connection to the account's events: there is no separate login.
USER_DATA_SUBSCRIBE_METHOD: Final = "userDataStream.subscribe.signature"
# Binance ends a subscription with this event; a new connection must sign a new subscribe.
STREAM_TERMINATED_EVENT: Final = "eventStreamTerminated"

# Binance pings every 20 s and drops a connection that leaves it unanswered for a minute; our own
# protocol pings are what tell us, from this side, that the socket has died.
TIMINGS: Final = StreamTimings(ping_interval=20.0, stale_after=60.0)

# -1021 "Timestamp for this request is outside of the recvWindow": our clock is off, measure Binance's.
CLOCK_SKEW_CODES: Final = frozenset({-1021})
