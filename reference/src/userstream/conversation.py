"""One connection's side of the handshake: the messages it sends and how it reads the replies, in a given phase.

The WebSocket transport asks the connector for a fresh `Conversation` per connection and drops it with the
connection, so what a handshake remembers (the ids of requests still unanswered) can never leak into the next
one. Its methods are pure functions of their inputs and of that per-connection state: the phase a frame arrives
in is passed in, never read back from the loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from userstream.frames import FrameKind, OutgoingMessage
from userstream.status import StreamState


class HandshakeHooks(Protocol):
    """The connector's pure handshake hooks that the default conversation reads."""

    def login_messages(self) -> Sequence[OutgoingMessage]: ...

    def subscribe_messages(self) -> Sequence[OutgoingMessage]: ...

    def expected_subscribe_acks(self, messages: Sequence[OutgoingMessage]) -> int: ...

    def classify(self, message: Any) -> FrameKind: ...


class Conversation:
    """The default: the connector's own hooks, and every frame meaning what `classify` said whatever the phase."""

    def __init__(self, hooks: HandshakeHooks) -> None:
        self.hooks = hooks

    def login_messages(self) -> Sequence[OutgoingMessage]:
        return self.hooks.login_messages()

    def subscribe_messages(self) -> Sequence[OutgoingMessage]:
        return self.hooks.subscribe_messages()

    def expected_subscribe_acks(self, messages: Sequence[OutgoingMessage]) -> int:
        return self.hooks.expected_subscribe_acks(messages)

    def frame_kind(self, message: Any, phase: StreamState) -> FrameKind:
        """What ``message`` means on this connection in ``phase``, as the transport decides it: the connector's
        `classify`, then `interpret` for anything but a user message."""
        kind = self.hooks.classify(message)
        return kind if kind is FrameKind.USER_MESSAGE else self.interpret(kind, message, phase)

    def interpret(self, kind: FrameKind, message: Any, phase: StreamState) -> FrameKind:
        """What a frame classified ``kind`` means in ``phase``. User messages never come here: they skip the step."""
        return kind
