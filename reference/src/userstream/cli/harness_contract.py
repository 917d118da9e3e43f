"""The connector contract against one harness: the test module `userstream check --harness` has pytest run.

Collected as ``--pyargs userstream.cli.harness_contract`` in the project's directory, with the harness's
``module:Class`` in the environment variable ``USERSTREAM_CHECK_HARNESS``; it holds one test class, inheriting
the contracts that fit the harness's kind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from userstream.cli.check import HARNESS_VARIABLE, contracts_for
from userstream.cli.project import load_harness
from userstream.testing.contract import ConnectorHarness


def harness_fixture(harness_class: type[ConnectorHarness]) -> Any:
    """The contract's ``harness`` fixture, building ``harness_class``."""

    @pytest.fixture(name="harness")
    def harness(self: object) -> ConnectorHarness:
        return harness_class()

    return harness


HARNESS_CLASS = type(load_harness(Path.cwd(), os.environ[HARNESS_VARIABLE]))
TestHarnessContract = type(
    "TestHarnessContract", contracts_for(HARNESS_CLASS), {"harness": harness_fixture(HARNESS_CLASS)}
)
