"""Gate's signing: an ``auth`` object in each private WebSocket request, and the KEY, Timestamp and SIGN headers of
each REST request, both hex HMAC-SHA512."""

import hashlib
from collections.abc import Mapping
from urllib.parse import unquote_plus

from userstream import MarketAuth


class GateIoAuth(MarketAuth):
    """A Gate API v4 key and its secret."""

    def channel_auth(self, channel: str, event: str, timestamp: int) -> dict[str, str]:
        """The ``auth`` of a request: hex HMAC-SHA512 of ``channel=<channel>&event=<event>&time=<timestamp>``."""
        signature = self.hmac_sha512_hex(f"channel={channel}&event={event}&time={timestamp}")
        return {"method": "api_key", "KEY": self.api_key, "SIGN": signature}

    def rest_auth_headers(self, method: str, path: str, body: str = "") -> Mapping[str, str]:
        """``SIGN`` = hex HMAC-SHA512 of method, path, query (not URL-encoded), hex SHA-512 of the body and the
        ``Timestamp`` (seconds), one per line."""
        url, _, query = path.partition("?")
        timestamp = str(self.timestamp_s())
        body_hash = hashlib.sha512(body.encode()).hexdigest()
        signature = self.hmac_sha512_hex("\n".join((method.upper(), url, unquote_plus(query), body_hash, timestamp)))
        return {"KEY": self.api_key, "Timestamp": timestamp, "SIGN": signature}
