"""What cookiecutter does not check in the answers it is given: a config file's shape, its keys, its choices.

Cookiecutter ignores a key it does not know (``archetyp: listen_key`` generates the default connector), a
config file without ``default_context:`` (its answers are silently unused), and ends a choice outside
its list with a traceback. No hook can see any of it: cookiecutter reads the config file before any of
the template's code runs, and hands on only what it kept. So ``tools/new_connector.py`` reads the config
file and the ``key=value`` answers itself, with `problems`, and calls cookiecutter only when they are right.

Pure apart from reading the kit's own cookiecutter.json files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

COOKIECUTTER_KEYS = frozenset({"default_context", "cookiecutters_dir", "replay_dir", "abbreviations"})
"""The top-level keys cookiecutter reads from a config file."""
KIT_KEYS = frozenset({"preset"})
"""Top-level keys of the kit's own answer files (exchanges/<exchange>/preset.yaml): what the kit knows of the preset."""


def menu(kit_dir: Path) -> list[str]:
    """The kit's menu: the root cookiecutter.json's ``template`` choices, the first the default."""
    root: dict[str, Any] = json.loads((kit_dir / "cookiecutter.json").read_text(encoding="utf-8"))
    entries: list[str] = root["template"]
    return entries


def questions(kit_dir: Path, entry: str) -> Mapping[str, Any]:
    """The public questions of the nested template a menu entry chooses, each with its default or choices."""
    directory = entry[entry.index("(") + 1 : entry.rindex(")")]
    template: dict[str, Any] = json.loads((kit_dir / directory / "cookiecutter.json").read_text(encoding="utf-8"))
    return {key: value for key, value in template.items() if not key.startswith("_")}


def config_problems(config: Any, source: str) -> tuple[list[str], Mapping[str, Any]]:
    """Problems with a config file's shape, and the answers it holds (its ``default_context``)."""
    if not isinstance(config, Mapping):
        return [f"{source}: a config file is a mapping with a default_context: of answers, got {config!r:.60}"], {}
    unknown = sorted(set(config) - COOKIECUTTER_KEYS - KIT_KEYS)
    found = [
        f"{source}: unknown key {key!r} at the top: answers go under default_context:, and cookiecutter's own "
        f"settings are {', '.join(sorted(COOKIECUTTER_KEYS))}"
        for key in unknown
    ]
    answers = config.get("default_context", {})
    if not isinstance(answers, Mapping):
        return [*found, f"{source}: default_context must be a mapping of answers, got {answers!r:.60}"], {}
    if not answers and not found:
        found.append(f"{source}: holds no answers: put them under default_context:")
    return found, answers


def answer_problems(kit_dir: Path, answers: Mapping[str, Any], source: str) -> list[str]:
    """Problems with ``answers`` (a config file's, then the command line's): the menu choice, keys, choices."""
    entries = menu(kit_dir)
    entry = answers.get("template", entries[0])
    if entry not in entries:
        choices = ", ".join(map(repr, entries))
        return [f"{source}: template: {entry!r} is not on the kit's menu; choose one of {choices}"]
    asked = questions(kit_dir, entry)
    found = []
    for key, value in answers.items():
        if key == "template":
            continue
        if key not in asked:
            found.append(f"{source}: {key}: not a question of {entry!r}, which asks {', '.join(asked)}")
            continue
        choices = asked[key]
        if isinstance(choices, list) and value not in choices:
            found.append(f"{source}: {key}: {value!r} is not one of {', '.join(map(str, choices))}")
    return found
