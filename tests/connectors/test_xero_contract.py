"""Every request the Xero connector sends, and every response it is fed, against Xero's OpenAPI documents.

Documents (``tests/fixtures/specs/xero``, MIT): the voice subset of ``xero_accounting.yaml`` and the
unchanged ``xero-identity.yaml`` (``GET /Connections``). Each scenario drives the connector through
the public API with respx answering the documents' own examples; afterwards every API call (the
token endpoint aside, which the documents do not describe) is validated: path, query, the required
``xero-tenant-id`` header, OAuth bearer security, request body and response body.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
import pytest
import respx
import yaml

from connectors.billing.xero._connector import TOKEN_URL
from sdk import VendorError
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import xero_cases as xc
from tests.contracts.openapi_contract import (
    ContractRecorder,
    VendorSpec,
    assert_response_valid,
    spec_from_document,
    vendor_specs_dir,
)

EXPECTED_OPERATIONS = {
    "getConnections",  # tenant resolution and verify
    "getContacts",  # find_customers
    "getContact",  # get_balance
    "getOrganisations",  # get_balance's base currency, verify
    "getInvoices",  # list_invoices
    "getRepeatingInvoices",  # list_subscriptions
    "emailInvoice",  # resend_invoice
    "getInvoice",  # resend_invoice's answer
}


@cache
def accounting() -> VendorSpec:
    return spec_from_document("xero", xc.SUBSET, xc.subset())


@cache
def identity() -> VendorSpec:
    """The identity document, with one local adjustment (see ``test_xeros_own_connections_example...``).

    ``Connection.createdDateUtc``/``updatedDateUtc`` are declared ``format: date-time`` (RFC 3339,
    which requires an offset), but Xero's own example, like its live API, writes them without one
    (``2019-12-07T18:46:19.5165400``). The format is dropped for those two fields only; the
    connector reads neither.
    """
    document = copy.deepcopy(xc.identity())
    properties = document["components"]["schemas"]["Connection"]["properties"]
    for name in ("createdDateUtc", "updatedDateUtc"):
        del properties[name]["format"]
    return spec_from_document("xero-identity", xc.IDENTITY, document)


def test_xeros_own_connections_example_breaks_its_date_time_format() -> None:
    """Why ``identity()`` is adjusted: the unadjusted document refuses Xero's own example."""
    original = spec_from_document("xero-identity-original", xc.IDENTITY, xc.identity())
    request = httpx.Request("GET", xc.CONNECTIONS, headers={"Authorization": "Bearer t"})
    with pytest.raises(AssertionError, match="createdDateUtc"):
        assert_response_valid(original, request, httpx.Response(200, json=xc.example("/Connections")))


Mount = Callable[[respx.MockRouter], object]
Call = Callable[[Any], Any]


def _connections(router: respx.MockRouter) -> None:
    router.get(xc.CONNECTIONS).respond(200, json=xc.example("/Connections"))


def _op(operation: str, integration: str = xc.READ, **arguments: Any) -> Call:
    async def call(nc: Any) -> Any:
        async with nc.conversation(tenant=xc.TENANT, conversation_id="contract-call") as conv:
            return await conv.call(integration, operation, **arguments)

    return call


def _kit(case: int) -> Mount:
    return lambda router: xc.KIT_CASES[case].mock(router, "Contract Canary")


SCENARIOS: dict[str, tuple[Mount, Call, type[Exception] | None]] = {
    "find_customers-email": (_kit(0), _op("find_customers", email=xc.CALLER_EMAIL), None),
    "find_customers-phone": (_kit(1), _op("find_customers", phone=xc.CALLER_PHONE), None),
    "find_customers-both": (_kit(0), _op("find_customers", phone="021 555 0100", email="o'b@x.test"), None),
    "get_balance": (_kit(2), _op("get_balance", customer_id=xc.CONTACT_ID), None),
    "list_invoices": (_kit(3), _op("list_invoices", customer_id=xc.CONTACT_ID, limit=5), None),
    "list_subscriptions": (_kit(4), _op("list_subscriptions", customer_id=xc.CONTACT_ID), None),
    "resend_invoice": (_kit(5), _op("resend_invoice", integration=xc.WRITE, invoice_id=xc.INVOICE_ID), None),
    "resend_invoice-400": (
        lambda router: router.post(xc.EMAIL).respond(
            400, json={"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception"}
        ),
        _op("resend_invoice", integration=xc.WRITE, invoice_id=xc.INVOICE_ID),
        VendorError,
    ),
    "verify": (
        lambda router: router.get(xc.ORGANISATION).respond(200, json=xc.example("/Organisation")),
        lambda nc: nc.verify(xc.TENANT, xc.READ),
        None,
    ),
}


async def _exercise(name: str, recorder: ContractRecorder) -> list[str]:
    mount, call, expect = SCENARIOS[name]
    with xc.xero() as router:
        router.post(TOKEN_URL).respond(200, json=xc.token_answer())
        _connections(router)
        mount(router)
        credentials = MemoryCredentialSource()
        for integration in (xc.READ, xc.WRITE):
            credentials.put(xc.TENANT, integration, xc.client_credential(make_canary("secret")))
        async with xc.runtime(router, credentials, settings={}) as nc:
            if expect is None:
                await call(nc)
            else:
                with pytest.raises(expect):
                    await call(nc)
        api_calls = [c for c in router.calls if c.request.url.host == "api.xero.com"]
        assert api_calls, f"{name} sent nothing to the API"
        for api_call in api_calls:
            assert api_call.request.headers["authorization"].startswith("Bearer ")
        return recorder.check(api_calls)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario_traffic_matches_xero_documents(name: str) -> None:
    operations = await _exercise(name, ContractRecorder(accounting(), identity()))
    assert operations[0] == "getConnections"  # no tenant_id setting: resolved first


async def test_every_operation_the_connector_uses_is_exercised_and_valid() -> None:
    recorder = ContractRecorder(accounting(), identity())
    for name in SCENARIOS:
        await _exercise(name, recorder)
    assert set(recorder.exercised) == EXPECTED_OPERATIONS


async def test_a_request_without_the_tenant_header_breaks_the_contract() -> None:
    """The validation is strict enough to notice the header the connector must never forget."""
    request = httpx.Request("GET", f"{xc.CONTACTS}?page=1", headers={"Authorization": "Bearer t"})
    response = httpx.Response(200, json=xc.contacts_example(), request=request)
    recorder = ContractRecorder(accounting())
    with pytest.raises(AssertionError, match="xero-tenant-id"):
        recorder.check([respx.models.Call(request=request, optional_response=response)])


FIXTURES: dict[str, tuple[str, Callable[[], Any]]] = {
    "contacts": (f"{xc.CONTACTS}?page=1", xc.contacts_example),
    "contact": (xc.CONTACT, lambda: xc.example("/Contacts/{ContactID}")),
    "open_invoices": (f"{xc.INVOICES}?Statuses=AUTHORISED", xc.open_invoices_example),
    "invoice": (xc.INVOICE, lambda: xc.example("/Invoices/{InvoiceID}")),
    "repeating": (xc.REPEATING, lambda: xc.example("/RepeatingInvoices")),
    "organisation": (xc.ORGANISATION, lambda: xc.example("/Organisation")),
}


@pytest.mark.parametrize("name", list(FIXTURES))
def test_each_fixture_is_a_valid_xero_response(name: str) -> None:
    url, build = FIXTURES[name]
    headers = {"Authorization": "Bearer t", "xero-tenant-id": xc.TENANT_ID}
    request = httpx.Request("GET", url, headers=headers)
    assert_response_valid(accounting(), request, httpx.Response(200, json=build()))


def test_the_connections_fixture_is_a_valid_identity_response() -> None:
    request = httpx.Request("GET", xc.CONNECTIONS, headers={"Authorization": "Bearer t"})
    assert_response_valid(identity(), request, httpx.Response(200, json=xc.example("/Connections")))


def test_the_bundled_subset_keeps_the_original_operations_unchanged() -> None:
    original = vendor_specs_dir() / "xero" / "xero_accounting.yaml"
    if not original.is_file():
        pytest.skip(f"{original} not found (set $NEXORA_VENDOR_SPECS)")
    # YAML dates become ISO 8601 strings, as the subset (JSON) holds them.
    loaded = yaml.load(original.read_bytes(), Loader=yaml.CSafeLoader)
    full = json.loads(json.dumps(loaded, default=lambda value: value.isoformat()))
    kept = xc.subset()
    for path, item in kept["paths"].items():
        for key, value in item.items():
            assert value == full["paths"][path][key], f"{path} {key} differs from the original"
    for kind, components in kept["components"].items():
        for name, value in components.items():
            assert value == full["components"][kind][name], f"{kind}/{name} differs"
