"""Kraken spot, WebSocket API v1: the token call, private feeds and timings (docs.kraken.com, "Spot WebSocket Auth")."""

from typing import Final

from userstream import StreamTimings

WS_PRIVATE_URL: Final = "wss://ws-auth.kraken.com"
REST_URL: Final = "https://api.kraken.com"
TOKEN_PATH: Final = "/0/private/GetWebSocketsToken"

# Every status change of the account's orders, and its fills. WebSocket v1 has no balance feed.
CHANNELS: Final = ("openOrders", "ownTrades")

# Kraken sends {"event": "heartbeat"} about once a second while the feeds are quiet, so silence means a dead
# connection; the pings (each answered by a pong) keep traffic flowing from our side too.
TIMINGS: Final = StreamTimings(ping_interval=15.0, stale_after=45.0)

# Token-call errors that blame the key or its permissions: refused, retried with backoff. Any other
# (EService:Unavailable, EGeneral:Internal error) means the exchange is unwell, not the key.
KEY_ERROR_PREFIXES: Final = ("EAPI:Invalid", "EGeneral:Permission denied")
