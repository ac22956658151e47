"""What redaction costs per 2 KB of text, by kind of text, and what ``for_llm()`` costs on a full context.

``redact`` runs on the 2 KB texts of ``test_redaction_steps.text_classes()``
(prose, number-heavy tickets, the Presidio comparison's mixed corpus, and
identifier-dense text: 50 texts each). A round is one pass over a class, timed
in thread CPU time (``time.thread_time_ns``: a process waiting for a core is
not charged); reported per text, the median and the minimum over the rounds.

``for_llm()`` (text, and ``"json"``) renders a full customer context: HubSpot,
Zendesk and Stripe answering through respx with the connectors' own fixtures,
keys from memory, exactly the setup of
``test_fanout.py::test_rendering_the_context_for_the_model`` (the helpers of
``tests/runtime/support.py``). Each render is timed alone, in thread CPU time,
renders of the same context interleaved with each other; a second figure
times the first render of freshly fetched contexts, where nothing the
renderer touches has been used before.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import respx

from sdk._redaction import redact
from tests.benchmarks.harness import Placement
from tests.benchmarks.test_redaction_steps import text_classes
from tests.runtime.support import BILLING, CALLER_PHONE, TENANT, Vendors, runtime

ROUNDS = 15
RENDERS = 200
FRESH_CONTEXTS = 20


def _cpu_us(run: Callable[[], Any], count: int = 1) -> float:
    """Thread CPU time of ``run()``, in µs per item of its ``count``."""
    began = time.thread_time_ns()
    run()
    return (time.thread_time_ns() - began) / count / 1000


def _summary(samples: list[float]) -> dict[str, float]:
    return {"median_us": statistics.median(samples), "min_us": min(samples), "samples": len(samples)}


def _redact_all(texts: list[str]) -> list[str]:
    return [redact(text) for text in texts]


def bench_redact(rounds: int) -> dict[str, Any]:
    """``redact`` per 2 KB text, by class, classes interleaved within each round."""
    classes = text_classes()
    for texts in classes.values():  # warm: phone metadata and compiled patterns load on first use
        for text in texts:
            redact(text)
    samples: dict[str, list[float]] = {name: [] for name in classes}
    for round_ in range(rounds):
        names = list(classes) if round_ % 2 == 0 else list(reversed(classes))
        for name in names:
            texts = classes[name]
            samples[name].append(_cpu_us(partial(_redact_all, texts), len(texts)))
    return {
        name: {
            **_summary(values),
            "texts": len(classes[name]),
            "bytes_per_text": round(statistics.mean(len(t.encode()) for t in classes[name])),
        }
        for name, values in samples.items()
    }


async def bench_for_llm(renders: int, fresh: int) -> dict[str, Any]:
    """``for_llm()`` text and json on a full customer context, warm and on first render."""
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    Vendors(router).mount()
    timings: dict[str, list[float]] = {"text": [], "json": [], "records": []}
    first: dict[str, list[float]] = {"text": [], "json": []}
    async with runtime(router) as nc:
        async with nc.conversation(tenant=TENANT, conversation_id="render") as conv:
            ctx = await conv.customer_context(phone=CALLER_PHONE)
            if not ctx.complete:
                raise RuntimeError("the mocked customer context is incomplete: nothing to time")
            text = ctx.for_llm()
            as_json = ctx.for_llm("json")
            for _ in range(renders):
                timings["text"].append(_cpu_us(ctx.for_llm))
                timings["json"].append(_cpu_us(lambda: ctx.for_llm("json")))
                timings["records"].append(_cpu_us(lambda: ctx.records(BILLING)))
        for n in range(2 * fresh):
            async with nc.conversation(tenant=TENANT, conversation_id=f"render-{n}") as conv:
                ctx = await conv.customer_context(phone=CALLER_PHONE)
                # One render per context, so that every sample is a context's first; formats alternate.
                if n % 2 == 0:
                    first["text"].append(_cpu_us(ctx.for_llm))
                else:
                    first["json"].append(_cpu_us(partial(ctx.for_llm, "json")))
    return {
        "text": _summary(timings["text"]),
        "json": _summary(timings["json"]),
        "records": _summary(timings["records"]),
        "first_text": _summary(first["text"]),
        "first_json": _summary(first["json"]),
        "text_bytes": len(text.encode()),
        "json_bytes": len(json.dumps(as_json, ensure_ascii=False).encode()),
        "records_integration": BILLING,
    }


def profile_class(name: str, passes: int) -> list[dict[str, Any]]:
    """Where ``redact`` spends one class's time: its functions' own time, largest first (cProfile).

    Standard-library and C built-in time (``re``, ``str`` methods) is charged to the
    engine function that called it; the profiler inflates small calls, so read the shares.
    """
    import cProfile
    import pstats

    texts = text_classes()[name]
    _redact_all(texts)  # warm: compiled patterns and tables load on first use
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    for _ in range(passes):
        _redact_all(texts)
    profile.disable()
    table: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}

    def charge(function: Any, seconds: float, depth: int) -> None:
        filename, _line, func = function
        if "sdk/_redaction/" in filename or depth == 3 or not table[function][4]:
            where = filename.rsplit("sdk/", 1)[-1] if "sdk/_redaction/" in filename else "(library)"
            key = f"{where}:{func}" if "sdk/_redaction/" in filename else f"{where} {func}"
            own[key] = own.get(key, 0.0) + seconds
            return
        callers = table[function][4]
        total = sum(edge[2] for edge in callers.values()) or 1.0
        for caller, edge in callers.items():
            charge(caller, seconds * edge[2] / total, depth + 1)

    for function, (_, _, seconds, _, _) in table.items():
        if seconds > 0:
            charge(function, seconds, 0)
    whole = sum(own.values()) or 1.0
    top = sorted(own.items(), key=lambda item: -item[1])[:12]
    return [{"function": key, "share": value / whole} for key, value in top]


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    load_before = [round(x, 2) for x in os.getloadavg()]
    redaction = bench_redact(5 if quick else ROUNDS)
    redaction["dense"]["profile"] = profile_class("dense", 1 if quick else 3)
    for_llm = await bench_for_llm(50 if quick else RENDERS, 5 if quick else FRESH_CONTEXTS)
    return {
        "redact": redaction,
        "for_llm": for_llm,
        "load_average": [load_before, [round(x, 2) for x in os.getloadavg()]],
    }
