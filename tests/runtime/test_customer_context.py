"""conv.customer_context(): fan-out across HubSpot, Zendesk and Stripe with per-source status.

Every test runs the shipped connectors against respx routes answering with
their own fixtures. No test asserts on wall-clock time: concurrency is shown
by requests in flight together, the deadline by cancelled requests.
"""

from __future__ import annotations

import asyncio
import pickle
from typing import Any, ClassVar

import httpx
import pytest
import respx

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    Contact,
    ConversationClosedError,
    InvalidArgumentsError,
    MemoryAuditSink,
    ResidencyError,
    UsageError,
)
from sdk._call import CustomerContext, SourceStatus
from sdk.authoring import CRMConnector, operation
from sdk.testing import MemoryCredentialSource
from tests.connectors import hubspot_cases as hubspot
from tests.connectors import stripe_cases as stripe
from tests.connectors import zendesk_cases as zendesk
from tests.runtime.support import (
    BILLING,
    CALLER_E164,
    CALLER_PHONE,
    CRM,
    TENANT,
    TICKETS,
    Slow,
    Vendors,
    credentials,
    hubspot_contact,
    runtime,
    stripe_customer,
)


async def _context(router: respx.MockRouter, key: str, **kwargs: Any) -> tuple[CustomerContext, Any]:
    async with (
        runtime(router, key=key) as nc,
        nc.conversation(tenant=TENANT, conversation_id="call-1") as conv,
    ):
        return await conv.customer_context(**kwargs), conv


async def test_full_context_from_all_three_sources(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)

        assert {i: s.status for i, s in ctx.sources.items()} == {
            CRM: SourceStatus.OK,
            TICKETS: SourceStatus.OK,
            BILLING: SourceStatus.OK,
        }
        assert ctx.complete
        assert [s.category.value for s in ctx.sources.values()] == ["crm", "ticketing", "billing"]
        assert all(s.error is None and s.latency_ms >= 0 for s in ctx.sources.values())
        assert next(step.operation for step in ctx.sources[CRM].steps) == "find_contacts"
        assert {step.operation for step in ctx.sources[CRM].steps} == {
            "find_contacts",
            "get_contact",
            "get_account",
        }

        assert ctx.contact is not None
        assert ctx.contact.id == "51"
        assert ctx.contact.email == "aroha.ngata@example.co.nz"
        assert ctx.account is not None
        assert ctx.account.name == "Kiwi Plumbing Ltd"
        # The newest open ticket comes with its comments; the others as listed.
        assert [t.id for t in ctx.tickets][:2] == ["35438", "35437"]
        assert ctx.tickets[0].comments
        assert not ctx.tickets[1].comments
        assert ctx.billing_customer is not None
        assert ctx.billing_customer.id == "cus_T3stAroha0001"
        # Stripe's customer carries the balance: no get_balance request was needed.
        assert ctx.balance is not None
        assert (ctx.balance.amount_minor, ctx.balance.currency) == (1250, "NZD")
        assert vendors.calls()["stripe_customer"] == 0
        assert "in_T3stOpen000002" in [i.id for i in ctx.invoices]
        assert len(ctx.subscriptions) == 4
        assert ctx.records(BILLING).customer == ctx.billing_customer
        with pytest.raises(UsageError, match="no source"):
            ctx.records("salesforce")


async def test_sources_run_concurrently(vendors: Vendors, router: respx.MockRouter, key: str) -> None:
    """Each source's first request waits until all three are in flight: a sequential fan-out would stall."""
    in_flight = 0
    peak = 0
    all_in = asyncio.Event()

    def gated(answer: httpx.Response) -> Any:
        async def respond(request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            if in_flight >= 3:
                all_in.set()
            try:
                await asyncio.wait_for(all_in.wait(), timeout=5)
            finally:
                in_flight -= 1
            return answer

        return respond

    for name, body in (
        ("hubspot_search", hubspot.search_response(hubspot.search_hit())),
        ("zendesk_users", zendesk.fixture("users_search_by_phone")),
        ("stripe_search", stripe.search_page([stripe_customer()], None)),
    ):
        vendors.routes[name].mock(side_effect=gated(httpx.Response(200, json=body)))

    ctx, _ = await _context(router, key, phone=CALLER_PHONE, budget=5.0)

    assert peak == 3
    assert all(s.status is SourceStatus.OK for s in ctx.sources.values())


async def test_deadline_returns_partial_context_and_cancels_the_slow_source(
    vendors: Vendors, router: respx.MockRouter, key: str, audit: MemoryAuditSink
) -> None:
    slow = Slow(delay=30.0, response=httpx.Response(200, json=stripe.search_page([], None)))
    vendors.routes["stripe_search"].mock(side_effect=slow)

    async with (
        runtime(router, key=key, audit=audit) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c1") as conv,
    ):
        ctx = await conv.customer_context(phone=CALLER_PHONE, budget=0.3)

        billing = ctx.sources[BILLING]
        assert billing.status is SourceStatus.TIMED_OUT
        assert billing.error == "DeadlineExceededError"
        assert [(s.operation, s.status) for s in billing.steps] == [
            ("find_customers", SourceStatus.TIMED_OUT)
        ]
        assert ctx.sources[CRM].status is SourceStatus.OK
        assert ctx.sources[TICKETS].status is SourceStatus.OK
        assert not ctx.complete
        # Bounded by the budget: the 30 s request was started, cancelled and never completed.
        assert (slow.started, slow.cancelled, slow.finished) == (1, 1, 0)
        assert ctx.contact is not None
        assert ctx.billing_customer is None
        assert "timed out" in ctx.for_llm()
    # The cancelled operation still left its audit record (S7).
    outcomes = {(r.integration, r.operation): r.outcome for r in audit.records}
    assert outcomes[(BILLING, "find_customers")] in {"cancelled", "DeadlineExceededError"}


async def test_a_dependent_step_cut_by_the_deadline_keeps_what_arrived(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = Slow(delay=30.0, response=httpx.Response(200, json=hubspot.fixture("company")))
    vendors.routes["hubspot_company"].mock(side_effect=slow)

    ctx, _ = await _context(router, key, phone=CALLER_PHONE, budget=0.3)
    # Read inside the conversation is not possible any more; the statuses say what happened.
    crm = ctx.sources[CRM]
    assert crm.status is SourceStatus.TIMED_OUT
    steps = {s.operation: s.status for s in crm.steps}
    assert steps == {
        "find_contacts": SourceStatus.OK,
        "get_contact": SourceStatus.OK,
        "get_account": SourceStatus.TIMED_OUT,
    }
    assert slow.cancelled == 1
    assert slow.finished == 0


async def test_partial_crm_records_are_readable_until_hangup(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    vendors.routes["hubspot_company"].mock(
        side_effect=Slow(delay=30.0, response=httpx.Response(200, json=hubspot.fixture("company")))
    )
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE, budget=0.3)
        assert ctx.contact is not None
        assert ctx.contact.id == "51"
        assert ctx.account is None
        text = ctx.for_llm()
        assert "timed out" in text
        assert "contact:" in text
        assert "account:" not in text


async def test_several_contacts_for_one_phone_are_ambiguous_never_picked(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    vendors.routes["hubspot_search"].respond(
        200, json=hubspot.search_response(hubspot_contact("51", "Aroha"), hubspot_contact("52", "Hemi"))
    )
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)

        crm = ctx.sources[CRM]
        assert crm.status is SourceStatus.AMBIGUOUS
        assert crm.candidates == 2
        assert [c.id for c in ctx.records(CRM).contact_candidates] == ["51", "52"]
        assert ctx.contact is None
        assert ctx.account is None
        # The dependent fetches were skipped.
        assert vendors.calls()["hubspot_contact"] == 0
        assert vendors.calls()["hubspot_company"] == 0
        assert [s.operation for s in crm.steps] == ["find_contacts"]
        text = ctx.for_llm()
        assert "ambiguous: 2 candidates" in text
        assert "Aroha Test" in text
        assert "Hemi Test" in text
        view = ctx.for_llm("json")["sources"][CRM]
        assert view["status"] == "ambiguous"
        assert [c["id"] for c in view["candidates"]] == ["51", "52"]
        assert "contact" not in view


async def test_several_billing_customers_are_ambiguous(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    vendors.routes["stripe_search"].respond(
        200,
        json=stripe.fixture("customers_search_page2")
        | {"data": stripe.fixture("customers_search_page1")["data"]},
    )
    ctx, _ = await _context(router, key, email=stripe.EMAIL)
    assert ctx.sources[BILLING].status is SourceStatus.AMBIGUOUS
    assert ctx.sources[BILLING].candidates == 2
    assert vendors.calls()["stripe_invoices"] == 0
    assert vendors.calls()["stripe_subscriptions"] == 0


async def test_tickets_of_several_requesters_sharing_the_number_are_ambiguous(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    tickets = zendesk.fixture("search_tickets")
    tickets["results"][1]["requester_id"] = 9100009
    vendors.routes["zendesk_search"].respond(200, json=tickets)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        assert ctx.sources[TICKETS].status is SourceStatus.AMBIGUOUS
        assert ctx.sources[TICKETS].candidates == 2
        assert vendors.calls()["zendesk_ticket"] == 0
        assert "ask who is calling" in ctx.for_llm()


async def test_nothing_found_is_reported_as_not_found(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    vendors.routes["stripe_search"].respond(200, json=stripe.search_page([], None))
    vendors.routes["hubspot_search"].respond(200, json=hubspot.search_response())
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        assert ctx.sources[BILLING].status is SourceStatus.NOT_FOUND
        assert ctx.sources[CRM].status is SourceStatus.NOT_FOUND
        assert ctx.complete
        assert ctx.billing_customer is None
        assert ctx.contact is None
        assert ctx.balance is None
        assert vendors.calls()["stripe_invoices"] == 0
        text = ctx.for_llm()
        assert "not found (no billing customer matches the caller)" in text
        assert "not found (no contact matches the caller)" in text


async def test_a_vendor_failing_is_failed_with_the_error_kind_only(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    vendors.routes["stripe_search"].respond(500, json=stripe.fixture("error_500"))
    ctx, _ = await _context(router, key, phone=CALLER_PHONE, budget=5.0)
    billing = ctx.sources[BILLING]
    assert billing.status is SourceStatus.FAILED
    assert billing.error == "VendorServerError"
    assert ctx.sources[CRM].status is SourceStatus.OK
    # The error kind is the class name, nothing else: no message, path or status to carry data.
    assert ctx.model_dump()["sources"][BILLING]["error"] == "VendorServerError"


class _UndeclaredSearchHubSpot(HubSpotConnector):
    """A connector bug: an override without endpoints inherits none, so the HTTP guard refuses its search."""

    name: ClassVar[str] = "hubspot"

    @operation("contacts:read")
    async def find_contacts(self, phone: str | None = None, email: str | None = None) -> list[Contact]:
        return await super().find_contacts(phone=phone, email=email)


async def test_a_request_the_scope_guard_refuses_is_denied_and_never_sent(
    vendors: Vendors, router: respx.MockRouter, key: str, audit: MemoryAuditSink
) -> None:
    async with (
        runtime(router, key=key, audit=audit, crm=_UndeclaredSearchHubSpot) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c1") as conv,
    ):
        ctx = await conv.customer_context(phone=CALLER_PHONE)
    crm = ctx.sources[CRM]
    assert crm.status is SourceStatus.DENIED
    assert crm.error == "ScopeDeniedError"
    assert vendors.calls()["hubspot_search"] == 0
    assert ctx.sources[BILLING].status is SourceStatus.OK
    denied = [r for r in audit.records if r.integration == CRM]
    assert [(r.operation, r.outcome) for r in denied] == [("find_contacts", "ScopeDeniedError")]


class _OutOfRegionCredentials(MemoryCredentialSource):
    """The billing key lives outside the tenant's region and cross-region use is off (S8)."""

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> Any:
        if integration == BILLING:
            raise ResidencyError("the credential for this integration is stored outside the tenant's region")
        return await super().get(tenant, integration, fresh=fresh)


async def test_a_residency_refusal_is_denied(vendors: Vendors, router: respx.MockRouter, key: str) -> None:
    source = _OutOfRegionCredentials()
    source.versions = credentials(key).versions
    async with (
        runtime(router, source=source) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c1") as conv,
    ):
        ctx = await conv.customer_context(phone=CALLER_PHONE)
    assert ctx.sources[BILLING].status is SourceStatus.DENIED
    assert ctx.sources[BILLING].error == "ResidencyError"
    assert vendors.calls()["stripe_search"] == 0


async def test_a_second_call_is_served_from_the_conversation_cache(
    vendors: Vendors, router: respx.MockRouter, key: str, audit: MemoryAuditSink
) -> None:
    async with (
        runtime(router, key=key, audit=audit) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c1") as conv,
    ):
        first = await conv.customer_context(phone=CALLER_PHONE)
        after_first = vendors.calls()
        seen = len(audit.records)
        # The same caller, written in international form: normalised to the same cache entries.
        second = await conv.customer_context(phone=CALLER_E164)

        assert vendors.calls() == after_first
        assert sum(after_first.values()) >= 9
        assert {r.outcome for r in audit.records[seen:]} == {"cached"}
        assert second.for_llm("json") == first.for_llm("json")

    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c2") as conv:
        await conv.customer_context(phone=CALLER_PHONE)
    # A new conversation starts with an empty cache.
    assert vendors.calls()["hubspot_search"] == 2


async def test_a_timed_out_source_is_fetched_again_on_the_next_call(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    nobody = httpx.Response(200, json=stripe.search_page([], None))
    slow = Slow(delay=30.0, response=nobody)

    async def slow_then_fast(request: httpx.Request) -> httpx.Response:
        return await slow(request) if slow.started == 0 else nobody

    vendors.routes["stripe_search"].mock(side_effect=slow_then_fast)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        first = await conv.customer_context(phone=CALLER_PHONE, budget=0.3)
        second = await conv.customer_context(phone=CALLER_PHONE, budget=0.3)
    assert first.sources[BILLING].status is SourceStatus.TIMED_OUT
    assert second.sources[BILLING].status is SourceStatus.NOT_FOUND
    assert vendors.calls()["hubspot_search"] == 1


async def test_the_context_is_wiped_at_hangup(vendors: Vendors, router: respx.MockRouter, key: str) -> None:
    async with runtime(router, key=key) as nc:
        conv = nc.conversation(tenant=TENANT, conversation_id="c1")
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        assert ctx.contact is not None
        await conv.hangup()

        for read in (
            lambda: ctx.contact,
            lambda: ctx.tickets,
            lambda: ctx.balance,
            lambda: ctx.records(CRM),
            lambda: ctx.for_llm(),
            lambda: ctx.for_llm("json"),
        ):
            with pytest.raises(ConversationClosedError):
                read()
        with pytest.raises(ConversationClosedError):
            await conv.customer_context(phone=CALLER_PHONE)
        # What stays readable holds no customer data: statuses and timings.
        assert ctx.sources[CRM].status is SourceStatus.OK
        assert "Aroha" not in repr(ctx)
        assert "Aroha" not in ctx.model_dump_json()


async def test_hangup_during_the_fanout_returns_no_context(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = Slow(delay=30.0, response=httpx.Response(200, json=stripe.search_page([], None)))
    vendors.routes["stripe_search"].mock(side_effect=slow)
    async with runtime(router, key=key) as nc:
        conv = nc.conversation(tenant=TENANT, conversation_id="c1")
        task = asyncio.create_task(conv.customer_context(phone=CALLER_PHONE, budget=0.3))
        await slow.in_flight.wait()
        await conv.hangup()
        # Requests in flight end at the deadline at the latest; what they fetched is not kept.
        with pytest.raises(ConversationClosedError):
            await task
        assert conv.cached_records == 0
        assert slow.cancelled == 1
        assert slow.finished == 0


async def test_cancelling_the_caller_cancels_every_request(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = Slow(delay=30.0, response=httpx.Response(200, json=stripe.search_page([], None)))
    vendors.routes["stripe_search"].mock(side_effect=slow)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        task = asyncio.create_task(conv.customer_context(phone=CALLER_PHONE, budget=5.0))
        await slow.in_flight.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert slow.cancelled == 1
        assert slow.finished == 0


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "phone or email"),
        ({"phone": "not a number"}, "phone is not a phone number"),
        ({"phone": "1" * 40}, "phone is not a phone number"),
        ({"email": "nobody"}, "email is not an email address"),
        ({"email": "a b@example.test"}, "email is not an email address"),
        ({"phone": CALLER_PHONE, "budget": 0}, "budget"),
        ({"phone": CALLER_PHONE, "budget": float("nan")}, "budget"),
        ({"phone": CALLER_PHONE, "budget": True}, "budget"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    vendors: Vendors, router: respx.MockRouter, key: str, arguments: dict[str, Any], problem: str
) -> None:
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        with pytest.raises(InvalidArgumentsError, match=problem) as caught:
            await conv.customer_context(**arguments)
    for value in arguments.values():
        if isinstance(value, str):
            assert value not in str(caught.value)
    assert sum(vendors.calls().values()) == 0


async def test_email_lookup_reaches_every_source(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    ctx, _ = await _context(router, key, email=stripe.EMAIL)
    assert vendors.calls()["zendesk_users"] == 0  # by email Zendesk needs no user search
    assert vendors.calls()["zendesk_search"] == 1
    assert ctx.sources[TICKETS].status is SourceStatus.OK


async def test_a_context_cannot_be_pickled(vendors: Vendors, router: respx.MockRouter, key: str) -> None:
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        with pytest.raises(UsageError, match="pickled"):
            pickle.dumps(ctx)


class _NoLookupCRM(CRMConnector):
    """A CRM connector that can fetch a contact by id but cannot search: nothing to ask for a caller."""

    name: ClassVar[str] = "hubspot"
    base_url: ClassVar[str] = hubspot.BASE

    async def get_contact(self, contact_id: str) -> Contact:
        raise AssertionError("customer_context must not call get_contact without a lookup")


async def test_a_connector_without_a_lookup_is_unsupported(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    async with (
        runtime(router, key=key, crm=_NoLookupCRM) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c1") as conv,
    ):
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        assert ctx.sources[CRM].status is SourceStatus.UNSUPPORTED
        assert ctx.sources[CRM].steps == ()
        assert "unsupported" in ctx.for_llm()
    assert ctx.sources[BILLING].status is SourceStatus.OK


async def test_a_failed_dependent_step_fails_the_source_but_keeps_the_lookup(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    vendors.routes["stripe_subscriptions"].respond(500, json=stripe.fixture("error_500"))
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE, budget=5.0)
        billing = ctx.sources[BILLING]
        assert billing.status is SourceStatus.FAILED
        assert billing.error == "VendorServerError"
        assert {s.operation: s.status for s in billing.steps} == {
            "find_customers": SourceStatus.OK,
            "list_invoices": SourceStatus.OK,
            "list_subscriptions": SourceStatus.FAILED,
        }
        assert ctx.billing_customer is not None
        assert ctx.invoices
        assert ctx.subscriptions == ()
