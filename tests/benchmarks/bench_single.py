"""One connector operation through the SDK against the same two requests made by hand.

The operation is HubSpot's ``get_contact`` (the shipped connector) with its key
in a real OpenBao: the SDK reads the key from Vault (``max_staleness`` 0, the
default: a Vault read on every call), sends the vendor request to the loopback
upstream, parses the answer into a ``Contact``, audits it (``MemoryAuditSink``:
the record is built and kept, no disk I/O) and caches it in the conversation.

The floor makes the same Vault read and the same vendor request with a raw
client and parses both bodies; each raw client is measured and the faster one
is the floor. The design's own floor (DESIGN §7: "the raw httpx request plus the
raw Vault read", i.e. hvac + httpx) is reported beside it.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.benchmarks.harness import (
    CRM,
    TENANT,
    Environment,
    Floor,
    OnLoopVaultSource,
    Placement,
    Sampled,
    contact_params,
    environment,
    floors,
    measure_round,
    sdk_runtime,
)

Call = Callable[[int], Awaitable[object]]

SDK_OP = "SDK: conv.call('crm', 'get_contact') in an open conversation"
SDK_CONV = "SDK: open conversation, get_contact, hang up"
DESIGN_FLOOR = "DESIGN §7 floor: hvac read + httpx AsyncClient request"
WHAT_IF = "what-if: SDK with a bare benchmark-only aiohttp credential reader instead of CredentialStore"
SWEEP = (1, 10, 50, 100)
SWEEP_CALLS = {1: 300, 10: 800, 50: 1200, 100: 1500}


def _best(results: dict[str, dict[str, float]], names: list[str], metric: str) -> tuple[str, float]:
    name = min(names, key=lambda n: results[n][metric])
    return name, results[name][metric]


@contextlib.asynccontextmanager
async def _design_floor(env: Environment) -> Any:
    """hvac (blocking, called straight from the loop: its cheapest use) and httpx's own client."""
    import hvac
    import requests
    import requests.adapters

    session = requests.Session()  # set up as the SDK's VaultClient sets up its own
    session.trust_env = False
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=4))
    vault = hvac.Client(url=env.vault_address, token=env.vault_token, session=session)
    client = httpx.AsyncClient(trust_env=False)
    params = contact_params()
    url = f"{env.upstream.base_url(CRM)}/crm/v3/objects/contacts"

    async def call(i: int) -> object:
        secret = vault.secrets.kv.v2.read_secret_version(
            path=env.paths[CRM], mount_point=env.mount, raise_on_deleted_version=True
        )
        key = secret["data"]["data"]["api_key"]
        response = await client.get(
            f"{url}/{1000 + i}", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        return response.json()

    try:
        yield call
    finally:
        await client.aclose()
        vault.adapter.close()


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    from sdk.testing import MemoryCredentialSource
    from tests.connectors import hubspot_cases as hubspot

    rounds, calls = (2, 100) if quick else (4, 250)
    sweep_calls = {c: max(c * 2, n // 5) for c, n in SWEEP_CALLS.items()} if quick else SWEEP_CALLS
    sweep_rounds = 1 if quick else 2
    params = contact_params()
    conversation_ids = (f"bench-{n}" for n in itertools.count())
    async with environment(placement) as env:
        memory = MemoryCredentialSource()
        memory.put(TENANT, CRM, hubspot.credential(env.keys[CRM]))
        raw_floors = floors(env)
        nc = sdk_runtime(env)
        nc_memory = sdk_runtime(env, credentials=memory)
        on_loop = OnLoopVaultSource(env)
        nc_on_loop = sdk_runtime(env, credentials=on_loop)
        nc_httpx = sdk_runtime(
            env,
            transport=httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20), retries=0
            ),
        )
        contact_url = f"{env.upstream.base_url(CRM)}/crm/v3/objects/contacts"
        async with nc, nc_memory, nc_on_loop, nc_httpx, _design_floor(env) as design_floor:
            conversations: dict[str, Any] = {}

            def in_conversation(label: str) -> Call:
                async def call(i: int) -> object:
                    return await conversations[label].call(CRM, "get_contact", contact_id=str(1000 + i))

                return call

            async def whole_conversation(i: int) -> object:
                async with nc.conversation(tenant=TENANT, conversation_id=next(conversation_ids)) as conv:
                    return await conv.call(CRM, "get_contact", contact_id=str(1000 + i))

            async def sdk_key(i: int) -> object:
                return await nc.credentials.get(TENANT, CRM)

            variants: dict[str, Call] = {
                SDK_OP: in_conversation("sdk"),
                SDK_CONV: whole_conversation,
                WHAT_IF: in_conversation("on_loop"),
                DESIGN_FLOOR: design_floor,
                "breakdown: SDK credential read (CredentialStore.get: aiohttp on the loop)": sdk_key,
                "breakdown: SDK get_contact, key held in memory (no Vault)": in_conversation("memory"),
            }
            for floor in raw_floors:

                def floor_op(i: int, floor: Floor = floor) -> Awaitable[object]:
                    return floor.get_contact(str(1000 + i), params)

                def floor_key(i: int, floor: Floor = floor) -> Awaitable[object]:
                    return floor.key(CRM)

                def floor_vendor(i: int, floor: Floor = floor) -> Awaitable[object]:
                    return floor.vendor(
                        "GET", f"{contact_url}/{1000 + i}", {"Authorization": "Bearer k"}, params=params
                    )

                variants[f"floor ({floor.name}): Vault read + vendor request"] = floor_op
                variants[f"breakdown: floor ({floor.name}) Vault read only"] = floor_key
                variants[f"breakdown: floor ({floor.name}) vendor request only"] = floor_vendor

            runtimes = {"sdk": nc, "memory": nc_memory, "on_loop": nc_on_loop, "httpx": nc_httpx}

            async def open_conversations() -> None:
                for label, runtime in runtimes.items():
                    old = conversations.get(label)
                    if old is not None:
                        await old.hangup()
                    conversations[label] = runtime.conversation(
                        tenant=TENANT, conversation_id=next(conversation_ids)
                    )

            await open_conversations()
            for call in variants.values():  # warm-up
                await measure_round(Sampled(), call, calls=30, concurrency=1, offset=900_000)
            sampled = {name: Sampled() for name in variants}
            for r in range(rounds):
                await open_conversations()
                for name, call in variants.items():
                    await measure_round(sampled[name], call, calls=calls, concurrency=1, offset=r * 10_000)
            single = {name: s.result() for name, s in sampled.items()}

            # Latency against concurrency: the SDK (new and old transport) against the floors.
            sweep_variants: dict[str, Call] = {
                "SDK (aiohttp transport, the default)": in_conversation("sdk"),
                "SDK (httpx default transport, before)": in_conversation("httpx"),
            }
            for floor in raw_floors:

                def sweep_floor(i: int, floor: Floor = floor) -> Awaitable[object]:
                    return floor.get_contact(str(1000 + i), params)

                sweep_variants[f"floor ({floor.name})"] = sweep_floor
            swept: dict[str, dict[int, Sampled]] = {name: {} for name in sweep_variants}
            for r in range(sweep_rounds):
                for concurrency in SWEEP:
                    await open_conversations()
                    for name, call in sweep_variants.items():
                        await measure_round(
                            swept[name].setdefault(concurrency, Sampled()),
                            call,
                            calls=sweep_calls[concurrency],
                            concurrency=concurrency,
                            offset=100_000 + r * 10_000,
                        )
            for conv in conversations.values():
                await conv.hangup()
        for floor in raw_floors:
            await floor.aclose()
        await on_loop.aclose()

    floor_names = [f"floor ({f.name}): Vault read + vendor request" for f in raw_floors]
    best_latency_name, best_latency = _best(single, floor_names, "median_ms")
    best_cpu_name, best_cpu = _best(single, floor_names, "cpu_us")
    sdk = single[SDK_OP]
    sweep = {name: {str(c): s.result() for c, s in by_c.items()} for name, by_c in swept.items()}
    return {
        "single": single,
        "floor_latency": {"name": best_latency_name, "median_ms": best_latency},
        "floor_cpu": {"name": best_cpu_name, "cpu_us": best_cpu},
        "latency_ratio": sdk["median_ms"] / best_latency,
        "p99_ratio": sdk["p99_ms"] / single[best_latency_name]["p99_ms"],
        "bookkeeping_cpu_us": sdk["cpu_us"] - best_cpu,
        "design_floor_latency_ratio": sdk["median_ms"] / single[DESIGN_FLOOR]["median_ms"],
        "what_if_latency_ratio": single[WHAT_IF]["median_ms"] / best_latency,
        "what_if_bookkeeping_cpu_us": single[WHAT_IF]["cpu_us"] - best_cpu,
        "sweep": sweep,
        "sweep_concurrency": list(SWEEP),
        "audit_sink": "MemoryAuditSink",
    }
