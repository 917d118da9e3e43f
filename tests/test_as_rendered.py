"""Every generated project is clean exactly as cookiecutter renders it: nothing formats or fixes it afterwards.

Each flavour is baked with ``run_tests=skip`` (so the post-gen hook does nothing but say so) and checked
with the project's own ruff configuration (``ruff check``, ``ruff format --check``) and ``mypy --strict``,
package and tests. A project generated with its tests run is byte for byte the one generated without:
the README's regenerate-and-diff recipe shows nothing when the kit has not changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from baking import KIT, PRESETS, generic_answers, preset_answers, ruff
from cookiecutter.main import cookiecutter
from test_bake import GENERIC_VARIANTS, variant_id

FLAVOURS: dict[str, dict[str, Any]] = {
    "default": {},
    **{
        f"generic-{variant_id(variant)}": generic_answers(**{"exchange": f"acme_{number}", **variant})
        for number, variant in enumerate(GENERIC_VARIANTS)
    },
    **{f"preset-{name}": preset_answers(name) for name in PRESETS},
}


def generate(output: Path, answers: dict[str, Any], run_tests: str = "skip") -> Path:
    replay = {"replay_dir": str(output / ".replay")}
    extra = {**answers, "run_tests": run_tests}
    project = cookiecutter(str(KIT), no_input=True, output_dir=str(output), extra_context=extra, default_config=replay)
    return Path(project)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    output = tmp_path_factory.mktemp("as-rendered")
    return {flavour: generate(output / flavour, answers) for flavour, answers in FLAVOURS.items()}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_ruff_finds_nothing_to_fix_or_format(projects: dict[str, Path], flavour: str) -> None:
    project = projects[flavour]
    for check in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = ruff(*check, cwd=project)
        assert result.returncode == 0, f"ruff {' '.join(check)} in {project.name}:\n{result.stdout}{result.stderr}"


def test_mypy_strict_passes_on_every_project_package_and_tests(projects: dict[str, Path]) -> None:
    # One run over them all (each project's modules have its exchange's own names, so none collide).
    roots = list(projects.values())
    sources = [str(path) for project in roots for path in (project / project.name, project / "tests")]
    search_path = os.pathsep.join(str(path) for project in roots for path in (project, project / "tests"))
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--explicit-package-bases", *sources]
    result = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "MYPYPATH": search_path}, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("answers", [{}, preset_answers("okx")], ids=["default", "okx"])
def test_running_the_tests_changes_nothing_the_kit_generated(tmp_path: Path, answers: dict[str, Any]) -> None:
    tested = generate(tmp_path / "tested", answers, run_tests="current")
    skipped = generate(tmp_path / "skipped", answers)
    ignored = {".venv", ".pytest_cache", "__pycache__", ".ruff_cache"}

    def files(project: Path) -> dict[Path, bytes]:
        return {
            path.relative_to(project): path.read_bytes()
            for path in project.rglob("*")
            if path.is_file() and not ignored & set(path.relative_to(project).parts)
        }

    assert files(tested) == files(skipped)


def test_generation_needs_no_ruff(tmp_path: Path, projects: dict[str, Path]) -> None:
    """Where ruff cannot be imported or run, the same projects are generated: nothing formats the output."""
    shadow = tmp_path / "shadow" / "ruff"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("ruff is not installed here")\n')
    environment = {
        "HOME": str(tmp_path),
        "PATH": str(Path(sys.executable).parent.parent / "nowhere"),  # no ruff executable either
        "PYTHONPATH": str(shadow.parent),
    }
    for flavour in ("default", "preset-okx", "preset-coinbase_advanced_trade"):
        output = tmp_path / flavour
        answers = [f"{key}={value}" for key, value in FLAVOURS[flavour].items()]
        command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output), str(KIT)]
        result = subprocess.run(
            [*command, *answers, "run_tests=skip"], env=environment, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        [project] = output.iterdir()
        expected = projects[flavour]
        generated = sorted(path.relative_to(project) for path in project.rglob("*") if path.is_file())
        assert generated == sorted(path.relative_to(expected) for path in expected.rglob("*") if path.is_file())
        for relative in generated:
            assert (project / relative).read_bytes() == (expected / relative).read_bytes(), relative
