"""The post-gen hook: picks an interpreter, formats, runs the generated tests, and keeps a failing project."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from baking import KIT, preset_answers

from hooks import post_gen_project as hook

ANSWERS: dict[str, Any] = {"__exchange": "acme", "run_tests": "current", "__userstream_extras": ""}


def write_project(root: Path, test_body: str) -> Path:
    """A minimal project with one test file, as the hook finds a generated one."""
    project = root / "acme"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (project / "tests" / "test_acme.py").write_text(test_body)
    return project


def test_a_failing_generated_test_keeps_the_project_and_says_how_to_rerun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path, "def test_fails():\n    assert 1 == 2\n")
    assert hook.main(ANSWERS, kit_dir=KIT, project=project, environ={}) == 0
    out = capsys.readouterr().out
    assert "acme: generated tests FAILED (1 failed in" in out
    assert f"the project is kept at {project}" in out
    assert f"re-run them with: cd {project} && {sys.executable} -m pytest" in out
    assert (project / "tests" / "test_acme.py").exists()


def test_strict_mode_fails_the_hook_on_a_failing_test(tmp_path: Path) -> None:
    project = write_project(tmp_path, "def test_fails():\n    assert 1 == 2\n")
    assert hook.main(ANSWERS, kit_dir=KIT, project=project, environ={"USERSTREAM_KIT_STRICT": "1"}) == 1


def test_passing_tests_are_summarised_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_project(tmp_path, "def test_passes():\n    assert True\n")
    assert hook.main(ANSWERS, kit_dir=KIT, project=project, environ={"USERSTREAM_KIT_STRICT": "1"}) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"userstream-kit: acme: generated in {project}; its tests passed (1 passed in" in lines[-2]
    assert (
        lines[-1]
        == f'userstream-kit: next: cd {project} && {sys.executable} -m pytest, then README.md\'s "What is left to do"'
    )


def test_skip_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_project(tmp_path, "def test_fails():\n    assert 1 == 2\n")
    assert hook.main({**ANSWERS, "run_tests": "skip"}, kit_dir=KIT, project=project, environ={}) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"userstream-kit: acme: generated in {project}; tests not run (run_tests=skip)"
    assert (
        lines[-1] == f'userstream-kit: next: cd {project} && python -m pytest, then README.md\'s "What is left to do"'
    )


def test_under_cruft_nothing_runs_and_no_venv_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*arguments: object) -> Path:
        raise AssertionError("no .venv in cruft's temporary render")

    monkeypatch.setattr(hook, "make_venv", refuse)
    project = write_project(tmp_path, "def test_fails():\n    assert 1 == 2\n")
    answers = {**ANSWERS, "run_tests": "venv"}
    assert (
        hook.main(answers, kit_dir=KIT, project=project, environ={"USERSTREAM_KIT_STRICT": "1"}, under_cruft=True) == 0
    )
    assert "rendered for cruft; tests not run" in capsys.readouterr().out


def test_current_without_the_test_tools_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(hook, "missing_modules", lambda modules: ["pytest_asyncio"])
    project = write_project(tmp_path, "")
    assert hook.main(ANSWERS, kit_dir=KIT, project=project, environ={}) == 0
    assert "lacks pytest_asyncio; answer run_tests=venv or auto" in capsys.readouterr().out


@pytest.mark.parametrize(("missing", "expect_venv"), [([], False), (["pytest"], True)])
def test_auto_uses_this_python_only_when_it_has_every_test_dependency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: list[str], expect_venv: bool
) -> None:
    made: list[Path] = []
    monkeypatch.setattr(hook, "missing_modules", lambda modules: missing)

    def fake_make_venv(project: Path, kit_dir: Path, answers: Any) -> Path:
        made.append(project)
        return Path("/venv/bin/python")

    monkeypatch.setattr(hook, "make_venv", fake_make_venv)
    chosen = hook.choose_python({**ANSWERS, "run_tests": "auto"}, tmp_path, KIT)
    assert (chosen == Path("/venv/bin/python")) is expect_venv
    assert bool(made) is expect_venv


def test_the_venv_gets_userstream_from_the_kit_and_the_project_with_its_dev_tools() -> None:
    command = hook.install_command(Path("/p/.venv/bin/python"), KIT, {"__userstream_extras": "[jwt]"})
    assert command[:4] == ["/p/.venv/bin/python", "-m", "pip", "install"]
    assert f"userstream[test,jwt] @ {(KIT / 'reference').as_uri()}" in command
    assert command[-2:] == ["-e", ".[dev]"]


def test_a_kit_without_its_reference_package_is_reported(tmp_path: Path) -> None:
    with pytest.raises(hook.SetupFailed, match="has no reference/ package"):
        hook.make_venv(tmp_path, tmp_path, ANSWERS)


@pytest.mark.parametrize(
    ("output", "summary"),
    [
        ("....\n4 passed in 0.52s\n", "4 passed in 0.52s"),
        ("F.\n=== 1 failed, 1 passed in 1.20s ===\n", "1 failed, 1 passed in 1.20s"),
        ("ImportError while loading conftest\n", "pytest exited with code 4"),
    ],
)
def test_pytest_summary_is_its_last_line(output: str, summary: str) -> None:
    assert hook.pytest_summary(output, 4) == summary


def test_the_hook_builds_a_project_venv_when_asked(
    bake: Callable[..., Path], capfd: pytest.CaptureFixture[str]
) -> None:
    """The pipx/uvx case for real: a .venv in the project, userstream installed from this kit, tests run in it."""
    project = bake(run_tests="venv")
    out = capfd.readouterr().out
    assert "creating .venv in the project" in out
    assert "acme: generated in" in out
    assert "its tests passed" in out
    python = hook.venv_python(project)
    assert python.exists()
    assert (project / ".venv").is_dir()


@pytest.mark.parametrize(("preset", "extras"), [("okx", "test"), ("coinbase_advanced_trade", "test,jwt")])
def test_the_generated_readme_installs_userstream_as_the_hook_does(
    bake: Callable[..., Path], preset: str, extras: str
) -> None:
    project = bake(**preset_answers(preset), run_tests="skip")
    readme = (project / "README.md").read_text()
    section = readme.split("## Install it", 1)[1].split("## ", 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    from_git, from_checkout = (block.strip() for block in blocks)
    kit_reference = "file:///path/to/userstream-kit/reference"
    assert shlex.split(from_checkout)[4:] == [f"userstream[{extras}] @ {kit_reference}", "-e", ".[dev]"]
    hook_command = hook.install_command(Path("python"), Path("/path/to/userstream-kit"), {"__userstream_extras": ""})
    assert [part for part in hook_command if part != "--quiet"][4:] == [
        f"userstream[test] @ {kit_reference}",
        "-e",
        ".[dev]",
    ], "the README shows the command the hook runs"
    assert f'"userstream[{extras}] @ git+https://github.com/org/userstream-kit#subdirectory=reference"' in from_git
    assert 'python -m pip install -e ".[dev]"' in from_git


def test_the_userstream_wheel_ships_its_type_information(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(tmp_path),
            str(KIT / "reference"),
        ],
        check=True,
    )
    [wheel] = tmp_path.glob("userstream-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "userstream/py.typed" in archive.namelist()
