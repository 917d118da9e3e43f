"""`userstream soak`: the fault soak against a generated project's own fake exchange, as its users run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from userstream.cli import main

KIT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r"faults=(?P<faults>\d+) events=(?P<events>\d+) delivered=(?P<delivered>\d+) lost=(?P<lost>-?\d+) "
    r"duplicated=(?P<duplicated>\d+) reconnects=(?P<reconnects>\d+) max_recover_s=(?P<max_recover_s>[\d.]+)"
)


@pytest.fixture(scope="module")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output_dir = tmp_path_factory.mktemp("baked")
    project = cookiecutter(
        str(KIT),
        no_input=True,
        output_dir=str(output_dir),
        extra_context={"run_tests": "skip"},
        default_config={"replay_dir": str(output_dir / "replay")},
    )
    return Path(project)


def test_a_generated_project_loses_and_duplicates_nothing_under_faults(default_project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "userstream", "soak", str(default_project), "--faults", "3", "--seed", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    *rows, row_summary, last = result.stdout.splitlines()
    assert rows[0].startswith("acme: ok in "), "the benchmark's row: the connector's name, ok, its faults"
    assert row_summary == f"acme: {last}", "one connector: its row's summary is the total"
    summary = SUMMARY.fullmatch(last)
    assert summary is not None, f"the last line must be the summary, got {last!r}"
    assert (summary["faults"], summary["lost"], summary["duplicated"]) == ("3", "0", "0")
    assert summary["delivered"] == summary["events"] != "0"


def test_a_connector_that_does_not_reconcile_gets_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "live_only_harness.py").write_text(
        "from userstream.testing import ReferenceDialect\n"
        "from userstream.testing.contract import WebSocketHarness\n\n\n"
        "class LiveOnlyHarness(WebSocketHarness):\n"
        "    def dialect(self):\n"
        "        return ReferenceDialect()\n\n"
        "    def user_events(self):\n"
        "        return []\n"
    )
    assert main(["soak", str(tmp_path), "--faults", "1"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        "userstream soak: LiveOnlyHarness is not a ReconcilingHarness: the soak needs a connector that reconciles"
    )


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["/nonexistent/project"], "userstream soak: /nonexistent/project: not a directory"),
        (["--faults", "0", "."], "userstream soak: error: argument --faults: must be at least 1, got 0"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], arguments: list[str], complaint: str
) -> None:
    try:
        status = main(["soak", *arguments])
    except SystemExit as exit_status:  # argparse's own errors
        status = int(str(exit_status.code))
    assert status == 2
    assert capsys.readouterr().err.splitlines()[-1] == complaint


def test_help_says_what_soak_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_status:
        main(["soak", "--help"])
    assert exit_status.value.code == 0
    shown = capsys.readouterr().out
    assert "faults=... events=... delivered=... lost=... duplicated=... reconnects=... max_recover_s=..." in shown
    assert "--seed" in shown
