"""The fault soak, run as its users run it: ``benchmarks/soak.py``, on every generated archetype.

A short soak (a few faults per archetype) keeps the suite quick; the closing notes quote long runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent
SOAK = KIT / "benchmarks" / "soak.py"
SUMMARY = re.compile(
    r"faults=(?P<faults>\d+) events=(?P<events>\d+) delivered=(?P<delivered>\d+) lost=(?P<lost>-?\d+) "
    r"duplicated=(?P<duplicated>\d+) reconnects=(?P<reconnects>\d+) max_recover_s=(?P<max_recover_s>[\d.]+)"
)


def soak(*arguments: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SOAK), *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )


CONNECTORS = ("login_message", "signed_subscribe", "rest_token", "listen_key", "rest_polling", "okx")


@pytest.mark.timeout(900)
def test_no_update_is_lost_or_duplicated_across_every_connector_under_faults() -> None:
    result = soak("--faults", "8", "--seed", "5", *(f"--connector={name}" for name in CONNECTORS))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    last = SUMMARY.fullmatch(lines[-1])
    assert last is not None, f"the last line must be the summary, got {lines[-1]!r}"
    assert (last["lost"], last["duplicated"]) == ("0", "0")
    streaming = [name for name in CONNECTORS if name != "rest_polling"]
    assert int(last["faults"]) == 8 * len(streaming), "8 faults for each connector that streams"
    assert int(last["events"]) > 0
    assert last["delivered"] == last["events"]
    for name in streaming:
        assert any(line.startswith(f"{name}: ok") for line in lines), name
    assert "rest_polling: not soaked" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--faults", "0"], "must be at least 1, got 0"),
        (["--faults", "many"], "expected a whole number, got 'many'"),
        (["--connector", "carrier_pigeon"], "invalid choice: 'carrier_pigeon'"),
    ],
)
def test_bad_arguments_get_a_one_line_error(arguments: list[str], complaint: str) -> None:
    result = soak(*arguments, timeout=60)
    assert result.returncode == 2
    assert complaint in result.stderr.splitlines()[-1]
