"""The kit's Jinja extension: safe literals, each flavour's parts, a preset's facts, and the derived values.

Answers are pasted into generated code only through these filters: a display name holding quotes,
backslashes, newlines or any other character must still produce valid, equivalent code.

What a generated project is made of, by flavour (``__template``, set by the nested template chosen in
the kit's menu):

- a generic connector (``generic/websocket``, ``generic/rest_polling``): the shared skeleton, whose Python
  files each take one part of the chosen archetype from ``templates/archetypes/<archetype>/`` (Jinja, shaped
  by the answers);
- a preset (``exchanges``): the same skeleton, whose Python files are the exchange's home,
  ``exchanges/<exchange>/``, copied verbatim (real Python the kit lints, types and tests as it is), and
  whose fixed facts (name, description, archetype...) are that home's ``preset.yaml``.

The derived values (``__class_prefix``, ``__flavour``, ``__account_module``) are computed here, by the
pre-gen hook's own functions (a preset's account module by whether its home has one), so that the hook can
check them against the same definition. Computing the first of them also checks every public answer:
cookiecutter does so after the last question and before it creates the project directory or records the
answers for replay, so a bad answer (an exchange name like
``x/../../y``, or 300 characters long) stops generation with the hook's one-line reasons and nothing written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

from hooks import pre_gen_project

KIT_DIR = Path(__file__).resolve().parent.parent
"""The checkout of the kit that is generating (for a ``gh:`` template, cookiecutter's clone of it)."""
EXCHANGES_DIR = KIT_DIR / "exchanges"
PRESETS = pre_gen_project.PRESETS
LINE_LENGTH = 120
"""The generated projects' (and the kit's) ruff line length."""
"""The ``__template`` of the nested template that generates presets."""


def python_string(value: object) -> str:
    """A Python string literal equal to ``str(value)``, double-quoted as ruff formats it."""
    return json.dumps(str(value), ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def toml_escape(value: object) -> str:
    """``str(value)`` escaped for the inside of a TOML basic string: JSON escapes, plus DEL, which TOML forbids raw.

    The template keeps its quotes (``"{{ ... | toml_escape }}"``) so that it stays valid TOML itself.
    """
    return json.dumps(str(value), ensure_ascii=False)[1:-1].replace("\x7f", "\\u007f")


def from_import(module: str, *names: str) -> str:
    """``from module import a, b`` as ruff formats it: on one line if it fits, else one name a line."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"


def definition(name: str, parameters: str, returns: str = "None", *, indent: str = "", prefix: str = "def") -> str:
    """A ``def`` line as ruff formats it: on one line if it fits; else the parameters on one line of their own;
    else one parameter a line, with a trailing comma. ``parameters`` are comma-separated, without nesting."""
    line = f"{indent}{prefix} {name}({parameters}) -> {returns}:"
    if len(line) <= LINE_LENGTH:
        return line
    inner = f"{indent}    {parameters}"
    if len(inner) <= LINE_LENGTH and "," in parameters:
        return f"{indent}{prefix} {name}(\n{inner}\n{indent}) -> {returns}:"
    exploded = "".join(f"{indent}    {parameter.strip()},\n" for parameter in parameters.split(","))
    return f"{indent}{prefix} {name}(\n{exploded}{indent}) -> {returns}:"


def one_line(value: object) -> str:
    """``value`` with every run of whitespace (newlines included) made one space: for headings and docstrings."""
    return " ".join(str(value).split())


class AnswersRefused(FailedHookException):  # type: ignore[misc]  # cookiecutter ships no types
    """Answers the kit cannot generate from, found before anything is written.

    A `FailedHookException`, as the pre-gen hook's refusal is: cookiecutter's command line prints it as
    it is (one line per problem, no traceback), and callers of `cookiecutter()` see the same exception
    whichever check refused.
    """


def checked_class_prefix(answers: Mapping[str, Any]) -> str:
    """The class-name prefix, once every public answer has passed the pre-gen hook's checks."""
    found = pre_gen_project.answer_problems(answers)
    if found:
        raise AnswersRefused(pre_gen_project.report(found))
    return pre_gen_project.class_prefix(answers)


@cache
def preset_facts(preset: str) -> Mapping[str, Any]:
    """What ``exchanges/<preset>/preset.yaml`` says of the exchange beyond its code."""
    answer_file = EXCHANGES_DIR / preset / "preset.yaml"
    facts: Mapping[str, Any] = yaml.safe_load(answer_file.read_text(encoding="utf-8"))["preset"]
    return facts


def preset_fact(preset: str, name: str) -> Any:
    return preset_facts(preset).get(name)


def account_module(answers: Mapping[str, Any]) -> str:
    """The account module's name, or "" where the connector keeps no account (no such file is written).

    A generic archetype's, as the pre-gen hook defines it; a preset's is its home's ``<exchange>_account.py``,
    if the home has one (a new exchange's home may stream before it parses).
    """
    if answers["__template"] != PRESETS:
        return pre_gen_project.account_module(answers)
    exchange = answers["__exchange"]
    module = f"{exchange}_account"
    return module if (EXCHANGES_DIR / exchange / exchange / f"{module}.py").is_file() else ""


def extras(names: Sequence[str] | None) -> str:
    """userstream's extras as a requirement spells them: ``[jwt]``, or nothing."""
    return f"[{','.join(names)}]" if names else ""


def with_test_extra(extras: str) -> str:
    """``[jwt]`` as ``[test,jwt]``, nothing as ``[test]``: what the project's tests need of userstream."""
    return "[" + ",".join(["test", *filter(None, extras.strip("[]").split(","))]) + "]"


@pass_context
def part(context: Context, name: str) -> str:
    """The content of the file being rendered: its flavour's part ``name``, without trailing newlines.

    A preset's file is its home's file of the same path, verbatim (or, for what every preset has alike,
    ``templates/preset/<name>.py.jinja``); a generic connector's is the Jinja part
    ``templates/<flavour>/<name>.py.jinja``, rendered with the answers. The skeleton's file ends with the
    one newline the result needs.
    """
    answers: Mapping[str, Any] = context["cookiecutter"]
    flavour = answers["__flavour"]
    if answers["__template"] == PRESETS:
        assert context.name is not None  # a file of the skeleton, named by its path in it
        path = context.environment.from_string(context.name).render(cookiecutter=answers)
        home: Path = EXCHANGES_DIR / answers["__exchange"]
        if (home / path).is_file():
            return (home / path).read_text(encoding="utf-8").rstrip("\n")
        flavour = "preset"  # what every preset has alike (its harness, from its fake's dialect)
    template = context.environment.get_template(f"{flavour}/{name}.py.jinja")
    return template.render(context.get_all()).rstrip("\n")


@pass_context
def what_is_left(context: Context) -> str:
    """The generated README's "What is left to do": a preset's, from its preset.yaml; a generic flavour's part."""
    answers: Mapping[str, Any] = context["cookiecutter"]
    if answers["__template"] == PRESETS:
        what: str = preset_fact(answers["__exchange"], "what_is_left")
        return "## What is left to do\n\n" + what.rstrip("\n")
    template = context.environment.get_template(f"{answers['__flavour']}/readme.md.jinja")
    return template.render(context.get_all()).rstrip()


@pass_context
def guarantees(context: Context) -> str:
    """The generated README's "What it guarantees", with the blank line after it: a preset's, from its preset.yaml
    (what the account guarantees on that exchange, and the limits of its API); nothing for a generic flavour,
    whose protocol is the kit's own until the contributor makes it the exchange's."""
    answers: Mapping[str, Any] = context["cookiecutter"]
    if answers["__template"] != PRESETS:
        return ""
    what: str | None = preset_fact(answers["__exchange"], "guarantees")
    return "" if what is None else "## What it guarantees\n\n" + what.rstrip("\n") + "\n\n"


def saved_answers(answers: Mapping[str, Any]) -> str:
    """The project's ``.cookiecutter.json``: the menu's choice and every public answer, as a config file.

    ``run_tests`` is left out: it is how this generation ran, not what the project is, so a project
    regenerated from these answers is the same however its tests are (or are not) run.
    """
    root = json.loads((KIT_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
    [entry] = [entry for entry in root["template"] if entry.endswith(f"({answers['__template']})")]
    public = {key: value for key, value in answers.items() if not key.startswith("_") and key != "run_tests"}
    return json.dumps({"default_context": {"template": entry, **public}}, indent=2, ensure_ascii=False)


class KitExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["python_string"] = python_string
        environment.filters["toml_escape"] = toml_escape
        environment.filters["one_line"] = one_line
        environment.filters["kit_class_prefix"] = checked_class_prefix
        environment.filters["kit_flavour"] = pre_gen_project.flavour
        environment.filters["kit_account_module"] = account_module
        environment.filters["kit_preset"] = preset_fact
        environment.filters["kit_extras"] = extras
        environment.filters["kit_with_test_extra"] = with_test_extra
        environment.filters["kit_saved_answers"] = saved_answers
        environment.globals["kit_part"] = part
        environment.globals["kit_from_import"] = from_import
        environment.globals["kit_def"] = definition
        environment.globals["kit_what_is_left"] = what_is_left
        environment.globals["kit_guarantees"] = guarantees
        environment.globals["userstream_kit_dir"] = str(KIT_DIR)
        # cruft renders the template into a temporary directory to compare versions; no tests belong there.
        environment.globals["kit_under_cruft"] = "cruft" in sys.modules
