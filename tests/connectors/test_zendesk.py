"""Zendesk Support connector: requests built, payloads parsed, errors mapped, verify().

Runs the connector through the real runtime (dispatch, scope guard, auth flow, retries) against
respx routes answering fixtures shaped like Zendesk's documented responses.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from connectors.ticketing.zendesk import ZendeskConnector, ZendeskSettings
from sdk import (
    InvalidArgumentsError,
    MemoryAuditSink,
    NexoraConnect,
    ScopeDeniedError,
    Ticket,
    TicketPriority,
    TicketStatus,
    VendorAuthError,
    VendorConflictError,
    VendorError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk.testing import MemoryCredentialSource
from tests.connectors.zendesk_cases import (
    AGENT_EMAIL,
    BASE,
    CALLER_EMAIL,
    CALLER_PHONE_NATIONAL,
    COMMENTS,
    ME,
    SEARCH,
    SETTINGS,
    TICKET,
    TICKET_ID,
    TICKETS,
    USERS_SEARCH,
    credential,
    fixture,
)
from tests.mock_nexora import one_connector_config, registry_of, runtime_on, stored, vendor_router
from vault import BasicCredential

TENANT = "acme"
READ = "zendesk"
WRITE = "zendesk-rw"
REQUEST_ID = "zd-req-" + secrets.token_hex(6)


@pytest.fixture
def secret() -> str:
    return "api-token-" + secrets.token_hex(16)


@pytest.fixture
def credentials(secret: str) -> MemoryCredentialSource:
    return stored(credential(secret), READ, WRITE, tenant=TENANT)


@pytest.fixture
def router() -> respx.MockRouter:
    return vendor_router(BASE)


@pytest.fixture
async def nc(
    router: respx.MockRouter, credentials: MemoryCredentialSource, audit: MemoryAuditSink
) -> AsyncIterator[NexoraConnect]:
    grants = {READ: (), WRITE: ("tickets:write", "comments:write")}
    config = one_connector_config("zendesk", grants, tenant=TENANT, settings=SETTINGS)
    async with runtime_on(router, config, registry_of(ZendeskConnector), credentials, audit=audit) as runtime:
        yield runtime


async def call(nc: NexoraConnect, integration: str, operation: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant=TENANT, conversation_id="call-" + secrets.token_hex(4)) as conv:
        return await conv.call(integration, operation, **arguments)


def params(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


def error(status: int, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"X-Zendesk-Request-Id": REQUEST_ID, **headers})


# --- settings and credentials ---------------------------------------------------------------------


@pytest.mark.parametrize("subdomain", ["acme", "acme-test", "a1", "x" * 63])
def test_settings_accept_lower_case_dns_labels(subdomain: str) -> None:
    settings = ZendeskSettings(subdomain=subdomain)
    assert ZendeskConnector.resolve_base_url(settings) == f"https://{subdomain}.zendesk.com"


@pytest.mark.parametrize(
    "subdomain",
    ["", "Acme", "acme.evil.test", "acme/..", "-acme", "acme-", "x" * 64, "acme test", "evil.test#"],
)
def test_settings_refuse_anything_but_a_lower_case_dns_label(subdomain: str) -> None:
    with pytest.raises(ValidationError):
        ZendeskSettings(subdomain=subdomain)


@pytest.mark.parametrize("stored", [AGENT_EMAIL, f"{AGENT_EMAIL}/token"])
async def test_api_token_is_sent_as_basic_auth_with_the_token_suffix(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource, secret: str, stored: str
) -> None:
    credentials.put(TENANT, READ, BasicCredential(type="basic", username=stored, password=SecretStr(secret)))
    route = router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    await call(nc, READ, "list_tickets", email=CALLER_EMAIL)
    header = route.calls.last.request.headers["authorization"]
    scheme, _, encoded = header.partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{AGENT_EMAIL}/token:{secret}"
    assert route.calls.last.request.headers["accept"] == "application/json"


# --- list_tickets -----------------------------------------------------------------------------------


async def test_list_tickets_by_email_searches_the_requester_and_orders_open_first(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    tickets = await call(nc, READ, "list_tickets", email=CALLER_EMAIL)
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.path == "/api/v2/search"
    assert params(request) == {
        "query": f"type:ticket requester:{CALLER_EMAIL}",
        "sort_by": "created_at",
        "sort_order": "desc",
    }
    assert [t.id for t in tickets] == ["35438", "35437", "35436", "35439"]
    assert [t.status for t in tickets] == [
        TicketStatus.ON_HOLD,
        TicketStatus.OPEN,
        TicketStatus.SOLVED,
        TicketStatus.CLOSED,
    ]
    assert [t.priority for t in tickets] == [
        TicketPriority.NORMAL,
        TicketPriority.HIGH,
        TicketPriority.LOW,
        TicketPriority.UNKNOWN,
    ]
    assert tickets[1] == Ticket(
        id="35437",
        source=READ,
        subject="Router keeps dropping the connection",
        status=TicketStatus.OPEN,
        priority=TicketPriority.HIGH,
        requester_id="9100001",
        created_at=datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
        updated_at=datetime(2024, 5, 20, 10, 0, tzinfo=UTC),
    )


async def test_list_tickets_honours_limit(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    tickets = await call(nc, READ, "list_tickets", email=CALLER_EMAIL, limit=2)
    assert [t.id for t in tickets] == ["35438", "35437"]


@pytest.mark.parametrize(
    "phone", [CALLER_PHONE_NATIONAL, "+64 21 555 0100", "+64215550100", "0064 21 555 0100"]
)
async def test_list_tickets_by_phone_looks_up_users_by_national_number_then_searches_their_tickets(
    nc: NexoraConnect, router: respx.MockRouter, phone: str
) -> None:
    users = router.get(USERS_SEARCH).respond(200, json=fixture("users_search_by_phone"))
    search = router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    tickets = await call(nc, READ, "list_tickets", phone=phone)
    assert params(users.calls.last.request) == {"query": "phone:*215550100"}
    # Only the user whose number is +64 21 555 0100: not the +44 number ending in the same digits.
    assert [params(c.request)["query"] for c in search.calls] == ["type:ticket requester:9100001"]
    assert len(tickets) == 4


async def test_list_tickets_by_phone_without_a_matching_user_is_empty(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("users_search_by_phone")
    body["users"] = body["users"][1:]
    router.get(USERS_SEARCH).respond(200, json=body)
    search = router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    assert await call(nc, READ, "list_tickets", phone=CALLER_PHONE_NATIONAL) == []
    assert search.call_count == 0


async def test_list_tickets_merges_users_sharing_the_phone_number(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("users_search_by_phone")
    body["users"][1]["phone"] = "+64 21 555 0100"  # a second user (family member) with the same number
    router.get(USERS_SEARCH).respond(200, json=body)
    first, second = fixture("search_tickets"), fixture("search_tickets")
    second["results"] = [{**second["results"][1], "id": 40001, "requester_id": 9100002}, second["results"][2]]
    search = router.get(SEARCH).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    tickets = await call(nc, READ, "list_tickets", phone=CALLER_PHONE_NATIONAL)
    assert [params(c.request)["query"] for c in search.calls] == [
        "type:ticket requester:9100001",
        "type:ticket requester:9100002",
    ]
    assert [t.id for t in tickets] == ["35438", "35437", "40001", "35436", "35439"]


async def test_list_tickets_prefers_email_over_phone(nc: NexoraConnect, router: respx.MockRouter) -> None:
    users = router.get(USERS_SEARCH).respond(200, json=fixture("users_search_by_phone"))
    search = router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    await call(nc, READ, "list_tickets", phone=CALLER_PHONE_NATIONAL, email=CALLER_EMAIL)
    assert users.call_count == 0
    assert params(search.calls.last.request)["query"] == f"type:ticket requester:{CALLER_EMAIL}"


async def test_list_tickets_with_a_second_page_also_searches_open_tickets(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    first = fixture("search_tickets")
    first["results"] = first["results"][:1]  # page one: a recent solved ticket only
    first["next_page"] = f"{BASE}/api/v2/search.json?page=2&query=type%3Aticket"
    first["count"] = 250
    old_open = {**fixture("search_tickets")["results"][1], "id": 777, "created_at": "2019-01-01T00:00:00Z"}
    open_only = {"results": [old_open], "facets": None, "next_page": None, "previous_page": None, "count": 1}
    search = router.get(SEARCH).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=open_only)]
    )
    tickets = await call(nc, READ, "list_tickets", email=CALLER_EMAIL)
    assert params(search.calls[1].request) == {
        "query": f"type:ticket requester:{CALLER_EMAIL} status<solved",
        "sort_by": "created_at",
        "sort_order": "desc",
    }
    assert [t.id for t in tickets] == ["777", "35436"]


async def test_list_tickets_tolerates_unknown_fields_and_values(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("search_tickets")
    body["results"] = [
        {**body["results"][0], "status": "escalated", "priority": "critical", "new_field": {"x": [1]}},
        {**body["results"][1], "created_at": "yesterday", "subject": None},
        {"id": 5, "name": "Support group", "result_type": "group"},  # not a ticket: skipped
    ]
    body["brand_new_top_level"] = True
    router.get(SEARCH).respond(200, json=body)
    unreadable, drifted = await call(nc, READ, "list_tickets", email=CALLER_EMAIL)  # open first
    assert (unreadable.id, unreadable.created_at, unreadable.subject) == ("35437", None, None)
    assert (drifted.status, drifted.priority) == (TicketStatus.UNKNOWN, TicketPriority.UNKNOWN)


@pytest.mark.parametrize("missing", [None, "", True, {"id": 1}])
async def test_a_ticket_without_an_id_is_skipped_and_the_rest_are_read(
    nc: NexoraConnect, router: respx.MockRouter, missing: Any
) -> None:
    """Tolerant reading (issue 12): one malformed record never fails the list."""
    body = fixture("search_tickets")
    body["results"][0]["id"] = missing
    readable = len(body["results"]) - 1  # the fixture holds more than one ticket
    router.get(SEARCH).respond(200, json=body)
    tickets = await call(nc, READ, "list_tickets", email=CALLER_EMAIL)
    assert len(tickets) == readable


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "phone or email"),
        ({"phone": "not a number"}, "phone"),
        ({"phone": "12"}, "min_length|phone"),
        ({"email": "*@example.test"}, "email"),
        ({"email": 'a"b@example.test'}, "email"),
        ({"email": "a\\b@example.test"}, "email"),
        ({"email": "a?b@example.test"}, "email"),
    ],
)
async def test_list_tickets_refuses_bad_caller_identity_before_any_request(
    nc: NexoraConnect, router: respx.MockRouter, arguments: dict[str, str], message: str
) -> None:
    router.route().respond(200, json={})
    with pytest.raises(InvalidArgumentsError, match=message) as info:
        await call(nc, READ, "list_tickets", **arguments)
    for value in arguments.values():
        assert value not in str(info.value)
    assert len(router.calls) == 0


# --- get_ticket -----------------------------------------------------------------------------------


async def test_get_ticket_reads_the_ticket_and_every_comment_page(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    show = router.get(TICKET).respond(200, json=fixture("ticket"))
    page1, page2 = fixture("comments_page1"), fixture("comments_page2")
    comments = router.get(COMMENTS).mock(
        side_effect=[httpx.Response(200, json=page1), httpx.Response(200, json=page2)]
    )
    ticket = await call(nc, READ, "get_ticket", ticket_id=TICKET_ID)
    assert show.calls.last.request.method == "GET"
    assert show.calls.last.request.url.path == "/api/v2/tickets/35437"
    first, second = (c.request for c in comments.calls)
    assert first.url.path == "/api/v2/tickets/35437/comments"
    assert params(first) == {"page[size]": "100", "sort": "-created_at"}
    assert params(second) == {
        "page[size]": "100",
        "sort": "-created_at",
        "page[after]": page1["meta"]["after_cursor"],
    }
    # page2 still carries an after_cursor, but has_more is false: pagination stops there.
    assert comments.call_count == 2
    assert (ticket.id, ticket.status, ticket.priority, ticket.requester_id) == (
        "35437",
        TicketStatus.OPEN,
        TicketPriority.HIGH,
        "9100001",
    )
    assert [(c.id, c.public, c.author_id) for c in ticket.comments] == [
        ("1274001", True, "9100001"),
        ("1274002", False, "8200001"),
        ("1274003", True, "8200001"),
    ]
    assert ticket.comments[2].body == "Thanks, we have reset the line. Please check again."  # plain_body
    assert ticket.comments[0].created_at == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


async def test_get_ticket_comment_drift_is_tolerated(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(TICKET).respond(200, json=fixture("ticket"))
    page = fixture("comments_page2")
    item = page["comments"][0]
    del item["plain_body"], item["public"]
    item["type"] = "HologramComment"
    item["reactions"] = ["+1"]
    router.get(COMMENTS).respond(200, json=page)
    ticket = await call(nc, READ, "get_ticket", ticket_id=TICKET_ID)
    (only,) = ticket.comments
    assert only.body == item["body"]
    assert only.public is False, "a comment of unstated visibility must be treated as internal"


async def test_get_ticket_refuses_an_id_that_is_not_a_ticket_number(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.route().respond(200, json={})
    for bad in ("abc", "12a", "٣٤"):
        with pytest.raises(InvalidArgumentsError, match="ticket_id"):
            await call(nc, READ, "get_ticket", ticket_id=bad)
    with pytest.raises(InvalidArgumentsError, match="ticket_id"):
        await call(nc, READ, "get_ticket", ticket_id="1/../../users/me")
    assert len(router.calls) == 0


async def test_get_ticket_not_found_names_code_and_request_id_but_not_the_description(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    description = "Ticket of Aroha " + secrets.token_hex(4)
    router.get(TICKET).mock(return_value=error(404, {"error": "RecordNotFound", "description": description}))
    router.get(COMMENTS).mock(
        return_value=error(404, {"error": "RecordNotFound", "description": description})
    )
    with pytest.raises(VendorNotFoundError) as info:
        await call(nc, READ, "get_ticket", ticket_id=TICKET_ID)
    text = str(info.value)
    assert "RecordNotFound" in text
    assert REQUEST_ID in text
    # The error names the declared endpoint, never the path sent: it holds the caller's argument.
    assert "/api/v2/tickets/{ticket_id}" in text
    assert f"/api/v2/tickets/{TICKET_ID}" not in text
    assert description not in text


# --- create_ticket ----------------------------------------------------------------------------------


async def test_create_ticket_by_email_posts_the_requester_with_an_idempotency_key(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post(TICKETS).respond(201, json=fixture("ticket_created"))
    ticket = await call(
        nc, WRITE, "create_ticket", subject="No dial tone", body="Since this morning.", email=CALLER_EMAIL
    )
    request = route.calls.last.request
    assert (request.method, request.url.path, request.url.query) == ("POST", "/api/v2/tickets", b"")
    assert json.loads(request.content) == {
        "ticket": {
            "subject": "No dial tone",
            "comment": {"body": "Since this morning."},
            "requester": {"email": CALLER_EMAIL, "name": "aroha"},
        }
    }
    assert request.headers["content-type"] == "application/json"
    assert uuid.UUID(request.headers["idempotency-key"])
    assert (ticket.id, ticket.status, ticket.requester_id) == ("35440", TicketStatus.NEW, "9100001")
    assert ticket.comments == ()


@pytest.mark.parametrize("phone", [CALLER_PHONE_NATIONAL, "+64 21 555 0100"])
async def test_create_ticket_by_phone_uses_the_one_matching_user(
    nc: NexoraConnect, router: respx.MockRouter, phone: str
) -> None:
    router.get(USERS_SEARCH).respond(200, json=fixture("users_search_by_phone"))
    route = router.post(TICKETS).respond(201, json=fixture("ticket_created"))
    await call(nc, WRITE, "create_ticket", subject="No dial tone", body="Since this morning.", phone=phone)
    assert json.loads(route.calls.last.request.content)["ticket"]["requester_id"] == 9100001


@pytest.mark.parametrize(("matches", "message"), [(0, "no Zendesk user"), (2, "several Zendesk users")])
async def test_create_ticket_by_phone_needs_exactly_one_matching_user(
    nc: NexoraConnect, router: respx.MockRouter, matches: int, message: str
) -> None:
    body = fixture("users_search_by_phone")
    body["users"] = [{**body["users"][0], "id": 9100001 + n} for n in range(matches)]
    router.get(USERS_SEARCH).respond(200, json=body)
    route = router.post(TICKETS).respond(201, json=fixture("ticket_created"))
    with pytest.raises(InvalidArgumentsError, match=message):
        await call(nc, WRITE, "create_ticket", subject="s", body="b", phone=CALLER_PHONE_NATIONAL)
    assert route.call_count == 0


async def test_create_ticket_without_identity_or_with_bad_phone_is_refused(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.route().respond(201, json={})
    with pytest.raises(InvalidArgumentsError, match="phone or email"):
        await call(nc, WRITE, "create_ticket", subject="s", body="b")
    with pytest.raises(InvalidArgumentsError, match="phone"):
        await call(nc, WRITE, "create_ticket", subject="s", body="b", phone="call me maybe")
    assert len(router.calls) == 0


async def test_create_ticket_under_a_read_only_grant_sends_nothing(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    router.route().respond(201, json=fixture("ticket_created"))
    with pytest.raises(ScopeDeniedError, match="tickets:write"):
        await call(nc, READ, "create_ticket", subject="s", body="b", email=CALLER_EMAIL)
    assert len(router.calls) == 0
    assert credentials.reads == 0


async def test_create_ticket_is_retried_with_the_same_idempotency_key(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post(TICKETS).mock(
        side_effect=[
            error(503, {"error": "Unavailable"}),
            httpx.Response(201, json=fixture("ticket_created")),
        ]
    )
    await call(nc, WRITE, "create_ticket", subject="s", body="b", email=CALLER_EMAIL)
    keys = [c.request.headers.get("idempotency-key") for c in route.calls]
    assert route.call_count == 2
    assert keys[0] is not None
    assert keys[0] == keys[1]


# --- add_comment --------------------------------------------------------------------------------------


@pytest.mark.parametrize("public", [False, True])
async def test_add_comment_puts_the_comment_and_returns_it(
    nc: NexoraConnect, router: respx.MockRouter, public: bool
) -> None:
    body = fixture("ticket_updated")
    body["audit"]["events"][0]["public"] = public
    route = router.put(TICKET).respond(200, json=body)
    ticket = await call(nc, WRITE, "add_comment", ticket_id=TICKET_ID, body="Called back.", public=public)
    request = route.calls.last.request
    assert (request.method, request.url.path) == ("PUT", "/api/v2/tickets/35437")
    assert json.loads(request.content) == {"ticket": {"comment": {"body": "Called back.", "public": public}}}
    assert "idempotency-key" not in request.headers
    assert ticket.id == "35437"
    (added,) = ticket.comments
    assert (added.id, added.public, added.author_id) == ("1274004", public, "8200009")
    assert added.body == "Caller called back: still dropping twice a day."
    assert added.created_at == datetime(2024, 6, 10, 2, 0, tzinfo=UTC)


async def test_add_comment_defaults_to_an_internal_note(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.put(TICKET).respond(200, json={"ticket": fixture("ticket_updated")["ticket"]})
    ticket = await call(nc, WRITE, "add_comment", ticket_id=TICKET_ID, body="Note.")
    assert json.loads(route.calls.last.request.content)["ticket"]["comment"]["public"] is False
    assert ticket.comments == ()  # no audit in the answer: nothing to report, nothing broken


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_add_comment_is_never_retried(nc: NexoraConnect, router: respx.MockRouter, status: int) -> None:
    route = router.put(TICKET).mock(
        side_effect=[
            error(status, {}, **{"Retry-After": "0"}),
            httpx.Response(200, json=fixture("ticket_updated")),
        ]
    )
    with pytest.raises(VendorError):
        await call(nc, WRITE, "add_comment", ticket_id=TICKET_ID, body="Called back.")
    assert route.call_count == 1, "a resent PUT would add the comment twice"
    assert "idempotency-key" not in route.calls.last.request.headers


async def test_add_comment_conflict(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.put(TICKET).mock(
        return_value=error(409, {"error": "UpdateConflict", "description": "Aroha's ticket"})
    )
    with pytest.raises(VendorConflictError) as info:
        await call(nc, WRITE, "add_comment", ticket_id=TICKET_ID, body="b")
    assert "UpdateConflict" in str(info.value)
    assert REQUEST_ID in str(info.value)
    assert "Aroha" not in str(info.value)


# --- error mapping ----------------------------------------------------------------------------------


async def test_401_rereads_the_key_resends_once_then_raises_auth_error(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource, secret: str
) -> None:
    route = router.get(SEARCH).mock(return_value=error(401, {"error": "Couldn't authenticate you"}))
    with pytest.raises(VendorAuthError) as info:
        await call(nc, READ, "list_tickets", email=CALLER_EMAIL)
    assert route.call_count == 2
    assert (credentials.fresh_reads, credentials.invalidations) == (1, 1)
    text = str(info.value)
    assert REQUEST_ID in text
    assert secret not in text
    assert "authenticate" not in text, "a free-text error is not a code and must not be echoed"
    assert CALLER_EMAIL not in text


async def test_401_with_a_rotated_key_succeeds_on_the_resend(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource, audit: MemoryAuditSink
) -> None:
    rotated = "api-token-" + secrets.token_hex(16)
    credentials.put(TENANT, READ, credential(rotated))
    credentials.lagging = True
    good = "Basic " + base64.b64encode(f"{AGENT_EMAIL}/token:{rotated}".encode()).decode()

    def vendor(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == good:
            return httpx.Response(200, json=fixture("search_tickets"))
        return error(401, {"error": "Couldn't authenticate you"})

    route = router.get(SEARCH).mock(side_effect=vendor)
    assert len(await call(nc, READ, "list_tickets", email=CALLER_EMAIL)) == 4
    assert route.call_count == 2
    assert audit.records[-1].credential_version == 2


async def test_429_retry_after_is_honoured(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(SEARCH).mock(
        side_effect=[
            error(429, {"error": "APIRateLimitExceeded"}, **{"Retry-After": "0"}),
            httpx.Response(200, json=fixture("search_tickets")),
        ]
    )
    assert len(await call(nc, READ, "list_tickets", email=CALLER_EMAIL)) == 4
    assert route.call_count == 2


async def test_persistent_429_raises_rate_limit_error_with_retry_after_and_code(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = {"errors": [{"code": "TooManyRequests", "title": "Too many requests from Aroha"}]}
    route = router.get(SEARCH).mock(return_value=error(429, body, **{"Retry-After": "0"}))
    with pytest.raises(VendorRateLimitError) as info:
        await call(nc, READ, "list_tickets", email=CALLER_EMAIL)
    assert route.call_count == 3  # the SDK's default policy: three attempts
    assert info.value.retry_after == 0
    assert "TooManyRequests" in str(info.value)
    assert REQUEST_ID in str(info.value)
    assert "Aroha" not in str(info.value)


async def test_5xx_on_a_read_is_retried_then_raised(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(SEARCH).mock(return_value=error(503, {"error": "unavailable", "description": "Sorry"}))
    with pytest.raises(VendorServerError) as info:
        await call(nc, READ, "list_tickets", email=CALLER_EMAIL)
    assert route.call_count == 3
    assert "vendor code unavailable" in str(info.value)
    assert "Sorry" not in str(info.value)


_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda children: st.lists(children) | st.dictionaries(_TEXT, children),
    max_leaves=8,
)


@given(body=_JSON)
def test_error_code_is_none_or_an_identifier(body: Any) -> None:
    connector = ZendeskConnector.__new__(ZendeskConnector)
    for payload in (body, {"error": body}, {"errors": [{"code": body}]}):
        code = connector.error_code(httpx.Response(400, json=payload))
        assert code is None or re.fullmatch(r"[A-Za-z][A-Za-z_]{1,63}", code)


def test_error_code_reads_both_zendesk_error_shapes() -> None:
    connector = ZendeskConnector.__new__(ZendeskConnector)
    assert connector.error_code(
        httpx.Response(404, json={"error": "RecordNotFound", "description": "x"})
    ) == ("RecordNotFound")
    assert connector.error_code(httpx.Response(429, json={"errors": [{"code": "TooManyRequests"}]})) == (
        "TooManyRequests"
    )
    assert connector.error_code(httpx.Response(400, json={"error": {"title": "Forbidden"}})) is None
    assert connector.error_code(httpx.Response(502, text="<html>bad gateway</html>")) is None


# --- verify -----------------------------------------------------------------------------------------


async def test_verify_reads_the_current_user(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.get(ME).respond(200, json=fixture("users_me"))
    await nc.verify(TENANT, READ)
    request = route.calls.last.request
    assert (request.method, request.url.path) == ("GET", "/api/v2/users/me")
    assert (
        base64.b64decode(request.headers["authorization"].split()[1]).decode()
        == f"{AGENT_EMAIL}/token:{secret}"
    )


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (fixture("users_me_anonymous")["user"], "anonymous"),
        ({**fixture("users_me")["user"], "role": "end-user"}, "end user"),
    ],
)
async def test_verify_refuses_an_anonymous_or_end_user_answer(
    nc: NexoraConnect, router: respx.MockRouter, user: dict[str, Any], message: str
) -> None:
    router.get(ME).mock(return_value=error(200, {"user": user}))
    with pytest.raises(VendorAuthError, match=message) as info:
        await nc.verify(TENANT, READ)
    assert REQUEST_ID in str(info.value)
    assert user["email"] not in str(info.value)


async def test_verify_401_rereads_once_then_raises(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    route = router.get(ME).mock(return_value=error(401, {"error": "Couldn't authenticate you"}))
    with pytest.raises(VendorAuthError, match=REQUEST_ID):
        await nc.verify(TENANT, READ)
    assert route.call_count == 2
    assert credentials.fresh_reads == 1


@pytest.mark.parametrize("body", [[], {"users": []}, None])
async def test_verify_with_an_unexpected_shape_is_a_payload_error(
    nc: NexoraConnect, router: respx.MockRouter, body: Any
) -> None:
    router.get(ME).respond(200, json=body)
    with pytest.raises(VendorPayloadError):
        await nc.verify(TENANT, READ)


async def test_verify_cannot_write(nc: NexoraConnect, router: respx.MockRouter) -> None:
    """verify() runs under a read-only probe scope: a connector bug that wrote would be refused."""
    router.route().respond(200, json={})
    connector = nc._binding(TENANT, WRITE).connector
    assert isinstance(connector, ZendeskConnector)
    with pytest.raises(ScopeDeniedError):
        await connector.http.request("PUT", "/api/v2/tickets/1")
    assert len(router.calls) == 0


async def test_an_email_with_search_syntax_is_sent_as_one_quoted_phrase(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    """``)`` or a space cannot add a term: the value goes as one quoted phrase (sdk._querylang)."""
    route = router.get(SEARCH).respond(200, json=fixture("search_tickets"))
    await call(nc, READ, "list_tickets", email="a@example.test)OR(type:user")
    sent = route.calls.last.request.url.params["query"]
    assert sent == 'type:ticket requester:"a@example.test)OR(type:user"'
