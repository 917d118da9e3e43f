"""A point-in-time health snapshot of a user stream, for health checks and dashboards."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class StreamState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    SUBSCRIBING = "subscribing"
    STREAMING = "streaming"
    BACKING_OFF = "backing_off"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StreamStatus:
    state: StreamState
    connected: bool
    """A socket is open (it may still be authenticating or subscribing)."""
    last_recv_time: float
    """`time.time()` of the last frame of any kind; 0.0 before the first."""
    reconnect_count: int
    """Connection attempts made after the first one."""
    messages_queued: int
    """User messages put on the output queue since the data source was created."""
    malformed_frames: int
    """Frames skipped because they were not JSON or had an unexpected shape."""
    last_error: str | None
    """Why the last connection ended, or None if none has failed."""
    unparsed_messages: int = 0
    """User messages queued whose account events could not be read (a reconciliation reads them instead)."""
    reconciling: bool = False
    """A gap is open: the account may be missing changes until the next snapshot; live events are buffered."""
    reconciled_at: float | None = None
    """`time.time()` of the last successful reconciliation; None before the first (or without reconciliation)."""
    reconcile_failures: int = 0
    """Consecutive failed snapshot attempts; 0 once one succeeds."""
    last_reconcile_error: str | None = None
    """Why the last snapshot attempt failed, or None after a success."""

    @property
    def streaming(self) -> bool:
        return self.state is StreamState.STREAMING
