"""Check every answer before anything is generated; print one line per problem and stop if there is any.

Cookiecutter renders this file with Jinja before running it. The answers arrive once, as JSON
data on the last line, and are never pasted into code, so no answer can break or inject into it.
"""

from __future__ import annotations

import json
import keyword
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ARCHETYPES = ("login_message", "listen_key", "rest_token", "signed_subscribe", "rest_polling")
SIGNATURE_ENCODINGS = ("hex", "base64")
PING_STYLES = ("json", "text", "protocol")
RUN_TESTS = ("auto", "venv", "current", "skip")

# Modules a generated package must not shadow: the ones it or its tests import, and the names pytest uses.
DEPENDENCY_MODULES = frozenset(
    {
        "aiohttp",
        "aiosignal",
        "attr",
        "attrs",
        "conftest",
        "cookiecutter",
        "cryptography",
        "frozenlist",
        "hooks",
        "jinja2",
        "multidict",
        "propcache",
        "pytest",
        "pytest_asyncio",
        "pytest_timeout",
        "ruff",
        "test",
        "tests",
        "userstream",
        "yarl",
    }
)
MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*")
MAX_MODULE_NAME = 32
"""Long enough for any exchange; short enough that generated names and lines stay readable."""


@dataclass(frozen=True)
class ExchangeProtocol:
    """What a real exchange's protocol fixes; None where the answer is the user's to choose."""

    archetype: str
    passphrase: bool
    ping_style: str
    signature_encoding: str | None


PROTOCOLS: Mapping[str, ExchangeProtocol] = {
    "binance": ExchangeProtocol("signed_subscribe", passphrase=False, ping_style="protocol", signature_encoding="hex"),
    "binance_futures": ExchangeProtocol("listen_key", passphrase=False, ping_style="protocol", signature_encoding=None),
    "okx": ExchangeProtocol("login_message", passphrase=True, ping_style="text", signature_encoding="base64"),
    "bybit": ExchangeProtocol("login_message", passphrase=False, ping_style="json", signature_encoding="hex"),
    "kucoin": ExchangeProtocol("rest_token", passphrase=True, ping_style="json", signature_encoding="base64"),
    "gate_io": ExchangeProtocol("signed_subscribe", passphrase=False, ping_style="json", signature_encoding="hex"),
    "kraken": ExchangeProtocol("rest_token", passphrase=False, ping_style="json", signature_encoding="base64"),
    "coinbase_advanced_trade": ExchangeProtocol(
        "signed_subscribe", passphrase=False, ping_style="protocol", signature_encoding=None
    ),
}
GENERIC = "generic"
"""The ``_protocol`` of a connector built from an archetype's own questions rather than a preset."""


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
    return None


def choice_problem(value: Any, choices: tuple[str, ...]) -> str | None:
    return None if value in choices else f"must be one of {', '.join(choices)}; got {value!r}"


def boolean_problem(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def protocol_problems(answers: Mapping[str, Any]) -> list[str]:
    """A preset's exchange fixes some answers; say which ones contradict it."""
    name = answers.get("_protocol", GENERIC)
    if name == GENERIC:
        return []
    protocol = PROTOCOLS.get(name)
    if protocol is None:
        return [f"_protocol: unknown exchange protocol {name!r}; known: {', '.join([GENERIC, *PROTOCOLS])}"]
    fixed = {
        "archetype": protocol.archetype,
        "passphrase": protocol.passphrase,
        "ping_style": protocol.ping_style,
        "signature_encoding": protocol.signature_encoding,
    }
    return [
        f"{key}: {name} uses {expected!r}, got {answers.get(key)!r}"
        for key, expected in fixed.items()
        if expected is not None and answers.get(key) != expected
    ]


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


def problems(answers: Mapping[str, Any]) -> list[str]:
    """Every problem with ``answers``, one line each, named by the question it concerns."""
    found = []
    for key, check in CHECKS.items():
        if key not in answers:
            found.append(f"{key}: missing")
            continue
        problem = check(answers[key])
        if problem is not None:
            found.append(f"{key}: {problem}")
    return found + protocol_problems(answers)


def main(answers: Mapping[str, Any]) -> int:
    found = problems(answers)
    for problem in found:
        print(f"userstream-kit: {problem}", file=sys.stderr)
    if found:
        print("userstream-kit: nothing was generated; answer again with the values fixed.", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
