"""Stripe test material: fixtures, a runtime wired to a respx Stripe, and the test-kit cases.

The JSON under ``fixtures/stripe/`` is written for these tests in the shapes of Stripe's API
reference for API version 2023-08-16 (``customer``, ``search_result``, ``list``, ``invoice``,
``subscription`` and the ``error`` object), with synthetic ids and people. Stripe's OpenAPI
document has no examples to copy; ``test_stripe_contract.py`` validates every fixture against it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from connectors.billing.stripe import StripeConnector
from sdk import ConnectorRegistry, MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.testing import MemoryCredentialSource, OperationCase, PaginationCase
from vault import ApiKeyCredential

BASE = "https://api.stripe.com"
FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
TENANT = "acme"
READ = "stripe"
"""Integration with a read-only grant."""
WRITE = "stripe-rw"
"""Integration granted invoices:write."""

CUSTOMER_ID = "cus_T3stAroha0001"
INVOICE_ID = "in_T3stOpen000002"
EMAIL = "aroha@example.test"


@cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def fixture(name: str) -> Any:
    """A fresh copy of a payload under ``fixtures/stripe`` (tests may change it)."""
    return copy.deepcopy(json.loads(_fixture_text(name)))


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
    integration = {"connector": "stripe", "settings": settings or {}}
    return NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                TENANT: {
                    "phone_region": phone_region,
                    "integrations": {
                        READ: integration,
                        WRITE: {**integration, "grant": "scoped-write", "write_scopes": ["invoices:write"]},
                    },
                }
            },
        }
    )


def credentials(secret: str) -> MemoryCredentialSource:
    source = MemoryCredentialSource()
    for integration in (READ, WRITE):
        source.put(TENANT, integration, credential(secret))
    return source


@asynccontextmanager
async def runtime(
    router: respx.MockRouter,
    source: MemoryCredentialSource,
    *,
    audit: MemoryAuditSink | None = None,
    phone_region: str = "NZ",
    settings: dict[str, Any] | None = None,
) -> AsyncIterator[NexoraConnect]:
    registry = ConnectorRegistry(discover=False)
    registry.register(StripeConnector)
    async with NexoraConnect(
        config(phone_region, settings),
        transport=httpx.MockTransport(router.async_handler),
        audit_sink=audit or MemoryAuditSink(),
        registry=registry,
        credential_store=source,
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
