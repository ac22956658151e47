"""Contract tests: every request the Zendesk connector builds, and every fixture it parses,
checked against Zendesk's own OpenAPI document (``shared/vendor-specs/zendesk/oas.yaml``).

The document declares no licence, so it is read from the shared folder at test time and never
copied here; without it these tests are skipped (see ``tests/contracts/openapi_contract.py``).

Known gaps between the document and the API, allowed explicitly below and nowhere else:

* ``ListTicketComments`` declares only ``include`` and ``include_inline_images``, yet its
  description documents cursor pagination (``page[size]``, ``page[after]``) and the ``sort``
  parameter. The connector uses them; ``test_comment_pagination_is_documented`` pins that the
  description still says so.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from sdk import NexoraConnect
from tests.connectors import zendesk_cases
from tests.connectors.zendesk_cases import (
    BASE,
    CALLER_EMAIL,
    CALLER_PHONE_NATIONAL,
    COMMENTS,
    ME,
    SEARCH,
    TICKET,
    TICKET_ID,
    TICKETS,
    USERS_SEARCH,
    credential,
    fixture,
)
from tests.contracts.openapi_contract import (
    VendorSpec,
    assert_response_valid,
    find_operation,
    request_errors,
    response_errors,
)

EXPECTED_OPERATIONS = {
    "SearchUsers",
    "ListSearchResults",
    "ShowTicket",
    "ListTicketComments",
    "CreateTicket",
    "UpdateTicket",
    "ShowCurrentUser",
}

KNOWN_GAPS: dict[str, set[str]] = {
    "ListTicketComments": {
        f"query parameter {name!r} is not declared by the operation (vendors ignore it silently)"
        for name in ("page[size]", "page[after]", "sort")
    }
}


@pytest.fixture(scope="module")
def spec() -> VendorSpec:
    return VendorSpec.load("zendesk")


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE, assert_all_called=True, assert_all_mocked=True)


def _runtime(router: respx.MockRouter) -> contextlib.AbstractAsyncContextManager[NexoraConnect]:
    return zendesk_cases.runtime(router, credential("api-token-" + secrets.token_hex(16)))


@pytest.fixture
async def nc(router: respx.MockRouter) -> AsyncIterator[NexoraConnect]:
    async with _runtime(router) as runtime:
        yield runtime


async def _call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant="acme", conversation_id="contract-" + secrets.token_hex(4)) as conv:
        return await conv.call("zendesk", operation, **arguments)


# --- scenarios: each installs the fixtures its operation reads and drives it once ---------------

Scenario = Callable[[NexoraConnect, respx.MockRouter], Awaitable[None]]


async def list_by_email(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    await _call(nc, "list_tickets", email=CALLER_EMAIL)


async def list_by_phone(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(USERS_SEARCH).respond(200, json=fixture("users_search_by_phone"))
    router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    await _call(nc, "list_tickets", phone=CALLER_PHONE_NATIONAL)


async def list_with_second_page(nc: NexoraConnect, router: respx.MockRouter) -> None:
    first = fixture("search_tickets")
    first["next_page"] = f"{BASE}/api/v2/search.json?page=2&query=type%3Aticket"
    router.get(SEARCH).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=fixture("search_tickets"))]
    )
    await _call(nc, "list_tickets", email=CALLER_EMAIL)


async def get_ticket(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(TICKET).respond(200, json=fixture("ticket"))
    router.get(COMMENTS).mock(
        side_effect=[
            httpx.Response(200, json=fixture("comments_page1")),
            httpx.Response(200, json=fixture("comments_page2")),
        ]
    )
    await _call(nc, "get_ticket", ticket_id=TICKET_ID)


async def create_by_email(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.post(TICKETS).respond(201, json=fixture("ticket_created"))
    await _call(nc, "create_ticket", subject="No dial tone", body="Since this morning.", email=CALLER_EMAIL)


async def create_by_phone(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(USERS_SEARCH).respond(200, json=fixture("users_search_by_phone"))
    router.post(TICKETS).respond(201, json=fixture("ticket_created"))
    await _call(
        nc, "create_ticket", subject="No dial tone", body="Since this morning.", phone=CALLER_PHONE_NATIONAL
    )


async def add_internal_note(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.put(TICKET).respond(200, json=fixture("ticket_updated"))
    await _call(nc, "add_comment", ticket_id=TICKET_ID, body="Called back.")


async def add_public_reply(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.put(TICKET).respond(200, json=fixture("ticket_updated"))
    await _call(nc, "add_comment", ticket_id=TICKET_ID, body="We are on it.", public=True)


async def verify(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(ME).respond(200, json=fixture("users_me"))
    await nc.verify("acme", "zendesk")


SCENARIOS: dict[str, Scenario] = {
    scenario.__name__: scenario
    for scenario in (
        list_by_email,
        list_by_phone,
        list_with_second_page,
        get_ticket,
        create_by_email,
        create_by_phone,
        add_internal_note,
        add_public_reply,
        verify,
    )
}


def check_calls(spec: VendorSpec, router: respx.MockRouter) -> list[str]:
    """Validate every request and response; return the operationIds, failing on any violation."""
    exercised: list[str] = []
    failures: list[str] = []
    for call in router.calls:
        request, response = call.request, call.response
        operation_id = find_operation(spec, request.method, str(request.url))
        exercised.append(operation_id)
        lines = [
            line for line in request_errors(spec, request) if line not in KNOWN_GAPS.get(operation_id, set())
        ]
        lines += response_errors(spec, request, response)
        failures += [f"{request.method} {request.url.path} ({operation_id}): {line}" for line in lines]
    assert not failures, "\n".join(failures)
    return exercised


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_requests_and_fixtures_match_the_vendor_contract(
    spec: VendorSpec, nc: NexoraConnect, router: respx.MockRouter, name: str
) -> None:
    await SCENARIOS[name](nc, router)
    assert check_calls(spec, router)


async def test_every_operation_the_connector_uses_is_exercised(spec: VendorSpec) -> None:
    exercised: set[str] = set()
    for scenario in SCENARIOS.values():
        router = respx.MockRouter(base_url=BASE, assert_all_called=True, assert_all_mocked=True)
        async with _runtime(router) as runtime:
            await scenario(runtime, router)
        exercised |= set(check_calls(spec, router))
    assert exercised == EXPECTED_OPERATIONS


def test_operation_ids_resolve_to_the_paths_the_connector_uses(spec: VendorSpec) -> None:
    assert {operation_id: spec.operations[operation_id] for operation_id in EXPECTED_OPERATIONS} == {
        "SearchUsers": ("GET", "/api/v2/users/search"),
        "ListSearchResults": ("GET", "/api/v2/search"),
        "ShowTicket": ("GET", "/api/v2/tickets/{ticket_id}"),
        "ListTicketComments": ("GET", "/api/v2/tickets/{ticket_id}/comments"),
        "CreateTicket": ("POST", "/api/v2/tickets"),
        "UpdateTicket": ("PUT", "/api/v2/tickets/{ticket_id}"),
        "ShowCurrentUser": ("GET", "/api/v2/users/me"),
    }


def test_comment_pagination_is_documented(spec: VendorSpec) -> None:
    """The allowed gap stays justified: the operation's own description documents these parameters."""
    method, path = spec.operations["ListTicketComments"]
    description = spec.document["paths"][path][method.lower()]["description"]
    assert "Cursor pagination" in description
    assert "`sort`" in description
    assert '"-created_at"' in description


def test_every_fixture_is_a_valid_response(spec: VendorSpec) -> None:
    """Each fixture, outside any scenario, validates as the response of its operation."""
    owners = {
        "users_search_by_phone": ("GET", f"{USERS_SEARCH}?query=phone%3A%2A215550100", 200),
        "search_tickets": ("GET", f"{SEARCH}?query=type%3Aticket", 200),
        "ticket": ("GET", TICKET, 200),
        "comments_page1": ("GET", COMMENTS, 200),
        "comments_page2": ("GET", COMMENTS, 200),
        "ticket_created": ("POST", TICKETS, 201),
        "ticket_updated": ("PUT", TICKET, 200),
        "users_me": ("GET", ME, 200),
    }
    for name, (method, url, status) in owners.items():
        request = httpx.Request(method, url)
        assert_response_valid(spec, request, httpx.Response(status, json=fixture(name), request=request))


def test_the_anonymous_user_answer_is_outside_the_documented_schema(spec: VendorSpec) -> None:
    """verify() handles a live behaviour the document does not describe (id null for anonymous)."""
    request = httpx.Request("GET", ME)
    response = httpx.Response(200, json=fixture("users_me_anonymous"), request=request)
    assert response_errors(spec, request, response), "if this now validates, the document changed"
