"""Xero test material: fixtures taken from Xero's own OpenAPI examples, runtimes, and the kit's cases.

Every response body here is an example of the bundled contract (``tests/fixtures/specs/xero``),
deep-copied, with at most a field's value changed for a test (a canary name, a country code); so the
fixtures are shaped exactly like Xero's documented responses, and ``test_xero_contract.py``
validates them (and every request the connector sends) against the same document.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import respx
import yaml
from pydantic import SecretStr

from connectors.billing.xero import XeroConnector
from connectors.billing.xero._connector import TOKEN_URL
from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk._auth import CredentialSource
from sdk.testing import OperationCase, PaginationCase, make_canary
from tests.mock_nexora import one_connector_config, registry_of, runtime_on
from vault import OAuth2ClientCredential, OAuth2RefreshCredential

SPECS = Path(__file__).resolve().parents[1] / "fixtures" / "specs" / "xero"
SUBSET = SPECS / "xero-voice-subset.json"
IDENTITY = SPECS / "xero-identity.yaml"

HOST = "https://api.xero.com"
API = f"{HOST}/api.xro/2.0"
CONNECTIONS = f"{HOST}/Connections"
CONTACTS = f"{API}/Contacts"
INVOICES = f"{API}/Invoices"
REPEATING = f"{API}/RepeatingInvoices"
ORGANISATION = f"{API}/Organisation"

TENANT = "acme"
READ = "xero"
WRITE = "xero-rw"
TENANT_ID = "fe79f7dd-b6d4-4a92-ba7b-538af6289c58"  # the organisation of the /Connections example
SETTINGS = {"tenant_id": TENANT_ID}
CALLER_EMAIL = "kat.warren@clampett.com"  # the first contact of the GET /Contacts example
CALLER_PHONE = "+1 626 847 1294"  # that contact's DEFAULT phone, with its country code filled in
CONTACT_ID = "8138a266-fb42-49b2-a104-014b7045753d"  # the GET /Contacts/{ContactID} example
INVOICE_ID = "a03ffcd2-5d91-4c7e-b483-318584e9e439"  # the GET /Invoices/{InvoiceID} example
CONTACT = f"{CONTACTS}/{CONTACT_ID}"
INVOICE = f"{INVOICES}/{INVOICE_ID}"
EMAIL = f"{INVOICE}/Email"


@cache
def subset() -> dict[str, Any]:
    return json.loads(SUBSET.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def identity() -> dict[str, Any]:
    return yaml.safe_load(IDENTITY.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def example(path: str, method: str = "get") -> Any:
    """A fresh copy of the document's 200 example for ``method path``."""
    document = identity() if path == "/Connections" else subset()
    found = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["example"]
    return copy.deepcopy(json.loads(found) if isinstance(found, str) else found)


def contacts_example() -> dict[str, Any]:
    body: dict[str, Any] = example("/Contacts")
    body["Contacts"][0]["Phones"][1]["PhoneCountryCode"] = "1"
    return body


def open_invoices_example() -> dict[str, Any]:
    """The GET /Invoices example as Xero answers ``Statuses=AUTHORISED``: its AUTHORISED invoices."""
    body: dict[str, Any] = example("/Invoices")
    body["Invoices"] = [item for item in body["Invoices"] if item["Status"] == "AUTHORISED"]
    body["pagination"]["itemCount"] = len(body["Invoices"])
    return body


# --- credentials and runtimes ---------------------------------------------------------------------


def client_credential(secret: str) -> OAuth2ClientCredential:
    """A custom connection (client credentials grant): what the kit stores, with ``secret`` planted."""
    return OAuth2ClientCredential(
        type="oauth2_client", client_id="nexora-xero-test", client_secret=SecretStr(secret)
    )


def refresh_credential(refresh: str, secret: str | None = None) -> OAuth2RefreshCredential:
    return OAuth2RefreshCredential(
        type="oauth2_refresh",
        client_id="nexora-xero-test",
        client_secret=SecretStr(secret or make_canary("client-secret")),
        refresh_token=SecretStr(refresh),
    )


def token_answer(access: str | None = None, refresh: str | None = None) -> dict[str, Any]:
    """Xero's token response (identity.xero.com/connect/token): 30-minute access tokens."""
    answer: dict[str, Any] = {
        "access_token": access or make_canary("access"),
        "expires_in": 1800,
        "token_type": "Bearer",
        "scope": "accounting.contacts.read accounting.transactions accounting.settings.read offline_access",
    }
    if refresh is not None:
        answer["refresh_token"] = refresh
    return answer


def config(settings: dict[str, Any] | None = None, phone_region: str = "NZ") -> NexoraConfig:
    return one_connector_config(
        "xero",
        {READ: (), WRITE: ("invoices:write",)},
        settings=SETTINGS if settings is None else settings,
        phone_region=phone_region,
    )


def runtime(
    router: respx.MockRouter,
    creds: CredentialSource,
    *,
    settings: dict[str, Any] | None = None,
    audit: MemoryAuditSink | None = None,
) -> NexoraConnect:
    """The connector registered explicitly (no entry point needed), every request answered by ``router``."""
    return runtime_on(router, config(settings), registry_of(XeroConnector), creds, audit=audit)


@contextmanager
def xero() -> Iterator[respx.MockRouter]:
    """One strict respx Xero: the API's transport and, started, the token client's too."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@contextmanager
def kit_identity() -> Iterator[respx.Route]:
    """The token endpoint for the kit: every client-credentials grant gets a fresh access token."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:

        def grant(request: httpx.Request) -> httpx.Response:
            assert b"grant_type=client_credentials" in request.content
            return httpx.Response(200, json=token_answer())

        yield mock.post(TOKEN_URL).mock(side_effect=grant)


# --- the kit's cases --------------------------------------------------------------------------


def contacts_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = contacts_example()
    body["Contacts"][0]["Name"] = canary
    return router.get(CONTACTS).respond(200, json=body)


def contact_route(router: respx.MockRouter, canary: str) -> respx.Route:
    router.get(ORGANISATION).respond(200, json=example("/Organisation"))
    body = example("/Contacts/{ContactID}")
    body["Contacts"][0]["Name"] = canary
    return router.get(CONTACT).respond(200, json=body)


def invoices_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = open_invoices_example()
    body["Invoices"][0]["InvoiceNumber"] = canary
    return router.get(INVOICES).respond(200, json=body)


def repeating_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = example("/RepeatingInvoices")
    body["RepeatingInvoices"][0]["LineItems"][0]["Description"] = canary
    return router.get(REPEATING).respond(200, json=body)


def email_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = example("/Invoices/{InvoiceID}")
    body["Invoices"][0]["InvoiceNumber"] = canary
    router.get(INVOICE).respond(200, json=body)
    return router.post(EMAIL).respond(204)


KIT_CASES = [
    OperationCase(
        "find_customers", {"email": CALLER_EMAIL}, mock=contacts_route, id="find_customers_by_email"
    ),
    OperationCase(
        "find_customers", {"phone": CALLER_PHONE}, mock=contacts_route, id="find_customers_by_phone"
    ),
    OperationCase("get_balance", {"customer_id": CONTACT_ID}, mock=contact_route),
    OperationCase("list_invoices", {"customer_id": CONTACT_ID}, mock=invoices_route),
    OperationCase("list_subscriptions", {"customer_id": CONTACT_ID}, mock=repeating_route),
    OperationCase("resend_invoice", {"invoice_id": INVOICE_ID}, mock=email_route),
]


def invoice_pages_route(router: respx.MockRouter, next_cursors: Sequence[str | None]) -> respx.Route:
    """Open invoices one per page; page n says more follow while ``next_cursors[n]`` is not None.

    Each invoice's id is derived from the cursor that led to its page, so a vendor repeating a
    cursor serves a page it already served, which the connector must refuse.
    """
    template = open_invoices_example()["Invoices"][0]
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        index, served = served, served + 1
        label = "first" if index == 0 else str(next_cursors[index - 1])
        item = {**template, "InvoiceID": str(uuid.uuid5(uuid.NAMESPACE_URL, label))}
        count = index + 2 if next_cursors[index] is not None else index + 1
        pagination = {"page": index + 1, "pageSize": 1, "pageCount": count, "itemCount": count}
        return httpx.Response(200, json={"pagination": pagination, "Invoices": [item]})

    return router.get(INVOICES).mock(side_effect=page)


KIT_PAGINATION = PaginationCase("list_invoices", {"customer_id": CONTACT_ID}, mock=invoice_pages_route)
