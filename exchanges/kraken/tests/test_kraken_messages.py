"""Kraken's message shapes, checked as pure functions: no socket, no event loop."""

from decimal import Decimal
from typing import Any

import pytest
from userstream import (
    AuthenticationError,
    BalanceUpdate,
    FrameKind,
    MarketAuth,
    OrderStatus,
    OrderUpdate,
    RestError,
    TradeFill,
)
from userstream.testing.dialects.kraken import DocumentedFrames as messages

from kraken.kraken_account import (
    KnownOrder,
    KrakenError,
    KrakenNames,
    UnknownName,
    parse_push,
    parse_rest_order,
    parse_snapshot,
    result_of,
)
from kraken.kraken_api_user_stream_data_source import KrakenAPIUserStreamDataSource
from kraken.kraken_auth import KrakenAuth

NOW = 1_700_000_000.0
# The private key of Kraken's worked example (docs.kraken.com, "Spot REST Authentication").
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NAMES = KrakenNames(result_of(messages.ASSETS), result_of(messages.ASSET_PAIRS))
ORDER_ID = "OK4GJX-KSTLS-7DZZO5"


@pytest.fixture
def data_source() -> KrakenAPIUserStreamDataSource:
    return KrakenAPIUserStreamDataSource(KrakenAuth("api-key", SECRET, clock=lambda: NOW))


def nothing_recalled(order_id: str) -> OrderUpdate | None:
    return None


def test_the_signature_reproduces_krakens_worked_example() -> None:
    body = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    headers = KrakenAuth("api-key", SECRET).rest_auth_headers("POST", "/0/private/AddOrder", body)
    assert headers == {
        "API-Key": "api-key",
        "API-Sign": "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==",
    }


def test_a_private_key_that_is_not_base64_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="base64"):
        KrakenAuth("api-key", "not base64!")


def test_the_nonce_grows_even_when_the_clock_stands_still() -> None:
    auth = KrakenAuth("api-key", SECRET, clock=lambda: NOW)
    assert [auth.nonce() for _ in range(3)] == [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002]


def test_every_private_form_carries_a_fresh_nonce_after_its_fields() -> None:
    auth = KrakenAuth("api-key", SECRET, clock=lambda: NOW)
    assert auth.form_with_nonce() == "nonce=1700000000000"
    assert auth.form_with_nonce("start=1699900000&ofs=50") == "start=1699900000&ofs=50&nonce=1700000000001"


def test_the_stream_needs_the_kraken_auth_for_its_nonce() -> None:
    with pytest.raises(TypeError, match="nonce"):
        KrakenAPIUserStreamDataSource(MarketAuth("api-key", SECRET))


def test_the_token_reply_is_a_grant_usable_for_15_minutes(data_source: KrakenAPIUserStreamDataSource) -> None:
    grant = data_source.parse_token_reply(messages.TOKEN_GRANTED)
    assert (grant.token, grant.expires_in) == ("1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw", 900.0)
    assert grant.endpoint is None  # the connection goes to WS_URL


def test_a_refused_key_is_an_authentication_error_and_an_unwell_exchange_is_not(
    data_source: KrakenAPIUserStreamDataSource,
) -> None:
    with pytest.raises(AuthenticationError, match=r"^EAPI:Invalid key$"):
        data_source.parse_token_reply(messages.INVALID_KEY)
    with pytest.raises(RestError, match="EService:Unavailable"):
        data_source.parse_token_reply(messages.UNAVAILABLE)


def test_every_subscribe_carries_the_connections_token_and_asks_for_no_snapshot(
    data_source: KrakenAPIUserStreamDataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The archetype mints a token per connection; stand one in.
    monkeypatch.setattr(KrakenAPIUserStreamDataSource, "token", "ws-token")
    subscribes = list(data_source.subscribe_messages())
    assert subscribes == [
        {
            "method": "subscribe",
            "params": {"channel": "executions", "token": "ws-token", "snap_orders": False, "snap_trades": False},
            "req_id": 1,
        },
        {"method": "subscribe", "params": {"channel": "balances", "token": "ws-token", "snapshot": False}, "req_id": 2},
    ]
    assert data_source.expected_subscribe_acks(subscribes) == 2


def test_the_client_pings_with_json_and_counts_its_req_ids(data_source: KrakenAPIUserStreamDataSource) -> None:
    assert [data_source.ping_message() for _ in range(2)] == [
        {"method": "ping", "req_id": 1},
        {"method": "ping", "req_id": 2},
    ]


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.PENDING_NEW, FrameKind.USER_MESSAGE),
        (messages.TRADE, FrameKind.USER_MESSAGE),
        (messages.DEPOSIT, FrameKind.USER_MESSAGE),
        (messages.STATUS, FrameKind.CONTROL),
        (messages.MAINTENANCE, FrameKind.CONTROL),
        (messages.HEARTBEAT, FrameKind.CONTROL),
        (messages.PONG, FrameKind.CONTROL),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.BALANCES_SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.TOKEN_REFUSED, FrameKind.SUBSCRIBE_REJECTED),
        ({"channel": "book", "type": "update", "data": []}, FrameKind.MALFORMED),
        ([[], "openOrders", {"sequence": 1}], FrameKind.MALFORMED),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(data_source: KrakenAPIUserStreamDataSource, frame: Any, kind: FrameKind) -> None:
    assert data_source.classify(frame) is kind


def test_a_refusal_is_described_in_krakens_words(data_source: KrakenAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.TOKEN_REFUSED) == "EAPI:Invalid token"


# --- the stream's rows ----------------------------------------------------------------------------------


def order_update(status: OrderStatus, filled: str, updated_at: int) -> OrderUpdate:
    return OrderUpdate(
        exchange_order_id=ORDER_ID,
        client_order_id="bot-7",
        symbol="BTC/USD",
        status=status,
        price=Decimal(26500),
        quantity=Decimal("0.005"),
        filled_quantity=Decimal(filled),
        updated_at=updated_at,
    )


def pushed(*frames: dict[str, Any], known: dict[str, KnownOrder] | None = None) -> list[Any]:
    known = {} if known is None else known
    return [event for frame in frames for event in parse_push(frame, known, nothing_recalled, {})]


def test_a_placement_is_an_open_order_and_its_sparse_live_row_takes_the_terms_known() -> None:
    placed, live = pushed(messages.PENDING_NEW, messages.NEW)
    assert placed == order_update(OrderStatus.OPEN, "0", 1695378785709)
    assert live == order_update(OrderStatus.OPEN, "0", 1695378785709)


def test_a_fill_is_reported_before_its_order_and_the_fee_is_what_was_paid() -> None:
    _, fill, order = pushed(messages.PENDING_NEW, messages.TRADE)
    assert fill == TradeFill(
        trade_id="TOUZLP-ZMMXO-UOGQBT",
        exchange_order_id=ORDER_ID,
        client_order_id="bot-7",
        symbol="BTC/USD",
        price=Decimal("26599.9"),
        quantity=Decimal("0.002"),
        fee=Decimal("0.0851"),
        fee_asset="USD",
        timestamp=1695378789789,
    )
    assert order == order_update(OrderStatus.PARTIALLY_FILLED, "0.002", 1695378789789)


def test_the_fill_that_completes_an_order_fills_it_though_its_row_says_partially_filled() -> None:
    known: dict[str, KnownOrder] = {}
    events = pushed(messages.PENDING_NEW, messages.TRADE, messages.COMPLETING_TRADE, messages.FILLED, known=known)
    orders = [event for event in events if isinstance(event, OrderUpdate)]
    assert [(order.status, order.filled_quantity) for order in orders] == [
        (OrderStatus.OPEN, 0),
        (OrderStatus.PARTIALLY_FILLED, Decimal("0.002")),
        (OrderStatus.FILLED, Decimal("0.005")),
        (OrderStatus.FILLED, Decimal("0.005")),
    ]
    assert known == {}, "a finished order is forgotten"


def test_a_cancel_carries_the_filled_total_and_ends_the_order() -> None:
    *_, cancelled = pushed(messages.PENDING_NEW, messages.TRADE, messages.CANCELED)
    assert cancelled == order_update(OrderStatus.CANCELED, "0.002", 1695378841455)


def test_a_fill_the_rest_listing_already_counted_is_not_counted_again() -> None:
    known: dict[str, KnownOrder] = {}
    pushed(messages.PENDING_NEW, known=known)
    known[ORDER_ID].listed_filled, known[ORDER_ID].listed_trades = Decimal("0.002"), frozenset({"TOUZLP-ZMMXO-UOGQBT"})
    *_, order = pushed(messages.TRADE, known=known)
    assert isinstance(order, OrderUpdate)
    assert order.filled_quantity == Decimal("0.002")


def test_a_row_about_an_order_never_seen_takes_its_terms_from_the_account() -> None:
    def recall(order_id: str) -> OrderUpdate | None:
        return order_update(OrderStatus.PARTIALLY_FILLED, "0.002", 1695378789789) if order_id == ORDER_ID else None

    [cancelled] = parse_push(messages.CANCELED, {}, recall, {})
    assert cancelled == order_update(OrderStatus.CANCELED, "0.002", 1695378841455)


def test_a_sparse_row_about_an_order_nobody_knows_is_unreadable() -> None:
    with pytest.raises(KeyError, match=ORDER_ID):
        pushed(messages.NEW)


def test_a_balance_is_the_absolute_balance_not_the_amount_moved_less_what_was_held() -> None:
    [deposit] = parse_push(messages.DEPOSIT, {}, nothing_recalled, {"BTC": Decimal("0.005")})
    assert deposit == BalanceUpdate(
        asset="BTC", total=Decimal("0.02"), available=Decimal("0.015"), updated_at=1695378222925
    )
    usd, btc = parse_push(messages.TRADE_BALANCES, {}, nothing_recalled, {})
    assert isinstance(usd, BalanceUpdate)
    assert isinstance(btc, BalanceUpdate)
    assert (usd.asset, usd.total, usd.available) == ("USD", Decimal("80648.609"), Decimal("80648.609"))
    assert (btc.asset, btc.total) == ("BTC", Decimal("1.198"))


def test_an_earn_wallets_entry_is_not_the_spot_balance() -> None:
    assert parse_push(messages.EARN_ALLOCATION, {}, nothing_recalled, {}) == []


# --- the REST snapshot ----------------------------------------------------------------------------------


def test_rest_names_are_translated_to_v2s() -> None:
    assert (NAMES.asset("XXBT"), NAMES.asset("ZUSD"), NAMES.asset("USDT")) == ("BTC", "USD", "USDT")
    assert (NAMES.symbol("XXBTZUSD"), NAMES.symbol("XBTUSD"), NAMES.symbol("USDTUSD")) == (
        "BTC/USD",
        "BTC/USD",
        "USDT/USD",
    )
    assert NAMES.quote("XXBTZUSD") == "USD"
    with pytest.raises(UnknownName, match="XETHZUSD"):
        NAMES.symbol("XETHZUSD")


def test_the_snapshot_reads_every_reply_in_v2s_spelling() -> None:
    known: dict[str, KnownOrder] = {}
    snapshot = parse_snapshot(
        result_of(messages.BALANCE_EX),
        result_of(messages.OPEN_ORDERS)["open"],
        result_of(messages.CLOSED_ORDERS)["closed"],
        result_of(messages.TRADES_HISTORY)["trades"],
        NAMES,
        known,
    )
    assert snapshot.balances == {
        "USD": BalanceUpdate(asset="USD", total=Decimal("25435.21"), available=Decimal("17185.45")),
        "BTC": BalanceUpdate(asset="BTC", total=Decimal("1.2435"), available=Decimal("0.4012")),
        "USDT": BalanceUpdate(asset="USDT", total=Decimal("500.0000"), available=Decimal("580.0000")),
    }, "available is balance + credit - credit_used - hold_trade; XBT.F is an Earn balance"
    assert snapshot.open_orders == {
        "OQCLML-BW3P3-BUCMWZ": OrderUpdate(
            exchange_order_id="OQCLML-BW3P3-BUCMWZ",
            client_order_id="bot-1",
            symbol="BTC/USD",
            status=OrderStatus.PARTIALLY_FILLED,
            price=Decimal("30010.0"),
            quantity=Decimal("1.25"),
            filled_quantity=Decimal("0.375"),
        )
    }
    [closed] = snapshot.closed_orders
    assert (closed.status, closed.filled_quantity, closed.updated_at) == (
        OrderStatus.FILLED,
        Decimal("0.02"),
        1688665499192,
    )
    assert list(snapshot.fills) == [
        TradeFill(
            trade_id="THVRQM-33VKH-UCI7BS",
            exchange_order_id="OBCMZD-JIEE7-77TH3F",
            client_order_id="bot-2",
            symbol="BTC/USD",
            price=Decimal(27500),
            quantity=Decimal("0.02"),
            fee=Decimal("0.88"),
            fee_asset="USD",
            timestamp=1688665499192,
        )
    ]
    assert known["OQCLML-BW3P3-BUCMWZ"].listed_trades == {"TCCCTY-WE2O6-P3NB37"}, "the open order's listing is kept"


def test_an_open_order_listed_before_a_fill_the_stream_reported_counts_that_fill() -> None:
    known = {"OQCLML-BW3P3-BUCMWZ": KnownOrder("BTC/USD", Decimal("30010.0"), Decimal("1.25"), "bot-1")}
    known["OQCLML-BW3P3-BUCMWZ"].streamed = {"TCCCTY-WE2O6-P3NB37": Decimal("0.375"), "TNEWER": Decimal("0.125")}
    order = parse_rest_order("OQCLML-BW3P3-BUCMWZ", messages.OPEN_ORDER, NAMES, known)
    assert order.filled_quantity == Decimal("0.5")


def test_the_order_lookup_reads_query_orders() -> None:
    [(txid, row)] = result_of(messages.QUERY_ORDERS).items()
    order = parse_rest_order(txid, row, NAMES, {})
    assert (order.exchange_order_id, order.status, order.client_order_id) == (txid, OrderStatus.FILLED, "bot-2")


@pytest.mark.parametrize("reply", [messages.ORDER_NOT_FOUND, messages.RATE_LIMITED, messages.INVALID_KEY])
def test_a_refusal_in_an_ok_reply_is_an_error(reply: dict[str, Any]) -> None:
    with pytest.raises(KrakenError, match=reply["error"][0]):
        result_of(reply)
