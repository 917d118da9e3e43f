"""README.md is part of the product: its Quickstart contract holds and its code examples run."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from userstream.testing import FakeExchange

README = (Path(__file__).parent.parent / "README.md").read_text()


def fenced_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.DOTALL | re.MULTILINE)


def quickstart_section() -> str:
    match = re.search(r"^## Quickstart\n(.*?)(?=^## )", README, flags=re.DOTALL | re.MULTILINE)
    assert match, "README.md has no '## Quickstart' section"
    return match.group(1)


def test_the_quickstart_is_exactly_two_commands_in_one_bash_block() -> None:
    blocks = re.findall(r"^```bash\n(.*?)^```$", quickstart_section(), flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) == 1
    commands = [line for line in blocks[0].splitlines() if line.strip()]
    assert len(commands) == 2, commands


def test_every_python_example_compiles() -> None:
    blocks = fenced_blocks("python")
    assert len(blocks) >= 5
    for block in blocks:
        compile(block, "README.md", "exec")


async def test_the_walkthrough_connector_streams_from_the_fake_exchange(fake_exchange: FakeExchange) -> None:
    auth_block, data_source_block, _running, _timings, test_block = fenced_blocks("python")
    namespace: dict[str, Any] = {}
    exec(auth_block, namespace)
    exec(data_source_block, namespace)
    exec("import asyncio\n" + test_block, namespace)
    await namespace["test_reconnects_after_a_drop"](fake_exchange)
    assert len(fake_exchange.connections) == 2
    assert asyncio.current_task() is not None


@pytest.mark.parametrize("path", ["docs/architecture.md", "reference/README.md"])
def test_linked_docs_exist(path: str) -> None:
    assert (Path(__file__).parent.parent / path).is_file()
