"""Jira Service Management: every request is a declared endpoint; no request key leaves its request (S1).

Each hostile ``ticket_id`` of every operation that takes one is refused with
InvalidArgumentsError before anything reaches the transport, through a direct
call and a tool call alike, and still is when the connector's own key check is
taken away (the SDK fills the path). Vendor-supplied page links (``_links``)
are never requested: a hostile one cannot move a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from connectors.ticketing.jsm import JSMConnector
from sdk import InvalidArgumentsError, NexoraConnect
from sdk.testing import make_canary
from tests.connectors import jsm_cases
from tests.connectors.jsm_cases import (
    BASE,
    CALLER_EMAIL,
    COMMENTS,
    CUSTOMERS,
    REQUEST,
    SEARCH,
    SERVICE_DESK_ID,
    TICKET_ID,
    credential,
    fixture,
)
from tests.connectors.path_id_attacks import sent
from tests.mock_nexora import call_once, invoke_once

INTEGRATION = "jsm"
HOST = httpx.URL(BASE).host
EVIL = "https://evil.example"

HOSTILE_IDS = [
    pytest.param("..", id="dotdot"),
    pytest.param("%2e%2e", id="pct-dotdot"),
    pytest.param("%252e%252e", id="double-pct-dotdot"),
    pytest.param(".", id="dot"),
    pytest.param("", id="empty"),
    pytest.param("a/b", id="slash"),
    pytest.param("HELP-7/../../../api/3/myself", id="walk-to-myself"),
    pytest.param("%2F", id="pct-slash"),
    pytest.param("HELP-7%2F..", id="key-pct-slash"),
    pytest.param("\x00", id="nul"),
    pytest.param("HELP-7\x00", id="key-nul"),
    pytest.param("HELP-7\r\nX-Injected: 1", id="crlf"),
    pytest.param("HELP-7\n", id="key-lf"),
    pytest.param("\uff0e\uff0e", id="fullwidth-dotdot"),
    pytest.param("\uff28\uff25\uff2c\uff30-7", id="fullwidth-key"),
]
ID_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_ticket", {}),
    ("add_comment", {"body": "Called back."}),
]
DESK = "/rest/servicedeskapi/servicedesk/{service_desk_id}"
ENDPOINTS = {
    "list_tickets": {f"GET {DESK}/customer", "GET /rest/api/3/search/jql"},
    "get_ticket": {
        "GET /rest/servicedeskapi/request/{issue_key}",
        "GET /rest/servicedeskapi/request/{issue_key}/comment",
    },
    "create_ticket": {f"GET {DESK}/customer", "POST /rest/servicedeskapi/request"},
    "add_comment": {"POST /rest/servicedeskapi/request/{issue_key}/comment"},
}


def catch_all(router: respx.MockRouter) -> respx.Route:
    return router.route().respond(200, json={"values": [], "issues": [], "isLastPage": True})


@pytest.fixture
async def nc(router: respx.MockRouter) -> AsyncIterator[NexoraConnect]:
    # The shared router has no base URL: a catch-all added last sees a request to any host or path.
    async with jsm_cases.runtime(router, credential(make_canary("token"))) as runtime:
        yield runtime


async def call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await call_once(nc, INTEGRATION, operation, **arguments)


async def invoke(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await invoke_once(nc, INTEGRATION, operation, **arguments)


def test_every_operation_and_verify_declare_exactly_their_endpoints() -> None:
    declared = {
        name: {str(endpoint) for endpoint in spec.endpoints}
        for name, spec in JSMConnector.implemented_operations().items()
    }
    assert declared == ENDPOINTS
    assert {str(e) for e in JSMConnector.verify_spec.endpoints} == {f"GET {DESK}"}


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
    "ticket_id", ["..", ".", "\x00", "HELP-7\x00", "\uff0e\uff0e", "\u2024\u2024", "\ufeff.."]
)
async def test_the_sdk_refuses_a_hostile_id_even_without_the_connectors_own_check(
    nc: NexoraConnect,
    router: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    extra: dict[str, Any],
    ticket_id: str,
) -> None:
    """Defence in depth: with the project-key check gone, path_params still refuses the value."""

    def unchecked(self: JSMConnector, value: str) -> dict[str, str]:
        return {"issue_key": value}

    monkeypatch.setattr(JSMConnector, "_request_ids", unchecked)
    catch_all(router)
    with pytest.raises(InvalidArgumentsError, match="issue_key") as caught:
        await call(nc, operation, ticket_id=ticket_id, **extra)
    assert "request key of project" not in str(caught.value)
    assert router.calls.call_count == 0


async def test_the_error_never_echoes_the_value(nc: NexoraConnect, router: respx.MockRouter) -> None:
    catch_all(router)
    canary = make_canary("key")
    for hostile in (f"HELP-7{canary}", f"../{canary}", f"{canary}\x00"):
        for operation, extra in ID_CALLS:
            with pytest.raises(InvalidArgumentsError) as caught:
                await call(nc, operation, ticket_id=hostile, **extra)
            assert canary not in str(caught.value)
    assert router.calls.call_count == 0


async def test_a_request_key_and_the_desk_id_are_one_segment_each(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(REQUEST).respond(200, json=fixture("request"))
    router.get(COMMENTS).respond(200, json=fixture("comments"))
    router.post(COMMENTS).respond(201, json=fixture("comment_created"))
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    router.get(SEARCH).respond(200, json=fixture("search"))
    catch_all(router)
    await call(nc, "get_ticket", ticket_id=TICKET_ID)
    await call(nc, "add_comment", ticket_id=TICKET_ID, body="Called back.")
    await call(nc, "list_tickets", email=CALLER_EMAIL)
    assert sorted(sent(router)) == [
        ("GET", HOST, "/rest/api/3/search/jql"),
        ("GET", HOST, f"/rest/servicedeskapi/request/{TICKET_ID}"),
        ("GET", HOST, f"/rest/servicedeskapi/request/{TICKET_ID}/comment"),
        ("GET", HOST, f"/rest/servicedeskapi/servicedesk/{SERVICE_DESK_ID}/customer"),
        ("POST", HOST, f"/rest/servicedeskapi/request/{TICKET_ID}/comment"),
    ]


async def test_comment_pages_use_an_offset_never_links_next(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    first = fixture("comments")
    first["isLastPage"] = False
    first["_links"]["next"] = f"{EVIL}/rest/api/3/myself"
    second = fixture("comments")
    second["_links"]["next"] = f"{BASE}/rest/api/3/users/search"
    router.get(REQUEST).respond(200, json=fixture("request"))
    comments = router.get(COMMENTS).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    catch_all(router)
    await call(nc, "get_ticket", ticket_id=TICKET_ID)
    assert [c.request.url.params["start"] for c in comments.calls] == ["0", "2"]
    assert {host for _, host, _ in sent(router)} == {HOST}
    assert sorted(path for _, _, path in sent(router)) == [
        f"/rest/servicedeskapi/request/{TICKET_ID}",
        f"/rest/servicedeskapi/request/{TICKET_ID}/comment",
        f"/rest/servicedeskapi/request/{TICKET_ID}/comment",
    ]


async def test_a_hostile_next_page_token_stays_a_query_value(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    hostile_token = f"{EVIL}/rest/api/3/search/../../myself"
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    first = fixture("search")
    first["issues"] = first["issues"][:1]
    first["isLast"] = False
    first["nextPageToken"] = hostile_token
    second = fixture("search")
    second["issues"] = second["issues"][1:]
    search = router.get(SEARCH).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    catch_all(router)
    await call(nc, "list_tickets", email=CALLER_EMAIL)
    assert search.calls[1].request.url.params["nextPageToken"] == hostile_token
    assert {host for _, host, _ in sent(router)} == {HOST}
    assert {path for _, _, path in sent(router)} == {
        "/rest/api/3/search/jql",
        f"/rest/servicedeskapi/servicedesk/{SERVICE_DESK_ID}/customer",
    }
