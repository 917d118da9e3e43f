from __future__ import annotations

import pytest

from userstream import StreamTimings


def test_every_duration_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ping_interval must be a positive number of seconds, got 0"):
        StreamTimings(ping_interval=0)


def test_stale_after_must_exceed_the_ping_interval() -> None:
    with pytest.raises(ValueError, match=r"stale_after \(20\) must exceed ping_interval \(20\)"):
        StreamTimings(ping_interval=20, stale_after=20)


def test_an_exchange_dictated_ping_interval_keeps_staleness_proportionate() -> None:
    timings = StreamTimings(ping_interval=15, stale_after=45)
    kucoin = timings.with_ping_interval(18)
    assert (kucoin.ping_interval, kucoin.stale_after) == (18, 54)
    assert timings.with_ping_interval(None) is timings
