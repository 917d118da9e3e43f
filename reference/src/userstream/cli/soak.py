"""``userstream soak PATH``: the fault soak of `userstream.testing.soak` against a project's own fake exchange."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from userstream.cli.project import ProjectError, load_harness
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.soak import run_soak, total

DESCRIPTION = """\
Run the fault soak against a connector project's own fake exchange (its tests' harness): the account keeps
changing while drops, 1001 closes, silent connections, malformed frames, refused logins, expired keys and
failed snapshots are injected at seeded random moments; at the end nothing may be lost or duplicated. Prints
the same rows and last line as benchmarks/soak.py:

  faults=... events=... delivered=... lost=... duplicated=... reconnects=... max_recover_s=...

Exit status: 0 if the soak passed (lost=0 duplicated=0 and no fault left unrecovered), 1 if not, 2 if PATH
is not a connector project whose harness reconciles."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "soak",
        help="run the fault soak against a connector project's fake exchange",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("path", metavar="PATH", help="the connector project: the directory holding tests/")
    command.add_argument("--faults", type=positive_int, default=100, help="faults to inject (default 100)")
    command.add_argument("--seed", type=int, default=1, help="seed of the faults and the activity (default 1)")
    command.add_argument(
        "--harness",
        metavar="MODULE:CLASS",
        help="the ReconcilingHarness to soak (importable from PATH or PATH/tests); default: the one in "
        "tests/*_harness.py",
    )
    command.add_argument("--verbose", action="store_true", help="show the connector's log")
    command.set_defaults(run=run)


def reconciling_harness(path: str, spec: str | None) -> ReconcilingHarness:
    harness = load_harness(path, spec)
    if not isinstance(harness, ReconcilingHarness):
        raise ProjectError(
            f"{type(harness).__name__} is not a ReconcilingHarness: the soak needs a connector that reconciles"
        )
    return harness


def run(arguments: argparse.Namespace) -> int:
    try:
        harness = reconciling_harness(arguments.path, arguments.harness)
    except ProjectError as error:
        sys.stderr.write(f"userstream soak: {error}\n")
        return 2
    logging.basicConfig(level=logging.INFO if arguments.verbose else logging.CRITICAL)
    name = Path(arguments.path).resolve().name
    report = asyncio.run(run_soak(harness, faults=arguments.faults, seed=arguments.seed, name=name))
    sys.stdout.write(f"{report.rows()}\n{total([report]).summary()}\n")
    return 0 if report.passed else 1
