"""`userstream check`: the reviewer's checklist, run as a reviewer runs it, on generated and broken connectors.

The contract runs in a pytest of its own for each project (several seconds each), so the runs are started together
and the tests read their results.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

from userstream.cli import main
from userstream.cli.check import Verdict, run_contract, verdict
from userstream.testing.checklist import CHECKLIST, ITEMS

KIT = Path(__file__).resolve().parent.parent
FIXTURES = KIT / "tests" / "fixtures"
BROKEN = FIXTURES / "broken_connectors"
DEMO = FIXTURES / "checklist_demo"
LINE = re.compile(r"(?P<status>pass|FAIL|n/a)\s+(?P<key>[a-z_]+)\s+(?P<seconds>\d+\.\d) s  (?P<rest>.+)")
SUMMARY = re.compile(r"\d+ pass, \d+ FAIL, \d+ n/a: \d+ contract tests in \d+\.\d s")
PARALLEL_RUNS = 4
"""Contract runs at once: they mostly wait on loopback sockets, so two cores carry four."""


def harness_of(key: str) -> str:
    """The broken connector's harness for an item: ``broken_harness:ReconciledGap`` for ``reconciled_gap``."""
    return "broken_harness:" + "".join(part.capitalize() for part in key.split("_"))


def userstream(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "userstream", *arguments],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def bake(output_dir: Path, **answers: str) -> Path:
    project = cookiecutter(
        str(KIT),
        no_input=True,
        output_dir=str(output_dir),
        extra_context={**answers, "run_tests": "skip"},
        default_config={"replay_dir": str(output_dir / "replay")},
    )
    return Path(project)


def statuses(stdout: str) -> dict[str, str]:
    return {match["key"]: match["status"] for line in stdout.splitlines() if (match := LINE.fullmatch(line))}


def broken_check(key: str) -> list[Verdict]:
    """`userstream check --harness` on the connector broken for ``key``, in this process: its verdicts."""
    contract_run = run_contract(str(BROKEN), harness_of(key))
    return [verdict(item, contract_run.record.tests) for item in CHECKLIST]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Any]]]:
    """Every contract run this module reads, started at once: the default connector, OKX, each broken connector."""
    output_dir = tmp_path_factory.mktemp("baked")
    default = bake(output_dir)
    okx = bake(output_dir, template="preset (exchanges)", preset="okx")
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        started: dict[str, Future[Any]] = {"default": pool.submit(userstream, "check", str(default))}
        started["okx"] = pool.submit(userstream, "check", str(okx))
        started.update({key: pool.submit(broken_check, key) for key in ITEMS})
        yield started


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("project", "not_applicable"), [("default", {"credential_expiry"}), ("okx", {"credential_expiry"})]
)
def test_the_generated_connectors_pass_every_item_that_applies(
    runs: dict[str, Future[Any]], project: str, not_applicable: set[str]
) -> None:
    result: subprocess.CompletedProcess[str] = runs[project].result()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    got = statuses(result.stdout)
    assert list(got) == list(ITEMS), "one line per item, in the checklist's order"
    assert {key for key, status in got.items() if status == "n/a"} == not_applicable
    assert {key for key, status in got.items() if status == "pass"} == set(ITEMS) - not_applicable
    assert "key or token" in next(line for line in lines if "credential_expiry" in line).partition(" — ")[2]
    assert SUMMARY.fullmatch(lines[-1]), lines[-1]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("key", list(ITEMS))
def test_each_broken_connector_fails_exactly_its_item(runs: dict[str, Future[Any]], key: str) -> None:
    verdicts: list[Verdict] = runs[key].result()
    got = {entry.item.key: entry.status for entry in verdicts}
    assert got == {other: "FAIL" if other == key else "pass" for other in ITEMS}, verdicts
    [failure] = [entry for entry in verdicts if entry.status == "FAIL"]
    test_name, _, reason = failure.reason.partition(": ")
    assert test_name.startswith("test_"), failure
    assert reason, "the first failure line of the failing test"


def test_the_lines_say_pass_fail_or_not_applicable_with_the_reason_and_exit_1_on_a_failure() -> None:
    result = userstream("check", str(DEMO))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "userstream check checklist_demo: tests/checklist_demo.py::TestStandIns"
    rows = {match["key"]: match for line in lines[1:-1] if (match := LINE.fullmatch(line))}
    assert list(rows) == list(ITEMS)
    assert rows["connects"]["status"] == "pass"
    assert rows["connects"]["rest"] == ITEMS["connects"].text
    assert rows["reconnects"]["status"] == "FAIL"
    assert rows["reconnects"]["rest"].endswith(" — test_fails: streaming after 1 reconnect(s): not within 5 s")
    assert rows["credential_expiry"]["status"] == "n/a"
    assert rows["credential_expiry"]["rest"].endswith(" — this exchange's stream runs on no key or token that expires")
    assert rows["keepalives"]["rest"].endswith(" — no contract test of this connector decides it")
    assert lines[-1].startswith("1 pass, 1 FAIL, 9 n/a: 3 contract tests in "), "the unmarked test did not run"


def test_markdown_is_a_task_list_to_paste_into_a_pull_request() -> None:
    result = userstream("check", str(DEMO), "--markdown")
    assert result.returncode == 1, result.stdout + result.stderr
    heading, blank, *tasks, blank_again, summary = result.stdout.splitlines()
    assert heading == "#### Reviewer's checklist: checklist_demo (`userstream check`)"
    assert blank == blank_again == ""
    assert len(tasks) == len(CHECKLIST)
    task = re.compile(r"- \[(?P<box>[ x])\] (?P<text>.+?) \(\d+\.\d s\)(?P<reason> — .+)?")
    matches = [task.fullmatch(line) for line in tasks]
    assert all(matches), tasks
    by_text = {match["text"]: match for match in matches if match}
    assert [match["text"] for match in matches if match] == [item.text for item in CHECKLIST]
    assert by_text[ITEMS["connects"].text]["box"] == "x"
    assert by_text[ITEMS["connects"].text]["reason"] is None
    failed = by_text[ITEMS["reconnects"].text]
    assert (failed["box"], failed["reason"]) == (" ", " — `test_fails: streaming after 1 reconnect(s): not within 5 s`")
    skipped = by_text[ITEMS["credential_expiry"].text]
    assert (skipped["box"], skipped["reason"]) == (
        "x",
        " — n/a: this exchange's stream runs on no key or token that expires",
    )
    assert summary.startswith("1 pass, 1 FAIL, 9 n/a")


@pytest.mark.parametrize(
    ("layout", "complaint"),
    [
        ("missing", "missing: not a directory"),
        ("no tests directory", "no tests/ directory: is this a connector project?"),
        ("no tests", "no contract tests in "),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str, complaint: str
) -> None:
    path = tmp_path / "missing" if layout == "missing" else tmp_path
    if layout == "no tests":
        (tmp_path / "tests").mkdir()
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("userstream check: ")
    assert complaint in line


def test_a_harness_that_is_not_there_gets_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BROKEN), "--harness", "broken_harness:NoSuchHarness"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("userstream check: --harness broken_harness:NoSuchHarness: ")


def test_help_says_what_check_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_status:
        main(["check", "--help"])
    assert exit_status.value.code == 0
    shown = capsys.readouterr().out
    assert "the reviewer's checklist" in " ".join(shown.split())
    assert "--harness" in shown
    assert "--markdown" in shown
