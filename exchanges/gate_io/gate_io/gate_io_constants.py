"""Gate spot WebSocket v4: the private channels, their signing and timings (gate.com/docs/developers/apiv4/ws/en)."""

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

# Gate answers {"channel": "spot.ping"} with a spot.pong; it sends no heartbeat of its own.
PING_CHANNEL: Final = "spot.ping"
PONG_CHANNEL: Final = "spot.pong"
TIMINGS: Final = StreamTimings(ping_interval=10.0, stale_after=30.0)

# 4 "Authentication fail": a wrong key or signature, or a request time more than 60 s off Gate's clock.
# Other codes (2 "Invalid argument provided", ...) are mistakes in the subscribe, not in the credentials.
AUTH_ERROR_CODES: Final = frozenset({4})
