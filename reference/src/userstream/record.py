"""What a stream has done so far, whichever its transport: its phase, its last frame, what it skipped and why it ended.

One `StreamRecord` per data source, written by its transport and its supervisor and read by `status`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from userstream.outbox import Logger
from userstream.status import StreamState


class StreamRecord:
    """The counters and times behind `StreamStatus`; every field is public, so any transport can keep it."""

    def __init__(self, logger: Logger, quote: Callable[[str | bytes], str]) -> None:
        self._logger = logger
        self._quote = quote
        self.state = StreamState.IDLE
        self.reconnect_count = 0
        self.malformed_frames = 0
        self.handovers = 0
        self.last_error: str | None = None
        self.streaming_since: float | None = None
        """`time.monotonic()` at which the current connection started streaming; None while it is not."""
        self.last_frame_at: float | None = None
        """`time.monotonic()` of the last frame on any connection (or the last successful poll)."""
        self._wall_offset = time.time() - time.monotonic()
        self._last_recv_time = 0.0

    @property
    def last_recv_time(self) -> float:
        """`time.time()` of the last frame; 0.0 before the first. It never goes back.

        The reader notes each frame's `time.monotonic()` only (one clock reading a frame); it becomes wall-clock
        time here, with the offset between the clocks as last measured (`measure_wall_clock`).
        """
        if self.last_frame_at is not None:
            wall = self.last_frame_at + self._wall_offset
            if wall > self._last_recv_time:
                self._last_recv_time = wall
        return self._last_recv_time

    def measure_wall_clock(self) -> None:
        """Re-read the offset from `time.monotonic()` to `time.time()`: the wall clock may have been stepped."""
        self._wall_offset = time.time() - time.monotonic()

    def frame_received(self) -> None:
        self.last_frame_at = time.monotonic()

    def skip_malformed(self, data: str | bytes, why: str) -> None:
        self.malformed_frames += 1
        self._logger.debug("skipped malformed frame #%d (%s): %s", self.malformed_frames, why, self._quote(data))

    def start_streaming(self) -> None:
        """The connection is fully up; from now on it counts towards a healthy connection (backoff reset)."""
        self.state = StreamState.STREAMING
        self.streaming_since = time.monotonic()

    def streamed_for(self) -> float | None:
        """How long the connection that just ended had been streaming, or None if it never did; resets it."""
        since, self.streaming_since = self.streaming_since, None
        return None if since is None else time.monotonic() - since
