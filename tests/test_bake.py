"""Bake every archetype (with its answer variants) and every preset; each project must be clean and its tests pass.

The post-gen hook runs each generated project's own tests with this interpreter (``run_tests=current``)
in strict mode, so a failing generated test fails the bake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from baking import KIT, PRESETS, assert_clean_project, generic_answers, preset_answers
from cookiecutter.main import cookiecutter

GENERIC_VARIANTS: list[dict[str, Any]] = [
    {"archetype": "login_message"},
    {"archetype": "login_message", "passphrase": True, "signature_encoding": "base64", "ping_style": "text"},
    {"archetype": "login_message", "ping_style": "protocol", "ping_interval": "7.5"},
    {"archetype": "login_message", "exchange": "the_longest_name_an_exchange_can"},  # 32 characters: lines still fit
    {"archetype": "signed_subscribe"},
    {"archetype": "signed_subscribe", "passphrase": True, "signature_encoding": "base64", "ping_style": "protocol"},
    {"archetype": "rest_token"},
    {"archetype": "rest_token", "passphrase": True, "signature_encoding": "base64", "ping_style": "text"},
    {"archetype": "listen_key"},
    {"archetype": "listen_key", "ping_style": "protocol"},
    {"archetype": "rest_polling"},
    {"archetype": "rest_polling", "passphrase": True, "signature_encoding": "base64"},
]


def variant_id(answers: dict[str, Any]) -> str:
    return "-".join(str(value) for value in answers.values())


@pytest.mark.parametrize("answers", GENERIC_VARIANTS, ids=variant_id)
def test_each_archetype_bakes_a_clean_project_whose_tests_pass(
    bake: Callable[..., Path], answers: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    project = bake(**generic_answers(**answers), run_tests="current")
    assert f"{answers.get('exchange', 'acme')}: generated in {project}; its tests passed" in capfd.readouterr().out
    assert_clean_project(project)


@pytest.mark.parametrize("preset", PRESETS)
def test_each_preset_bakes_its_exchange_from_its_home_and_the_tests_pass(
    bake: Callable[..., Path], preset: str, capfd: pytest.CaptureFixture[str]
) -> None:
    project = bake(**preset_answers(preset), run_tests="current")
    assert f"{preset}: generated in {project}; its tests passed" in capfd.readouterr().out
    assert_clean_project(project)
    home = KIT / "exchanges" / preset
    for source in [*home.glob(f"{preset}/*.py"), *home.glob("tests/*.py")]:
        copy = project / source.relative_to(home)
        assert copy.read_bytes() == source.read_bytes(), f"{copy.relative_to(project)} is its home's file, verbatim"


def test_the_menu_offers_every_preset_with_a_home() -> None:
    menu = json.loads((KIT / "exchanges" / "cookiecutter.json").read_text())
    assert menu["preset"] == PRESETS
    assert sorted(menu["__prompts__"]["preset"]) == sorted(["__prompt__", *PRESETS])


def test_only_the_chosen_archetype_is_generated(bake: Callable[..., Path]) -> None:
    project = bake(**generic_answers("listen_key"), run_tests="skip")
    source = (project / "acme" / "acme_api_user_stream_data_source.py").read_text()
    assert "ListenKeyDataSource" in source
    for other in ("LoginMessageDataSource", "RestTokenDataSource", "SignedSubscribeDataSource", "RestPolling"):
        assert other not in source


@pytest.mark.parametrize(
    ("answers", "reconciles"),
    [
        (generic_answers("login_message"), True),
        (generic_answers("signed_subscribe"), True),
        (generic_answers("rest_token"), True),
        (generic_answers("listen_key"), True),
        (generic_answers("rest_polling"), False),
        *((preset_answers(preset), True) for preset in PRESETS),
    ],
    ids=lambda value: value.get("preset", value.get("archetype", "rest_polling")) if isinstance(value, dict) else "",
)
def test_only_the_reconciling_connectors_have_an_account_module(
    bake: Callable[..., Path], answers: dict[str, Any], reconciles: bool
) -> None:
    """The generic WebSocket archetypes and every preset reconcile through <exchange>_account.py; polling has none."""
    project = bake(**{**answers, "run_tests": "skip"})
    name = project.name
    assert (project / name / f"{name}_account.py").is_file() is reconciles
    contract_test = (project / "tests" / f"test_{name}_user_stream.py").read_text()
    assert ("ReconciliationContract" in contract_test) is reconciles


def test_the_defaults_generate_the_acme_demo_connector(cookies: Any, strict: None) -> None:
    result = cookies.bake(template=str(KIT), extra_context={"run_tests": "skip"})
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == "acme"
    assert {path.name for path in (project / "acme").glob("*.py")} == {
        "__init__.py",
        "__main__.py",
        "acme_constants.py",
        "acme_auth.py",
        "acme_api_user_stream_data_source.py",
        "acme_account.py",
        "acme_user_stream_tracker.py",
    }


def test_a_relative_template_path_works_from_the_command_line(tmp_path: Path) -> None:
    """``cookiecutter .`` in a checkout: the hooks find the kit although cookiecutter only knows it as '.'."""
    output = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output), ".", "run_tests=current"],
        cwd=KIT,
        capture_output=True,
        text=True,
        env={**os.environ, "USERSTREAM_KIT_STRICT": "1", "HOME": str(tmp_path)},  # its replay stays in tmp_path
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "acme: generated in" in result.stdout
    assert "its tests passed" in result.stdout
    assert (output / "acme" / "acme" / "acme_auth.py").is_file()


def test_a_cloned_template_works_as_a_gh_template_would(tmp_path: Path) -> None:
    """``cookiecutter gh:org/userstream-kit`` clones the kit first; a file:// clone of this checkout does the same."""
    if subprocess.run(["git", "-C", str(KIT), "rev-parse"], capture_output=True, check=False).returncode != 0:
        pytest.skip("the kit is not a git checkout")
    config = tmp_path / "config.yaml"
    config.write_text(f"cookiecutters_dir: {tmp_path / 'clones'}\nreplay_dir: {tmp_path / 'replay'}\n")
    output = tmp_path / "out"
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--config-file", str(config)]
    command += ["--output-dir", str(output), f"git+file://{KIT}", "run_tests=current", "exchange=clone_test"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "clone_test: generated in" in result.stdout
    assert "its tests passed" in result.stdout


@pytest.mark.parametrize(
    "answers",
    [generic_answers("rest_token", display_name='Kraken "Pro"\\'), preset_answers("kraken")],
    ids=["generic", "preset"],
)
def test_the_saved_answers_regenerate_the_same_project(
    bake: Callable[..., Path], tmp_path: Path, answers: dict[str, Any]
) -> None:
    """What both READMEs promise: ``--config-file <project>/.cookiecutter.json`` rebuilds the project as it was."""
    first = bake(**answers, run_tests="skip")
    config = tmp_path / "config.json"
    saved = json.loads((first / ".cookiecutter.json").read_text())
    config.write_text(json.dumps({**saved, "replay_dir": str(tmp_path / "replay")}))
    again = Path(cookiecutter(str(KIT), no_input=True, config_file=str(config), output_dir=str(tmp_path / "again")))
    files = sorted(path.relative_to(first) for path in first.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(again) for path in again.rglob("*") if path.is_file())
    for relative in files:
        assert (again / relative).read_bytes() == (first / relative).read_bytes(), relative
