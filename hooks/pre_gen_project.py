"""Check every answer before anything is generated; print one line per problem and stop if there is any.

Cookiecutter renders this file with Jinja before running it. The answers arrive once, as JSON data on
the last lines, and are never pasted into code, so no answer can break this script.

That is not the same as "no answer can inject": cookiecutter itself renders every answer from a config
file or the command line as a Jinja template before any hook runs (an expression in double braces
arrives evaluated, and a template expression can run code). A config file is therefore trusted input, like the template.
What this hook can do is refuse an answer it sees was rendered from template syntax (it compares the
raw answers cookiecutter keeps with what they became), and refuse derived values a config file tried
to set. The same checks of the public answers also run earlier, from the kit's Jinja extension, while
cookiecutter computes the derived values: a bad answer then stops generation before any directory is
made (`hooks.kit_extension`).
"""

from __future__ import annotations

import json
import keyword
import math
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ARCHETYPES = ("login_message", "listen_key", "rest_token", "signed_subscribe", "rest_polling")
ACCOUNT_ARCHETYPES = frozenset(ARCHETYPES) - {"rest_polling"}
"""The generic archetypes whose connector keeps the account (an account module of its own)."""
SIGNATURE_ENCODINGS = ("hex", "base64")
PING_STYLES = ("json", "text", "protocol")
RUN_TESTS = ("auto", "venv", "current", "skip")

# Modules a generated package must not shadow: every top-level module of every distribution the project
# installs (userstream[test,jwt] and ruff, with all they depend on: tests/test_pre_gen_hook.py checks the
# list against the installed metadata), the names pytest uses, and the kit's own.
DEPENDENCY_MODULES = frozenset(
    {
        "_cffi_backend",
        "_pytest",
        "aiohappyeyeballs",
        "aiohttp",
        "aiosignal",
        "attr",
        "attrs",
        "cffi",
        "conftest",
        "cookiecutter",
        "cryptography",
        "frozenlist",
        "hooks",
        "idna",
        "iniconfig",
        "jinja2",
        "msgspec",
        "multidict",
        "orjson",
        "packaging",
        "pluggy",
        "propcache",
        "py",
        "pycparser",
        "pygments",
        "pytest",
        "pytest_asyncio",
        "pytest_timeout",
        "ruff",
        "test",
        "tests",
        "typing_extensions",
        "userstream",
        "yarl",
    }
)
MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*")
MAX_MODULE_NAME = 32
"""Long enough for any exchange; short enough that generated names and lines stay readable."""
PING_INTERVAL_RANGE = (1.0, 300.0)
"""Seconds. Faster is a flood (the connection is declared dead after three intervals of silence); slower
outlives every exchange's idle timeout."""
# Spelled in pieces: cookiecutter renders this file with Jinja, which would read the markers themselves.
TEMPLATE_SYNTAX = tuple("{" + second for second in ("{", "%", "#"))
TEXT_QUESTIONS = ("exchange", "display_name", "description", "ws_url", "rest_url")


TEMPLATES = ("generic/websocket", "generic/rest_polling", "exchanges")
"""The nested templates of the kit's menu (root cookiecutter.json), as ``__template`` names them."""
PRESETS = "exchanges"


def module_name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not MODULE_NAME.fullmatch(name):
        return f"{name!r} is not a lowercase Python module name (letters, digits and _, starting with a letter)"
    if len(name) > MAX_MODULE_NAME:
        return f"{name!r} is longer than {MAX_MODULE_NAME} characters"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword"
    if name in sys.stdlib_module_names:
        return f"{name!r} would shadow the standard library module of that name"
    if name in DEPENDENCY_MODULES:
        return f"{name!r} would shadow a module the connector or its tests import"
    return None


def text_problem(value: Any, *, required: bool) -> str | None:
    if not isinstance(value, str):
        return f"must be text, got {value!r}"
    if required and not value.strip():
        return "must not be empty"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{value!r} holds characters that cannot be written as UTF-8"
    return None


def url_problem(url: Any, schemes: tuple[str, ...]) -> str | None:
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    if not isinstance(url, str) or any(character.isspace() for character in url):
        return f"{url!r} is not a URL (no spaces allowed)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as error:
        return f"{url!r} is not a URL ({error})"
    if parts.scheme not in schemes:
        return f"{url!r} must start with {wanted}"
    if not parts.hostname:
        return f"{url!r} has no host"
    if parts.username is not None or parts.password is not None:
        return f"{url!r} must not carry credentials (user:password@): they would be baked into the code"
    if parts.query or parts.fragment:
        return f"{url!r} must not carry a query or fragment: the connector adds its own"
    return None


def interval_problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return f"must be a number of seconds, got {value!r}"
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return f"must be a number of seconds, got {value!r}"
    if not math.isfinite(seconds) or seconds <= 0:
        return f"must be a positive number of seconds, got {value!r}"
    low, high = PING_INTERVAL_RANGE
    if not low <= seconds <= high:
        return f"must be between {low:g} and {high:g} seconds, got {value!r}"
    return None


def choice_problem(value: Any, choices: tuple[str, ...]) -> str | None:
    return None if value in choices else f"must be one of {', '.join(choices)}; got {value!r}"


def boolean_problem(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


CHECKS: Mapping[str, Callable[[Any], str | None]] = {
    "exchange": module_name_problem,
    "display_name": lambda value: text_problem(value, required=True),
    "description": lambda value: text_problem(value, required=False),
    "archetype": lambda value: choice_problem(value, ARCHETYPES),
    "ws_url": lambda value: url_problem(value, ("ws", "wss")),
    "rest_url": lambda value: url_problem(value, ("http", "https")),
    "passphrase": boolean_problem,
    "signature_encoding": lambda value: choice_problem(value, SIGNATURE_ENCODINGS),
    "ping_style": lambda value: choice_problem(value, PING_STYLES),
    "ping_interval": interval_problem,
    "run_tests": lambda value: choice_problem(value, RUN_TESTS),
}
"""Each question any of the kit's templates asks; a template asks those its flavour uses (a preset: none of
the connector's). Which preset was chosen, cookiecutter itself checks against the menu."""


def answer_problems(answers: Mapping[str, Any]) -> list[str]:
    """Every problem with the answers the template asked for, one line each, named by its question."""
    found = []
    for key, check in CHECKS.items():
        if key in answers:
            problem = check(answers[key])
            if problem is not None:
                found.append(f"{key}: {problem}")
    return found


# --- derived values: cookiecutter.json computes them with these, through the kit's Jinja filters ---------


def class_prefix(answers: Mapping[str, Any]) -> str:
    """The class-name prefix of the exchange module name: ``gate_io`` gives ``GateIo``."""
    return "".join(part.capitalize() for part in str(answers["__exchange"]).split("_"))


def flavour(answers: Mapping[str, Any]) -> str:
    """Where the connector's parts come from: a generic archetype's Jinja parts, or a preset exchange's home."""
    if answers["__template"] == PRESETS:
        return f"exchanges/{answers['__exchange']}"
    return f"archetypes/{answers['__archetype']}"


def account_module(answers: Mapping[str, Any]) -> str:
    """A generic connector's account module name, or "" for an archetype that keeps no account (REST polling).

    A preset's is its home's (`hooks.kit_extension.account_module`).
    """
    return f"{answers['__exchange']}_account" if answers["__archetype"] in ACCOUNT_ARCHETYPES else ""


def derived_problems(answers: Mapping[str, Any], template: Mapping[str, Any]) -> list[str]:
    """Private values that a config file set to something else than the template makes of the answers.

    ``template`` is the chosen nested template's cookiecutter.json; each ``__`` value is rendered again
    from it, with the kit's own extension, and must be what generation got.
    """
    if answers.get("__template") not in TEMPLATES:
        return [f"__template: set by the template and cannot be changed (got {answers.get('__template')!r})"]
    from jinja2 import Environment, StrictUndefined  # cookiecutter's own dependency, in the interpreter running this

    environment = Environment(undefined=StrictUndefined, extensions=["hooks.kit_extension.KitExtension"])
    found = []
    for key, raw in template.items():
        if not key.startswith("__") or isinstance(raw, dict) or key not in answers:
            continue
        expected = environment.from_string(raw).render(cookiecutter=answers) if isinstance(raw, str) else raw
        if answers[key] != expected:
            found.append(f"{key}: set by the template, not an answer (expected {expected!r}, got {answers[key]!r})")
    return found


# --- the raw answers, before cookiecutter rendered them ----------------------------------------------------


def raw_problems(raw: Mapping[str, Any], rendered: Mapping[str, Any], template: Mapping[str, Any]) -> list[str]:
    """Answers that were not what they became: template syntax cookiecutter evaluated, or text given as a list.

    ``raw`` is what the config file or command line said (cookiecutter's ``_cookiecutter``); ``template`` is
    the kit's cookiecutter.json, whose own defaults are templates on purpose.
    """
    found = []
    for key, value in raw.items():
        if key.startswith("_") or value == template.get(key):
            continue
        if key in TEXT_QUESTIONS and not isinstance(value, str):
            found.append(f"{key}: must be text, got {value!r}")
        elif isinstance(value, str) and any(marker in value for marker in TEMPLATE_SYNTAX):
            found.append(
                f"{key}: answers are data, not templates: {value!r} holds template syntax, which cookiecutter "
                f"evaluated (into {rendered.get(key)!r}); remove it (a config file is trusted input, like the template)"
            )
    return found


def problems(
    answers: Mapping[str, Any], raw: Mapping[str, Any] | None = None, template: Mapping[str, Any] | None = None
) -> list[str]:
    """Every problem with ``answers``, one line each.

    Given the nested template's cookiecutter.json and the raw answers they were rendered from, also what
    a config file overrode or smuggled in.
    """
    found = answer_problems(answers)
    if template is not None and not found:
        found += derived_problems(answers, template)
        if raw is not None:
            found += raw_problems(raw, answers, template)
    return found


NOTHING_GENERATED = "userstream-kit: nothing was generated; answer again with the values fixed."


def report(found: list[str]) -> str:
    """The lines that tell the person generating what to fix."""
    return "\n".join([*(f"userstream-kit: {problem}" for problem in found), NOTHING_GENERATED])


def main(answers: Mapping[str, Any], raw: Mapping[str, Any] | None = None, kit_dir: Path | None = None) -> int:
    template = None
    if kit_dir is not None and answers.get("__template") in TEMPLATES:
        template = json.loads((kit_dir / answers["__template"] / "cookiecutter.json").read_text(encoding="utf-8"))
    found = problems(answers, raw, template)
    if found:
        print(report(found), file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    kit_dir = Path(json.loads(r"""[{{ userstream_kit_dir | tojson }}]""")[0])
    sys.path.insert(0, str(kit_dir))  # the kit's extension renders the template's derived values again
    sys.exit(
        main(
            json.loads(r"""{{ cookiecutter | tojson }}"""),
            raw=json.loads(r"""{{ _cookiecutter | default(none) | tojson }}"""),
            kit_dir=kit_dir,
        )
    )
