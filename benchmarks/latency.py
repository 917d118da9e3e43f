"""Where the paced stream's latency goes: the part userstream adds, and what makes the slowest 1 %.

`throughput.py` measures latency end to end: from the feed's send stamp to the consumer taking the message off
its queue. On a shared machine that figure moves by more from run to run than userstream adds, so this script
splits it, for the same clients on the same paced streams (``--rate`` frames a second for ``--seconds``, the
clients taking turns, their order swapped every round):

- **to receive()**: from the send stamp until aiohttp's ``ClientWebSocketResponse.receive`` returns the frame in
  the client process (the server's write, the kernel, the client's wake-up); the same code for every client;
- **in process**: from there until the consumer has the message (decode, classify, queue, the consumer's turn):
  the only part that differs between a raw loop and userstream.

``receive`` is wrapped for the run to stamp every text frame; the wrapper is the same for every client, and so
are the other two instruments: a task that wakes every `TICK` seconds and records the wall and CPU clocks (a gap
in its ticks means the event loop did not run), and ``gc.callbacks`` timing every collection.

Each message of the slowest 1 % (end to end, at or above the stream's p99) is put down to the first of:

- ``gc``: a collection ran while it was under way;
- ``descheduled``: the loop stalled (its ticks stopped for at least half the message's latency) while the process
  used less than half of that time on a CPU: the operating system ran something else;
- ``busy``: the loop stalled while the process was on a CPU: the client's own work;
- ``before``: the loop did not stall: the frame reached the process late (the server, the kernel).

It prints the machine, a table (the medians over the rounds), then last::

    in_process_p50_added_us=<…> in_process_p99_added_us=<…> tail_descheduled_pct=<…>

(userstream's in-process p50 and p99 less orjson's in the same round, the median over the rounds; and the share of
userstream's slowest 1 % put down to ``descheduled``). Usage::

    python benchmarks/latency.py
    python benchmarks/latency.py --rounds 2 --seconds 1
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import operator
import statistics
import sys
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from _bench_client import (
    describe_machine,
    median_added,
    percentile,
    positive_float,
    positive_int,
    quiet_logging,
    significant,
)
from _binance_feed import FeedServer
from throughput import CLIENTS, Recording, stream_once

TICK = 0.001
"""Seconds between the loop-watching task's wake-ups."""
CAUSES = ("gc", "descheduled", "busy", "before")


@dataclass
class Instruments:
    """What one stream's run records beside the messages: receive() stamps, loop ticks and collections."""

    received_ns: deque[int] = field(default_factory=deque)
    ticks: list[tuple[int, int]] = field(default_factory=list)
    """(`time.monotonic_ns`, `time.process_time_ns`) at every tick."""
    collections: list[tuple[int, int]] = field(default_factory=list)
    """(start, end) in `time.monotonic_ns` of every garbage collection."""
    _collection_started: int = 0

    def on_collection(self, phase: str, info: Mapping[str, int]) -> None:
        now = time.monotonic_ns()
        if phase == "start":
            self._collection_started = now
        else:
            self.collections.append((self._collection_started, now))

    async def tick(self) -> None:
        while True:
            self.ticks.append((time.monotonic_ns(), time.process_time_ns()))
            await asyncio.sleep(TICK)

    def cause(self, sent_ns: int, delivered_ns: int) -> str:
        """Why the message sent at ``sent_ns`` and delivered at ``delivered_ns`` was slow; see the docstring."""
        if any(start < delivered_ns and end > sent_ns for start, end in self.collections):
            return "gc"
        ticks, stall_ns, cpu_ns = self.ticks, 0, 0
        for index in range(max(bisect.bisect_left(ticks, (sent_ns, 0)) - 1, 0), len(ticks) - 1):
            (wall, cpu), (next_wall, next_cpu) = ticks[index], ticks[index + 1]
            if wall > delivered_ns:
                break
            if next_wall - wall > stall_ns:
                stall_ns, cpu_ns = next_wall - wall, next_cpu - cpu
        if stall_ns < (delivered_ns - sent_ns) / 2:
            return "before"
        return "busy" if cpu_ns >= stall_ns / 2 else "descheduled"


@dataclass
class Split:
    """One paced stream's latencies, split at receive(), and its slowest 1 % by cause."""

    p50_us: float
    p99_us: float
    to_receive_p50_us: float
    to_receive_p99_us: float
    in_process_p50_us: float
    in_process_p99_us: float
    tail: dict[str, int]


class SplitRecording(Recording):
    """A `Recording` that also keeps, for each message, when it was sent and when receive() returned it."""

    def __init__(self, expected: int, instruments: Instruments) -> None:
        super().__init__(expected, keeps_latencies=True)
        self.instruments = instruments
        self.moments: list[tuple[int, int, int]] = []
        """(sent, received, delivered) in `time.monotonic_ns`, per message."""

    def record(self, message: Mapping[str, Any]) -> None:
        delivered_ns = time.monotonic_ns()
        stamps = self.instruments.received_ns
        if not self.moments:
            stamps.popleft()  # the subscribe request's reply: every client reads it through receive() first
        self.moments.append((message["sent_ns"], stamps.popleft(), delivered_ns))
        super().record(message)

    def split(self) -> Split:
        def quantile(ordered: list[int], fraction: float) -> float:
            return percentile(ordered, fraction) / 1000

        total = sorted(delivered - sent for sent, _, delivered in self.moments)
        to_receive = sorted(received - sent for sent, received, _ in self.moments)
        in_process = sorted(delivered - received for _, received, delivered in self.moments)
        threshold = percentile(total, 0.99)
        tail = dict.fromkeys(CAUSES, 0)
        for sent, _, delivered in self.moments:
            if delivered - sent >= threshold:
                tail[self.instruments.cause(sent, delivered)] += 1
        return Split(
            p50_us=quantile(total, 0.50),
            p99_us=quantile(total, 0.99),
            to_receive_p50_us=quantile(to_receive, 0.50),
            to_receive_p99_us=quantile(to_receive, 0.99),
            in_process_p50_us=quantile(in_process, 0.50),
            in_process_p99_us=quantile(in_process, 0.99),
            tail=tail,
        )


async def split_stream(name: str, server: FeedServer, arguments: argparse.Namespace) -> Split:
    """One paced stream for client ``name``, with receive() stamped and the loop and collector watched."""
    instruments = Instruments()
    unwrapped = aiohttp.ClientWebSocketResponse.receive

    async def stamped_receive(websocket: aiohttp.ClientWebSocketResponse, timeout: float | None = None) -> Any:
        frame = await unwrapped(websocket, timeout)
        if frame.type is aiohttp.WSMsgType.TEXT:
            instruments.received_ns.append(time.monotonic_ns())
        return frame

    recording = SplitRecording(round(arguments.rate * arguments.seconds), instruments)
    url = server.stream_url(rate=arguments.rate, seconds=arguments.seconds)
    aiohttp.ClientWebSocketResponse.receive = stamped_receive  # type: ignore[method-assign,assignment]
    gc.callbacks.append(instruments.on_collection)
    ticker = asyncio.create_task(instruments.tick())
    try:
        await stream_once(name, server, url, recording, 60 + arguments.seconds)
    finally:
        ticker.cancel()
        gc.callbacks.remove(instruments.on_collection)
        aiohttp.ClientWebSocketResponse.receive = unwrapped  # type: ignore[method-assign]
    return recording.split()


async def measure(server: FeedServer, arguments: argparse.Namespace) -> dict[str, list[Split]]:
    names: list[str] = arguments.clients
    splits: dict[str, list[Split]] = {name: [] for name in names}
    for round_number in range(arguments.rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            splits[name].append(await split_stream(name, server, arguments))
        print(f"round {round_number + 1}/{arguments.rounds} done", file=sys.stderr, flush=True)
    return splits


def table(splits: Mapping[str, list[Split]]) -> list[str]:
    header = (
        f"{'client':<17} {'p50 µs':>8} {'p99 µs':>8} {'to receive() p50/p99':>21} {'in process p50/p99':>19}"
        f"  slowest 1 %: {' / '.join(CAUSES)}"
    )
    lines = [header, "-" * len(header)]
    for name, runs in splits.items():

        def median(figure: str, runs: list[Split] = runs) -> float:
            return statistics.median(float(getattr(run, figure)) for run in runs)

        causes = {cause: sum(run.tail[cause] for run in runs) for cause in CAUSES}
        share = " / ".join(f"{100 * causes[cause] / max(sum(causes.values()), 1):.0f} %" for cause in CAUSES)
        lines.append(
            f"{name:<17} {median('p50_us'):>8.1f} {median('p99_us'):>8.1f} "
            f"{median('to_receive_p50_us'):>10.1f}/{median('to_receive_p99_us'):<10.1f} "
            f"{median('in_process_p50_us'):>9.1f}/{median('in_process_p99_us'):<9.1f}  {share}"
        )
    return lines


def summary(splits: Mapping[str, list[Split]]) -> str:
    def added(figure: str) -> str:
        if "userstream" not in splits or "orjson" not in splits:
            return "n/a"
        return significant(median_added(splits["userstream"], splits["orjson"], operator.attrgetter(figure)))

    descheduled = "n/a"
    if "userstream" in splits:
        tails = [run.tail for run in splits["userstream"]]
        slowest = sum(sum(tail.values()) for tail in tails)
        descheduled = f"{100 * sum(tail['descheduled'] for tail in tails) / max(slowest, 1):.0f}"
    return (
        f"in_process_p50_added_us={added('in_process_p50_us')} in_process_p99_added_us={added('in_process_p99_us')} "
        f"tail_descheduled_pct={descheduled}"
    )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=positive_int, default=6, help="rounds, every client once each (default 6)")
    parser.add_argument("--seconds", type=positive_float, default=3.0, help="length of each stream (default 3)")
    parser.add_argument("--rate", type=positive_float, default=2000.0, help="frames a second (default 2000)")
    parser.add_argument(
        "--clients",
        nargs="+",
        choices=list(CLIENTS),
        default=["orjson", "userstream"],
        metavar="NAME",
        help=f"run only these clients (default: orjson userstream; any of {', '.join(CLIENTS)})",
    )
    arguments = parser.parse_args(argv)
    arguments.clients = list(dict.fromkeys(arguments.clients))
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    quiet_logging()
    with FeedServer() as server:
        splits = asyncio.run(measure(server, arguments))
    print("\n".join(describe_machine()))
    streams = f"paced {arguments.rate:g}/s for {arguments.seconds:g} s"
    print(f"{arguments.rounds} round(s); {streams}; the loop watched every {TICK:g} s")
    print("\n".join(table(splits)))
    print(summary(splits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
