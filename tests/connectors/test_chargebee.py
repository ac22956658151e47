"""Chargebee (API v1) connector: requests built, payloads parsed, errors mapped, verify().

Runs the connector through the real runtime (dispatch, scope guard, auth flow, retries) against
respx routes answering fixtures shaped like Chargebee's documented v1 responses.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from connectors.billing.chargebee import ChargebeeConnector, ChargebeeSettings
from sdk import (
    ConfigurationError,
    InvalidArgumentsError,
    InvoiceStatus,
    Money,
    NexoraConnect,
    NexoraError,
    SubscriptionStatus,
    VendorError,
    VendorNotFoundError,
    VendorPayloadError,
)
from sdk.testing import make_canary
from tests.connectors import chargebee_cases
from tests.connectors.chargebee_cases import (
    BASE,
    CALLER_EMAIL,
    CALLER_PHONE,
    CUSTOMER,
    CUSTOMER_ID,
    CUSTOMERS,
    INVOICES,
    SETTINGS,
    SUBSCRIPTIONS,
    credential,
    fixture,
)
from tests.mock_nexora import call_once, vendor_router

TENANT = "acme"
INTEGRATION = "billing"


@pytest.fixture
def secret() -> str:
    return make_canary("test-key")


@pytest.fixture
def router() -> respx.MockRouter:
    return vendor_router(BASE)


@pytest.fixture
async def nc(router: respx.MockRouter, secret: str) -> AsyncIterator[NexoraConnect]:
    async with chargebee_cases.runtime(router, credential(secret)) as runtime:
        yield runtime


async def call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await call_once(nc, INTEGRATION, operation, **arguments)


def customers_page(entries: list[dict[str, Any]], next_offset: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"list": entries}
    if next_offset is not None:
        body["next_offset"] = next_offset
    return httpx.Response(200, json=body)


# --- settings and credentials ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"site": "Acme"},
        {"site": "acme.evil.example"},
        {"site": "acme/../x"},
        {"currency": "NZ"},
        {"currency": "N2D"},
        {"customer_scan_pages": 0},
        {"customer_scan_pages": 21},
        {"unknown": "x"},
    ],
)
def test_settings_refuse_bad_values(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ChargebeeSettings.model_validate({**SETTINGS, **change})


def test_settings_default_and_normalise() -> None:
    settings = ChargebeeSettings.model_validate(SETTINGS)
    assert (settings.currency, settings.customer_scan_pages) == ("NZD", 5)
    assert ChargebeeConnector.resolve_base_url(settings) == BASE


async def test_the_api_key_is_the_basic_user_name_with_an_empty_password(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.get(SUBSCRIPTIONS).respond(200, json=fixture("subscriptions"))
    await call(nc, "list_subscriptions", customer_id=CUSTOMER_ID)
    expected = base64.b64encode(f"{secret}:".encode()).decode()
    assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"


# --- find_customers -------------------------------------------------------------------------------


async def test_find_by_email_keeps_exact_matches_in_any_case(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get(CUSTOMERS).respond(200, json=fixture("customers"))

    found = await call(nc, "find_customers", email=CALLER_EMAIL)

    # v1 has no filter: the list is read as it is, 100 a page, with nothing about the caller in the URL.
    assert dict(route.calls.last.request.url.params) == {"limit": "100"}
    assert [(c.id, c.name, c.email, c.phone, c.card_last4) for c in found] == [
        ("cb_aroha", "Aroha Ngata", "Aroha@Example.test", "+64215550100", "1111")
    ]


async def test_find_by_phone_matches_the_number_in_any_stored_format(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    found = await call(nc, "find_customers", phone=CALLER_PHONE)
    # "+64 21 555 0100" and "(021) 555-0100" are the caller's number; "021 555 0101" is not.
    assert [customer.id for customer in found] == ["cb_aroha", "cb_wiremu"]


async def test_find_follows_next_offset_until_the_list_ends(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    entries = fixture("customers")["list"]
    route = router.get(CUSTOMERS).mock(
        side_effect=[
            customers_page(entries[:1], next_offset='["1717100000000","2"]'),
            customers_page(entries[1:]),
        ]
    )
    found = await call(nc, "find_customers", email=CALLER_EMAIL)
    assert [customer.id for customer in found] == ["cb_aroha"]
    assert route.calls[1].request.url.params["offset"] == '["1717100000000","2"]'


async def test_a_scan_that_stops_at_the_page_limit_without_a_match_says_so(
    router: respx.MockRouter, secret: str
) -> None:
    stranger = fixture("customers")["list"][:1]
    offsets = iter(f'["{n}","x"]' for n in range(100))
    route = router.get(CUSTOMERS).mock(side_effect=lambda request: customers_page(stranger, next(offsets)))
    async with chargebee_cases.runtime(
        router, credential(secret), {**SETTINGS, "customer_scan_pages": 2}
    ) as runtime:
        with pytest.raises(VendorError, match="200 most recent customers") as caught:
            await call(runtime, "find_customers", email=CALLER_EMAIL)
    assert route.call_count == 2
    assert CALLER_EMAIL not in str(caught.value)


async def test_a_scan_that_covers_the_whole_list_without_a_match_finds_no_one(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(CUSTOMERS).mock(return_value=customers_page(fixture("customers")["list"][:1]))
    assert await call(nc, "find_customers", email="nobody@example.test") == []


async def test_find_with_neither_phone_nor_email_is_refused(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    with pytest.raises(InvalidArgumentsError):
        await call(nc, "find_customers")
    with pytest.raises(InvalidArgumentsError, match="phone"):
        await call(nc, "find_customers", phone="not a number")
    assert not router.calls


async def test_a_card_number_beyond_the_last_four_is_never_kept(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("customers")
    body["list"][1]["card"]["last4"] = "4111111111111111"
    router.get(CUSTOMERS).respond(200, json=body)
    found = await call(nc, "find_customers", email=CALLER_EMAIL)
    assert found[0].card_last4 is None
    assert "4111111111111111" not in repr(found)


# --- get_balance ----------------------------------------------------------------------------------


async def test_balance_is_unpaid_amounts_due_minus_credits(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    customer = router.get(CUSTOMER).respond(200, json=fixture("customer"))
    invoices = router.get(INVOICES).respond(200, json=fixture("invoices"))

    balance = await call(nc, "get_balance", customer_id=CUSTOMER_ID)

    # payment_due 8900 + not_paid 4500, minus credits 500 promotional + 1000 refundable.
    assert balance == Money(amount_minor=11_900, currency="NZD")
    assert customer.call_count == 1
    assert dict(invoices.calls.last.request.url.params) == {"limit": "100"}


async def test_a_customer_in_credit_has_a_negative_balance(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("invoices")
    body["list"] = [entry for entry in body["list"] if entry["invoice"]["status"] == "paid"]
    router.get(CUSTOMER).respond(200, json=fixture("customer"))
    router.get(INVOICES).respond(200, json=body)
    assert await call(nc, "get_balance", customer_id=CUSTOMER_ID) == Money(amount_minor=-1500, currency="NZD")


async def test_an_unpaid_invoice_in_another_currency_names_the_setting_to_fix(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("invoices")
    body["list"][1]["invoice"]["currency_code"] = "AUD"
    router.get(CUSTOMER).respond(200, json=fixture("customer"))
    router.get(INVOICES).respond(200, json=body)
    with pytest.raises(ConfigurationError, match="bills in 'AUD', not in 'NZD'"):
        await call(nc, "get_balance", customer_id=CUSTOMER_ID)


async def test_a_balance_is_not_computed_from_part_of_the_invoices(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    page = fixture("invoices")
    offsets = iter(f'["{n}","x"]' for n in range(100))

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={**copy.deepcopy(page), "next_offset": next(offsets)})

    router.get(CUSTOMER).respond(200, json=fixture("customer"))
    invoices = router.get(INVOICES).mock(side_effect=answer)
    with pytest.raises(VendorError, match="more than 500 invoices"):
        await call(nc, "get_balance", customer_id=CUSTOMER_ID)
    assert invoices.call_count <= 5


async def test_an_amount_that_is_not_an_integer_is_a_payload_error(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    body = fixture("invoices")
    body["list"][1]["invoice"]["amount_due"] = "89.00"
    router.get(CUSTOMER).respond(200, json=fixture("customer"))
    router.get(INVOICES).respond(200, json=body)
    with pytest.raises(VendorPayloadError):
        await call(nc, "get_balance", customer_id=CUSTOMER_ID)


# --- invoices and subscriptions -------------------------------------------------------------------


async def test_invoices_put_overdue_then_open_first(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(INVOICES).respond(200, json=fixture("invoices"))

    found = await call(nc, "list_invoices", customer_id=CUSTOMER_ID, limit=3)

    assert [(i.id, i.status) for i in found] == [
        ("INV-0010", InvoiceStatus.OVERDUE),
        ("INV-0011", InvoiceStatus.OPEN),
        ("INV-0012", InvoiceStatus.PAID),
    ]
    overdue = found[0]
    assert overdue.number == "INV-0010"
    assert overdue.amount_due == Money(amount_minor=4500, currency="NZD")
    assert overdue.total == Money(amount_minor=8900, currency="NZD")
    assert overdue.due_date is None
    assert overdue.created_at == datetime.fromtimestamp(1712016000, tz=UTC)


async def test_subscriptions_map_v1_states(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(SUBSCRIPTIONS).respond(200, json=fixture("subscriptions"))

    found = await call(nc, "list_subscriptions", customer_id=CUSTOMER_ID, limit=5)

    assert dict(route.calls.last.request.url.params) == {"limit": "5"}
    assert [(s.id, s.status, s.plan_name, s.cancel_at_period_end) for s in found] == [
        ("sub_fibre", SubscriptionStatus.PAST_DUE, "fibre-300", False),  # active, with unpaid invoices
        ("sub_tv", SubscriptionStatus.ACTIVE, "tv-basic", True),  # non_renewing
    ]
    assert found[0].current_period_end == datetime.fromtimestamp(1719792000, tz=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("in_trial", SubscriptionStatus.TRIALING),
        ("cancelled", SubscriptionStatus.CANCELED),
        ("transferred", SubscriptionStatus.CANCELED),
        ("future", SubscriptionStatus.UNKNOWN),
        ("paused", SubscriptionStatus.UNKNOWN),
    ],
)
async def test_other_subscription_states(
    nc: NexoraConnect, router: respx.MockRouter, status: str, expected: SubscriptionStatus
) -> None:
    body = fixture("subscriptions")
    body["list"][1]["subscription"]["status"] = status
    router.get(SUBSCRIPTIONS).respond(200, json=body)
    assert (await call(nc, "list_subscriptions", customer_id=CUSTOMER_ID))[1].status == expected


async def test_resend_invoice_is_not_offered(nc: NexoraConnect, router: respx.MockRouter) -> None:
    assert "resend_invoice" not in ChargebeeConnector.implemented_operations()
    with pytest.raises(NexoraError):
        await call(nc, "resend_invoice", invoice_id="INV-0010")
    assert not router.calls


# --- errors ---------------------------------------------------------------------------------------


async def test_errors_carry_the_api_error_code_but_not_the_message(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    canary = make_canary("customer")
    body = fixture("error_404")
    body["message"] = f"No customer {canary}"
    router.get(CUSTOMER).respond(404, json=body)
    router.get(INVOICES).respond(404, json=body)

    with pytest.raises(VendorNotFoundError) as caught:
        await call(nc, "get_balance", customer_id=CUSTOMER_ID)

    assert caught.value.vendor_code == "resource_not_found"
    assert caught.value.request_id is None  # Chargebee sends no request id
    # The declared endpoint, never the path sent: that holds the caller's argument.
    assert caught.value.path in (
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/invoices",
    )
    assert CUSTOMER_ID not in str(caught.value)
    assert canary not in str(caught.value)
    assert canary not in repr(caught.value)


async def test_rate_limits_are_retried(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(SUBSCRIPTIONS).mock(
        side_effect=[
            httpx.Response(429, json=fixture("error_429"), headers={"Retry-After": "0"}),
            httpx.Response(200, json=fixture("subscriptions")),
        ]
    )
    assert len(await call(nc, "list_subscriptions", customer_id=CUSTOMER_ID)) == 2
    assert route.call_count == 2


async def test_verify_reads_one_customer(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(CUSTOMERS).respond(200, json=fixture("customers"))
    await nc.verify(TENANT, INTEGRATION)
    assert dict(route.calls.last.request.url.params) == {"limit": "1"}
