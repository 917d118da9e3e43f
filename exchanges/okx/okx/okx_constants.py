"""OKX v5: the private WebSocket, its channels and timings (okx.com/docs-v5/en, "WebSocket" and "Private Channel")."""

from typing import Any, Final

from userstream import StreamTimings

WS_PRIVATE_URL: Final = "wss://ws.okx.com:8443/ws/v5/private"
REST_URL: Final = "https://www.okx.com"
SERVER_TIME_PATH: Final = "/api/v5/public/time"

# The login signs "{timestamp}GET/users/self/verify" with the secret (base64 HMAC-SHA256, seconds).
LOGIN_PREHASH: Final = "{timestamp}GET/users/self/verify"
# Orders (fills arrive on the same channel, with fillSz and tradeId) and balances.
SUBSCRIPTIONS: Final[tuple[dict[str, Any], ...]] = ({"channel": "orders", "instType": "SPOT"}, {"channel": "account"})

# OKX closes a connection after 30 s without client traffic: the text "ping" goes out well inside that.
TIMINGS: Final = StreamTimings(ping_interval=15.0, stale_after=45.0)

# 60004 "Invalid timestamp", 60006 "Timestamp request expired": our clock is off, measure the exchange's.
CLOCK_SKEW_CODES: Final = frozenset({"60004", "60006"})
