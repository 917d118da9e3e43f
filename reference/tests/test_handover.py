"""Make-before-break handovers, and what a snapshot is asked to cover (`SnapshotScope`).

An exchange that announces a connection's end (`FrameKind.CLOSING_SOON`), or a connection reaching
``MAX_CONNECTION_AGE``, is replaced by a successor that is logged in and subscribed while the old one
still delivers; frames both delivered reach ``user_stream`` once (`Overlap`), and no reconciliation is
needed because there was no gap. The reference connector, taught one announcement frame, shows it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from reconciling import Build
from reference_connector import ReconcilingReferenceDataSource
from stream_helpers import FAST_TIMINGS, client_tasks, eventually, next_message

from userstream import AccountState, FrameKind, OrderStatus, OrderUpdate, SnapshotScope, TradeFill
from userstream.overlap import Overlap, Side
from userstream.reconciliation import HISTORY_OVERLAP
from userstream.testing import FakeExchange
from userstream.testing.contract import drain, gap_marker, listen_with_events, start_listening
from userstream.testing.dialect import Dialect
from userstream.testing.dialects import reference

NOTICE = {"event": "closing_soon", "msg": "maintenance in 30 s"}


class AnnouncingDataSource(ReconcilingReferenceDataSource):
    """The reconciling reference connector, for an exchange that announces a connection's end with `NOTICE`."""

    def classify(self, message: Any) -> FrameKind:
        return FrameKind.CLOSING_SOON if message.get("event") == NOTICE["event"] else super().classify(message)


class AgingDataSource(ReconcilingReferenceDataSource):
    MAX_CONNECTION_AGE: ClassVar[float | None] = 0.5


@pytest.fixture
def fake_exchange_dialect() -> Dialect:
    return reference.LoginMessageDialect()


def order(order_id: str = "1", symbol: str = "BTC-USDT") -> OrderUpdate:
    return OrderUpdate(
        exchange_order_id=order_id,
        client_order_id=None,
        symbol=symbol,
        status=OrderStatus.OPEN,
        price=Decimal(1),
        quantity=Decimal(1),
        filled_quantity=Decimal(0),
    )


# --- the pure parts ---------------------------------------------------------------------------------------


def test_a_frame_both_connections_deliver_is_delivered_once_whichever_comes_first() -> None:
    overlap = Overlap()
    assert overlap.deliver(Side.PREDECESSOR, "a")
    assert overlap.deliver(Side.SUCCESSOR, "b")
    assert not overlap.deliver(Side.SUCCESSOR, "a"), "the predecessor delivered it already"
    assert not overlap.deliver(Side.PREDECESSOR, "b"), "the successor delivered it already"
    assert overlap.deliver(Side.SUCCESSOR, "a"), "a second, real event with the same text is delivered"
    assert overlap.echoes == 2


def test_once_the_predecessor_closed_the_successor_only_skips_its_echoes() -> None:
    overlap = Overlap()
    overlap.deliver(Side.PREDECESSOR, "a")
    overlap.deliver(Side.SUCCESSOR, "b")
    overlap.predecessor_closed()
    assert not overlap.deliver(Side.SUCCESSOR, "a")
    assert overlap.deliver(Side.SUCCESSOR, "b")
    assert (overlap.pending(Side.PREDECESSOR), overlap.pending(Side.SUCCESSOR)) == (0, 0), "nothing more is kept"


def test_an_overlap_remembers_a_bounded_number_of_frames() -> None:
    overlap = Overlap(limit=2)
    for text in "abc":
        overlap.deliver(Side.PREDECESSOR, text)
    assert overlap.pending(Side.PREDECESSOR) == 2
    assert overlap.deliver(Side.SUCCESSOR, "c"), "past the bound, frames go unchecked"
    with pytest.raises(ValueError, match="at least 1"):
        Overlap(limit=0)


def test_history_starts_at_the_gap_but_never_before_the_exchange_s_window() -> None:
    first = SnapshotScope(taken_at=1000.0, since=None)
    assert first.history_start(window=300) == 700.0
    assert SnapshotScope(taken_at=1000.0, since=900.0).history_start(window=300) == 900.0
    assert SnapshotScope(taken_at=1000.0, since=100.0).history_start(window=300) == 700.0
    assert SnapshotScope(taken_at=1000.0, since=900.5).history_start_ms(window=300) == 900_500


def test_the_account_knows_every_symbol_it_has_seen_traded() -> None:
    account = AccountState()
    account.apply(order("1", "BTC-USDT"))
    fill = TradeFill(
        trade_id="t",
        exchange_order_id="2",
        client_order_id=None,
        symbol="ETH-USDT",
        price=Decimal(1),
        quantity=Decimal(1),
        fee=Decimal(0),
        fee_asset=None,
    )
    account.apply(fill)
    assert account.symbols == {"BTC-USDT", "ETH-USDT"}


# --- what a snapshot is asked for -------------------------------------------------------------------------


class ScopeRecordingDataSource(ReconcilingReferenceDataSource):
    scopes: list[SnapshotScope]

    def configure(self) -> None:
        self.scopes = []

    async def fetch_account_snapshot(self, scope: SnapshotScope) -> Any:
        self.scopes.append(scope)
        return await super().fetch_account_snapshot(scope)


async def test_a_snapshot_covers_the_configured_and_the_seen_symbols_from_the_gap_s_start(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    truth.place_order("SOL-USDT")
    data_source = build(ScopeRecordingDataSource, symbols=["ETH-USDT"])
    assert isinstance(data_source, ScopeRecordingDataSource)
    output, _ = listen_with_events(data_source)
    await gap_marker(output)
    [first] = data_source.scopes
    assert (first.since, first.symbols) == (None, {"ETH-USDT"}), "the first snapshot has no gap start"
    last_known_good = max(data_source.last_recv_time, data_source.status.reconciled_at or 0)
    await fake_exchange.drop_connections()
    await gap_marker(output)
    second = data_source.scopes[-1]
    assert second.symbols == {"ETH-USDT", "SOL-USDT"}, "the open order the first snapshot found is traded"
    assert second.since is not None
    assert second.since == pytest.approx(last_known_good - HISTORY_OVERLAP, abs=0.5)
    assert second.since <= second.taken_at


@pytest.mark.parametrize(
    ("symbols", "complaint"),
    [("BTC-USDT", "not the single string"), (["BTC-USDT", ""], "non-empty text"), ([7], "non-empty text")],
)
def test_symbols_must_be_a_collection_of_names(symbols: Any, complaint: str) -> None:
    with pytest.raises(TypeError, match=complaint):
        ReconcilingReferenceDataSource(ws_url="ws://127.0.0.1:9", symbols=symbols)


# --- handovers ----------------------------------------------------------------------------------------------


async def test_an_announced_close_is_handed_over_make_before_break_and_each_frame_arrives_once(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(AnnouncingDataSource, timings=replace(FAST_TIMINGS, handover_overlap=0.5))
    output, events = listen_with_events(data_source)
    await gap_marker(output)
    reconciled_at = data_source.status.reconciled_at
    [old] = fake_exchange.connections
    await fake_exchange.announce_close(NOTICE, after=3.0)

    def successor_subscribed() -> bool:
        return len(fake_exchange.connections) == 2 and len(fake_exchange.connections[1].subscriptions) == 3

    await eventually(successor_subscribed, "the successor logged in and subscribed")
    new = fake_exchange.connections[1]
    placed = truth.place_order()
    assert await truth.publish() == 1
    assert old.open
    assert new.open, "both connections are open: the event went out on each"
    assert await next_message(output) == {"channel": "orders", "data": placed.as_json()}
    await eventually(lambda: data_source.status.handovers == 1, "the handover")
    await eventually(lambda: not old.open, "the old connection closed")
    assert old.client_close_code == 1000, "closed by the client, before the exchange's own close"
    truth.cancel(placed.order_id)
    await truth.publish()
    assert await next_message(output) == {"channel": "orders", "data": placed.as_json()}
    assert drain(output) == [], "the successor's copy of the first event was skipped"
    status = data_source.status
    assert (status.handovers, status.reconnect_count, status.reconciled_at) == (1, 0, reconciled_at), "no gap"
    statuses = [update.status for update in drain(events) if isinstance(update, OrderUpdate)]
    assert statuses == [OrderStatus.OPEN, OrderStatus.CANCELED]


async def test_a_connection_is_replaced_before_it_reaches_its_maximum_age(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(AgingDataSource)
    output = start_listening(data_source)[0]
    await gap_marker(output)
    await eventually(lambda: data_source.status.handovers >= 1, "a replacement at the maximum age")
    await eventually(lambda: fake_exchange.open_connections == 1, "the old connection closed")
    old, new = fake_exchange.connections[:2]
    assert old.client_close_code == 1000, "closed by the client, once the successor was subscribed"
    assert new.open
    assert data_source.status.reconnect_count == 0


async def test_a_successor_that_fails_its_login_leaves_the_announced_connection_in_use(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(AnnouncingDataSource)
    output = start_listening(data_source)[0]
    await gap_marker(output)
    fake_exchange.reject_next_login()
    await fake_exchange.announce_close(NOTICE, after=0.5)
    await eventually(lambda: len(fake_exchange.connections) == 2 and not fake_exchange.connections[1].open, "refused")
    assert data_source.status.streaming
    placed = truth.place_order()
    await truth.publish()
    assert await next_message(output) == {"channel": "orders", "data": placed.as_json()}, "the old one still delivers"
    # When the exchange closes it, the stream reconnects and reconciles, as after any close.
    marker = await gap_marker(output)
    assert marker["reason"] == "reconnected"
    assert (data_source.status.handovers, data_source.status.reconnect_count) == (0, 1)


async def test_stop_during_a_handover_leaves_no_task_and_no_connection(
    fake_exchange: FakeExchange, truth: reference.ReferenceAccount, build: Build
) -> None:
    data_source = build(AnnouncingDataSource)
    output = start_listening(data_source)[0]
    await gap_marker(output)
    await fake_exchange.announce_close(NOTICE, after=5.0)
    await eventually(lambda: len(fake_exchange.connections) == 2, "the successor is connecting")
    await data_source.stop()
    await eventually(lambda: fake_exchange.open_connections == 0, "no connection left open")
    await asyncio.sleep(0)
    assert client_tasks() == set()
