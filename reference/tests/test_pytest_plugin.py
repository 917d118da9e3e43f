"""The fake_exchange fixture reaches any project that installs userstream, through the pytest11 entry point."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_a_fresh_project_gets_the_fixture_without_any_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        from userstream.testing import FakeExchange, ReferenceDialect

        async def test_fixture(fake_exchange):
            assert isinstance(fake_exchange, FakeExchange)
            assert isinstance(fake_exchange.dialect, ReferenceDialect)
            assert fake_exchange.ws_url.startswith("ws://127.0.0.1:")
            assert fake_exchange.open_connections == 0
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_a_project_can_override_the_dialect_and_credentials(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(
        """
        import pytest
        from userstream.testing import Credentials, ReferenceDialect

        class AcmeDialect(ReferenceDialect):
            CHANNELS = ("acme.orders",)

        @pytest.fixture
        def fake_exchange_dialect():
            return AcmeDialect()

        @pytest.fixture
        def fake_exchange_credentials():
            return Credentials(api_key="acme-key", secret="acme-secret")
        """
    )
    pytester.makepyfile(
        """
        async def test_fixture(fake_exchange):
            assert type(fake_exchange.dialect).__name__ == "AcmeDialect"
            assert fake_exchange.credentials.api_key == "acme-key"
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
