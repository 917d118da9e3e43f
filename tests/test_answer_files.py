"""Bad answers cookiecutter lets through, caught by ``tools/new_connector.py``: one line each, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from baking import KIT

NEW_CONNECTOR = KIT / "tools" / "new_connector.py"


def new_connector(tmp_path: Path, *arguments: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(NEW_CONNECTOR), "--no-input", "--output-dir", str(tmp_path / "out")]
    if config is not None:
        (tmp_path / "answers.yaml").write_text(config)
        command += ["--config-file", str(tmp_path / "answers.yaml")]
    environment = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}  # cookiecutter's replay stays in tmp_path
    return subprocess.run([*command, *arguments], capture_output=True, text=True, env=environment, check=False)


@pytest.mark.parametrize(
    ("config", "arguments", "message"),
    [
        ("default_context:\n  archetyp: listen_key\n", [], "answers.yaml: archetyp: not a question of 'websocket"),
        ("default_context:\n  ws_ulr: wss://x.example\n", [], "answers.yaml: ws_ulr: not a question of 'websocket"),
        ("exchange: foo\narchetype: listen_key\n", [], "answers.yaml: unknown key 'archetype' at the top"),
        ("- exchange: foo\n", [], "answers.yaml: a config file is a mapping with a default_context: of answers"),
        ("default_context: [exchange]\n", [], "answers.yaml: default_context must be a mapping of answers"),
        (
            "default_context:\n  archetype: carrier_pigeon\n",
            [],
            "answers.yaml: archetype: 'carrier_pigeon' is not one of",
        ),
        (
            "default_context:\n  template: preset (exchanges)\n  preset: mtgox\n",
            [],
            "answers.yaml: preset: 'mtgox' is not one of binance,",
        ),
        ("default_context:\n  template: mtgox\n", [], "answers.yaml: template: 'mtgox' is not on the kit's menu"),
        ("default_context: {exchange: [", [], "answers.yaml: is not YAML"),
        (None, ["template=preset (exchanges)", "preset=mtgox"], "command line: preset: 'mtgox' is not one of"),
        (None, ["archetyp=listen_key"], "command line: archetyp: not a question of 'websocket"),
        (None, ["exchange"], "command line: 'exchange' is not key=value"),
        (
            "default_context:\n  template: preset (exchanges)\n  preset: okx\n",
            ["archetype=listen_key"],
            "command line: archetype: not a question of 'preset (exchanges)', which asks preset, run_tests",
        ),
    ],
    ids=[
        "unknown key",
        "misspelt url",
        "no default_context",
        "not a mapping",
        "default_context not a mapping",
        "outside a choice",
        "unknown preset",
        "unknown template",
        "not yaml",
        "unknown preset on the command line",
        "unknown key on the command line",
        "not key=value",
        "a question the preset does not ask",
    ],
)
def test_a_bad_answer_is_named_in_one_line_and_nothing_is_written(
    tmp_path: Path, config: str | None, arguments: list[str], message: str
) -> None:
    result = new_connector(tmp_path, *arguments, config=config)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("new_connector: ") and message in line for line in lines), lines
    assert lines[-1] == "new_connector: nothing was generated."
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_answer_file_that_is_missing_is_named(tmp_path: Path) -> None:
    command = [sys.executable, str(NEW_CONNECTOR), "--config-file", str(tmp_path / "absent.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[0]
        == f"new_connector: {tmp_path / 'absent.yaml'}: cannot be read (No such file or directory)"
    )


def test_good_answers_generate_the_connector(tmp_path: Path) -> None:
    answer_file = (KIT / "exchanges" / "okx" / "preset.yaml").read_text()
    result = new_connector(tmp_path, "run_tests=skip", config=answer_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "okx" / "okx" / "okx_constants.py").is_file()
    assert result.stdout.splitlines()[-1] == f"new_connector: {tmp_path / 'out' / 'okx'}"


def test_a_value_the_kit_refuses_after_cookiecutter_is_reported_without_a_traceback(tmp_path: Path) -> None:
    result = new_connector(tmp_path, "exchange=json", "run_tests=skip")
    assert result.returncode == 1
    assert "exchange: 'json' would shadow the standard library module of that name" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
