"""Fault soak of the kit's generated connectors: nothing lost, nothing duplicated, whatever the exchange does.

For each connector (every generic archetype, every preset exchange), generates it (as ``cookiecutter``
would, into a temporary directory), runs it against its fake exchange while the account keeps changing and
faults are injected at seeded random moments (`userstream.testing.soak`), and prints what it saw: a row per
connector, with what its account guarantees on that exchange. The last line totals every connector::

    faults=… events=… delivered=… lost=… duplicated=… reconnects=… max_recover_s=…

Exit status 0 only if every connector passed. Usage::

    python benchmarks/soak.py --faults 300 --seed 1
    python benchmarks/soak.py --faults 50 --connector listen_key --connector okx

Needs the kit's test requirements (``pip install -r tests/requirements.txt``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cookiecutter.main import cookiecutter

from userstream.cli.soak import positive_int
from userstream.testing.contract import ReconcilingHarness
from userstream.testing.soak import SoakReport, run_soak, total

KIT = Path(__file__).resolve().parent.parent
RECONCILING = ("login_message", "signed_subscribe", "rest_token", "listen_key")
"""The archetypes whose stream can have a gap, so reconcile from a snapshot."""
NOT_SOAKED = {
    "rest_polling": "no stream, so no gap: every poll already reads the whole account (tested by its contract)"
}
PRESETS = tuple(sorted(answer_file.parent.name for answer_file in KIT.glob("exchanges/*/preset.yaml")))


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", type=positive_int, default=100, help="faults per connector (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the faults and the activity (default 1)")
    parser.add_argument(
        "--connector",
        action="append",
        choices=[*RECONCILING, *NOT_SOAKED, *PRESETS],
        metavar="NAME",
        help=f"soak only this archetype or preset (repeatable; default: all): {', '.join([*RECONCILING, *PRESETS])}",
    )
    parser.add_argument("--verbose", action="store_true", help="show the connectors' log")
    return parser.parse_args(argv)


@contextlib.contextmanager
def hook_output_silenced() -> Iterator[None]:
    """Send what the template's hooks print (a subprocess's stdout) away: the soak's output is its report."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def generate_harness(connector: str, output_dir: Path) -> ReconcilingHarness:
    """Generate the archetype's (or preset's) connector and return its tests' harness."""
    if connector in PRESETS:
        exchange = connector
        answers = {"template": "preset (exchanges)", "preset": connector, "run_tests": "skip"}
    else:
        exchange = f"soak_{connector}"
        answers = {"exchange": exchange, "archetype": connector, "run_tests": "skip"}
    with hook_output_silenced():
        project = Path(
            cookiecutter(
                str(KIT),
                no_input=True,
                output_dir=str(output_dir),
                extra_context=answers,
                default_config={"replay_dir": str(output_dir / "replay")},  # not the user's ~/.cookiecutter_replay
            )
        )
    sys.path[:0] = [str(project), str(project / "tests")]
    module = importlib.import_module(f"{exchange}_harness")
    [harness_class] = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ReconcilingHarness) and value.__module__ == module.__name__
    ]
    return harness_class()


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO if arguments.verbose else logging.CRITICAL)
    chosen = arguments.connector or [*RECONCILING, *NOT_SOAKED, *PRESETS]
    reports: list[SoakReport] = []
    with tempfile.TemporaryDirectory(prefix="userstream-soak-") as scratch:
        for connector in chosen:
            if connector in NOT_SOAKED:
                print(f"{connector}: not soaked: {NOT_SOAKED[connector]}", flush=True)
                continue
            harness = generate_harness(connector, Path(scratch))
            report = asyncio.run(run_soak(harness, faults=arguments.faults, seed=arguments.seed, name=connector))
            reports.append(report)
            print(report.rows(), flush=True)
    if not reports:
        print("nothing soaked: choose a connector with a stream", file=sys.stderr)
        return 2
    print(total(reports).summary())
    return 0 if all(report.passed for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
