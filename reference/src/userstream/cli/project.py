"""A connector project on disk, as the commands see it: its directory and its tests' harness."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from userstream.testing.contract import ConnectorHarness


class ProjectError(Exception):
    """The path is not a connector project the command can use; the message says why, in one line."""


def project_dir(path: str | Path) -> Path:
    directory = Path(path).resolve()
    if not directory.is_dir():
        raise ProjectError(f"{path}: not a directory")
    if not (directory / "tests").is_dir():
        raise ProjectError(f"{path}: no tests/ directory: is this a connector project?")
    return directory


def load_harness(path: str | Path, spec: str | None = None) -> ConnectorHarness:
    """The project's harness: ``spec`` (``module:Class``, importable from the project or its tests/), else the
    one `ConnectorHarness` subclass defined in ``tests/*_harness.py``."""
    directory = project_dir(path)
    for entry in (str(directory / "tests"), str(directory)):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    if spec is not None:
        module_name, _, class_name = spec.partition(":")
        if not class_name:
            raise ProjectError(f"--harness {spec}: expected module:Class")
        try:
            value = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ProjectError(f"--harness {spec}: {error}") from None
        if not (isinstance(value, type) and issubclass(value, ConnectorHarness)):
            raise ProjectError(f"--harness {spec}: not a ConnectorHarness subclass")
        return value()
    found: list[type[ConnectorHarness]] = []
    for file in sorted((directory / "tests").glob("*_harness.py")):
        module = importlib.import_module(file.stem)
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, ConnectorHarness)
            and value.__module__ == module.__name__
            and not getattr(value, "__abstractmethods__", None)
        ]
    if len(found) != 1:
        names = ", ".join(f"{cls.__module__}:{cls.__name__}" for cls in found) or "none"
        raise ProjectError(
            f"{path}: expected one ConnectorHarness in tests/*_harness.py, found {names}; name it with --harness"
        )
    return found[0]()
