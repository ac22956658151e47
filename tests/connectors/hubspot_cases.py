"""HubSpot test material: fixtures, a runtime wired to a respx HubSpot, scripted cases, kit cases.

The JSON under ``fixtures/hubspot/`` is written for these tests in the shapes HubSpot documents
(``SimplePublicObject``, ``CollectionResponseWithTotalSimplePublicObject``, the ``Error`` body);
nothing in it is taken from HubSpot's specification files, which may not be redistributed.
``test_hubspot_contract.py`` checks every case below against those files at test time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from connectors.crm.hubspot import HubSpotConnector
from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect, VendorNotFoundError
from sdk.authoring import ConnectorRegistry
from sdk.testing import MemoryCredentialSource, OperationCase, PaginationCase
from tests.connectors.payloads import VendorPayloads
from tests.mock_nexora import one_connector_config, registry_of, runtime_on, stored
from vault import ApiKeyCredential

BASE = "https://api.hubapi.com"
SEARCH = "/crm/v3/objects/contacts/search"
fixture = VendorPayloads("hubspot")
"""A fresh copy of ``fixtures/hubspot/<name>.json`` (tests may change it)."""
FIXTURES = fixture.directory
SPEC_NAMES = ("hubspot-contacts", "hubspot-companies", "hubspot-notes")

READ = "hubspot"
"""Integration with a read-only grant."""
WRITE = "hubspot-rw"
"""Integration granted notes:write."""


def search_response(*results: dict[str, Any], after: str | None = None) -> dict[str, Any]:
    """A contacts search response holding ``results``, with a next-page cursor when given."""
    body: dict[str, Any] = {"total": len(results), "results": list(results)}
    if after is not None:
        body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return body


def contact_hit(contact_id: str, **properties: str) -> dict[str, Any]:
    """One search hit with the given properties."""
    return {
        "id": contact_id,
        "properties": {"hs_object_id": contact_id, **properties},
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-02T00:00:00Z",
        "archived": False,
    }


def config(phone_region: str = "NZ") -> NexoraConfig:
    return one_connector_config("hubspot", {READ: (), WRITE: ("notes:write",)}, phone_region=phone_region)


def registry(connector: type[HubSpotConnector] = HubSpotConnector) -> ConnectorRegistry:
    return registry_of(hubspot=connector)


def credential(secret: str) -> ApiKeyCredential:
    """What a tenant stores in Vault for HubSpot: the private app's access token."""
    return ApiKeyCredential(type="api_key", api_key=SecretStr(secret))


def credentials(key: str) -> MemoryCredentialSource:
    """Both integrations of tenant ``acme`` hold ``key`` as their access token (version 1)."""
    return stored(credential(key), READ, WRITE)


def runtime(
    router: respx.MockRouter,
    creds: MemoryCredentialSource,
    *,
    audit: MemoryAuditSink | None = None,
    connector: type[HubSpotConnector] = HubSpotConnector,
    phone_region: str = "NZ",
) -> NexoraConnect:
    return runtime_on(
        router, config(phone_region), registry(connector), creds, audit=audit or MemoryAuditSink()
    )


# --- scripted cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One mocked HubSpot endpoint and the responses it gives, in order."""

    method: str
    path: str
    responses: tuple[httpx.Response, ...]


@dataclass(frozen=True)
class Case:
    """One operation against a scripted HubSpot, and what it must return or raise."""

    id: str
    integration: str
    operation: str
    arguments: dict[str, Any]
    routes: tuple[Route, ...]
    expect: Callable[[Any], None] | type[Exception]
    operation_ids: tuple[str, ...] = field(default=())
    """HubSpot operationIds the case must exercise."""


def _json(status: int, name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=fixture(name), headers=headers)


def _expect_contacts(*ids: str) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert [contact.id for contact in result] == list(ids)

    return check


def _expect_id(expected: str) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert result.id == expected

    return check


def _expect_none(result: Any) -> None:
    assert result is None


def search_hit() -> dict[str, Any]:
    """Contact 51 as a search returns it: no associations."""
    hit: dict[str, Any] = fixture("search_page1")["results"][0]
    return hit


def cases() -> list[Case]:
    correlation = {"X-HubSpot-Correlation-Id": "5a8f1c2e-7d3b-4e6f-9a01-23456789abcd"}
    return [
        Case(
            id="find-by-email",
            integration=READ,
            operation="find_contacts",
            arguments={"email": "aroha.ngata@example.co.nz"},
            routes=(Route("POST", SEARCH, (httpx.Response(200, json=search_response(search_hit())),)),),
            expect=_expect_contacts("51"),
            operation_ids=("post-/crm/v3/objects/contacts/search_doSearch",),
        ),
        Case(
            id="find-by-phone-two-pages",
            integration=READ,
            operation="find_contacts",
            arguments={"phone": "021 555 0100"},
            routes=(
                Route(
                    "POST",
                    SEARCH,
                    (_json(200, "search_page1"), _json(200, "search_page2")),
                ),
            ),
            expect=_expect_contacts("51", "88"),
        ),
        Case(
            id="find-after-rate-limit",
            integration=READ,
            operation="find_contacts",
            arguments={"phone": "+64 21 555 0100", "email": "aroha.ngata@example.co.nz"},
            routes=(
                Route(
                    "POST",
                    SEARCH,
                    (
                        _json(429, "error_rate_limited", {"Retry-After": "0"}),
                        httpx.Response(200, json=search_response(search_hit())),
                    ),
                ),
            ),
            expect=_expect_contacts("51"),
        ),
        Case(
            id="get-contact",
            integration=READ,
            operation="get_contact",
            arguments={"contact_id": "51"},
            routes=(Route("GET", "/crm/v3/objects/contacts/51", (_json(200, "contact"),)),),
            expect=_expect_id("51"),
            operation_ids=("get-/crm/v3/objects/contacts/{contactId}_getById",),
        ),
        Case(
            id="get-contact-not-found",
            integration=READ,
            operation="get_contact",
            arguments={"contact_id": "52"},
            routes=(
                Route("GET", "/crm/v3/objects/contacts/52", (_json(404, "error_not_found", correlation),)),
            ),
            expect=VendorNotFoundError,
        ),
        Case(
            id="get-account",
            integration=READ,
            operation="get_account",
            arguments={"account_id": "9001"},
            routes=(Route("GET", "/crm/v3/objects/companies/9001", (_json(200, "company"),)),),
            expect=_expect_id("9001"),
            operation_ids=("get-/crm/v3/objects/companies/{companyId}_getById",),
        ),
        Case(
            id="create-note",
            integration=WRITE,
            operation="create_note",
            arguments={"contact_id": "51", "body": "Caller asked about invoice INV-12.\nWants a call back."},
            routes=(Route("POST", "/crm/v3/objects/notes", (_json(201, "note_created"),)),),
            expect=_expect_id("4401"),
            operation_ids=("post-/crm/v3/objects/notes_create",),
        ),
        Case(
            id="verify",
            integration=READ,
            operation="verify",
            arguments={},
            routes=(
                Route(
                    "GET",
                    "/crm/v3/objects/contacts",
                    (httpx.Response(200, json={"results": [fixture("contact")]}),),
                ),
            ),
            expect=_expect_none,
            operation_ids=("get-/crm/v3/objects/contacts_getPage",),
        ),
    ]


def mount(router: respx.MockRouter, case: Case) -> list[respx.Route]:
    return [
        router.route(method=route.method, path=route.path).mock(side_effect=list(route.responses))
        for route in case.routes
    ]


async def run(nc: NexoraConnect, case: Case) -> Any:
    """Run a case's operation through the runtime (``verify`` through ``NexoraConnect.verify``)."""
    if case.operation == "verify":
        return await nc.verify("acme", case.integration)
    async with nc.conversation(tenant="acme", conversation_id=f"case-{case.id}") as conv:
        return await conv.call(case.integration, case.operation, **case.arguments)


async def run_and_check(case: Case, key: str) -> respx.MockRouter:
    """Run a case against a strict respx HubSpot, check its outcome, and return the router."""
    router = respx.MockRouter(base_url=BASE, assert_all_called=True, assert_all_mocked=True)
    routes = mount(router, case)
    async with runtime(router, credentials(key)) as nc:
        if isinstance(case.expect, type):
            with pytest.raises(case.expect):
                await run(nc, case)
        else:
            case.expect(await run(nc, case))
    for mocked, scripted in zip(routes, case.routes, strict=True):
        assert mocked.call_count == len(scripted.responses), f"{scripted.method} {scripted.path}"
    return router


# --- cases for the connector test kit (``test_hubspot_kit.py``) ----------------------------------

CALLER_EMAIL = "aroha.ngata@example.co.nz"
CALLER_PHONE = "021 555 0100"  # NZ national format; E.164 +64215550100


def _with_canary(obj: dict[str, Any], canary: str) -> dict[str, Any]:
    obj["properties"]["firstname"] = canary
    return obj


def search_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = search_response(_with_canary(search_hit(), canary))
    return router.post(BASE + SEARCH).respond(200, json=body)


def contact_route(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.get(f"{BASE}/crm/v3/objects/contacts/51").respond(
        200, json=_with_canary(fixture("contact"), canary)
    )


def company_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("company")
    body["properties"]["name"] = canary
    return router.get(f"{BASE}/crm/v3/objects/companies/9001").respond(200, json=body)


def note_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("note_created")
    body["properties"]["hs_note_body"] = f"Call summary for {canary}"
    return router.post(f"{BASE}/crm/v3/objects/notes").respond(201, json=body)


KIT_CASES = [
    OperationCase("find_contacts", {"email": CALLER_EMAIL}, mock=search_route, id="find_contacts_by_email"),
    OperationCase("find_contacts", {"phone": CALLER_PHONE}, mock=search_route, id="find_contacts_by_phone"),
    OperationCase("get_contact", {"contact_id": "51"}, mock=contact_route),
    OperationCase("get_account", {"account_id": "9001"}, mock=company_route),
    OperationCase(
        "create_note", {"contact_id": "51", "body": "Caller asked about invoice INV-12."}, mock=note_route
    ),
]


def search_pages_route(router: respx.MockRouter, next_cursors: Sequence[str | None]) -> respx.Route:
    """Searches whose n-th page holds one matching contact and points at ``next_cursors[n]``."""
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        index, served = served, served + 1
        hit = contact_hit(str(1000 + index), email=CALLER_EMAIL)
        return httpx.Response(200, json=search_response(hit, after=next_cursors[index]))

    return router.post(BASE + SEARCH).mock(side_effect=page)


KIT_PAGINATION = PaginationCase("find_contacts", {"email": CALLER_EMAIL}, mock=search_pages_route)
