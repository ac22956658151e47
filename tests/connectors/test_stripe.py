"""The Stripe connector end to end: NexoraConnect runtime, in-memory keys, a respx Stripe.

Covers each operation's request (method, path, query, body, auth and Stripe headers) and parsing,
search-query escaping, phone normalisation, both pagination styles, error mapping with Stripe's
request id and error code, the idempotent resend, and verify().
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from connectors.billing.stripe import StripeConnector
from connectors.billing.stripe._query import clause, or_query
from sdk import (
    BillingCustomer,
    InvalidArgumentsError,
    Invoice,
    InvoiceStatus,
    MemoryAuditSink,
    Money,
    NexoraConnect,
    ScopeDeniedError,
    Subscription,
    SubscriptionStatus,
    VendorAuthError,
    VendorConflictError,
    VendorError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk.testing import MemoryCredentialSource
from tests.connectors import stripe_cases as sc
from tests.connectors.path_id_attacks import PATH_ID_ATTACKS, catch_all_router, echoes
from tests.mock_nexora import vendor_router
from tests.sdk.fakes import make_secret

SEARCH = "/v1/customers/search"
CUSTOMER = f"/v1/customers/{sc.CUSTOMER_ID}"
CUSTOMER_TEMPLATE = "/v1/customers/{customer_id}"
"""What errors name instead of the path sent: the declared endpoint, never the id."""
SEND = f"/v1/invoices/{sc.INVOICE_ID}/send"
PII = "Wiremu Kauri"
"""A name planted in Stripe's error messages; it must never reach an exception."""
NZ_PHONE_QUERY = (
    "phone:'+64215550100' OR phone:'+64 21 555 0100' OR phone:'021 555 0100' OR phone:'0215550100'"
)


@pytest.fixture
def secret() -> str:
    return make_secret()


@pytest.fixture
def keys(secret: str) -> MemoryCredentialSource:
    return sc.credentials(secret)


@pytest.fixture
def router() -> respx.MockRouter:
    return vendor_router(sc.BASE)


@pytest.fixture
async def nc(
    router: respx.MockRouter, keys: MemoryCredentialSource, audit: MemoryAuditSink
) -> AsyncIterator[NexoraConnect]:
    async with sc.runtime(router, keys, audit=audit) as runtime:
        yield runtime


async def call(nc: NexoraConnect, operation: str, integration: str = sc.READ, **arguments: Any) -> Any:
    async with nc.conversation(tenant=sc.TENANT, conversation_id="call-1") as conv:
        return await conv.call(integration, operation, **arguments)


def assert_stripe_headers(request: httpx.Request, secret: str) -> None:
    assert request.headers["authorization"] == f"Bearer {secret}"
    assert request.headers["stripe-version"] == "2023-08-16"


def error_response(status: int, fixture: str, canary: str | None = None, **headers: str) -> httpx.Response:
    body = sc.fixture(fixture)
    if canary is not None:
        body["error"]["message"] = f"No such customer: {canary}"
    return httpx.Response(status, json=body, headers={"Request-Id": "req_T3stR3q0001", **headers})


# --- find_customers ----------------------------------------------------------------------------


async def test_find_customers_by_email_follows_search_pages_and_maps_customers(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.get(SEARCH).mock(
        side_effect=[
            httpx.Response(200, json=sc.fixture("customers_search_page1")),
            httpx.Response(200, json=sc.fixture("customers_search_page2")),
        ]
    )
    customers = await call(nc, "find_customers", email=sc.EMAIL)

    assert route.call_count == 2
    first, second = (c.request for c in route.calls)
    assert first.method == "GET"
    assert dict(first.url.params) == {"query": "email:'aroha@example.test'", "limit": "10"}
    assert dict(second.url.params) == {
        "query": "email:'aroha@example.test'",
        "limit": "10",
        "page": "c2VhcmNoLXBhZ2UtdHdv",
    }
    for request in (first, second):
        assert_stripe_headers(request, secret)
        assert request.content == b""
        assert "idempotency-key" not in request.headers
    assert customers == [
        BillingCustomer(
            id="cus_T3stAroha0001",
            source=sc.READ,
            name="Aroha Test",
            email="aroha@example.test",
            phone="+64215550100",
            balance=Money(amount_minor=1250, currency="NZD"),
            delinquent=True,
        ),
        BillingCustomer(
            id="cus_T3stAroha0002",
            source=sc.READ,
            name="Aroha Test (old account)",
            email="aroha@example.test",
            balance=None,  # never billed: Stripe has no currency for it yet
            delinquent=False,
        ),
        BillingCustomer(
            id="cus_T3stAroha0003",
            source=sc.READ,
            name="A. Test",
            phone="+64215550100",
            balance=Money(amount_minor=-500, currency="NZD"),
            delinquent=False,
        ),
    ]


@pytest.mark.parametrize("spoken", ["021 555 0100", "+64 21 555 0100", "0064215550100", "(021) 555-0100"])
async def test_find_customers_by_phone_searches_every_stored_form_of_the_e164_number(
    nc: NexoraConnect, router: respx.MockRouter, spoken: str
) -> None:
    route = router.get(SEARCH).respond(200, json=sc.fixture("customers_search_page2"))
    customers = await call(nc, "find_customers", phone=spoken)
    assert route.calls.last.request.url.params["query"] == NZ_PHONE_QUERY
    assert [c.phone for c in customers] == ["+64215550100"]


async def test_find_customers_reads_national_numbers_in_the_tenants_region(
    router: respx.MockRouter, keys: MemoryCredentialSource
) -> None:
    route = router.get(SEARCH).respond(200, json=sc.search_page([], None))
    async with sc.runtime(router, keys, phone_region="AU") as nc:
        assert await call(nc, "find_customers", phone="0412 345 678") == []
    query = route.calls.last.request.url.params["query"]
    assert query.startswith("phone:'+61412345678' OR phone:'+61 412 345 678' OR phone:'0412 345 678'")


async def test_find_customers_with_phone_and_email_ors_the_clauses_and_dedupes(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    page = sc.fixture("customers_search_page2")
    page["data"] = page["data"] * 2  # the same customer matched twice
    route = router.get(SEARCH).respond(200, json=page)
    customers = await call(nc, "find_customers", phone="021 555 0100", email=sc.EMAIL)
    assert route.calls.last.request.url.params["query"] == f"email:'{sc.EMAIL}' OR {NZ_PHONE_QUERY}"
    assert [c.id for c in customers] == ["cus_T3stAroha0003"]


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("x'OR'email:'victim@example.test", r"email:'x\'OR\'email:\'victim@example.test'"),
        ("trail\\@example.test", r"email:'trail\\@example.test'"),
        ("a\\'-email:'b@example.test", r"email:'a\\\'-email:\'b@example.test'"),
    ],
)
async def test_find_customers_escapes_the_search_query_against_injection(
    nc: NexoraConnect, router: respx.MockRouter, email: str, expected: str
) -> None:
    route = router.get(SEARCH).respond(200, json=sc.search_page([], None))
    await call(nc, "find_customers", email=email)
    query = route.calls.last.request.url.params["query"]
    assert query == expected
    assert parse_query(query) == [("email", email)]


def test_injection_with_spaces_stays_one_clause() -> None:
    value = "' OR email:'x"
    query = clause("email", value)
    assert query == r"email:'\' OR email:\'x'"
    assert parse_query(query) == [("email", value)]


_CLAUSE = re.compile(r"([a-z_]+):'((?:[^'\\]|\\.)*)'")


def parse_query(query: str) -> list[tuple[str, str]]:
    """A reference reader of Stripe's quoting: ``field:'value'`` clauses joined by `` OR ``."""
    clauses: list[tuple[str, str]] = []
    position = 0
    while True:
        match = _CLAUSE.match(query, position)
        assert match is not None, f"not a clause at {position}"
        clauses.append((match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))))
        position = match.end()
        if position == len(query):
            return clauses
        assert query.startswith(" OR ", position), "clauses must be joined by ' OR '"
        position += len(" OR ")


_PRINTABLE_ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)


@given(st.lists(_PRINTABLE_ASCII.filter(str.strip), min_size=1, max_size=4))
def test_printable_values_round_trip_as_exactly_their_clauses(values: list[str]) -> None:
    query = or_query(clause("email", value) for value in values)
    assert parse_query(query) == [("email", value) for value in values]


@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=4))
def test_any_value_is_exactly_its_clause_or_refused_without_being_quoted(values: list[str]) -> None:
    refused: InvalidArgumentsError | None = None
    try:
        query = or_query(clause("email", value) for value in values)
    except InvalidArgumentsError as exc:
        # Blank, control and invisible characters cannot be one search literal for certain.
        refused = exc
    if refused is not None:
        assert not any(len(value.strip()) >= 6 and value in str(refused) for value in values)
    else:
        assert parse_query(query) == [("email", value) for value in values]


async def test_find_customers_refuses_an_unparseable_phone_without_sending(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    spoken = "call me maybe 12"
    with pytest.raises(InvalidArgumentsError, match="phone") as info:
        await call(nc, "find_customers", phone=spoken)
    assert spoken not in str(info.value)
    assert not router.calls


async def test_find_customers_needs_phone_or_email(nc: NexoraConnect, router: respx.MockRouter) -> None:
    with pytest.raises(InvalidArgumentsError, match="phone or email"):
        await call(nc, "find_customers")
    assert not router.calls


async def test_find_customers_stops_at_thirty_customers(nc: NexoraConnect, router: respx.MockRouter) -> None:
    template = sc.fixture("customers_search_page2")["data"][0]
    served = 0

    def endless(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        page = [template | {"id": f"cus_T3stMany{served:02d}{n:02d}"} for n in range(10)]
        return httpx.Response(200, json=sc.search_page(page, f"cursor-{served}"))

    route = router.get(SEARCH).mock(side_effect=endless)
    customers = await call(nc, "find_customers", email=sc.EMAIL)
    assert len(customers) == 30
    assert route.call_count == 3


async def test_find_customers_tolerates_unknown_fields_and_unparseable_stored_phones(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    customer = sc.fixture("customer") | {
        "phone": "ext. 42",
        "delinquent": None,
        "x_new_field_from_the_future": {"nested": [1, 2]},
        "tax_exempt": "a_new_exemption",
    }
    router.get(SEARCH).respond(200, json=sc.search_page([customer], None) | {"x_search_hint": "new"})
    (found,) = await call(nc, "find_customers", email=sc.EMAIL)
    assert found.phone == "ext. 42"  # kept as stored rather than lost
    assert found.delinquent is None


async def test_a_customer_without_an_id_is_a_payload_error(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    customer = sc.fixture("customer")
    del customer["id"]
    router.get(SEARCH).respond(200, json=sc.search_page([customer], None))
    with pytest.raises(VendorPayloadError):
        await call(nc, "find_customers", email=sc.EMAIL)


async def test_search_query_with_the_callers_email_never_reaches_the_logs(
    nc: NexoraConnect, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    router.get(SEARCH).respond(200, json=sc.fixture("customers_search_page2"))
    await call(nc, "find_customers", email=sc.EMAIL, phone="021 555 0100")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "aroha" not in logged
    assert "555" not in logged


# --- get_balance -------------------------------------------------------------------------------


async def test_get_balance_reads_the_customer_balance_and_currency(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.get(CUSTOMER).respond(200, json=sc.fixture("customer"))
    assert await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID) == Money(
        amount_minor=1250, currency="NZD"
    )
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.query == b""
    assert_stripe_headers(request, secret)


async def test_get_balance_credit_is_negative(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMER).respond(200, json=sc.fixture("customer") | {"balance": -2500, "currency": "aud"})
    assert await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID) == Money(
        amount_minor=-2500, currency="AUD"
    )


async def test_get_balance_is_never_served_from_the_cache(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get(CUSTOMER).respond(200, json=sc.fixture("customer"))
    async with nc.conversation(tenant=sc.TENANT, conversation_id="call-1") as conv:
        await conv.call(sc.READ, "get_balance", customer_id=sc.CUSTOMER_ID)
        await conv.call(sc.READ, "get_balance", customer_id=sc.CUSTOMER_ID)
    assert route.call_count == 2


@pytest.mark.parametrize(("settings", "currency"), [({}, "NZD"), ({"default_currency": "usd"}, "USD")])
async def test_never_billed_customer_has_a_zero_balance_in_the_default_currency(
    router: respx.MockRouter, keys: MemoryCredentialSource, settings: dict[str, str], currency: str
) -> None:
    router.get("/v1/customers/cus_T3stAroha0002").respond(200, json=sc.fixture("customer_never_billed"))
    async with sc.runtime(router, keys, settings=settings) as nc:
        balance = await call(nc, "get_balance", customer_id="cus_T3stAroha0002")
    assert balance == Money(amount_minor=0, currency=currency)


async def test_a_balance_without_a_currency_is_a_payload_error(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(CUSTOMER).respond(200, json=sc.fixture("customer") | {"currency": None})
    with pytest.raises(VendorPayloadError):
        await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID)


async def test_a_deleted_customer_is_not_found(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get("/v1/customers/cus_T3stGone00001").respond(200, json=sc.fixture("customer_deleted"))
    with pytest.raises(VendorNotFoundError, match="deleted"):
        await call(nc, "get_balance", customer_id="cus_T3stGone00001")


async def test_record_ids_are_quoted_into_the_path(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(url__regex=r"/v1/customers/.+").respond(200, json=sc.fixture("customer"))
    await call(nc, "get_balance", customer_id="cus_a:b+c&d=e")
    assert route.calls.last.request.url.raw_path == b"/v1/customers/cus_a%3Ab%2Bc%26d%3De"


@pytest.mark.parametrize("customer_id", ["../v1/charges", "cus_1/send", "cus_1?expand[]=x", "cus%2F1"])
async def test_path_tricks_in_ids_are_refused_before_sending(
    nc: NexoraConnect, router: respx.MockRouter, customer_id: str
) -> None:
    with pytest.raises(InvalidArgumentsError):
        await call(nc, "get_balance", customer_id=customer_id)
    assert not router.calls


@pytest.mark.parametrize(
    ("integration", "operation", "argument"),
    [
        (sc.READ, "get_balance", "customer_id"),
        (sc.READ, "list_invoices", "customer_id"),
        (sc.READ, "list_subscriptions", "customer_id"),
        (sc.WRITE, "resend_invoice", "invoice_id"),
    ],
)
@pytest.mark.parametrize("value", PATH_ID_ATTACKS)
async def test_a_path_trick_in_any_id_is_refused_before_any_request(
    keys: MemoryCredentialSource, integration: str, operation: str, argument: str, value: str
) -> None:
    """In a path (get_balance, resend_invoice) or a list filter (customer=…), the same values fail."""
    router = catch_all_router()
    async with sc.runtime(router, keys) as nc:
        with pytest.raises(InvalidArgumentsError) as info:
            await call(nc, operation, integration=integration, **{argument: value})
    assert len(router.calls) == 0
    assert not echoes(value, str(info.value))


def test_every_operation_declares_exactly_its_endpoints() -> None:
    declared = {name: [str(e) for e in spec.endpoints] for name, spec in StripeConnector.operations.items()}
    assert declared == {
        "find_customers": ["GET /v1/customers/search"],
        "get_balance": ["GET /v1/customers/{customer_id}"],
        "list_invoices": ["GET /v1/invoices"],
        "list_subscriptions": ["GET /v1/subscriptions"],
        "resend_invoice": ["POST /v1/invoices/{invoice_id}/send"],
    }
    assert [str(e) for e in StripeConnector.verify_spec.endpoints] == ["GET /v1/customers"]


# --- list_invoices -----------------------------------------------------------------------------


def _mount_invoices(router: respx.MockRouter) -> tuple[respx.Route, respx.Route]:
    open_route = router.get("/v1/invoices", params__contains={"status": "open"}).respond(
        200, json=sc.fixture("invoices_open")
    )
    all_route = router.get("/v1/invoices").respond(200, json=sc.fixture("invoices_all"))
    return open_route, all_route


async def test_list_invoices_asks_for_open_and_recent_invoices(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    open_route, all_route = _mount_invoices(router)
    await call(nc, "list_invoices", customer_id=sc.CUSTOMER_ID, limit=5)
    assert dict(open_route.calls.last.request.url.params) == {
        "customer": sc.CUSTOMER_ID,
        "status": "open",
        "limit": "5",
    }
    assert dict(all_route.calls.last.request.url.params) == {"customer": sc.CUSTOMER_ID, "limit": "5"}
    for route in (open_route, all_route):
        assert route.call_count == 1
        assert_stripe_headers(route.calls.last.request, secret)


async def test_list_invoices_puts_overdue_then_open_first_then_newest(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    _mount_invoices(router)
    invoices = await call(nc, "list_invoices", customer_id=sc.CUSTOMER_ID, limit=10)
    assert [(i.id, i.status) for i in invoices] == [
        ("in_T3stOverdue0001", InvoiceStatus.OVERDUE),
        ("in_T3stOpen000002", InvoiceStatus.OPEN),
        ("in_T3stDraft00003", InvoiceStatus.DRAFT),
        ("in_T3stPaid000004", InvoiceStatus.PAID),
        ("in_T3stUncoll0005", InvoiceStatus.UNCOLLECTIBLE),
        ("in_T3stVoid000006", InvoiceStatus.VOID),
    ]
    assert invoices[1] == Invoice(
        id="in_T3stOpen000002",
        source=sc.READ,
        number="A1B2C3D4-0002",
        status=InvoiceStatus.OPEN,
        amount_due=Money(amount_minor=4000, currency="NZD"),  # amount_remaining: part is paid
        total=Money(amount_minor=8999, currency="NZD"),
        due_date=date(2100, 1, 1),
        created_at=datetime.fromtimestamp(1695000000, tz=UTC),
    )
    assert invoices[0].due_date == date(2023, 8, 14)
    assert invoices[3].amount_due == Money(amount_minor=0, currency="NZD")
    assert invoices[2].number is None
    assert invoices[2].due_date is None


async def test_list_invoices_keeps_open_ones_and_truncates_to_the_limit(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    _mount_invoices(router)
    invoices = await call(nc, "list_invoices", customer_id=sc.CUSTOMER_ID, limit=3)
    assert [i.id for i in invoices] == ["in_T3stOverdue0001", "in_T3stOpen000002", "in_T3stDraft00003"]


async def test_list_invoices_tolerates_unknown_statuses_and_fields(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    page = sc.fixture("invoices_all")
    page["data"][0] |= {"status": "in_review", "x_new_field_from_the_future": {"a": 1}}
    page["data"][1] |= {"status": None}
    router.get("/v1/invoices", params__contains={"status": "open"}).respond(
        200, json=sc.list_page("/v1/invoices", [])
    )
    router.get("/v1/invoices").respond(200, json=page)
    invoices = await call(nc, "list_invoices", customer_id=sc.CUSTOMER_ID)
    statuses = {i.id: i.status for i in invoices}
    assert statuses["in_T3stDraft00003"] is InvoiceStatus.UNKNOWN
    assert statuses["in_T3stOpen000002"] is InvoiceStatus.UNKNOWN


async def test_list_pages_follow_starting_after_until_has_more_is_false(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    data = sc.fixture("invoices_all")["data"]
    router.get("/v1/invoices", params__contains={"status": "open"}).respond(
        200, json=sc.list_page("/v1/invoices", [])
    )
    route = router.get("/v1/invoices").mock(
        side_effect=[
            httpx.Response(200, json=sc.list_page("/v1/invoices", data[:2], has_more=True)),
            httpx.Response(200, json=sc.list_page("/v1/invoices", data[2:3], has_more=False)),
        ]
    )
    invoices = await call(nc, "list_invoices", customer_id=sc.CUSTOMER_ID, limit=4)
    assert route.call_count == 2
    assert route.calls[1].request.url.params["starting_after"] == data[1]["id"]
    assert "starting_after" not in route.calls[0].request.url.params
    assert len(invoices) == 3


async def test_a_failure_of_either_invoice_list_fails_the_call(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get("/v1/invoices", params__contains={"status": "open"}).mock(
        return_value=error_response(404, "error_404")
    )
    router.get("/v1/invoices").respond(200, json=sc.fixture("invoices_all"))
    with pytest.raises(VendorNotFoundError):
        await call(nc, "list_invoices", customer_id=sc.CUSTOMER_ID)


# --- list_subscriptions ------------------------------------------------------------------------


async def test_list_subscriptions_requests_all_statuses_and_maps_plans_and_amounts(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.get("/v1/subscriptions").respond(200, json=sc.fixture("subscriptions"))
    subscriptions = await call(nc, "list_subscriptions", customer_id=sc.CUSTOMER_ID, limit=7)
    request = route.calls.last.request
    assert dict(request.url.params) == {"customer": sc.CUSTOMER_ID, "status": "all", "limit": "7"}
    assert_stripe_headers(request, secret)
    period_end = datetime.fromtimestamp(1698000000, tz=UTC)
    assert subscriptions == [
        Subscription(
            id="sub_T3stFibre0001",
            source=sc.READ,
            status=SubscriptionStatus.ACTIVE,
            plan_name="Fibre 300, Static IP",
            amount=Money(amount_minor=8999 + 2 * 1000, currency="NZD"),
            current_period_end=period_end,
            cancel_at_period_end=True,
        ),
        Subscription(  # metered: no quantity to multiply, and the price has no nickname
            id="sub_T3stCalls0002",
            source=sc.READ,
            status=SubscriptionStatus.PAST_DUE,
            current_period_end=period_end,
            cancel_at_period_end=False,
        ),
        Subscription(  # incomplete_expired is terminal
            id="sub_T3stExpired03",
            source=sc.READ,
            status=SubscriptionStatus.CANCELED,
            plan_name="Fibre 300",
            amount=Money(amount_minor=8999, currency="NZD"),
            current_period_end=period_end,
            cancel_at_period_end=False,
        ),
        Subscription(
            id="sub_T3stTrial0004",
            source=sc.READ,
            status=SubscriptionStatus.TRIALING,
            current_period_end=period_end,
            cancel_at_period_end=False,
        ),
    ]


async def test_list_subscriptions_tolerates_drift(nc: NexoraConnect, router: respx.MockRouter) -> None:
    page = sc.fixture("subscriptions")
    page["data"][0]["status"] = "on_hold_someday"
    page["data"][0]["items"]["data"][1]["price"]["currency"] = "usd"  # mixed currencies: no total
    page["data"][0]["x_new_field_from_the_future"] = True
    page["data"][2]["items"]["data"][0]["price"]["product"] = {"id": "prod_1", "name": "Expanded"}
    page["data"][2]["items"]["data"][0]["price"]["nickname"] = None
    router.get("/v1/subscriptions").respond(200, json=page)
    first, _, third, _ = await call(nc, "list_subscriptions", customer_id=sc.CUSTOMER_ID)
    assert first.status is SubscriptionStatus.UNKNOWN
    assert first.amount is None
    assert third.plan_name == "Expanded"


# --- resend_invoice ----------------------------------------------------------------------------


async def test_resend_invoice_posts_send_with_an_idempotency_key(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.post(SEND).respond(200, json=sc.fixture("invoice_sent"))
    invoice = await call(nc, "resend_invoice", integration=sc.WRITE, invoice_id=sc.INVOICE_ID)
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.content == b""
    assert_stripe_headers(request, secret)
    uuid.UUID(request.headers["idempotency-key"])
    assert invoice.id == sc.INVOICE_ID
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.source == sc.WRITE


async def test_resend_invoice_under_a_read_only_grant_sends_nothing(
    nc: NexoraConnect, router: respx.MockRouter, keys: MemoryCredentialSource
) -> None:
    route = router.post(SEND).respond(200, json=sc.fixture("invoice_sent"))
    with pytest.raises(ScopeDeniedError, match="invoices:write"):
        await call(nc, "resend_invoice", invoice_id=sc.INVOICE_ID)
    assert route.call_count == 0
    assert keys.reads == 0


async def test_resend_retried_after_503_reuses_the_key_and_sends_once(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    """Stripe replays the saved result for a repeated Idempotency-Key instead of sending again."""
    emails_sent = 0
    replies: dict[str, httpx.Response] = {}
    attempts = 0

    def stripe(request: httpx.Request) -> httpx.Response:
        nonlocal emails_sent, attempts
        attempts += 1
        key = request.headers["idempotency-key"]
        if key not in replies:
            emails_sent += 1
            replies[key] = httpx.Response(200, json=sc.fixture("invoice_sent"))
        if attempts == 1:  # the send happened, but the answer was lost on the way back
            return httpx.Response(503, json=sc.fixture("error_500"))
        saved = replies[key]
        return httpx.Response(
            saved.status_code, content=saved.content, headers={"Idempotent-Replayed": "true"}
        )

    route = router.post(SEND).mock(side_effect=stripe)
    invoice = await call(nc, "resend_invoice", integration=sc.WRITE, invoice_id=sc.INVOICE_ID)
    keys = {c.request.headers["idempotency-key"] for c in route.calls}
    assert route.call_count == 2
    assert len(keys) == 1
    assert emails_sent == 1
    assert invoice.id == sc.INVOICE_ID


async def test_each_resend_call_gets_its_own_idempotency_key(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post(SEND).respond(200, json=sc.fixture("invoice_sent"))
    async with nc.conversation(tenant=sc.TENANT, conversation_id="call-1") as conv:
        await conv.call(sc.WRITE, "resend_invoice", invoice_id=sc.INVOICE_ID)
        await conv.call(sc.WRITE, "resend_invoice", invoice_id=sc.INVOICE_ID)
    assert len({c.request.headers["idempotency-key"] for c in route.calls}) == 2


async def test_refused_send_names_stripes_code(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.post(SEND).mock(return_value=error_response(400, "error_400_send", canary=PII))
    with pytest.raises(VendorError) as info:
        await call(nc, "resend_invoice", integration=sc.WRITE, invoice_id=sc.INVOICE_ID)
    assert "invoice_not_editable" in str(info.value)
    assert PII not in str(info.value)


# --- errors ------------------------------------------------------------------------------------


async def test_401_rereads_the_key_once_and_resends_then_succeeds(
    nc: NexoraConnect, router: respx.MockRouter, keys: MemoryCredentialSource, audit: MemoryAuditSink
) -> None:
    rotated = make_secret()
    keys.put(sc.TENANT, sc.READ, sc.credential(rotated))
    keys.lagging = True  # the first read still hands out the revoked key

    def stripe(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == f"Bearer {rotated}":
            return httpx.Response(200, json=sc.fixture("customer"))
        return error_response(401, "error_401")

    route = router.get(CUSTOMER).mock(side_effect=stripe)
    assert await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID) == Money(
        amount_minor=1250, currency="NZD"
    )
    assert route.call_count == 2
    assert (keys.fresh_reads, keys.invalidations) == (1, 1)
    assert audit.records[-1].credential_version == 2


async def test_persistent_401_is_a_vendor_auth_error_with_request_id_and_type(
    nc: NexoraConnect, router: respx.MockRouter, secret: str
) -> None:
    route = router.get(CUSTOMER).mock(return_value=error_response(401, "error_401", canary=PII))
    with pytest.raises(VendorAuthError) as info:
        await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID)
    assert route.call_count == 2
    text = str(info.value)
    assert "req_T3stR3q0001" in text
    assert "invalid_request_error" in text  # Stripe sends no code on a bad key, only the type
    assert PII not in text
    assert "Invalid API Key" not in text
    assert secret not in text


@pytest.mark.parametrize(
    ("status", "fixture", "error", "code"),
    [
        (403, "error_403", VendorAuthError, "secret_key_required"),
        (404, "error_404", VendorNotFoundError, "resource_missing"),
        (409, "error_409", VendorConflictError, "idempotency_error"),
        (429, "error_429", VendorRateLimitError, "rate_limit"),
        (500, "error_500", VendorServerError, "api_error"),
        (502, "error_500", VendorServerError, "api_error"),
    ],
)
async def test_error_statuses_map_to_typed_errors_with_code_and_request_id(
    nc: NexoraConnect,
    router: respx.MockRouter,
    status: int,
    fixture: str,
    error: type[VendorError],
    code: str,
) -> None:
    router.get(CUSTOMER).mock(return_value=error_response(status, fixture, canary=PII))
    with pytest.raises(error) as info:
        await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID)
    assert info.value.vendor_code == code
    assert info.value.request_id == "req_T3stR3q0001"
    assert info.value.status == status
    text = str(info.value)
    for expected in (code, "req_T3stR3q0001", CUSTOMER_TEMPLATE):
        assert expected in text
    for leaked in (PII, "No such", "dashboard", sc.CUSTOMER_ID):
        assert leaked not in text
    assert info.value.__context__ is None


async def test_429_without_retry_after_backs_off_and_retries(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get(CUSTOMER).mock(
        side_effect=[error_response(429, "error_429"), httpx.Response(200, json=sc.fixture("customer"))]
    )
    assert await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID) == Money(
        amount_minor=1250, currency="NZD"
    )
    assert route.call_count == 2


async def test_persistent_429_reports_no_retry_after(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get(CUSTOMER).mock(return_value=error_response(429, "error_429"))
    with pytest.raises(VendorRateLimitError) as info:
        await call(nc, "get_balance", customer_id=sc.CUSTOMER_ID)
    assert info.value.retry_after is None
    assert route.call_count == 3


async def test_5xx_on_a_read_is_retried(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get("/v1/subscriptions").mock(
        side_effect=[error_response(503, "error_500"), httpx.Response(200, json=sc.fixture("subscriptions"))]
    )
    assert len(await call(nc, "list_subscriptions", customer_id=sc.CUSTOMER_ID)) == 4
    assert route.call_count == 2


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bad gateway</html>",
        b'{"error": "a string"}',
        b'{"error": {"code": "No such customer: Aroha Test", "type": 42}}',
        b'{"error": {"code": "rate\\u0000limit"}}',
        b"[]",
    ],
)
def test_error_code_reads_only_plain_machine_codes(body: bytes) -> None:
    assert StripeConnector.error_code(None, httpx.Response(400, content=body)) is None  # type: ignore[arg-type]


# --- verify ------------------------------------------------------------------------------------


async def test_verify_lists_one_customer(nc: NexoraConnect, router: respx.MockRouter, secret: str) -> None:
    route = router.get("/v1/customers").respond(200, json=sc.fixture("customers_list"))
    await nc.verify(sc.TENANT, sc.READ)
    request = route.calls.last.request
    assert dict(request.url.params) == {"limit": "1"}
    assert_stripe_headers(request, secret)


async def test_verify_with_a_revoked_key_raises_vendor_auth_error(
    nc: NexoraConnect, router: respx.MockRouter, keys: MemoryCredentialSource
) -> None:
    route = router.get("/v1/customers").mock(return_value=error_response(401, "error_401"))
    with pytest.raises(VendorAuthError, match="req_T3stR3q0001"):
        await nc.verify(sc.TENANT, sc.READ)
    assert route.call_count == 2
    assert keys.fresh_reads == 1


# --- declaration -------------------------------------------------------------------------------


def test_connector_declares_every_billing_operation_with_the_standard_scopes() -> None:
    scopes = {name: str(spec.scope) for name, spec in StripeConnector.implemented_operations().items()}
    assert scopes == {
        "find_customers": "customers:read",
        "get_balance": "customers:read",
        "list_invoices": "invoices:read",
        "list_subscriptions": "subscriptions:read",
        "resend_invoice": "invoices:write",
    }
    assert not any(spec.reads_over_post for spec in StripeConnector.operations.values())
    assert StripeConnector.idempotency_header == "Idempotency-Key"
