"""Many trackers in one process: memory per tracker, CPU, event-loop lag and garbage-collection pauses.

One fake Binance (`_binance_feed`: an aiohttp server in a process of its own, on 127.0.0.1) streams to
``--trackers`` trackers in this process, each on its own connection: the kit's real Binance preset
(``exchanges/binance``, typed parsing, a REST snapshot after subscribing) in a `UserStreamTracker`, all sharing one
``aiohttp.ClientSession`` (its connector unlimited: aiohttp's default allows 100 connections), every
``user_stream`` read by a consumer task of its own. Trackers connect in batches of `BATCH`, each batch subscribed
and its accounts read (userstream's "reconciled" notice on ``user_stream``) before the next starts, while the
server holds every stream; then it sends each connection ``--rate`` frames a second, each connection's frames at a
random phase so the load is even.

Once every tracker has delivered a message, it measures for ``--seconds``:

- RSS per tracker: the process's ``VmRSS`` (``/proc/self/status``), less before the first tracker was created,
  divided by their number: once all are subscribed, once all are streaming (the figure of the last line) and at the
  end of the window; and how much it grew in the window per message delivered (what the accounts keep: closed
  orders and the trade ids of fills, up to ``AccountState``'s ``remember`` of each);
- CPU: this process's CPU time over the window's wall time (100 % is one core), and the server's;
- event-loop lag: a task sleeps 10 ms in a loop and records how late it wakes (asyncio wakes a sleeper up to a
  millisecond late even on an idle loop);
- GC pauses: every collection, timed through ``gc.callbacks``: per generation, their number and the longest;
- delivery latency: when a consumer takes a message off ``user_stream``, less its send time (both
  `time.monotonic_ns`, CLOCK_MONOTONIC, shared by the two processes);
- reconnects (``status.reconnect_count``, summed), the backlog (messages waiting in every ``user_stream`` at the
  window's end) and, once the server has stopped and the consumers caught up, messages delivered against sent.

Two settings belong to the application, not to userstream, and change these figures most; both are off by
default and printed with the results:

- ``--loop uvloop``: the event loop of libuv instead of asyncio's own (at this scale the loop's socket reads cost
  more than userstream's work);
- ``--gc-freeze``: ``gc.freeze()`` once every tracker is streaming, so the collector never traverses again what
  startup built (full collections otherwise walk every tracker's objects).

It prints the machine, how much CPU other processes used meanwhile (the figures are only as steady as that is
low), a table, then last::

    trackers=… rate=… rss_kib_per_tracker=… cpu_pct=… lag_p99_ms=… lag_max_ms=… max_gc_pause_ms=…
    gc_pauses_over_50ms=… reconnects=… backlog=…

(on one line). Usage::

    python benchmarks/scale.py
    python benchmarks/scale.py --trackers 100 --rate 10 --seconds 10
    python benchmarks/scale.py --loop uvloop --gc-freeze
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import sys
import time
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
from _bench_client import (
    BinanceAPIUserStreamDataSource,
    ForeignLoad,
    bench_auth,
    describe_machine,
    percentile,
    positive_float,
    positive_int,
    quiet_logging,
    significant,
)
from _binance_feed import FeedServer, raise_open_file_limit

from userstream import UserStreamTracker, is_gap_marker

BATCH = 50
"""Trackers connected at once: enough to be quick, few enough that the server is not flooded by handshakes."""
BATCH_TIMEOUT = 60.0
"""How long a batch may take to subscribe, or all trackers to deliver a first message; longer fails the run
rather than hanging it."""
DRAIN_TIMEOUT = 10.0
"""How long the consumers may take to catch up once the server has stopped sending."""
LAG_PERIOD = 0.010
LONG_GC_PAUSE = 0.050


@dataclass
class Tally:
    """What every consumer delivered: a count always, latencies while the window is open."""

    received: int = 0
    measuring: bool = False
    latencies_ns: array[int] = field(default_factory=lambda: array("q"))
    """Machine integers, not a list of int objects: the benchmark's own memory stays small beside the trackers'."""
    awaited: float = math.inf
    """The count `catch_up` waits for."""
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, message: Mapping[str, Any]) -> None:
        self.received += 1
        if self.measuring:
            self.latencies_ns.append(time.monotonic_ns() - message["sent_ns"])
        if self.received >= self.awaited:
            self.caught_up.set()

    async def catch_up(self, sent: int, timeout: float) -> None:
        """Wait until ``sent`` messages are delivered, or ``timeout`` seconds (the report shows any shortfall)."""
        self.awaited = sent
        if self.received < sent:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.caught_up.wait()


class GcPauses:
    """A ``gc.callbacks`` entry that times every collection, by generation (wall time: a collection the OS
    preempts counts the wait too, as the event loop feels it)."""

    def __init__(self) -> None:
        self.by_generation: dict[int, list[float]] = {generation: [] for generation in range(3)}
        self._started = 0.0

    def __call__(self, phase: str, info: Mapping[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.by_generation[info["generation"]].append(time.perf_counter() - self._started)

    @property
    def all(self) -> list[float]:
        return [pause for pauses in self.by_generation.values() for pause in pauses]


async def consume(
    tracker: UserStreamTracker, tally: Tally, reconciled: asyncio.Future[None], streaming: asyncio.Future[None]
) -> None:
    """A bot's reader of one ``user_stream``. ``reconciled`` is done at userstream's notice that the account was
    read (so the tracker is subscribed), ``streaming`` at the first message from the exchange. Futures, not
    `asyncio.Event`s: an event's waiter queue would add 0.7 KiB to every tracker's measured memory."""
    queue = tracker.user_stream
    while True:
        message = await queue.get()
        if is_gap_marker(message):
            if not reconciled.done():
                reconciled.set_result(None)
            continue
        if not streaming.done():
            streaming.set_result(None)
        tally.record(message)


async def watch_lag(lags: list[float]) -> None:
    """Sleep `LAG_PERIOD` again and again, recording how much later than asked each wake-up comes."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(LAG_PERIOD)
        lags.append(time.perf_counter() - started - LAG_PERIOD)


def rss_kib() -> int:
    """This process's resident set size now, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


@dataclass
class Fleet:
    """The trackers, the consumer task reading each one's ``user_stream``, and what each consumer has seen."""

    trackers: list[UserStreamTracker] = field(default_factory=list)
    consumers: list[asyncio.Task[None]] = field(default_factory=list)
    reconciled: list[asyncio.Future[None]] = field(default_factory=list)
    streaming: list[asyncio.Future[None]] = field(default_factory=list)

    async def connect(
        self, server: FeedServer, session: aiohttp.ClientSession, count: int, rate: float, tally: Tally
    ) -> None:
        """Start ``count`` trackers, `BATCH` at a time, each batch subscribed and its accounts read before the next
        starts. Their streams are held: no frame flows until `POST /bench/start`."""
        for batch_start in range(0, count, BATCH):
            for _ in range(min(BATCH, count - batch_start)):
                url = server.stream_url(rate=rate, hold=1)
                source = BinanceAPIUserStreamDataSource(
                    bench_auth(), ws_url=url, rest_url=server.rest_url, session=session
                )
                tracker = UserStreamTracker(source)
                await tracker.start()
                loop = asyncio.get_running_loop()
                reconciled, streaming = loop.create_future(), loop.create_future()
                self.consumers.append(asyncio.create_task(consume(tracker, tally, reconciled, streaming)))
                self.trackers.append(tracker)
                self.reconciled.append(reconciled)
                self.streaming.append(streaming)
            await self._all_set(self.reconciled[batch_start:], "subscribed and read its account", batch_start)

    async def all_streaming(self) -> None:
        """Wait until every tracker has delivered a message from the exchange."""
        await self._all_set(self.streaming, "delivered a message", 0)

    async def _all_set(self, events: list[asyncio.Future[None]], what: str, first: int) -> None:
        try:
            async with asyncio.timeout(BATCH_TIMEOUT):
                await asyncio.gather(*(asyncio.shield(event) for event in events))
        except TimeoutError:
            stuck = [index for index, event in enumerate(events, first) if not event.done()]
            status = self.trackers[stuck[0]].status
            raise RuntimeError(
                f"{len(stuck)} of {len(events)} trackers (from tracker {first}) have not {what} after "
                f"{BATCH_TIMEOUT:g} s; tracker {stuck[0]} is {status.state.value}: {status.last_error}"
            ) from None

    async def stop(self) -> None:
        await asyncio.gather(*(tracker.stop() for tracker in self.trackers))
        for consumer in self.consumers:
            consumer.cancel()
        await asyncio.gather(*self.consumers, return_exceptions=True)


@dataclass
class Window:
    """What the measuring window saw."""

    cpu_pct: float
    server_cpu_pct: float
    delivered: int
    delivered_per_second: float
    sent_per_second: float
    """As the server counted them, on its own clock: a late reply to the count does not skew it."""
    latencies_ns: list[int]
    lags: list[float]
    gc_pauses: GcPauses
    backlog: int
    rss_kib_end: int


@dataclass
class Report:
    """Everything the run measured, for the table and the last line."""

    trackers: int
    rate: float
    connect_seconds: float
    rss_kib_before: int
    rss_kib_connected: int
    """Every tracker subscribed and its account read, before any frame flowed."""
    rss_kib_streaming: int
    """A moment later: every tracker has delivered a message."""
    window: Window
    reconnects: int
    sent: int
    """Frames the server sent, all told, once it stopped."""
    received: int
    """Messages the consumers took, all told, once they caught up (or `DRAIN_TIMEOUT` passed)."""

    def rss_kib_per_tracker(self, rss_kib: int) -> float:
        return (rss_kib - self.rss_kib_before) / self.trackers

    def rss_bytes_per_message(self) -> float:
        """How much the process grew in the window for each message delivered: what the accounts keep."""
        return (self.window.rss_kib_end - self.rss_kib_streaming) * 1024 / max(self.window.delivered, 1)


async def ask_feed(
    session: aiohttp.ClientSession, server: FeedServer, command: Literal["sent", "start", "stop"]
) -> tuple[int, int]:
    """Have the feed server start its held streams, stop every stream, or neither (``sent``); then the frames it has
    sent on every connection, and its `time.monotonic_ns` as it counted them."""
    async with session.request("GET" if command == "sent" else "POST", f"{server.rest_url}/bench/{command}") as reply:
        counted = await reply.json()
    return counted["sent"], counted["at_ns"]


async def measure_window(
    seconds: float, server: FeedServer, session: aiohttp.ClientSession, fleet: Fleet, tally: Tally
) -> Window:
    lags: list[float] = []
    gc_pauses = GcPauses()
    sent_before, server_ns_before = await ask_feed(session, server, "sent")
    received_before = tally.received
    wall_before, cpu_before, server_cpu_before = time.perf_counter(), time.process_time(), server.cpu_seconds()
    gc.callbacks.append(gc_pauses)
    tally.measuring = True
    lag_watch = asyncio.create_task(watch_lag(lags))
    try:
        await asyncio.sleep(seconds)
    finally:
        lag_watch.cancel()
        tally.measuring = False
        gc.callbacks.remove(gc_pauses)
    wall = time.perf_counter() - wall_before
    cpu_pct = 100 * (time.process_time() - cpu_before) / wall
    server_cpu_pct = 100 * (server.cpu_seconds() - server_cpu_before) / wall
    delivered = tally.received - received_before
    backlog = sum(tracker.status.queue_depth for tracker in fleet.trackers)
    rss_end = rss_kib()
    sent_after, server_ns_after = await ask_feed(session, server, "sent")
    return Window(
        cpu_pct=cpu_pct,
        server_cpu_pct=server_cpu_pct,
        delivered=delivered,
        delivered_per_second=delivered / wall,
        sent_per_second=(sent_after - sent_before) * 1e9 / (server_ns_after - server_ns_before),
        latencies_ns=sorted(tally.latencies_ns),
        lags=sorted(lags),
        gc_pauses=gc_pauses,
        backlog=backlog,
        rss_kib_end=rss_end,
    )


async def measure(server: FeedServer, arguments: argparse.Namespace) -> Report:
    tally = Tally()
    fleet = Fleet()
    # Every data source shares the one session; without limit=0, aiohttp would queue all but 100 connections.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        rss_before = rss_kib()
        connect_started = time.perf_counter()
        try:
            await fleet.connect(server, session, arguments.trackers, arguments.rate, tally)
            connect_seconds = time.perf_counter() - connect_started
            rss_connected = rss_kib()
            await ask_feed(session, server, "start")
            await fleet.all_streaming()
            if arguments.gc_freeze:
                gc.freeze()
            rss_streaming = rss_kib()
            print(
                f"{arguments.trackers} trackers subscribed in {connect_seconds:.1f} s, now streaming; "
                f"measuring for {significant(arguments.seconds)} s",
                file=sys.stderr,
                flush=True,
            )
            window = await measure_window(arguments.seconds, server, session, fleet, tally)
            sent, _ = await ask_feed(session, server, "stop")
            await tally.catch_up(sent, DRAIN_TIMEOUT)
            reconnects = sum(tracker.status.reconnect_count for tracker in fleet.trackers)
        finally:
            await fleet.stop()
    return Report(
        trackers=arguments.trackers,
        rate=arguments.rate,
        connect_seconds=connect_seconds,
        rss_kib_before=rss_before,
        rss_kib_connected=rss_connected,
        rss_kib_streaming=rss_streaming,
        window=window,
        reconnects=reconnects,
        sent=sent,
        received=tally.received,
    )


def table(report: Report) -> list[str]:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.2f} ms"

    latency_s = [latency / 1e9 for latency in report.window.latencies_ns]
    window = report.window
    rows = [
        ("trackers subscribed, accounts read", f"{report.trackers} in {report.connect_seconds:.1f} s"),
        (
            "RSS before / subscribed / streaming / end",
            f"{report.rss_kib_before:,} / {report.rss_kib_connected:,} / {report.rss_kib_streaming:,} / "
            f"{window.rss_kib_end:,} KiB",
        ),
        (
            "RSS per tracker: subscribed / streaming / end",
            " / ".join(
                f"{report.rss_kib_per_tracker(rss):.1f}"
                for rss in (report.rss_kib_connected, report.rss_kib_streaming, window.rss_kib_end)
            )
            + " KiB",
        ),
        ("RSS growth per message delivered", f"{report.rss_bytes_per_message():.0f} bytes"),
        ("CPU: this process / the server", f"{window.cpu_pct:.1f} % / {window.server_cpu_pct:.1f} %"),
        (
            "messages a second: delivered / sent / asked for",
            f"{window.delivered_per_second:,.0f} / {window.sent_per_second:,.0f} / "
            f"{report.trackers * report.rate:,.0f}",
        ),
        ("delivery latency p50 / p99", f"{ms(percentile(latency_s, 0.5))} / {ms(percentile(latency_s, 0.99))}"),
        (
            f"event-loop lag p50 / p99 / max ({len(window.lags)} wake-ups)",
            f"{ms(percentile(window.lags, 0.5))} / {ms(percentile(window.lags, 0.99))} / "
            f"{ms(max(window.lags, default=0.0))}",
        ),
    ]
    for generation, pauses in window.gc_pauses.by_generation.items():
        rows.append(
            (f"GC generation {generation}: collections, longest", f"{len(pauses)}, {ms(max(pauses, default=0.0))}")
        )
    long_pauses = sum(pause > LONG_GC_PAUSE for pause in window.gc_pauses.all)
    rows += [
        (
            f"GC pauses over {LONG_GC_PAUSE * 1000:g} ms; total GC time",
            f"{long_pauses}; {ms(sum(window.gc_pauses.all))}",
        ),
        ("reconnects", str(report.reconnects)),
        ("backlog at the window's end (all user_streams)", str(window.backlog)),
        ("delivered / sent, once the server stopped", f"{report.received:,} / {report.sent:,}"),
    ]
    width = max(len(name) for name, _ in rows)
    return [f"{name:<{width}}  {value}" for name, value in rows]


def summary(report: Report) -> str:
    pauses = report.window.gc_pauses.all
    return (
        f"trackers={report.trackers} rate={report.rate:g} "
        f"rss_kib_per_tracker={significant(report.rss_kib_per_tracker(report.rss_kib_streaming))} "
        f"cpu_pct={significant(report.window.cpu_pct)} "
        f"lag_p99_ms={significant(percentile(report.window.lags, 0.99) * 1000)} "
        f"lag_max_ms={significant(max(report.window.lags, default=0.0) * 1000)} "
        f"max_gc_pause_ms={significant(max(pauses, default=0.0) * 1000)} "
        f"gc_pauses_over_50ms={sum(pause > LONG_GC_PAUSE for pause in pauses)} "
        f"reconnects={report.reconnects} backlog={report.window.backlog}"
    )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackers", type=positive_int, default=1000, help="trackers (default 1000)")
    parser.add_argument("--rate", type=positive_float, default=10.0, help="frames a second per tracker (default 10)")
    parser.add_argument("--seconds", type=positive_float, default=30.0, help="length of the window (default 30)")
    parser.add_argument(
        "--loop", choices=("asyncio", "uvloop"), default="asyncio", help="the event loop (default asyncio)"
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() once every tracker streams (default: not)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    quiet_logging()
    raise_open_file_limit()  # the server raises its own
    with FeedServer() as server:
        foreign_load = ForeignLoad(server)
        report: Report
        if arguments.loop == "uvloop":
            import uvloop  # only this option needs it: pip install uvloop

            report = uvloop.run(measure(server, arguments))
        else:
            report = asyncio.run(measure(server, arguments))
        foreign_pct = foreign_load.percent_of_a_core()
    print("\n".join(describe_machine()))
    print(f"event loop: {arguments.loop}; gc.freeze() once streaming: {'yes' if arguments.gc_freeze else 'no'}")
    print(f"other processes meanwhile: {foreign_pct:.0f} % of a core on average")
    print("\n".join(table(report)))
    print(summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
