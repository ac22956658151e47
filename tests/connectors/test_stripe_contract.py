"""Every request the Stripe connector builds, and every fixture it parses, against Stripe's OpenAPI.

Documents (see ``tests/contracts/openapi_contract.py``):

* ``stripe``: the bundled voice-agent subset (MIT). It has 8 of the 9 paths the connector uses.
* ``stripe-full``: Stripe's ``spec3.yaml`` (API 2023-08-16) from the shared folder, for the one path
  outside the subset, ``POST /v1/invoices/{invoice}/send`` (``PostInvoicesInvoiceSend``). It is
  read once per session through the helper (about 2-3 s); from it only that operation and the
  schemas it references are kept, so validating against it costs what the subset costs. Without the
  shared folder the send checks are skipped, the others still run.

Stripe's loose ``nullable`` (beside ``anyOf``, or an ``enum`` without null) is made strict by the
helper when it loads either Stripe document (``_strict_nullable``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
import pytest
import respx

from sdk import VendorError
from tests.connectors import stripe_cases as sc
from tests.contracts.openapi_contract import (
    ContractRecorder,
    VendorSpec,
    assert_request_valid,
    assert_response_valid,
    find_operation,
    only_path,
    spec_from_document,
)
from tests.sdk.fakes import make_secret

SEND_PATH = "/v1/invoices/{invoice}/send"
EXPECTED_OPERATIONS = {
    "GetCustomersSearch",  # find_customers
    "GetCustomersCustomer",  # get_balance
    "GetInvoices",  # list_invoices
    "GetSubscriptions",  # list_subscriptions
    "PostInvoicesInvoiceSend",  # resend_invoice (full spec only)
    "GetCustomers",  # verify
}


# --- specs -------------------------------------------------------------------------------------


@cache
def _subset() -> VendorSpec:
    return VendorSpec.load("stripe")


@cache
def _send_only() -> VendorSpec:
    spec = VendorSpec.load("stripe-full")
    return spec_from_document(spec.name, spec.path, only_path(spec.document, SEND_PATH))


@pytest.fixture(scope="module")
def subset() -> VendorSpec:
    return _subset()


@pytest.fixture(scope="module")
def send_spec() -> VendorSpec:
    return _send_only()


# --- scenarios: drive the connector, then check what crossed the wire -------------------------


Scenario = Callable[[Any], Any]


async def _run(
    mount: Callable[[respx.MockRouter], object], call: Scenario, *, expect: type[Exception] | None = None
) -> respx.MockRouter:
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    mount(router)
    async with sc.runtime(router, sc.credentials(make_secret())) as nc:
        if expect is None:
            await call(nc)
        else:
            with pytest.raises(expect):
                await call(nc)
    return router


def _op(operation: str, integration: str = sc.READ, **arguments: Any) -> Scenario:
    async def call(nc: Any) -> Any:
        async with nc.conversation(tenant=sc.TENANT, conversation_id="contract-call") as conv:
            return await conv.call(integration, operation, **arguments)

    return call


def _kit_mount(index: int) -> Callable[[respx.MockRouter], object]:
    case = sc.CASES[index]
    return lambda router: case.mock(router, "Contract Canary")


def _error(route_factory: Callable[[respx.MockRouter], respx.Route], status: int, name: str) -> Any:
    def mount(router: respx.MockRouter) -> None:
        route_factory(router).respond(status, json=sc.fixture(name), headers={"Request-Id": "req_T3st0001"})

    return mount


SCENARIOS: dict[str, tuple[Callable[[respx.MockRouter], object], Scenario, type[Exception] | None]] = {
    "find_customers-email": (_kit_mount(0), _op("find_customers", email=sc.EMAIL), None),
    "find_customers-phone-and-email-two-pages": (
        lambda r: r.get(f"{sc.BASE}/v1/customers/search").mock(
            side_effect=[
                httpx.Response(200, json=sc.fixture("customers_search_page1")),
                httpx.Response(200, json=sc.fixture("customers_search_page2")),
            ]
        ),
        _op("find_customers", phone="021 555 0100", email="o'brien\\x@example.test"),
        None,
    ),
    "get_balance": (_kit_mount(1), _op("get_balance", customer_id=sc.CUSTOMER_ID), None),
    "get_balance-never-billed": (
        lambda r: r.get(f"{sc.BASE}/v1/customers/cus_T3stAroha0002").respond(
            200, json=sc.fixture("customer_never_billed")
        ),
        _op("get_balance", customer_id="cus_T3stAroha0002"),
        None,
    ),
    "get_balance-deleted": (
        lambda r: r.get(f"{sc.BASE}/v1/customers/cus_T3stGone00001").respond(
            200, json=sc.fixture("customer_deleted")
        ),
        _op("get_balance", customer_id="cus_T3stGone00001"),
        VendorError,
    ),
    "get_balance-404": (
        _error(lambda r: r.get(f"{sc.BASE}/v1/customers/cus_T3stNope00001"), 404, "error_404"),
        _op("get_balance", customer_id="cus_T3stNope00001"),
        VendorError,
    ),
    "list_invoices": (_kit_mount(2), _op("list_invoices", customer_id=sc.CUSTOMER_ID, limit=5), None),
    "list_invoices-next-page": (
        lambda r: r.get(f"{sc.BASE}/v1/invoices").mock(
            side_effect=[
                httpx.Response(200, json=sc.list_page("/v1/invoices", sc.fixture("invoices_open")["data"])),
                httpx.Response(
                    200,
                    json=sc.list_page("/v1/invoices", sc.fixture("invoices_all")["data"][:2], has_more=True),
                ),
                httpx.Response(
                    200, json=sc.list_page("/v1/invoices", sc.fixture("invoices_all")["data"][2:3])
                ),
            ]
        ),
        _op("list_invoices", customer_id=sc.CUSTOMER_ID, limit=3),
        None,
    ),
    "list_subscriptions": (_kit_mount(3), _op("list_subscriptions", customer_id=sc.CUSTOMER_ID), None),
    "list_subscriptions-429": (
        _error(lambda r: r.get(f"{sc.BASE}/v1/subscriptions"), 429, "error_429"),
        _op("list_subscriptions", customer_id=sc.CUSTOMER_ID),
        VendorError,
    ),
    "resend_invoice": (
        _kit_mount(4),
        _op("resend_invoice", integration=sc.WRITE, invoice_id=sc.INVOICE_ID),
        None,
    ),
    "resend_invoice-503-then-200": (
        lambda r: r.post(f"{sc.BASE}/v1/invoices/{sc.INVOICE_ID}/send").mock(
            side_effect=[
                httpx.Response(503, json=sc.fixture("error_500")),
                httpx.Response(200, json=sc.fixture("invoice_sent")),
            ]
        ),
        _op("resend_invoice", integration=sc.WRITE, invoice_id=sc.INVOICE_ID),
        None,
    ),
    "resend_invoice-400": (
        _error(lambda r: r.post(f"{sc.BASE}/v1/invoices/{sc.INVOICE_ID}/send"), 400, "error_400_send"),
        _op("resend_invoice", integration=sc.WRITE, invoice_id=sc.INVOICE_ID),
        VendorError,
    ),
    "verify": (
        lambda r: r.get(f"{sc.BASE}/v1/customers").respond(200, json=sc.fixture("customers_list")),
        lambda nc: nc.verify(sc.TENANT, sc.READ),
        None,
    ),
    "verify-401": (
        _error(lambda r: r.get(f"{sc.BASE}/v1/customers"), 401, "error_401"),
        lambda nc: nc.verify(sc.TENANT, sc.READ),
        VendorError,
    ),
}


def _needs_send(name: str) -> bool:
    return name.startswith("resend_invoice")


async def _exercise(name: str, recorder: ContractRecorder) -> list[str]:
    mount, call, expect = SCENARIOS[name]
    router = await _run(mount, call, expect=expect)
    assert router.calls, f"{name} sent no request"
    return recorder.check(router)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario_traffic_matches_stripe_spec(name: str) -> None:
    specs = [_subset()] + ([_send_only()] if _needs_send(name) else [])
    operation_ids = await _exercise(name, ContractRecorder(*specs))
    assert operation_ids


async def test_every_operation_the_connector_uses_is_exercised_and_valid() -> None:
    recorder = ContractRecorder(_subset(), _send_only())
    for name in SCENARIOS:
        await _exercise(name, recorder)
    assert set(recorder.exercised) == EXPECTED_OPERATIONS


# --- fixtures on their own ---------------------------------------------------------------------

FIXTURE_OPERATIONS: dict[str, tuple[str, str, int]] = {
    "customers_search_page1": ("GET", "/v1/customers/search?query=email%3A%27a%40b.test%27", 200),
    "customers_search_page2": ("GET", "/v1/customers/search?query=email%3A%27a%40b.test%27", 200),
    "customer": ("GET", "/v1/customers/cus_T3stAroha0001", 200),
    "customer_never_billed": ("GET", "/v1/customers/cus_T3stAroha0002", 200),
    "customer_deleted": ("GET", "/v1/customers/cus_T3stGone00001", 200),
    "customers_list": ("GET", "/v1/customers?limit=1", 200),
    "invoices_open": ("GET", "/v1/invoices?customer=cus_T3stAroha0001&status=open", 200),
    "invoices_all": ("GET", "/v1/invoices?customer=cus_T3stAroha0001", 200),
    "subscriptions": ("GET", "/v1/subscriptions?customer=cus_T3stAroha0001&status=all", 200),
    "error_401": ("GET", "/v1/customers/cus_T3stAroha0001", 401),
    "error_403": ("GET", "/v1/customers/cus_T3stAroha0001", 403),
    "error_404": ("GET", "/v1/customers/cus_T3stNope00001", 404),
    "error_409": ("GET", "/v1/invoices?customer=cus_T3stAroha0001", 409),
    "error_429": ("GET", "/v1/subscriptions?customer=cus_T3stAroha0001", 429),
    "error_500": ("GET", "/v1/customers?limit=1", 500),
}
SEND_FIXTURES: dict[str, int] = {"invoice_sent": 200, "error_400_send": 400}


def test_every_fixture_file_is_checked() -> None:
    names = {path.stem for path in sc.FIXTURES.glob("*.json")}
    assert names == set(FIXTURE_OPERATIONS) | set(SEND_FIXTURES)


@pytest.mark.parametrize("name", list(FIXTURE_OPERATIONS))
def test_fixture_is_a_valid_stripe_response(name: str, subset: VendorSpec) -> None:
    method, path, status = FIXTURE_OPERATIONS[name]
    request = httpx.Request(method, sc.BASE + path, headers={"Authorization": "Bearer " + make_secret()})
    assert_request_valid(subset, request)
    assert_response_valid(subset, request, httpx.Response(status, json=sc.fixture(name)))


@pytest.mark.parametrize("name", list(SEND_FIXTURES))
def test_send_fixture_is_a_valid_stripe_response(name: str, send_spec: VendorSpec) -> None:
    request = httpx.Request(
        "POST", f"{sc.BASE}/v1/invoices/{sc.INVOICE_ID}/send", headers={"Authorization": "Bearer t"}
    )
    assert find_operation(send_spec, "POST", str(request.url)) == "PostInvoicesInvoiceSend"
    assert_response_valid(send_spec, request, httpx.Response(SEND_FIXTURES[name], json=sc.fixture(name)))


# --- the local adjustment is narrow ------------------------------------------------------------


def test_nullable_adjustment_still_rejects_wrong_values(subset: VendorSpec) -> None:
    """Null is admitted where Stripe marks a field nullable, and nothing else is loosened."""
    request = httpx.Request("GET", f"{sc.BASE}/v1/customers/cus_1", headers={"Authorization": "Bearer t"})
    customer = sc.fixture("customer")
    assert_response_valid(subset, request, httpx.Response(200, json=customer))
    for field, bad in {"address": "somewhere", "balance": None, "tax_exempt": "sometimes"}.items():
        with pytest.raises(AssertionError, match=re.escape(field)):
            assert_response_valid(subset, request, httpx.Response(200, json=customer | {field: bad}))
