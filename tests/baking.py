"""Baking the template: answers for every archetype and preset, and checks every generated project must pass.

Imported by the kit's tests and by `conftest.py` (for its fixtures); never imported as `conftest`, a name
the reference package's tests already use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

KIT = Path(__file__).resolve().parent.parent
STRICT = "USERSTREAM_KIT_STRICT"
WEBSOCKET = "websocket (generic/websocket)"
POLLING = "rest_polling (generic/rest_polling)"
PRESET = "preset (exchanges)"
"""The kit's menu (its root cookiecutter.json): which nested template generates."""
PRESETS = sorted(path.parent.name for path in KIT.glob("exchanges/*/preset.yaml"))


class BakeResult(Protocol):
    exit_code: int
    exception: BaseException | None
    project_path: Path


class Cookies(Protocol):
    def bake(self, extra_context: Mapping[str, Any] | None = None, template: str | None = None) -> BakeResult: ...


def preset_answers(preset: str) -> dict[str, Any]:
    """A preset's answers, from ``exchanges/<preset>/preset.yaml``, as ``--config-file`` applies them."""
    answer_file = KIT / "exchanges" / preset / "preset.yaml"
    answers: dict[str, Any] = yaml.safe_load(answer_file.read_text())["default_context"]
    return answers


def generic_answers(archetype: str, **answers: Any) -> dict[str, Any]:
    """The answers that choose a generic connector of ``archetype`` from the menu, with ``answers`` on top."""
    if archetype == "rest_polling":
        return {"template": POLLING, **answers}
    return {"template": WEBSOCKET, "archetype": archetype, **answers}


@pytest.fixture(scope="session", autouse=True)
def the_users_replay_is_left_alone() -> Iterator[None]:
    """Every generation in the kit's tests keeps cookiecutter's replay out of the user's ~/.cookiecutter_replay."""
    replay = Path("~/.cookiecutter_replay").expanduser()

    def state() -> dict[str, float]:
        return {path.name: path.stat().st_mtime for path in replay.glob("*")} if replay.is_dir() else {}

    before = state()
    yield
    assert state() == before, f"a test wrote cookiecutter's replay into {replay}"


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """The post-gen hook fails (and the bake with it) when the generated tests fail."""
    monkeypatch.setenv(STRICT, "1")


@pytest.fixture
def bake(cookies: Cookies, strict: None) -> Callable[..., Path]:
    """``bake(**answers)``: the generated project's path; the bake must succeed."""

    def bake(**answers: Any) -> Path:
        result = cookies.bake(template=str(KIT), extra_context=answers)
        assert result.exception is None, f"bake failed: {result.exception!r}"
        assert result.exit_code == 0
        return Path(result.project_path)

    return bake


def ruff(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )


def assert_clean_project(project: Path) -> None:
    """What every generated project must be: no template syntax left, ruff-clean under its own config."""
    leftovers = [
        f"{path.relative_to(project)}:{number}"
        for path in project.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".toml", ".md", ".json", ".yaml", ""}
        and not {".venv", ".ruff_cache", ".pytest_cache", "__pycache__"} & set(path.parts)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{{" in line or "{%" in line or "}}" in line
    ]
    assert not leftovers, f"template syntax left in {leftovers}"
    for check in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = ruff(*check, cwd=project)
        assert result.returncode == 0, f"ruff {' '.join(check)}:\n{result.stdout}{result.stderr}"
    answers = json.loads((project / ".cookiecutter.json").read_text())["default_context"]
    assert answers.get("exchange", answers.get("preset")) == project.name
