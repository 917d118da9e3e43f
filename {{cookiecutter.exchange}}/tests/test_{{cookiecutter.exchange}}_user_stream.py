{%- set contract = "PollingUserStreamContract" if cookiecutter.archetype == "rest_polling" else "WebSocketUserStreamContract" -%}
"""The connector against its fake exchange: userstream's connector contract, then the tracker.

The contract's tests (events in order, liveness, reconnects, refused keys, malformed frames, a
clean stop) run over a loopback socket on 127.0.0.1{% if cookiecutter.archetype != "rest_polling" %} and over an in-memory socket{% endif %}.
"""

import pytest
{% for line in [
    "from " ~ cookiecutter.exchange ~ "_harness import " ~ cookiecutter.__class_prefix ~ "Harness",
    "from userstream.testing import FakeExchange",
    "from userstream.testing.contract import " ~ contract ~ ", eventually",
] | sort %}{{ line }}
{% endfor %}
from {{ cookiecutter.exchange }} import {{ cookiecutter.__class_prefix }}Auth, {{ cookiecutter.__class_prefix }}UserStreamTracker


class Test{{ cookiecutter.__class_prefix }}UserStream({{ contract }}):
    @pytest.fixture
    def harness(self) -> {{ cookiecutter.__class_prefix }}Harness:
        return {{ cookiecutter.__class_prefix }}Harness()

    async def test_the_tracker_streams_until_stopped(self, harness: {{ cookiecutter.__class_prefix }}Harness, exchange: FakeExchange) -> None:
        auth = harness.auth(harness.credentials())
        assert isinstance(auth, {{ cookiecutter.__class_prefix }}Auth)
        tracker = {{ cookiecutter.__class_prefix }}UserStreamTracker(auth, **harness.endpoints(exchange), **harness.options())
        async with tracker:
            await eventually(lambda: tracker.status.streaming, "the tracker streams")
{%- if cookiecutter.archetype != "rest_polling" %}
            await exchange.ping_connections()  # a stream with no handshake (a listen key) may not have had a frame yet
{%- endif %}
            await eventually(lambda: tracker.last_recv_time > 0, "the tracker saw a frame")
        assert not tracker.running
        await eventually(lambda: exchange.open_connections == 0, "no connection left open")
