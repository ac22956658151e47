"""Where one call's client CPU goes: a cProfile of ``get_contact``, grouped by component.

The single-call benchmark says how much the SDK costs beyond the floor; this
says on what. The same call as there (HubSpot ``get_contact`` through the SDK
against the loopback upstream, with its Vault read from the real OpenBao) runs
under cProfile. Each function's own time is charged to a component by the file
it lives in; time spent in the standard library or in C built-ins (``re``,
``json``, ``isinstance``, socket calls, ...) is charged to the component that
called it, up to three calls up. The profiler's clock is the process's CPU time, so
waiting for the network counts nothing. The profiler inflates Python-level calls, so
the proportions are what to read: each share is turned into µs by scaling it
to the call's CPU measured without the profiler in the same process. The floor
is profiled the same way, so the components both pay (socket I/O, the event
loop, aiohttp, JSON) can be told from the ones only the SDK pays.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from tests.benchmarks.harness import CRM, TENANT, Placement, contact_params, environment, floors, sdk_runtime

# First match wins: (component, path fragments).
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("socket I/O and the event loop", ("asyncio/", "selectors.py", "socket.py", "ssl.py")),
    ("aiohttp, yarl, multidict (the network client)", ("aiohttp/", "yarl/", "multidict/", "propcache/")),
    ("httpx request and response objects", ("httpx/", "httpcore/", "h11/")),
    ("libphonenumber (the connector's phone parsing)", ("phonenumbers/",)),
    (
        "connector parsing and pydantic models",
        ("connectors/", "sdk/_parsing/", "pydantic/", "pydantic_core/"),
    ),
    (
        "SDK HTTP layer: URL, guard, span, send, retries",
        ("sdk/_http", "sdk/_endpoints", "sdk/_retry", "sdk/_vendor_errors"),
    ),
    ("SDK credentials: auth flow and Vault read", ("sdk/_auth", "vault/", "sdk/_deadline")),
    (
        "SDK dispatch: arguments, audit, metrics, spans",
        (
            "sdk/_dispatch", "sdk/_operations", "sdk/_audit", "sdk/_metrics", "sdk/_telemetry",
            "sdk/_context", "sdk/_scopes", "sdk/_runtime", "sdk/_ids", "sdk/_connector", "opentelemetry/",
        ),
    ),
    (
        "SDK conversation and its encrypted cache",
        ("sdk/_call/", "sdk/_cache", "sdk/_scrub", "cryptography/", "hmac.py"),
    ),
    ("JSON (vendor and Vault bodies)", ("json/",)),
    ("the benchmark's own loop", ("tests/benchmarks/",)),
)  # fmt: skip
OTHER = "other"
_CHARGED_TO_CALLER = ("~", "/lib/python3.")  # C built-ins and the standard library
_STAYS = ("asyncio/", "selectors.py", "json/", "hmac.py", "socket.py", "ssl.py")


def _component(filename: str) -> str | None:
    for name, fragments in COMPONENTS:
        if any(fragment in filename for fragment in fragments):
            return name
    return None


def _charged(filename: str) -> bool:
    return filename.startswith(_CHARGED_TO_CALLER[0]) or (
        _CHARGED_TO_CALLER[1] in filename and not any(s in filename for s in _STAYS)
    )


def components(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per component, built-ins and stdlib charged to their callers."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = defaultdict(float)

    def charge(function: Any, seconds: float, depth: int) -> None:
        filename = function[0]
        if not _charged(filename) or depth == 3:
            found = _component(filename)
            if found is None and filename.startswith("~"):
                name = function[2]
                io = any(word in name for word in ("send", "recv", "poll", "select"))
                found = "socket I/O and the event loop" if io else None
            totals[found or OTHER] += seconds
            return
        callers = table[function][4]
        edge_total = sum(edge[2] for edge in callers.values())
        if not callers or edge_total <= 0:
            totals[_component(filename) or OTHER] += seconds
            return
        for caller, edge in callers.items():
            charge(caller, seconds * edge[2] / edge_total, depth + 1)

    for function, (_, _, own, _, _) in table.items():
        if own > 0:
            charge(function, own, 0)
    return dict(totals)


async def _cpu_per_call(call: Callable[[int], Awaitable[object]], calls: int, offset: int) -> float:
    started = time.process_time()
    for i in range(calls):
        await call(offset + i)
    return (time.process_time() - started) / calls * 1e6


async def _profiled(call: Callable[[int], Awaitable[object]], calls: int, offset: int) -> dict[str, Any]:
    for i in range(50):
        await call(offset - 1000 + i)  # warm: connections, first-use caches
    cpu_us = min([await _cpu_per_call(call, calls, offset + r * calls) for r in range(3)])
    # Timed in process CPU time: the wall-clock default would count the loop's idle wait in epoll.
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for i in range(calls):
        await call(offset + 10 * calls + i)
    profile.disable()
    seconds = components(pstats.Stats(profile))
    total = sum(seconds.values()) or 1.0
    shares = {name: value / total for name, value in seconds.items() if name != "the benchmark's own loop"}
    kept = sum(shares.values()) or 1.0
    return {
        "cpu_us": cpu_us,
        "components_us": {
            name: cpu_us * share / kept for name, share in sorted(shares.items(), key=lambda x: -x[1])
        },
    }


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    calls = 300 if quick else 1500
    params = contact_params()
    async with environment(placement) as env:
        raw = floors(env)
        floor = min(raw, key=lambda f: f.name != "raw aiohttp")  # same network client as the SDK
        async with sdk_runtime(env) as nc:
            conv = nc.conversation(tenant=TENANT, conversation_id="profile")

            async def sdk(i: int) -> object:
                return await conv.call(CRM, "get_contact", contact_id=str(i))

            async def by_hand(i: int) -> object:
                return await floor.get_contact(str(i), params)

            result = {
                "calls": calls,
                "sdk": await _profiled(sdk, calls, 1_000_000),
                "floor": await _profiled(by_hand, calls, 5_000_000),
                "floor_name": floor.name,
            }
            await conv.hangup()
        for f in raw:
            await f.aclose()
    return result
