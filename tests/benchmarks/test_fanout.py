"""customer_context() costs the slowest source, not the sum (DESIGN §7), measured.

Run with ``pytest -m benchmark tests/benchmarks/test_fanout.py -s``. HubSpot,
Zendesk and Stripe (the shipped connectors) answer through respx with their
lookups delayed 50, 80 and 120 ms; their follow-up requests answer at once.
Each round opens a fresh conversation so nothing is served from the cache.

Reported, as medians of 20 rounds: the whole call, the slowest source's chain
(its own measured latency: the floor a concurrent fan-out cannot beat), and
the sum of the three chains (what a sequential fan-out would cost). The
assertions are loose ceilings that only a regression to sequential, or
bookkeeping by the tens of milliseconds, would cross.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
import pytest
import respx

from tests.connectors import hubspot_cases as hubspot
from tests.connectors import stripe_cases as stripe
from tests.connectors import zendesk_cases as zendesk
from tests.runtime.support import (
    BILLING,
    CALLER_PHONE,
    CRM,
    TENANT,
    TICKETS,
    Vendors,
    runtime,
    stripe_customer,
)

pytestmark = pytest.mark.benchmark

ROUNDS = 20
DELAYS = {CRM: 0.05, TICKETS: 0.08, BILLING: 0.12}


def _delayed(delay: float, body: Any) -> Any:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(delay)
        return httpx.Response(200, json=body)

    return answer


async def test_fanout_costs_the_slowest_source_not_the_sum() -> None:
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    vendors = Vendors(router).mount()
    vendors.routes["hubspot_search"].mock(
        side_effect=_delayed(DELAYS[CRM], hubspot.search_response(hubspot.search_hit()))
    )
    vendors.routes["zendesk_users"].mock(
        side_effect=_delayed(DELAYS[TICKETS], zendesk.fixture("users_search_by_phone"))
    )
    vendors.routes["stripe_search"].mock(
        side_effect=_delayed(DELAYS[BILLING], stripe.search_page([stripe_customer()], None))
    )

    totals: list[float] = []
    slowest: list[float] = []
    sums: list[float] = []
    async with runtime(router) as nc:
        for n in range(ROUNDS + 1):
            async with nc.conversation(tenant=TENANT, conversation_id=f"bench-{n}") as conv:
                started = time.perf_counter()
                ctx = await conv.customer_context(phone=CALLER_PHONE, budget=2.0)
                total = (time.perf_counter() - started) * 1000
            assert ctx.complete, {i: s.status for i, s in ctx.sources.items()}
            if n == 0:
                continue  # warm-up: imports, connection pools, first-use caches
            latencies = [s.latency_ms for s in ctx.sources.values()]
            totals.append(total)
            slowest.append(max(latencies))
            sums.append(sum(latencies))

    total_ms = statistics.median(totals)
    slowest_ms = statistics.median(slowest)
    sum_ms = statistics.median(sums)
    print(
        f"\nfan-out over {len(DELAYS)} sources (lookups delayed "
        f"{', '.join(f'{d * 1000:.0f}' for d in DELAYS.values())} ms), median of {ROUNDS}:"
        f"\n  whole call       {total_ms:7.1f} ms"
        f"\n  slowest source   {slowest_ms:7.1f} ms   (whole call / slowest = {total_ms / slowest_ms:.3f})"
        f"\n  sum of sources   {sum_ms:7.1f} ms   (whole call / sum     = {total_ms / sum_ms:.3f})"
        f"\n  overhead beyond the slowest source: {total_ms - slowest_ms:.2f} ms"
    )
    assert total_ms < 0.6 * sum_ms, "the sources ran one after another"
    assert total_ms < slowest_ms * 1.15, "the fan-out costs well beyond its slowest source"


async def test_rendering_the_context_for_the_model() -> None:
    """What for_llm() costs on a full context: decrypting the sealed records, redacting, formatting."""
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    Vendors(router).mount()
    async with runtime(router) as nc, nc.conversation(tenant=TENANT, conversation_id="render") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        assert ctx.complete
        text = ctx.for_llm()
        timings: dict[str, list[float]] = {"text": [], "json": [], "records": []}
        for _ in range(200):
            started = time.perf_counter()
            ctx.for_llm()
            timings["text"].append(time.perf_counter() - started)
            started = time.perf_counter()
            ctx.for_llm("json")
            timings["json"].append(time.perf_counter() - started)
            started = time.perf_counter()
            ctx.records(BILLING)
            timings["records"].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) * 1e6 for name, values in timings.items()}
    print(
        f"\nfor_llm on a full context ({len(text.encode())} bytes of text), median of 200:"
        f"\n  text {medians['text']:7.0f} µs   json {medians['json']:7.0f} µs"
        f"   (of which opening the sealed records: {medians['records']:5.0f} µs)"
    )
    assert medians["text"] < 20_000
