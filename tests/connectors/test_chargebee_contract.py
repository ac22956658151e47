"""Contract tests: every request the Chargebee connector builds, and every fixture it parses, checked
against Chargebee's API v1 document (bundled, MIT; see ``tests/fixtures/specs/chargebee``).

The document's server URL ends in ``/api/v1`` and its paths omit it; the helper matches the
connector's ``/api/v1/...`` paths to them. It declares ``BasicAuth``, which is what the connector
sends (the API key as user name), so requests are checked exactly as sent.

What v1 does not offer is pinned here too, because the connector's design rests on it: the
customer list declares only ``limit`` and ``offset`` (no email or phone filter), and no operation
emails an invoice (so resend_invoice is not implemented).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from connectors.billing.chargebee import ChargebeeConnector
from sdk import NexoraConnect, VendorNotFoundError
from tests.connectors import chargebee_cases
from tests.connectors.chargebee_cases import (
    BASE,
    CALLER_EMAIL,
    CALLER_PHONE,
    CUSTOMER,
    CUSTOMER_ID,
    CUSTOMERS,
    INVOICES,
    SUBSCRIPTIONS,
    credential,
    fixture,
)
from tests.contracts.openapi_contract import (
    ContractRecorder,
    VendorSpec,
    assert_response_valid,
    request_errors,
)

EXPECTED_OPERATIONS = {
    "list_customers",  # find_customers, verify
    "retrieve_a_customer",  # get_balance
    "list_invoices_for_a_customer",  # get_balance, list_invoices
    "list_subscriptions_for_a_customer",  # list_subscriptions
}


@pytest.fixture(scope="module")
def spec() -> VendorSpec:
    return VendorSpec.load("chargebee")


def _runtime(router: respx.MockRouter) -> contextlib.AbstractAsyncContextManager[NexoraConnect]:
    return chargebee_cases.runtime(
        router, credential("test_" + secrets.token_hex(16)), integration="chargebee"
    )


async def _call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant="acme", conversation_id="contract-" + secrets.token_hex(4)) as conv:
        return await conv.call("chargebee", operation, **arguments)


Scenario = Callable[[NexoraConnect, respx.MockRouter], Awaitable[None]]


async def find_by_email(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    await _call(nc, "find_customers", email=CALLER_EMAIL)


async def find_by_phone_over_two_pages(nc: NexoraConnect, router: respx.MockRouter) -> None:
    first = fixture("customers")
    first["next_offset"] = '["1717100000000","230000032"]'
    router.get(CUSTOMERS).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=fixture("customers"))]
    )
    await _call(nc, "find_customers", phone=CALLER_PHONE)


async def balance(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMER).respond(200, json=fixture("customer"))
    router.get(INVOICES).respond(200, json=fixture("invoices"))
    await _call(nc, "get_balance", customer_id=CUSTOMER_ID)


async def invoices(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(INVOICES).respond(200, json=fixture("invoices"))
    await _call(nc, "list_invoices", customer_id=CUSTOMER_ID)


async def subscriptions(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(SUBSCRIPTIONS).respond(200, json=fixture("subscriptions"))
    await _call(nc, "list_subscriptions", customer_id=CUSTOMER_ID)


async def not_found(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMER).respond(404, json=fixture("error_404"))
    router.get(INVOICES).respond(404, json=fixture("error_404"))
    with pytest.raises(VendorNotFoundError):
        await _call(nc, "get_balance", customer_id=CUSTOMER_ID)


async def verify(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    await nc.verify("acme", "chargebee")


SCENARIOS: dict[str, Scenario] = {
    scenario.__name__: scenario
    for scenario in (
        find_by_email,
        find_by_phone_over_two_pages,
        balance,
        invoices,
        subscriptions,
        not_found,
        verify,
    )
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_requests_and_fixtures_match_the_vendor_contract(spec: VendorSpec, name: str) -> None:
    router = respx.MockRouter(base_url=BASE, assert_all_called=True, assert_all_mocked=True)
    async with _runtime(router) as nc:
        await SCENARIOS[name](nc, router)
    assert ContractRecorder(spec).check(router)
    for call in router.calls:
        assert call.request.headers["Authorization"].startswith("Basic ")


async def test_every_operation_the_connector_uses_is_exercised(spec: VendorSpec) -> None:
    recorder = ContractRecorder(spec)
    for scenario in SCENARIOS.values():
        router = respx.MockRouter(base_url=BASE, assert_all_called=True, assert_all_mocked=True)
        async with _runtime(router) as nc:
            await scenario(nc, router)
        recorder.check(router)
    assert set(recorder.exercised) == EXPECTED_OPERATIONS


def test_operation_ids_resolve_to_the_paths_the_connector_uses(spec: VendorSpec) -> None:
    assert {operation_id: spec.operations[operation_id] for operation_id in EXPECTED_OPERATIONS} == {
        "list_customers": ("GET", "/customers"),
        "retrieve_a_customer": ("GET", "/customers/{customer-id}"),
        "list_invoices_for_a_customer": ("GET", "/customers/{customer-id}/invoices"),
        "list_subscriptions_for_a_customer": ("GET", "/customers/{customer-id}/subscriptions"),
    }


def test_v1_customer_list_has_no_email_or_phone_filter(spec: VendorSpec) -> None:
    """Why find_customers scans: a v2-style filter is not declared, and would be ignored by v1."""
    _method, path = spec.operations["list_customers"]
    declared = {
        p["name"] for p in spec.document["paths"][path]["get"]["parameters"] if p.get("in") == "query"
    }
    assert declared == {"limit", "offset"}
    filtered = httpx.Request(
        "GET", f"{CUSTOMERS}?email[is]={CALLER_EMAIL}", headers={"Authorization": "Basic dTo="}
    )
    assert any("email[is]" in line for line in request_errors(spec, filtered))


def test_v1_has_no_operation_that_emails_an_invoice(spec: VendorSpec) -> None:
    """Why resend_invoice is not implemented."""
    invoice_posts = sorted(
        path for method, path in spec.operations.values() if method == "POST" and "invoice" in path
    )
    assert invoice_posts, "the document lists invoice operations"
    assert not [path for path in invoice_posts if "email" in path or "send" in path]
    assert ChargebeeConnector.operations["resend_invoice"].implemented is False


def test_every_fixture_is_a_valid_response(spec: VendorSpec) -> None:
    owners = {
        "customers": ("GET", CUSTOMERS, 200),
        "customer": ("GET", CUSTOMER, 200),
        "invoices": ("GET", INVOICES, 200),
        "subscriptions": ("GET", SUBSCRIPTIONS, 200),
        "error_404": ("GET", CUSTOMER, 404),
        "error_401": ("GET", CUSTOMER, 401),
        "error_429": ("GET", CUSTOMER, 429),
    }
    for name, (method, url, status) in owners.items():
        request = httpx.Request(method, url)
        assert_response_valid(spec, request, httpx.Response(status, json=fixture(name), request=request))
