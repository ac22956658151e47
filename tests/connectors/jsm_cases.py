"""Jira Service Management cases for the connector test kit, and the data the JSM tests share.

Fixtures under ``fixtures/jsm/`` are shaped like the responses in the Service Management document
and the Jira platform document (validated by ``test_jsm_contract.py``); every value is synthetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from connectors.ticketing.jsm import JSMConnector
from sdk import NexoraConnect
from sdk.testing import OperationCase, PaginationCase, mock_runtime
from tests.connectors.payloads import VendorPayloads
from vault import BasicCredential, Credential

SITE = "acme-test"
BASE = f"https://{SITE}.atlassian.net"
SERVICE_DESK_ID = "10"
PROJECT_KEY = "HELP"
REQUEST_TYPE_ID = "25"
SETTINGS = {
    "site": SITE,
    "service_desk_id": SERVICE_DESK_ID,
    "project_key": PROJECT_KEY,
    "request_type_id": REQUEST_TYPE_ID,
}
AGENT_EMAIL = "agent@example.test"
CALLER_EMAIL = "aroha@example.test"
CALLER_ACCOUNT = "qm:7d1e2f30-2222-4a5b-8c9d-0e1f2a3b4c5d:5ad6d3581db05e2a66fa80c"
TICKET_ID = "HELP-7"

CUSTOMERS = f"{BASE}/rest/servicedeskapi/servicedesk/{SERVICE_DESK_ID}/customer"
SERVICE_DESK = f"{BASE}/rest/servicedeskapi/servicedesk/{SERVICE_DESK_ID}"
SEARCH = f"{BASE}/rest/api/3/search/jql"
REQUESTS = f"{BASE}/rest/servicedeskapi/request"
REQUEST = f"{REQUESTS}/{TICKET_ID}"
COMMENTS = f"{REQUEST}/comment"

WRITES = ("tickets:write", "comments:write")
"""The write scopes of the integration :func:`runtime` builds."""

fixture = VendorPayloads("jsm")
"""A fresh copy of ``fixtures/jsm/<name>.json`` (tests may change it)."""


def credential(secret: str) -> BasicCredential:
    """What a tenant stores in Vault: the Atlassian account's email and an API token."""
    return BasicCredential(type="basic", username=AGENT_EMAIL, password=SecretStr(secret))


def runtime(
    router: respx.MockRouter, vault_credential: Credential, settings: Mapping[str, Any] = SETTINGS
) -> AbstractAsyncContextManager[NexoraConnect]:
    """Tenant ``acme`` with one integration, ``jsm``, granted ticket and comment writes."""
    return mock_runtime(JSMConnector, router, vault_credential, settings=settings, write_scopes=WRITES)


# --- routes, each answering a fixture with the canary planted in a personal field ------------------


def customers_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("customers")
    body["values"][1]["displayName"] = canary
    return router.get(CUSTOMERS).respond(200, json=body)


def search_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("search")
    body["issues"][1]["fields"]["summary"] = f"Router for {canary}"
    return router.get(SEARCH).respond(200, json=body)


def request_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("request")
    body["requestFieldValues"][0]["value"] = f"Router for {canary}"
    return router.get(REQUEST).respond(200, json=body)


def comments_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("comments")
    body["values"][0]["body"] = f"Hello, this is {canary}"
    return router.get(COMMENTS).respond(200, json=body)


def create_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("request_created")
    body["requestFieldValues"][0]["value"] = f"Call from {canary}"
    return router.post(REQUESTS).respond(201, json=body)


def comment_created_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("comment_created")
    body["body"] = f"Called back: {canary}"
    return router.post(COMMENTS).respond(201, json=body)


def _list(router: respx.MockRouter, canary: str) -> respx.Route:
    customers_route(router, canary)
    return search_route(router, canary)


def _get(router: respx.MockRouter, canary: str) -> respx.Route:
    comments_route(router, canary)
    return request_route(router, canary)


def _create(router: respx.MockRouter, canary: str) -> respx.Route:
    customers_route(router, canary)
    return create_route(router, canary)


CASES = [
    OperationCase("list_tickets", {"email": CALLER_EMAIL}, mock=_list),
    OperationCase("get_ticket", {"ticket_id": TICKET_ID}, mock=_get),
    OperationCase(
        "create_ticket",
        {"subject": "No dial tone", "body": "No dial tone since this morning.", "email": CALLER_EMAIL},
        mock=_create,
    ),
    OperationCase(
        "add_comment",
        {"ticket_id": TICKET_ID, "body": "Caller called back: still dropping twice a day."},
        mock=comment_created_route,
    ),
]


def search_pages_route(router: respx.MockRouter, next_cursors: Sequence[str | None]) -> respx.Route:
    """JQL results whose n-th page holds one issue and hands out ``next_cursors[n]`` as nextPageToken."""
    template = fixture("search")["issues"][1]
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        index, served = served, served + 1
        token = next_cursors[index]
        item = {**template, "id": str(20_000 + index), "key": f"{PROJECT_KEY}-{100 + index}"}
        body: dict[str, Any] = {"issues": [item], "isLast": token is None}
        if token is not None:
            body["nextPageToken"] = token
        return httpx.Response(200, json=body)

    customers_route(router, "pagination")
    return router.get(SEARCH).mock(side_effect=page)


PAGINATION = PaginationCase("list_tickets", {"email": CALLER_EMAIL}, mock=search_pages_route)
