"""Zendesk: every request is a declared endpoint, and no ticket id can leave its ticket (S1).

Each hostile ``ticket_id`` of every operation that takes one is refused with
InvalidArgumentsError before anything reaches the transport, through a direct
call and a tool call alike. Vendor-supplied page URLs (the search's
``next_page``, the comments' ``links.next``) are never requested: a hostile one
cannot move a request to another host or path.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from connectors.ticketing.zendesk import ZendeskConnector
from connectors.ticketing.zendesk import _connector as zendesk_module
from sdk import InvalidArgumentsError, NexoraConnect
from sdk.testing import make_canary
from tests.connectors import zendesk_cases
from tests.connectors.path_id_attacks import sent
from tests.connectors.zendesk_cases import (
    BASE,
    CALLER_EMAIL,
    COMMENTS,
    SEARCH,
    TICKET,
    TICKET_ID,
    credential,
    fixture,
)
from tests.mock_nexora import call_once, invoke_once

WRITE = "zendesk-rw"
HOST = httpx.URL(BASE).host
EVIL = "https://evil.example"

HOSTILE_IDS = [
    pytest.param("..", id="dotdot"),
    pytest.param("%2e%2e", id="pct-dotdot"),
    pytest.param("%252e%252e", id="double-pct-dotdot"),
    pytest.param(".", id="dot"),
    pytest.param("", id="empty"),
    pytest.param("a/b", id="slash"),
    pytest.param("1/../../users/me", id="walk-to-me"),
    pytest.param("%2F", id="pct-slash"),
    pytest.param("1%2F..", id="digits-pct-slash"),
    pytest.param("\x00", id="nul"),
    pytest.param("1\x00", id="digits-nul"),
    pytest.param("1\r\nX-Injected: 1", id="crlf"),
    pytest.param("1\n", id="digits-lf"),
    pytest.param("\uff0e\uff0e", id="fullwidth-dotdot"),
    pytest.param("\uff11\uff12", id="fullwidth-digits"),
    pytest.param("\u0663\u0664", id="arabic-indic-digits"),
]
ID_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_ticket", {}),
    ("add_comment", {"body": "Called back."}),
]
ENDPOINTS = {
    "list_tickets": {"GET /api/v2/users/search", "GET /api/v2/search"},
    "get_ticket": {"GET /api/v2/tickets/{ticket_id}", "GET /api/v2/tickets/{ticket_id}/comments"},
    "create_ticket": {"GET /api/v2/users/search", "POST /api/v2/tickets"},
    "add_comment": {"PUT /api/v2/tickets/{ticket_id}"},
}


def catch_all(router: respx.MockRouter) -> respx.Route:
    return router.route().respond(200, json={"results": [], "comments": [], "users": []})


@pytest.fixture
async def nc(router: respx.MockRouter) -> AsyncIterator[NexoraConnect]:
    # The shared router has no base URL: a catch-all added last sees a request to any host or path.
    async with zendesk_cases.runtime(router, credential(make_canary("token")), integration=WRITE) as runtime:
        yield runtime


async def call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await call_once(nc, WRITE, operation, **arguments)


async def invoke(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await invoke_once(nc, WRITE, operation, **arguments)


def test_every_operation_and_verify_declare_exactly_their_endpoints() -> None:
    declared = {
        name: {str(endpoint) for endpoint in spec.endpoints}
        for name, spec in ZendeskConnector.implemented_operations().items()
    }
    assert declared == ENDPOINTS
    assert {str(e) for e in ZendeskConnector.verify_spec.endpoints} == {"GET /api/v2/users/me"}


@pytest.mark.parametrize(("operation", "extra"), ID_CALLS, ids=[op for op, _ in ID_CALLS])
@pytest.mark.parametrize("ticket_id", HOSTILE_IDS)
async def test_a_hostile_ticket_id_is_refused_before_any_request(
    nc: NexoraConnect, router: respx.MockRouter, operation: str, extra: dict[str, Any], ticket_id: str
) -> None:
    catch_all(router)
    with pytest.raises(InvalidArgumentsError, match="ticket_id"):
        await call(nc, operation, ticket_id=ticket_id, **extra)
    with pytest.raises(InvalidArgumentsError, match="ticket_id"):
        await invoke(nc, operation, ticket_id=ticket_id, **extra)
    assert router.calls.call_count == 0


@pytest.mark.parametrize(("operation", "extra"), ID_CALLS, ids=[op for op, _ in ID_CALLS])
@pytest.mark.parametrize(
    "ticket_id", ["..", ".", "\x00", "1\x00", "\uff0e\uff0e", "\u2024\u2024", "\ufeff.."]
)
async def test_the_sdk_refuses_a_hostile_id_even_without_the_connectors_own_check(
    nc: NexoraConnect,
    router: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    extra: dict[str, Any],
    ticket_id: str,
) -> None:
    """Defence in depth: with the ticket-number check gone, path_params still refuses the value."""
    monkeypatch.setattr(zendesk_module, "_TICKET_NUMBER", re.compile(r"(?s).*"))
    catch_all(router)
    with pytest.raises(InvalidArgumentsError, match="ticket_id") as caught:
        await call(nc, operation, ticket_id=ticket_id, **extra)
    assert "digits only" not in str(caught.value), "the connector's check ran: the SDK was not reached"
    assert router.calls.call_count == 0


async def test_the_error_never_echoes_the_value(nc: NexoraConnect, router: respx.MockRouter) -> None:
    catch_all(router)
    canary = make_canary("ticket")
    for hostile in (f"{canary}\x00", f"../{canary}", f"1{canary}"):
        for operation, extra in ID_CALLS:
            with pytest.raises(InvalidArgumentsError) as caught:
                await call(nc, operation, ticket_id=hostile, **extra)
            assert canary not in str(caught.value)
    assert router.calls.call_count == 0


async def test_a_ticket_number_is_one_segment_under_the_ticket(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(TICKET).respond(200, json=fixture("ticket"))
    router.get(COMMENTS).respond(200, json=fixture("comments_page2"))
    router.put(TICKET).respond(200, json=fixture("ticket_updated"))
    catch_all(router)
    await call(nc, "get_ticket", ticket_id=TICKET_ID)
    await call(nc, "add_comment", ticket_id=TICKET_ID, body="Called back.")
    assert sorted(sent(router)) == [
        ("GET", HOST, f"/api/v2/tickets/{TICKET_ID}"),
        ("GET", HOST, f"/api/v2/tickets/{TICKET_ID}/comments"),
        ("PUT", HOST, f"/api/v2/tickets/{TICKET_ID}"),
    ]


async def test_a_hostile_next_page_url_is_never_requested(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    """``next_page`` only says "there is more"; the open-tickets search is built here, on the site."""
    first = fixture("search_tickets")
    first["next_page"] = f"{EVIL}/api/v2/tickets/1/../../users.json?page=2"
    second = fixture("search_tickets") | {"next_page": f"{BASE}/api/v2/users.json"}
    search = router.get(f"{BASE}/api/v2/search").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    catch_all(router)
    await call(nc, "list_tickets", email=CALLER_EMAIL)
    assert search.call_count == 2
    assert sent(router) == [("GET", HOST, "/api/v2/search")] * 2
    assert str(search.calls[1].request.url).startswith(SEARCH + "?")


async def test_comment_pages_follow_the_cursor_never_links_next(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    hostile_cursor = "../../users/me?x=1"
    first = fixture("comments_page1")
    first["meta"]["after_cursor"] = hostile_cursor
    first["links"]["next"] = f"{EVIL}/api/v2/users/me.json"
    second = fixture("comments_page2")
    second["links"]["next"] = f"{BASE}/api/v2/users.json"
    router.get(TICKET).respond(200, json=fixture("ticket"))
    comments = router.get(COMMENTS).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    catch_all(router)
    await call(nc, "get_ticket", ticket_id=TICKET_ID)
    assert comments.calls[1].request.url.params["page[after]"] == hostile_cursor
    assert {host for _, host, _ in sent(router)} == {HOST}
    assert sorted(path for _, _, path in sent(router)) == [
        f"/api/v2/tickets/{TICKET_ID}",
        f"/api/v2/tickets/{TICKET_ID}/comments",
        f"/api/v2/tickets/{TICKET_ID}/comments",
    ]
