"""Identical reads in flight within one conversation share one vendor round trip (issue 12).

A model that repeats a tool call, or a tool call that overlaps the customer-context fetch, must
not double the load on the vendor (nor the latency the caller hears). Shared only within one
conversation: never across conversations, never across tenants; a read that fails or is cancelled
shares nothing (each waiter then asks on its own, under its own deadline).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from sdk import MemoryAuditSink, VendorNotFoundError
from sdk._call import SourceStatus
from tests.connectors import stripe_cases as stripe
from tests.runtime.support import BILLING, CALLER_E164, TENANT, Slow, Vendors, runtime, stripe_customer


def _slow_search(vendors: Vendors, delay: float = 0.2) -> Slow:
    slow = Slow(delay, httpx.Response(200, json=stripe.search_page([stripe_customer()], None)))
    vendors.routes["stripe_search"].mock(side_effect=slow)
    return slow


def _outcomes(audit: MemoryAuditSink, operation: str) -> list[str]:
    return sorted(record.outcome for record in audit.records if record.operation == operation)


async def test_a_repeated_tool_call_in_flight_shares_the_first_ones_request(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = _slow_search(vendors)
    audit = MemoryAuditSink()
    async with (
        runtime(router, key=key, audit=audit) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c") as conv,
    ):
        first, second, third = await asyncio.gather(
            *(conv.call(BILLING, "find_customers", phone=CALLER_E164) for _ in range(3))
        )
    assert slow.started == 1
    assert first == second == third
    assert first[0].id == stripe_customer()["id"]
    assert first is not second  # each caller gets its own copy
    assert _outcomes(audit, "find_customers") == ["ok", "shared", "shared"]


async def test_a_tool_call_overlapping_the_context_fetch_shares_its_search(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = _slow_search(vendors)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        context, found = await asyncio.gather(
            conv.customer_context(phone="021 555 0100", budget=5),
            conv.call(BILLING, "find_customers", phone=CALLER_E164),
        )
        assert context.sources[BILLING].status is SourceStatus.OK
        assert context.billing_customer == found[0]
    assert slow.started == 1


async def test_reads_are_never_shared_across_conversations(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = _slow_search(vendors)
    async with (
        runtime(router, key=key) as nc,
        nc.conversation(tenant=TENANT, conversation_id="one") as one,
        nc.conversation(tenant=TENANT, conversation_id="two") as two,
    ):
        await asyncio.gather(
            one.call(BILLING, "find_customers", phone=CALLER_E164),
            two.call(BILLING, "find_customers", phone=CALLER_E164),
        )
    assert slow.started == 2


async def test_different_arguments_are_different_reads(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = _slow_search(vendors, delay=0.05)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        await asyncio.gather(
            conv.call(BILLING, "find_customers", phone=CALLER_E164),
            conv.call(BILLING, "find_customers", email="aroha@example.test"),
        )
    assert slow.started == 2


async def test_a_failed_read_shares_nothing_each_waiter_asks_on_its_own(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = Slow(0.1, httpx.Response(404, json=stripe.fixture("error_404")))
    vendors.routes["stripe_search"].mock(side_effect=slow)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        results = await asyncio.gather(
            conv.call(BILLING, "find_customers", phone=CALLER_E164),
            conv.call(BILLING, "find_customers", phone=CALLER_E164),
            return_exceptions=True,
        )
    assert all(isinstance(result, VendorNotFoundError) for result in results)
    assert slow.started == 2


async def test_a_short_deadline_waiting_for_a_slow_read_times_out_alone(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    """The tool call (no deadline) leads; the context (50 ms budget) stops waiting, the call goes on."""
    slow = _slow_search(vendors, delay=0.3)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        leader = asyncio.ensure_future(conv.call(BILLING, "find_customers", phone=CALLER_E164))
        await slow.in_flight.wait()
        context = await conv.customer_context(phone="021 555 0100", budget=0.05)
        assert context.sources[BILLING].status is SourceStatus.TIMED_OUT
        found = await leader
    assert found[0].id == stripe_customer()["id"]
    assert (slow.started, slow.cancelled) == (1, 0)


async def test_a_cancelled_leader_leaves_its_waiter_to_ask_on_its_own(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    slow = _slow_search(vendors, delay=0.2)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        leader = asyncio.ensure_future(conv.call(BILLING, "find_customers", phone=CALLER_E164))
        await slow.in_flight.wait()
        follower = asyncio.ensure_future(conv.call(BILLING, "find_customers", phone=CALLER_E164))
        await asyncio.sleep(0.01)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        found = await follower
    assert found[0].id == stripe_customer()["id"]
    assert (slow.started, slow.cancelled) == (2, 1)


async def test_a_fresh_on_every_call_read_in_flight_is_shared_too(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    """get_balance is not cached, but two asked at once are one question to the vendor."""
    slow = Slow(0.1, httpx.Response(200, json=stripe.fixture("customer")))
    vendors.routes["stripe_customer"].mock(side_effect=slow)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        one, two = await asyncio.gather(
            conv.call(BILLING, "get_balance", customer_id=stripe.CUSTOMER_ID),
            conv.call(BILLING, "get_balance", customer_id=stripe.CUSTOMER_ID),
        )
        assert one == two
        await conv.call(BILLING, "get_balance", customer_id=stripe.CUSTOMER_ID)
    assert slow.started == 2  # shared while in flight; asked afresh afterwards
