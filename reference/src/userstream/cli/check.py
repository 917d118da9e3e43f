"""``userstream check PATH``: run a connector project's contract tests and print the reviewer's checklist."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from userstream.cli.project import ProjectError, load_harness, project_dir
from userstream.cli.recorder import RECORD_OPTION, Outcome, Record, read_record
from userstream.testing.checklist import CHECKLIST, ChecklistItem
from userstream.testing.contract import (
    ConnectorHarness,
    PollingHarness,
    PollingUserStreamContract,
    ReconciliationContract,
    ReconcilingHarness,
    WebSocketHarness,
    WebSocketUserStreamContract,
)

DESCRIPTION = """\
Run the connector contract of a connector project and print the reviewer's checklist: one line per item,
pass, FAIL (with the first failure line of its first failing test) or n/a (every test deciding it was
skipped, with the reason), and the time its tests took. The project's own contract tests run (pytest in
PATH, only the tests marked with a checklist item); a project without any runs the contract against its
harness (tests/*_harness.py, or --harness). Exit status: 0 if no item failed, 1 if one did, 2 if PATH is
not a connector project with contract tests."""
HARNESS_VARIABLE = "USERSTREAM_CHECK_HARNESS"
"""How `userstream.cli.harness_contract`, in pytest's process, learns which harness to run the contract with."""
PASS, FAIL, NOT_APPLICABLE = "pass", "FAIL", "n/a"


@dataclass(frozen=True)
class Verdict:
    item: ChecklistItem
    status: str
    seconds: float
    reason: str = ""


@dataclass(frozen=True)
class Run:
    """What ran: the record of the contract tests, where they came from, and how long pytest took."""

    record: Record
    source: str
    seconds: float


def register(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "check",
        help="run a connector project's contract and print the reviewer's checklist",
        description=DESCRIPTION,
    )
    command.add_argument("path", metavar="PATH", help="the connector project: the directory holding tests/")
    command.add_argument(
        "--harness",
        metavar="MODULE:CLASS",
        help="run the contract against this ConnectorHarness (importable from PATH or PATH/tests) instead of "
        "the project's own contract tests",
    )
    command.add_argument(
        "--markdown", action="store_true", help="print the checklist as a Markdown task list for a pull request"
    )
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    try:
        contract_run = run_contract(arguments.path, arguments.harness)
    except ProjectError as error:
        sys.stderr.write(f"userstream check: {error}\n")
        return 2
    verdicts = [verdict(item, contract_run.record.tests) for item in CHECKLIST]
    render = markdown if arguments.markdown else terminal
    sys.stdout.write(render(Path(arguments.path).resolve().name, contract_run, verdicts) + "\n")
    return 1 if any(entry.status == FAIL for entry in verdicts) else 0


def contracts_for(harness_class: type[ConnectorHarness]) -> tuple[type, ...]:
    """The contract classes a connector with this kind of harness owes."""
    if issubclass(harness_class, ReconcilingHarness):
        return (WebSocketUserStreamContract, ReconciliationContract)
    if issubclass(harness_class, WebSocketHarness):
        return (WebSocketUserStreamContract,)
    if issubclass(harness_class, PollingHarness):
        return (PollingUserStreamContract,)
    raise ProjectError(f"{harness_class.__name__}: a contract needs a WebSocketHarness or a PollingHarness")


def harness_spec(directory: Path, spec: str | None) -> str:
    """``module:Class`` of the project's harness (``spec``, else the one in tests/*_harness.py), checked."""
    harness_class = type(load_harness(directory, spec))
    contracts_for(harness_class)
    return f"{harness_class.__module__}:{harness_class.__qualname__}"


def run_contract(path: str, harness: str | None) -> Run:
    """The project's contract tests, run; without any (and without ``harness``), the contract against its harness."""
    directory = project_dir(path)
    if harness is not None:
        spec = harness_spec(directory, harness)
        return checked(path, run_pytest(directory, spec), f"the contract against {spec}")
    own = run_pytest(directory, None)
    if own.record.tests or own.record.collection_errors:
        return checked(path, own, describe_classes(own.record.tests))
    try:
        spec = harness_spec(directory, None)
    except ProjectError as error:
        raise ProjectError(
            f"no contract tests in {path}/tests, and no harness to run the contract with: {error}"
        ) from None
    return checked(path, run_pytest(directory, spec), f"the contract against {spec}")


def checked(path: str, contract_run: Run, source: str) -> Run:
    if contract_run.record.collection_errors:
        raise ProjectError(f"{path}: cannot collect the tests: {contract_run.record.collection_errors[0]}")
    if not contract_run.record.tests:
        raise ProjectError(f"{path}: no contract tests found (no test is marked with a checklist item)")
    return Run(contract_run.record, source, contract_run.seconds)


def run_pytest(directory: Path, spec: str | None) -> Run:
    """pytest in ``directory`` on the tests marked with a checklist item (or on the contract against ``spec``)."""
    with tempfile.TemporaryDirectory(prefix="userstream-check-") as scratch:
        record_file = Path(scratch) / "record.json"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "userstream.cli.recorder"]
        command.append(f"{RECORD_OPTION}={record_file}")
        environment = dict(os.environ)
        if spec is not None:
            command += ["--pyargs", "userstream.cli.harness_contract"]
            environment[HARNESS_VARIABLE] = spec
        started = time.monotonic()
        finished = subprocess.run(command, cwd=directory, env=environment, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        if not record_file.exists():
            said = (
                finished.stderr.strip() or finished.stdout.strip() or f"exit status {finished.returncode}"
            ).splitlines()
            raise ProjectError(f"{directory}: pytest could not run the tests: {said[-1]}")
        return Run(read_record(record_file), "", seconds)


def describe_classes(tests: Sequence[Outcome]) -> str:
    classes = dict.fromkeys(test.nodeid.rpartition("::")[0] for test in tests)
    return ", ".join(classes)


def short_name(test: Outcome) -> str:
    return test.nodeid.rpartition("::")[2]


def verdict(item: ChecklistItem, tests: Sequence[Outcome]) -> Verdict:
    """An item passes when every test deciding it passed (or was skipped); n/a when all of them were skipped."""
    deciding = [test for test in tests if item.key in test.items]
    seconds = sum(test.duration for test in deciding)
    if not deciding:
        return Verdict(item, NOT_APPLICABLE, seconds, "no contract test of this connector decides it")
    for test in deciding:
        if test.outcome == "failed":
            return Verdict(item, FAIL, seconds, f"{short_name(test)}: {test.reason}")
        if test.outcome == "unrun":
            return Verdict(item, FAIL, seconds, f"{short_name(test)}: did not run (the test run stopped before it)")
    if all(test.outcome == "skipped" for test in deciding):
        return Verdict(item, NOT_APPLICABLE, seconds, deciding[0].reason.removeprefix("not applicable: "))
    return Verdict(item, PASS, seconds)


def summary(verdicts: Sequence[Verdict], contract_run: Run) -> str:
    counts = {status: sum(1 for entry in verdicts if entry.status == status) for status in (PASS, FAIL, NOT_APPLICABLE)}
    return (
        f"{counts[PASS]} pass, {counts[FAIL]} FAIL, {counts[NOT_APPLICABLE]} n/a: "
        f"{len(contract_run.record.tests)} contract tests in {contract_run.seconds:.1f} s"
    )


def terminal(name: str, contract_run: Run, verdicts: Sequence[Verdict]) -> str:
    width = max(len(item.key) for item in CHECKLIST)
    lines = [f"userstream check {name}: {contract_run.source}"]
    for entry in verdicts:
        line = f"{entry.status:<4}  {entry.item.key:<{width}}  {entry.seconds:5.1f} s  {entry.item.text}"
        lines.append(f"{line} — {entry.reason}" if entry.reason else line)
    lines.append(summary(verdicts, contract_run))
    return "\n".join(lines)


def markdown(name: str, contract_run: Run, verdicts: Sequence[Verdict]) -> str:
    lines = [f"#### Reviewer's checklist: {name} (`userstream check`)", ""]
    for entry in verdicts:
        box = "[ ]" if entry.status == FAIL else "[x]"
        line = f"- {box} {entry.item.text} ({entry.seconds:.1f} s)"
        reason = entry.reason.replace("`", "'")
        if entry.status == FAIL:
            line += f" — `{reason}`"
        elif entry.status == NOT_APPLICABLE:
            line += f" — n/a: {reason}"
        lines.append(line)
    lines += ["", summary(verdicts, contract_run)]
    return "\n".join(lines)
