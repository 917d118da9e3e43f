"""KuCoin spot: the token call, the private WebSocket's topics and timings, the account's REST endpoints.

KuCoin's documentation (kucoin.com/docs-new): "WebSocket API / Base Info", "Private Channels", "Account Info" and
"Spot Trading / Orders".
"""

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
ORDER_TOPIC: Final = "/spotMarket/tradeOrdersV2"
BALANCE_TOPIC: Final = "/account/balance"
TOPICS: Final = (ORDER_TOPIC, BALANCE_TOPIC)

# KuCoin dictates its ping interval in each token reply (pingInterval, 18 s today): it replaces TIMINGS'
# ping_interval, and stale_after stays the same multiple of it.
TIMINGS: Final = StreamTimings(ping_interval=18.0, stale_after=54.0)
# "The token is valid for only 24 hours, and a single connection is expected to be disconnected after 24 hours":
# the connection is replaced, make-before-break and with a fresh token, 10 minutes before that.
MAX_CONNECTION_AGE: Final = 24 * 3600.0 - 600

SUCCESS_CODE: Final = "200000"
# 400002 "Invalid KC-API-TIMESTAMP": the token call was signed more than 5 s off KuCoin's clock.
CLOCK_SKEW_CODE: Final = "400002"
# The WebSocket's error 401: the token is invalid or expired. The next connection mints a fresh one.
TOKEN_INVALID_CODE: Final = 401

# The spot account, read after every gap, from the high-frequency (HF) endpoints: current for every spot account
# (the classic /api/v1/orders and /api/v1/fills are deprecated). All but the balances take one symbol per request.
ACCOUNTS_PATH: Final = "/api/v1/accounts"
ACCOUNT_TYPE: Final = "trade"
OPEN_ORDER_SYMBOLS_PATH: Final = "/api/v1/hf/orders/active/symbols"
OPEN_ORDERS_PATH: Final = "/api/v1/hf/orders/active"
CLOSED_ORDERS_PATH: Final = "/api/v1/hf/orders/done"
FILLS_PATH: Final = "/api/v1/hf/fills"
ORDER_PATH: Final = "/api/v1/hf/orders/{order_id}"
# The done orders and the fills come newest first, at most PAGE_LIMIT a page; `lastId` (from the reply) asks for
# the page before. Both, and a done order's detail, reach 3 * 24 hours back.
PAGE_LIMIT: Final = 100
HISTORY_WINDOW: Final = 3 * 24 * 3600.0
