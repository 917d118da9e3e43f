"""KuCoin spot: the token call, the private WebSocket's topics and timings (kucoin.com/docs-new, "WebSocket API")."""

from typing import Final

from userstream import StreamTimings

# Each token reply names the endpoint to connect to (instanceServers); this one is used only if it names none.
WS_PRIVATE_URL: Final = "wss://ws-api-spot.kucoin.com/"
REST_URL: Final = "https://api.kucoin.com"
TOKEN_PATH: Final = "/api/v1/bullet-private"
SERVER_TIME_PATH: Final = "/api/v1/timestamp"

# API key version 2: the passphrase travels signed with the secret, not in clear.
API_KEY_VERSION: Final = "2"
# Spot order changes (a fill is a change of type "match") and balance changes.
TOPICS: Final = ("/spotMarket/tradeOrdersV2", "/account/balance")

# KuCoin dictates its ping interval in each token reply (pingInterval, 18 s today): it replaces TIMINGS'
# ping_interval, and stale_after stays the same multiple of it.
TIMINGS: Final = StreamTimings(ping_interval=18.0, stale_after=54.0)

SUCCESS_CODE: Final = "200000"
# 400002 "Invalid KC-API-TIMESTAMP": the token call was signed more than 5 s off KuCoin's clock.
CLOCK_SKEW_CODE: Final = "400002"
# The WebSocket's error 401: the token is invalid or expired. The next connection mints a fresh one.
TOKEN_INVALID_CODE: Final = 401
