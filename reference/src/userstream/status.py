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
    queue_depth: int = 0
    """Messages waiting for the consumer of ``user_stream``: on the queue, or held while a bounded one is full."""
    account_events_depth: int = 0
    """The same for ``account_events`` (0 without typed events)."""
    buffered_events: int = 0
    """Live typed events held while a gap is open, to be applied after the snapshot."""
    buffer_overflows: int = 0
    """Times that buffer passed its bound and was dropped in favour of a later snapshot (nothing is lost)."""
    orders_settled_unknown: int = 0
    """Orders that left the open list and whose end no lookup could tell: settled with status unknown."""
    handovers: int = 0
    """Connections replaced make-before-break: the successor was subscribed before its predecessor was closed
    (after an announced close, or at `UserStreamTrackerDataSource.MAX_CONNECTION_AGE`). Not reconnects: no gap."""

    @property
    def streaming(self) -> bool:
        return self.state is StreamState.STREAMING
