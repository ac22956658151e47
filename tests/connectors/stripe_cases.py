"""Stripe test material: fixtures, a runtime wired to a respx Stripe, and the test-kit cases.

The JSON under ``fixtures/stripe/`` is written for these tests in the shapes of Stripe's API
reference for API version 2023-08-16 (``customer``, ``search_result``, ``list``, ``invoice``,
``subscription`` and the ``error`` object), with synthetic ids and people. Stripe's OpenAPI
document has no examples to copy; ``test_stripe_contract.py`` validates every fixture against it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from connectors.billing.stripe import StripeConnector
from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.testing import MemoryCredentialSource, OperationCase, PaginationCase
from tests.connectors.payloads import VendorPayloads
from tests.mock_nexora import one_connector_config, registry_of, runtime_on, stored
from vault import ApiKeyCredential

BASE = "https://api.stripe.com"
fixture = VendorPayloads("stripe")
"""A fresh copy of ``fixtures/stripe/<name>.json`` (tests may change it)."""
FIXTURES = fixture.directory
TENANT = "acme"
READ = "stripe"
"""Integration with a read-only grant."""
WRITE = "stripe-rw"
"""Integration granted invoices:write."""

CUSTOMER_ID = "cus_T3stAroha0001"
INVOICE_ID = "in_T3stOpen000002"
EMAIL = "aroha@example.test"


def credential(secret: str) -> ApiKeyCredential:
    """A Stripe key as the vault holds it: ``{"type": "api_key", "api_key": ...}``."""
    return ApiKeyCredential(type="api_key", api_key=SecretStr(secret))


def search_page(customers: Sequence[dict[str, Any]], next_page: str | None) -> dict[str, Any]:
    return {
        "object": "search_result",
        "url": "/v1/customers/search",
        "has_more": next_page is not None,
        "data": list(customers),
        "next_page": next_page,
    }


def list_page(url: str, items: Sequence[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "url": url, "has_more": has_more, "data": list(items)}


# --- runtime -----------------------------------------------------------------------------------


def config(phone_region: str = "NZ", settings: dict[str, Any] | None = None) -> NexoraConfig:
    return one_connector_config(
        "stripe", {READ: (), WRITE: ("invoices:write",)}, settings=settings, phone_region=phone_region
    )


def credentials(secret: str) -> MemoryCredentialSource:
    return stored(credential(secret), READ, WRITE, tenant=TENANT)


@asynccontextmanager
async def runtime(
    router: respx.MockRouter,
    source: MemoryCredentialSource,
    *,
    audit: MemoryAuditSink | None = None,
    phone_region: str = "NZ",
    settings: dict[str, Any] | None = None,
) -> AsyncIterator[NexoraConnect]:
    registry = registry_of(StripeConnector)
    async with runtime_on(
        router, config(phone_region, settings), registry, source, audit=audit or MemoryAuditSink()
    ) as nc:
        yield nc


# --- test-kit cases ----------------------------------------------------------------------------


def _mock_find_customers(router: respx.MockRouter, canary: str) -> respx.Route:
    page = fixture("customers_search_page2")
    page["data"][0]["name"] = canary
    return router.get(f"{BASE}/v1/customers/search").respond(200, json=page)


def _mock_get_balance(router: respx.MockRouter, canary: str) -> respx.Route:
    customer = fixture("customer") | {"name": canary}
    return router.get(f"{BASE}/v1/customers/{CUSTOMER_ID}").respond(200, json=customer)


def _mock_list_invoices(router: respx.MockRouter, canary: str) -> respx.Route:
    open_page = fixture("invoices_open")
    all_page = fixture("invoices_all")
    for invoice in open_page["data"] + all_page["data"]:
        invoice["customer_name"] = canary
    # The open-invoices list is more specific, so it is mounted first; the primary route is the
    # list of all statuses, whose answers the kit replaces.
    router.get(f"{BASE}/v1/invoices", params__contains={"status": "open"}).respond(200, json=open_page)
    return router.get(f"{BASE}/v1/invoices").respond(200, json=all_page)


def _mock_list_subscriptions(router: respx.MockRouter, canary: str) -> respx.Route:
    page = fixture("subscriptions")
    for subscription in page["data"]:
        subscription["description"] = canary
    return router.get(f"{BASE}/v1/subscriptions").respond(200, json=page)


def _mock_resend_invoice(router: respx.MockRouter, canary: str) -> respx.Route:
    invoice = fixture("invoice_sent") | {"customer_name": canary}
    return router.post(f"{BASE}/v1/invoices/{INVOICE_ID}/send").respond(200, json=invoice)


CASES = [
    OperationCase("find_customers", {"email": EMAIL}, mock=_mock_find_customers),
    OperationCase("get_balance", {"customer_id": CUSTOMER_ID}, mock=_mock_get_balance),
    OperationCase("list_invoices", {"customer_id": CUSTOMER_ID, "limit": 5}, mock=_mock_list_invoices),
    OperationCase("list_subscriptions", {"customer_id": CUSTOMER_ID}, mock=_mock_list_subscriptions),
    OperationCase("resend_invoice", {"invoice_id": INVOICE_ID}, mock=_mock_resend_invoice),
]


def _mock_search_pages(router: respx.MockRouter, next_cursors: Sequence[str | None]) -> respx.Route:
    template = fixture("customers_search_page2")["data"][0]
    served = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal served
        customer = template | {"id": f"cus_T3stPage{served:06d}"}
        body = search_page([customer], next_cursors[served])
        served += 1
        return httpx.Response(200, json=body)

    return router.get(f"{BASE}/v1/customers/search").mock(side_effect=answer)


PAGINATION = PaginationCase("find_customers", {"phone": "021 555 0100"}, mock=_mock_search_pages)
