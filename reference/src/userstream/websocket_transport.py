"""The WebSocket transport: one connection from open to end, and the make-before-break handover to the next.

What it owns: connecting with a timeout, the handshake (greeting, login, subscribe, each bounded by one timer),
the reader, one timer per connection (its pings and its staleness watchdog), the connector's per-connection jobs, the
reconciliation that starts once subscribed, and the successor opened while an announced close is pending. What
it reads from the connector are its public hooks, and a fresh `Conversation` per connection; what it writes is
the `StreamRecord` and, through the `Delivery`, the queue and the account.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import aiohttp

from userstream.conversation import Conversation
from userstream.delivery import Delivery
from userstream.errors import (
    AuthenticationError,
    ConnectionLost,
    HandshakeTimeout,
    ServerRequestedReconnect,
    StaleConnection,
    SubscriptionError,
)
from userstream.frames import SHAPE_ERRORS, ConnectionTarget, FrameKind, WebSocketLike, encode_message
from userstream.outbox import Outbox
from userstream.overlap import Overlap, Side
from userstream.reconciliation import Reconciler
from userstream.record import StreamRecord
from userstream.redaction import origin
from userstream.rest import REST_FAILURES
from userstream.status import StreamState
from userstream.timings import StreamTimings

if TYPE_CHECKING:
    from userstream.data_source import UserStreamTrackerDataSource

WebSocketFactory = Callable[[ConnectionTarget, StreamTimings], Awaitable[WebSocketLike]]
"""Opens a WebSocket for a target; the default uses aiohttp, tests may pass an in-memory one."""

_CLOSING_TYPES = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


@dataclass(eq=False)
class Link:
    """One connection and what belongs to it alone; it ends with the connection."""

    websocket: WebSocketLike
    timings: StreamTimings
    conversation: Conversation
    primary: bool
    """Its phase is the stream's (a successor being subscribed beside a streaming predecessor is not, until it
    takes over)."""
    phase: StreamState = StreamState.CONNECTING
    closing_soon: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    """Done once the exchange announced the connection's end (`FrameKind.CLOSING_SOON`). A future, not an
    `asyncio.Event`: it is set once, and an event's waiter queue costs 0.7 KiB per connection."""
    overlap: Overlap | None = None
    """While it and the other connection of a handover are both subscribed: what each has delivered."""
    side: Side = Side.PREDECESSOR
    overlap_ends: float | None = None
    """The loop time after which a successor stops looking for its predecessor's echoes."""
    last_frame_at: float = 0.0
    """`time.monotonic()` of its last frame (of its opening, before the first): what its watchdog measures from."""
    awaiting: FrameKind | None = None
    """The frame its handshake waits for, for the error if it never comes."""


class WebSocketTransport:
    """Runs connections for one data source; `run` is what its supervisor calls, once per connection."""

    def __init__(
        self,
        connector: UserStreamTrackerDataSource,
        *,
        record: StreamRecord,
        delivery: Delivery,
        reconciler: Reconciler,
        websocket_factory: WebSocketFactory | None = None,
    ) -> None:
        self.connector = connector
        self.record = record
        self.delivery = delivery
        self.reconciler = reconciler
        self._websocket_factory = websocket_factory
        self._logger = connector.logger
        self._current: Link | None = None

    @property
    def connected(self) -> bool:
        return self._current is not None and not self._current.websocket.closed

    async def run(self, output: Outbox[Any], handed_over: Link | None) -> Link:
        """One connection from open to end, or from the handover that made it to the next.

        Ends by an exception (the supervisor backs off and reconnects), or by returning the successor that
        replaced it make-before-break, already subscribed: then there was no gap, and none is reconciled.
        """
        if handed_over is None:
            self.record.state = StreamState.CONNECTING
            self.reconciler.open_gap(self.record.last_recv_time or None)
            link = await self._open_link(primary=True)
        else:
            link = handed_over
            link.primary = True
            self.record.state = link.phase
            if link.overlap is not None:
                link.overlap.predecessor_closed()
                link.overlap_ends = asyncio.get_running_loop().time() + link.timings.handover_overlap
        self._current = link
        subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def converse() -> None:
            if handed_over is None:
                await self._handshake(link, output)
            self._enter(link, StreamState.STREAMING)
            self.record.start_streaming()
            self._logger.info("streaming")
            subscribed.set_result(None)
            await self._stream(link, output)

        async def reconcile() -> None:
            # Only once subscribed: a snapshot taken earlier could miss what happens before the stream starts.
            await asyncio.shield(subscribed)  # shielded: a cancelled waiter must not cancel it for the others
            await self.reconciler.run(output.put)

        tasks = {
            asyncio.create_task(converse()),
            asyncio.create_task(self._keep_time(link, watch=True)),
            *(asyncio.create_task(job()) for job in self.connector.connection_jobs()),
        }
        if self.reconciler.enabled:
            tasks.add(asyncio.create_task(reconcile()))
        succession = asyncio.create_task(self._succeed(link, output, subscribed))
        try:
            while True:
                # The conversation only ends by an exception; a job may end the connection by raising.
                done, _ = await asyncio.wait({*tasks, succession}, return_when=asyncio.FIRST_COMPLETED)
                failed = next((task for task in done if not task.cancelled() and task.exception()), None)
                if failed is not None and failed is not succession:
                    raise cast(BaseException, failed.exception())
                tasks -= done
                if succession in done:
                    successor = None if succession.exception() else succession.result()
                    if successor is not None:
                        # Both are subscribed: the predecessor goes on delivering for a moment, for what was
                        # already on its way, then the successor takes over (echoes of those are skipped).
                        await asyncio.wait(
                            tasks, timeout=link.timings.handover_overlap, return_when=asyncio.FIRST_EXCEPTION
                        )
                        self.record.handovers += 1
                        self._logger.info("handed over to a new connection, subscribed before this one closed")
                        return successor
        finally:
            succession.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.wait({*tasks, succession})
            await self.close_link(link)
            if self._current is link:
                self._current = None

    async def release(self, handover: Link) -> None:
        await self.close_link(handover)

    async def close(self) -> None:
        """Close the connection in use, if any (the listener has been cancelled)."""
        if self._current is not None:
            await self.close_link(self._current)
            self._current = None

    async def close_link(self, link: Link) -> None:
        websocket = link.websocket
        if websocket.closed:
            return
        try:
            # aiohttp bounds the close handshake itself; this bounds any other WebSocketLike.
            async with asyncio.timeout(link.timings.close_timeout + 1):
                await websocket.close()
        except (TimeoutError, ConnectionError, aiohttp.ClientError) as error:
            self._logger.debug("close did not complete cleanly: %s", error)

    # --- opening -------------------------------------------------------------------------------------

    async def _open_link(self, *, primary: bool) -> Link:
        target = await self.connector.connection_target()
        timings = self.connector.timings.with_ping_interval(target.ping_interval)
        self._logger.info("connecting to %s", origin(target.url))
        websocket = await self._open_websocket(target, timings)
        self.record.measure_wall_clock()
        link = Link(websocket, timings, self.connector.open_conversation(), primary=primary)
        link.last_frame_at = time.monotonic()
        return link

    async def _open_websocket(self, target: ConnectionTarget, timings: StreamTimings) -> WebSocketLike:
        try:
            async with asyncio.timeout(timings.connect_timeout):
                return await self._connect(target, timings)
        except aiohttp.WSServerHandshakeError as error:
            # aiohttp's message quotes the whole URL, and a listen key or token may be in it.
            refusal = f"{origin(target.url)} refused the WebSocket upgrade with HTTP {error.status}"
            if error.status in (401, 403):
                raise AuthenticationError(f"{refusal}: the credential in the URL was not accepted") from None
            raise ConnectionLost(refusal) from None

    async def _connect(self, target: ConnectionTarget, timings: StreamTimings) -> WebSocketLike:
        if self._websocket_factory is not None:
            return await self._websocket_factory(target, timings)
        session = await self.connector.http_session()
        websocket = await session.ws_connect(
            target.url,
            headers=dict(target.headers),
            autoping=False,  # pings and pongs must reach the loop: they move last_recv_time
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=timings.close_timeout),
        )
        return cast(WebSocketLike, websocket)

    def _enter(self, link: Link, phase: StreamState) -> None:
        link.phase = phase
        if link.primary:
            self.record.state = phase

    # --- the handshake -------------------------------------------------------------------------------

    async def _handshake(self, link: Link, output: Outbox[Any]) -> None:
        timings = link.timings
        try:
            # One timer for the whole handshake; staleness meanwhile is the connection's watchdog's.
            async with asyncio.timeout(timings.handshake_timeout):
                await self._converse(link, output)
        except TimeoutError:
            if link.awaiting is None:
                raise
            raise HandshakeTimeout(f"no {link.awaiting.value} frame within {timings.handshake_timeout:g} s") from None
        link.awaiting = None

    async def _converse(self, link: Link, output: Outbox[Any]) -> None:
        conversation = link.conversation
        if self.connector.AWAIT_READY:
            await self._read_until(link, output, FrameKind.READY, 1)
        logins = list(conversation.login_messages())
        if logins:
            self._enter(link, StreamState.AUTHENTICATING)
            for message in logins:
                await link.websocket.send_str(encode_message(message))
            await self._read_until(link, output, FrameKind.AUTH_OK, 1)
            self._logger.info("authenticated")
        subscriptions = list(conversation.subscribe_messages())
        if subscriptions:
            self._enter(link, StreamState.SUBSCRIBING)
            for message in subscriptions:
                await link.websocket.send_str(encode_message(message))
            acks = conversation.expected_subscribe_acks(subscriptions)
            if acks:
                await self._read_until(link, output, FrameKind.SUBSCRIBED, acks)
            self._logger.info("subscribed with %d message(s)", len(subscriptions))

    async def _read_until(self, link: Link, output: Outbox[Any], until: FrameKind, count: int) -> None:
        """Read frames (queueing user messages) until ``count`` frames of kind ``until`` have arrived."""
        link.awaiting = until
        seen = 0
        while seen < count:
            handled = await self._accept_frame(link, await link.websocket.receive())
            if handled is None:
                continue
            kind, message = handled
            if kind is FrameKind.USER_MESSAGE:
                await self.delivery.deliver(message, output)
                continue
            await self._obey(link, kind, message)
            if kind is until:
                seen += 1

    # --- streaming -----------------------------------------------------------------------------------

    async def _stream(self, link: Link, output: Outbox[Any]) -> None:
        """Read frames for as long as the connection lasts: the per-message path.

        A text frame that is a user message goes from the socket to the queue in one plain call chain, with no
        timer (the watchdog measures from `Link.last_frame_at`), no lock and, when the connector parses
        nothing, no parsing; pings, pongs, binary frames and a handover's frames take the general path.
        """
        receive = link.websocket.receive
        decode, classify = self.connector.frame_decoder, self.connector.classify
        delivery, record = self.delivery, self.record
        push, room = output.push, output.room
        apply_events = delivery.apply_account_events if delivery.parse is not None else None
        clock = time.monotonic
        text, user_message = aiohttp.WSMsgType.TEXT, FrameKind.USER_MESSAGE
        while True:
            frame = await receive()
            if frame.type is text and link.overlap is None:
                link.last_frame_at = record.last_frame_at = clock()
                try:
                    message = decode(frame.data)
                    kind = classify(message)
                except SHAPE_ERRORS as error:
                    record.skip_malformed(frame.data, f"{type(error).__name__}: {error}")
                    continue
                if kind is user_message:
                    if push(message):
                        await room()
                    delivery.messages_queued += 1
                    if apply_events is not None:
                        pending = apply_events(message)
                        if pending is not None:
                            await pending
                    continue
                if kind is FrameKind.MALFORMED:
                    record.skip_malformed(frame.data, "unexpected shape")
                    continue
                kind = link.conversation.interpret(kind, message, link.phase)
            else:
                handled = await self._accept_frame(link, frame)
                if handled is None:
                    continue
                kind, message = handled
                if kind is user_message:
                    await delivery.deliver(message, output)
                    continue
            await self._obey(link, kind, message)

    async def _accept_frame(self, link: Link, frame: aiohttp.WSMessage) -> tuple[FrameKind, Any] | None:
        """Any frame, the general path: its kind as the connection's conversation reads it in the connection's
        phase, and its message; None for pings, pongs, malformed frames and a handover's echoes. Raises
        `ConnectionLost` for a close or an error."""
        websocket = link.websocket
        if frame.type in _CLOSING_TYPES:
            code = websocket.close_code
            raise ConnectionLost(f"connection closed by the exchange (code {code})", close_code=code)
        if frame.type is aiohttp.WSMsgType.ERROR:
            raise ConnectionLost(f"connection failed: {websocket.exception() or frame.data}")
        link.last_frame_at = self.record.last_frame_at = time.monotonic()
        if frame.type is aiohttp.WSMsgType.PING:
            await websocket.pong(frame.data)
            return None
        if frame.type is aiohttp.WSMsgType.PONG:
            return None
        try:
            message = self.connector.frame_decoder(frame.data)
            kind = link.conversation.frame_kind(message, link.phase)
        except SHAPE_ERRORS as error:
            self.record.skip_malformed(frame.data, f"{type(error).__name__}: {error}")
            return None
        if kind is FrameKind.MALFORMED:
            self.record.skip_malformed(frame.data, "unexpected shape")
            return None
        if kind is FrameKind.USER_MESSAGE and link.overlap is not None:
            if link.overlap_ends is not None and asyncio.get_running_loop().time() > link.overlap_ends:
                link.overlap = link.overlap_ends = None
            elif not link.overlap.deliver(link.side, _frame_text(frame.data)):
                return None  # the other connection of a handover delivered it already
        return kind, message

    async def _obey(self, link: Link, kind: FrameKind, message: Any) -> None:
        """Act on a frame that is not a user message: a rejection or an end raises, an announced close is noted."""
        connector = self.connector
        if kind is FrameKind.AUTH_REJECTED:
            clock_skew = connector.is_clock_skew(message) and connector.SERVER_TIME_PATH is not None
            if clock_skew:
                await self._resync_clock_after_rejection()
            raise AuthenticationError(connector.describe_rejection(message), clock_skew=clock_skew)
        if kind is FrameKind.SUBSCRIBE_REJECTED:
            raise SubscriptionError(connector.describe_rejection(message))
        if kind is FrameKind.RECONNECT:
            raise ServerRequestedReconnect(connector.describe_rejection(message))
        if kind is FrameKind.CLOSING_SOON and not link.closing_soon.done():
            self._logger.info("the exchange will close this connection soon: %s", connector.describe_rejection(message))
            link.closing_soon.set_result(None)

    async def _resync_clock_after_rejection(self) -> None:
        """Re-measure the clock offset; a failure is logged, so the exchange's rejection stays the reported error."""
        if self.connector.rest_url is None:
            self._logger.warning("the exchange blamed our clock, but no rest_url was given to measure its time")
            return
        try:
            await self.connector.sync_server_time()
        except (*REST_FAILURES, ValueError, LookupError) as error:
            self._logger.warning("could not measure the exchange's clock: %s", error)

    # --- beside the reader: the timer (pings, watchdog), the successor -------------------------------

    async def _keep_time(self, link: Link, *, watch: bool) -> None:
        """The connection's one timer: a ping every ``ping_interval`` and, when ``watch``, the watchdog, which ends
        the connection once no frame has arrived for ``stale_after``. It is re-armed from the time of the last
        frame, so a frame costs the reader one clock reading and no timer. A ping that fails stops the pings (the
        reader sees the same failure on its next receive; it owns the reconnect), not the watchdog."""
        stale_after, ping_interval = link.timings.stale_after, link.timings.ping_interval
        next_ping: float | None = time.monotonic() + ping_interval
        while True:
            now = time.monotonic()
            wake = math.inf
            if watch:
                self.record.measure_wall_clock()  # the wall clock may have been stepped since the last turn
                if now - link.last_frame_at >= stale_after:
                    raise StaleConnection(f"no frame for {stale_after:g} s; the connection is stale")
                wake = link.last_frame_at + stale_after
            if next_ping is not None and now >= next_ping:
                next_ping = now + ping_interval if await self._ping(link.websocket) else None
            if next_ping is not None:
                wake = min(wake, next_ping)
            if wake == math.inf:
                return  # nothing left to time: a successor whose ping failed, before it takes over
            await asyncio.sleep(wake - time.monotonic())

    async def _ping(self, websocket: WebSocketLike) -> bool:
        """Send one ping; False if the connection refused it."""
        ping = self.connector.ping_message()
        try:
            if ping is None:
                await websocket.ping()
            else:
                await websocket.send_str(encode_message(ping))
        except (ConnectionError, aiohttp.ClientError) as error:
            self._logger.debug("ping failed: %s", error)
            return False
        return True

    async def _succeed(self, link: Link, output: Outbox[Any], subscribed: asyncio.Future[None]) -> Link | None:
        """Once the exchange announces this connection's end (or it reaches `MAX_CONNECTION_AGE`), open and
        subscribe its successor while it still delivers; None if that fails (the connection then goes on until
        the exchange closes it, and the reconnect after that reconciles as usual)."""
        await asyncio.shield(subscribed)
        max_age = self.connector.MAX_CONNECTION_AGE
        try:
            async with asyncio.timeout(max_age):
                await asyncio.shield(link.closing_soon)
            self._logger.info("the exchange announced this connection's end: opening its successor")
        except TimeoutError:
            self._logger.info("the connection is %g s old: replacing it", max_age)
        overlap = Overlap()
        link.overlap, link.side = overlap, Side.PREDECESSOR
        try:
            successor = await self._open_link(primary=False)
        except Exception as error:  # noqa: BLE001 - the connection in use is unharmed; its end is handled as usual
            self._logger.warning("could not open a successor connection: %s", self.connector.redact(str(error)))
            return None
        successor.overlap, successor.side = overlap, Side.SUCCESSOR
        keep_alive = asyncio.create_task(self._keep_time(successor, watch=False))
        try:
            # Its watchdog starts once it takes over; until then the handshake's timeout bounds a silent successor.
            await self._handshake(successor, output)
        except BaseException as error:
            await self.close_link(successor)
            if not isinstance(error, Exception):
                raise
            self._logger.warning("the successor connection failed its handshake: %s", self.connector.redact(str(error)))
            return None
        finally:
            keep_alive.cancel()
            await asyncio.wait([keep_alive])
        return successor


def _frame_text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", "replace")
