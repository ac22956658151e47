"""The Xero connector's own behaviour: which organisation, rotating refresh tokens, Xero's amounts and dates.

Vendor answers are Xero's documented examples (``xero_cases``); token answers follow Xero's
"Refreshing access tokens" guide: ``POST https://identity.xero.com/connect/token`` with
``grant_type=refresh_token`` and the client in HTTP Basic, answered with a new ``access_token``
(30 minutes) and a **new** ``refresh_token`` every time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from connectors.billing.xero._connector import TOKEN_URL
from sdk import (
    ConfigurationError,
    InvalidArgumentsError,
    InvoiceStatus,
    Money,
    NexoraConnect,
    ReauthorizationRequiredError,
    SubscriptionStatus,
    VendorPayloadError,
    VendorServerError,
)
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import xero_cases as xc
from tests.oauth.support import MemorySource


def client_store() -> MemoryCredentialSource:
    store = MemoryCredentialSource()
    for integration in (xc.READ, xc.WRITE):
        store.put(xc.TENANT, integration, xc.client_credential(make_canary("secret")))
    return store


async def call(nc: NexoraConnect, operation: str, integration: str = xc.READ, **arguments: Any) -> Any:
    async with nc.conversation(tenant=xc.TENANT, conversation_id="call-" + make_canary("c")[-6:]) as conv:
        return await conv.call(integration, operation, **arguments)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


@pytest.fixture
def router() -> Any:
    with xc.xero() as mock:
        mock.post(TOKEN_URL).respond(200, json=xc.token_answer())
        yield mock


# --- which organisation -------------------------------------------------------------------------


async def test_without_tenant_id_the_only_organisation_is_resolved_once_for_concurrent_calls(
    router: respx.MockRouter,
) -> None:
    connections = xc.example("/Connections")
    practice = {
        **connections[0],
        "tenantId": "0c5b6f4e-0000-4000-8000-000000000001",
        "tenantType": "PRACTICE",
    }
    lookup = router.get(xc.CONNECTIONS).respond(200, json=[practice, *connections])
    invoices = router.get(xc.INVOICES).respond(200, json=xc.open_invoices_example())
    async with xc.runtime(router, client_store(), settings={}) as nc:
        await asyncio.gather(*(call(nc, "list_invoices", customer_id=xc.CONTACT_ID) for _ in range(5)))
        await call(nc, "list_invoices", customer_id=xc.CONTACT_ID)
    assert lookup.call_count == 1  # single flight, then remembered
    assert {c.request.headers["xero-tenant-id"] for c in invoices.calls} == {xc.TENANT_ID}
    assert "xero-tenant-id" not in lookup.calls[0].request.headers


@pytest.mark.parametrize("organisations", [0, 2])
async def test_without_tenant_id_none_or_several_organisations_is_a_configuration_error(
    router: respx.MockRouter, organisations: int
) -> None:
    one = xc.example("/Connections")[0]
    others = [{**one, "tenantId": f"0c5b6f4e-0000-4000-8000-00000000000{n}"} for n in range(organisations)]
    router.get(xc.CONNECTIONS).respond(200, json=others)
    invoices = router.get(xc.INVOICES).respond(200, json=xc.open_invoices_example())
    async with xc.runtime(router, client_store(), settings={}) as nc:
        with pytest.raises(ConfigurationError, match="set tenant_id") as caught:
            await call(nc, "list_invoices", customer_id=xc.CONTACT_ID)
    assert invoices.call_count == 0  # no organisation is guessed
    assert "0c5b6f4e" not in str(caught.value)


async def test_a_configured_tenant_id_is_sent_without_reading_connections(router: respx.MockRouter) -> None:
    lookup = router.get(xc.CONNECTIONS).respond(200, json=[])
    route = router.get(xc.REPEATING).respond(200, json=xc.example("/RepeatingInvoices"))
    async with xc.runtime(router, client_store()) as nc:
        await call(nc, "list_subscriptions", customer_id=xc.CONTACT_ID)
    assert lookup.call_count == 0
    assert route.calls[0].request.headers["xero-tenant-id"] == xc.TENANT_ID


async def test_verify_refuses_an_organisation_the_token_is_not_connected_to(router: respx.MockRouter) -> None:
    router.get(xc.CONNECTIONS).respond(200, json=xc.example("/Connections"))
    organisation = router.get(xc.ORGANISATION).respond(200, json=xc.example("/Organisation"))
    other = "0c5b6f4e-0000-4000-8000-000000000009"
    async with xc.runtime(router, client_store(), settings={"tenant_id": other}) as nc:
        with pytest.raises(ConfigurationError, match="tenant_id"):
            await nc.verify(xc.TENANT, xc.READ)
    assert organisation.call_count == 0
    async with xc.runtime(router, client_store()) as nc:
        await nc.verify(xc.TENANT, xc.READ)
    assert organisation.calls[0].request.headers["xero-tenant-id"] == xc.TENANT_ID


@pytest.mark.parametrize("settings", [{"tenant_idd": xc.TENANT_ID}, {"tenant_id": "acme-org"}, {"site": "x"}])
def test_a_settings_typo_or_a_tenant_id_that_is_no_uuid_fails_when_the_configuration_loads(
    settings: dict[str, Any],
) -> None:
    with pytest.raises(ConfigurationError, match="settings"):
        xc.runtime(respx.MockRouter(), client_store(), settings=settings)


# --- OAuth: refresh tokens rotate on every refresh ------------------------------------------------


@pytest.fixture
def rotating() -> tuple[MemorySource, str, str]:
    refresh, secret = make_canary("refresh"), make_canary("client-secret")
    source = MemorySource()
    source.seed(xc.TENANT, xc.READ, xc.refresh_credential(refresh, secret))
    return source, refresh, secret


async def test_every_refresh_rotates_the_token_and_the_new_one_is_written_back_before_it_is_used(
    rotating: tuple[MemorySource, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    source, first, secret = rotating
    issued = [make_canary("refresh") for _ in range(2)]
    accesses = [make_canary("access") for _ in range(2)]
    with xc.xero() as router:
        token = router.post(TOKEN_URL).mock(
            side_effect=[
                httpx.Response(200, json=xc.token_answer(a, r)) for a, r in zip(accesses, issued, strict=True)
            ]
        )
        answers = [200, 401, 200]
        presented: list[str] = []  # read as sent: the SDK re-authenticates the same request object

        def api(request: httpx.Request) -> httpx.Response:
            presented.append(request.headers["authorization"])
            if answers.pop(0) == 401:
                return httpx.Response(
                    401, json={"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired"}
                )
            return httpx.Response(200, json=xc.example("/RepeatingInvoices"))

        router.get(xc.REPEATING).mock(side_effect=api)
        async with xc.runtime(router, source) as nc:
            await call(nc, "list_subscriptions", customer_id=xc.CONTACT_ID)
            assert (token.call_count, source.writes) == (1, 1)
            # A 401 drops the access token; the next refresh presents the rotated refresh token.
            await call(nc, "list_subscriptions", customer_id=xc.CONTACT_ID)
    assert token.call_count == 2
    sent = [form(c.request) for c in token.calls]
    assert sent == [
        {"grant_type": "refresh_token", "refresh_token": first},
        {"grant_type": "refresh_token", "refresh_token": issued[0]},  # never the spent one
    ]
    basic = base64.b64encode(f"nexora-xero-test:{secret}".encode()).decode()
    assert {c.request.headers["authorization"] for c in token.calls} == {f"Basic {basic}"}
    assert source.latest(xc.TENANT, xc.READ).refresh_token.get_secret_value() == issued[1]  # type: ignore[union-attr]
    assert source.writes == 2
    assert presented == [f"Bearer {accesses[0]}"] * 2 + [f"Bearer {accesses[1]}"]
    for canary in (first, *issued, *accesses, secret):
        assert canary not in caplog.text


async def test_concurrent_calls_share_one_refresh_and_one_write_back(
    rotating: tuple[MemorySource, str, str],
) -> None:
    source, _, _ = rotating
    rotated = make_canary("refresh")
    with xc.xero() as router:

        async def slow_token(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.05)  # every call arrives while the refresh is in flight
            return httpx.Response(200, json=xc.token_answer(refresh=rotated))

        token = router.post(TOKEN_URL).mock(side_effect=slow_token)
        router.get(xc.REPEATING).respond(200, json=xc.example("/RepeatingInvoices"))
        async with xc.runtime(router, source) as nc:
            await asyncio.gather(
                *(call(nc, "list_subscriptions", customer_id=xc.CONTACT_ID) for _ in range(6))
            )
    assert token.call_count == 1
    assert source.writes == 1
    assert source.latest(xc.TENANT, xc.READ).refresh_token.get_secret_value() == rotated  # type: ignore[union-attr]


async def test_a_refused_refresh_token_asks_for_reauthorisation_and_is_not_sent_again(
    rotating: tuple[MemorySource, str, str],
) -> None:
    source, refresh, _ = rotating
    with xc.xero() as router:
        token = router.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
        async with xc.runtime(router, source) as nc:
            for _ in range(2):
                with pytest.raises(ReauthorizationRequiredError) as caught:
                    await call(nc, "list_subscriptions", customer_id=xc.CONTACT_ID)
    assert token.call_count == 1
    assert refresh not in str(caught.value)
    assert xc.READ in str(caught.value)


# --- Xero's payloads ------------------------------------------------------------------------------


async def test_get_balance_is_receivables_outstanding_in_the_base_currency(router: respx.MockRouter) -> None:
    xc.KIT_CASES[2].mock(router, "Name")
    async with xc.runtime(router, client_store()) as nc:
        assert await call(nc, "get_balance", customer_id=xc.CONTACT_ID) == Money(
            amount_minor=11890, currency="NZD"
        )
        body = xc.example("/Contacts/{ContactID}")
        body["Contacts"][0]["Balances"]["AccountsReceivable"]["Outstanding"] = 0.005  # below a cent
        router.get(xc.CONTACT).respond(200, json=body)
        with pytest.raises(VendorPayloadError):
            await call(nc, "get_balance", customer_id=xc.CONTACT_ID)


async def test_find_customers_by_email_keeps_only_exact_matches_and_escapes_the_filter(
    router: respx.MockRouter,
) -> None:
    route = xc.KIT_CASES[0].mock(router, "Name")
    async with xc.runtime(router, client_store()) as nc:
        found = await call(nc, "find_customers", email="KAT.Warren@clampett.com")
        with pytest.raises(InvalidArgumentsError):
            await call(nc, "find_customers", email='x@y.z" OR Name!="')
    assert [c.email for c in found] == [xc.CALLER_EMAIL]  # the second example contact is another person
    assert found[0].delinquent is True  # 920.0 overdue
    sent = route.calls[0].request.url.params
    assert sent["where"] == 'EmailAddress=="KAT.Warren@clampett.com"'
    assert route.call_count == 1  # the hostile value never left


async def test_find_customers_by_phone_compares_stored_numbers_in_e164(router: respx.MockRouter) -> None:
    route = xc.KIT_CASES[1].mock(router, "Name")
    async with xc.runtime(router, client_store()) as nc:
        found = await call(nc, "find_customers", phone="+1 (626) 847-1294")
        nobody = await call(nc, "find_customers", phone="+1 626 847 1295")
    assert [c.id for c in found] == ["5cc8cf28-567e-4d43-b287-687cfcaec47c"]
    assert found[0].phone == "+16268471294"
    assert nobody == []
    assert route.calls[0].request.url.params["where"] == "IsCustomer==true"


async def test_list_invoices_asks_for_unpaid_sales_invoices_and_marks_past_due_ones_overdue(
    router: respx.MockRouter,
) -> None:
    route = xc.KIT_CASES[3].mock(router, "Name")
    async with xc.runtime(router, client_store()) as nc:
        found = await call(nc, "list_invoices", customer_id=xc.CONTACT_ID)
    params = route.calls[0].request.url.params
    assert (params["where"], params["Statuses"], params["ContactIDs"]) == (
        'Type=="ACCREC"',
        "AUTHORISED",
        xc.CONTACT_ID,
    )
    assert [(i.status, i.amount_due, str(i.due_date)) for i in found] == [
        (InvoiceStatus.OVERDUE, Money(amount_minor=11500, currency="NZD"), "2018-11-07")
    ]


async def test_repeating_invoices_are_the_subscriptions(router: respx.MockRouter) -> None:
    route = xc.KIT_CASES[4].mock(router, "Guitars")
    async with xc.runtime(router, client_store()) as nc:
        (found,) = await call(nc, "list_subscriptions", customer_id=xc.CONTACT_ID)
    assert route.calls[0].request.url.params["where"] == (
        f'Contact.ContactID==Guid("{xc.CONTACT_ID}") AND Type=="ACCREC"'
    )
    # The example's schedule ended on 2019-09-30: it no longer raises invoices.
    assert (found.status, found.plan_name, found.amount) == (
        SubscriptionStatus.CANCELED,
        "Guitars",
        Money(amount_minor=575000, currency="NZD"),
    )
    assert found.current_period_end is not None
    assert found.current_period_end.date().isoformat() == "2019-04-15"


async def test_resend_invoice_posts_an_empty_body_with_one_idempotency_key_across_a_retry(
    router: respx.MockRouter,
) -> None:
    route = xc.KIT_CASES[5].mock(router, "Name")
    route.mock(side_effect=[httpx.Response(503), httpx.Response(204)])
    async with xc.runtime(router, client_store()) as nc:
        sent = await call(nc, "resend_invoice", integration=xc.WRITE, invoice_id=xc.INVOICE_ID)
    keys = {c.request.headers["idempotency-key"] for c in route.calls}
    assert route.call_count == 2
    assert len(keys) == 1
    assert json.loads(route.calls[0].request.content) == {}
    assert route.calls[0].request.headers["xero-tenant-id"] == xc.TENANT_ID
    assert (sent.id, sent.status) == (xc.INVOICE_ID, InvoiceStatus.PAID)


async def test_a_validation_error_keeps_its_type_and_correlation_id_but_not_its_message(
    router: respx.MockRouter,
) -> None:
    canary = make_canary("customer")
    body = {"ErrorNumber": 10, "Type": "ValidationException", "Message": f"Invoice {canary} is a draft"}
    router.post(xc.EMAIL).respond(400, json=body, headers={"Xero-Correlation-Id": "corr-42"})
    async with xc.runtime(router, client_store()) as nc:
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is checked below
            await call(nc, "resend_invoice", integration=xc.WRITE, invoice_id=xc.INVOICE_ID)
    error: Any = caught.value
    assert not isinstance(error, VendorServerError)
    assert (error.vendor_code, error.request_id) == ("ValidationException", "corr-42")
    assert canary not in str(error)
