"""The reviewer's checklist: what a connector must do, each item decided by the contract tests marked with it.

A contract test says which item it decides with ``@checks("reconnects")`` (the pytest marker
``userstream_check``); `userstream check` runs a project's tests and reports each item as passed when every
test marked with it passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

import pytest

MARKER: Final = "userstream_check"
T = TypeVar("T")


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    text: str


CHECKLIST: Final = (
    ChecklistItem("connects", "connects, authenticates and subscribes to orders, fills and balances"),
    ChecklistItem("queues_user_messages", "queues the exchange's user messages, in order, and nothing else"),
    ChecklistItem("last_recv_time", "last_recv_time moves on every frame and never goes backwards"),
    ChecklistItem("keepalives", "sends its keepalives on schedule"),
    ChecklistItem(
        "reconnects",
        "reconnects after a drop, a 1001 close and a silent connection within the configured bounds, "
        "re-authenticating and re-subscribing",
    ),
    ChecklistItem("rejected_login", "reports a rejected login in the exchange's words and retries with backoff"),
    ChecklistItem("credential_expiry", "replaces an expired key or token (where the archetype has one)"),
    ChecklistItem("reconciled_gap", "loses nothing across a gap once reconciled"),
    ChecklistItem("malformed_frames", "skips malformed frames and stays up"),
    ChecklistItem("clean_stop", "stop() leaves no task and no socket"),
    ChecklistItem("no_secrets", "shows no secret in logs, repr or status"),
)
ITEMS: Final = {item.key: item for item in CHECKLIST}


def checks(key: str) -> Callable[[T], T]:
    """Mark a contract test as deciding the checklist item ``key``."""
    if key not in ITEMS:
        raise ValueError(f"no checklist item {key!r}; the items are {', '.join(ITEMS)}")
    marker: Callable[[T], T] = getattr(pytest.mark, MARKER)(key)
    return marker
