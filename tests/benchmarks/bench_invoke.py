"""What ``conv.invoke`` (a tool call the model made) costs beyond the ``conv.call`` it runs.

One runtime with HubSpot, Zendesk and Stripe answering through respx (the
connectors' own fixtures, keys from memory: ``tests/runtime/support.py``), so
the only code that differs between the variants is the SDK's. Per round, a
fresh conversation runs HubSpot ``get_contact`` three ways, in an order that
rotates from round to round:

* ``conv.call("hubspot", "get_contact", contact_id=...)``;
* ``conv.invoke("hubspot__get_contact", {"contact_id": ...})``: the catalogue
  lookup, argument parsing, the tool span, and rendering the result for the
  model with the tenant's redaction policy (S6), around the same call;
* the same tool with the arguments as the JSON text models send.

To split what ``invoke`` adds, the ``call`` variant's result is also rendered
for the model on its own (``LLMRenderer(policy).view``, what ``invoke`` does
with it): the rest of the difference is the tool's own bookkeeping.

Each uses a contact id of its own, so none is served from the conversation's
cache. Timed per call in thread CPU time (everything, the mocked vendor
included, runs on the event loop's thread); reported: medians, and the
difference of each ``invoke`` from ``call`` as the difference of medians and
the median of the per-round differences.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import respx

from sdk import NexoraConnect
from sdk._call._render import LLMRenderer
from tests.benchmarks.harness import Placement
from tests.runtime.support import CRM, TENANT, Vendors, runtime

ROUNDS = 2000
WARMUP = 50
TOOL = f"{CRM}__get_contact"
VARIANTS = ("call", "invoke", "invoke (JSON text)")


async def _cpu_us(run: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    began_cpu, began = time.thread_time_ns(), time.perf_counter_ns()
    result = await run()
    return (time.thread_time_ns() - began_cpu) / 1000, (time.perf_counter_ns() - began) / 1000, result


async def _round(nc: NexoraConnect, n: int) -> dict[str, tuple[float, float]]:
    """One conversation running each variant once, in an order that rotates with ``n``."""
    timed: dict[str, tuple[float, float]] = {}
    async with nc.conversation(tenant=TENANT, conversation_id=f"invoke-{n}") as conv:
        ids = {name: str(100_000 + 3 * n + k) for k, name in enumerate(VARIANTS)}
        # The model hands over the JSON text: it is made before the clock starts, not charged to invoke.
        as_text = json.dumps({"contact_id": ids["invoke (JSON text)"]})
        runs: dict[str, Callable[[], Awaitable[Any]]] = {
            "call": lambda: conv.call(CRM, "get_contact", contact_id=ids["call"]),
            "invoke": lambda: conv.invoke(TOOL, {"contact_id": ids["invoke"]}),
            "invoke (JSON text)": lambda: conv.invoke(TOOL, as_text),
        }
        shift = n % len(VARIANTS)
        for name in VARIANTS[shift:] + VARIANTS[:shift]:
            cpu, wall, result = await _cpu_us(runs[name])
            if name != "call" and not result.ok:
                raise RuntimeError(f"the tool call failed ({result.error_kind}): nothing to time")
            timed[name] = (cpu, wall)
            if name == "call":
                began = time.thread_time_ns()
                LLMRenderer(nc.policy(TENANT)).view(result)
                timed["render"] = ((time.thread_time_ns() - began) / 1000, 0.0)
    return timed


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    rounds = 200 if quick else ROUNDS
    load_before = [round(x, 2) for x in os.getloadavg()]
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    Vendors(router).mount()
    cpu: dict[str, list[float]] = {name: [] for name in (*VARIANTS, "render")}
    wall: dict[str, list[float]] = {name: [] for name in (*VARIANTS, "render")}
    async with runtime(router) as nc:
        for n in range(WARMUP):  # imports, the tool catalogue, first-use caches
            await _round(nc, -1 - n)
        for n in range(rounds):
            for name, (c, w) in (await _round(nc, n)).items():
                cpu[name].append(c)
                wall[name].append(w)
            if n % 100 == 99:
                router.reset()  # respx keeps every request it answered; do not let that grow
    call = statistics.median(cpu["call"])
    out: dict[str, Any] = {
        "rounds": rounds,
        "tool": TOOL,
        "variants": {
            name: {
                "cpu_us": statistics.median(cpu[name]),
                "cpu_min_us": min(cpu[name]),
                "wall_us": statistics.median(wall[name]),
            }
            for name in VARIANTS
        },
    }
    for name in VARIANTS[1:]:
        paired = [i - c for i, c in zip(cpu[name], cpu["call"], strict=True)]
        out["variants"][name]["beyond_call_us"] = statistics.median(cpu[name]) - call
        out["variants"][name]["beyond_call_paired_us"] = statistics.median(paired)
    out["render_us"] = statistics.median(cpu["render"])
    worst = max(VARIANTS[1:], key=lambda name: out["variants"][name]["beyond_call_us"])
    out["worst"] = worst
    out["beyond_call_us"] = out["variants"][worst]["beyond_call_us"]
    out["load_average"] = [load_before, [round(x, 2) for x in os.getloadavg()]]
    return out
