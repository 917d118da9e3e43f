"""Reconnect delays: exponential, capped, jittered, and reset after a healthy connection.

Pure and deterministic given its random source, so the schedule is tested without sleeping.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReconnectPolicy:
    """How long to wait before each reconnect attempt.

    Attempt ``n`` (0-based since the last reset) waits a uniformly random time in
    ``[floor, ceiling]`` where ``ceiling = min(max_delay, initial_delay * factor**n)`` and
    ``floor = max(min_delay, ceiling * (1 - jitter))``. ``jitter=1`` is "full jitter"
    (spreads out a crowd of clients reconnecting after an exchange outage); ``min_delay``
    keeps even an unlucky draw from turning into a hot loop.
    """

    initial_delay: float = 1.0
    max_delay: float = 30.0
    factor: float = 2.0
    jitter: float = 1.0
    min_delay: float = 0.25
    reset_after: float = 60.0
    """A connection that streamed for this many seconds counts as healthy: the next failure starts over at attempt 0."""

    def __post_init__(self) -> None:
        if self.initial_delay <= 0:
            raise ValueError(f"initial_delay must be positive, got {self.initial_delay!r}")
        if self.max_delay < self.initial_delay:
            raise ValueError(f"max_delay ({self.max_delay!r}) must be at least initial_delay ({self.initial_delay!r})")
        if self.factor < 1:
            raise ValueError(f"factor must be at least 1, got {self.factor!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter!r}")
        if not 0 <= self.min_delay <= self.initial_delay:
            raise ValueError(f"min_delay must be between 0 and initial_delay, got {self.min_delay!r}")
        if self.reset_after < 0:
            raise ValueError(f"reset_after must not be negative, got {self.reset_after!r}")

    def ceiling(self, attempt: int) -> float:
        """The longest delay attempt ``attempt`` may wait."""
        # Compare exponents rather than computing factor**attempt, which overflows after ~1000 failures.
        ceiling = self.initial_delay
        for _ in range(attempt):
            ceiling *= self.factor
            if ceiling >= self.max_delay:
                return self.max_delay
        return min(ceiling, self.max_delay)

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The ``(shortest, longest)`` delay attempt ``attempt`` may wait."""
        ceiling = self.ceiling(attempt)
        return max(self.min_delay, ceiling * (1 - self.jitter)), ceiling


@dataclass
class Backoff:
    """The running state of a `ReconnectPolicy`: how many attempts since the last healthy connection."""

    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one attempt."""
        low, high = self.policy.bounds(self.attempt)
        self.attempt += 1
        return self.rng.uniform(low, high)

    def reset(self) -> None:
        self.attempt = 0

    def connection_ended(self, streamed_for: float | None) -> None:
        """Forget past failures if the connection that just ended had been healthy long enough."""
        if streamed_for is not None and streamed_for >= self.policy.reset_after:
            self.reset()
