"""pytest plugin behind `userstream check`: runs only the tests that decide a checklist item and records them.

Loaded with ``-p userstream.cli.recorder --userstream-record=FILE``: tests without the ``userstream_check``
marker are deselected, and at the end FILE holds, as JSON, each test's items, outcome, duration and its first
failure line (or skip reason), with the errors of any module that could not be collected.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from userstream.testing.checklist import MARKER

RECORD_OPTION = "--userstream-record"


@dataclass
class Outcome:
    nodeid: str
    items: list[str]
    outcome: str = "unrun"
    """``passed``, ``failed`` or ``skipped`` over setup, call and teardown; ``unrun`` if the run ended before it."""
    duration: float = 0.0
    reason: str = ""
    """The first line of the failure, or the skip's reason."""


@dataclass
class Record:
    tests: list[Outcome] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)


def first_line(report: pytest.CollectReport | pytest.TestReport) -> str:
    """What went wrong, in the words of the exception (or the skip), on one line."""
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else report.longreprtext
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0].removeprefix("AssertionError: ") if lines else report.outcome


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.record = Record()
        self.by_nodeid: dict[str, Outcome] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        deciding = [item for item in items if item.get_closest_marker(MARKER) is not None]
        deselected = [item for item in items if item.get_closest_marker(MARKER) is None]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = deciding
        for item in deciding:
            keys = [str(marker.args[0]) for marker in item.iter_markers(MARKER)]
            outcome = Outcome(item.nodeid, list(dict.fromkeys(keys)))
            self.by_nodeid[item.nodeid] = outcome
            self.record.tests.append(outcome)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.record.collection_errors.append(f"{report.nodeid or '.'}: {first_line(report)}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self.by_nodeid.get(report.nodeid)
        if outcome is None:
            return
        outcome.duration += report.duration
        if outcome.outcome == "failed":
            return
        if report.failed:
            outcome.outcome, outcome.reason = "failed", first_line(report)
        elif report.skipped:
            outcome.outcome, outcome.reason = "skipped", first_line(report)
        elif report.when == "call":
            outcome.outcome = "passed"

    def pytest_sessionfinish(self) -> None:
        self.path.write_text(json.dumps(asdict(self.record)), encoding="utf-8")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(RECORD_OPTION, metavar="FILE", help="userstream check: write each checklist test's outcome here")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption(RECORD_OPTION)
    if path:
        config.pluginmanager.register(Recorder(Path(path)), "userstream-check-recorder")


def read_record(path: Path) -> Record:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Record([Outcome(**test) for test in data["tests"]], list(data["collection_errors"]))
