"""Intercom connector cases for the connector test kit, and the data the Intercom tests share.

The fixtures are the response examples of Intercom's own OpenAPI document (the bundled subset,
``tests/fixtures/specs/intercom``), with synthetic values put in the fields the connector reads:
their shape is the vendor's documented shape by construction, and ``test_intercom_contract.py``
validates them against the document's schemas as well.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from sdk.testing import OperationCase, PaginationCase
from vault import ApiKeyCredential

SPEC_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "specs" / "intercom" / "intercom-voice-subset.json"
)

BASE = "https://api.intercom.io"
SETTINGS: dict[str, Any] = {"region": "us"}
CALLER_EMAIL = "aroha@example.test"
CALLER_PHONE = "021 555 0100"  # NZ national format; +64215550100 in E.164
CALLER_E164 = "+64215550100"
CONTACT_ID = "65f0c0ffee00000000a00001"
COMPANY_ID = "65f0c0ffee00000000c00001"
CONVERSATION_ID = "900001"

CONTACT_SEARCH = f"{BASE}/contacts/search"
CONTACT = f"{BASE}/contacts/{CONTACT_ID}"
NOTES = f"{CONTACT}/notes"
COMPANY = f"{BASE}/companies/{COMPANY_ID}"
CONVERSATION_SEARCH = f"{BASE}/conversations/search"
ME = f"{BASE}/me"


@cache
def spec_document() -> dict[str, Any]:
    """The bundled OpenAPI subset (read once)."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def example(path: str, method: str, status: str = "200", name: str | None = None) -> Any:
    """A fresh copy of one response example of the document (the first one unless named)."""
    content = spec_document()["paths"][path][method]["responses"][status]["content"]["application/json"]
    examples = content["examples"]
    chosen = examples[name] if name is not None else next(iter(examples.values()))
    return copy.deepcopy(chosen["value"])


def _contact() -> dict[str, Any]:
    body: dict[str, Any] = example("/contacts/{contact_id}", "get")
    body.update(
        id=CONTACT_ID,
        external_id="crm-1001",
        email=CALLER_EMAIL,
        phone="+64 21 555 0100",
        name="Aroha Ngata",
        created_at=1714555800,
        updated_at=1718072100,
    )
    for key in ("tags", "notes", "companies", "opted_out_subscription_types", "opted_in_subscription_types"):
        body[key]["url"] = body[key]["url"].replace("6762f0d01bb69f9f2193bb7d", CONTACT_ID)
    body["companies"]["data"] = [{"type": "company", "id": COMPANY_ID, "url": f"/companies/{COMPANY_ID}"}]
    body["companies"]["total_count"] = 1
    return body


def fixture(name: str) -> Any:
    """A fresh synthetic payload, shaped like the document's example for its operation."""
    if name == "contact":
        return _contact()
    if name == "contacts":
        body = example("/contacts/search", "post")
        body["data"] = [_contact()]
        body["total_count"] = 1
        body["pages"].update(per_page=25, total_pages=1)
        return body
    if name == "company":
        body = example("/companies/{company_id}", "get")
        body.update(id=COMPANY_ID, company_id="kauri-1", name="Kauri Cafe Ltd", app_id="synthetic_app_0001")
        return body
    if name == "note_created":
        body = example("/contacts/{contact_id}/notes", "post")
        body.update(id="7001", created_at=1718229840, body="<p>Called about an invoice.</p>")
        body["contact"]["id"] = CONTACT_ID
        body["author"].update(id="800001", name="Synthetic Agent", email="agent@example.test")
        return body
    if name == "conversations":
        body = example("/conversations/search", "post")
        item = body["conversations"][0]
        item.update(id=CONVERSATION_ID, title="Invoice question", state="open", priority="priority")
        item["source"].update(id="800101", subject="", body="<p>Why was I charged twice?</p>")
        item["source"]["author"].update(id="800001", name="Synthetic Agent", email="agent@example.test")
        item["contacts"]["contacts"] = [{"type": "contact", "id": CONTACT_ID, "external_id": "crm-1001"}]
        return body
    if name == "me":
        return example("/me", "get")
    if name == "not_found":
        return example("/contacts/{contact_id}/notes", "post", "404", "Contact not found")
    raise KeyError(name)


def credential(secret: str) -> ApiKeyCredential:
    """What a tenant stores in Vault: an Intercom access token (sent as a Bearer token)."""
    return ApiKeyCredential(type="api_key", api_key=SecretStr(secret))


# --- routes, each answering a fixture with the canary planted in a personal field ------------------


def contacts_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("contacts")
    body["data"][0]["name"] = canary
    return router.post(CONTACT_SEARCH).respond(200, json=body)


def contact_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("contact")
    body["name"] = canary
    return router.get(CONTACT).respond(200, json=body)


def company_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("company")
    body["name"] = f"{canary} Ltd"
    return router.get(COMPANY).respond(200, json=body)


def note_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("note_created")
    body["body"] = f"<p>Called about {canary}</p>"
    return router.post(NOTES).respond(200, json=body)


def conversations_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("conversations")
    body["conversations"][0]["title"] = f"Question from {canary}"
    return router.post(CONVERSATION_SEARCH).respond(200, json=body)


CASES = [
    OperationCase("find_contacts", {"email": CALLER_EMAIL}, mock=contacts_route, id="find_contacts_by_email"),
    OperationCase("find_contacts", {"phone": CALLER_PHONE}, mock=contacts_route, id="find_contacts_by_phone"),
    OperationCase("get_contact", {"contact_id": CONTACT_ID}, mock=contact_route),
    OperationCase("get_account", {"account_id": COMPANY_ID}, mock=company_route),
    OperationCase("list_conversations", {"contact_id": CONTACT_ID, "limit": 5}, mock=conversations_route),
    OperationCase(
        "create_note", {"contact_id": CONTACT_ID, "body": "Called about an invoice."}, mock=note_route
    ),
]


def contact_pages_route(router: respx.MockRouter, next_cursors: Sequence[str | None]) -> respx.Route:
    """A contact search whose n-th page holds one matching contact and points at ``next_cursors[n]``."""
    template = fixture("contacts")
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        index, served = served, served + 1
        body = copy.deepcopy(template)
        body["data"][0]["id"] = f"65f0c0ffee0000000{index:07d}"
        body["total_count"] = len(next_cursors)
        body["pages"].update(page=index + 1, per_page=1, total_pages=len(next_cursors))
        following = next_cursors[index]
        if following is not None:
            body["pages"]["next"] = {"per_page": 1, "starting_after": following}
        return httpx.Response(200, json=body)

    return router.post(CONTACT_SEARCH).mock(side_effect=page)


PAGINATION = PaginationCase("find_contacts", {"email": CALLER_EMAIL}, mock=contact_pages_route)
