"""``conv.customer_context()`` across HubSpot, Zendesk and Stripe, against the same requests by hand.

Two benchmarks share this harness:

* **fan-out**: one context at a time, each source's lookup delayed 50, 80 and
  120 ms by the upstream: the whole call against its slowest source, the sum
  of the sources, and the floor doing the same requests in the same order;
* **load**: 200 conversations at once, each opening, fetching the context and
  hanging up, on both cores: throughput, latency and the event loop's worst
  stall, against the floor doing the same requests with the same concurrency.

The floor's requests are the SDK's own: one context is fetched through a
recording transport first, and the floor replays exactly those requests (URL,
method, body) with the same dependency structure as ``sdk._customer_context``
(lookup first, then the dependent reads together) and, as the SDK does with
``max_staleness`` 0, one Vault read before each vendor request. The upstream's
request counters confirm both sent the same requests.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import itertools
import json
import statistics
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import httpx

from tests.benchmarks.harness import (
    BILLING,
    CALLER_PHONE,
    CRM,
    TENANT,
    TICKETS,
    CallbackTimer,
    Environment,
    Floor,
    OnLoopVaultSource,
    Placement,
    environment,
    floors,
    percentile,
    sdk_runtime,
    summary_ms,
)

LOOKUP_DELAYS = {CRM: 0.05, TICKETS: 0.08, BILLING: 0.12}
LOOKUPS = {CRM: "find_contacts", TICKETS: "list_tickets", BILLING: "find_customers"}
WHAT_IF = "what-if: SDK with a bare benchmark-only aiohttp credential reader instead of CredentialStore"


@dataclass(frozen=True, slots=True)
class Sent:
    integration: str
    operation: str
    method: str
    url: str
    body: bytes
    headers: tuple[tuple[str, str], ...]


class _Recording(httpx.AsyncBaseTransport):
    """The SDK's default transport, noting each request with the operation that sent it."""

    def __init__(self) -> None:
        from sdk._http import default_transport

        self._inner = default_transport()
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from sdk._context import current_call

        ctx = current_call.get()
        assert ctx is not None
        skip = {
            "authorization",
            "host",
            "content-length",
            "accept-encoding",
            "user-agent",
            "accept",
            "connection",
        }
        headers = tuple((k, v) for k, v in request.headers.items() if k.lower() not in skip)
        self.sent.append(
            Sent(
                ctx.integration,
                ctx.operation.name,
                request.method,
                str(request.url),
                request.content,
                headers,
            )
        )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def record_requests(env: Environment) -> dict[str, dict[str, list[Sent]]]:
    """The requests one customer_context sends, by integration and operation, in sending order."""
    recording = _Recording()
    async with sdk_runtime(env, transport=recording) as nc:
        async with nc.conversation(tenant=TENANT, conversation_id="record") as conv:
            context = await conv.customer_context(phone=CALLER_PHONE, budget=10.0)
        if not context.complete:
            raise RuntimeError(f"the recorded context is incomplete: {context.sources}")
    found: dict[str, dict[str, list[Sent]]] = defaultdict(lambda: defaultdict(list))
    for sent in recording.sent:
        found[sent.integration][sent.operation].append(sent)
    return {i: dict(ops) for i, ops in found.items()}


class ContextFloor:
    """``customer_context`` by hand: the recorded requests, each after its own Vault read."""

    def __init__(self, floor: Floor, recorded: dict[str, dict[str, list[Sent]]]) -> None:
        self.floor = floor
        self.recorded = recorded
        self.name = floor.name

    @staticmethod
    def _auth(secret: dict[str, Any]) -> str:
        if "api_key" in secret:
            return f"Bearer {secret['api_key']}"
        raw = f"{secret['username']}:{secret['password']}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    async def _one(self, sent: Sent) -> Any:
        secret = await self.floor.key(sent.integration)
        headers = {**dict(sent.headers), "Authorization": self._auth(secret)}
        status, raw = await self.floor.send(sent.method, sent.url, headers, sent.body or None)
        if status != 200:
            raise RuntimeError(f"floor {sent.method} {sent.url} answered {status}")
        return json.loads(raw)

    async def _operation(self, integration: str, operation: str, *, together: bool) -> None:
        requests = self.recorded[integration].get(operation, [])
        if together:
            await asyncio.gather(*(self._one(s) for s in requests))
        else:
            for sent in requests:  # a lookup's requests depend on each other (Zendesk: user, then tickets)
                await self._one(sent)

    async def _source(self, integration: str, latencies: dict[str, float]) -> None:
        started = time.perf_counter()
        lookup = LOOKUPS[integration]
        await self._operation(integration, lookup, together=False)
        dependents = [op for op in self.recorded[integration] if op != lookup]
        await asyncio.gather(*(self._operation(integration, op, together=True) for op in dependents))
        latencies[integration] = (time.perf_counter() - started) * 1000

    async def context(self) -> dict[str, float]:
        """Fetch it; return each source's latency in milliseconds."""
        latencies: dict[str, float] = {}
        await asyncio.gather(*(self._source(i, latencies) for i in self.recorded))
        return latencies


def _stats(upstream_url: str, reset: bool = False) -> dict[str, int]:
    path = "/__reset" if reset else "/__stats"
    request = urllib.request.Request(upstream_url + path, method="POST" if reset else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback upstream
        counts: dict[str, int] = json.loads(response.read())
    return counts


def _all_stats(env: Environment, reset: bool = False) -> dict[str, int]:
    counts: dict[str, int] = {}
    for integration in env.upstream.ports:
        counts.update(_stats(env.upstream.base_url(integration), reset=reset))
    return {k: v for k, v in counts.items() if v}


class LoopLag:
    """A task that wakes every millisecond and notes how late it woke: the loop's stalls."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(time.perf_counter() - started - self.interval)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    def result(self) -> dict[str, float]:
        lags = self.lags or [0.0]
        return {
            "max_ms": max(lags) * 1000,
            "p99_ms": percentile(lags, 0.99) * 1000,
            "median_ms": statistics.median(lags) * 1000,
            "over_5ms": sum(1 for lag in lags if lag > 0.005),
            "ticks": len(lags),
        }


# --- fan-out ----------------------------------------------------------------------------------------


async def bench_fanout(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    rounds = 5 if quick else 20
    ids = (f"fanout-{n}" for n in itertools.count())
    async with environment(placement, lookup_delays=LOOKUP_DELAYS) as env:
        recorded = await record_requests(env)
        raw = floors(env)
        by_hand = [ContextFloor(f, recorded) for f in raw]
        totals: list[float] = []
        slowest: list[float] = []
        sums: list[float] = []
        floor_totals: dict[str, list[float]] = {f.name: [] for f in by_hand}
        floor_slowest: dict[str, list[float]] = {f.name: [] for f in by_hand}
        async with sdk_runtime(env) as nc:
            for n in range(rounds + 1):
                async with nc.conversation(tenant=TENANT, conversation_id=next(ids)) as conv:
                    started = time.perf_counter()
                    context = await conv.customer_context(phone=CALLER_PHONE, budget=2.0)
                    total = (time.perf_counter() - started) * 1000
                if not context.complete:
                    raise RuntimeError(f"incomplete context: {context.sources}")
                for floor in by_hand:
                    started = time.perf_counter()
                    latencies = await floor.context()
                    if n:
                        floor_totals[floor.name].append((time.perf_counter() - started) * 1000)
                        floor_slowest[floor.name].append(max(latencies.values()))
                if n == 0:
                    continue  # warm-up
                source_ms = [s.latency_ms for s in context.sources.values()]
                totals.append(total)
                slowest.append(max(source_ms))
                sums.append(sum(source_ms))
        for f in raw:
            await f.aclose()
    total_ms, slowest_ms, sum_ms = (statistics.median(v) for v in (totals, slowest, sums))
    floor_ms = {name: statistics.median(v) for name, v in floor_totals.items()}
    best_floor = min(floor_ms, key=lambda k: floor_ms[k])
    return {
        "rounds": rounds,
        "delays_ms": {k: v * 1000 for k, v in LOOKUP_DELAYS.items()},
        "total_ms": total_ms,
        "total_p99_ms": percentile(totals, 0.99),
        "slowest_source_ms": slowest_ms,
        "sum_of_sources_ms": sum_ms,
        "total_over_slowest": total_ms / slowest_ms,
        "total_over_sum": total_ms / sum_ms,
        "floor_total_ms": floor_ms,
        "floor_slowest_source_ms": {n: statistics.median(v) for n, v in floor_slowest.items()},
        "best_floor": best_floor,
        "total_over_floor": total_ms / floor_ms[best_floor],
    }


# --- load -------------------------------------------------------------------------------------------


async def _load_round(
    fetch: Any, *, conversations: int, per_conversation: int
) -> tuple[list[float], float, float, dict[str, float]]:
    latencies: list[float] = []

    async def caller(c: int) -> None:
        for k in range(per_conversation):
            started = time.perf_counter()
            await fetch(c, k)
            latencies.append(time.perf_counter() - started)

    with LoopLag() as lag, CallbackTimer() as callbacks:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(caller(c) for c in range(conversations)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return (
        latencies,
        cpu,
        wall,
        {**lag.result(), **{f"callback_{k}": v for k, v in callbacks.result().items()}},
    )


async def bench_load(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    """200 concurrent conversations; not pinned: the SDK, OpenBao and the upstream share both cores."""
    conversations = 200
    per_conversation = 1 if quick else 3
    rounds = 1 if quick else 2
    ids = (f"load-{n}" for n in itertools.count())
    async with environment(Placement(None, None)) as env:
        recorded = await record_requests(env)
        raw = floors(env)
        by_hand = {f.name: ContextFloor(f, recorded) for f in raw}
        incomplete = 0
        on_loop = OnLoopVaultSource(env)
        async with sdk_runtime(env) as nc, sdk_runtime(env, credentials=on_loop) as nc_on_loop:

            def sdk_fetch(runtime: Any) -> Any:
                async def fetch(c: int, k: int) -> None:
                    nonlocal incomplete
                    async with runtime.conversation(tenant=TENANT, conversation_id=next(ids)) as conv:
                        context = await conv.customer_context(phone=CALLER_PHONE, budget=10.0)
                    incomplete += 0 if context.complete else 1

                return fetch

            variants: dict[str, Any] = {
                "SDK": sdk_fetch(nc),
                WHAT_IF: sdk_fetch(nc_on_loop),
            }
            for name, floor in by_hand.items():

                async def floor_fetch(c: int, k: int, floor: ContextFloor = floor) -> None:
                    await floor.context()

                variants[f"floor ({name})"] = floor_fetch
            # Warm-up at full concurrency: connections, thread pools, first-use caches.
            for fetch in variants.values():
                await _load_round(fetch, conversations=conversations, per_conversation=1)
            # As a long-running server does once it has started (docs/scaling.md): the start-up
            # heap, ~100k objects of the imported libraries (pydantic's schemas above all), moves out
            # of the collector's reach. Without it every full collection walks it, for the SDK and the
            # floors alike: 50-170 ms on this machine, measured, the longest stall of every variant.
            gc.collect()
            gc.freeze()
            incomplete = 0
            samples: dict[str, dict[str, list[Any]]] = {
                name: {"lat": [], "cpu": [], "wall": [], "lag": []} for name in variants
            }
            counts: dict[str, dict[str, int]] = {}
            for _ in range(rounds):
                for name, fetch in variants.items():
                    _all_stats(env, reset=True)
                    latencies, cpu, wall, lag = await _load_round(
                        fetch, conversations=conversations, per_conversation=per_conversation
                    )
                    counts[name] = _all_stats(env)
                    s = samples[name]
                    s["lat"].extend(latencies)
                    s["cpu"].append(cpu / len(latencies))
                    s["wall"].append(len(latencies) / wall)
                    s["lag"].append(lag)
        for f in raw:
            await f.aclose()
        await on_loop.aclose()
    results: dict[str, Any] = {}
    for name, s in samples.items():
        out: dict[str, Any] = summary_ms(s["lat"])
        out["cpu_ms_per_context"] = statistics.median(s["cpu"]) * 1000
        out["contexts_per_s"] = statistics.median(s["wall"])
        out["loop_lag_max_ms"] = max(lag["max_ms"] for lag in s["lag"])
        out["loop_lag_p99_ms"] = max(lag["p99_ms"] for lag in s["lag"])
        out["loop_stalls_over_5ms"] = sum(lag["over_5ms"] for lag in s["lag"])
        out["longest_callback_ms"] = max(lag["callback_longest_ms"] for lag in s["lag"])
        out["longest_callback_cpu_ms"] = max(lag["callback_longest_cpu_ms"] for lag in s["lag"])
        out["callbacks_over_5ms"] = sum(lag["callback_over_5ms"] for lag in s["lag"])
        out["longest_callback_without_gc_ms"] = max(lag["callback_longest_without_gc_ms"] for lag in s["lag"])
        out["gc_longest_ms"] = max(lag["callback_gc_longest_ms"] for lag in s["lag"])
        out["gc_total_ms_per_round"] = statistics.median(lag["callback_gc_total_ms"] for lag in s["lag"])
        out["gc_full_collections"] = sum(lag["callback_gc_full_collections"] for lag in s["lag"])
        results[name] = out
    floor_names = [n for n in results if n.startswith("floor")]
    best = max(floor_names, key=lambda n: results[n]["contexts_per_s"])
    requests_per_context = sum(len(v) for ops in recorded.values() for v in ops.values())
    return {
        "conversations": conversations,
        "contexts_per_conversation": per_conversation,
        "rounds": rounds,
        "variants": results,
        "best_floor": best,
        "throughput_ratio": results["SDK"]["contexts_per_s"] / results[best]["contexts_per_s"],
        "p99_ratio": results["SDK"]["p99_ms"] / results[best]["p99_ms"],
        "incomplete_contexts": incomplete,
        "vendor_requests_per_context": requests_per_context,
        "same_requests": counts.get("SDK") == counts.get(best),
        "request_counts": counts,
    }
