"""Bybit v5: the private WebSocket, its topics, the account's REST endpoints and timings.

bybit-exchange.github.io/docs/v5: "WebSocket Stream / Connect", "Private" (order, execution, wallet),
"Integration Guidance" (signing), "Account / Get Wallet Balance", "Trade / Get Open & Closed Orders",
"Trade / Get Order History", "Trade / Get Trade History" and "Error Codes".
"""

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
ORDER_TOPIC: Final = "order"
EXECUTION_TOPIC: Final = "execution"
WALLET_TOPIC: Final = "wallet"
SUBSCRIPTIONS: Final = (ORDER_TOPIC, EXECUTION_TOPIC, WALLET_TOPIC)

# Signed REST calls: how long after X-BAPI-TIMESTAMP Bybit still accepts the request (ms).
RECV_WINDOW: Final = "5000"

# Bybit recommends a {"op": "ping"} every 20 s: its private stream is silent while the account is quiet.
TIMINGS: Final = StreamTimings(ping_interval=20.0, stale_after=60.0)

# An expiry already past: v5 answers "Params Error", older streams "error:request expired". Measure Bybit's clock.
CLOCK_SKEW_TEXTS: Final = frozenset({"Params Error", "error:request expired"})
# 10002 "The request time exceeds the time window range" (REST, in an HTTP 200 reply): the same, for a request.
CLOCK_SKEW_RET_CODE: Final = 10002

# The account kept: spot, in a unified trading account. Rows of other categories are left out of it.
CATEGORY: Final = "spot"
ACCOUNT_TYPE: Final = "UNIFIED"
BALANCE_PATH: Final = "/v5/account/wallet-balance"
# Open orders (newest first); given an orderId, also one of the 500 most recently closed.
OPEN_ORDERS_PATH: Final = "/v5/order/realtime"
ORDER_HISTORY_PATH: Final = "/v5/order/history"
EXECUTIONS_PATH: Final = "/v5/execution/list"
# The most rows a page holds; `cursor=<nextPageCursor>` asks for the next page.
ORDERS_PAGE_LIMIT: Final = 50
EXECUTIONS_PAGE_LIMIT: Final = 100
# One history request spans at most 7 days (startTime to endTime); the history reaches 2 years back.
DAY: Final = 24 * 3600.0
HISTORY_SPAN: Final = 7 * DAY
HISTORY_REACH: Final = 730 * DAY
# What the first snapshot reads: the day in which an order cancelled unfilled is still in the history.
FIRST_HISTORY_WINDOW: Final = DAY
