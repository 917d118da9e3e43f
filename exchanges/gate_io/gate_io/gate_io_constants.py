"""Gate spot v4: the private channels, their signing and timings, and the account's REST endpoints.

"Spot WebSocket v4" (gate.com/docs/developers/apiv4/ws/en) and "Spot" in Gate API v4 (gate.com/docs/developers/apiv4).
"""

from collections.abc import Mapping
from typing import Final

from userstream import StreamTimings

WS_URL: Final = "wss://api.gateio.ws/ws/v4/"
REST_URL: Final = "https://api.gateio.ws"
SERVER_TIME_PATH: Final = "/api/v4/spot/time"

# Orders, the account's own trades (its fills) and balances: one subscribe each, each signed on its own.
PRIVATE_CHANNELS: Final = ("spot.orders", "spot.usertrades", "spot.balances")
# "!all" follows every currency pair; the balances channel takes no payload.
CHANNEL_PAYLOADS: Final[Mapping[str, tuple[str, ...]]] = {"spot.orders": ("!all",), "spot.usertrades": ("!all",)}
# A request's "event" is part of what it signs; pushes to a subscribed channel come as "update".
SUBSCRIBE_EVENT: Final = "subscribe"
UPDATE_EVENT: Final = "update"
# Gate pushes an update on this channel, unasked, before it closes connections for an upgrade or maintenance,
# and goes on delivering until then.
SYSTEM_CHANNEL: Final = "spot.system"

# Gate answers {"channel": "spot.ping"} with a spot.pong; it sends no heartbeat of its own.
PING_CHANNEL: Final = "spot.ping"
PONG_CHANNEL: Final = "spot.pong"
TIMINGS: Final = StreamTimings(ping_interval=10.0, stale_after=30.0)

# 4 "Authentication fail": a wrong key or signature, or a request time more than 60 s off Gate's clock.
# Other codes (2 "Invalid argument provided", ...) are mistakes in the subscribe, not in the credentials.
AUTH_ERROR_CODES: Final = frozenset({4})
# The REST refusal of a Timestamp header more than 60 s off Gate's clock: measure Gate's clock and sign again.
CLOCK_SKEW_LABEL: Final = "REQUEST_EXPIRED"
CLOCK_TOLERANCE: Final = 60
"""Seconds a signed request's time may be off Gate's clock."""

# The account, read after every gap.
ACCOUNTS_PATH: Final = "/api/v4/spot/accounts"
OPEN_ORDERS_PATH: Final = "/api/v4/spot/open_orders"
ORDERS_PATH: Final = "/api/v4/spot/orders"
"""``?status=finished&currency_pair=...`` lists finished orders; ``/<order_id>?currency_pair=...`` is one order."""
MY_TRADES_PATH: Final = "/api/v4/spot/my_trades"
# `limit` rows a page, pages counted from 1. The open orders' limit applies to each currency pair's list.
OPEN_ORDERS_LIMIT: Final = 100
FINISHED_ORDERS_LIMIT: Final = 100
TRADES_LIMIT: Final = 1000
TRADES_MAX_OFFSET: Final = 1000
"""Gate serves a page of trades only while ``limit * (page - 1)`` is at most this."""
# The trades (and here the finished orders) are read between `from` and `to` (seconds): at most 30 days apart.
# Without a gap to cover, the snapshot reads the 7 days Gate lists when asked for no range.
DAY: Final = 24 * 3600
HISTORY_RANGE: Final = 30 * DAY
RECENT_WINDOW: Final = 7 * DAY
