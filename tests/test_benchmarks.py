"""The speed benchmarks run as their users run them, on tiny workloads: they must work and end with their summary.

No figure is judged here (speed is compared as ratios in the benchmarks' own runs, on a quiet machine); what is
checked is what a broken benchmark would get wrong: its exit status, its last line, and that every message sent
was delivered, in order, with no reconnect.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
NUMBER = r"-?[\d.]+(?:e[+-]?\d+)?"


def run(script: str, *arguments: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


@pytest.mark.timeout(300)
def test_throughput_runs_every_client_and_ends_with_its_summary() -> None:
    lines = run("throughput.py", "--rounds", "1", "--messages", "3000", "--paced-seconds", "0.5", "--rate", "500")
    summary = re.fullmatch(
        rf"ratio=({NUMBER}) account_ratio=({NUMBER}) p50_added_us=({NUMBER}) p99_added_us=({NUMBER})", lines[-1]
    )
    assert summary is not None, lines[-1]
    assert float(summary[1]) > 0
    assert float(summary[2]) > 0
    assert not [line for line in lines if line.startswith("WARNING")], "\n".join(lines)
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1] in (["orjson"], ["userstream-typed"])}
    assert set(rows) == {"orjson", "userstream-typed"}
    assert rows["userstream-typed"][-1] == "0", "no reconnect"


@pytest.mark.timeout(300)
def test_scale_delivers_everything_sent_to_every_tracker() -> None:
    lines = run("scale.py", "--trackers", "20", "--rate", "20", "--seconds", "1")
    assert re.fullmatch(
        rf"trackers=20 rate=20 rss_kib_per_tracker={NUMBER} cpu_pct={NUMBER} lag_p99_ms={NUMBER} "
        rf"lag_max_ms={NUMBER} max_gc_pause_ms={NUMBER} gc_pauses_over_50ms=\d+ reconnects=0 backlog=\d+",
        lines[-1],
    ), lines[-1]
    delivered = next(line for line in lines if line.startswith("delivered / sent"))
    counts = re.findall(r"[\d,]+", delivered.split("stopped")[-1])
    assert len(counts) == 2, delivered
    delivered_count, sent_count = counts
    assert delivered_count == sent_count != "0", delivered


@pytest.mark.timeout(300)
def test_latency_splits_every_message_and_puts_each_slow_one_down_to_a_cause() -> None:
    lines = run("latency.py", "--rounds", "2", "--seconds", "0.5", "--rate", "500")
    assert re.fullmatch(
        rf"in_process_p50_added_us={NUMBER} in_process_p99_added_us={NUMBER} tail_descheduled_pct=\d+", lines[-1]
    ), lines[-1]
    shares = [line.rsplit("  ", 1)[-1] for line in lines if line.split()[:1] in (["orjson"], ["userstream"])]
    assert len(shares) == 2
    for share in shares:
        assert sum(int(part.strip(" %")) for part in share.split("/")) in (99, 100, 101), share


def test_bad_arguments_get_a_one_line_error() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "latency.py"), "--rounds", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--rounds" in result.stderr.splitlines()[-1]
