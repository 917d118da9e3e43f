"""The reconnect schedule, tested as pure arithmetic: no sleeping, no event loop."""

from __future__ import annotations

import random

import pytest

from userstream import Backoff, ReconnectPolicy


def test_ceilings_grow_by_the_factor_until_the_cap() -> None:
    policy = ReconnectPolicy(initial_delay=1.0, max_delay=30.0, factor=2.0)
    assert [policy.ceiling(n) for n in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_a_huge_attempt_number_stays_at_the_cap_without_overflow() -> None:
    assert ReconnectPolicy(max_delay=30.0).ceiling(100_000) == 30.0


def test_full_jitter_spreads_delays_between_the_floor_and_the_ceiling() -> None:
    policy = ReconnectPolicy(initial_delay=1.0, max_delay=8.0, jitter=1.0, min_delay=0.25)
    delays = [Backoff(policy, random.Random(seed), attempt=3).next_delay() for seed in range(500)]
    assert min(delays) >= 0.25
    assert max(delays) <= 8.0
    # Spread across the whole range, not clustered: each quarter of it gets a fair share.
    quarters = [sum(1 for d in delays if low <= d < low + 1.9375) for low in (0.25, 2.1875, 4.125, 6.0625)]
    assert all(count > 80 for count in quarters), quarters


def test_zero_jitter_waits_exactly_the_ceiling() -> None:
    backoff = Backoff(ReconnectPolicy(initial_delay=0.5, max_delay=4.0, jitter=0.0, min_delay=0.0))
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_delays_grow_on_average_and_never_fall_below_the_floor() -> None:
    backoff = Backoff(ReconnectPolicy(initial_delay=1.0, max_delay=64.0, jitter=1.0, min_delay=0.5), random.Random(1))
    delays = [backoff.next_delay() for _ in range(7)]
    assert all(delay >= 0.5 for delay in delays)
    assert all(delay <= 2**n for n, delay in enumerate(delays))
    means = [
        sum(Backoff(backoff.policy, random.Random(s), attempt=n).next_delay() for s in range(200)) for n in (0, 3, 6)
    ]
    assert means[0] < means[1] < means[2]


def test_a_long_healthy_connection_resets_the_schedule_and_a_short_one_does_not() -> None:
    backoff = Backoff(ReconnectPolicy(reset_after=60.0))
    for _ in range(4):
        backoff.next_delay()
    backoff.connection_ended(streamed_for=5.0)
    assert backoff.attempt == 4
    backoff.connection_ended(streamed_for=None)  # never got as far as streaming
    assert backoff.attempt == 4
    backoff.connection_ended(streamed_for=60.0)
    assert backoff.attempt == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"initial_delay": 0}, "initial_delay must be positive"),
        ({"initial_delay": 2.0, "max_delay": 1.0}, "max_delay (1.0) must be at least initial_delay"),
        ({"factor": 0.5}, "factor must be at least 1"),
        ({"jitter": 1.5}, "jitter must be between 0 and 1"),
        ({"min_delay": 5.0}, "min_delay must be between 0 and initial_delay"),
        ({"reset_after": -1}, "reset_after must not be negative"),
    ],
)
def test_invalid_policies_are_refused_with_a_clear_message(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ReconnectPolicy(**options)
