"""How long each step of a connection may take, and how often to ping."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class StreamTimings:
    """Per-exchange timing of one connection. Exchanges differ (OKX closes a socket after
    30 s without client traffic, KuCoin dictates its ping interval), so a connector sets its
    own and tests shrink them to milliseconds."""

    connect_timeout: float = 10.0
    """Opening the socket, TLS and WebSocket upgrade included."""
    handshake_timeout: float = 10.0
    """From the login being sent until the last subscription is acknowledged."""
    ping_interval: float = 15.0
    """How often to send a ping (protocol or app-level) so the exchange and we both see traffic."""
    stale_after: float = 45.0
    """No frame at all for this long means the connection is dead, whatever TCP says."""
    close_timeout: float = 2.0
    """How long a clean close may wait for the exchange's close frame."""
    handover_overlap: float = 1.0
    """In a make-before-break handover, how long the old connection still delivers once the new one is subscribed
    (frames already on their way arrive); the new one's copies of them are recognised for as long again."""

    def __post_init__(self) -> None:
        names = ("connect_timeout", "handshake_timeout", "ping_interval", "stale_after", "close_timeout")
        for name in (*names, "handover_overlap"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.stale_after <= self.ping_interval:
            raise ValueError(
                f"stale_after ({self.stale_after!r}) must exceed ping_interval ({self.ping_interval!r}), "
                "or every quiet connection would be declared dead before its ping is answered"
            )

    def with_ping_interval(self, ping_interval: float | None) -> StreamTimings:
        """These timings with the exchange's own ping interval, keeping stale_after proportionate."""
        if ping_interval is None or ping_interval == self.ping_interval:
            return self
        ratio = self.stale_after / self.ping_interval
        return replace(self, ping_interval=ping_interval, stale_after=ping_interval * ratio)
