"""Every operation of every connector, through the public API, against the vendors' own documents.

For each case (see ``_cases.py``) a NexoraConnect is configured as a tenant would configure it,
except that the integration's ``base_url`` is a Prism mock on loopback and its transport is the
test router (``_transport.py``):

* static run: Prism answers with the document's examples. Prism rejects a request that breaks
  the contract (401 wrong auth, 404 unknown path, 422/400 invalid parameter or body): none may be
  rejected, and the operation must return a parsed result.
* generated runs: ``Prefer: dynamic=true`` makes Prism generate every body from the schema,
  ``DYNAMIC_RUNS`` times. Each either parses or fails with a typed SDK error: a
  :class:`VendorPayloadError`, or the connector's own deliberate answer to data that is not this
  tenant's (a desk of another project, a caller who is not among the generated customers, more
  records than a v1 scan reads). An untyped exception fails the test, and so does an error that
  would mean the request itself was wrong (auth, scope, usage, connection, deadline).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from sdk import (
    DeadlineExceededError,
    InvalidArgumentsError,
    NexoraConfig,
    NexoraConnect,
    NexoraError,
    ScopeDeniedError,
    UsageError,
    VendorAuthError,
    VendorConnectionError,
    VendorPayloadError,
    VendorTimeoutError,
    error_kind,
)
from sdk.authoring import ConnectorRegistry, default_registry
from sdk.testing import MemoryCredentialSource
from tests.vendor_mocks._cases import CASES, CONNECTORS, NO_DOCUMENT, Case
from tests.vendor_mocks._transport import PrismRouter
from tests.vendor_mocks.conftest import DYNAMIC_RUNS, Mocks, Row, TokenEndpoint

pytestmark = [pytest.mark.prism, pytest.mark.usefixtures("prism_mocks")]

TENANT = "acme"
INTEGRATION = "vendor"
WRONG_REQUEST = (
    VendorAuthError,
    ScopeDeniedError,
    UsageError,
    VendorConnectionError,
    VendorTimeoutError,
    DeadlineExceededError,
)


@asynccontextmanager
async def _runtime(
    case: Case, mocks: Mocks, router: PrismRouter, token_url: str | None
) -> AsyncIterator[NexoraConnect]:
    target = case.target
    grant: dict[str, Any] = (
        {"grant": "scoped-write", "write_scopes": [case.write_scope]}
        if case.write_scope
        else {"grant": "read-only"}
    )
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                TENANT: {
                    "phone_region": "NZ",
                    "integrations": {
                        INTEGRATION: {
                            "connector": target.connector,
                            "settings": {**target.settings, **case.settings},
                            "base_url": f"http://127.0.0.1:{mocks.port(target.mocks[0])}{target.base_path}",
                            **grant,
                        }
                    },
                }
            },
        }
    )
    credentials = MemoryCredentialSource()
    credentials.put(TENANT, INTEGRATION, target.credential(token_url))
    registry = ConnectorRegistry(discover=False)
    registry.register(default_registry().load(target.connector))
    async with NexoraConnect(config, transport=router, registry=registry, credential_store=credentials) as nc:
        yield nc


async def _run(nc: NexoraConnect, case: Case) -> Any:
    if case.operation == "verify":
        await nc.verify(TENANT, INTEGRATION)
        return None
    async with nc.conversation(tenant=TENANT, conversation_id="call-" + secrets.token_hex(6)) as conv:
        return await conv.call(INTEGRATION, case.operation, **case.arguments)


def _rejections(router: PrismRouter, mocks: Mocks) -> list[str]:
    found = []
    for exchange in router.exchanges:
        if exchange.rejected:
            log = mocks.running[exchange.mock].log_tail(8) if exchange.mock in mocks.running else ""
            found.append(
                f"{exchange.method} {exchange.path} -> {exchange.status} {exchange.violations}\n{log}"
            )
    return found


def _mock_repeated_a_page(router: PrismRouter) -> bool:
    """True if the connector paged (asked one path again) and every answer was a success."""
    sent = [(exchange.method, exchange.path) for exchange in router.exchanges]
    return len(set(sent)) < len(sent) and all(exchange.status < 300 for exchange in router.exchanges)


def _row(report: dict[tuple[str, str], Row], case: Case) -> Row:
    return report.setdefault((case.target.key, case.label), Row())


def _token_url(case: Case, endpoint: TokenEndpoint) -> str | None:
    return endpoint.url if case.target.token_endpoint else None


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_static_examples_are_accepted_and_parsed(
    case: Case, prism_mocks: Mocks, token_endpoint: TokenEndpoint, contract_report: dict[tuple[str, str], Row]
) -> None:
    prism_mocks.require(case.target.mocks)
    router = PrismRouter({name: prism_mocks.port(name) for name in case.target.mocks}, case.target.routes)
    row = _row(contract_report, case)
    outcome: BaseException | None = None
    async with _runtime(case, prism_mocks, router, _token_url(case, token_endpoint)) as nc:
        try:
            result = await _run(nc, case)
        except NexoraError as exc:
            outcome = exc
    rejected = _rejections(router, prism_mocks)
    row.requests += len(router.exchanges)
    row.requests_valid = row.requests_valid and not rejected
    looped = isinstance(outcome, VendorPayloadError) and _mock_repeated_a_page(router)
    row.static = (
        "yes" if outcome is None else "yes, loop stopped" if looped else f"NO ({error_kind(outcome)})"
    )
    assert router.exchanges, "the operation sent nothing to the mock"
    schemes = {exchange.auth_scheme for exchange in router.exchanges}
    assert schemes == {case.target.auth_scheme}, schemes
    assert not rejected, "Prism rejected a request (contract violation):\n" + "\n".join(rejected)
    if looped:
        # A static mock answers every page with the same example, next-page cursor included: the
        # first page parsed, and the walk stopped with a typed error instead of looping.
        return
    assert outcome is None, f"the document's example did not parse: {outcome!r}"
    if case.operation != "verify":
        assert result is not None


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_generated_bodies_parse_or_fail_typed(
    case: Case, prism_mocks: Mocks, token_endpoint: TokenEndpoint, contract_report: dict[tuple[str, str], Row]
) -> None:
    prism_mocks.require(case.target.mocks)
    router = PrismRouter(
        {name: prism_mocks.port(name) for name in case.target.mocks}, case.target.routes, dynamic=True
    )
    row = _row(contract_report, case)
    untyped: list[str] = []
    async with _runtime(case, prism_mocks, router, _token_url(case, token_endpoint)) as nc:
        for _ in range(DYNAMIC_RUNS):
            row.dynamic_runs += 1
            try:
                await _run(nc, case)
            except NexoraError as exc:
                # The static run proved the arguments valid: an InvalidArgumentsError here is the
                # connector's answer to generated data (no generated customer has the caller's email).
                if isinstance(exc, WRONG_REQUEST) and not isinstance(exc, InvalidArgumentsError):
                    untyped.append(f"{type(exc).__name__}: {str(exc)[:300]}")
                kind = type(exc).__name__
                row.dynamic_errors[kind] = row.dynamic_errors.get(kind, 0) + 1
            except Exception as exc:  # noqa: BLE001 - the point is to catch anything untyped
                untyped.append(f"{type(exc).__name__}: {str(exc)[:300]}")
            else:
                row.dynamic_parsed += 1
    rejected = _rejections(router, prism_mocks)
    row.requests += len(router.exchanges)
    row.requests_valid = row.requests_valid and not rejected
    assert not rejected, "Prism rejected a request (contract violation):\n" + "\n".join(rejected)
    assert not untyped, (
        "generated bodies raised untyped errors, or errors blaming the request:\n" + "\n".join(untyped)
    )


def test_every_implemented_operation_has_a_case() -> None:
    registry = default_registry()
    covered = {(case.target.connector, case.operation) for case in CASES}
    for target in CONNECTORS:
        cls = registry.load(target.connector)
        missing = [
            op for op in [*cls.implemented_operations(), "verify"] if (target.connector, op) not in covered
        ]
        assert not missing, f"{target.connector}: no vendor-mock case for {missing}"
    shipped = {name for name in registry.names()}
    assert shipped <= {t.connector for t in CONNECTORS} | set(NO_DOCUMENT), shipped
