"""Hangup wipe time, and memory after many conversations against after a few.

Both run against the loopback upstream with the key held in memory
(``MemoryCredentialSource``): what is measured is the SDK's own bookkeeping, and
a Vault read per call would only make the run longer. The audit sink is
``NullAuditSink`` here: ``MemoryAuditSink`` keeps every record by design, which
would be growth by request, not a leak.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import (
    CALLER_PHONE,
    CRM,
    TENANT,
    Placement,
    environment,
    percentile,
    sdk_runtime,
)

RECORDS = 100


def _rss_kib() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * 4


def _heap() -> dict[str, int]:
    gc.collect()
    gc.collect()
    return {"blocks": sys.getallocatedblocks(), "gc_objects": len(gc.get_objects()), "rss_kib": _rss_kib()}


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    from sdk import NullAuditSink
    from sdk.testing import MemoryCredentialSource
    from tests.connectors import hubspot_cases as hubspot
    from tests.connectors import stripe_cases as stripe
    from tests.connectors import zendesk_cases as zendesk

    wipes = 10 if quick else 50
    total = 1_000 if quick else 10_000
    baseline_after = 100
    concurrency = 20
    ids = (f"mem-{n}" for n in itertools.count())
    async with environment(placement) as env:
        memory = MemoryCredentialSource()
        memory.put(TENANT, CRM, hubspot.credential(env.keys[CRM]))
        memory.put(TENANT, "tickets", zendesk.credential(env.keys["tickets"]))
        memory.put(TENANT, "billing", stripe.credential(env.keys["billing"]))
        async with sdk_runtime(env, credentials=memory, audit=NullAuditSink()) as nc:
            # --- hangup of a conversation holding RECORDS cached results ---------------------
            full: list[float] = []
            for _ in range(wipes):
                conv = nc.conversation(tenant=TENANT, conversation_id=next(ids))
                await asyncio.gather(
                    *(conv.call(CRM, "get_contact", contact_id=str(5000 + i)) for i in range(RECORDS))
                )
                if conv.cached_records != RECORDS:
                    raise RuntimeError(f"expected {RECORDS} cached records, found {conv.cached_records}")
                started = time.perf_counter()
                await conv.hangup()
                full.append(time.perf_counter() - started)
                if conv.cached_records != 0:
                    raise RuntimeError("hangup left records behind")
            typical: list[float] = []
            for _ in range(wipes):
                conv = nc.conversation(tenant=TENANT, conversation_id=next(ids))
                await conv.customer_context(phone=CALLER_PHONE, budget=10.0)
                held = conv.cached_records
                started = time.perf_counter()
                await conv.hangup()
                typical.append(time.perf_counter() - started)

            # --- memory: the same small conversation, many times ------------------------------
            async def one_conversation() -> None:
                async with nc.conversation(tenant=TENANT, conversation_id=next(ids)) as conv:
                    contact = await conv.call(CRM, "get_contact", contact_id="51")
                    await conv.call(CRM, "get_account", account_id=contact.account_id)

            async def run(count: int) -> None:
                remaining = iter(range(count))

                async def worker() -> None:
                    for _ in remaining:
                        await one_conversation()

                await asyncio.gather(*(worker() for _ in range(concurrency)))

            await run(baseline_after)
            at_baseline = _heap()
            started = time.perf_counter()
            await run(total - baseline_after)
            elapsed = time.perf_counter() - started
            at_end = _heap()
            still_open = nc.open_conversations
    growth = {k: at_end[k] - at_baseline[k] for k in at_baseline}
    return {
        "records": RECORDS,
        "wipe_100_records": {
            "median_ms": statistics.median(full) * 1000,
            "max_ms": max(full) * 1000,
            "p99_ms": percentile(full, 0.99) * 1000,
            "samples": len(full),
        },
        "wipe_typical": {
            "records": held,
            "median_ms": statistics.median(typical) * 1000,
            "max_ms": max(typical) * 1000,
            "samples": len(typical),
        },
        "conversations": total,
        "baseline_after": baseline_after,
        "memory_at_baseline": at_baseline,
        "memory_at_end": at_end,
        "growth": growth,
        "blocks_per_conversation": growth["blocks"] / (total - baseline_after),
        "open_conversations_at_end": still_open,
        "seconds": elapsed,
    }
