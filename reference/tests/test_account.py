"""`AccountState`'s rules and the typed events, tested directly: pure code, no I/O, no mocks."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from userstream import (
    AccountSnapshot,
    AccountState,
    BalanceUpdate,
    EventSource,
    OrderStatus,
    OrderUpdate,
    Reconciled,
    ReconcileReason,
    TradeFill,
    is_gap_marker,
)


def order(
    status: OrderStatus = OrderStatus.OPEN,
    *,
    order_id: str = "1001",
    filled: str = "0",
    quantity: str = "1",
    price: str = "30000",
    updated_at: int | None = 100,
    client_order_id: str | None = "bot-1",
    source: EventSource = EventSource.STREAM,
) -> OrderUpdate:
    return OrderUpdate(
        exchange_order_id=order_id,
        client_order_id=client_order_id,
        symbol="BTC-USDT",
        status=status,
        price=Decimal(price),
        quantity=Decimal(quantity),
        filled_quantity=Decimal(filled),
        updated_at=updated_at,
        source=source,
    )


def fill(trade_id: str = "5001", *, order_id: str = "1001", quantity: str = "0.5") -> TradeFill:
    return TradeFill(
        trade_id=trade_id,
        exchange_order_id=order_id,
        client_order_id="bot-1",
        symbol="BTC-USDT",
        price=Decimal(30000),
        quantity=Decimal(quantity),
        fee=Decimal("0.1"),
        fee_asset="USDT",
        timestamp=100,
    )


def balance(
    asset: str = "USDT", total: str = "1000", available: str | None = None, *, updated_at: int | None = 100
) -> BalanceUpdate:
    return BalanceUpdate(
        asset=asset,
        total=Decimal(total),
        available=Decimal(total if available is None else available),
        updated_at=updated_at,
    )


def kinds(events: list[Any]) -> list[str]:
    return [type(event).__name__ for event in events]


# --- fills ----------------------------------------------------------------------------------------------


def test_a_new_fill_is_applied_and_remembered() -> None:
    state = AccountState()
    assert state.apply(fill("5001"))
    assert state.has_fill("5001")
    assert not state.has_fill("5002")


def test_a_fill_repeated_with_the_same_trade_id_is_old_news() -> None:
    state = AccountState()
    state.apply(fill("5001"))
    assert not state.apply(fill("5001", quantity="0.7"))


def test_one_trade_id_on_two_symbols_is_two_fills() -> None:
    # Binance and Gate.io number trades per market: the same id on another symbol is another execution.
    state = AccountState()
    assert state.apply(fill("5001"))
    assert state.apply(msgspec.structs.replace(fill("5001"), symbol="ETH-USDT"))
    assert not state.apply(msgspec.structs.replace(fill("5001"), symbol="ETH-USDT"))
    assert state.has_fill("5001", "ETH-USDT")
    assert not state.has_fill("5001", "LTC-USDT")
    assert state.has_fill("5001")


def test_fills_with_different_trade_ids_on_one_order_are_each_applied() -> None:
    state = AccountState()
    assert state.apply(fill("5001"))
    assert state.apply(fill("5002"))


# --- orders ---------------------------------------------------------------------------------------------


def test_a_new_order_is_listed_open() -> None:
    state = AccountState()
    update = order()
    assert state.apply(update)
    assert state.open_orders == {"1001": update}
    assert state.order("1001") == update


def test_an_unknown_order_is_none() -> None:
    assert AccountState().order("nope") is None


def test_an_order_update_saying_nothing_new_is_old_news() -> None:
    state = AccountState()
    state.apply(order(updated_at=100))
    assert not state.apply(order(updated_at=100))


def test_a_partial_fill_replaces_the_open_order() -> None:
    state = AccountState()
    state.apply(order(updated_at=100))
    partial = order(OrderStatus.PARTIALLY_FILLED, filled="0.4", updated_at=110)
    assert state.apply(partial)
    assert state.open_orders["1001"] == partial


def test_a_final_order_leaves_the_open_orders_and_stays_readable() -> None:
    state = AccountState()
    state.apply(order(updated_at=100))
    filled = order(OrderStatus.FILLED, filled="1", updated_at=110)
    assert state.apply(filled)
    assert "1001" not in state.open_orders
    assert state.order("1001") == filled


def test_an_order_first_seen_in_its_final_state_is_applied_but_never_listed_open() -> None:
    state = AccountState()
    canceled = order(OrderStatus.CANCELED, updated_at=100)
    assert state.apply(canceled)
    assert state.open_orders == {}
    assert state.order("1001") == canceled


def test_a_final_order_stays_final_when_an_older_update_arrives_late() -> None:
    state = AccountState()
    canceled = order(OrderStatus.CANCELED, updated_at=120)
    state.apply(canceled)
    assert not state.apply(order(OrderStatus.OPEN, updated_at=100))
    assert state.order("1001") == canceled
    assert state.open_orders == {}


def test_a_final_order_stays_final_even_when_an_update_claims_to_be_newer() -> None:
    state = AccountState()
    filled = order(OrderStatus.FILLED, filled="1", updated_at=120)
    state.apply(filled)
    assert not state.apply(order(OrderStatus.OPEN, filled="1", updated_at=130))
    assert state.order("1001") == filled


def test_a_final_state_repeated_is_old_news() -> None:
    state = AccountState()
    state.apply(order(OrderStatus.FILLED, filled="1", updated_at=120))
    assert not state.apply(order(OrderStatus.FILLED, filled="1", updated_at=120))


def test_a_final_order_with_an_update_time_older_than_the_open_one_is_ignored() -> None:
    state = AccountState()
    partial = order(OrderStatus.PARTIALLY_FILLED, filled="0.4", updated_at=120)
    state.apply(partial)
    assert not state.apply(order(OrderStatus.CANCELED, filled="0.4", updated_at=110))
    assert state.open_orders["1001"] == partial


def test_an_order_update_older_than_the_applied_one_is_ignored() -> None:
    state = AccountState()
    newer = order(price="31000", updated_at=120)
    state.apply(newer)
    assert not state.apply(order(price="30000", updated_at=110))
    assert state.open_orders["1001"] == newer


def test_the_filled_quantity_never_shrinks_even_with_a_newer_update_time() -> None:
    state = AccountState()
    partial = order(OrderStatus.PARTIALLY_FILLED, filled="0.6", updated_at=120)
    state.apply(partial)
    assert not state.apply(order(OrderStatus.PARTIALLY_FILLED, filled="0.2", updated_at=130))
    assert state.open_orders["1001"] == partial


def test_the_filled_quantity_never_shrinks_without_update_times() -> None:
    state = AccountState()
    state.apply(order(OrderStatus.PARTIALLY_FILLED, filled="0.6", updated_at=None))
    assert not state.apply(order(OrderStatus.OPEN, filled="0", updated_at=None))
    assert state.open_orders["1001"].filled_quantity == Decimal("0.6")


def test_an_order_update_without_update_time_applies_when_it_says_something_new() -> None:
    state = AccountState()
    state.apply(order(updated_at=None))
    moved = order(price="29000", updated_at=None)
    assert state.apply(moved)
    assert state.open_orders["1001"] == moved


def test_a_repeated_order_state_with_a_newer_update_time_raises_the_bar_for_later_updates() -> None:
    state = AccountState()
    state.apply(order(updated_at=100))
    assert not state.apply(order(updated_at=120)), "the same state is not passed on again"
    # Measured against 120 now, not 100: an update from 110 is older than what is known.
    assert not state.apply(order(price="29000", updated_at=110))
    assert state.open_orders["1001"].price == Decimal(30000)


# --- balances -------------------------------------------------------------------------------------------


def test_a_new_balance_is_applied() -> None:
    state = AccountState()
    update = balance("USDT", "1000", "700")
    assert state.apply(update)
    assert state.balances == {"USDT": update}


def test_an_unchanged_balance_is_old_news() -> None:
    state = AccountState()
    state.apply(balance(updated_at=100))
    assert not state.apply(balance(updated_at=100))


def test_a_changed_balance_replaces_the_old_one() -> None:
    state = AccountState()
    state.apply(balance("USDT", "1000", updated_at=100))
    assert state.apply(balance("USDT", "900", "800", updated_at=110))
    assert (state.balances["USDT"].total, state.balances["USDT"].available) == (Decimal(900), Decimal(800))


def test_a_balance_older_than_the_applied_one_is_ignored() -> None:
    state = AccountState()
    state.apply(balance("USDT", "900", updated_at=120))
    assert not state.apply(balance("USDT", "1000", updated_at=110))
    assert state.balances["USDT"].total == Decimal(900)


def test_without_update_times_the_latest_balance_to_arrive_wins() -> None:
    state = AccountState()
    state.apply(balance("USDT", "900", updated_at=None))
    assert state.apply(balance("USDT", "1000", updated_at=None))
    assert state.balances["USDT"].total == Decimal(1000)


def test_a_repeated_balance_with_a_newer_update_time_raises_the_bar_for_later_updates() -> None:
    state = AccountState()
    state.apply(balance("USDT", "900", updated_at=100))
    assert not state.apply(balance("USDT", "900", updated_at=120)), "the same amounts are not passed on again"
    assert not state.apply(balance("USDT", "1000", updated_at=110))
    assert state.balances["USDT"].total == Decimal(900)


def test_a_balance_that_goes_to_zero_stays_listed_with_zeros() -> None:
    state = AccountState()
    state.apply(balance("BTC", "1", updated_at=100))
    assert state.apply(balance("BTC", "0", updated_at=110))
    assert state.balances["BTC"].total == Decimal(0)


# --- reconcile ------------------------------------------------------------------------------------------


def test_reconcile_applies_the_snapshot_and_marks_every_correction_as_reconciliation() -> None:
    state = AccountState()
    snapshot = AccountSnapshot(
        balances={"USDT": balance("USDT", "1000")}, open_orders={"1001": order()}, fills=[fill("5001")]
    )
    corrections = state.reconcile(snapshot)
    assert len(corrections) == 3
    assert all(event.source is EventSource.RECONCILIATION for event in corrections)
    assert state.balances["USDT"].total == Decimal(1000)
    assert set(state.open_orders) == {"1001"}
    assert state.has_fill("5001")


def test_reconcile_emits_fills_then_orders_then_balances() -> None:
    state = AccountState()
    snapshot = AccountSnapshot(
        balances={"BTC": balance("BTC", "1"), "USDT": balance("USDT", "1000")},
        open_orders={"1001": order(order_id="1001"), "1002": order(order_id="1002")},
        fills=[fill("5001"), fill("5002")],
    )
    corrections = state.reconcile(snapshot)
    assert kinds(corrections) == ["TradeFill"] * 2 + ["OrderUpdate"] * 2 + ["BalanceUpdate"] * 2


def test_reconcile_emits_a_vanished_orders_missed_fill_before_its_final_state() -> None:
    state = AccountState()
    state.apply(order(OrderStatus.OPEN, updated_at=100))
    final = order(OrderStatus.FILLED, filled="1", updated_at=130)
    missed = fill("5001", quantity="1")
    corrections = state.reconcile(AccountSnapshot(fills=[missed]), {"1001": final})
    assert corrections == [
        msgspec.structs.replace(missed, source=EventSource.RECONCILIATION),
        msgspec.structs.replace(final, source=EventSource.RECONCILIATION),
    ]
    assert state.open_orders == {}
    assert state.order("1001") == msgspec.structs.replace(final, source=EventSource.RECONCILIATION)


def test_reconcile_reports_an_asset_missing_from_the_snapshot_as_zero() -> None:
    state = AccountState()
    state.apply(balance("BTC", "0.5", updated_at=100))
    state.apply(balance("USDT", "1000", updated_at=100))
    corrections = state.reconcile(AccountSnapshot(balances={"USDT": balance("USDT", "1000", updated_at=100)}))
    assert corrections == [
        BalanceUpdate(asset="BTC", total=Decimal(0), available=Decimal(0), source=EventSource.RECONCILIATION)
    ]
    assert (state.balances["BTC"].total, state.balances["BTC"].available) == (Decimal(0), Decimal(0))


def test_an_asset_missing_from_two_snapshots_is_reported_as_zero_once() -> None:
    state = AccountState()
    state.apply(balance("BTC", "0.5"))
    state.reconcile(AccountSnapshot())
    assert state.reconcile(AccountSnapshot()) == []


def test_reconcile_with_a_snapshot_the_state_already_matches_emits_nothing() -> None:
    state = AccountState()
    state.apply(fill("5001"))
    state.apply(order(updated_at=100))
    state.apply(balance("USDT", "1000", updated_at=100))
    snapshot = AccountSnapshot(
        balances={"USDT": balance("USDT", "1000", updated_at=100)},
        open_orders={"1001": order(updated_at=100)},
        fills=[fill("5001")],
    )
    assert state.reconcile(snapshot) == []


def test_reconcile_skips_fills_already_seen() -> None:
    state = AccountState()
    state.apply(fill("5001"))
    corrections = state.reconcile(AccountSnapshot(fills=[fill("5001"), fill("5002")]))
    assert [event.trade_id for event in corrections if isinstance(event, TradeFill)] == ["5002"]


def test_an_older_snapshot_does_not_overwrite_a_newer_live_order_or_balance() -> None:
    state = AccountState()
    live_order = order(OrderStatus.PARTIALLY_FILLED, filled="0.4", updated_at=120)
    live_balance = balance("USDT", "900", updated_at=120)
    state.apply(live_order)
    state.apply(live_balance)
    older = AccountSnapshot(
        balances={"USDT": balance("USDT", "1000", updated_at=100)}, open_orders={"1001": order(updated_at=100)}
    )
    assert state.reconcile(older) == []
    assert state.open_orders["1001"] == live_order
    assert state.balances["USDT"] == live_balance


def test_an_older_snapshot_does_not_reopen_an_order_that_closed() -> None:
    state = AccountState()
    state.apply(order(OrderStatus.CANCELED, updated_at=120))
    assert state.reconcile(AccountSnapshot(open_orders={"1001": order(updated_at=100)})) == []
    assert state.open_orders == {}


def test_vanished_orders_are_the_open_orders_the_snapshot_does_not_list() -> None:
    state = AccountState()
    kept, gone = order(order_id="1001"), order(order_id="1002")
    state.apply(kept)
    state.apply(gone)
    assert state.vanished_orders(AccountSnapshot(open_orders={"1001": kept})) == [gone]


def test_a_vanished_order_without_a_closed_state_stays_open() -> None:
    state = AccountState()
    state.apply(order())
    assert state.reconcile(AccountSnapshot()) == []
    assert set(state.open_orders) == {"1001"}


# --- bounded memory -------------------------------------------------------------------------------------


def test_remember_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="remember must be at least 1, got 0"):
        AccountState(remember=0)


def test_the_remember_bound_forgets_the_oldest_trade_ids_first() -> None:
    state = AccountState(remember=2)
    for trade_id in ("5001", "5002", "5003"):
        state.apply(fill(trade_id))
    assert [state.has_fill(trade_id) for trade_id in ("5001", "5002", "5003")] == [False, True, True]
    assert state.apply(fill("5001")), "a forgotten trade id is no longer recognised"
    assert not state.has_fill("5002"), "remembering 5001 again forgot the oldest, 5002"


def test_the_remember_bound_forgets_the_oldest_closed_orders_first() -> None:
    state = AccountState(remember=2)
    for order_id in ("1001", "1002", "1003"):
        state.apply(order(OrderStatus.FILLED, order_id=order_id, filled="1"))
    assert [state.order(order_id) is not None for order_id in ("1001", "1002", "1003")] == [False, True, True]


def test_the_remember_bound_does_not_limit_open_orders() -> None:
    state = AccountState(remember=1)
    for order_id in ("1001", "1002", "1003"):
        state.apply(order(order_id=order_id))
    assert set(state.open_orders) == {"1001", "1002", "1003"}


# --- views ----------------------------------------------------------------------------------------------


def test_the_balances_view_is_read_only() -> None:
    state = AccountState()
    state.apply(balance())
    with pytest.raises(TypeError):
        state.balances["USDT"] = balance("USDT", "1")  # type: ignore[index]
    with pytest.raises(TypeError):
        del state.balances["USDT"]  # type: ignore[attr-defined]


def test_the_open_orders_view_is_read_only() -> None:
    state = AccountState()
    state.apply(order())
    with pytest.raises(TypeError):
        state.open_orders["1001"] = order(price="1")  # type: ignore[index]
    with pytest.raises(TypeError):
        del state.open_orders["1001"]  # type: ignore[attr-defined]


def test_a_view_taken_earlier_shows_later_changes() -> None:
    state = AccountState()
    balances, open_orders = state.balances, state.open_orders
    state.apply(balance())
    state.apply(order())
    assert set(balances) == {"USDT"}
    assert set(open_orders) == {"1001"}


def test_events_are_immutable() -> None:
    with pytest.raises(AttributeError, match="immutable"):
        order().status = OrderStatus.FILLED  # type: ignore[misc]


# --- events ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "final"),
    [
        (OrderStatus.OPEN, False),
        (OrderStatus.PARTIALLY_FILLED, False),
        (OrderStatus.FILLED, True),
        (OrderStatus.CANCELED, True),
        (OrderStatus.REJECTED, True),
        (OrderStatus.EXPIRED, True),
    ],
)
def test_only_an_order_off_the_book_for_good_is_final(status: OrderStatus, final: bool) -> None:
    assert status.is_final is final


def test_remaining_quantity_is_what_is_not_filled() -> None:
    assert order(quantity="1", filled="0.3").remaining_quantity == Decimal("0.7")


def test_remaining_quantity_of_a_canceled_order_is_what_never_will_be_filled() -> None:
    assert order(OrderStatus.CANCELED, quantity="1", filled="0.25").remaining_quantity == Decimal("0.75")


def test_remaining_quantity_is_never_negative() -> None:
    assert order(quantity="1", filled="1.5").remaining_quantity == Decimal(0)


def test_same_state_ignores_the_source_and_the_update_time() -> None:
    live = order(updated_at=100)
    assert live.same_state(order(updated_at=200, source=EventSource.RECONCILIATION))
    assert not live.same_state(order(filled="0.1"))
    assert not live.same_state(order(client_order_id="bot-2"))


def test_reconciled_as_message_is_the_gap_marker_shape() -> None:
    notice = Reconciled(
        reason=ReconcileReason.RECONNECTED, gap_started=1795568753.1, reconciled_at=1795568754.6, events=3
    )
    message = notice.as_message()
    assert message == {
        "userstream": "reconciled",
        "reason": "reconnected",
        "gap_started": 1795568753.1,
        "reconciled_at": 1795568754.6,
        "events": 3,
    }
    assert type(message["reason"]) is str, "a plain string, as a JSON consumer expects"
    assert json.loads(json.dumps(message)) == message


def test_the_first_connections_gap_marker_has_no_gap_start() -> None:
    notice = Reconciled(reason=ReconcileReason.CONNECTED, gap_started=None, reconciled_at=1.0, events=0)
    assert notice.as_message()["gap_started"] is None


def test_a_reconciled_message_is_a_gap_marker() -> None:
    notice = Reconciled(reason=ReconcileReason.PERIODIC, gap_started=1.0, reconciled_at=2.0, events=0)
    assert is_gap_marker(notice.as_message())


@pytest.mark.parametrize(
    "message",
    [
        {"channel": "orders", "data": {"order_id": "1"}},
        {"userstream": "something else"},
        {"reason": "reconnected", "events": 3},
        ["userstream", "reconciled"],
        "reconciled",
        None,
    ],
)
def test_an_exchange_message_is_not_a_gap_marker(message: Any) -> None:
    assert not is_gap_marker(message)
