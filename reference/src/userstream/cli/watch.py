"""``userstream watch``: a live terminal view of a connector's balances, open orders and connection.

``--fake`` runs the connector against its project's own fake exchange on 127.0.0.1 while simulated trading moves
the account (`userstream.cli.simulation`). Without it the connector signs with credentials from the environment
(USERSTREAM_API_KEY, USERSTREAM_API_SECRET, USERSTREAM_API_PASSPHRASE), never from the command line, where other
users and the shell's history would see them.

The view is redrawn as messages arrive (at most `MAX_FRAME_RATE` times a second) and ``--refresh`` times a
second meanwhile, so ages keep moving. To a stdout that is not a terminal only the final view is written, as
plain text. ``--duration`` ends the watch by itself (exit 0); SIGINT (Ctrl-C) or SIGTERM ends it too, after
stopping the tracker, with the shell's code for that signal (130, 143), so a script can tell an interrupted
watch from a completed one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from userstream.cli.project import ProjectError, load_harness
from userstream.redaction import origin
from userstream.testing.contract import ConnectorHarness
from userstream.testing.dialect import Credentials
from userstream.tracker import UserStreamTracker

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from userstream.cli.simulation import Simulation

API_KEY_VARIABLE = "USERSTREAM_API_KEY"
API_SECRET_VARIABLE = "USERSTREAM_API_SECRET"
API_PASSPHRASE_VARIABLE = "USERSTREAM_API_PASSPHRASE"
DEFAULT_REFRESH = 4.0
"""Redraws a second when nothing arrives: the age of ``last_recv_time`` and the message rate keep moving."""
MAX_FRAME_RATE = 20.0
"""Redraws a second at most, however fast messages arrive."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
COMMAND = "userstream watch"
DESCRIPTION = (
    "A live terminal view of a connector's balances, open orders and connection. With --fake it runs against "
    "the project's own fake exchange, with simulated trading; without it, against the exchange, signing with "
    f"the credentials in {API_KEY_VARIABLE}, {API_SECRET_VARIABLE} and (for keys that have one) "
    f"{API_PASSPHRASE_VARIABLE}. --duration S stops after S seconds (exit 0); Ctrl-C stops it too (exit 130). "
    "Either way the last view stays on the screen; to a stdout that is not a terminal only that view is written."
)


class WatchError(Exception):
    """The watch cannot start; the message says why, in one line."""


def register(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "watch",
        help="a live view of a connector's balances, open orders and connection",
        description=DESCRIPTION,
    )
    add_arguments(command, default_path=Path("."))
    command.set_defaults(run=run, command_name=COMMAND)


def add_arguments(command: argparse.ArgumentParser, *, default_path: Path) -> None:
    command.add_argument(
        "path", nargs="?", default=str(default_path), metavar="PATH", help=f"the project (default: {default_path})"
    )
    command.add_argument(
        "--harness", metavar="MODULE:CLASS", help="the project's ConnectorHarness, if tests/*_harness.py has not one"
    )
    command.add_argument(
        "--fake", action="store_true", help="run against the project's fake exchange, with simulated trading"
    )
    command.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S seconds (exit 0)")
    command.add_argument(
        "--refresh",
        type=positive_seconds,
        default=DEFAULT_REFRESH,
        metavar="HZ",
        help=f"redraws a second while nothing arrives (default: {DEFAULT_REFRESH:g})",
    )


def main_for_project(project: Path, argv: Sequence[str] | None = None, *, prog: str) -> int:
    """``python -m <package> ...`` of a generated project: its ``watch`` command, PATH defaulting to ``project``."""
    commands = argparse.ArgumentParser(prog=prog, description="This connector's tools.")
    subcommands = commands.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = subcommands.add_parser(
        "watch", help="a live view of the account's balances, open orders and connection", description=DESCRIPTION
    )
    add_arguments(command, default_path=project)
    command.set_defaults(command_name=f"{prog} watch")
    return run(commands.parse_args(argv))


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def run(arguments: argparse.Namespace) -> int:
    name = getattr(arguments, "command_name", COMMAND)
    try:
        return watch(arguments)
    except (ProjectError, WatchError) as error:
        sys.stderr.write(f"{name}: {error}\n")
        return 2
    except KeyboardInterrupt:  # before the loop handles the signal itself, or where it cannot (Windows)
        return 128 + signal.SIGINT


def watch(arguments: argparse.Namespace) -> int:
    harness = load_harness(arguments.path, arguments.harness)
    credentials = None if arguments.fake else credentials_from(os.environ, passphrase=_has_passphrase(harness))
    try:
        from rich.console import Console
    except ImportError:
        raise WatchError("needs rich: pip install 'userstream[watch]'") from None
    terminal = sys.stdout.isatty()
    console = Console(force_terminal=terminal, highlight=False)
    settings = _Settings(console, terminal, arguments.duration, arguments.refresh)
    if credentials is None:
        return asyncio.run(_watch_fake(harness, settings))
    return asyncio.run(_watch_exchange(harness, credentials, settings))


def credentials_from(environment: Mapping[str, str], *, passphrase: bool) -> Credentials:
    """The account's credentials from ``environment``; `WatchError` naming every variable that is missing."""
    names = [API_KEY_VARIABLE, API_SECRET_VARIABLE, *([API_PASSPHRASE_VARIABLE] if passphrase else [])]
    missing = [name for name in names if not environment.get(name)]
    if missing:
        raise WatchError(
            f"set {' and '.join(missing)} in the environment to watch the exchange (or use --fake); "
            "credentials are never read from the command line"
        )
    return Credentials(
        api_key=environment[API_KEY_VARIABLE],
        secret=environment[API_SECRET_VARIABLE],
        passphrase=environment[API_PASSPHRASE_VARIABLE] if passphrase else None,
    )


def _has_passphrase(harness: ConnectorHarness) -> bool:
    # The account the fake accepts is shaped like the exchange's: a passphrase there means the keys carry one.
    return harness.credentials().passphrase is not None


@dataclass(frozen=True)
class _Settings:
    console: Console
    terminal: bool
    """stdout is a terminal: the view is live there; elsewhere only the final one is written."""
    duration: float | None
    refresh: float


async def _watch_fake(harness: ConnectorHarness, settings: _Settings) -> int:
    from userstream.cli.simulation import simulated_trading
    from userstream.testing.fake_exchange import FakeExchange

    async with FakeExchange(harness.dialect(), harness.credentials()) as exchange:
        harness.install(exchange)
        simulation = simulated_trading(harness, exchange, random.Random())
        source = harness.data_source_class
        data_source = harness.data_source(
            exchange,
            harness.credentials(),
            timings=source.DEFAULT_TIMINGS,
            reconnect=source.DEFAULT_RECONNECT,
        )
        trading = "simulated trading" if simulation else "no simulated trading for this harness"
        heading = (source.__name__, f"fake exchange at {urlsplit(exchange.rest_url).netloc}, {trading}")
        return await _show(UserStreamTracker(data_source, typed_events=True), heading, settings, simulation)


async def _watch_exchange(harness: ConnectorHarness, credentials: Credentials, settings: _Settings) -> int:
    data_source = harness.data_source_class(harness.auth(credentials))
    heading = (type(data_source).__name__, origin(data_source.ws_url))
    return await _show(UserStreamTracker(data_source, typed_events=True), heading, settings, None)


async def _show(
    tracker: UserStreamTracker, heading: tuple[str, str], settings: _Settings, simulation: Simulation | None
) -> int:
    """Run ``tracker`` and draw it until the duration passes or a stop signal arrives; the exit code."""
    from userstream.cli.watch_view import MessageRate, render, snapshot

    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    ending: list[int] = []
    """The exit code, once something ended the watch."""

    def end(code: int) -> None:
        ending.append(code)
        changed.set()

    rate = MessageRate()

    async def read_messages() -> None:  # a consumer must read both queues: an unread one only grows
        while True:
            await tracker.user_stream.get()
            rate.record(time.monotonic())
            changed.set()

    async def read_events() -> None:
        while True:
            await tracker.account_events.get()
            changed.set()

    def current() -> RenderableType:
        return render(
            snapshot(heading, tracker.status, tracker.account, rate.per_second(time.monotonic()), time.time())
        )

    tasks = [asyncio.create_task(read_messages()), asyncio.create_task(read_events())]
    timer = None if settings.duration is None else loop.call_later(settings.duration, end, 0)
    with _stop_signals(loop, end):
        await tracker.start()
        if simulation is not None:
            tasks.append(asyncio.create_task(simulation()))
        with _screen(settings) as draw:
            try:
                while not ending:
                    draw(current())
                    await asyncio.sleep(1 / MAX_FRAME_RATE)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(max(1 / settings.refresh - 1 / MAX_FRAME_RATE, 0)):
                            await changed.wait()
                    changed.clear()
                final = current()
                draw(final)
            finally:
                await tracker.stop()
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks)
                if timer is not None:
                    timer.cancel()
    if not settings.terminal:
        with settings.console.capture() as captured:
            settings.console.print(final)
        sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    return ending[0]


@contextlib.contextmanager
def _screen(settings: _Settings) -> Iterator[Callable[[RenderableType], None]]:
    """``draw(renderable)``: redraws the live view on a terminal; elsewhere nothing (the caller prints the last)."""
    if not settings.terminal:
        yield lambda renderable: None
        return
    from rich.live import Live

    with Live(console=settings.console, auto_refresh=False) as live:
        yield lambda renderable: live.update(renderable, refresh=True)


@contextlib.contextmanager
def _stop_signals(loop: asyncio.AbstractEventLoop, end: Callable[[int], None]) -> Iterator[None]:
    """SIGINT and SIGTERM end the watch (exit code 128 + the signal) instead of interrupting it anywhere.

    A signal ignored when the watch started (SIGINT in a script's background job) stays ignored.
    """
    handled = []
    for number in STOP_SIGNALS:
        if signal.getsignal(number) is signal.SIG_IGN:
            continue
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no loop signal handlers: Windows
            loop.add_signal_handler(number, end, 128 + number)
            handled.append(number)
    try:
        yield
    finally:
        for number in handled:
            loop.remove_signal_handler(number)
