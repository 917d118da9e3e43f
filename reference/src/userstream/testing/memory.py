"""An in-memory WebSocket pair: what one end sends, the other receives. No sockets, no server.

Each end has the methods the data source's loop uses (the `userstream.WebSocketLike`
protocol) and yields aiohttp's own `WSMessage` values, so the loop cannot tell it from a
real socket.
"""

from __future__ import annotations

import asyncio

from aiohttp import WSCloseCode, WSMessage, WSMsgType

_CLOSED = WSMessage(WSMsgType.CLOSED, None, None)


class MemoryWebSocket:
    """One end of an in-memory WebSocket; create connected ends with `MemoryWebSocket.pair()`."""

    def __init__(self) -> None:
        self._inbox: asyncio.Queue[WSMessage] = asyncio.Queue()
        self._peer: MemoryWebSocket | None = None
        self._closed = False
        self._close_code: int | None = None
        self.sent: list[str] = []
        """Every text frame this end sent, in order."""

    @classmethod
    def pair(cls) -> tuple[MemoryWebSocket, MemoryWebSocket]:
        """Two connected ends: ``(client, server)``."""
        client, server = cls(), cls()
        client._peer, server._peer = server, client
        return client, server

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_code(self) -> int | None:
        return self._close_code

    def exception(self) -> BaseException | None:
        return None

    async def receive(self, timeout: float | None = None) -> WSMessage:
        if self._closed and self._inbox.empty():
            return _CLOSED
        async with asyncio.timeout(timeout):
            frame = await self._inbox.get()
        if frame.type is WSMsgType.CLOSE:
            self._close_code = frame.data
            await self.close(code=frame.data)
        elif frame.type is WSMsgType.CLOSED:
            self._closed = True
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        return frame

    async def send_str(self, data: str) -> None:
        self._deliver(WSMessage(WSMsgType.TEXT, data, None))
        self.sent.append(data)

    async def send_bytes(self, data: bytes) -> None:
        self._deliver(WSMessage(WSMsgType.BINARY, data, None))

    async def ping(self, message: bytes = b"") -> None:
        self._deliver(WSMessage(WSMsgType.PING, message, None))

    async def pong(self, message: bytes = b"") -> None:
        self._deliver(WSMessage(WSMsgType.PONG, message, None))

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> bool:
        """Send a close frame (the peer answers it on its next receive). False if already closed."""
        if self._closed:
            return False
        self._closed = True
        if self._close_code is None:
            self._close_code = code
        self._inbox.put_nowait(_CLOSED)  # wakes a receive() pending on this end
        if self._peer is not None and not self._peer._closed:
            self._peer._inbox.put_nowait(WSMessage(WSMsgType.CLOSE, code, message.decode()))
        return True

    def abort(self) -> None:
        """Drop the connection without a close frame, as a TCP reset does."""
        for end in (self, self._peer):
            if end is not None and not end._closed:
                end._closed = True
                end._close_code = WSCloseCode.ABNORMAL_CLOSURE
                end._inbox.put_nowait(_CLOSED)

    def _deliver(self, frame: WSMessage) -> None:
        if self._closed or self._peer is None:
            raise ConnectionResetError("cannot send on a closed WebSocket")
        self._peer._inbox.put_nowait(frame)
