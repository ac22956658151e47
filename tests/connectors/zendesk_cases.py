"""Zendesk connector cases for the connector test kit, and the fixtures the Zendesk tests share.

Fixtures under ``fixtures/zendesk/`` are shaped like the responses in Zendesk's OpenAPI document
(validated by ``test_zendesk_contract.py``); every value in them is synthetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from connectors.ticketing.zendesk import ZendeskConnector
from sdk import NexoraConnect
from sdk.testing import OperationCase, PaginationCase, mock_runtime
from tests.connectors.payloads import VendorPayloads
from vault import BasicCredential, Credential

SUBDOMAIN = "acme-test"
BASE = f"https://{SUBDOMAIN}.zendesk.com"
SETTINGS = {"subdomain": SUBDOMAIN}
AGENT_EMAIL = "agent@example.test"
CALLER_EMAIL = "aroha@example.test"
CALLER_PHONE_NATIONAL = "021 555 0100"  # NZ national format; E.164 +64215550100
TICKET_ID = "35437"

USERS_SEARCH = f"{BASE}/api/v2/users/search"
SEARCH = f"{BASE}/api/v2/search"
TICKETS = f"{BASE}/api/v2/tickets"
TICKET = f"{TICKETS}/{TICKET_ID}"
COMMENTS = f"{TICKET}/comments"
ME = f"{BASE}/api/v2/users/me"

WRITES = ("tickets:write", "comments:write")
"""The write scopes of the integration :func:`runtime` builds."""

fixture = VendorPayloads("zendesk")
"""A fresh copy of ``fixtures/zendesk/<name>.json`` (tests may change it)."""


def credential(secret: str) -> BasicCredential:
    """The Vault credential a tenant stores: agent email (no '/token' suffix) and API token."""
    return BasicCredential(type="basic", username=AGENT_EMAIL, password=SecretStr(secret))


def runtime(
    router: respx.MockRouter,
    vault_credential: Credential,
    settings: Mapping[str, Any] = SETTINGS,
    *,
    integration: str = "zendesk",
) -> AbstractAsyncContextManager[NexoraConnect]:
    """Tenant ``acme`` with one integration (``zendesk`` unless named) granted ticket and comment writes."""
    return mock_runtime(
        ZendeskConnector,
        router,
        vault_credential,
        settings=settings,
        integration=integration,
        write_scopes=WRITES,
    )


# --- routes, each answering a fixture with the canary planted in a personal field ------------------


def search_tickets_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("search_tickets")
    body["results"][1]["subject"] = f"Router for {canary}"
    return router.get(SEARCH).respond(200, json=body)


def users_search_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("users_search_by_phone")
    body["users"][0]["name"] = canary
    return router.get(USERS_SEARCH).respond(200, json=body)


def show_ticket_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("ticket")
    body["ticket"]["subject"] = f"Router for {canary}"
    return router.get(TICKET).respond(200, json=body)


def comments_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("comments_page2")
    body["comments"][0]["plain_body"] = f"Hello, this is {canary}"
    return router.get(COMMENTS).respond(200, json=body)


def create_ticket_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("ticket_created")
    body["ticket"]["subject"] = f"Call from {canary}"
    return router.post(TICKETS).respond(201, json=body, headers={"Location": f"{TICKETS}/35440.json"})


def update_ticket_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("ticket_updated")
    body["audit"]["events"][0]["plain_body"] = f"Called back: {canary}"
    return router.put(TICKET).respond(200, json=body)


def _list_by_phone(router: respx.MockRouter, canary: str) -> respx.Route:
    search_tickets_route(router, canary)
    return users_search_route(router, canary)


def _get_ticket(router: respx.MockRouter, canary: str) -> respx.Route:
    comments_route(router, canary)
    return show_ticket_route(router, canary)


def _create_by_phone(router: respx.MockRouter, canary: str) -> respx.Route:
    users_search_route(router, canary)
    return create_ticket_route(router, canary)


CASES = [
    OperationCase(
        "list_tickets", {"email": CALLER_EMAIL}, mock=search_tickets_route, id="list_tickets_by_email"
    ),
    OperationCase(
        "list_tickets", {"phone": CALLER_PHONE_NATIONAL}, mock=_list_by_phone, id="list_tickets_by_phone"
    ),
    OperationCase("get_ticket", {"ticket_id": TICKET_ID}, mock=_get_ticket),
    OperationCase(
        "create_ticket",
        {"subject": "No dial tone", "body": "No dial tone since this morning.", "email": CALLER_EMAIL},
        mock=create_ticket_route,
        id="create_ticket_by_email",
    ),
    OperationCase(
        "create_ticket",
        {
            "subject": "No dial tone",
            "body": "No dial tone since this morning.",
            "phone": CALLER_PHONE_NATIONAL,
        },
        mock=_create_by_phone,
        id="create_ticket_by_phone",
    ),
    OperationCase(
        "add_comment",
        {"ticket_id": TICKET_ID, "body": "Caller called back: still dropping twice a day."},
        mock=update_ticket_route,
    ),
]


def comment_pages_route(router: respx.MockRouter, next_cursors: Sequence[str | None]) -> respx.Route:
    """Comments whose n-th page holds one comment and points at ``next_cursors[n]``."""
    template = fixture("comments_page2")["comments"][0]
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        index, served = served, served + 1
        cursor = next_cursors[index]
        item = {**template, "id": 1_300_000 + index}
        meta = {"has_more": cursor is not None, "after_cursor": cursor, "before_cursor": f"before-{index}"}
        return httpx.Response(200, json={"comments": [item], "meta": meta})

    show_ticket_route(router, "pagination")
    return router.get(COMMENTS).mock(side_effect=page)


PAGINATION = PaginationCase("get_ticket", {"ticket_id": TICKET_ID}, mock=comment_pages_route)
