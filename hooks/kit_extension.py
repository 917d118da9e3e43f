"""Jinja filters that turn answers into literals safely, and the kit's own location for the hooks.

Answers are pasted into generated code only through these filters: a display name holding quotes,
backslashes, newlines or any other character must still produce valid, equivalent code.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

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


class KitExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["python_string"] = python_string
        environment.filters["toml_escape"] = toml_escape
        environment.filters["one_line"] = one_line
        environment.globals["userstream_kit_dir"] = str(KIT_DIR)
