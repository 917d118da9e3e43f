"""Kraken's message shapes, checked as pure functions: no socket, no event loop."""

from typing import Any

import pytest
from userstream import AuthenticationError, FrameKind, MarketAuth, RestError
from userstream.testing.dialects.kraken import DocumentedFrames as messages

from kraken.kraken_api_user_stream_data_source import KrakenAPIUserStreamDataSource
from kraken.kraken_auth import KrakenAuth

NOW = 1_700_000_000.0
# The private key of Kraken's worked example (docs.kraken.com, "Spot REST Authentication").
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


@pytest.fixture
def data_source() -> KrakenAPIUserStreamDataSource:
    return KrakenAPIUserStreamDataSource(KrakenAuth("api-key", SECRET, clock=lambda: NOW))


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


def test_the_token_call_is_a_form_carrying_a_fresh_nonce(data_source: KrakenAPIUserStreamDataSource) -> None:
    assert [data_source.token_request_body() for _ in range(2)] == ["nonce=1700000000000", "nonce=1700000000001"]
    assert data_source.token_request_headers() == {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


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


def test_every_subscribe_carries_the_connections_token(
    data_source: KrakenAPIUserStreamDataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The archetype mints a token per connection; stand one in.
    monkeypatch.setattr(KrakenAPIUserStreamDataSource, "token", "ws-token")
    subscribes: list[Any] = list(data_source.subscribe_messages())
    assert [subscribe["subscription"] for subscribe in subscribes] == [
        {"name": "openOrders", "token": "ws-token"},
        {"name": "ownTrades", "token": "ws-token"},
    ]
    assert [subscribe["event"] for subscribe in subscribes] == ["subscribe", "subscribe"]
    assert data_source.expected_subscribe_acks(subscribes) == 2


def test_the_client_pings_with_json_and_counts_its_reqids(data_source: KrakenAPIUserStreamDataSource) -> None:
    assert [data_source.ping_message() for _ in range(2)] == [
        {"event": "ping", "reqid": 1},
        {"event": "ping", "reqid": 2},
    ]


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.NEW_ORDER, FrameKind.USER_MESSAGE),
        (messages.OWN_TRADE, FrameKind.USER_MESSAGE),
        (messages.ORDER_CLOSED, FrameKind.USER_MESSAGE),
        (messages.SYSTEM_STATUS, FrameKind.CONTROL),
        (messages.HEARTBEAT, FrameKind.CONTROL),
        (messages.PONG, FrameKind.CONTROL),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.SESSION_REFUSED, FrameKind.SUBSCRIBE_REJECTED),
        (messages.FEED_ENDED, FrameKind.RECONNECT),
        ([[], "book-10", {"sequence": 1}], FrameKind.MALFORMED),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(data_source: KrakenAPIUserStreamDataSource, frame: Any, kind: FrameKind) -> None:
    assert data_source.classify(frame) is kind


def test_a_refusal_is_described_in_krakens_words(data_source: KrakenAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.SESSION_REFUSED) == "ESession:Invalid session (openOrders)"
