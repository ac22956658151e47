"""The page's tables, one function per benchmark's results (Markdown rows, no prose)."""

# Table rows stay whole on their lines, with the page's typographic signs.
# ruff: noqa: E501, RUF001

from __future__ import annotations

from typing import Any

from tests.benchmarks import report_goals as g
from tests.benchmarks.report_why import breakdown_rows

ms = g.ms


def single(data: dict[str, Any]) -> list[str]:
    floor = data["floor_latency"]["median_ms"]
    floor_cpu = data["floor_cpu"]["cpu_us"]
    rows = [
        "| variant (concurrency 1) | median ms | p99 ms | client CPU µs/call | latency / floor | CPU − floor µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in data["single"].items():
        breakdown = name.startswith("breakdown")
        ratio = "" if breakdown else f"{r['median_ms'] / floor:.2f}×"
        extra = "" if breakdown else f"{r['cpu_us'] - floor_cpu:+.0f}"
        rows.append(
            f"| {name} | {ms(r['median_ms'])} | {ms(r['p99_ms'])} | {r['cpu_us']:.0f} | {ratio} | {extra} |"
        )
    return rows


def breakdown(data: dict[str, Any]) -> list[str]:
    _, b = breakdown_rows(data)
    vault_sdk, vault_floor, vendor_sdk, vendor_floor = (
        b["vault_sdk"],
        b["vault_floor"],
        b["vendor_sdk"],
        b["vendor_floor"],
    )
    return [
        "| part | SDK CPU µs | floor CPU µs | difference | SDK median ms | floor median ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| Vault read (SDK: `CredentialStore`) | {vault_sdk['cpu_us']:.0f} | "
        f"{vault_floor['cpu_us']:.0f} | {vault_sdk['cpu_us'] - vault_floor['cpu_us']:+.0f} | "
        f"{ms(vault_sdk['median_ms'])} | {ms(vault_floor['median_ms'])} |",
        f"| everything else (request building, the guarded aiohttp transport, connector parsing, dispatch, audit, cache) | "
        f"{vendor_sdk['cpu_us']:.0f} | {vendor_floor['cpu_us']:.0f} | "
        f"{vendor_sdk['cpu_us'] - vendor_floor['cpu_us']:+.0f} | {ms(vendor_sdk['median_ms'])} | "
        f"{ms(vendor_floor['median_ms'])} |",
    ]


def http(data: dict[str, Any]) -> list[str]:
    levels = [str(c) for c in data["concurrency"]]
    head = "| client | " + " | ".join(f"c={c}: CPU µs/req, median / p99 ms, req/s" for c in levels) + " |"
    rows = [head, "| --- |" + " ---: |" * len(levels)]
    for name, by_c in data["clients"].items():
        cells = []
        for c in levels:
            r = by_c[c]
            cells.append(
                f"**{r['cpu_us']:.0f}**, {ms(r['median_ms'])} / {ms(r['p99_ms'])}, {r['throughput_per_s']:.0f}"
            )
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def sweep(data: dict[str, Any]) -> list[str]:
    levels = [str(c) for c in data["sweep_concurrency"]]
    rows = [
        "| get_contact with its Vault read | "
        + " | ".join(f"c={c}: median / p99 ms, CPU µs/call" for c in levels)
        + " |",
        "| --- |" + " ---: |" * len(levels),
    ]
    for name, by_c in data["sweep"].items():
        cells = [
            f"{ms(by_c[c]['median_ms'])} / {ms(by_c[c]['p99_ms'])}, {by_c[c]['cpu_us']:.0f}" for c in levels
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def load(data: dict[str, Any]) -> list[str]:
    rows = [
        "| variant | contexts/s | median ms | p99 ms | CPU ms/context | ticker lag max / p99 ms | "
        "longest callback: wall / CPU ms | longest without a GC inside, ms | longest GC ms (full GCs) | "
        "callbacks > 5 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in data["variants"].items():
        no_gc = ms(r["longest_callback_without_gc_ms"]) if "longest_callback_without_gc_ms" in r else "-"
        gc_cell = f"{ms(r['gc_longest_ms'])} ({r['gc_full_collections']})" if "gc_longest_ms" in r else "-"
        rows.append(
            f"| {name} | {r['contexts_per_s']:.0f} | {ms(r['median_ms'])} | {ms(r['p99_ms'])} | "
            f"{r['cpu_ms_per_context']:.1f} | {ms(r['loop_lag_max_ms'])} / {ms(r['loop_lag_p99_ms'])} | "
            f"{ms(r['longest_callback_ms'])} / {ms(r['longest_callback_cpu_ms'])} | {no_gc} | {gc_cell} | "
            f"{r['callbacks_over_5ms']} |"
        )
    return rows


def imports(data: dict[str, Any]) -> list[str]:
    rows = [
        "| statement | median ms | fastest ms | heaviest packages (ms, where first imported) |",
        "| --- | ---: | ---: | --- |",
    ]
    for key in ("sdk", "sdk_client", "sdk_and_connectors"):
        r = data.get(key)
        if r is None:
            continue
        heavy = ", ".join(f"{n} {value:.0f}" for n, value in list(r["heaviest_ms"].items())[1:7])
        rows.append(f"| `{r['statement']}` | {r['median_ms']:.0f} | {r['min_ms']:.0f} | {heavy} |")
    return rows


def cli(data: dict[str, Any]) -> list[str]:
    own = data["median_ms"] - data["floor_median_ms"]
    return [
        "| fresh process | median ms | fastest ms |",
        "| --- | ---: | ---: |",
        f"| `{data['command']}` | {data['median_ms']:.0f} | {data['min_ms']:.0f} |",
        f"| `{data['floor_command']}` (the interpreter's start, the floor) | {data['floor_median_ms']:.0f} | "
        f"{data['floor_min_ms']:.0f} |",
        f"| the command's own share (median − floor) | {own:.0f} | |",
    ]


def redaction(data: dict[str, Any]) -> list[str]:
    rows = [
        "| text class (2 KB each) | texts | median µs per text | fastest round µs | target µs |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, r in data["redact"].items():
        limit = g.REDACT_US.get(name)
        target = f"≤ {limit:.0f}" if limit is not None else "—"
        label = g.REDACT_CLASS.get(name, name)
        rows.append(
            f"| {label if label == name else f'{label} (`{name}`)'} | {r['texts']} | {r['median_us']:.1f} | "
            f"{r['min_us']:.1f} | {target} |"
        )
    return rows


def for_llm(data: dict[str, Any]) -> list[str]:
    r = data["for_llm"]
    return [
        "| rendering of a full customer context | median µs | fastest µs | samples | target µs |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| `for_llm()` (text, {r['text_bytes']:,} bytes) | {r['text']['median_us']:.0f} | "
        f"{r['text']['min_us']:.0f} | {r['text']['samples']} | ≤ {g.FOR_LLM_US:.0f} |",
        f'| `for_llm("json")` ({r["json_bytes"]:,} bytes as JSON) | {r["json"]["median_us"]:.0f} | {r["json"]["min_us"]:.0f} | '
        f"{r['json']['samples']} | ≤ {g.FOR_LLM_US:.0f} |",
        f"| first `for_llm()` of a freshly fetched context | {r['first_text']['median_us']:.0f} | "
        f"{r['first_text']['min_us']:.0f} | {r['first_text']['samples']} | |",
        f'| first `for_llm("json")` of a freshly fetched context | {r["first_json"]["median_us"]:.0f} | '
        f"{r['first_json']['min_us']:.0f} | {r['first_json']['samples']} | |",
        f"| `records({r['records_integration']!r})` alone (opening one source's sealed records) | {r['records']['median_us']:.0f} | "
        f"{r['records']['min_us']:.0f} | {r['records']['samples']} | |",
    ]


def invoke(data: dict[str, Any]) -> list[str]:
    rows = [
        "| variant | CPU µs per call (median) | fastest µs | wall µs (median) | beyond `call`: medians / paired µs |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, r in data["variants"].items():
        beyond = (
            f"{r['beyond_call_us']:+.0f} / {r['beyond_call_paired_us']:+.0f}" if "beyond_call_us" in r else ""
        )
        rows.append(f"| {name} | {r['cpu_us']:.0f} | {r['cpu_min_us']:.0f} | {r['wall_us']:.0f} | {beyond} |")
    if "render_us" in data:
        rows.append(
            f"| of which: rendering a `call` result for the model (`LLMRenderer.view`) | {data['render_us']:.0f} | | | |"
        )
    return rows


def profile(data: dict[str, Any]) -> list[str]:
    sdk, floor = data["sdk"]["components_us"], data["floor"]["components_us"]
    rows = [
        "| component | SDK µs/call | floor µs/call | SDK − floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in sorted(set(sdk) | set(floor), key=lambda n: -(sdk.get(n, 0.0) - floor.get(n, 0.0))):
        mine, theirs = sdk.get(name, 0.0), floor.get(name, 0.0)
        rows.append(f"| {name} | {mine:.0f} | {theirs:.0f} | {mine - theirs:+.0f} |")
    total_sdk, total_floor = data["sdk"]["cpu_us"], data["floor"]["cpu_us"]
    rows.append(
        f"| **whole call** | **{total_sdk:.0f}** | **{total_floor:.0f}** | **{total_sdk - total_floor:+.0f}** |"
    )
    return rows
