"""A fake Binance spot user data stream for the benchmarks: an aiohttp server on 127.0.0.1, in a process of its own.

It speaks as much of Binance's WebSocket API as the real preset (``exchanges/binance``) needs to stream from it:
the first frame a client sends must be its ``userDataStream.subscribe.signature`` request, answered with
``{"id": <its id>, "status": 200, "result": {"subscriptionId": 0}}``; then the events follow, wrapped as Binance
wraps them, ``{"subscriptionId": 0, "event": {...}}``, as text frames. Signatures are not checked: this is a load
generator, not a test fake (``userstream.testing`` has that).

Each wrapper carries two keys Binance's does not, ``seq`` (0, 1, 2... per connection) and ``sent_ns``
(`time.monotonic_ns` when the frame was built, just before it was written): the preset classifies a frame by
``subscriptionId`` and ``event`` only, so it passes them through, and the client measures delivery latency with
them. On Linux `time.monotonic_ns` reads CLOCK_MONOTONIC, one clock for every process on the machine.

The events are Binance's, with every documented field and consistent amounts: each order (BUY 0.04 BTCUSDT,
LIMIT GTC) fills in `FILLS_PER_ORDER` trades, one ``executionReport`` (``x`` = ``TRADE``, its own trade id ``t``)
each, ``PARTIALLY_FILLED`` then ``FILLED``; every tenth frame is an ``outboundAccountPosition`` and one in fifty a
``balanceUpdate``. Every frame is serialised once, as a template whose integers are filled in with ``%``
formatting, so the server spends a few microseconds building each.

The WebSocket is at `STREAM_PATH`; its query says what to send:

- ``?frames=N``: a flood, N frames as fast as the connection takes them, then nothing until the client closes;
- ``?rate=R&seconds=S``: R frames a second for S seconds (without ``seconds``, until the client closes or
  ``POST /bench/stop``); each frame is stamped when it is actually written, so a late wake-up is not hidden.
  With ``&hold=1``, the stream starts at ``POST /bench/start`` (at once if that came already): many clients can
  connect and subscribe before any frame flows.

REST: ``GET /api/v3/time``, and the signed account endpoints the preset reads after every gap
(``/api/v3/account`` with three balances, ``/api/v3/openOrders``, ``/api/v3/allOrders`` and ``/api/v3/myTrades``,
all empty, ``/api/v3/order``: not found). ``GET /bench/sent`` answers ``{"sent": <frames sent on every
connection so far>, "at_ns": <its time.monotonic_ns>}``; ``POST /bench/start`` starts the held streams and
``POST /bench/stop`` ends every paced stream, then each answers the same.

Run as a script, it serves until its standard input closes, having written its port as the first line of its
standard output; `FeedServer` starts it that way and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import operator
import os
import random
import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

STREAM_PATH: Final = "/ws-api/v3"
SUBSCRIBE_METHOD: Final = "userDataStream.subscribe.signature"
SUBSCRIPTION_ID: Final = 0
FILLS_PER_ORDER: Final = 4
FIRST_ORDER_ID: Final = 41_000_000_000
"""Ids of Binance's magnitude (BTCUSDT's order ids are in the tens of billions): frames have their real length."""
FIRST_TRADE_ID: Final = 4_100_000_000
CLOCK_TICKS_PER_SECOND: Final = os.sysconf("SC_CLK_TCK")
"""The unit of the CPU times in ``/proc``."""

# --- the frames ------------------------------------------------------------------------------------------------

_SLOT = re.compile(r'"<(\w+)>"|<(\w+)>')
"""A per-frame integer in a template: ``"<name>"`` where a JSON number goes, ``<name>`` inside a string."""


class FrameTemplate:
    """One frame serialised once; `fill` writes in the integers that change from frame to frame."""

    def __init__(self, frame: Mapping[str, Any]) -> None:
        text = json.dumps(frame, separators=(",", ":")).replace("%", "%%")
        self.slots = tuple(match.group(1) or match.group(2) for match in _SLOT.finditer(text))
        if len(self.slots) < 2:  # itemgetter gives a tuple only for two keys or more
            raise ValueError(f"a frame template needs at least two slots (seq and sent_ns), not {self.slots}")
        self._format = _SLOT.sub("%d", text).encode()
        self._pick = operator.itemgetter(*self.slots)

    def fill(self, values: Mapping[str, int]) -> bytes:
        """The frame with each slot's value from ``values`` (which may hold more than this template uses)."""
        frame: bytes = self._format % self._pick(values)
        return frame


def _wrapped(event: Mapping[str, Any]) -> FrameTemplate:
    return FrameTemplate({"subscriptionId": SUBSCRIPTION_ID, "seq": "<seq>", "sent_ns": "<sent_ns>", "event": event})


def _execution_report(fill_index: int) -> FrameTemplate:
    """The ``executionReport`` of an order's fill number ``fill_index`` (from 0): 0.01 BTC at 64,250.10 each."""
    filled = fill_index + 1
    last = filled == FILLS_PER_ORDER
    return _wrapped(
        {
            "e": "executionReport",
            "E": "<ms>",  # event time
            "s": "BTCUSDT",
            "c": "x-BENCH<order>",  # client order id
            "S": "BUY",
            "o": "LIMIT",
            "f": "GTC",
            "q": f"{0.01 * FILLS_PER_ORDER:.8f}",  # order quantity
            "p": "64250.10000000",  # order price
            "P": "0.00000000",  # stop price
            "F": "0.00000000",  # iceberg quantity
            "g": -1,  # order list id
            "C": "",  # original client order id (of a cancel)
            "x": "TRADE",  # execution type
            "X": "FILLED" if last else "PARTIALLY_FILLED",
            "r": "NONE",  # reject reason
            "i": "<order>",
            "l": "0.01000000",  # last executed quantity
            "z": f"{0.01 * filled:.8f}",  # cumulative filled quantity
            "L": "64250.10000000",  # last executed price
            "n": "0.00080000",  # commission
            "N": "BNB",  # commission asset
            "T": "<ms>",  # transaction time
            "t": "<trade>",
            "I": "<trade>",  # "ignore"
            "w": not last,  # still on the book
            "m": True,  # maker
            "M": True,  # "ignore"
            "O": "<ms>",  # order creation time
            "Z": f"{642.501 * filled:.8f}",  # cumulative quote quantity
            "Y": "642.50100000",  # last quote quantity
            "Q": "0.00000000",  # quote order quantity
            "W": "<ms>",  # working time
            "V": "EXPIRE_MAKER",  # self-trade prevention mode
        }
    )


EXECUTION_REPORTS: Final = tuple(_execution_report(fill_index) for fill_index in range(FILLS_PER_ORDER))
ACCOUNT_POSITION: Final = _wrapped(
    {
        "e": "outboundAccountPosition",
        "E": "<ms>",
        "u": "<ms>",  # last account update
        "B": [
            {"a": "BTC", "f": "1.25000000", "l": "0.04000000"},
            {"a": "USDT", "f": "41000.12000000", "l": "2570.00400000"},
            {"a": "BNB", "f": "3.20000000", "l": "0.00000000"},
        ],
    }
)
BALANCE_UPDATE: Final = _wrapped({"e": "balanceUpdate", "E": "<ms>", "a": "USDT", "d": "100.00000000", "T": "<ms>"})


class FrameFeed:
    """The frames of one connection, in order."""

    def __init__(self) -> None:
        self.sent = 0
        self._trades = 0
        # Binance's times are wall-clock milliseconds; derived from the monotonic stamp, they cost no second call.
        self._wall_minus_monotonic_ns = time.time_ns() - time.monotonic_ns()

    def next_frame(self) -> bytes:
        """The next frame, stamped now: call it right before writing the frame."""
        seq = self.sent
        self.sent += 1
        sent_ns = time.monotonic_ns()
        values = {"seq": seq, "sent_ns": sent_ns, "ms": (sent_ns + self._wall_minus_monotonic_ns) // 1_000_000}
        if seq % 50 == 49:
            return BALANCE_UPDATE.fill(values)
        if seq % 10 == 9:
            return ACCOUNT_POSITION.fill(values)
        trade = self._trades
        self._trades += 1
        values["trade"] = FIRST_TRADE_ID + trade
        values["order"] = FIRST_ORDER_ID + trade // FILLS_PER_ORDER
        return EXECUTION_REPORTS[trade % FILLS_PER_ORDER].fill(values)


# --- the server --------------------------------------------------------------------------------------------


async def _flood(websocket: web.WebSocketResponse, feed: FrameFeed, frames: int) -> None:
    with contextlib.suppress(ConnectionError):  # the client left early
        for _ in range(frames):
            # Waits only when the socket's buffer is full: the client's pace sets the flood's.
            await websocket.send_frame(feed.next_frame(), WSMsgType.TEXT)


async def _paced(
    websocket: web.WebSocketResponse, feed: FrameFeed, rate: float, seconds: float | None, start: asyncio.Event | None
) -> None:
    if start is not None:
        await start.wait()
    interval_ns = 1e9 / rate
    frames = None if seconds is None else round(rate * seconds)
    # A random phase spreads many connections' frames evenly over each interval.
    start_ns = time.monotonic_ns() + random.random() * interval_ns
    with contextlib.suppress(ConnectionError):  # the client left early
        while frames is None or feed.sent < frames:
            wait_ns = start_ns + feed.sent * interval_ns - time.monotonic_ns()
            if wait_ns > 0:
                await asyncio.sleep(wait_ns / 1e9)
                continue
            # Every frame that is due goes now, back to back, each stamped when written.
            await websocket.send_frame(feed.next_frame(), WSMsgType.TEXT)


class FeedApp:
    """The server's state: every connection's feed, the paced streams `POST /bench/stop` ends, and the start of
    those held for `POST /bench/start`."""

    def __init__(self) -> None:
        self.feeds: list[FrameFeed] = []
        self.paced_streams: set[asyncio.Task[None]] = set()
        self.held_streams_start = asyncio.Event()
        self.app = web.Application()
        self.app.add_routes(
            [
                web.get(STREAM_PATH, self.stream),
                web.get("/api/v3/time", self.server_time),
                web.get("/api/v3/account", self.account),
                web.get("/api/v3/openOrders", self.no_rows),
                web.get("/api/v3/allOrders", self.no_rows),
                web.get("/api/v3/myTrades", self.no_rows),
                web.get("/api/v3/order", self.no_order),
                web.get("/bench/sent", self.frames_sent),
                web.post("/bench/start", self.start_held_streams),
                web.post("/bench/stop", self.stop_paced_streams),
            ]
        )

    async def stream(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()  # answers the client's pings itself
        await websocket.prepare(request)
        subscribe = await websocket.receive()
        request_id = _subscribe_request_id(subscribe.data) if subscribe.type is WSMsgType.TEXT else None
        if request_id is None:
            await websocket.close(message=b"the first frame must be a userDataStream.subscribe.signature request")
            return websocket
        reply = {"id": request_id, "status": 200, "result": {"subscriptionId": SUBSCRIPTION_ID}}
        await websocket.send_str(json.dumps(reply))
        feed = FrameFeed()
        self.feeds.append(feed)
        query = request.query
        if "frames" in query:
            sender = asyncio.create_task(_flood(websocket, feed, int(query["frames"])))
        else:
            seconds = float(query["seconds"]) if "seconds" in query else None
            start = self.held_streams_start if "hold" in query else None
            sender = asyncio.create_task(_paced(websocket, feed, float(query["rate"]), seconds, start))
            self.paced_streams.add(sender)
            sender.add_done_callback(self.paced_streams.discard)
        try:
            async for _ in websocket:  # reading is what answers pings and sees the close
                pass
        finally:
            sender.cancel()
            await asyncio.wait([sender])
        return websocket

    async def server_time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": time.time_ns() // 1_000_000})

    async def account(self, request: web.Request) -> web.Response:
        now_ms = time.time_ns() // 1_000_000
        balances = [
            {"asset": "BTC", "free": "1.25000000", "locked": "0.04000000"},
            {"asset": "USDT", "free": "41000.12000000", "locked": "2570.00400000"},
            {"asset": "BNB", "free": "3.20000000", "locked": "0.00000000"},
        ]
        return web.json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "updateTime": now_ms,
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
                "uid": 354937868,
            }
        )

    async def no_rows(self, request: web.Request) -> web.Response:
        return web.json_response([])

    async def no_order(self, request: web.Request) -> web.Response:
        return web.json_response({"code": -2013, "msg": "Order does not exist."}, status=400)

    async def frames_sent(self, request: web.Request) -> web.Response:
        return web.json_response({"sent": sum(feed.sent for feed in self.feeds), "at_ns": time.monotonic_ns()})

    async def start_held_streams(self, request: web.Request) -> web.Response:
        self.held_streams_start.set()
        return await self.frames_sent(request)

    async def stop_paced_streams(self, request: web.Request) -> web.Response:
        streams = list(self.paced_streams)
        for stream in streams:
            stream.cancel()
        if streams:
            await asyncio.wait(streams)
        return await self.frames_sent(request)


def _subscribe_request_id(text: str) -> int | None:
    try:
        request = json.loads(text)
    except ValueError:
        return None
    if not isinstance(request, dict) or request.get("method") != SUBSCRIBE_METHOD:
        return None
    request_id = request.get("id")
    return request_id if isinstance(request_id, int) else None


async def _serve() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    runner = web.AppRunner(FeedApp().app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    # A batch of trackers connecting at once must not overflow the accept queue.
    await web.SockSite(runner, listener, backlog=4096).start()
    print(listener.getsockname()[1], flush=True)
    try:
        await asyncio.to_thread(sys.stdin.buffer.read)  # until the parent closes our standard input
    finally:
        await runner.cleanup()


def raise_open_file_limit() -> None:
    """Allow as many open sockets as the hard limit does: a thousand trackers need more than the usual 1024."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the parent's handle ---------------------------------------------------------------------------------------


class FeedServer:
    """The feed's process, from the benchmark's side: ``with FeedServer() as server:`` starts it and stops it."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self._stop()
            raise RuntimeError(f"the feed server did not start (it wrote {line!r}); see its error above")
        self.port = int(line)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()  # the server's signal to stop
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._process = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stream_url(self, **query: float) -> str:
        """The WebSocket's URL with its query: ``frames=N`` for a flood, ``rate=R[, seconds=S][, hold=1]`` for a
        paced stream."""
        return f"ws://127.0.0.1:{self.port}{STREAM_PATH}?{urlencode(query)}"

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user and system), from ``/proc``."""
        assert self._process is not None
        stat = Path(f"/proc/{self._process.pid}/stat").read_text()
        # The command name (in parentheses) may hold spaces; utime and stime are the 12th and 13th fields after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_SECOND


if __name__ == "__main__":
    raise_open_file_limit()
    asyncio.run(_serve())
