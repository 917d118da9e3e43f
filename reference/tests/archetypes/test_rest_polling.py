"""The REST-polling archetype: a pure diff, then the loop against the fake exchange speaking HTX's spot REST."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from htx_connector import QUERY_WINDOW_MS, HtxAuth, HtxUserStreamDataSource, parse_fill, parse_order, query_windows
from stream_helpers import FAST_RECONNECT, client_tasks, eventually, next_message, start_listening

from userstream import FrameKind, OrderStatus, OrderUpdate, StreamState, TradeFill
from userstream.archetypes.rest_polling import (
    AwaitedFills,
    Balance,
    Fill,
    Order,
    PolledAccount,
    PollRequest,
    diff_snapshots,
    expect_fills,
    parse_retry_after,
    release_closed,
    take_fills,
)
from userstream.testing import Credentials, FakeExchange, RestRequest
from userstream.testing.contract import drain
from userstream.testing.dialects import htx
from userstream.testing.dialects.htx import HtxAccount

POLL = 0.05
MARGIN = 0.5  # scheduling slack on a loaded two-core machine


# --- the diff, without I/O ----------------------------------------------------------------------


def order(order_id: str = "1", *, filled: str = "0", status: str = "submitted", price: str = "100.1") -> Order:
    return Order(
        order_id, f"c-{order_id}", "ethusdt", "buy-limit", Decimal(price), Decimal("10"), Decimal(filled), status
    )


def usdt(total: str, available: str | None = None) -> Balance:
    return Balance("usdt", Decimal(total), Decimal(available if available is not None else total))


def snapshot(*orders: Order, balances: tuple[Balance, ...] = ()) -> PolledAccount:
    return PolledAccount({b.asset: b for b in balances}, {o.order_id: o for o in orders})


def test_the_first_poll_is_a_snapshot_of_balances_and_open_orders() -> None:
    eth = Balance("eth", Decimal("2"), Decimal("1.5"))
    messages = diff_snapshots(None, snapshot(order("7"), balances=(usdt("1000"), eth)))
    assert messages == [
        {
            "type": "order",
            "event": "new",
            "order_id": "7",
            "client_order_id": "c-7",
            "symbol": "ethusdt",
            "order_type": "buy-limit",
            "price": "100.1",
            "amount": "10",
            "filled_amount": "0",
            "status": "submitted",
            "created_at": None,
        },
        {"type": "balance", "asset": "eth", "total": "2", "available": "1.5"},
        {"type": "balance", "asset": "usdt", "total": "1000", "available": "1000"},
    ]


def test_an_unchanged_account_yields_nothing_even_if_the_exchange_reformats_its_decimals() -> None:
    before = snapshot(order("1", filled="2.5"), balances=(usdt("1000"),))
    after = snapshot(order("1", filled="2.50000000"), balances=(usdt("1000.000"),))
    assert diff_snapshots(before, after) == []


def test_changes_become_new_changed_closed_and_balance_messages() -> None:
    before = snapshot(order("1"), order("2"), order("3"), balances=(usdt("1000"),))
    after = snapshot(order("1", filled="4", status="partial-filled"), order("4"), balances=(usdt("1000", "600"),))
    closed = {"2": order("2", filled="10", status="filled"), "3": order("3", status="canceled")}
    messages = diff_snapshots(before, after, closed)
    summary = [(m["type"], m.get("event"), m.get("order_id") or m["asset"], m.get("status")) for m in messages]
    assert summary == [
        ("order", "closed", "2", "filled"),
        ("order", "closed", "3", "canceled"),
        ("order", "changed", "1", "partial-filled"),
        ("order", "new", "4", "submitted"),
        ("balance", None, "usdt", None),
    ]
    assert messages[2]["filled_amount"] == "4"
    assert messages[-1] == {"type": "balance", "asset": "usdt", "total": "1000", "available": "600"}


def test_an_asset_that_disappears_is_reported_at_zero() -> None:
    messages = diff_snapshots(snapshot(balances=(usdt("5"),)), snapshot())
    assert messages == [{"type": "balance", "asset": "usdt", "total": "0", "available": "0"}]


def test_every_emitted_message_classifies_as_a_user_message() -> None:
    data_source = HtxUserStreamDataSource(HtxAuth("k", "s"), rest_url="http://127.0.0.1:1")
    before = snapshot(order("2"))
    messages = diff_snapshots(before, snapshot(order("1"), balances=(usdt("1"),)), {"2": order("2", status="filled")})
    assert {data_source.classify(m) for m in messages} == {FrameKind.USER_MESSAGE}
    assert data_source.classify({"type": "heartbeat"}) is FrameKind.MALFORMED
    assert data_source.classify("balance") is FrameKind.MALFORMED


def a_fill(trade_id: str, order_id: str = "1", amount: str = "1", time: int = 1000) -> Fill:
    return Fill(trade_id, order_id, "ethusdt", Decimal("100.1"), Decimal(amount), Decimal("0.002"), "eth", time)


def test_fills_come_first_then_the_orders_they_moved() -> None:
    before = snapshot(order("1"), order("2"))
    after = snapshot(order("1", filled="4", status="partial-filled"))
    fills = [a_fill("t-1", "2", "10", time=5), a_fill("t-2", "1", "4", time=6)]
    messages = diff_snapshots(before, after, {"2": order("2", filled="10", status="filled")}, fills)
    assert [(m["type"], m.get("event"), m.get("trade_id") or m["order_id"]) for m in messages] == [
        ("fill", None, "t-1"),
        ("fill", None, "t-2"),
        ("order", "closed", "2"),
        ("order", "changed", "1"),
    ]
    assert messages[0] == {
        "type": "fill",
        "trade_id": "t-1",
        "order_id": "2",
        "client_order_id": None,
        "symbol": "ethusdt",
        "price": "100.1",
        "amount": "10",
        "fee": "0.002",
        "fee_asset": "eth",
        "liquidity": None,
        "time": 5,
    }


def test_a_filled_amount_that_moves_awaits_fills_until_they_add_up() -> None:
    known = {"1": order("1", filled="2")}
    awaited = expect_fills({}, known, [order("1", filled="5"), order("2", filled="1"), order("3")], since_ms=900)
    assert awaited == {
        "1": AwaitedFills("ethusdt", Decimal(3), 900),
        "2": AwaitedFills("ethusdt", Decimal(1), 900),  # never seen before: all of it is new
    }
    again = expect_fills(awaited, {"1": order("1", filled="5")}, [order("1", filled="6")], since_ms=950)
    assert again["1"] == AwaitedFills("ethusdt", Decimal(4), 900), "still looked for from the first move"

    fills, left = take_fills(again, [a_fill("t-2", "1", "3"), a_fill("t-1", "1", "1", time=900)], {})
    assert [fill.trade_id for fill in fills] == ["t-1", "t-2"], "oldest first"
    assert left == {"2": AwaitedFills("ethusdt", Decimal(1), 900, polls=1)}
    fills, left = take_fills(left, [a_fill("t-1", "1", "1", time=900), a_fill("t-3", "2")], {"1/t-1": 900})
    assert [fill.trade_id for fill in fills] == ["t-3"], "a fill reported before is not reported again"
    assert left == {}


def test_a_final_order_is_held_until_its_fills_are_in_or_given_up_on() -> None:
    closed = {"1": order("1", filled="10", status="filled"), "2": order("2", status="canceled")}
    awaited = {"1": AwaitedFills("ethusdt", Decimal(4), 900, polls=2)}
    released, held, left, given_up = release_closed(closed, awaited, wait_polls=3)
    assert (list(released), list(held), left, given_up) == (["2"], ["1"], awaited, [])
    awaited = {"1": AwaitedFills("ethusdt", Decimal(4), 900, polls=3)}
    released, held, left, given_up = release_closed(closed, awaited, wait_polls=3)
    assert (sorted(released), held, left, given_up) == (["1", "2"], {}, {}, ["1"])


def test_htx_match_results_parse_into_fills_with_the_fee_the_account_paid() -> None:
    documented = {  # the row HTX's documentation shows, with the fee-currency its table adds
        "id": 29553,
        "order-id": 59378,
        "match-id": 59335,
        "symbol": "ethusdt",
        "type": "buy-limit",
        "source": "api",
        "price": "100.1000000000",
        "filled-amount": "9.1155000000",
        "filled-fees": "0.0182310000",
        "fee-currency": "eth",
        "created-at": 1494901400435,
        "trade-id": 100282808529,
        "role": "taker",
        "filled-points": "0.0",
        "fee-deduct-currency": "",
        "fee-deduct-state": "done",
    }
    assert parse_fill(documented) == Fill(
        "100282808529",
        "59378",
        "ethusdt",
        Decimal("100.1"),
        Decimal("9.1155"),
        Decimal("0.018231"),
        "eth",
        1494901400435,
        liquidity="taker",
    )
    rebate = parse_fill({**documented, "filled-fees": "-0.0001", "role": "maker"})
    assert (rebate.fee, rebate.fee_asset) == (Decimal("-0.0001"), "eth"), "a maker rebate is negative, as HTX writes"
    deducted = parse_fill({**documented, "filled-fees": "0", "filled-points": "0.0032", "fee-deduct-currency": "ht"})
    assert (deducted.fee, deducted.fee_asset) == (Decimal("0.0032"), "ht"), "a fee paid in HT is the HT deducted"
    data_source = HtxUserStreamDataSource(HtxAuth("k", "s"), rest_url="http://127.0.0.1:1")
    message = diff_snapshots(None, snapshot(), fills=[deducted])[0]
    assert data_source.classify(message) is FrameKind.USER_MESSAGE
    [event] = data_source.parse_account_events(message)
    assert event == TradeFill(
        trade_id="100282808529",
        exchange_order_id="59378",
        client_order_id=None,
        symbol="ethusdt",
        price=Decimal("100.1"),
        quantity=Decimal("9.1155"),
        fee=Decimal("0.0032"),
        fee_asset="ht",
        timestamp=1494901400435,
    )


def test_htx_pages_follow_the_documented_cursors() -> None:
    data_source = HtxUserStreamDataSource(HtxAuth("k", "s"), rest_url="http://127.0.0.1:1")
    row = {"id": 0, "order-id": 1, "trade-id": 0, "symbol": "ethusdt", "price": "1", "filled-amount": "1"}
    rows = [{**row, "id": record, "trade-id": record, "filled-fees": "0", "created-at": 5} for record in (9, 7)]
    first = PollRequest("/v1/order/matchresults", {"symbol": "ethusdt", "start-time": "1", "size": "2"})
    page = data_source.parse_fills(first, {"status": "ok", "data": rows})
    assert page.next == PollRequest(
        "/v1/order/matchresults",
        {"symbol": "ethusdt", "start-time": "1", "size": "2", "from": "7", "direct": "next"},
    ), "a full page: the next one is older than its last record id"
    assert data_source.parse_fills(first, {"status": "ok", "data": rows[:1]}).next is None

    history = PollRequest("/v1/order/history", {"start-time": "1", "direct": "next", "size": "10"})
    detail = {"id": 5, "symbol": "ethbtc", "type": "sell-limit", "price": "1", "amount": "2", "state": "canceled"}
    page = data_source.parse_order_history(history, {"status": "ok", "data": [detail], "next-time": 1234})
    assert [order.order_id for order in page.rows] == ["5"]
    assert page.next == PollRequest("/v1/order/history", {**history.params, "end-time": "1234"})
    assert data_source.parse_order_history(history, {"status": "ok", "data": [detail]}).next is None


def test_htx_match_results_are_read_in_windows_of_at_most_48_hours() -> None:
    now = 1_700_000_000_000
    assert query_windows(now - 5000, now) == [{"start-time": str(now - 5000)}]
    windows = query_windows(now - 2 * QUERY_WINDOW_MS - 10, now)
    assert windows[-1] == {"start-time": str(now - QUERY_WINDOW_MS + 60_000)}, "the open window starts within 48 h"
    spans = [(int(w["start-time"]), int(w["end-time"])) for w in windows[:-1]]
    assert spans[0][0] == now - 2 * QUERY_WINDOW_MS - 10
    assert all(end - start < QUERY_WINDOW_MS for start, end in spans)
    assert all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(spans)), "no gap, no overlap"
    assert int(windows[-1]["start-time"]) == spans[-1][1] + 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)


def test_htx_replies_parse_into_balances_and_orders() -> None:
    data_source = HtxUserStreamDataSource(HtxAuth("k", "s"), rest_url="http://127.0.0.1:1")
    reply = {
        "status": "ok",
        "data": {
            "id": 100009,
            "type": "spot",
            "state": "working",
            "list": [
                {"currency": "usdt", "type": "trade", "balance": "500.5"},
                {"currency": "usdt", "type": "frozen", "balance": "100"},
                {"currency": "btc", "type": "trade", "balance": "0"},
                {"currency": "btc", "type": "frozen", "balance": "0"},
            ],
        },
    }
    assert data_source.parse_balances(reply) == {"usdt": Balance("usdt", Decimal("600.5"), Decimal("500.5"))}
    detail = {"id": 5, "symbol": "ethbtc", "type": "sell-limit", "price": "1", "amount": "2", "state": "filled"}
    assert parse_order({**detail, "field-amount": "2.0"}).filled_amount == 2  # the order detail's spelling
    assert parse_order({**detail, "filled-amount": "1.5"}).filled_amount == Decimal("1.5")


def test_htx_signature_is_what_the_exchange_verifies() -> None:
    credentials = Credentials(api_key="test-api-key", secret="test-secret")
    auth = HtxAuth(credentials.api_key, credentials.secret, clock=lambda: 1_700_000_000.0)
    params = auth.signed_params("GET", "api.huobi.pro", "/v1/order/openOrders", {"account-id": "100009"})
    assert params["Timestamp"] == "2023-11-14T22:13:20"
    assert list(params)[:5] == ["AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "account-id"]
    verify = htx.check_signature
    assert verify("GET", "api.huobi.pro", "/v1/order/openOrders", params, credentials, 1_700_000_000.0) is None
    assert verify("GET", "api.huobi.pro", "/v1/order/orders", params, credentials, 1_700_000_000.0) == htx.BAD_SIGNATURE
    assert verify("GET", "api.huobi.pro", "/v1/order/openOrders", params, credentials, 1_700_000_400.0) == (
        htx.BAD_TIMESTAMP
    )


# --- the loop against the fake exchange -----------------------------------------------------------


Factory = Callable[..., HtxUserStreamDataSource]


@pytest.fixture
def account(fake_exchange: FakeExchange) -> HtxAccount:
    account = htx.install(fake_exchange)
    account.set_balance("usdt", "1000")
    return account


@pytest.fixture
async def make_source(fake_exchange: FakeExchange) -> AsyncIterator[Factory]:
    created: list[HtxUserStreamDataSource] = []

    def make(secret: str = "test-secret", **overrides: Any) -> HtxUserStreamDataSource:
        options: dict[str, Any] = {
            "rest_url": fake_exchange.rest_url,
            "poll_interval": POLL,
            "reconnect": FAST_RECONNECT,
            "rng": random.Random(7),
        }
        options.update(overrides)
        data_source = HtxUserStreamDataSource(HtxAuth("test-api-key", secret), **options)
        created.append(data_source)
        return data_source

    yield make
    for data_source in created:
        await data_source.stop()


def polls(account: HtxAccount) -> int:
    return len(account.signed_requests(htx.OPEN_ORDERS_PATH))


async def test_first_poll_emits_the_snapshot_then_an_unchanged_account_emits_nothing(
    account: HtxAccount, make_source: Factory
) -> None:
    account.set_balance("eth", "1.5", frozen="0.5")
    resting = account.place_order("ethusdt", "sell-limit", "2000", "0.5", client_order_id="my-1")
    data_source = make_source()
    output = start_listening(data_source)
    first = [await next_message(output) for _ in range(3)]
    assert first == [
        {
            "type": "order",
            "event": "new",
            "order_id": str(resting.id),
            "client_order_id": "my-1",
            "symbol": "ethusdt",
            "order_type": "sell-limit",
            "price": "2000",
            "amount": "0.5",
            "filled_amount": "0",
            "status": "submitted",
            "created_at": resting.created_at,
        },
        {"type": "balance", "asset": "eth", "total": "2.0", "available": "1.5"},
        {"type": "balance", "asset": "usdt", "total": "1000", "available": "1000"},
    ]
    seen = polls(account)
    await eventually(lambda: polls(account) >= seen + 3, "three more polls")
    assert output.empty()
    assert data_source.status.state is StreamState.STREAMING
    assert data_source.status.connected
    assert data_source.status.messages_queued == 3


async def test_orders_and_balances_are_followed_through_their_life(account: HtxAccount, make_source: Factory) -> None:
    output = start_listening(make_source())
    assert (await next_message(output))["asset"] == "usdt"

    buy = account.place_order("ethusdt", "buy-limit", "100", "10")
    account.set_balance("usdt", "0", frozen="1000")
    new, moved = await next_message(output), await next_message(output)
    assert (new["event"], new["order_id"], new["status"]) == ("new", str(buy.id), "submitted")
    assert moved == {"type": "balance", "asset": "usdt", "total": "1000", "available": "0"}

    account.fill(buy.id, "4")
    fill, changed = await next_message(output), await next_message(output)
    assert (fill["type"], fill["amount"]) == ("fill", "4"), "a fill comes before the order it moved"
    assert (changed["event"], changed["filled_amount"], changed["status"]) == ("changed", "4", "partial-filled")

    account.fill(buy.id, "6")
    fill, closed = await next_message(output), await next_message(output)
    assert (fill["type"], fill["amount"]) == ("fill", "6")
    assert (closed["event"], closed["filled_amount"], closed["status"]) == ("closed", "10", "filled")
    assert not account.signed_requests(f"/v1/order/orders/{buy.id}"), "the order history had its final state"

    sell = account.place_order("ethusdt", "sell-limit", "300", "1")
    assert (await next_message(output))["event"] == "new"
    account.cancel(sell.id)
    closed = await next_message(output)
    assert (closed["event"], closed["order_id"], closed["status"]) == ("closed", str(sell.id), "canceled")

    seen = polls(account)
    await eventually(lambda: polls(account) >= seen + 3, "three more polls")
    assert output.empty(), "a closed order is reported once"


async def test_last_recv_time_moves_on_each_successful_poll_and_not_on_failures(
    account: HtxAccount, make_source: Factory
) -> None:
    data_source = make_source()
    start_listening(data_source)
    await eventually(lambda: data_source.last_recv_time > 0, "a first successful poll")
    for _ in range(3):
        before = data_source.last_recv_time
        await eventually(lambda: data_source.last_recv_time > before, "last_recv_time to move")  # noqa: B023

    account.fail_next(count=3)
    await eventually(lambda: data_source.status.last_error is not None, "a failed poll")
    frozen_at = data_source.last_recv_time
    await eventually(lambda: data_source.status.reconnect_count >= 2, "two retries")
    assert data_source.last_recv_time == frozen_at, "a failed poll is not a sign of life"
    assert not data_source.status.connected
    await eventually(lambda: data_source.last_recv_time > frozen_at, "polling to resume")
    assert data_source.status.connected


async def test_server_errors_are_retried_with_backoff_and_changes_during_the_outage_are_reported(
    account: HtxAccount, make_source: Factory
) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    await next_message(output)
    account.fail_next(count=4, status=503)
    failing_since = asyncio.get_running_loop().time()
    await eventually(lambda: data_source.status.last_error is not None, "the 503 to be seen")
    order = account.place_order("ethusdt", "buy-limit", "100", "1")  # happens while the exchange is failing
    message = await next_message(output)
    assert (message["event"], message["order_id"]) == ("new", str(order.id))
    # 4 failures, each followed by a backoff sleep of 0.05, 0.1, 0.2, 0.4 s: the delays grow, no hot loop.
    elapsed = asyncio.get_running_loop().time() - failing_since
    assert elapsed >= 0.05 + 0.1 + 0.2 + 0.4
    assert data_source.status.reconnect_count == 4
    assert "HTTP 503" in (data_source.status.last_error or "")
    assert data_source.status.state is StreamState.STREAMING


async def test_a_reply_that_never_comes_times_out_and_is_retried(account: HtxAccount, make_source: Factory) -> None:
    data_source = make_source(rest_timeout=0.2)
    output = start_listening(data_source)
    await next_message(output)
    account.stall_next(0.6)
    await eventually(lambda: data_source.status.last_error is not None, "the timeout")
    assert data_source.status.last_error == "ConnectionLost: GET /v1/order/openOrders: no reply within 0.2 s"
    account.set_balance("usdt", "999")
    assert (await next_message(output))["total"] == "999"


async def test_a_bad_signature_is_a_clear_error_with_the_exchanges_words_and_backs_off(
    account: HtxAccount, make_source: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = make_source(secret="not-the-secret")
    output = start_listening(data_source)
    await asyncio.sleep(1.0)
    assert data_source.status.last_error == (
        "AuthenticationError: Signature not valid: Verification failure [校验失败] (api-signature-not-valid)"
    )
    assert "authentication rejected by the exchange: Signature not valid" in caplog.text
    assert "not-the-secret" not in caplog.text
    # Backoff 0.05, 0.1, 0.2, 0.4 s: at most 5 attempts in a second (plus one for scheduling), never a hot loop.
    assert 3 <= len(account.rejections) <= 6
    assert output.empty()
    assert data_source.last_recv_time == 0.0
    assert data_source.status.state is StreamState.BACKING_OFF


async def test_http_429_waits_out_retry_after_before_the_next_request(
    account: HtxAccount, make_source: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    data_source = make_source(poll_interval=0.3)
    output = start_listening(data_source)
    await next_message(output)  # a poll has just succeeded; the next one, 0.3 s away, meets the 429
    last_success = data_source.last_recv_time
    account.rate_limit_next(retry_after=1)
    start = len(account.arrivals)
    await eventually(lambda: len(account.arrivals) > start, "the 429")
    await asyncio.sleep(0.3)
    assert data_source.status.state is StreamState.BACKING_OFF
    assert data_source.last_recv_time == last_success, "a rate-limited poll is not a successful one"
    await eventually(lambda: len(account.arrivals) >= start + 2, "the request after the 429")
    (limited_at, _), (next_at, _) = account.arrivals[start : start + 2]
    assert 1.0 <= next_at - limited_at <= 1.0 + MARGIN
    assert "rate limited (HTTP 429, Retry-After 1 s)" in (data_source.status.last_error or "")
    assert "next poll in 1.00 s" in caplog.text
    account.set_balance("usdt", "7")
    assert (await next_message(output))["total"] == "7"


async def test_polls_keep_to_the_interval(account: HtxAccount, make_source: Factory) -> None:
    data_source = make_source(poll_interval=0.1)
    start_listening(data_source)
    await eventually(lambda: polls(account) >= 1, "the first poll")
    start = polls(account)
    await asyncio.sleep(0.6)
    made = polls(account) - start
    # 0.6 s at one poll per 0.1 s (plus request time): about 5, never a burst.
    assert 3 <= made <= 7, made
    # Each poll is two requests (open orders, balance); the account id is looked up once.
    assert len(account.signed_requests(htx.ACCOUNTS_PATH)) == 1


async def test_concurrent_account_lookups_make_one_request(account: HtxAccount, make_source: Factory) -> None:
    data_source = make_source()
    ids = await asyncio.gather(*(data_source.account_id() for _ in range(5)))
    assert ids == [str(htx.ACCOUNT_ID)] * 5
    assert len(account.signed_requests(htx.ACCOUNTS_PATH)) == 1


async def test_a_skewed_clock_is_measured_before_the_first_poll_and_again_when_a_request_blames_it(
    make_source: Factory,
) -> None:
    async with FakeExchange(clock_skew=600.0) as exchange:
        account = htx.install(exchange)
        account.set_balance("usdt", "1")
        data_source = make_source(rest_url=exchange.rest_url)
        output = start_listening(data_source)
        assert (await next_message(output))["asset"] == "usdt"
        # The history is read from the exchange's ms, so its clock is measured before anything is signed.
        assert [r.path for r in exchange.rest_requests[:2]] == [htx.TIMESTAMP_PATH, htx.ACCOUNTS_PATH]
        assert account.rejections == []
        assert data_source.auth is not None
        assert data_source.auth.time_offset == pytest.approx(600.0, abs=1.0)

        exchange.clock_skew = -600.0  # the exchange's clock jumps: the next signed request is refused
        await eventually(lambda: bool(account.rejections), "a request refused for its time")
        assert account.rejections[0][1] == htx.BAD_TIMESTAMP
        account.set_balance("usdt", "2")
        assert (await next_message(output))["total"] == "2"
        assert data_source.auth.time_offset == pytest.approx(-600.0, abs=1.0)
        assert data_source.status.last_error is None, "re-measured and re-signed within the poll"
        await data_source.stop()


async def test_an_order_without_a_detail_is_closed_as_unknown_after_a_few_polls(
    account: HtxAccount, make_source: Factory
) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    lost = account.place_order("ethusdt", "buy-limit", "100", "1")
    assert (await next_message(output))["event"] == "new"
    await next_message(output)  # usdt
    account.forget_order(lost.id)
    closed = await next_message(output)
    assert (closed["event"], closed["order_id"], closed["status"]) == ("closed", str(lost.id), "unknown")
    assert len(account.signed_requests(f"/v1/order/orders/{lost.id}")) == data_source.CLOSED_LOOKUP_ATTEMPTS
    assert data_source.status.last_error is None, "a missing detail is not a failed poll"


async def test_stop_leaves_no_task_and_clears_the_archetype_state(account: HtxAccount, make_source: Factory) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    await next_message(output)
    assert data_source.known_state is not None
    await data_source.stop()
    assert client_tasks() == set()
    assert data_source.known_state is None
    assert data_source.status.state is StreamState.STOPPED
    assert not data_source.status.connected
    requests = len(account.exchange.rest_requests)
    await asyncio.sleep(POLL * 3)
    assert len(account.exchange.rest_requests) == requests, "no poll after stop"

    # Started again, it looks the account up afresh and begins with a new snapshot.
    output = start_listening(data_source)
    assert (await next_message(output))["asset"] == "usdt"
    assert len(account.signed_requests(htx.ACCOUNTS_PATH)) == 2


async def test_the_polls_keep_the_account_and_offer_typed_events(account: HtxAccount, make_source: Factory) -> None:
    data_source = make_source()
    events: asyncio.Queue[Any] = asyncio.Queue()
    data_source.account_events = events
    start_listening(data_source)
    buy = account.place_order("ethusdt", "buy-limit", "100", "10", client_order_id="my-1")
    await eventually(lambda: str(buy.id) in data_source.account.open_orders, "the order is in the account")
    assert data_source.account.balances["usdt"].available == Decimal("1000")
    account.fill(buy.id, "10")
    await eventually(lambda: not data_source.account.open_orders, "the filled order left the account")
    updates = [event for event in drain(events) if isinstance(event, OrderUpdate)]
    assert [(u.status, u.filled_quantity) for u in updates] == [
        (OrderStatus.OPEN, Decimal(0)),
        (OrderStatus.FILLED, Decimal(10)),
    ]
    assert updates[0].client_order_id == "my-1"
    assert not data_source.reconciles, "polling needs no reconciliation: every poll reads the whole account"
    assert data_source.status.unparsed_messages == 0


async def test_a_non_finite_balance_is_a_malformed_reply_and_never_reaches_the_account(
    account: HtxAccount, make_source: Factory
) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    assert (await next_message(output))["total"] == "1000"
    account.set_balance("usdt", "NaN")
    await eventually(lambda: data_source.status.last_error is not None, "the poll refused")
    assert data_source.status.last_error is not None
    assert "must be a finite amount" in data_source.status.last_error
    assert data_source.account.balances["usdt"].total == Decimal(1000), "the account keeps the last valid balance"
    assert output.empty()
    account.set_balance("usdt", "5")
    assert (await next_message(output))["total"] == "5"


async def test_an_error_quoting_the_signed_query_reveals_no_signature(
    fake_exchange: FakeExchange, account: HtxAccount, make_source: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    refused: list[RestRequest] = []

    def refuse_quoting_the_query(request: RestRequest) -> Any:
        refused.append(request)
        return htx.error_body("api-signature-not-valid", f"Signature not valid: {request.query_string}")

    fake_exchange.route("GET", htx.OPEN_ORDERS_PATH, refuse_quoting_the_query)
    data_source = make_source()
    start_listening(data_source)
    await eventually(lambda: len(refused) >= 2, "two refused polls")
    last_error = data_source.status.last_error
    assert last_error is not None
    assert "Signature=***" in last_error
    for request in refused:
        signature = request.query["Signature"]
        for form in (signature, quote(signature, safe=""), quote(signature)):
            assert form not in last_error
            assert form not in caplog.text


# --- fills and the order history against the fake exchange -----------------------------------------


class SmallPages(HtxUserStreamDataSource):
    """HTX's smallest pages (matchresults: 1 to 500, order history: 10 to 1000), so that a test fills them."""

    FILLS_PAGE = "2"
    ORDER_HISTORY_PAGE = "10"


async def settled(account: HtxAccount, output: asyncio.Queue[Any], polls_more: int = 3) -> list[Any]:
    """Everything queued once ``polls_more`` further polls have run: what the changes so far produced."""
    seen = polls(account)
    await eventually(lambda: polls(account) >= seen + polls_more, f"{polls_more} more polls")
    return drain(output)


def summary(messages: list[Any]) -> list[tuple[str, str, str]]:
    return [
        ("fill", m["order_id"], m["amount"]) if m["type"] == "fill" else (m["event"], m["order_id"], m["status"])
        for m in messages
        if m["type"] != "balance"
    ]


async def test_a_fill_between_polls_is_reported_once_with_its_trade_id_price_amount_and_fee(
    account: HtxAccount, make_source: Factory
) -> None:
    data_source = make_source()
    events: asyncio.Queue[Any] = asyncio.Queue()
    data_source.account_events = events
    output = start_listening(data_source)
    sell = account.place_order("ethusdt", "sell-limit", "2000", "1", client_order_id="my-sell")
    await settled(account, output)
    account.fill(sell.id, "0.25", fee="0.5", role="maker")
    messages = await settled(account, output)
    [execution] = account.fills
    assert messages == [
        {
            "type": "fill",
            "trade_id": str(execution.trade_id),
            "order_id": str(sell.id),
            "client_order_id": "my-sell",  # not in HTX's match results: from the order the stream knows
            "symbol": "ethusdt",
            "price": "2000",
            "amount": "0.25",
            "fee": "0.5",
            "fee_asset": "usdt",  # a sell pays its fee in the quote currency
            "liquidity": "maker",
            "time": execution.created_at,
        },
        {**messages[1], "event": "changed", "filled_amount": "0.25", "status": "partial-filled"},
    ]
    fills = [event for event in drain(events) if isinstance(event, TradeFill)]
    assert [(fill.trade_id, fill.quantity, fill.fee) for fill in fills] == [
        (str(execution.trade_id), Decimal("0.25"), Decimal("0.5"))
    ]
    assert len(account.signed_requests(htx.MATCH_RESULTS_PATH)) == 1, "read once: the fill was in at once"
    assert data_source.status.unparsed_messages == 0


async def test_orders_placed_and_finished_between_two_polls_are_reported_once_after_their_fills(
    account: HtxAccount, make_source: Factory
) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    await settled(account, output)
    # Each placed and finished with no poll in between: never seen open.
    filled = account.place_order("ethusdt", "buy-limit", "100", "3", client_order_id="quick")
    account.fill(filled.id, "1", fee="0.001")
    account.fill(filled.id, "2", fee="0.002")
    canceled = account.place_order("btcusdt", "sell-limit", "30000", "1")
    account.cancel(canceled.id)
    partly = account.place_order("btcusdt", "buy-limit", "29000", "2")
    account.fill(partly.id, "0.5", points="0.01")
    account.cancel(partly.id)
    messages = await settled(account, output)
    reported = summary(messages)
    # A poll already under way when these happen may see some of them and leave the rest to the next one, so
    # only each order's own sequence is fixed: its fills, then its final state.
    assert sorted(reported) == sorted(
        [
            ("fill", str(filled.id), "1"),
            ("fill", str(filled.id), "2"),
            ("fill", str(partly.id), "0.5"),
            ("closed", str(filled.id), "filled"),
            ("closed", str(canceled.id), "canceled"),
            ("closed", str(partly.id), "partial-canceled"),
        ]
    )
    for order_id, final in ((str(filled.id), "filled"), (str(partly.id), "partial-canceled")):
        fills = [index for index, (kind, of, _) in enumerate(reported) if kind == "fill" and of == order_id]
        assert max(fills) < reported.index(("closed", order_id, final)), "no order is reported closed before its fills"
    fills_of = {m["order_id"]: m for m in messages if m["type"] == "fill" and m["amount"] in {"1", "0.5"}}
    assert fills_of[str(filled.id)]["client_order_id"] == "quick"
    assert (fills_of[str(partly.id)]["fee"], fills_of[str(partly.id)]["fee_asset"]) == ("0.01", "ht")
    assert {request.query["symbol"] for request in account.signed_requests(htx.MATCH_RESULTS_PATH)} == {
        "ethusdt",
        "btcusdt",
    }, "fills are read for the symbols whose orders filled, and no other"
    assert not any(request.path.startswith("/v1/order/orders/") for request in account.exchange.rest_requests), (
        "the order history gave every final state: no order detail was needed"
    )
    final = data_source.account.order(str(partly.id))
    assert final is not None
    assert (final.status, final.filled_quantity) == (OrderStatus.CANCELED, Decimal("0.5"))


async def test_full_pages_of_fills_and_history_are_followed_to_the_last(
    account: HtxAccount, fake_exchange: FakeExchange
) -> None:
    data_source = SmallPages(
        HtxAuth("test-api-key", "test-secret"), rest_url=fake_exchange.rest_url, poll_interval=POLL
    )
    try:
        output = start_listening(data_source)
        await settled(account, output)
        busy = account.place_order("ethusdt", "buy-limit", "100", "5")
        for _ in range(5):
            account.fill(busy.id, "1")
        brief = [account.place_order("ethusdt", "sell-limit", "200", "1") for _ in range(12)]
        for order in brief:
            account.cancel(order.id)
        messages = await settled(account, output)
        assert summary(messages) == [
            *[("fill", str(busy.id), "1")] * 5,
            ("closed", str(busy.id), "filled"),
            *[("closed", str(order.id), "canceled") for order in brief],
        ], "each once, oldest first"
        assert len({m["trade_id"] for m in messages if m["type"] == "fill"}) == 5
        # Newest first, two a page: records 5 and 4, then from 4: 3 and 2, then from 2: 1 (a short page, the last).
        # (A poll under way when the orders were placed may have read a first page before them: find the walk.)
        pages = [request.query.get("from") for request in account.signed_requests(htx.MATCH_RESULTS_PATH)]
        walk = [None, str(account.fills[3].id), str(account.fills[1].id)]
        assert any(pages[start : start + 3] == walk for start in range(len(pages))), pages
        # 13 finished orders, ten a page: the second page ends at the first reply's next-time.
        # (Likewise a later poll may already be reading again: the pages are found, not taken from the end.)
        ends = [request.query.get("end-time") for request in account.signed_requests(htx.ORDER_HISTORY_PATH)]
        second_page = ends.index(str(brief[1].created_at))
        assert ends[second_page - 1] is None, "the second page follows the first"
    finally:
        await data_source.stop()


@pytest.mark.parametrize("failing", [htx.MATCH_RESULTS_PATH, htx.ORDER_HISTORY_PATH])
async def test_a_poll_that_fails_while_reading_history_loses_nothing_and_repeats_nothing(
    account: HtxAccount, make_source: Factory, failing: str
) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    resting = account.place_order("ethusdt", "buy-limit", "100", "2")
    await settled(account, output)
    account.fail_next(count=2, path=failing)
    account.fill(resting.id, "2")
    brief = account.place_order("ethusdt", "sell-limit", "300", "1")
    account.fill(brief.id, "1")
    await eventually(lambda: data_source.status.reconnect_count >= 2, "two failed polls")
    messages = await settled(account, output)
    assert summary(messages) == [
        ("fill", str(resting.id), "2"),
        ("fill", str(brief.id), "1"),
        ("closed", str(resting.id), "filled"),
        ("closed", str(brief.id), "filled"),
    ]
    assert "HTTP 503" in (data_source.status.last_error or "")


async def test_a_restart_reports_what_happened_while_stopped_once(account: HtxAccount, make_source: Factory) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    resting = account.place_order("ethusdt", "buy-limit", "100", "3")
    await settled(account, output)
    account.fill(resting.id, "1")
    first = await settled(account, output)
    assert summary(first)[0] == ("fill", str(resting.id), "1")
    await data_source.stop()

    account.fill(resting.id, "2")  # while stopped: the order fills and leaves the open list
    brief = account.place_order("btcusdt", "buy-limit", "30000", "1")
    account.cancel(brief.id)
    output = start_listening(data_source)
    messages = await settled(account, output)
    assert summary(messages) == [
        ("fill", str(resting.id), "2"),
        ("closed", str(resting.id), "filled"),
        ("closed", str(brief.id), "canceled"),
    ], "the fill from before the stop is not reported again; what happened meanwhile is, once"
    assert [m["asset"] for m in messages if m["type"] == "balance"] == ["usdt"], "and the snapshot starts again"


async def test_a_fill_the_match_results_show_late_holds_its_order_back_until_it_appears(
    account: HtxAccount, make_source: Factory
) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    order = account.place_order("ethusdt", "buy-limit", "100", "2")
    await settled(account, output)
    account.fill(order.id, "2", shown=False)  # the order is filled; its match result is not there yet
    assert await settled(account, output, polls_more=2) == [], "no closed order before its fill"
    account.show_fills()
    messages = await settled(account, output)
    assert summary(messages) == [("fill", str(order.id), "2"), ("closed", str(order.id), "filled")]


async def test_fills_that_never_appear_release_their_order_after_a_few_polls(
    account: HtxAccount, make_source: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    order = account.place_order("ethusdt", "buy-limit", "100", "2")
    await settled(account, output)
    looked = len(account.signed_requests(htx.MATCH_RESULTS_PATH))
    account.fill(order.id, "2", shown=False)
    closed = await next_message(output)
    assert (closed["event"], closed["status"]) == ("closed", "filled")
    assert len(account.signed_requests(htx.MATCH_RESULTS_PATH)) - looked == data_source.FILL_WAIT_POLLS
    assert f"order {order.id}: its fills did not appear after" in caplog.text
    assert await settled(account, output) == []
    assert len(account.signed_requests(htx.MATCH_RESULTS_PATH)) - looked == data_source.FILL_WAIT_POLLS


async def test_a_quiet_poll_costs_three_requests(account: HtxAccount, make_source: Factory) -> None:
    data_source = make_source()
    output = start_listening(data_source)
    order = account.place_order("ethusdt", "buy-limit", "100", "2")
    account.fill(order.id, "1")
    await settled(account, output)
    start, seen = len(account.arrivals), polls(account)
    await eventually(lambda: polls(account) >= seen + 4, "four quiet polls")
    paths = [request.path for _, request in account.arrivals[start:]]
    first_poll = paths.index(htx.OPEN_ORDERS_PATH)  # the slice may begin inside a poll
    cycle = [htx.OPEN_ORDERS_PATH, account.balance_path, htx.ORDER_HISTORY_PATH]
    assert paths[first_poll : first_poll + 3 * 3] == cycle * 3, "no fills are read while none are new"
