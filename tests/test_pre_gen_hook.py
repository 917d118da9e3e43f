"""The pre-gen hook: every invalid answer stops generation with one clear line naming the question, and nothing
is written."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from baking import KIT, POLLING, preset_answers
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from packaging.requirements import Requirement

from hooks import pre_gen_project as hook

VALID: dict[str, Any] = {
    "exchange": "acme",
    "display_name": "Acme",
    "description": "Acme's user stream",
    "archetype": "login_message",
    "ws_url": "wss://ws.acme.example/private",
    "rest_url": "https://api.acme.example",
    "passphrase": False,
    "signature_encoding": "hex",
    "ping_style": "json",
    "ping_interval": "20",
    "run_tests": "skip",
}

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"exchange": "Acme"}, "exchange: 'Acme' is not a lowercase Python module name"),
    ({"exchange": "1exchange"}, "exchange: '1exchange' is not a lowercase Python module name"),
    ({"exchange": "acme-x"}, "exchange: 'acme-x' is not a lowercase Python module name"),
    ({"exchange": "class"}, "exchange: 'class' is a Python keyword"),
    ({"exchange": "a" * 33}, f"exchange: '{'a' * 33}' is longer than 32 characters"),
    ({"exchange": "match"}, "exchange: 'match' is a Python keyword"),
    ({"exchange": "json"}, "exchange: 'json' would shadow the standard library module of that name"),
    ({"exchange": "asyncio"}, "exchange: 'asyncio' would shadow the standard library module of that name"),
    ({"exchange": "aiohttp"}, "exchange: 'aiohttp' would shadow a module the connector or its tests import"),
    ({"exchange": "userstream"}, "exchange: 'userstream' would shadow a module the connector or its tests import"),
    ({"exchange": "typing_extensions"}, "exchange: 'typing_extensions' would shadow a module the connector or its"),
    ({"exchange": "aiohappyeyeballs"}, "exchange: 'aiohappyeyeballs' would shadow a module the connector or its"),
    ({"exchange": "x/../../y"}, "exchange: 'x/../../y' is not a lowercase Python module name"),
    ({"exchange": "a" * 300}, f"exchange: '{'a' * 300}' is longer than 32 characters"),
    ({"display_name": "   "}, "display_name: must not be empty"),
    ({"archetype": "carrier_pigeon"}, "archetype: must be one of login_message, listen_key"),
    ({"ws_url": "https://ws.acme.example"}, "ws_url: 'https://ws.acme.example' must start with ws:// or wss://"),
    ({"ws_url": "wss://"}, "ws_url: 'wss://' has no host"),
    ({"ws_url": "wss://ws.acme.example/private?token=1"}, "ws_url: 'wss://ws.acme.example/private?token=1' must not"),
    ({"ws_url": "wss://ws acme"}, "ws_url: 'wss://ws acme' is not a URL"),
    ({"ws_url": "wss://user:pw@ws.acme.example"}, "ws_url: 'wss://user:pw@ws.acme.example' must not carry credentials"),
    (
        {"rest_url": "https://key@api.acme.example"},
        "rest_url: 'https://key@api.acme.example' must not carry credentials",
    ),
    ({"rest_url": "ftp://api.acme.example"}, "rest_url: 'ftp://api.acme.example' must start with http:// or https://"),
    ({"rest_url": "https://api.acme.example:99999"}, "rest_url: 'https://api.acme.example:99999' is not a URL"),
    ({"passphrase": "maybe"}, "passphrase: must be true or false"),
    ({"signature_encoding": "rot13"}, "signature_encoding: must be one of hex, base64"),
    ({"ping_style": "smoke"}, "ping_style: must be one of json, text, protocol"),
    ({"ping_interval": "0"}, "ping_interval: must be a positive number of seconds, got '0'"),
    ({"ping_interval": "-5"}, "ping_interval: must be a positive number of seconds"),
    ({"ping_interval": "soon"}, "ping_interval: must be a number of seconds, got 'soon'"),
    ({"ping_interval": "nan"}, "ping_interval: must be a positive number of seconds"),
    ({"ping_interval": "inf"}, "ping_interval: must be a positive number of seconds"),
    ({"ping_interval": "1e-9"}, "ping_interval: must be between 1 and 300 seconds, got '1e-9'"),
    ({"ping_interval": "0.5"}, "ping_interval: must be between 1 and 300 seconds, got '0.5'"),
    ({"ping_interval": "301"}, "ping_interval: must be between 1 and 300 seconds, got '301'"),
    ({"ping_interval": "1e300"}, "ping_interval: must be between 1 and 300 seconds, got '1e300'"),
    ({"run_tests": "always"}, "run_tests: must be one of auto, venv, current, skip"),
]


@pytest.mark.parametrize(("change", "message"), INVALID, ids=[message.split(":")[0] for _, message in INVALID])
def test_an_invalid_answer_is_named_in_one_line(change: dict[str, Any], message: str) -> None:
    problems = hook.problems({**VALID, **change})
    assert any(problem.startswith(message) for problem in problems), problems
    assert all("\n" not in problem for problem in problems)


def test_valid_answers_and_a_preset_pass() -> None:
    assert hook.problems(VALID) == []
    for interval in ("1", "300", 15, "2.5"):
        assert hook.problems({**VALID, "ping_interval": interval}) == [], interval
    assert hook.problems({"preset": "okx", "run_tests": "auto"}) == [], "a preset asks for nothing else"


def test_several_problems_are_all_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert hook.main({**VALID, "exchange": "json", "ws_url": "http://x", "ping_interval": "-1"}) == 1
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:3]] == ["exchange", "ws_url", "ping_interval"]
    assert "nothing was generated" in lines[-1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"exchange": "json"}, "exchange: 'json' would shadow the standard library module of that name"),
        ({"exchange": "x/../../y"}, "exchange: 'x/../../y' is not a lowercase Python module name"),
        ({"exchange": "a" * 300}, "is longer than 32 characters"),
        ({"ws_url": "http://ws.acme.example"}, "ws_url: 'http://ws.acme.example' must start with ws:// or wss://"),
        ({"ping_interval": "-1"}, "ping_interval: must be a positive number of seconds, got '-1'"),
        ({"template": POLLING, "rest_url": "https://user:pw@api.acme.example"}, "rest_url: 'https://user:pw@api"),
    ],
)
def test_cookiecutter_stops_before_writing_anything(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    output = tmp_path / "out" / "deeper"
    output.mkdir(parents=True)
    with pytest.raises(FailedHookException) as refused:
        cookiecutter(
            str(KIT),
            no_input=True,
            output_dir=str(output),
            extra_context={"run_tests": "skip", **change},
            default_config={"replay_dir": str(tmp_path / "replay")},
        )
    lines = str(refused.value).splitlines()
    assert any(line.startswith("userstream-kit: ") and message in line for line in lines), lines
    assert lines[-1] == hook.NOTHING_GENERATED
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == [Path("out"), Path("out/deeper")]


def test_the_command_line_refuses_in_one_line_per_problem_without_a_traceback(tmp_path: Path) -> None:
    answers = ["exchange=x/../../y", "ping_interval=1e-9", "run_tests=skip"]
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path), str(KIT), *answers],
        capture_output=True,
        text=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "userstream-kit: exchange: 'x/../../y' is not a lowercase Python module name "
        "(letters, digits and _, starting with a letter)",
        "userstream-kit: ping_interval: must be between 1 and 300 seconds, got '1e-9'",
        hook.NOTHING_GENERATED,
    ]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "no project directory, and no replay file in the user's home"


class Refused:
    """A generation that was refused: the kit's lines, from the early check's exception or the hook's stderr."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def says(self, message: str) -> bool:
        return any(line.startswith(f"userstream-kit: {message}") for line in self.lines)


def bake_from_config(tmp_path: Path, answers: dict[str, Any], capfd: pytest.CaptureFixture[str]) -> Refused | Path:
    """Generate from a config file, as ``cookiecutter --config-file`` does: the refusal, or the project."""
    config = tmp_path / "answers.yaml"
    config.write_text(yaml.safe_dump({"default_context": answers, "replay_dir": str(tmp_path / "replay")}))
    output = tmp_path / "out"
    output.mkdir()
    capfd.readouterr()
    try:
        return Path(cookiecutter(str(KIT), no_input=True, config_file=str(config), output_dir=str(output)))
    except FailedHookException as refused:
        assert list(output.iterdir()) == [], "nothing written"
        return Refused(str(refused).splitlines() + capfd.readouterr().err.splitlines())


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"__class_prefix": "X(); import os #"}, "__class_prefix: set by the template, not an answer"),
        ({"__flavour": "../../../../etc"}, "__flavour: set by the template, not an answer"),
        ({"__account_module": "acme_constants"}, "__account_module: set by the template, not an answer"),
        ({"display_name": [1, 2]}, "display_name: must be text, got [1, 2]"),
        ({"description": "{{ 7 * 7 }}"}, "description: answers are data, not templates: '{{ 7 * 7 }}' holds"),
        ({"ws_url": "wss://ws.{{ 7 * 7 }}.example"}, "ws_url: answers are data, not templates"),
        ({"display_name": "{% raw %}Acme{% endraw %}"}, "display_name: answers are data, not templates"),
        ({"description": "{# a comment #}"}, "description: answers are data, not templates"),
    ],
    ids=["class prefix", "flavour", "account module", "list", "expression", "url", "raw", "comment"],
)
def test_a_config_file_cannot_set_derived_values_or_smuggle_templates(
    tmp_path: Path, answers: dict[str, Any], message: str, capfd: pytest.CaptureFixture[str]
) -> None:
    refused = bake_from_config(tmp_path, {"run_tests": "skip", **answers}, capfd)
    assert isinstance(refused, Refused)
    assert refused.says(message), refused.lines


def test_a_refused_template_answer_names_what_cookiecutter_made_of_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    refused = bake_from_config(tmp_path, {"run_tests": "skip", "description": "{{ 7 * 7 }}"}, capfd)
    assert isinstance(refused, Refused)
    assert refused.says(
        "description: answers are data, not templates: '{{ 7 * 7 }}' holds template syntax, which "
        "cookiecutter evaluated (into '49'); remove it (a config file is trusted input, like the template)"
    )


def test_a_preset_and_the_answers_a_project_saved_generate_from_a_config_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = bake_from_config(tmp_path, {**preset_answers("okx"), "run_tests": "skip"}, capfd)
    assert isinstance(project, Path)
    saved = json.loads((project / ".cookiecutter.json").read_text())["default_context"]
    again = tmp_path / "again"
    again.mkdir()
    assert isinstance(bake_from_config(again, saved, capfd), Path)


def distribution_modules(name: str, extras: frozenset[str] = frozenset(), seen: set[str] | None = None) -> set[str]:
    """The top-level modules of distribution ``name`` and of everything it requires, as installed here."""
    seen = set() if seen is None else seen
    key = name.lower().replace("-", "_")
    if key in seen:
        return set()
    seen.add(key)
    distribution = importlib.metadata.distribution(name)
    top_level = distribution.read_text("top_level.txt")
    if top_level:
        modules = set(top_level.split())
    else:
        modules = {
            Path(str(file)).parts[0].removesuffix(".py")
            for file in distribution.files or []
            if not Path(str(file)).parts[0].endswith((".dist-info", ".data", ".pth"))
            and ".." not in str(file)
            and str(file).endswith((".py", ".so", ".pyi", ".typed"))
        }
    for requirement in map(Requirement, distribution.requires or []):
        wanted = requirement.marker is None or any(
            requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""})
        )
        if wanted:
            modules |= distribution_modules(requirement.name, frozenset(requirement.extras), seen)
    return modules


def test_no_module_a_generated_project_installs_can_be_shadowed() -> None:
    installed = distribution_modules("userstream", frozenset({"test", "jwt"})) | distribution_modules("ruff")
    assert {"aiohttp", "yarl", "pytest", "cryptography", "ruff"} <= installed, "the closure was walked"
    public = {module for module in installed if module.isidentifier() and not module.startswith("__")}
    assert public - hook.DEPENDENCY_MODULES == set()
