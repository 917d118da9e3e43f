{%- set polling = cookiecutter.__archetype == "rest_polling" -%}
{%- set contracts = ["PollingUserStreamContract"] if polling else ["WebSocketUserStreamContract"] -%}
{%- if cookiecutter.__account_module %}{% set contracts = contracts + ["ReconciliationContract"] %}{% endif -%}
{%- set prefix = cookiecutter.__class_prefix -%}
"""The connector against its fake exchange: userstream's connector contract, then the tracker.

The contract's tests (events in order, liveness, reconnects, refused keys, malformed frames, a
clean stop) run over a loopback socket on 127.0.0.1{% if not polling %} and over an in-memory socket{% endif %}.
{%- if cookiecutter.__account_module %} Its
reconciliation tests check that the account agrees with the exchange's after every gap.
{%- endif %}
"""

from typing import Any

import pytest
{%- set imports = [
    "from " ~ cookiecutter.__exchange ~ "_harness import " ~ prefix ~ "Harness",
    "from userstream.testing import FakeExchange",
    "from userstream.testing.contract import " ~ (contracts | sort | join(", ")) ~ ", eventually",
] %}
{%- if cookiecutter.__account_module %}{% set imports = imports + ["from userstream import BalanceUpdate, EventSource"] %}{% endif %}
{% for line in imports | sort %}{{ line }}
{% endfor %}
{{ kit_from_import(cookiecutter.__exchange, prefix ~ "Auth", prefix ~ "UserStreamTracker") }}


def tracker_options(harness: {{ prefix }}Harness, exchange: FakeExchange) -> dict[str, Any]:
    """The tracker's keyword arguments for the data source: the fake's endpoints and the harness's options."""
    return {**harness.endpoints(exchange), **harness.options()}


def account_auth(harness: {{ prefix }}Harness) -> {{ prefix }}Auth:
    auth = harness.auth(harness.credentials())
    assert isinstance(auth, {{ prefix }}Auth)
    return auth


class Test{{ prefix }}UserStream({{ contracts | join(", ") }}):
    @pytest.fixture
    def harness(self) -> {{ prefix }}Harness:
        return {{ prefix }}Harness()

    async def test_the_tracker_streams_until_stopped(
        self,
        harness: {{ prefix }}Harness,
        exchange: FakeExchange,
    ) -> None:
        options = tracker_options(harness, exchange)
        tracker = {{ prefix }}UserStreamTracker(account_auth(harness), **options)
        async with tracker:
            await eventually(lambda: tracker.status.streaming, "the tracker streams")
{%- if not polling %}
            await exchange.ping_connections()  # a stream with no handshake (a listen key) may not have had a frame yet
{%- endif %}
            await eventually(lambda: tracker.last_recv_time > 0, "the tracker saw a frame")
        assert not tracker.running
        await eventually(lambda: exchange.open_connections == 0, "no connection left open")
{%- if cookiecutter.__account_module %}

    async def test_the_tracker_keeps_the_account_and_offers_its_typed_events(
        self,
        harness: {{ prefix }}Harness,
        exchange: FakeExchange,
    ) -> None:
        harness.exchange_account().set_balance("USDT", "100", available="60")
        options = tracker_options(harness, exchange)
        tracker = {{ prefix }}UserStreamTracker(account_auth(harness), typed_events=True, **options)
        async with tracker:
            await eventually(lambda: "USDT" in tracker.account.balances, "the starting balance is in the account")
            event = tracker.account_events.get_nowait()
        assert isinstance(event, BalanceUpdate)
        assert (event.asset, str(event.total), str(event.available)) == ("USDT", "100", "60")
        assert event.source is EventSource.RECONCILIATION, "the first connection's snapshot is the starting state"
{%- endif %}
