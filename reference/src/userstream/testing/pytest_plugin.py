"""pytest plugin (entry point ``pytest11``): the ``fake_exchange`` fixture for every project that installs userstream.

Override ``fake_exchange_dialect`` or ``fake_exchange_credentials`` in a conftest.py to make the
fake exchange speak a particular exchange's protocol or accept other keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from userstream.testing.checklist import MARKER
from userstream.testing.dialect import Credentials, Dialect, ReferenceDialect
from userstream.testing.fake_exchange import FakeExchange

try:
    import pytest_asyncio
except ImportError:  # userstream installed without its test extra
    HAVE_PYTEST_ASYNCIO = False
else:
    HAVE_PYTEST_ASYNCIO = True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(item): the reviewer's checklist item the test decides")


@pytest.fixture
def fake_exchange_dialect() -> Dialect:
    """The protocol the fake exchange speaks; override per exchange."""
    return ReferenceDialect()


@pytest.fixture
def fake_exchange_credentials() -> Credentials:
    """The API key and secret the fake exchange accepts."""
    return Credentials()


if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def fake_exchange(
        fake_exchange_dialect: Dialect, fake_exchange_credentials: Credentials
    ) -> AsyncIterator[FakeExchange]:
        """A running fake exchange on 127.0.0.1 with a free port, closed after the test."""
        async with FakeExchange(fake_exchange_dialect, fake_exchange_credentials) as exchange:
            yield exchange

else:

    @pytest.fixture
    def fake_exchange() -> None:
        pytest.fail("the fake_exchange fixture needs pytest-asyncio: pip install 'userstream[test]'")
