"""Tolerant reading (issue 12): one malformed record never fails a list or a search.

Each test starts from a payload shaped like the vendor's documented answer (the fixtures under
``tests/connectors/fixtures``, and Prism's generated ``"currency": "string"`` from Stripe's
document, which has no examples), breaks one record, and checks the promise end to end through a
conversation: the good records arrive, the bad one is skipped and counted, the audit record names
the field path and never the value (a canary planted in the bad record), and a single-record read
that cannot be parsed raises a VendorPayloadError naming integration, operation, method, path and
field path.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.billing.chargebee import ChargebeeConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import MemoryAuditSink, Money, NexoraConnect, VendorPayloadError
from sdk.parsing import parse_each
from tests.connectors import chargebee_cases as cb
from tests.connectors import stripe_cases as sc
from tests.connectors import zendesk_cases as zc
from tests.mock_nexora import one_connector_config, registry_of, runtime_on, stored, vendor_router
from tests.sdk.fakes import make_secret

SEARCH = f"{sc.BASE}/v1/customers/search"
CUSTOMER = f"{sc.BASE}/v1/customers/{sc.CUSTOMER_ID}"
INVOICES = f"{sc.BASE}/v1/invoices"
SUBSCRIPTIONS = f"{sc.BASE}/v1/subscriptions"


def canary() -> str:
    return "Canary" + secrets.token_hex(6)


@pytest.fixture
def router() -> respx.MockRouter:
    return vendor_router(sc.BASE)


@pytest.fixture
async def nc(router: respx.MockRouter, audit: MemoryAuditSink) -> AsyncIterator[NexoraConnect]:
    async with sc.runtime(router, sc.credentials(make_secret()), audit=audit) as runtime:
        yield runtime


async def call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant=sc.TENANT, conversation_id="call-" + secrets.token_hex(4)) as conv:
        return await conv.call(sc.READ, operation, **arguments)


def last(audit: MemoryAuditSink, operation: str) -> Any:
    return [record for record in audit.records if record.operation == operation][-1]


# --- the shared model takes what vendors send ------------------------------------------------------


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3))
def test_money_takes_any_three_letters_in_any_case_and_holds_them_upper_case(code: str) -> None:
    assert Money(amount_minor=1, currency=code).currency == code.upper()


@pytest.mark.parametrize("code", ["string", "", "NZ", "NZDD", "N2D", "€€€", "nz ", "\u0131sk"])
def test_money_refuses_what_cannot_be_a_currency_code(code: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount_minor=1, currency=code)


# --- Stripe: a search keeps its good customers -----------------------------------------------------


async def test_a_customer_without_an_id_is_skipped_counted_and_named_by_field(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    planted = canary()
    good = sc.fixture("customers_search_page2")["data"][0]
    broken = sc.fixture("customer") | {"name": planted}
    del broken["id"]
    router.get(SEARCH).respond(200, json=sc.search_page([broken, good], None))
    found = await call(nc, "find_customers", email=sc.EMAIL)
    assert [customer.id for customer in found] == [good["id"]]
    record = last(audit, "find_customers")
    assert (record.outcome, record.records_skipped, record.skipped_fields) == ("ok", 1, ("customer.id",))
    assert planted not in record.model_dump_json()


async def test_prisms_currency_string_keeps_the_customer_without_a_balance(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    """Stripe's document has no examples: Prism answers ``"currency": "string"``."""
    odd = sc.fixture("customer") | {"currency": "string", "balance": 1250}
    router.get(SEARCH).respond(200, json=sc.search_page([odd], None))
    (customer,) = await call(nc, "find_customers", email=sc.EMAIL)
    assert customer.id == odd["id"]
    assert customer.balance is None
    record = last(audit, "find_customers")
    assert (record.records_skipped, record.skipped_fields) == (0, ("customer.currency",))


async def test_a_page_nothing_of_which_can_be_read_is_an_error_not_nobody(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    broken = [{"object": "customer", "id": None}, "not an object", {"object": "customer"}]
    router.get(SEARCH).respond(200, json=sc.search_page(broken, None))
    with pytest.raises(VendorPayloadError, match=r"customer\.id"):
        await call(nc, "find_customers", email=sc.EMAIL)


async def test_a_list_keeps_its_good_invoices_and_a_cached_repeat_reports_the_skip(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    planted = canary()
    everything = sc.fixture("invoices_all")
    everything["data"][1] = everything["data"][1] | {"id": None, "number": planted}
    router.get(INVOICES, params={"status": "open"}).respond(200, json=sc.list_page("/v1/invoices", []))
    router.get(INVOICES).respond(200, json=everything)
    async with nc.conversation(tenant=sc.TENANT, conversation_id="call-cache") as conv:
        first = await conv.call(sc.READ, "list_invoices", customer_id=sc.CUSTOMER_ID)
        again = await conv.call(sc.READ, "list_invoices", customer_id=sc.CUSTOMER_ID)
    assert len(first) == len(everything["data"]) - 1
    assert again == first
    live, cached = [r for r in audit.records if r.operation == "list_invoices"]
    assert (live.outcome, cached.outcome) == ("ok", "cached")
    for record in (live, cached):
        assert (record.records_skipped, record.skipped_fields) == (1, ("invoice.id",))
        assert planted not in record.model_dump_json()


async def test_an_invoice_in_no_currency_is_kept_without_its_amounts(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    everything = sc.fixture("invoices_all")
    everything["data"][0]["currency"] = "string"
    router.get(INVOICES, params={"status": "open"}).respond(200, json=sc.list_page("/v1/invoices", []))
    router.get(INVOICES).respond(200, json=everything)
    invoices = await call(nc, "list_invoices", customer_id=sc.CUSTOMER_ID)
    odd = next(invoice for invoice in invoices if invoice.id == everything["data"][0]["id"])
    assert (odd.amount_due, odd.total) == (None, None)
    assert all(invoice.total is not None for invoice in invoices if invoice is not odd)
    assert last(audit, "list_invoices").skipped_fields == ("invoice.currency",)


# --- Stripe: a single record that cannot be read fails, naming where -----------------------------


async def test_owed_money_in_no_currency_is_a_payload_error_naming_everything_but_the_value(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    planted = canary()
    router.get(CUSTOMER).respond(200, json=sc.fixture("customer") | {"currency": planted[:6]})
    with pytest.raises(VendorPayloadError) as caught:
        await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID)
    message = str(caught.value)
    for named in ("stripe", repr(sc.READ), "get_balance", "GET /v1/customers/{customer_id}", "currency"):
        assert named in message
    assert (caught.value.method, caught.value.path) == ("GET", "/v1/customers/{customer_id}")
    assert planted[:6] not in message
    assert sc.CUSTOMER_ID not in message


async def test_a_zero_balance_in_no_currency_is_zero_in_the_default_currency(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    router.get(CUSTOMER).respond(200, json=sc.fixture("customer") | {"currency": "string", "balance": 0})
    assert await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID) == Money(amount_minor=0, currency="NZD")
    assert last(audit, "get_balance").skipped_fields == ("customer.currency",)


async def test_a_single_record_without_its_id_names_the_field(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    sent = sc.fixture("invoice_sent")
    del sent["id"]
    router.post(f"{sc.BASE}/v1/invoices/{sc.INVOICE_ID}/send").respond(200, json=sent)
    async with (
        sc.runtime(router, sc.credentials(make_secret())) as runtime,
        runtime.conversation(tenant=sc.TENANT, conversation_id="call-w") as conv,
    ):
        with pytest.raises(VendorPayloadError) as caught:
            await conv.call(sc.WRITE, "resend_invoice", invoice_id=sc.INVOICE_ID)
    assert "operation resend_invoice at id" in str(caught.value)
    assert caught.value.path == "/v1/invoices/{invoice_id}/send"


# --- Zendesk and Chargebee: the same promise on other shapes ---------------------------------------


async def test_zendesk_search_keeps_the_tickets_it_can_read(audit: MemoryAuditSink) -> None:
    router = vendor_router(zc.BASE)
    body = zc.fixture("search_tickets")
    body["results"][0]["id"] = True  # a bool is no id
    router.get(zc.SEARCH).respond(200, json=body)
    credentials = stored(zc.credential(make_secret()), "zendesk", tenant="acme")
    config = one_connector_config("zendesk", {"zendesk": ()}, tenant="acme", settings=zc.SETTINGS)
    async with (
        runtime_on(router, config, registry_of(ZendeskConnector), credentials, audit=audit) as nc,
        nc.conversation(tenant="acme", conversation_id="call-zd") as conv,
    ):
        tickets = await conv.call("zendesk", "list_tickets", email=zc.CALLER_EMAIL)
    assert len(tickets) == len(body["results"]) - 1
    assert last(audit, "list_tickets").records_skipped == 1


async def test_chargebee_list_entry_without_its_object_is_skipped(audit: MemoryAuditSink) -> None:
    router = vendor_router(cb.BASE)
    page = cb.fixture("subscriptions")
    page["list"].append({"customer": {"id": cb.CUSTOMER_ID}})  # an entry without its "subscription"
    router.get(cb.SUBSCRIPTIONS).respond(200, json=page)
    credentials = stored(cb.credential(make_secret()), "billing", tenant="acme")
    config = one_connector_config("chargebee", {"billing": ()}, tenant="acme", settings=cb.SETTINGS)
    async with (
        runtime_on(router, config, registry_of(ChargebeeConnector), credentials, audit=audit) as nc,
        nc.conversation(tenant="acme", conversation_id="call-cb") as conv,
    ):
        found = await conv.call("billing", "list_subscriptions", customer_id=cb.CUSTOMER_ID)
    assert len(found) == len(page["list"]) - 1
    record = last(audit, "list_subscriptions")
    assert (record.records_skipped, record.skipped_fields) == (1, ("subscription.subscription",))


# --- the helper itself -------------------------------------------------------------------------------


def test_parse_each_lets_errors_that_are_not_about_the_payload_through() -> None:
    from sdk import InvalidArgumentsError

    def parse(item: Any) -> int:
        raise InvalidArgumentsError("the caller's mistake")

    with pytest.raises(InvalidArgumentsError):
        parse_each([{"id": 1}, {"id": 2}], parse, what="x")


def test_field_paths_never_carry_a_key_that_looks_like_data() -> None:
    from sdk._parsing import field_path

    assert field_path(KeyError("id"), "customer") == "customer.id"
    assert field_path(KeyError("Aroha Ngata, 021 555 0100"), "customer") == "customer"
    assert field_path(KeyError(("tuple", "key")), "customer") == "customer"
    assert field_path(ValueError("aroha@example.test"), "invoice") == "invoice"
