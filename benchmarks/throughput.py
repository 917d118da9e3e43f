"""How fast userstream delivers Binance's user data stream, next to the raw aiohttp loops it is built on.

A fake Binance (`_binance_feed`: an aiohttp server in a process of its own, on 127.0.0.1) streams pre-serialised
frames shaped as Binance spot's WebSocket API delivers them after ``userDataStream.subscribe.signature``, mostly
``executionReport`` trades. Four clients take turns, in one client process, their order rotated every round:

====================  ========================================================================================
``orjson``            raw aiohttp: ``async for frame in ws: message = orjson.loads(frame.data)``, then
                      ``queue.put_nowait(message)`` for a consumer; the limit of the stack
``json``              the same loop with the standard library's ``json.loads``
``userstream``        the kit's real Binance preset (``exchanges/binance``) in a `UserStreamTracker`, read from
                      ``user_stream`` by a consumer, as a connector that reads no account: the preset with the
                      base class's ``parse_account_events`` and ``fetch_account_snapshot`` put back
``userstream-typed``  the preset as it is: every message also parsed into typed events that keep
                      ``tracker.account``, and a REST snapshot (served by the fake) after subscribing
====================  ========================================================================================

Each client does the same handshake (a subscribe request, then its reply) and, every round, two streams:

- flood: ``--messages`` frames as fast as they are taken; messages a second from the first message delivered to
  the last (the server waits on the socket's buffer, so the client's pace sets the flood's);
- paced: ``--rate`` frames a second for ``--paced-seconds``; each frame carries its send time
  (`time.monotonic_ns`, CLOCK_MONOTONIC, which both processes share) and the latency is the time it is delivered
  less that: where the consumer takes it off the queue, for every client (the raw loops queue what they decode,
  as userstream does, so the queue's hop is in every figure and the difference is userstream's own).

It prints the machine, how much CPU other processes used meanwhile (the figures are only as steady as that is
low), a table (one row per client: the median, min and max of messages a second over the rounds, their ratio to
``orjson``'s median, the medians of the paced p50 and p99 latencies, and the medians over the floods of both
processes' CPU and of the garbage collections) and, last, the summary line::

    ratio=<userstream ÷ orjson msgs/s> account_ratio=<userstream-typed ÷ orjson> p50_added_us=<…> p99_added_us=<…>

where the ratios are of the medians, and ``p50_added_us`` is the median over the rounds of (userstream's p50 less
orjson's p50 in the same round), ``p99_added_us`` the same for p99. Garbage collection is left as it is: the
figures include it. Usage::

    python benchmarks/throughput.py
    python benchmarks/throughput.py --rounds 1 --messages 20000 --paced-seconds 1
    python benchmarks/throughput.py --clients orjson userstream
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from _bench_client import (
    BinanceAPIUserStreamDataSource,
    ForeignLoad,
    bench_auth,
    describe_machine,
    median_added,
    percentile,
    positive_float,
    positive_int,
    quiet_logging,
    significant,
)
from _binance_feed import SUBSCRIBE_METHOD, FeedServer

from userstream import StreamStatus, UserStreamTracker, UserStreamTrackerDataSource, is_gap_marker

ClientRun = Callable[[FeedServer, str, "Recording"], Awaitable[StreamStatus | None]]
"""Streams from a URL until the recording is complete; a userstream client returns its tracker's status."""


class RawBinanceDataSource(BinanceAPIUserStreamDataSource):  # type: ignore[misc,unused-ignore]  # Any without MYPYPATH
    """The preset as a connector that reads no account ("the connector parses nothing"): raw messages only.

    The base class's own methods are put back, so the loop sees a connector that never overrode them: no typed
    events, and no REST snapshot after a gap (overriding ``fetch_account_snapshot`` is what turns it on).
    """

    parse_account_events = UserStreamTrackerDataSource.parse_account_events
    fetch_account_snapshot = UserStreamTrackerDataSource.fetch_account_snapshot


@dataclass
class Recording:
    """What one client delivered of one stream: how many, when, and (paced) how late."""

    expected: int
    keeps_latencies: bool
    received: int = 0
    first_ns: int = 0
    last_ns: int = 0
    out_of_order: int = 0
    """Messages whose ``seq`` did not follow the last one's: after a loss, a repeat or a swap (there should be none)."""
    next_seq: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, message: Mapping[str, Any]) -> None:
        now_ns = time.monotonic_ns()
        seq = message["seq"]
        if seq != self.next_seq:
            self.out_of_order += 1
        self.next_seq = seq + 1
        if self.received == 0:
            self.first_ns = now_ns
        self.last_ns = now_ns
        self.received += 1
        if self.keeps_latencies:
            self.latencies_ns.append(now_ns - message["sent_ns"])
        if self.received >= self.expected:
            self.complete.set()

    @property
    def messages_per_second(self) -> float:
        """From the first message delivered to the last (the handshake is not counted)."""
        return (self.received - 1) * 1e9 / max(self.last_ns - self.first_ns, 1)

    def latency_us(self, fraction: float) -> float:
        """A percentile of the latencies kept (NaN if none were)."""
        return percentile(sorted(self.latencies_ns), fraction) / 1000


def subscribe_request() -> dict[str, Any]:
    """What a raw client sends first, as the preset does: the feed checks the method and echoes the id."""
    params = {"apiKey": "bench-api-key", "timestamp": time.time_ns() // 1_000_000, "signature": "0" * 64}
    return {"id": 1, "method": SUBSCRIBE_METHOD, "params": params}


def raw_client(decode: Callable[[str | bytes], Any]) -> ClientRun:
    """The loop a connector would write straight on aiohttp, decoding with ``decode``."""

    async def run(server: FeedServer, url: str, recording: Recording) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as websocket:
            await websocket.send_str(json.dumps(subscribe_request()))
            reply = decode((await websocket.receive()).data)
            if reply.get("status") != 200:
                raise RuntimeError(f"the feed refused the subscribe: {reply!r}")
            delivered: asyncio.Queue[Any] = asyncio.Queue()

            async def read() -> None:
                async for frame in websocket:
                    delivered.put_nowait(decode(frame.data))

            reader, consumer = asyncio.create_task(read()), asyncio.create_task(take_all(delivered, recording))
            try:
                await recording.complete.wait()
            finally:
                reader.cancel()
                consumer.cancel()
                await asyncio.wait([reader, consumer])

    return run


async def take_all(queue: asyncio.Queue[Any], recording: Recording) -> None:
    """A raw loop's consumer: takes every message off the queue, as a bot's would, and records it there."""
    while True:
        recording.record(await queue.get())


def userstream_client(source_class: type[UserStreamTrackerDataSource]) -> ClientRun:
    """The preset (or its no-account form) in a `UserStreamTracker`, read from ``user_stream``."""

    async def run(server: FeedServer, url: str, recording: Recording) -> StreamStatus:
        source = source_class(bench_auth(), ws_url=url, rest_url=server.rest_url)
        async with UserStreamTracker(source) as tracker:
            while not recording.complete.is_set():
                message = await tracker.user_stream.get()
                if not is_gap_marker(message):  # the typed path's "account reconciled" notice
                    recording.record(message)
            return tracker.status

    return run


CLIENTS: dict[str, ClientRun] = {
    "orjson": raw_client(orjson.loads),
    "json": raw_client(json.loads),
    "userstream": userstream_client(RawBinanceDataSource),
    "userstream-typed": userstream_client(BinanceAPIUserStreamDataSource),
}


@dataclass
class StreamRun:
    """One stream as a client delivered it, and what the two processes spent on it."""

    messages_per_second: float
    p50_us: float
    p99_us: float
    """The latency percentiles of a paced stream (NaN for a flood)."""
    client_cpu_pct: float
    server_cpu_pct: float
    gc_collections: tuple[int, ...]
    """Collections of each generation during the stream."""
    trouble: dict[str, int]
    """What should never happen, counted: reconnects, malformed frames, unparsed messages, messages out of order."""


@dataclass
class ClientFigures:
    """One client's streams, one of each kind per round."""

    floods: list[StreamRun] = field(default_factory=list)
    paced: list[StreamRun] = field(default_factory=list)

    def median_rate(self) -> float:
        return statistics.median(flood.messages_per_second for flood in self.floods)

    def trouble(self) -> dict[str, int]:
        return {what: sum(run.trouble[what] for run in (*self.floods, *self.paced)) for what in self.floods[0].trouble}


async def stream_once(name: str, server: FeedServer, url: str, recording: Recording, timeout: float) -> StreamRun:
    """Run client ``name`` on one stream; its CPU and collections are measured around the whole connection."""
    gc_before = [generation["collections"] for generation in gc.get_stats()]
    wall_before, cpu_before, server_cpu_before = time.perf_counter(), time.process_time(), server.cpu_seconds()
    try:
        async with asyncio.timeout(timeout):
            status = await CLIENTS[name](server, url, recording)
    except TimeoutError:
        raise RuntimeError(
            f"{name}: {recording.received} of {recording.expected} messages delivered in {timeout:g} s"
        ) from None
    wall = time.perf_counter() - wall_before
    gc_after = [generation["collections"] for generation in gc.get_stats()]
    return StreamRun(
        messages_per_second=recording.messages_per_second,
        p50_us=recording.latency_us(0.50),
        p99_us=recording.latency_us(0.99),
        client_cpu_pct=100 * (time.process_time() - cpu_before) / wall,
        server_cpu_pct=100 * (server.cpu_seconds() - server_cpu_before) / wall,
        gc_collections=tuple(after - before for before, after in zip(gc_before, gc_after, strict=True)),
        trouble={
            "reconnects": 0 if status is None else status.reconnect_count,
            "malformed frames": 0 if status is None else status.malformed_frames,
            "unparsed messages": 0 if status is None else status.unparsed_messages,
            "messages out of order": recording.out_of_order,
        },
    )


async def measure(server: FeedServer, arguments: argparse.Namespace) -> dict[str, ClientFigures]:
    """Every round: a flood for each client, then a paced stream for each, in the round's order."""
    names: list[str] = arguments.clients
    figures = {name: ClientFigures() for name in names}
    paced_frames = round(arguments.rate * arguments.paced_seconds)
    # Generous: a stuck stream fails the run instead of hanging it, and no client is this slow.
    flood_timeout = 60 + arguments.messages / 1000
    paced_timeout = 60 + arguments.paced_seconds
    for round_number in range(arguments.rounds):
        shift = round_number % len(names)
        order = names[shift:] + names[:shift]
        for name in order:
            flood = Recording(arguments.messages, keeps_latencies=False)
            url = server.stream_url(frames=arguments.messages)
            figures[name].floods.append(await stream_once(name, server, url, flood, flood_timeout))
        for name in order:
            paced = Recording(paced_frames, keeps_latencies=True)
            url = server.stream_url(rate=arguments.rate, seconds=arguments.paced_seconds)
            figures[name].paced.append(await stream_once(name, server, url, paced, paced_timeout))
        rates = ", ".join(f"{name} {significant(figures[name].floods[-1].messages_per_second)}" for name in order)
        print(f"round {round_number + 1}/{arguments.rounds}: msgs/s {rates}", file=sys.stderr, flush=True)
    return figures


def table(figures: Mapping[str, ClientFigures]) -> list[str]:
    baseline = figures["orjson"].median_rate() if "orjson" in figures else None
    header = (
        f"{'client':<17} {'msgs/s':>9} {'min':>9} {'max':>9} {'/orjson':>8} {'p50 µs':>8} {'p99 µs':>8} "
        f"{'cpu% client/server':>18} {'gc/flood 0/1/2':>15} {'reconnects':>10}"
    )
    lines = [header, "-" * len(header)]
    for name, client in figures.items():
        rates = [flood.messages_per_second for flood in client.floods]
        ratio = "" if baseline is None else f"{client.median_rate() / baseline:.3f}"
        cpu = (
            f"{statistics.median(flood.client_cpu_pct for flood in client.floods):.0f}/"
            f"{statistics.median(flood.server_cpu_pct for flood in client.floods):.0f}"
        )
        collections = "/".join(
            f"{statistics.median(flood.gc_collections[generation] for flood in client.floods):g}"
            for generation in range(len(client.floods[0].gc_collections))
        )
        lines.append(
            f"{name:<17} {client.median_rate():>9,.0f} {min(rates):>9,.0f} {max(rates):>9,.0f} {ratio:>8} "
            f"{statistics.median(run.p50_us for run in client.paced):>8.1f} "
            f"{statistics.median(run.p99_us for run in client.paced):>8.1f} "
            f"{cpu:>18} {collections:>15} {client.trouble()['reconnects']:>10}"
        )
    for name, client in figures.items():
        for what, count in client.trouble().items():
            if count and what != "reconnects":  # a column of its own
                lines.append(f"WARNING: {name}: {count} {what}")
    return lines


def summary(figures: Mapping[str, ClientFigures]) -> str:
    """The last line; a figure whose clients were not run is ``n/a``."""

    def ratio(name: str) -> str:
        if name not in figures or "orjson" not in figures:
            return "n/a"
        return significant(figures[name].median_rate() / figures["orjson"].median_rate())

    def added_us(quantile: Callable[[StreamRun], float]) -> str:
        if "userstream" not in figures or "orjson" not in figures:
            return "n/a"
        return significant(median_added(figures["userstream"].paced, figures["orjson"].paced, quantile))

    return (
        f"ratio={ratio('userstream')} account_ratio={ratio('userstream-typed')} "
        f"p50_added_us={added_us(lambda run: run.p50_us)} p99_added_us={added_us(lambda run: run.p99_us)}"
    )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=positive_int, default=5, help="rounds, every client once each (default 5)")
    parser.add_argument(
        "--messages", type=positive_int, default=200_000, help="flood frames per client per round (default 200000)"
    )
    parser.add_argument(
        "--paced-seconds", type=positive_float, default=3.0, help="length of each paced stream (default 3)"
    )
    parser.add_argument("--rate", type=positive_float, default=2000.0, help="paced frames a second (default 2000)")
    parser.add_argument(
        "--clients",
        nargs="+",
        choices=list(CLIENTS),
        default=list(CLIENTS),
        metavar="NAME",
        help=f"run only these clients (default: all): {', '.join(CLIENTS)}",
    )
    arguments = parser.parse_args(argv)
    arguments.clients = list(dict.fromkeys(arguments.clients))  # each once, in the order given
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    quiet_logging()
    with FeedServer() as server:
        foreign_load = ForeignLoad(server)
        figures = asyncio.run(measure(server, arguments))
        foreign_pct = foreign_load.percent_of_a_core()
    print("\n".join(describe_machine()))
    print(f"other processes meanwhile: {foreign_pct:.0f} % of a core on average")
    print(
        f"{arguments.rounds} round(s); flood {arguments.messages} frames per client; "
        f"paced {arguments.rate:g}/s for {arguments.paced_seconds:g} s"
    )
    print("\n".join(table(figures)))
    print(summary(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
