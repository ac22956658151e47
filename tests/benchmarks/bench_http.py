"""Which HTTP stack the SDK should sit on: client CPU and latency per request at concurrency 1, 10, 100.

Every client sends the request HubSpot's ``get_contact`` sends (a GET with a
long ``properties`` query and a bearer key) to the loopback upstream, reads the
whole body and parses it with ``json.loads``. Rounds alternate between the
clients so that drift over the run favours none of them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from tests.benchmarks.harness import CRM, Placement, Sampled, Upstream, contact_params, measure_round, pinned
from tests.benchmarks.harness import upstream_config as make_upstream_config

Call = Callable[[int], Awaitable[object]]

CONCURRENCY = (1, 10, 100)
CALLS = {1: 500, 10: 1200, 100: 2000}
QUICK_CALLS = {1: 150, 10: 300, 100: 600}

SDK_DEFAULT = "httpx + SDK AiohttpTransport (new default)"
HTTPX_BEFORE = "httpx default transport (SDK before: keep-alive 20)"
RAW_AIOHTTP = "raw aiohttp"


@contextlib.asynccontextmanager
async def clients(url: str) -> AsyncIterator[dict[str, Call]]:
    """Every stack under test, each a function making one request."""
    import aiohttp

    from sdk._http import AiohttpTransport

    params = contact_params()
    query = str(httpx.QueryParams(params))
    full = f"{url}?{query}"
    headers = {"Authorization": "Bearer bench-key"}
    found: dict[str, Call] = {}
    closers: list[Callable[[], Awaitable[object]]] = []

    def httpx_client(transport: httpx.AsyncBaseTransport) -> Call:
        client = httpx.AsyncClient(transport=transport, trust_env=False)
        closers.append(client.aclose)

        async def call(i: int) -> object:
            response = await client.get(url, params=params, headers=headers)
            return json.loads(response.content)

        return call

    found[HTTPX_BEFORE] = httpx_client(
        httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))
    )
    found["httpx default transport, keep-alive 100"] = httpx_client(
        httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))
    )
    with contextlib.suppress(ImportError):
        import httpx_aiohttp

        found["httpx + httpx-aiohttp transport"] = httpx_client(httpx_aiohttp.AiohttpTransport())
    found[SDK_DEFAULT] = httpx_client(AiohttpTransport())
    with contextlib.suppress(ImportError):
        from pyreqwest.client import ClientBuilder
        from pyreqwest.compatibility.httpx import HttpxTransport

        found["httpx + pyreqwest transport"] = httpx_client(
            HttpxTransport(ClientBuilder().no_proxy().max_connections(100).build())
        )

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100), cookie_jar=aiohttp.DummyCookieJar()
    )
    closers.append(session.close)

    async def raw_aiohttp(i: int) -> object:
        async with session.get(full, headers=headers) as response:
            return json.loads(await response.read())

    found[RAW_AIOHTTP] = raw_aiohttp

    with contextlib.suppress(ImportError):
        from pyreqwest.client import ClientBuilder

        reqwest = ClientBuilder().no_proxy().max_connections(100).build()
        closers.append(reqwest.close)

        async def raw_pyreqwest(i: int) -> object:
            async with reqwest.get(full).headers(headers).build_streamed() as response:
                return json.loads((await response.bytes()).to_bytes())

        found["raw pyreqwest (Rust)"] = raw_pyreqwest

    with contextlib.suppress(ImportError):
        import httpx2

        client2 = httpx2.AsyncClient(trust_env=False)
        closers.append(client2.aclose)

        async def raw_httpx2(i: int) -> object:
            response = await client2.get(url, params=params, headers=headers)
            return json.loads(response.content)

        found["httpx2 default transport"] = raw_httpx2

    try:
        yield found
    finally:
        for close in closers:
            with contextlib.suppress(Exception):
                await close()


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    calls = QUICK_CALLS if quick else CALLS
    rounds = 1 if quick else 2
    with pinned(placement.servers):
        upstream = Upstream(make_upstream_config()).start()
    try:
        url = f"{upstream.base_url(CRM)}/crm/v3/objects/contacts/51"
        async with clients(url) as found:
            for call in found.values():  # warm-up: open the connections, fill first-use caches
                await measure_round(Sampled(), call, calls=200, concurrency=100)
            results: dict[str, dict[int, Sampled]] = {name: {} for name in found}
            for _ in range(rounds):
                for concurrency in CONCURRENCY:
                    for name, call in found.items():
                        sampled = results[name].setdefault(concurrency, Sampled())
                        await measure_round(sampled, call, calls=calls[concurrency], concurrency=concurrency)
    finally:
        upstream.stop()
    table = {
        name: {str(c): sampled.result() for c, sampled in by_c.items()} for name, by_c in results.items()
    }
    return {"clients": table, "concurrency": list(CONCURRENCY), "pid": os.getpid()}
