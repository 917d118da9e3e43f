"""Run the generated connector's tests at once, so a new connector starts from green.

The generated code is clean as rendered (ruff and mypy --strict pass on it as it is): nothing here
formats it.

Cookiecutter runs this with its own interpreter, from inside the generated project. That
interpreter may have nothing but cookiecutter (pipx, uvx); the tests then run in a virtual
environment made inside the project (``.venv``), which stays ready for the user afterwards.

A failing test run keeps the project and says how to re-run; only strict mode
(``USERSTREAM_KIT_STRICT=1``, used by the kit's own tests) fails the hook, which makes cookiecutter
delete the project.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import time
import venv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STRICT_ENV = "USERSTREAM_KIT_STRICT"
VENV_DIR = ".venv"
# What the generated tests import: their presence makes the current interpreter good enough in "auto".
TEST_MODULES = ("userstream.testing.contract", "pytest", "pytest_asyncio", "aiohttp")
JWT_MODULES = ("cryptography",)
PYTEST_SUMMARY = re.compile(r"^=+ (?P<summary>.*\d+ \w+.* in [\d.]+s.*?) =+$")


class SetupFailed(Exception):
    """The test environment could not be made; the message says what to do."""


@dataclass(frozen=True)
class Outcome:
    passed: bool
    summary: str


def say(message: str) -> None:
    print(f"userstream-kit: {message}", flush=True)


def is_strict(environ: Mapping[str, str]) -> bool:
    return environ.get(STRICT_ENV, "") == "1"


def signs_jwts(answers: Mapping[str, Any]) -> bool:
    """Whether the connector signs with ES256 JWTs, which need userstream's ``jwt`` extra (cryptography)."""
    return "jwt" in answers["__userstream_extras"]


def required_modules(answers: Mapping[str, Any]) -> tuple[str, ...]:
    return TEST_MODULES + (JWT_MODULES if signs_jwts(answers) else ())


def missing_modules(modules: Sequence[str]) -> list[str]:
    """The modules this interpreter cannot import (a package's absence, not an import error inside it)."""
    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(module)
    return missing


def venv_python(project: Path) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return project / VENV_DIR / scripts / ("python.exe" if os.name == "nt" else "python")


def install_command(python: Path, kit_dir: Path, answers: Mapping[str, Any]) -> list[str]:
    """Install userstream from the kit's own ``reference/`` (it is not on PyPI) and the project with its dev tools."""
    extras = ",".join(["test", *filter(None, answers["__userstream_extras"].strip("[]").split(","))])
    reference = kit_dir / "reference"
    return [
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        f"userstream[{extras}] @ {reference.as_uri()}",
        "-e",
        ".[dev]",
    ]


def make_venv(project: Path, kit_dir: Path, answers: Mapping[str, Any]) -> Path:
    """A virtual environment in ``project/.venv`` with everything the tests need; its interpreter."""
    python = venv_python(project)
    if not (kit_dir / "reference" / "pyproject.toml").is_file():
        raise SetupFailed(f"the kit at {kit_dir} has no reference/ package to install userstream from")
    if not python.exists():
        say(f"creating {VENV_DIR} in the project")
        venv.EnvBuilder(with_pip=True).create(project / VENV_DIR)
    say(f"installing userstream from {kit_dir / 'reference'} and the test tools into {VENV_DIR} (about a minute)")
    started = time.monotonic()
    result = subprocess.run(install_command(python, kit_dir, answers), cwd=project, check=False)
    if result.returncode != 0:
        raise SetupFailed(f"pip could not install the test dependencies into {VENV_DIR} (exit {result.returncode})")
    say(f"{VENV_DIR} ready in {time.monotonic() - started:.0f} s")
    return python


def choose_python(answers: Mapping[str, Any], project: Path, kit_dir: Path) -> Path:
    mode = answers["run_tests"]
    current = Path(sys.executable)
    if mode == "current":
        missing = missing_modules(required_modules(answers))
        if missing:
            raise SetupFailed(f"this Python ({current}) lacks {', '.join(missing)}; answer run_tests=venv or auto")
        return current
    if mode == "auto" and not missing_modules(required_modules(answers)):
        say(f"this Python ({current}) has every test dependency: using it")
        return current
    return make_venv(project, kit_dir, answers)


def run_tests(python: Path, project: Path) -> Outcome:
    say("running the generated tests")
    command = [str(python), "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider"]
    output = bytearray()
    with subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        assert process.stdout is not None
        # Echo as it arrives, not per line: pytest's progress dots share one line until it ends.
        while chunk := os.read(process.stdout.fileno(), 65536):
            output += chunk
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
    text = output.decode(errors="replace")
    return Outcome(passed=process.returncode == 0, summary=pytest_summary(text, process.returncode))


def pytest_summary(output: str, returncode: int) -> str:
    """pytest's own last line ("14 passed in 2.31s"), or what happened if it printed none."""
    for line in reversed(output.splitlines()):
        match = PYTEST_SUMMARY.match(line.strip())
        if match:
            return match["summary"]
        if re.fullmatch(r"\d+ \w+.* in [\d.]+s.*", line.strip()):
            return line.strip()
    return f"pytest exited with code {returncode}"


def rerun_hint(python: Path, project: Path) -> str:
    shown = python.relative_to(project) if python.is_relative_to(project) else python
    return f"cd {shlex.quote(str(project))} && {shlex.quote(str(shown))} -m pytest"


def next_step(python: Path | None, project: Path) -> str:
    """The last line: where the project is and what to run in it."""
    command = (
        rerun_hint(python, project) if python is not None else f"cd {shlex.quote(str(project))} && python -m pytest"
    )
    return f'next: {command}, then README.md\'s "What is left to do"'


def main(
    answers: Mapping[str, Any], kit_dir: Path, project: Path, environ: Mapping[str, str], *, under_cruft: bool = False
) -> int:
    name = answers["__exchange"]
    strict = is_strict(environ)
    if under_cruft:
        # cruft renders the template into a temporary directory to compare versions: no tests, no .venv there.
        say(f"{name}: rendered for cruft; tests not run (run them in the project with python -m pytest)")
        return 0
    if answers["run_tests"] == "skip":
        say(f"{name}: generated in {project}; tests not run (run_tests=skip)")
        say(next_step(None, project))
        return 0
    try:
        python = choose_python(answers, project, kit_dir)
    except (SetupFailed, OSError) as error:
        say(f"{name}: generated in {project}, but its tests could not be run: {error}")
        say(next_step(None, project))
        return 1 if strict else 0
    outcome = run_tests(python, project)
    if outcome.passed:
        say(f"{name}: generated in {project}; its tests passed ({outcome.summary})")
        say(next_step(python, project))
        return 0
    say(f"{name}: generated tests FAILED ({outcome.summary}); the project is kept at {project}")
    say(f"re-run them with: {rerun_hint(python, project)}")
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(
        main(
            json.loads(r"""{{ cookiecutter | tojson }}"""),
            kit_dir=Path(json.loads(r"""[{{ userstream_kit_dir | tojson }}]""")[0]),
            project=Path.cwd(),
            environ=os.environ,
            under_cruft=json.loads(r"""{{ kit_under_cruft | tojson }}"""),
        )
    )
