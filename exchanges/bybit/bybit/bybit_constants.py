"""Bybit v5: the private WebSocket, its topics and timings (bybit-exchange.github.io/docs/v5/ws/connect, "Private")."""

from typing import Final

from userstream import StreamTimings

WS_PRIVATE_URL: Final = "wss://stream.bybit.com/v5/private"
REST_URL: Final = "https://api.bybit.com"
SERVER_TIME_PATH: Final = "/v5/market/time"

# The auth signs "GET/realtime{expires}" (hex HMAC-SHA256): an expiry moment in ms, not the current time.
AUTH_PREHASH: Final = "GET/realtime{timestamp}"
# How far ahead of the exchange's clock the expiry lies: the trip to Bybit, without a long replay window.
AUTH_VALID_FOR: Final = 5.0
# All-in-one topics: orders, fills and balances of every product, acknowledged once per subscribe message.
SUBSCRIPTIONS: Final = ("order", "execution", "wallet")

# Signed REST calls: how long after X-BAPI-TIMESTAMP Bybit still accepts the request (ms).
RECV_WINDOW: Final = "5000"

# Bybit recommends a {"op": "ping"} every 20 s: its private stream is silent while the account is quiet.
TIMINGS: Final = StreamTimings(ping_interval=20.0, stale_after=60.0)

# An expiry already past: v5 answers "Params Error", older streams "error:request expired". Measure Bybit's clock.
CLOCK_SKEW_TEXTS: Final = frozenset({"Params Error", "error:request expired"})
