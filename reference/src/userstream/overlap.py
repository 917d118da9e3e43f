"""Two connections subscribed at once, during a make-before-break handover: each user message delivered once.

While a successor connection is being subscribed and its predecessor still delivers, the exchange sends
each event on both. `Overlap` remembers the frames each side delivered; a frame the other side already
delivered is an echo and is skipped, so ``user_stream`` sees every event once. Frames are compared as
the exchange sent them (their text): an exchange that stamps each copy differently produces no echoes
this recognises, and then the typed events still arrive once, because the account recognises them.
Pure: no clock, no I/O.
"""

from __future__ import annotations

import enum
from collections import Counter


class Side(enum.Enum):
    PREDECESSOR = "predecessor"
    SUCCESSOR = "successor"


class Overlap:
    """The frames each side of one handover delivered that the other has not yet echoed.

    Bounded: each side remembers at most ``limit`` frames; past that, frames are delivered unchecked.
    """

    def __init__(self, limit: int = 10_000) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit!r}")
        self._limit = limit
        self._delivered: dict[Side, Counter[str]] = {Side.PREDECESSOR: Counter(), Side.SUCCESSOR: Counter()}
        self._predecessor_closed = False
        self.echoes = 0
        """Frames skipped because the other side had delivered them."""

    def deliver(self, side: Side, text: str) -> bool:
        """Whether ``side`` should deliver the frame ``text``: False if the other side already did."""
        other = self._delivered[Side.SUCCESSOR if side is Side.PREDECESSOR else Side.PREDECESSOR]
        if other[text]:
            other[text] -= 1
            if not other[text]:
                del other[text]
            self.echoes += 1
            return False
        mine = self._delivered[side]
        if not (side is Side.SUCCESSOR and self._predecessor_closed) and mine.total() < self._limit:
            mine[text] += 1
        return True

    def predecessor_closed(self) -> None:
        """The predecessor delivers no more: from now on only its frames are looked for among the successor's."""
        self._predecessor_closed = True
        self._delivered[Side.SUCCESSOR].clear()

    def pending(self, side: Side) -> int:
        """Frames ``side`` delivered that the other side has not echoed (yet)."""
        return self._delivered[side].total()
