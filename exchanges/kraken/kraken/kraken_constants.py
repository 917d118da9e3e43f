"""Kraken spot, WebSocket API v2: the token call, private channels, the account's REST endpoints and timings.

docs.kraken.com: "Spot WebSocket Auth" (GetWebSocketsToken), "WebSocket v2: executions, balances, status,
heartbeat, ping", "Spot REST Authentication", and the REST endpoints below ("Account Data", "Market Data").
"""

from typing import Any, Final

from userstream import StreamTimings

WS_PRIVATE_URL: Final = "wss://ws-auth.kraken.com/v2"
REST_URL: Final = "https://api.kraken.com"
TOKEN_PATH: Final = "/0/private/GetWebSocketsToken"

# Orders and their fills (executions), and each ledger entry's new balance (balances). Kraken's own snapshots
# on subscribe are turned off: the REST snapshot after every connect reads the same, with the holds they lack.
EXECUTIONS: Final = "executions"
BALANCES: Final = "balances"
SUBSCRIPTIONS: Final[dict[str, dict[str, Any]]] = {
    EXECUTIONS: {"snap_orders": False, "snap_trades": False},
    BALANCES: {"snapshot": False},
}
# Sent on their own: a heartbeat about once a second while subscribed, the trading engine's status on connect
# and on every change (online, cancel_only, post_only, maintenance). Neither announces a close.
CONTROL_CHANNELS: Final = frozenset({"heartbeat", "status"})

# The heartbeats make silence mean a dead connection; the pings (each answered by a pong) keep our side talking.
TIMINGS: Final = StreamTimings(ping_interval=15.0, stale_after=45.0)

# Token-call errors that blame the key or its permissions: refused, retried with backoff. Any other
# (EService:Unavailable, EGeneral:Internal error) means the exchange is unwell, not the key.
KEY_ERROR_PREFIXES: Final = ("EAPI:Invalid", "EGeneral:Permission denied")

# The account, read after every gap. Private calls are form-encoded POSTs carrying a nonce; errors come
# with HTTP 200 in "error". ClosedOrders and TradesHistory return PAGE_SIZE rows a call, newest first,
# and the next page by `ofs`; `start` (exclusive, unix seconds) bounds them. Kraken keeps the whole history.
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded; charset=utf-8"
BALANCE_PATH: Final = "/0/private/BalanceEx"
OPEN_ORDERS_PATH: Final = "/0/private/OpenOrders"
CLOSED_ORDERS_PATH: Final = "/0/private/ClosedOrders"
TRADES_PATH: Final = "/0/private/TradesHistory"
QUERY_ORDERS_PATH: Final = "/0/private/QueryOrders"
PAGE_SIZE: Final = 50
# REST names assets and pairs as Kraken always has (XXBT, ZUSD, XXBTZUSD, XBTUSD); these public tables
# give each one's altname and parts, which v2 spells as they are, but for the two it renamed.
ASSETS_PATH: Final = "/0/public/Assets"
ASSET_PAIRS_PATH: Final = "/0/public/AssetPairs"
V2_RENAMES: Final = {"XBT": "BTC", "XDG": "DOGE"}
# The first snapshot, which has no gap to cover, reads this much history; a later one reads the whole gap.
FIRST_HISTORY: Final = 24 * 3600.0
