"""Jinja filters that turn answers into literals safely, the derived values, and the kit's own location.

Answers are pasted into generated code only through these filters: a display name holding quotes,
backslashes, newlines or any other character must still produce valid, equivalent code.

The derived values in cookiecutter.json (``__class_prefix``, ``__flavour``, ``__account_module``) are
computed here, by the pre-gen hook's own functions, so that the hook can check them against the same
definition. Computing the first of them also checks every public answer: cookiecutter does so after the
last question and before it creates the project directory or records the answers for replay, so a bad
answer (an exchange name like ``x/../../y``, or 300 characters long) stops generation with the hook's
one-line reasons and nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment
from jinja2.ext import Extension

from hooks import pre_gen_project

KIT_DIR = Path(__file__).resolve().parent.parent
"""The checkout of the kit that is generating (for a ``gh:`` template, cookiecutter's clone of it)."""


def python_string(value: object) -> str:
    """A Python string literal equal to ``str(value)``, double-quoted as ruff formats it."""
    return json.dumps(str(value), ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def toml_escape(value: object) -> str:
    """``str(value)`` escaped for the inside of a TOML basic string: JSON escapes, plus DEL, which TOML forbids raw.

    The template keeps its quotes (``"{{ ... | toml_escape }}"``) so that it stays valid TOML itself.
    """
    return json.dumps(str(value), ensure_ascii=False)[1:-1].replace("\x7f", "\\u007f")


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


class KitExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["python_string"] = python_string
        environment.filters["toml_escape"] = toml_escape
        environment.filters["one_line"] = one_line
        environment.filters["kit_class_prefix"] = checked_class_prefix
        environment.filters["kit_flavour"] = pre_gen_project.flavour
        environment.filters["kit_account_module"] = pre_gen_project.account_module
        environment.globals["userstream_kit_dir"] = str(KIT_DIR)
