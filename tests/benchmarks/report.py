"""Turn the runner's results into ``docs/benchmarks/index.md`` and ``latency.png``."""

# The page's text and table rows are kept whole on their lines, with the typographic multiplication
# and minus signs the page shows, so that the source reads like the Markdown it writes.
# ruff: noqa: E501, RUF001

from __future__ import annotations

from pathlib import Path
from typing import Any

GOAL_LATENCY_RATIO = 1.15
GOAL_BOOKKEEPING_US = 250.0
GOAL_FANOUT_RATIO = 1.10
GOAL_LOOP_LAG_MS = 5.0
GOAL_WIPE_MS = 1.0
GOAL_BLOCKS_PER_CONVERSATION = 1.0


def _goal(value: float, limit: float, *, lower_is_better: bool = True) -> str:
    met = value <= limit if lower_is_better else value >= limit
    if met:
        return "met"
    return f"missed by {abs(value / limit - 1) * 100:.0f}%"


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _failed(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return "not run"
    error = data.get("_error")
    return str(error) if error else None


# --- sections -------------------------------------------------------------------------------------


def _goals(results: dict[str, Any]) -> list[str]:
    rows = ["| goal (DESIGN §7, issue 7) | measured | verdict |", "| --- | --- | --- |"]
    single = results.get("single")
    if not _failed(single):
        assert single is not None
        rows.append(
            f"| single call latency ≤ {GOAL_LATENCY_RATIO}× floor | {single['latency_ratio']:.2f}× "
            f"({_ms(single['single'][_sdk_op(single)]['median_ms'])} ms vs {_ms(single['floor_latency']['median_ms'])} ms)"
            f" | {_goal(single['latency_ratio'], GOAL_LATENCY_RATIO)} |"
        )
        rows.append(
            f"| SDK bookkeeping < {GOAL_BOOKKEEPING_US:.0f} µs CPU per call | {single['bookkeeping_cpu_us']:.0f} µs "
            f"| {_goal(single['bookkeeping_cpu_us'], GOAL_BOOKKEEPING_US)} |"
        )
    fanout = results.get("fanout")
    if not _failed(fanout):
        assert fanout is not None
        rows.append(
            f"| fan-out costs the slowest source (≤ {GOAL_FANOUT_RATIO}×), not the sum | "
            f"{fanout['total_over_slowest']:.3f}× slowest, {fanout['total_over_sum']:.2f}× sum "
            f"| {_goal(fanout['total_over_slowest'], GOAL_FANOUT_RATIO)} |"
        )
    load = results.get("load")
    if not _failed(load):
        assert load is not None
        sdk = load["variants"]["SDK"]
        rows.append(
            f"| 200 conversations: event loop never blocked > {GOAL_LOOP_LAG_MS:.0f} ms | "
            f"ticker lag max {_ms(sdk['loop_lag_max_ms'])} ms; longest callback {_ms(sdk['longest_callback_ms'])} ms "
            f"| {_goal(sdk['loop_lag_max_ms'], GOAL_LOOP_LAG_MS)} |"
        )
        rows.append(
            f"| 200 conversations: throughput and p99 against the floor | {load['throughput_ratio']:.2f}× throughput, "
            f"{load['p99_ratio']:.2f}× p99 | (no number set) |"
        )
    memory = results.get("memory")
    if not _failed(memory):
        assert memory is not None
        wipe = memory["wipe_100_records"]
        rows.append(
            f"| hangup wipe of 100 records < {GOAL_WIPE_MS:.0f} ms | median {wipe['median_ms'] * 1000:.0f} µs, "
            f"max {wipe['max_ms'] * 1000:.0f} µs | {_goal(wipe['max_ms'], GOAL_WIPE_MS)} |"
        )
        rows.append(
            f"| memory back to baseline after {memory['conversations']:,} conversations | "
            f"{memory['blocks_per_conversation']:+.3f} heap blocks per conversation, "
            f"{memory['growth']['rss_kib']:+,} KiB RSS | "
            f"{_goal(abs(memory['blocks_per_conversation']), GOAL_BLOCKS_PER_CONVERSATION)} |"
        )
    return rows


def _sdk_op(single: dict[str, Any]) -> str:
    return str(next(name for name in single["single"] if name.startswith("SDK: conv.call")))


def _single(single: dict[str, Any]) -> list[str]:
    floor = single["floor_latency"]["median_ms"]
    floor_cpu = single["floor_cpu"]["cpu_us"]
    rows = [
        "| variant (concurrency 1) | median ms | p99 ms | client CPU µs/call | latency / floor | CPU − floor µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in single["single"].items():
        breakdown = name.startswith("breakdown")
        ratio = "" if breakdown else f"{r['median_ms'] / floor:.2f}×"
        extra = "" if breakdown else f"{r['cpu_us'] - floor_cpu:+.0f}"
        rows.append(
            f"| {name} | {_ms(r['median_ms'])} | {_ms(r['p99_ms'])} | {r['cpu_us']:.0f} | {ratio} | {extra} |"
        )
    return rows


def _http(http: dict[str, Any]) -> list[str]:
    levels = [str(c) for c in http["concurrency"]]
    head = "| client | " + " | ".join(f"c={c}: CPU µs/req, median / p99 ms, req/s" for c in levels) + " |"
    rows = [head, "| --- |" + " ---: |" * len(levels)]
    for name, by_c in http["clients"].items():
        cells = []
        for c in levels:
            r = by_c[c]
            cells.append(
                f"**{r['cpu_us']:.0f}**, {_ms(r['median_ms'])} / {_ms(r['p99_ms'])}, {r['throughput_per_s']:.0f}"
            )
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def _sweep(single: dict[str, Any]) -> list[str]:
    levels = [str(c) for c in single["sweep_concurrency"]]
    rows = [
        "| get_contact with its Vault read | "
        + " | ".join(f"c={c}: median / p99 ms, CPU µs/call" for c in levels)
        + " |",
        "| --- |" + " ---: |" * len(levels),
    ]
    for name, by_c in single["sweep"].items():
        cells = [
            f"{_ms(by_c[c]['median_ms'])} / {_ms(by_c[c]['p99_ms'])}, {by_c[c]['cpu_us']:.0f}" for c in levels
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def _load(load: dict[str, Any]) -> list[str]:
    rows = [
        "| variant | contexts/s | median ms | p99 ms | CPU ms/context | ticker lag max / p99 ms | "
        "longest callback: wall / CPU ms | callbacks > 5 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in load["variants"].items():
        rows.append(
            f"| {name} | {r['contexts_per_s']:.0f} | {_ms(r['median_ms'])} | {_ms(r['p99_ms'])} | "
            f"{r['cpu_ms_per_context']:.1f} | {_ms(r['loop_lag_max_ms'])} / {_ms(r['loop_lag_p99_ms'])} | "
            f"{_ms(r['longest_callback_ms'])} / {_ms(r['longest_callback_cpu_ms'])} | {r['callbacks_over_5ms']} |"
        )
    return rows


def _import(data: dict[str, Any]) -> list[str]:
    rows = [
        "| statement | median ms | fastest ms | heaviest packages (ms, where first imported) |",
        "| --- | ---: | ---: | --- |",
    ]
    for key in ("sdk", "sdk_and_connectors"):
        r = data[key]
        heavy = ", ".join(f"{n} {ms:.0f}" for n, ms in list(r["heaviest_ms"].items())[1:7])
        rows.append(f"| `{r['statement']}` | {r['median_ms']:.0f} | {r['min_ms']:.0f} | {heavy} |")
    return rows


# --- the plot -------------------------------------------------------------------------------------


def plot(results: dict[str, Any], path: Path) -> bool:
    single = results.get("single")
    if _failed(single):
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
        *_goals(results),
        "",
    ]
    lines += ["## Why the missed goals are missed", "", *_why(results), ""]
    single = results.get("single")
    lines += ["## 1. Single call", ""]
    if _failed(single):
        lines += [f"Not measured: {_failed(single)}.", ""]
    else:
        assert single is not None
        lines += [
            "One `get_contact` (HubSpot connector): the key read from OpenBao on every call (`max_staleness` 0,",
            "the default), the vendor request, parsing into `Contact`, the audit record (`MemoryAuditSink`), the",
            "conversation cache. The floor reads the same secret and sends the same request with a raw client",
            "and parses both bodies. Client CPU is `time.process_time()` over sequential calls (all threads).",
            f"Floor: {single['floor_latency']['name']} (latency), {single['floor_cpu']['name']} (CPU).",
            "",
            *_single(single),
            "",
            "The breakdown rows split the call in two. What the SDK spends beyond the floor, by part:",
            "",
            *_breakdown(single),
            "",
        ]
        if has_plot:
            lines += ["![latency and CPU per call against concurrency](latency.png)", ""]
        lines += [
            "Against concurrency (every call reads Vault; OpenBao is the shared bottleneck at 50+):",
            "",
        ]
        lines += [*_sweep(single), ""]
    http = results.get("http")
    lines += ["## 2. HTTP stack", ""]
    if _failed(http):
        lines += [f"Not measured: {_failed(http)}.", ""]
    else:
        assert http is not None
        lines += [
            "The request `get_contact` sends, to the loopback upstream, body read and JSON-parsed; bold is client",
            "CPU per request. The SDK's default transport is now `AiohttpTransport` (`sdk/_http.py`) under the",
            "same `httpx.AsyncClient`: tests still inject `httpx.MockTransport(router.async_handler)`.",
            "",
            *_http(http),
            "",
        ]
    fanout = results.get("fanout")
    lines += ["## 3. Fan-out", ""]
    if _failed(fanout):
        lines += [f"Not measured: {_failed(fanout)}.", ""]
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
            f"| {_ms(fanout['total_ms'])} ms | {_ms(fanout['slowest_source_ms'])} ms | "
            f"{_ms(fanout['sum_of_sources_ms'])} ms | {_ms(floor_ms)} ms ({fanout['best_floor']}) | "
            f"{fanout['total_over_slowest']:.3f}× | {fanout['total_over_floor']:.3f}× |",
            "",
        ]
    load = results.get("load")
    lines += ["## 4. Load: 200 concurrent conversations on two cores", ""]
    if _failed(load):
        lines += [f"Not measured: {_failed(load)}.", ""]
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
            "itself computed (the rest it waited: for the GIL or for a core).",
            "",
            *_load(load),
            "",
        ]
    memory = results.get("memory")
    lines += ["## 5. Wipe and memory", ""]
    if _failed(memory):
        lines += [f"Not measured: {_failed(memory)}.", ""]
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
    imports = results.get("import")
    lines += ["## 6. Import time", ""]
    if _failed(imports):
        lines += [f"Not measured: {_failed(imports)}.", ""]
    else:
        assert imports is not None
        lines += [
            "A fresh `python -X importtime` per run, median of the summed top-level imports; connectors are",
            f"every one installed through the entry points ({', '.join(imports['connectors'])}).",
            "",
            *_import(imports),
            "",
        ]
    lines += ["## 7. Redaction and the other benchmark files", ""]
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


def _placement(results: dict[str, Any]) -> str:
    for key in ("single", "http", "fanout", "memory"):
        data = results.get(key)
        if data and "_placement" in data:
            return f"{data['_placement']} (the load benchmark is never pinned)"
    return "n/a"


def _breakdown(single: dict[str, Any]) -> list[str]:
    rows = single["single"]
    floor_name = single["floor_cpu"]["name"].split(")")[0].removeprefix("floor (")
    vault_sdk = next(r for n, r in rows.items() if n.startswith("breakdown: SDK credential read"))
    vendor_sdk = next(r for n, r in rows.items() if n.startswith("breakdown: SDK get_contact, key held"))
    vault_floor = rows[f"breakdown: floor ({floor_name}) Vault read only"]
    vendor_floor = rows[f"breakdown: floor ({floor_name}) vendor request only"]
    return [
        "| part | SDK CPU µs | floor CPU µs | difference | SDK median ms | floor median ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| Vault read (SDK: `CredentialStore` → aiohttp on the event loop, `vault/_kv_read.py`) | {vault_sdk['cpu_us']:.0f} | "
        f"{vault_floor['cpu_us']:.0f} | {vault_sdk['cpu_us'] - vault_floor['cpu_us']:+.0f} | "
        f"{_ms(vault_sdk['median_ms'])} | {_ms(vault_floor['median_ms'])} |",
        f"| everything else (httpx client + transport, connector parsing, dispatch, audit, cache) | "
        f"{vendor_sdk['cpu_us']:.0f} | {vendor_floor['cpu_us']:.0f} | "
        f"{vendor_sdk['cpu_us'] - vendor_floor['cpu_us']:+.0f} | {_ms(vendor_sdk['median_ms'])} | "
        f"{_ms(vendor_floor['median_ms'])} |",
    ]


def _why(results: dict[str, Any]) -> list[str]:
    """What the breakdown rows say about each miss, in numbers from this run."""
    out: list[str] = []
    single = results.get("single")
    if not _failed(single):
        assert single is not None
        rows = single["single"]
        floor_name = single["floor_cpu"]["name"].split(")")[0].removeprefix("floor (")
        vault_sdk = next(r for n, r in rows.items() if n.startswith("breakdown: SDK credential read"))
        vendor_sdk = next(r for n, r in rows.items() if n.startswith("breakdown: SDK get_contact, key held"))
        vault_floor = rows[f"breakdown: floor ({floor_name}) Vault read only"]
        vendor_floor = rows[f"breakdown: floor ({floor_name}) vendor request only"]
        out.append(
            f"- **Single call.** The Vault read costs {vault_sdk['cpu_us']:.0f} µs of client CPU through "
            f"`CredentialStore` (aiohttp on the event loop, `vault/_kv_read.py`) against "
            f"{vault_floor['cpu_us']:.0f} µs for the same read with {floor_name}; the rest of the call costs "
            f"{vendor_sdk['cpu_us']:.0f} µs against {vendor_floor['cpu_us']:.0f} µs. Of that rest, a cProfile "
            "of 1,000 calls on a mock transport (inflated by the profiler; read the proportions) puts the "
            "largest parts in httpx building the URL and query of HubSpot's long `properties` list "
            "(a third of it), the connector's phone parsing (`phonenumbers`, a fifth), the span wrapper "
            "and instrumentation suppression around the send (a tenth, with opentelemetry installed and "
            "no provider) and the final-path check of declared endpoints (a twentieth)."
        )
    load = results.get("load")
    if not _failed(load):
        assert load is not None
        sdk = load["variants"]["SDK"]
        best = load["variants"][load["best_floor"]]
        what_if = next((r for n, r in load["variants"].items() if n.startswith("what-if")), None)
        text = (
            f"- **Load.** Under 200 conversations the SDK's loop stalls up to {_ms(sdk['longest_callback_ms'])} ms "
            f"inside a single callback that itself computed only {_ms(sdk['longest_callback_cpu_ms'])} ms: the loop "
            "thread was waiting (for the GIL or for a core: Vault reads run on the loop, but logins, renewals and hvac calls still use worker threads) "
            f"(each context makes {load['vendor_requests_per_context']} Vault reads). The floor, with no "
            f"threads, stalls {_ms(best['longest_callback_ms'])} ms at worst (the client shares two cores "
            "with OpenBao and the upstream, so even it is descheduled)"
        )
        if what_if is not None:
            text += (
                f"; the what-if SDK with a bare benchmark-only credential reader stalls {_ms(what_if['longest_callback_ms'])} ms and "
                f"serves {what_if['contexts_per_s']:.0f} contexts/s against the SDK's {sdk['contexts_per_s']:.0f}"
            )
        out.append(
            text + ". A loop of a few ms at worst under this load needs the Vault reads off threads "
            "(an asyncio HTTP client for Vault, or reads reused within `max_staleness`)."
        )
    if not out:
        out.append("- Nothing was measured.")
    return out


def console_summary(results: dict[str, Any]) -> str:
    return "\n".join(line for line in _goals(results) if not line.startswith("| ---"))
