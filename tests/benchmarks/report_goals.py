"""The page's goals table (issue 13's targets) and why each missed goal is missed, from this run's numbers.

Every row states its target, what was measured and ``met`` or by how much it
was missed; every sentence under "why" is built from numbers in the results,
so nothing on the page outlives the measurement that supports it.
"""

# Table rows and sentences stay whole on their lines, with the page's typographic signs.
# ruff: noqa: E501, RUF001

from __future__ import annotations

from typing import Any

LATENCY_RATIO = 1.3
LATENCY_RATIO_AIM = 1.15
BOOKKEEPING_US = 250.0
FANOUT_RATIO = 1.10
IMPORT_MS = 150.0
CLI_HELP_MS = 300.0
REDACT_US = {"prose": 20.0, "tickets": 150.0, "dense": 400.0}
"""Median per 2 KB text, by class of ``test_redaction_steps.text_classes()``; ``mix`` has no target."""
REDACT_CLASS = {
    "prose": "prose",
    "tickets": "number-heavy ticket text",
    "mix": "mixed corpus",
    "dense": "identifier-dense text",
}
FOR_LLM_US = 250.0
INVOKE_US = 50.0
THROUGHPUT_RATIO = 0.8
STALL_OVER_FLOOR_MS = 20.0
WIPE_MS = 1.0
BLOCKS_PER_CONVERSATION = 1.0


def ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def failed(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return "not run"
    error = data.get("_error")
    return str(error) if error else None


def verdict(value: float, limit: float, unit: str, *, lower_is_better: bool = True) -> str:
    """``met``, or ``missed by`` the distance to the target in its unit and as a share of it."""
    if (value <= limit) if lower_is_better else (value >= limit):
        return "met"
    gap = abs(value - limit)
    if unit == "×":
        amount = f"{gap:.2f}×"
    elif unit == "µs":
        amount = f"{gap:.0f} µs"
    else:
        amount = f"{ms(gap)} {unit}"
    return f"missed by {amount} ({gap / limit * 100:.0f}%)"


def _row(goal: str, target: str, measured: str, result: str) -> str:
    return f"| {goal} | {target} | {measured} | {result} |"


def sdk_op(single: dict[str, Any]) -> str:
    return str(next(name for name in single["single"] if name.startswith("SDK: conv.call")))


def load_stall(load: dict[str, Any]) -> tuple[float, float, float]:
    """The SDK's longest loop stall, the best floor's, and the difference (ms): a callback's wall time."""
    sdk = load["variants"]["SDK"]["longest_callback_ms"]
    floor = load["variants"][load["best_floor"]]["longest_callback_ms"]
    return sdk, floor, sdk - floor


def goals(results: dict[str, Any]) -> list[str]:
    rows = ["| goal (DESIGN §7, issue 13) | target | measured | verdict |", "| --- | --- | --- | --- |"]
    single = results.get("single")
    if not failed(single):
        assert single is not None
        ratio = single["latency_ratio"]
        rows.append(
            _row(
                "single call at concurrency 1: latency against the floor",
                f"≤ {LATENCY_RATIO}× (aim {LATENCY_RATIO_AIM}×)",
                f"{ratio:.2f}× ({ms(single['single'][sdk_op(single)]['median_ms'])} ms vs "
                f"{ms(single['floor_latency']['median_ms'])} ms)",
                f"{verdict(ratio, LATENCY_RATIO, '×')}; aim: {verdict(ratio, LATENCY_RATIO_AIM, '×')}",
            )
        )
        rows.append(
            _row(
                "single call: SDK client CPU beyond the floor",
                f"≤ {BOOKKEEPING_US:.0f} µs",
                f"{single['bookkeeping_cpu_us']:.0f} µs",
                verdict(single["bookkeeping_cpu_us"], BOOKKEEPING_US, "µs"),
            )
        )
    fanout = results.get("fanout")
    if not failed(fanout):
        assert fanout is not None
        rows.append(
            _row(
                "fan-out costs the slowest source, not the sum",
                f"≤ {FANOUT_RATIO}× slowest",
                f"{fanout['total_over_slowest']:.3f}× slowest, {fanout['total_over_sum']:.2f}× sum",
                verdict(fanout["total_over_slowest"], FANOUT_RATIO, "×"),
            )
        )
    rows += _import_rows(results.get("import"))
    rows += _redaction_rows(results.get("redaction"))
    invoke = results.get("invoke")
    if not failed(invoke):
        assert invoke is not None
        call = invoke["variants"]["call"]["cpu_us"]
        rows.append(
            _row(
                "`conv.invoke` beyond the `conv.call` it runs (CPU per call)",
                f"≤ {INVOKE_US:.0f} µs",
                f"{invoke['beyond_call_us']:+.0f} µs ({invoke['worst']}; call {call:.0f} µs)",
                verdict(invoke["beyond_call_us"], INVOKE_US, "µs"),
            )
        )
    rows += _load_rows(results.get("load"))
    rows += _memory_rows(results.get("memory"))
    return rows


def _import_rows(data: dict[str, Any] | None) -> list[str]:
    if failed(data):
        return []
    assert data is not None
    rows = []
    for key, goal in (
        ("sdk", "`import sdk` in a fresh interpreter"),
        ("sdk_client", "`from sdk import NexoraConnect` (names resolve on first use)"),
    ):
        r = data.get(key)
        if r is not None:
            rows.append(
                _row(
                    goal,
                    f"≤ {IMPORT_MS:.0f} ms",
                    f"median {r['median_ms']:.0f} ms, fastest {r['min_ms']:.0f} ms",
                    verdict(r["median_ms"], IMPORT_MS, "ms"),
                )
            )
    cli = data.get("cli_help")
    if cli is not None:
        rows.append(
            _row(
                "`nexora-connect --help`, wall time of a fresh process",
                f"≤ {CLI_HELP_MS:.0f} ms",
                f"median {cli['median_ms']:.0f} ms, fastest {cli['min_ms']:.0f} ms "
                f"(`{cli['floor_command']}`: {cli['floor_median_ms']:.0f} ms)",
                verdict(cli["median_ms"], CLI_HELP_MS, "ms"),
            )
        )
    return rows


def _redaction_rows(data: dict[str, Any] | None) -> list[str]:
    if failed(data):
        return []
    assert data is not None
    rows = []
    for name, limit in REDACT_US.items():
        r = data["redact"][name]
        rows.append(
            _row(
                f"redaction of {REDACT_CLASS[name]}, median per 2 KB",
                f"≤ {limit:.0f} µs",
                f"{r['median_us']:.0f} µs (fastest round {r['min_us']:.0f} µs)",
                verdict(r["median_us"], limit, "µs"),
            )
        )
    for fmt in ("text", "json"):
        r = data["for_llm"][fmt]
        rows.append(
            _row(
                "`for_llm()` on a full customer context"
                if fmt == "text"
                else '`for_llm("json")` on a full customer context',
                f"≤ {FOR_LLM_US:.0f} µs",
                f"median {r['median_us']:.0f} µs",
                verdict(r["median_us"], FOR_LLM_US, "µs"),
            )
        )
    return rows


def _load_rows(load: dict[str, Any] | None) -> list[str]:
    if failed(load):
        return []
    assert load is not None
    sdk_stall, floor_stall, over = load_stall(load)
    return [
        _row(
            "200 conversations on 2 cores: throughput against the best floor",
            f"≥ {THROUGHPUT_RATIO}×",
            f"{load['throughput_ratio']:.2f}× ({load['variants']['SDK']['contexts_per_s']:.0f} vs "
            f"{load['variants'][load['best_floor']]['contexts_per_s']:.0f} contexts/s; p99 {load['p99_ratio']:.2f}×)",
            verdict(load["throughput_ratio"], THROUGHPUT_RATIO, "×", lower_is_better=False),
        ),
        _row(
            "200 conversations: longest event-loop stall, SDK − floor",
            f"≤ {STALL_OVER_FLOOR_MS:.0f} ms",
            f"{over:+.0f} ms (longest callback {ms(sdk_stall)} ms vs {ms(floor_stall)} ms)",
            verdict(over, STALL_OVER_FLOOR_MS, "ms"),
        ),
    ]


def _memory_rows(memory: dict[str, Any] | None) -> list[str]:
    if failed(memory):
        return []
    assert memory is not None
    wipe = memory["wipe_100_records"]
    return [
        _row(
            "hangup wipe of 100 records",
            f"≤ {WIPE_MS:.0f} ms",
            f"median {wipe['median_ms'] * 1000:.0f} µs, max {wipe['max_ms'] * 1000:.0f} µs",
            verdict(wipe["max_ms"], WIPE_MS, "ms"),
        ),
        _row(
            f"memory back to baseline after {memory['conversations']:,} conversations",
            f"≤ {BLOCKS_PER_CONVERSATION:.0f} heap block per conversation",
            f"{memory['blocks_per_conversation']:+.3f} blocks per conversation, "
            f"{memory['growth']['rss_kib']:+,} KiB RSS",
            verdict(abs(memory["blocks_per_conversation"]), BLOCKS_PER_CONVERSATION, "blocks"),
        ),
    ]
