"""Coinbase Advanced Trade: the user-order WebSocket, its channels, JWTs, the account's REST endpoints and timings.

CDP docs: "WebSocket Overview", "WebSocket Channels", "API Key Authentication", and the REST reference's
"List Accounts", "List Orders", "List Fills" and "Get Order".
"""

from typing import Final

from userstream import StreamTimings

WS_USER_URL: Final = "wss://advanced-trade-ws-user.coinbase.com"
REST_HOST: Final = "api.coinbase.com"
REST_URL: Final = f"https://{REST_HOST}"

# Orders (a fill is an order update with cumulative quantities) and heartbeats: Coinbase closes a connection whose
# channels stay quiet, and the once-a-second heartbeats keep it open and feed the staleness watchdog.
USER_CHANNEL: Final = "user"
HEARTBEATS_CHANNEL: Final = "heartbeats"
CHANNELS: Final = (USER_CHANNEL, HEARTBEATS_CHANNEL)
# The one reply to an accepted subscribe; a refused one is {"type": "error", "message": ...}.
SUBSCRIPTIONS_CHANNEL: Final = "subscriptions"
ERROR_TYPE: Final = "error"

# Every subscribe and every REST request carries a new ES256 JWT signed with the CDP key. A REST JWT names its
# request in the "uri" claim, "GET api.coinbase.com/api/v3/brokerage/accounts" (no query); a WebSocket JWT has none.
JWT_ISSUER: Final = "cdp"
JWT_LIFETIME_S: Final = 120

# Heartbeats arrive every second, so a connection silent for 1.5 ping intervals is dead.
TIMINGS: Final = StreamTimings(ping_interval=20.0, stale_after=30.0)

# The account, read after every gap. Each list is paged by `cursor` (the reply's, until `has_next` is false or a
# page is short); accounts take `limit` up to 250, and the order and fill lists are asked for as many.
ACCOUNTS_PATH: Final = "/api/v3/brokerage/accounts"
ORDERS_PATH: Final = "/api/v3/brokerage/orders/historical/batch"
FILLS_PATH: Final = "/api/v3/brokerage/orders/historical/fills"
ORDER_PATH: Final = "/api/v3/brokerage/orders/historical/{order_id}"
PAGE_LIMIT: Final = 250
OPEN_STATUS: Final = "OPEN"
# Coinbase keeps every order and fill, so a gap's history is read from its start, however long ago; a first
# snapshot, with no gap, reads the last day's.
FIRST_HISTORY_S: Final = 24 * 3600.0
# Coinbase pushes neither balances nor deposits: the whole account is read again this often, so a balance moved
# by anything but a fill is at most this many seconds old.
RECONCILE_INTERVAL_S: Final = 3.0
