"""Gate's WebSocket signing: an ``auth`` object in each private request, signed with hex HMAC-SHA512."""

from userstream import MarketAuth


class GateIoAuth(MarketAuth):
    """A Gate API v4 key and its secret."""

    def channel_auth(self, channel: str, event: str, timestamp: int) -> dict[str, str]:
        """The ``auth`` of a request: hex HMAC-SHA512 of ``channel=<channel>&event=<event>&time=<timestamp>``."""
        signature = self.hmac_sha512_hex(f"channel={channel}&event={event}&time={timestamp}")
        return {"method": "api_key", "KEY": self.api_key, "SIGN": signature}
