"""What several reliability scenarios share: the shipped connectors with their kit cases, and a runtime.

The cases come from each connector's own ``*_cases.py`` (the ones its conformance kit runs), so a
new operation added there is covered here too. Salesforce is not among the targets yet: its kit
cases need the JWT login server of ``salesforce_cases.kit_login()`` around every runtime. The
runtime is the real ``NexoraConnect`` with an in-memory credential source and a respx router as
the vendor.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import respx

from connectors.billing.chargebee import ChargebeeConnector
from connectors.billing.stripe import StripeConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.ticketing.jsm import JSMConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import AuditSink, MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.authoring import Connector, ConnectorRegistry
from sdk.testing import MemoryCredentialSource, OperationCase, make_canary
from tests.connectors import chargebee_cases, hubspot_cases, jsm_cases, stripe_cases, zendesk_cases
from tests.mock_nexora import registry_of, runtime_on
from vault import Credential

TENANT = "acme"
INTEGRATION = "vendor"
SECRET = make_canary("secret")
"""The vendor key every runtime here holds: one canary for the process, so that the session-wide
S3 scan (tests/conftest.py) looks for it without growing by one canary per fuzz example."""


@dataclass(frozen=True)
class Target:
    """One shipped connector and the kit cases that exercise each of its operations."""

    connector: type[Connector]
    settings: Mapping[str, Any]
    cases: Sequence[OperationCase]
    credential: Callable[[str], Credential]

    @property
    def name(self) -> str:
        return self.connector.name

    def is_write(self, case: OperationCase) -> bool:
        return self.connector.operations[case.operation].is_write

    @property
    def write_scopes(self) -> list[str]:
        return sorted({str(s.scope) for s in self.connector.operations.values() if s.is_write})


TARGETS: tuple[Target, ...] = (
    Target(HubSpotConnector, {}, hubspot_cases.KIT_CASES, hubspot_cases.credential),
    Target(ZendeskConnector, zendesk_cases.SETTINGS, zendesk_cases.CASES, zendesk_cases.credential),
    Target(StripeConnector, {}, stripe_cases.CASES, stripe_cases.credential),
    Target(JSMConnector, jsm_cases.SETTINGS, jsm_cases.CASES, jsm_cases.credential),
    Target(ChargebeeConnector, chargebee_cases.SETTINGS, chargebee_cases.CASES, chargebee_cases.credential),
)

CASES: tuple[tuple[Target, OperationCase], ...] = tuple(
    (target, case) for target in TARGETS for case in target.cases
)
"""Every (connector, case) pair; ``case_id`` names them for parametrize."""


def case_id(pair: tuple[Target, OperationCase]) -> str:
    return f"{pair[0].name}-{pair[1].label}"


def config(target: Target, *, write_scopes: Sequence[str] | None = None) -> NexoraConfig:
    """One tenant, one integration of ``target``: every write granted unless ``write_scopes`` says."""
    scopes = target.write_scopes if write_scopes is None else list(write_scopes)
    grant: dict[str, Any] = (
        {"grant": "scoped-write", "write_scopes": scopes} if scopes else {"grant": "read-only"}
    )
    integration = {"connector": target.name, "settings": dict(target.settings), **grant}
    return NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {TENANT: {"integrations": {INTEGRATION: integration}}},
        }
    )


def registry(*replacements: type[Connector]) -> ConnectorRegistry:
    """The shipped connectors; a ``replacement`` takes the place of the one with its name."""
    return registry_of(*(target.connector for target in TARGETS), **{c.name: c for c in replacements})


@contextlib.asynccontextmanager
async def runtime(
    target: Target,
    router: respx.MockRouter,
    *,
    write_scopes: Sequence[str] | None = None,
    audit: AuditSink | None = None,
    credentials: MemoryCredentialSource | None = None,
    connector: type[Connector] | None = None,
) -> AsyncIterator[NexoraConnect]:
    """A ``NexoraConnect`` whose only vendor is ``router`` and whose key is a fresh canary.

    ``connector`` replaces the target's class (a subclass with another retry policy, say).
    """
    if credentials is None:
        credentials = MemoryCredentialSource()
        credentials.put(TENANT, INTEGRATION, target.credential(SECRET))
    async with runtime_on(
        router,
        config(target, write_scopes=write_scopes),
        registry(*([connector] if connector is not None else [])),
        credentials,
        audit=audit or MemoryAuditSink(),
    ) as nc:
        yield nc


def original_answer(route: respx.Route) -> Callable[[httpx.Request], httpx.Response]:
    """What ``route`` answered before a test takes over its side effect (a fresh copy each time)."""
    effect, fixed = route.side_effect, route.return_value

    def answer(request: httpx.Request) -> httpx.Response:
        if callable(effect):
            result = effect(request)
            assert isinstance(result, httpx.Response)
            return result
        assert isinstance(fixed, httpx.Response), "a case route needs a fixed response or a callable"
        return httpx.Response(fixed.status_code, headers=fixed.headers, content=fixed.content)

    return answer
