"""Contract tests: every request the JSM connector builds, and every fixture it parses, checked
against Atlassian's documents.

Documents:

* ``jira-service-management``: the bundled Service Management document (Apache-2.0, WSO2's copy of
  Atlassian's), for every ``/rest/servicedeskapi`` call.
* The Jira Cloud platform document (Apache-2.0, ``shared/vendor-specs/jira-cloud/prism-ready``),
  for ``GET /rest/api/3/search/jql``. Only that path and the schemas it references are kept, so
  validating against it costs what a small document costs; without the shared folder those checks
  are skipped and the Service Management ones still run.

Authentication: the Service Management document declares only OAuth 2.0 (``Authorization:
Bearer``) for these operations, while Jira Cloud also takes the email and API token over Basic,
which is what the connector sends. So each Service Management request is checked twice: as sent,
it must carry ``Authorization: Basic``; with that one header replaced by a Bearer token, it must
satisfy the document completely. ``test_the_document_declares_only_oauth_for_the_operations_used``
pins the gap, so that the workaround is revisited if the document changes. The platform document
declares ``basicAuth`` and is checked as sent.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import httpx
import pytest
import respx

from sdk import NexoraConnect
from tests.connectors import jsm_cases
from tests.connectors.jsm_cases import (
    BASE,
    CALLER_EMAIL,
    COMMENTS,
    CUSTOMERS,
    REQUEST,
    REQUESTS,
    SEARCH,
    SERVICE_DESK,
    TICKET_ID,
    credential,
    fixture,
)
from tests.contracts.openapi_contract import (
    VendorSpec,
    assert_response_valid,
    find_operation,
    only_path,
    request_errors,
    response_errors,
    spec_from_document,
    vendor_specs_dir,
)

PLATFORM_FILE = "jira-cloud/prism-ready/swagger-v3.v3.json"
SEARCH_PATH = "/rest/api/3/search/jql"

SERVICE_DESK_OPERATIONS = {
    "getCustomers",
    "getCustomerRequestByIdOrKey",
    "getRequestComments",
    "createCustomerRequest",
    "createRequestComment",
    "getServiceDeskById",
}
PLATFORM_OPERATIONS = {"searchAndReconsileIssuesUsingJql"}


# --- documents -----------------------------------------------------------------------------------


@cache
def _platform() -> VendorSpec:
    path = vendor_specs_dir() / PLATFORM_FILE
    if not path.is_file():
        pytest.skip(f"the Jira Cloud platform document is not at {path}")
    document = only_path(json.loads(path.read_bytes()), SEARCH_PATH)
    return spec_from_document("jira-cloud", path, document)


@pytest.fixture(scope="module")
def jsm() -> VendorSpec:
    return VendorSpec.load("jira-service-management")


@pytest.fixture(scope="module")
def platform() -> VendorSpec:
    return _platform()


# --- the runtime ---------------------------------------------------------------------------------


def _runtime(router: respx.MockRouter) -> contextlib.AbstractAsyncContextManager[NexoraConnect]:
    return jsm_cases.runtime(router, credential("api-token-" + secrets.token_hex(16)))


async def _call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant="acme", conversation_id="contract-" + secrets.token_hex(4)) as conv:
        return await conv.call("jsm", operation, **arguments)


# --- scenarios: each installs the fixtures its operation reads and drives it once ---------------

Scenario = Callable[[NexoraConnect, respx.MockRouter], Awaitable[None]]


async def list_tickets(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    router.get(SEARCH).respond(200, json=fixture("search"))
    await _call(nc, "list_tickets", email=CALLER_EMAIL)


async def list_tickets_with_more_pages(nc: NexoraConnect, router: respx.MockRouter) -> None:
    first = fixture("search")
    first["isLast"] = False
    first["nextPageToken"] = "CAEaAggD"
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    router.get(SEARCH).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=fixture("search"))]
    )
    await _call(nc, "list_tickets", email=CALLER_EMAIL, limit=2)


async def get_ticket(nc: NexoraConnect, router: respx.MockRouter) -> None:
    first = fixture("comments")
    first["isLastPage"] = False
    router.get(REQUEST).respond(200, json=fixture("request"))
    router.get(COMMENTS).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=fixture("comments"))]
    )
    await _call(nc, "get_ticket", ticket_id=TICKET_ID)


async def create_ticket(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    router.post(REQUESTS).respond(201, json=fixture("request_created"))
    await _call(nc, "create_ticket", subject="No dial tone", body="Since this morning.", email=CALLER_EMAIL)


async def add_internal_note(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.post(COMMENTS).respond(201, json=fixture("comment_created"))
    await _call(nc, "add_comment", ticket_id=TICKET_ID, body="Called back.")


async def add_public_reply(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.post(COMMENTS).respond(201, json=fixture("comment_created"))
    await _call(nc, "add_comment", ticket_id=TICKET_ID, body="We are on it.", public=True)


async def verify(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(SERVICE_DESK).respond(200, json=fixture("servicedesk"))
    await nc.verify("acme", "jsm")


SCENARIOS: dict[str, Scenario] = {
    scenario.__name__: scenario
    for scenario in (
        list_tickets,
        list_tickets_with_more_pages,
        get_ticket,
        create_ticket,
        add_internal_note,
        add_public_reply,
        verify,
    )
}


def _as_bearer(request: httpx.Request) -> httpx.Request:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    headers["Authorization"] = "Bearer contract-check"
    return httpx.Request(request.method, request.url, headers=headers, content=request.content)


def check_calls(jsm: VendorSpec, router: respx.MockRouter) -> list[str]:
    """Validate every request and response; return the operationIds, failing on any violation."""
    exercised: list[str] = []
    failures: list[str] = []
    for call in router.calls:
        request, response = call.request, call.response
        spec = _platform() if request.url.path == SEARCH_PATH else jsm
        operation_id = find_operation(spec, request.method, str(request.url))
        exercised.append(operation_id)
        lines: list[str] = []
        if spec is jsm:
            if not request.headers.get("Authorization", "").startswith("Basic "):
                lines.append("the connector must authenticate with Basic (email and API token)")
            lines += request_errors(spec, _as_bearer(request))
        else:
            lines += request_errors(spec, request)
        lines += response_errors(spec, request, response)
        failures += [f"{request.method} {request.url.path} ({operation_id}): {line}" for line in lines]
    assert not failures, "\n".join(failures)
    return exercised


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_requests_and_fixtures_match_the_vendor_contract(jsm: VendorSpec, name: str) -> None:
    router = respx.MockRouter(base_url=BASE, assert_all_called=True, assert_all_mocked=True)
    async with _runtime(router) as nc:
        await SCENARIOS[name](nc, router)
    assert check_calls(jsm, router)


async def test_every_operation_the_connector_uses_is_exercised(jsm: VendorSpec) -> None:
    exercised: set[str] = set()
    for scenario in SCENARIOS.values():
        router = respx.MockRouter(base_url=BASE, assert_all_called=True, assert_all_mocked=True)
        async with _runtime(router) as nc:
            await scenario(nc, router)
        exercised |= set(check_calls(jsm, router))
    assert exercised == SERVICE_DESK_OPERATIONS | PLATFORM_OPERATIONS


def test_operation_ids_resolve_to_the_paths_the_connector_uses(jsm: VendorSpec, platform: VendorSpec) -> None:
    assert {operation_id: jsm.operations[operation_id] for operation_id in SERVICE_DESK_OPERATIONS} == {
        "getCustomers": ("GET", "/rest/servicedeskapi/servicedesk/{serviceDeskId}/customer"),
        "getCustomerRequestByIdOrKey": ("GET", "/rest/servicedeskapi/request/{issueIdOrKey}"),
        "getRequestComments": ("GET", "/rest/servicedeskapi/request/{issueIdOrKey}/comment"),
        "createCustomerRequest": ("POST", "/rest/servicedeskapi/request"),
        "createRequestComment": ("POST", "/rest/servicedeskapi/request/{issueIdOrKey}/comment"),
        "getServiceDeskById": ("GET", "/rest/servicedeskapi/servicedesk/{serviceDeskId}"),
    }
    assert platform.operations["searchAndReconsileIssuesUsingJql"] == ("GET", SEARCH_PATH)


def test_the_document_declares_only_oauth_for_the_operations_used(jsm: VendorSpec) -> None:
    """The allowed gap stays justified: Basic is not declared, so requests are checked as Bearer."""
    for operation_id in SERVICE_DESK_OPERATIONS:
        method, path = jsm.operations[operation_id]
        security = jsm.document["paths"][path][method.lower()]["security"]
        assert [list(requirement) for requirement in security] == [["OAuth2"]], operation_id
    basic = httpx.Request("GET", CUSTOMERS + "?query=a", headers={"Authorization": "Basic dTpw"})
    assert request_errors(jsm, basic)[0].startswith("security:"), (
        "if Basic now validates, drop the workaround"
    )


def test_the_platform_search_declares_basic_auth(platform: VendorSpec) -> None:
    security = platform.document["paths"][SEARCH_PATH]["get"]["security"]
    assert {"basicAuth": []} in security


def test_every_fixture_is_a_valid_response(jsm: VendorSpec, platform: VendorSpec) -> None:
    """Each fixture, outside any scenario, validates as the response of its operation."""
    owners: dict[str, tuple[VendorSpec, str, str, int]] = {
        "customers": (jsm, "GET", CUSTOMERS, 200),
        "request": (jsm, "GET", REQUEST, 200),
        "comments": (jsm, "GET", COMMENTS, 200),
        "request_created": (jsm, "POST", REQUESTS, 201),
        "comment_created": (jsm, "POST", COMMENTS, 201),
        "servicedesk": (jsm, "GET", SERVICE_DESK, 200),
        "error_not_found": (jsm, "GET", REQUEST, 404),
        "search": (platform, "GET", SEARCH + "?jql=project%3DHELP", 200),
    }
    for name, (spec, method, url, status) in owners.items():
        request = httpx.Request(method, url)
        assert_response_valid(spec, request, httpx.Response(status, json=fixture(name), request=request))


def test_a_request_body_outside_the_schema_is_caught(jsm: VendorSpec) -> None:
    """The check can fail: an unknown field in a request body breaks the document's schema."""
    request = httpx.Request(
        "POST", REQUESTS, json={"serviceDeskId": "10", "summary": "x"}, headers={"Authorization": "Bearer t"}
    )
    assert any("summary" in line for line in request_errors(jsm, request))
