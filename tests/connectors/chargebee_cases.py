"""Chargebee connector cases for the connector test kit, and the data the Chargebee tests share.

Fixtures under ``fixtures/chargebee/`` are shaped like the responses in Chargebee's API v1
document (validated by ``test_chargebee_contract.py``); every value is synthetic.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from connectors.billing.chargebee import ChargebeeConnector
from sdk import NexoraConnect
from sdk.testing import OperationCase, PaginationCase, mock_runtime
from tests.connectors.payloads import VendorPayloads
from vault import ApiKeyCredential, Credential

SITE = "acme-test"
BASE = f"https://{SITE}.chargebee.com"
SETTINGS = {"site": SITE, "currency": "nzd"}
CALLER_EMAIL = "aroha@example.test"
CALLER_PHONE = "021 555 0100"  # NZ national format; +64215550100 in E.164
CUSTOMER_ID = "cb_aroha"

CUSTOMERS = f"{BASE}/api/v1/customers"
CUSTOMER = f"{CUSTOMERS}/{CUSTOMER_ID}"
INVOICES = f"{CUSTOMER}/invoices"
SUBSCRIPTIONS = f"{CUSTOMER}/subscriptions"

fixture = VendorPayloads("chargebee")
"""A fresh copy of ``fixtures/chargebee/<name>.json`` (tests may change it)."""


def credential(secret: str) -> ApiKeyCredential:
    """What a tenant stores in Vault: the site's API key (sent as the Basic user name)."""
    return ApiKeyCredential(type="api_key", api_key=SecretStr(secret))


def runtime(
    router: respx.MockRouter,
    vault_credential: Credential,
    settings: Mapping[str, Any] = SETTINGS,
    *,
    integration: str = "billing",
) -> AbstractAsyncContextManager[NexoraConnect]:
    """Tenant ``acme`` with one read-only integration (``billing`` unless named)."""
    return mock_runtime(
        ChargebeeConnector, router, vault_credential, settings=settings, integration=integration
    )


# --- routes, each answering a fixture with the canary planted in a personal field ------------------


def customers_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("customers")
    body["list"][1]["customer"]["last_name"] = canary
    return router.get(CUSTOMERS).respond(200, json=body)


def customer_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("customer")
    body["customer"]["last_name"] = canary
    return router.get(CUSTOMER).respond(200, json=body)


def invoices_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("invoices")
    body["list"][0]["invoice"]["po_number"] = canary
    return router.get(INVOICES).respond(200, json=body)


def subscriptions_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("subscriptions")
    body["list"][0]["subscription"]["po_number"] = canary
    return router.get(SUBSCRIPTIONS).respond(200, json=body)


def _balance(router: respx.MockRouter, canary: str) -> respx.Route:
    invoices_route(router, canary)
    return customer_route(router, canary)


CASES = [
    OperationCase(
        "find_customers", {"email": CALLER_EMAIL}, mock=customers_route, id="find_customers_by_email"
    ),
    OperationCase(
        "find_customers", {"phone": CALLER_PHONE}, mock=customers_route, id="find_customers_by_phone"
    ),
    OperationCase("get_balance", {"customer_id": CUSTOMER_ID}, mock=_balance),
    OperationCase("list_invoices", {"customer_id": CUSTOMER_ID}, mock=invoices_route),
    OperationCase("list_subscriptions", {"customer_id": CUSTOMER_ID}, mock=subscriptions_route),
]


def customer_pages_route(router: respx.MockRouter, next_offsets: Sequence[str | None]) -> respx.Route:
    """The customer list whose n-th page holds one (non-matching) customer and ``next_offsets[n]``."""
    template = fixture("customers")["list"][0]
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        index, served = served, served + 1
        entry = copy.deepcopy(template)
        entry["customer"]["id"] = f"cb_page_{index}"
        body: dict[str, Any] = {"list": [entry]}
        if next_offsets[index] is not None:
            body["next_offset"] = next_offsets[index]
        return httpx.Response(200, json=body)

    return router.get(CUSTOMERS).mock(side_effect=page)


PAGINATION = PaginationCase("find_customers", {"email": CALLER_EMAIL}, mock=customer_pages_route)
