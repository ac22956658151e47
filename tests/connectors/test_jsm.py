"""Jira Service Management connector: requests built, payloads parsed, errors mapped, verify().

Runs the connector through the real runtime (dispatch, scope guard, auth flow, retries) against
respx routes answering fixtures shaped like Atlassian's documented responses.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from connectors.ticketing.jsm import JSMConnector, JSMSettings
from sdk import (
    ConfigurationError,
    InvalidArgumentsError,
    NexoraConnect,
    Ticket,
    TicketComment,
    TicketPriority,
    TicketStatus,
    VendorAuthError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
)
from sdk.testing import make_canary
from tests.connectors import jsm_cases
from tests.connectors.jsm_cases import (
    AGENT_EMAIL,
    BASE,
    CALLER_ACCOUNT,
    CALLER_EMAIL,
    COMMENTS,
    CUSTOMERS,
    REQUEST,
    REQUESTS,
    SEARCH,
    SERVICE_DESK,
    SETTINGS,
    TICKET_ID,
    credential,
    fixture,
)
from tests.mock_nexora import call_once, vendor_router

TENANT = "acme"
INTEGRATION = "jsm"
REQUEST_ID = "jsm-req-" + secrets.token_hex(6)


@pytest.fixture
def secret() -> str:
    return make_canary("api-token")


@pytest.fixture
def router() -> respx.MockRouter:
    return vendor_router(BASE)


@pytest.fixture
async def nc(router: respx.MockRouter, secret: str) -> AsyncIterator[NexoraConnect]:
    async with jsm_cases.runtime(router, credential(secret)) as runtime:
        yield runtime


async def call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await call_once(nc, INTEGRATION, operation, **arguments)


def error(status: int, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"X-AREQUESTID": REQUEST_ID, **headers})


# --- settings and credentials ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"site": "Acme"},
        {"site": "acme.evil.example"},
        {"service_desk_id": "10/../11"},
        {"service_desk_id": "abc"},
        {"project_key": "help"},
        {"project_key": 'HELP" OR project = "OTHER'},
        {"request_type_id": "25 "},
        {"unknown": "x"},
    ],
)
def test_settings_refuse_values_that_could_change_urls_or_queries(change: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        JSMSettings.model_validate({**SETTINGS, **change})


def test_the_base_url_is_the_tenants_atlassian_site() -> None:
    assert JSMConnector.resolve_base_url(JSMSettings.model_validate(SETTINGS)) == BASE


async def test_requests_carry_the_email_and_api_token_over_basic(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.post(COMMENTS).respond(201, json=fixture("comment_created"))
    await call(nc, "add_comment", ticket_id=TICKET_ID, body="Called back.")
    expected = base64.b64encode(f"{AGENT_EMAIL}:{secret}".encode()).decode()
    assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"
    assert route.calls.last.request.headers["Accept"] == "application/json"


# --- list_tickets ---------------------------------------------------------------------------------


async def test_list_tickets_finds_the_customer_by_exact_email_then_searches_their_requests(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    customers = router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    search = router.get(SEARCH).respond(200, json=fixture("search"))

    found = await call(nc, "list_tickets", email=CALLER_EMAIL, limit=5)

    assert dict(customers.calls.last.request.url.params) == {"query": CALLER_EMAIL, "limit": "50"}
    params = dict(search.calls.last.request.url.params)
    # The near miss (taroha@...) is not searched; the project scopes the search to this desk.
    assert params["jql"] == f'project = "HELP" AND reporter in ("{CALLER_ACCOUNT}") ORDER BY created DESC'
    assert params["fields"] == "summary,status,priority,created,updated,reporter"
    assert params["maxResults"] == "5"
    assert "nextPageToken" not in params
    assert [(t.id, t.status, t.priority) for t in found] == [
        ("HELP-7", TicketStatus.OPEN, TicketPriority.HIGH),
        ("HELP-12", TicketStatus.SOLVED, TicketPriority.LOW),
    ]
    assert found[0].subject == "Router keeps dropping the connection"
    assert found[0].requester_id == CALLER_ACCOUNT
    assert found[0].created_at == datetime(2024, 6, 1, 22, 41, tzinfo=UTC)
    assert found[0].comments == ()


async def test_list_tickets_for_an_email_no_customer_has_sends_no_search(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("customers")
    body["values"] = body["values"][:1]  # only the near miss
    router.get(CUSTOMERS).respond(200, json=body)
    search = router.get(SEARCH).respond(200, json=fixture("search"))
    assert await call(nc, "list_tickets", email=CALLER_EMAIL) == []
    assert search.call_count == 0


async def test_list_tickets_by_phone_alone_asks_for_the_email(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    with pytest.raises(InvalidArgumentsError, match="pass the caller's email"):
        await call(nc, "list_tickets", phone="+64 21 555 0100")
    assert not router.calls


async def test_an_unreadable_phone_beside_an_email_is_refused(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    with pytest.raises(InvalidArgumentsError, match="phone"):
        await call(nc, "list_tickets", phone="not a number", email=CALLER_EMAIL)
    assert not router.calls


async def test_an_account_id_that_could_rewrite_the_jql_is_a_payload_error(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("customers")
    body["values"][1]["accountId"] = 'x") OR project != "HELP'
    router.get(CUSTOMERS).respond(200, json=body)
    search = router.get(SEARCH).respond(200, json=fixture("search"))
    with pytest.raises(VendorPayloadError):
        await call(nc, "list_tickets", email=CALLER_EMAIL)
    assert search.call_count == 0


async def test_more_results_than_the_limit_add_a_search_for_older_open_requests(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    newest = fixture("search")
    newest["issues"] = newest["issues"][:1]  # HELP-12, solved
    newest["isLast"] = False
    newest["nextPageToken"] = "token-2"
    older_open = fixture("search")
    older_open["issues"] = older_open["issues"][1:]  # HELP-7, waiting for support
    search = router.get(SEARCH).mock(
        side_effect=[httpx.Response(200, json=newest), httpx.Response(200, json=older_open)]
    )

    found = await call(nc, "list_tickets", email=CALLER_EMAIL, limit=1)

    assert [ticket.id for ticket in found] == ["HELP-7"]
    queries = [call.request.url.params["jql"] for call in search.calls]
    assert queries[1].endswith('AND statusCategory != "Done" ORDER BY created DESC')


async def test_search_pages_follow_the_next_page_token(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    first = fixture("search")
    first["issues"] = first["issues"][:1]
    first["isLast"] = False
    first["nextPageToken"] = "token-2"
    second = fixture("search")
    second["issues"] = second["issues"][1:]
    search = router.get(SEARCH).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )

    found = await call(nc, "list_tickets", email=CALLER_EMAIL, limit=10)

    assert [ticket.id for ticket in found] == ["HELP-7", "HELP-12"]
    assert search.calls[1].request.url.params["nextPageToken"] == "token-2"
    assert search.call_count == 2


# --- get_ticket -----------------------------------------------------------------------------------


async def test_get_ticket_reads_the_request_and_its_comments(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(REQUEST).respond(200, json=fixture("request"))
    comments = router.get(COMMENTS).respond(200, json=fixture("comments"))

    ticket = await call(nc, "get_ticket", ticket_id=TICKET_ID)

    assert dict(comments.calls.last.request.url.params) == {"start": "0", "limit": "50"}
    assert ticket == Ticket(
        id="HELP-7",
        source=INTEGRATION,
        subject="Router keeps dropping the connection",
        status=TicketStatus.OPEN,  # "Waiting for support" by name, although its category is "new"
        priority=TicketPriority.HIGH,
        requester_id=CALLER_ACCOUNT,
        created_at=datetime(2024, 6, 1, 22, 41, tzinfo=UTC),
        comments=(
            TicketComment(
                id="20001",
                body="My router drops the connection twice a day.",
                public=True,
                author_id=CALLER_ACCOUNT,
                created_at=datetime(2024, 6, 1, 22, 41, tzinfo=UTC),
            ),
            TicketComment(
                id="20002",
                body="Replaced the line filter; monitoring.",
                public=False,
                author_id="5b10ac8d82e05b22cc7d4ef5",
                created_at=datetime(2024, 6, 2, 1, 10, tzinfo=UTC),
            ),
        ),
    )


async def test_comments_are_paged_by_offset(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(REQUEST).respond(200, json=fixture("request"))
    first = fixture("comments")
    first["isLastPage"] = False
    second = fixture("comments")
    for n, comment in enumerate(second["values"]):
        comment["id"] = f"9{n}{comment['id']}"  # the next page holds other comments
    comments = router.get(COMMENTS).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    ticket = await call(nc, "get_ticket", ticket_id=TICKET_ID)
    assert [c.request.url.params["start"] for c in comments.calls] == ["0", "2"]
    assert len(ticket.comments) == 4


@pytest.mark.parametrize("ticket_id", ["OTHER-7", "HELP-0", "help-7", "10107", "HELP-7-1", "HELP-"])
async def test_a_key_outside_the_configured_project_is_refused_before_sending(
    nc: NexoraConnect, router: respx.MockRouter, ticket_id: str
) -> None:
    with pytest.raises(InvalidArgumentsError, match="request key of project HELP"):
        await call(nc, "get_ticket", ticket_id=ticket_id)
    with pytest.raises(InvalidArgumentsError, match="request key of project HELP"):
        await call(nc, "add_comment", ticket_id=ticket_id, body="x")
    assert not router.calls


async def test_a_request_of_another_service_desk_is_not_found(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("request")
    body["serviceDeskId"] = "11"
    router.get(REQUEST).respond(200, json=body)
    router.get(COMMENTS).respond(200, json=fixture("comments"))
    with pytest.raises(VendorNotFoundError, match="another service desk"):
        await call(nc, "get_ticket", ticket_id=TICKET_ID)


@pytest.mark.parametrize(
    ("name", "category", "expected"),
    [
        ("Waiting for customer", "INDETERMINATE", TicketStatus.PENDING),
        ("Resolved", "DONE", TicketStatus.SOLVED),
        ("Canceled", "DONE", TicketStatus.CLOSED),
        ("Triage", "NEW", TicketStatus.NEW),
        ("Investigating", "INDETERMINATE", TicketStatus.OPEN),
        ("Archived", "DONE", TicketStatus.SOLVED),
        ("Mystery", "UNDEFINED", TicketStatus.UNKNOWN),
    ],
)
async def test_statuses_map_by_name_then_by_category(
    nc: NexoraConnect, router: respx.MockRouter, name: str, category: str, expected: TicketStatus
) -> None:
    body = fixture("request")
    body["currentStatus"].update(status=name, statusCategory=category)
    router.get(REQUEST).respond(200, json=body)
    router.get(COMMENTS).respond(200, json=fixture("comments"))
    assert (await call(nc, "get_ticket", ticket_id=TICKET_ID)).status == expected


# --- writes ---------------------------------------------------------------------------------------


async def test_create_ticket_raises_the_request_on_behalf_of_the_customer(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    created = router.post(REQUESTS).respond(201, json=fixture("request_created"))

    ticket = await call(
        nc, "create_ticket", subject="No dial tone", body="Since this morning.", email=CALLER_EMAIL
    )

    assert json.loads(created.calls.last.request.content) == {
        "serviceDeskId": "10",
        "requestTypeId": "25",
        "requestFieldValues": {"summary": "No dial tone", "description": "Since this morning."},
        "raiseOnBehalfOf": CALLER_ACCOUNT,
    }
    assert (ticket.id, ticket.subject, ticket.status) == ("HELP-13", "No dial tone", TicketStatus.OPEN)


async def test_create_ticket_for_a_caller_who_is_not_a_customer_is_refused(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("customers")
    body["values"] = []
    router.get(CUSTOMERS).respond(200, json=body)
    created = router.post(REQUESTS).respond(201, json=fixture("request_created"))
    with pytest.raises(InvalidArgumentsError, match="add them as a customer"):
        await call(nc, "create_ticket", subject="x", body="y", email=CALLER_EMAIL)
    assert created.call_count == 0


async def test_create_ticket_without_a_request_type_is_a_configuration_error(
    router: respx.MockRouter, secret: str
) -> None:
    settings = {key: value for key, value in SETTINGS.items() if key != "request_type_id"}
    async with jsm_cases.runtime(router, credential(secret), settings) as runtime:
        with pytest.raises(ConfigurationError, match="request_type_id"):
            await call(runtime, "create_ticket", subject="x", body="y", email=CALLER_EMAIL)
    assert not router.calls


@pytest.mark.parametrize("public", [False, True])
async def test_add_comment_sends_its_visibility_and_returns_the_new_comment(
    nc: NexoraConnect, router: respx.MockRouter, public: bool
) -> None:
    route = router.post(COMMENTS).respond(201, json=fixture("comment_created"))
    ticket = await call(nc, "add_comment", ticket_id=TICKET_ID, body="Called back.", public=public)
    assert json.loads(route.calls.last.request.content) == {"body": "Called back.", "public": public}
    assert ticket.id == TICKET_ID
    assert [(c.id, c.public) for c in ticket.comments] == [("20003", False)]
    assert len(router.calls) == 1, "the request must not be read again after the write"


async def test_a_failed_write_is_not_retried(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.post(COMMENTS).mock(side_effect=[error(503, {}), error(201, fixture("comment_created"))])
    with pytest.raises(Exception, match="failed to serve"):
        await call(nc, "add_comment", ticket_id=TICKET_ID, body="Called back.")
    assert route.call_count == 1


# --- errors ---------------------------------------------------------------------------------------


async def test_errors_carry_the_request_id_and_i18n_key_but_no_message_text(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    canary = make_canary("customer")
    body = fixture("error_not_found")
    body["errorMessage"] = f"No request for {canary}"
    router.get(REQUEST).mock(return_value=error(404, body))
    router.get(COMMENTS).respond(200, json=fixture("comments"))

    with pytest.raises(VendorNotFoundError) as caught:
        await call(nc, "get_ticket", ticket_id=TICKET_ID)

    assert caught.value.request_id == REQUEST_ID
    assert caught.value.vendor_code == "sd.customer.request.error.not.found"
    # The declared endpoint, never the path sent: that holds the caller's argument.
    assert caught.value.path == "/rest/servicedeskapi/request/{issue_key}"
    assert TICKET_ID not in str(caught.value)
    assert canary not in str(caught.value)
    assert canary not in repr(caught.value)


async def test_an_i18n_key_that_is_not_an_identifier_is_dropped(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(REQUEST).mock(
        return_value=error(404, {"i18nErrorMessage": {"i18nKey": "aroha@example.test is gone"}})
    )
    router.get(COMMENTS).respond(200, json=fixture("comments"))
    with pytest.raises(VendorNotFoundError) as caught:
        await call(nc, "get_ticket", ticket_id=TICKET_ID)
    assert caught.value.vendor_code is None


async def test_a_rate_limit_honours_retry_after(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(CUSTOMERS).mock(
        side_effect=[error(429, {}, **{"Retry-After": "0"}), httpx.Response(200, json=fixture("customers"))]
    )
    router.get(SEARCH).respond(200, json=fixture("search"))
    assert len(await call(nc, "list_tickets", email=CALLER_EMAIL)) == 2
    assert route.call_count == 2


async def test_persistent_rate_limit_is_a_rate_limit_error(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(CUSTOMERS).mock(return_value=error(429, {}, **{"Retry-After": "0"}))
    with pytest.raises(VendorRateLimitError):
        await call(nc, "list_tickets", email=CALLER_EMAIL)


# --- verify ---------------------------------------------------------------------------------------


async def test_verify_reads_the_configured_service_desk(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(SERVICE_DESK).respond(200, json=fixture("servicedesk"))
    await nc.verify(TENANT, INTEGRATION)
    assert route.call_count == 1


async def test_verify_catches_a_project_key_that_does_not_match_the_desk(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("servicedesk")
    body["projectKey"] = "ITH"
    router.get(SERVICE_DESK).respond(200, json=body)
    with pytest.raises(ConfigurationError, match="does not belong to project 'HELP'"):
        await nc.verify(TENANT, INTEGRATION)


async def test_verify_with_a_rejected_token_is_an_auth_error(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(SERVICE_DESK).mock(return_value=error(401, {}))
    with pytest.raises(VendorAuthError) as caught:
        await nc.verify(TENANT, INTEGRATION)
    assert caught.value.request_id == REQUEST_ID
