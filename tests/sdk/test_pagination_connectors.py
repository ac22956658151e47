"""Pagination loops through shipped connectors, with the vendors' own page shapes.

Stripe's Search API pages with ``next_page`` tokens; one that comes back again is a loop. A plain
``conv.call`` gets the typed error naming the request and the page; the customer-context fan-out,
which reports completeness per source, gets the customers found so far, flagged truncated.
"""

from __future__ import annotations

import secrets

import respx

from sdk import MemoryAuditSink, VendorPayloadError
from tests.connectors import stripe_cases as sc
from tests.mock_nexora import vendor_router
from tests.sdk.fakes import make_secret

SEARCH = f"{sc.BASE}/v1/customers/search"


def _looping_search(router: respx.MockRouter, token: str) -> respx.Route:
    customer = sc.fixture("customer")
    return router.get(SEARCH).respond(200, json=sc.search_page([customer], token))


async def test_a_looping_search_is_a_typed_error_for_a_plain_call() -> None:
    token = "pg_" + secrets.token_hex(8)
    router = vendor_router(sc.BASE)
    route = _looping_search(router, token)
    audit = MemoryAuditSink()
    async with (
        sc.runtime(router, sc.credentials(make_secret()), audit=audit) as nc,
        nc.conversation(tenant=sc.TENANT, conversation_id="call-loop") as conv,
    ):
        try:
            await conv.call(sc.READ, "find_customers", email=sc.EMAIL)
        except VendorPayloadError as exc:
            caught = exc
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError("a looping search returned as if complete")
    message = str(caught)
    assert "page 2" in message
    assert "find_customers" in message
    assert (caught.method, caught.path) == ("GET", "/v1/customers/search")
    assert token not in message
    assert route.call_count == 2
    assert audit.records[-1].outcome == "VendorPayloadError"


async def test_the_fan_out_keeps_what_a_looping_search_found_and_says_it_is_truncated() -> None:
    router = vendor_router(sc.BASE)
    _looping_search(router, "pg_loop")
    router.get(f"{sc.BASE}/v1/invoices").respond(200, json=sc.list_page("/v1/invoices", []))
    router.get(f"{sc.BASE}/v1/subscriptions").respond(200, json=sc.list_page("/v1/subscriptions", []))
    audit = MemoryAuditSink()
    async with (
        sc.runtime(router, sc.credentials(make_secret()), audit=audit) as nc,
        nc.conversation(tenant=sc.TENANT, conversation_id="call-ctx") as conv,
    ):
        context = await conv.customer_context(email=sc.EMAIL, budget=5)
        source = context.sources[sc.READ]
        assert source.truncated
        assert context.records(sc.READ).customer is not None
        # Not cached: a plain call afterwards walks again and gets the typed error.
        try:
            await conv.call(sc.READ, "find_customers", email=sc.EMAIL)
        except VendorPayloadError:
            pass
        else:  # pragma: no cover
            raise AssertionError("a truncated result was served to a plain call from the cache")
    searches = [r for r in audit.records if r.operation == "find_customers"]
    assert searches[0].truncated
    assert searches[0].outcome == "ok"
