"""README.md is part of the product: its Quickstart contract holds and its code examples run."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from userstream import MarketAuth
from userstream.testing import FakeExchange
from userstream.testing.dialects import binance_futures as futures

README = (Path(__file__).parent.parent / "README.md").read_text()


def fenced_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.DOTALL | re.MULTILINE)


def python_block(containing: str) -> str:
    """The one Python example in README.md that contains ``containing``."""
    matches = [block for block in fenced_blocks("python") if containing in block]
    assert len(matches) == 1, f"expected one README example containing {containing!r}, found {len(matches)}"
    return matches[0]


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
    namespace: dict[str, Any] = {}
    exec(python_block("class AcmeAuth(MarketAuth)"), namespace)
    exec(python_block("class AcmeAPIUserStreamDataSource(UserStreamTrackerDataSource):\n    def login"), namespace)
    exec("import asyncio\n" + python_block("async def test_reconnects_after_a_drop"), namespace)
    await namespace["test_reconnects_after_a_drop"](fake_exchange)
    assert len(fake_exchange.connections) == 2
    assert asyncio.current_task() is not None


async def test_the_archetype_example_streams_from_the_binance_futures_fake() -> None:
    namespace: dict[str, Any] = {}
    exec(python_block("class BinanceFuturesUserStreamDataSource(ListenKeyDataSource)"), namespace)
    async with FakeExchange(futures.BinanceListenKeyDialect()) as exchange:
        keys = futures.install(exchange)
        data_source = namespace["BinanceFuturesUserStreamDataSource"](
            MarketAuth("test-api-key", "test-secret"),
            ws_url=exchange.ws_url.removesuffix("/ws") + "/ws",
            rest_url=exchange.rest_url,
        )
        output: asyncio.Queue[Any] = asyncio.Queue()
        listener = asyncio.create_task(data_source.listen_for_user_stream(output))
        await exchange.wait_until(lambda: exchange.open_connections == 1, what="a connection")
        await exchange.push(futures.order_trade_update())
        async with asyncio.timeout(3):
            message = await output.get()
        await data_source.stop()
    assert message["e"] == "ORDER_TRADE_UPDATE"
    assert listener.cancelled()
    assert len(keys.issued) == 1  # one key minted, carried in the URL of the one connection
    assert exchange.connections[0].path == f"/ws/{keys.issued[0]}"
    assert keys.closed == keys.issued  # stop() deleted it


@pytest.mark.parametrize("path", ["docs/architecture.md", "reference/README.md"])
def test_linked_docs_exist(path: str) -> None:
    assert (Path(__file__).parent.parent / path).is_file()
