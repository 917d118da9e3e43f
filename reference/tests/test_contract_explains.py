"""A failing contract run explains itself: it stops as soon as its cause is known, and says so first.

Each test runs the connector contract on a deliberately broken reference connector in a pytest of its own
(`pytester`, in-process) and reads that run's report as a reviewer would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parent

CONNECTORS = '''
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from reference_connector import (
    ReconcilingReferenceAuth,
    ReconcilingReferenceDataSource,
    ReferenceAuth,
    ReferenceDataSource,
)

from userstream import FrameKind
from userstream.testing import Dialect, FakeExchange, ReferenceDialect
from userstream.testing.accounts import ExchangeAccount
from userstream.testing.contract import (
    ReconciliationContract,
    ReconcilingHarness,
    WebSocketHarness,
    WebSocketUserStreamContract,
)
from userstream.testing.dialects import reference


class WrongSignatureAuth(ReconcilingReferenceAuth):
    """Signs its login over the wrong text: the exchange refuses every login."""

    def ws_login_payload(self) -> dict[str, Any]:
        payload = super().ws_login_payload()
        payload["args"]["signature"] = self.hmac_sha256_hex("not what the exchange signs")
        return payload


class WrongSnapshotRoute(ReconcilingReferenceDataSource):
    """Asks for its balances where the exchange serves none: every snapshot is a 404."""

    async def rest_request(self, method: str, path: str, **options: Any) -> Any:
        return await super().rest_request(method, path.replace("/balances", "/balance"), **options)


class RefusalTakenForALogin(ReferenceDataSource):
    """Classifies the exchange's login refusal as a login acknowledgement."""

    def classify(self, message: Any) -> FrameKind:
        kind = super().classify(message)
        return FrameKind.AUTH_OK if kind is FrameKind.AUTH_REJECTED else kind


class ReconcilingReferenceHarness(ReconcilingHarness):
    data_source_class = ReconcilingReferenceDataSource
    auth_class = ReconcilingReferenceAuth
    account: reference.ReferenceAccount

    def dialect(self) -> Dialect:
        return reference.LoginMessageDialect()

    def install(self, exchange: FakeExchange) -> None:
        self.account = reference.install_account(exchange)

    def exchange_account(self) -> ExchangeAccount:
        return self.account

    def user_events(self) -> Sequence[Any]:
        order = reference.ReferenceOrder("1", "BTC-USDT", "buy", "limit", Decimal(1), Decimal(1), None, 1, 1)
        balance = {"asset": "BTC", "total": "1", "available": "1", "time": 2}
        return [{"channel": "orders", "data": order.as_json()}, {"channel": "balances", "data": balance}]


class WrongSignatureHarness(ReconcilingReferenceHarness):
    auth_class = WrongSignatureAuth


class WrongSnapshotRouteHarness(ReconcilingReferenceHarness):
    data_source_class = WrongSnapshotRoute


class RefusalTakenForALoginHarness(WebSocketHarness):
    data_source_class = RefusalTakenForALogin
    auth_class = ReferenceAuth

    def dialect(self) -> Dialect:
        return ReferenceDialect()

    def user_events(self) -> Sequence[Any]:
        return [{"channel": "orders", "data": {"order_id": "1"}}, {"channel": "balances", "data": {"BTC": "1"}}]
'''


@dataclass(frozen=True)
class ContractRun:
    failures: dict[str, str]
    """Each failed test's name and the first line of its failure, as the run's report shows them."""
    passed: int
    seconds: float


def contract_run(pytester: pytest.Pytester, test_class: str, *arguments: str) -> ContractRun:
    """The contract on one broken connector: ``test_class`` is the test class's source, after `CONNECTORS`."""
    pytester.syspathinsert(TESTS)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_broken_connector=CONNECTORS + "\n\n" + test_class)
    started = time.perf_counter()
    recorded = pytester.inline_run("-p", "no:cacheprovider", "-q", *arguments)
    seconds = time.perf_counter() - started
    passed, _, failed = recorded.listoutcomes()
    failures = {report.nodeid.rpartition("::")[2]: first_line(report) for report in failed}
    return ContractRun(failures, len(passed), seconds)


def first_line(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(report.longrepr) if crash is None else str(crash.message).splitlines()[0]


def test_a_wrong_login_signature_fails_every_test_at_once_naming_the_rejection(pytester: pytest.Pytester) -> None:
    run = contract_run(
        pytester,
        """
class TestWrongSignature(WebSocketUserStreamContract, ReconciliationContract):
    @pytest.fixture
    def harness(self) -> ReconcilingHarness:
        return WrongSignatureHarness()
""",
    )
    failures = run.failures
    assert len(failures) >= 20, failures
    assert run.seconds < 10, f"the failing run took {run.seconds:.1f} s"
    unexplained = {
        test: line for test, line in failures.items() if "AuthenticationError: invalid signature" not in line
    }
    assert not unexplained, unexplained
    first = failures["test_connects_authenticates_subscribes_and_streams_orders_fills_and_balances"]
    assert first.startswith("AssertionError: streaming: given up at once, AuthenticationError: invalid signature")


def test_a_snapshot_route_the_exchange_does_not_serve_fails_at_once_naming_the_404(pytester: pytest.Pytester) -> None:
    run = contract_run(
        pytester,
        """
class TestWrongSnapshotRoute(WebSocketUserStreamContract, ReconciliationContract):
    @pytest.fixture
    def harness(self) -> ReconcilingHarness:
        return WrongSnapshotRouteHarness()
""",
        "-k",
        "first_connection_reconciles or what_a_gap_missed",
    )
    failures = run.failures
    assert set(failures) == {
        "test_the_first_connection_reconciles_the_starting_state",
        "test_what_a_gap_missed_is_reconciled_after_the_reconnect",
    }
    assert run.seconds < 5, f"the failing run took {run.seconds:.1f} s"
    for line in failures.values():
        assert "given up at once" in line
        assert "HTTP 404" in line, line
        assert "no route GET /api/v1/balance" in line, line


def test_a_login_refusal_taken_for_a_login_fails_the_refused_login_test(pytester: pytest.Pytester) -> None:
    """With the right credentials such a connector works; refused, it must not pass for one that was let in."""
    run = contract_run(
        pytester,
        """
class TestRefusalTakenForALogin(WebSocketUserStreamContract):
    @pytest.fixture
    def harness(self) -> WebSocketHarness:
        return RefusalTakenForALoginHarness()
""",
        "-k",
        "not keepalives and not silent",  # the slowest, and a login is not what they watch
    )
    failures = run.failures
    assert list(failures) == ["test_refused_credentials_are_reported_and_retried_with_backoff"], failures
    assert run.passed >= 10
    [line] = failures.values()
    assert "a refused login must be reported as one" in line or "a refusal taken for a login" in line, line
