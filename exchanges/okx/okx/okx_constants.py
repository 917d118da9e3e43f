"""OKX v5: the private WebSocket, its channels, the account's REST endpoints and timings (okx.com/docs-v5/en).

"WebSocket", "Private Channel", "Trading Account" and "Order Book Trading / Trade" in OKX's documentation.
"""

from typing import Any, Final

from userstream import StreamTimings

WS_PRIVATE_URL: Final = "wss://ws.okx.com:8443/ws/v5/private"
REST_URL: Final = "https://www.okx.com"
SERVER_TIME_PATH: Final = "/api/v5/public/time"

# The login signs "{timestamp}GET/users/self/verify" with the secret (base64 HMAC-SHA256, seconds).
LOGIN_PREHASH: Final = "{timestamp}GET/users/self/verify"
# Orders (fills arrive on the same channel, with fillSz and tradeId) and balances.
INST_TYPE: Final = "SPOT"
SUBSCRIPTIONS: Final[tuple[dict[str, Any], ...]] = (
    {"channel": "orders", "instType": INST_TYPE},
    {"channel": "account"},
)

# OKX closes a connection after 30 s without client traffic: the text "ping" goes out well inside that.
TIMINGS: Final = StreamTimings(ping_interval=15.0, stale_after=45.0)

# The notice OKX sends before it closes every connection for a service upgrade, still delivering meanwhile.
SERVICE_UPGRADE_CODE: Final = "64008"
# 60004 "Invalid timestamp", 60006 "Timestamp request expired" (WebSocket); 50102 "Timestamp request expired",
# 50112 "Invalid OK-ACCESS-TIMESTAMP" (REST): our clock is off, measure the exchange's.
CLOCK_SKEW_CODES: Final = frozenset({"60004", "60006", "50102", "50112"})

# The account, read after every gap. Each list endpoint returns at most PAGE_LIMIT rows, newest first;
# `after=<ordId>` (orders) or `after=<billId>` (fills) asks for the page before.
BALANCE_PATH: Final = "/api/v5/account/balance"
OPEN_ORDERS_PATH: Final = "/api/v5/trade/orders-pending"
ORDER_HISTORY_PATH: Final = "/api/v5/trade/orders-history"
ORDER_HISTORY_ARCHIVE_PATH: Final = "/api/v5/trade/orders-history-archive"
FILLS_PATH: Final = "/api/v5/trade/fills"
FILLS_HISTORY_PATH: Final = "/api/v5/trade/fills-history"
ORDER_PATH: Final = "/api/v5/trade/order"
PAGE_LIMIT: Final = 100
# How far back each endpoint reaches: order history 7 days (archive: 3 months), fills 3 days (history: 3 months).
DAY: Final = 24 * 3600.0
ORDER_HISTORY_WINDOW: Final = 7 * DAY
FILLS_WINDOW: Final = 3 * DAY
ARCHIVE_WINDOW: Final = 90 * DAY
# "Order does not exist" (HTTP 200): the order-detail endpoint knows no such order.
ORDER_NOT_FOUND_CODE: Final = "51603"
