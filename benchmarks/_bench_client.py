"""What the benchmarks' client processes share: the kit's Binance preset, the machine's description, figures.

The preset's package (``binance``) lives in ``exchanges/binance``, outside any installed distribution, so that
directory is put on ``sys.path`` before it is imported. For mypy to see its types, give it the same directory:
``MYPYPATH=exchanges/binance mypy --strict benchmarks``; without it, the preset's classes are ``Any``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from _binance_feed import CLOCK_TICKS_PER_SECOND, FeedServer

PRESET_HOME = Path(__file__).resolve().parent.parent / "exchanges" / "binance"
if str(PRESET_HOME) not in sys.path:
    sys.path.insert(0, str(PRESET_HOME))

# After the path is set: the preset is found there. The ignores are for a mypy run without MYPYPATH.
from binance.binance_api_user_stream_data_source import (  # type: ignore[import-not-found,unused-ignore]  # noqa: E402
    BinanceAPIUserStreamDataSource,
)
from binance.binance_auth import BinanceAuth  # type: ignore[import-not-found,unused-ignore]  # noqa: E402

T = TypeVar("T")

__all__ = [
    "BinanceAPIUserStreamDataSource",
    "BinanceAuth",
    "ForeignLoad",
    "bench_auth",
    "describe_machine",
    "median_added",
    "percentile",
    "positive_float",
    "positive_int",
    "quiet_logging",
    "significant",
]


def bench_auth() -> BinanceAuth:
    """Credentials for the feed server, which checks no signature: the preset signs as it would for Binance."""
    return BinanceAuth("bench-api-key-0123456789", "bench-secret-0123456789")


def quiet_logging() -> None:
    """Warnings and errors only: userstream logs every connect and subscribe at INFO."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("userstream").setLevel(logging.WARNING)


def describe_machine() -> list[str]:
    """Lines that say where the figures were measured: CPU, cores, Python and the libraries on the hot path."""
    cpu_model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0))
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("userstream", "aiohttp", "orjson", "msgspec")
    )
    return [
        f"machine: {cpu_model}, {cores} cores (nproc), {platform.system()} {platform.release()}",
        f"python: {platform.python_implementation()} {platform.python_version()}; {versions}",
    ]


class ForeignLoad:
    """The CPU that everything but the benchmark's own two processes used from its creation on: the figures are only
    as steady as this is low (another program's tests, say, compete for the same cores)."""

    def __init__(self, server: FeedServer) -> None:
        self._server = server
        self._started = self._now()

    def percent_of_a_core(self) -> float:
        """Since creation, on average; 100 is one core kept busy."""
        wall, busy, ours, server = (now - then for now, then in zip(self._now(), self._started, strict=True))
        return max(0.0, 100 * (busy - ours - server) / wall)

    def _now(self) -> tuple[float, float, float, float]:
        return time.perf_counter(), _machine_busy_seconds(), time.process_time(), self._server.cpu_seconds()


def _machine_busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (``/proc/stat``); time stolen by the hypervisor counts too."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return value


def median_added(ours: Sequence[T], raw: Sequence[T], figure: Callable[[T], float]) -> float:
    """The median over the rounds of ``figure`` of userstream's run less the raw loop's run of the same round."""
    return statistics.median(figure(mine) - figure(theirs) for mine, theirs in zip(ours, raw, strict=True))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of values already sorted (``fraction`` 0.5: the median); NaN if none."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def significant(value: float, digits: int = 3) -> str:
    """``value`` with about ``digits`` significant digits and never an exponent: 0.412, 45.3, 1234."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    return f"{value:.{decimals}f}"
