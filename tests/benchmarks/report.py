"""Turn the runner's results into ``docs/benchmarks/index.md`` and ``latency.png``."""

# The page's text and table rows are kept whole on their lines, with the typographic multiplication
# and minus signs the page shows, so that the source reads like the Markdown it writes.
# ruff: noqa: E501, RUF001

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.benchmarks import report_tables as tables
from tests.benchmarks.report_goals import failed, goals, ms
from tests.benchmarks.report_why import why

# --- the plot -------------------------------------------------------------------------------------


def plot(results: dict[str, Any], path: Path) -> bool:
    single = results.get("single")
    if failed(single):
        return False
    assert single is not None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = single["sweep_concurrency"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    styles = {"SDK (aiohttp": "-o", "SDK (httpx": "--o", "what-if": ":s", "floor": "-^"}
    for name, by_c in single["sweep"].items():
        style = next((s for k, s in styles.items() if name.startswith(k)), "-")
        left.plot(levels, [by_c[str(c)]["median_ms"] for c in levels], style, label=name)
        right.plot(levels, [by_c[str(c)]["cpu_us"] for c in levels], style, label=name)
    for axis, title, unit in (
        (left, "Latency per call (median)", "ms"),
        (right, "Client CPU per call", "µs"),
    ):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(levels)
        axis.set_xticklabels([str(c) for c in levels])
        axis.set_xlabel("concurrent calls")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    fig.suptitle("HubSpot get_contact with its Vault read: the SDK against the same requests by hand")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --- the page -------------------------------------------------------------------------------------


def write(results: dict[str, Any], out: Path) -> Path:
    has_plot = plot(results, out / "latency.png")
    machine = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m tests.benchmarks.run` (`python3 dev.py bench`); do not edit by hand.",
        "Every number is measured in the same run, on the same machine, against a floor: the same",
        "requests made directly with the fastest raw Python HTTP client measured (aiohttp or pyreqwest,",
        "whichever is faster in that benchmark). OpenBao is a real `bao server -dev`; the vendors are a",
        "loopback upstream in its own process answering the connectors' own test fixtures",
        "(`tests/benchmarks/upstream.py`).",
        "",
        f"- machine: {machine['cores']} cores ({machine['cpu'] or 'unknown CPU'}), {machine['platform']}",
        f"- Python {machine['python']}; " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()),
        f"- date: {machine['date']}; run took {results['seconds']:.0f} s"
        + ("; **quick run: small samples, not numbers to quote**" if results.get("quick") else ""),
        f"- load average before / after: {results.get('load_average_before')} / "
        f"{results.get('load_average_after')}"
        + (
            " — **the machine was busy with other work: expect noisy numbers**"
            if max(results.get("load_average_before") or [0]) > 1.5
            else ""
        ),
        f"- CPU placement: {_placement(results)}",
        "",
        "## Goals",
        "",
        *goals(results),
        "",
    ]
    lines += ["## Why the missed goals are missed", "", *why(results), ""]
    single = results.get("single")
    lines += ["## 1. Single call", ""]
    if failed(single):
        lines += [f"Not measured: {failed(single)}.", ""]
    else:
        assert single is not None
        lines += [
            "One `get_contact` (HubSpot connector): the key read from OpenBao on every call (`max_staleness` 0,",
            "the default), the vendor request, parsing into `Contact`, the audit record (`MemoryAuditSink`), the",
            "conversation cache. The floor reads the same secret and sends the same request with a raw client",
            "and parses both bodies. Client CPU is `time.process_time()` over sequential calls (all threads).",
            f"Floor: {single['floor_latency']['name']} (latency), {single['floor_cpu']['name']} (CPU).",
            "",
            *tables.single(single),
            "",
            "The breakdown rows split the call in two. What the SDK spends beyond the floor, by part:",
            "",
            *tables.breakdown(single),
            "",
        ]
        lines += _profile_lines(results.get("profile"))
        if has_plot:
            lines += ["![latency and CPU per call against concurrency](latency.png)", ""]
        lines += [
            "Against concurrency (every call reads Vault; OpenBao is the shared bottleneck at 50+):",
            "",
        ]
        lines += [*tables.sweep(single), ""]
    http = results.get("http")
    lines += ["## 2. HTTP stack", ""]
    if failed(http):
        lines += [f"Not measured: {failed(http)}.", ""]
    else:
        assert http is not None
        lines += [
            "The request `get_contact` sends, to the loopback upstream, body read and JSON-parsed; bold is client",
            "CPU per request. The httpx rows send through `httpx.AsyncClient.get`, transports compared under one",
            "client. The SDK's transport is `AiohttpTransport` (`sdk/_http/_aiohttp.py`), but it no longer goes",
            "through the client's `send`: it builds the `httpx.Request` itself and sends it on the scope-guarded",
            "transport directly (`sdk/_http/_send.py`), so its cost per request is section 1's, not a row here.",
            "Tests still inject `httpx.MockTransport(router.async_handler)`.",
            "",
            *tables.http(http),
            "",
        ]
    fanout = results.get("fanout")
    lines += ["## 3. Fan-out", ""]
    if failed(fanout):
        lines += [f"Not measured: {failed(fanout)}.", ""]
    else:
        assert fanout is not None
        floor_ms = fanout["floor_total_ms"][fanout["best_floor"]]
        lines += [
            f"`conv.customer_context()` over HubSpot, Zendesk and Stripe, each source's lookup delayed "
            f"{', '.join(f'{v:.0f}' for v in fanout['delays_ms'].values())} ms by the upstream; median of "
            f"{fanout['rounds']} rounds, real OpenBao.",
            "",
            "| whole call | slowest source | sum of sources | floor, same requests | call / slowest | call / floor |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {ms(fanout['total_ms'])} ms | {ms(fanout['slowest_source_ms'])} ms | "
            f"{ms(fanout['sum_of_sources_ms'])} ms | {ms(floor_ms)} ms ({fanout['best_floor']}) | "
            f"{fanout['total_over_slowest']:.3f}× | {fanout['total_over_floor']:.3f}× |",
            "",
        ]
    load = results.get("load")
    lines += ["## 4. Load: 200 concurrent conversations on two cores", ""]
    if failed(load):
        lines += [f"Not measured: {failed(load)}.", ""]
    else:
        assert load is not None
        lines += [
            f"{load['conversations']} conversations at once, each opening, fetching `customer_context` "
            f"({load['vendor_requests_per_context']} vendor requests, each after its own Vault read) and hanging up, "
            f"{load['contexts_per_conversation']} times; not pinned: the SDK, OpenBao and the upstream share both "
            f"cores. The floor replays the requests the SDK sent, with the same dependencies; the upstream's "
            f"counters {'confirm' if load['same_requests'] else '**do not confirm**'} both sent the same requests. "
            f"Incomplete contexts: {load['incomplete_contexts']}.",
            "",
            "Ticker lag is how late a task that sleeps 1 ms wakes (queueing and blocking alike); a callback's wall",
            "time is how long the loop could run nothing else, and its CPU time how much of that the loop thread",
            "itself computed (the rest it was not running: waiting for the GIL, a core, or a blocking call).",
            "After the warm-up round the start-up heap is frozen (`gc.collect(); gc.freeze()`, as",
            "[scaling](../scaling.md) recommends for a server), so a full garbage collection walks only what is in",
            "flight; the GC columns (`gc.callbacks`) say how long the longest one took and how many ran, and the",
            "longest callback with no collection inside it is the loop's own longest step.",
            "",
            *tables.load(load),
            "",
        ]
    memory = results.get("memory")
    lines += ["## 5. Wipe and memory", ""]
    if failed(memory):
        lines += [f"Not measured: {failed(memory)}.", ""]
    else:
        assert memory is not None
        wipe, typical = memory["wipe_100_records"], memory["wipe_typical"]
        base, end = memory["memory_at_baseline"], memory["memory_at_end"]
        lines += [
            f"- hangup of a conversation holding {memory['records']} cached records: median "
            f"{wipe['median_ms'] * 1000:.0f} µs, max {wipe['max_ms'] * 1000:.0f} µs ({wipe['samples']} conversations)",
            f"- hangup after one `customer_context` ({typical['records']} records): median "
            f"{typical['median_ms'] * 1000:.0f} µs, max {typical['max_ms'] * 1000:.0f} µs",
            f"- memory after {memory['baseline_after']} and after {memory['conversations']:,} conversations "
            f"(each: open, get_contact, get_account, hang up; 20 at a time): heap blocks {base['blocks']:,} → "
            f"{end['blocks']:,} ({memory['blocks_per_conversation']:+.3f} per conversation), gc objects "
            f"{base['gc_objects']:,} → {end['gc_objects']:,}, RSS {base['rss_kib']:,} → {end['rss_kib']:,} KiB; "
            f"open conversations at the end: {memory['open_conversations_at_end']}",
            "",
        ]
    lines += _import_section(results.get("import"))
    lines += _redaction_section(results.get("redaction"))
    lines += _invoke_section(results.get("invoke"))
    lines += ["## 9. The other benchmark files", ""]
    for file, outcome in (results.get("pytest") or {}).items():
        if "skipped" in outcome:
            lines += [f"- `{file}`: {outcome['skipped']}"]
            continue
        note = " (writes [redaction.md](redaction.md))" if "redaction" in file else ""
        lines += [
            f"- `{file}`{note}: {outcome['status']}",
            "",
            "<details><summary>output</summary>",
            "",
            "```text",
            outcome["output"].strip(),
            "```",
            "",
            "</details>",
            "",
        ]
    page = out / "index.md"
    page.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return page


def _profile_lines(profile: dict[str, Any] | None) -> list[str]:
    if failed(profile) or profile is None:
        return []
    return [
        f"Where each call's client CPU goes (`bench_profile.py`: {profile['calls']} calls under cProfile timed in "
        "process CPU, each function's own time charged to a component by its file, the standard library's and "
        "C built-ins' to their caller; shares scaled to the call's CPU measured without the profiler, which "
        "inflates many small calls more than few large ones: read the proportions). The floor is "
        f"{profile['floor_name']}, profiled the same way:",
        "",
        *tables.profile(profile),
        "",
    ]


def _import_section(imports: dict[str, Any] | None) -> list[str]:
    lines = ["## 6. Import time and the command line", ""]
    if failed(imports):
        return [*lines, f"Not measured: {failed(imports)}.", ""]
    assert imports is not None
    lines += [
        "A fresh `python -X importtime` per run, median of the summed top-level imports; connectors are",
        f"every one installed through the entry points ({', '.join(imports['connectors'])}).",
        "",
        *tables.imports(imports),
        "",
    ]
    cli = imports.get("cli_help")
    if cli is not None:
        lines += [
            "The command line as its user meets it: the wall time of a new process, from start to exit, median and",
            f"fastest of {cli['runs']} runs, interleaved with the bare interpreter's start in the same run.",
            "",
            *tables.cli(cli),
            "",
        ]
    return lines


def _redaction_section(redaction: dict[str, Any] | None) -> list[str]:
    lines = ["## 7. Redaction", ""]
    if failed(redaction):
        return [*lines, f"Not measured: {failed(redaction)}.", ""]
    assert redaction is not None
    rounds = next(iter(redaction["redact"].values()))["samples"]
    return [
        *lines,
        "`redact()` with the default policy on the 2 KB texts of `test_redaction_steps.text_classes()`: a round",
        f"is one pass over a class, timed in thread CPU time; per text, median and fastest of {rounds} rounds.",
        f"Load average before / after: {redaction['load_average'][0]} / {redaction['load_average'][1]}.",
        "",
        *tables.redaction(redaction),
        "",
        "`for_llm()` on a full customer context (HubSpot, Zendesk and Stripe answering through respx with the",
        "connectors' fixtures, as in `test_fanout.py`), each render timed alone in thread CPU time:",
        "",
        *tables.for_llm(redaction),
        "",
    ]


def _invoke_section(invoke: dict[str, Any] | None) -> list[str]:
    lines = ["## 8. Tool calls: `conv.invoke` against `conv.call`", ""]
    if failed(invoke):
        return [*lines, f"Not measured: {failed(invoke)}.", ""]
    assert invoke is not None
    return [
        *lines,
        f"HubSpot `get_contact` through respx, keys from memory: {invoke['rounds']} fresh conversations, each running",
        f"`conv.call` and `conv.invoke({invoke['tool']!r}, ...)` (arguments as a mapping, and as JSON text) once, in",
        "rotating order and each with a contact id of its own (no cache hit); thread CPU time per call.",
        f"Load average before / after: {invoke['load_average'][0]} / {invoke['load_average'][1]}.",
        "",
        *tables.invoke(invoke),
        "",
    ]


def _placement(results: dict[str, Any]) -> str:
    for key in ("single", "http", "fanout", "memory", "redaction", "invoke", "import"):
        data = results.get(key)
        if data and "_placement" in data:
            return f"{data['_placement']} (the load benchmark is never pinned)"
    return "n/a"


def console_summary(results: dict[str, Any]) -> str:
    return "\n".join(line for line in goals(results) if not line.startswith("| ---"))
