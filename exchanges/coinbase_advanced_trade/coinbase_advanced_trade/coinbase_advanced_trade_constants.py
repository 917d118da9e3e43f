"""Coinbase Advanced Trade: the user-order WebSocket, its channels, JWTs and timings (CDP docs, "WebSocket")."""

from typing import Final

from userstream import StreamTimings

WS_USER_URL: Final = "wss://advanced-trade-ws-user.coinbase.com"
REST_URL: Final = "https://api.coinbase.com"

# Orders (a fill is an order update with cumulative quantities) and heartbeats: Coinbase closes a connection whose
# channels stay quiet, and the once-a-second heartbeats keep it open and feed the staleness watchdog.
USER_CHANNEL: Final = "user"
HEARTBEATS_CHANNEL: Final = "heartbeats"
CHANNELS: Final = (USER_CHANNEL, HEARTBEATS_CHANNEL)
# The one reply to an accepted subscribe; a refused one is {"type": "error", "message": ...}.
SUBSCRIPTIONS_CHANNEL: Final = "subscriptions"
ERROR_TYPE: Final = "error"

# Every subscribe carries a new ES256 JWT signed with the CDP key; WebSocket JWTs have no "uri" claim.
JWT_ISSUER: Final = "cdp"
JWT_LIFETIME_S: Final = 120

# Heartbeats arrive every second, so a connection silent for 1.5 ping intervals is dead.
TIMINGS: Final = StreamTimings(ping_interval=20.0, stale_after=30.0)
