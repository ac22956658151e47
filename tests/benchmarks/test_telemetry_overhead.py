"""What tracing and the file audit sink cost per operation, against floors measured in the same run.

Run with ``pytest -m benchmark tests/benchmarks/test_telemetry_overhead.py -s``. The numbers are CPU
time per operation (``time.process_time``), median of several rounds; the assertions are loose
ceilings that only a regression by a multiple would cross.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import respx
from opentelemetry import context, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import sdk._telemetry
from sdk import AuditDecision, AuditRecord, JsonLinesAuditSink, MemoryAuditSink, NullAuditSink
from sdk._telemetry import OperationTracer, start_operation_span
from sdk.testing import make_canary
from tests.connectors import hubspot_cases as hs

pytestmark = pytest.mark.benchmark

ROUNDS = 7
FIELDS = {
    "tenant": "acme",
    "integration": "crm",
    "connector": "hubspot",
    "operation": "get_contact",
    "scope": "contacts:read",
    "region": "nz",
}
RECORD = AuditRecord(
    tenant="acme",
    integration="crm",
    connector="hubspot",
    operation="get_contact",
    scope="contacts:read",
    decision=AuditDecision.ALLOWED,
    outcome="ok",
    http_status=200,
    latency_ms=1.2,
    credential_version=3,
    conversation_id="call-1",
    region="nz",
)


class _DiscardingExporter(SpanExporter):
    """An exporter that drops spans: the batch processor's cost without a collector's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _cpu_per_call(body: Callable[[], object], calls: int) -> float:
    """Median CPU microseconds per call of ``body`` over ROUNDS rounds."""
    samples = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(calls):
            body()
        samples.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(samples)


@pytest.fixture
def bare() -> Iterator[TracerProvider]:
    provider = TracerProvider()
    yield provider
    provider.shutdown()


@pytest.fixture
def providers(bare: TracerProvider) -> Iterator[dict[str, OperationTracer | None]]:
    batch = TracerProvider()
    batch.add_span_processor(BatchSpanProcessor(_DiscardingExporter()))
    yield {
        "off (no opentelemetry)": None,
        "api only, no SDK": OperationTracer(trace.NoOpTracerProvider()),
        "SDK, no processor": OperationTracer(bare),
        "SDK + batch export": OperationTracer(batch),
    }
    batch.shutdown()


def test_span_wrapper_cost_per_operation(
    providers: dict[str, OperationTracer | None], bare: TracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdk._telemetry, "_default", None)
    raw_tracer = bare.get_tracer("raw")
    end_attributes: dict[str, str | bool | int] = {"a": "allowed", "b": "ok", "c": False, "d": 200, "e": 3}

    def raw() -> None:
        """The floor for the SDK rows: the same span, attributes and context switch, by hand."""
        span = raw_tracer.start_span("nexora.hubspot.get_contact", attributes=FIELDS)
        token = context.attach(trace.set_span_in_context(span))
        span.set_attributes(end_attributes)
        span.end()
        context.detach(token)

    results: dict[str, float] = {"raw OpenTelemetry SDK span": _cpu_per_call(raw, 20_000)}
    for label, tracer in providers.items():

        def one(tracer: OperationTracer | None = tracer) -> None:
            span = start_operation_span(**FIELDS, tracer=tracer)
            if span is not None:
                span.end(RECORD)

        results[label] = _cpu_per_call(one, 20_000)
    floor = results["off (no opentelemetry)"]
    print()
    for label, micros in results.items():
        print(f"  span wrapper, {label:26s} {micros:7.2f} µs/op  (+{micros - floor:6.2f} µs over off)")
    wrapper = results["SDK, no processor"] / results["raw OpenTelemetry SDK span"]
    print(f"  wrapper over a hand-made span with the same attributes: x{wrapper:.3f}")
    assert floor < 2.0
    assert results["api only, no SDK"] < 10.0
    assert wrapper < 1.3
    assert results["SDK + batch export"] < 60.0


def _contact_route(router: respx.MockRouter) -> None:
    router.get(url__regex=r"/crm/v3/objects/contacts/\d+").respond(200, json=hs.fixture("contact"))


async def test_tracing_cost_on_a_whole_operation(
    providers: dict[str, OperationTracer | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One get_contact per conversation through the HubSpot connector and a mock transport."""
    router = respx.MockRouter(base_url=hs.BASE, assert_all_called=False)
    _contact_route(router)
    calls = 400
    async with hs.runtime(router, hs.credentials(make_canary("secret")), audit=NullAuditSink()) as nc:
        labels = ("off (no opentelemetry)", "SDK + batch export")
        samples: dict[str, list[float]] = {label: [] for label in labels}
        # Rounds alternate between the two so that drift over the run does not favour either.
        for round_ in range(ROUNDS):
            for label in labels:
                monkeypatch.setattr(sdk._telemetry, "_default", providers[label])
                started = time.process_time()
                for n in range(calls):
                    async with nc.conversation(tenant="acme", conversation_id=f"c-{round_}-{n}") as conv:
                        await conv.call(hs.READ, "get_contact", contact_id="51")
                samples[label].append((time.process_time() - started) / calls * 1e6)
        results = {label: statistics.median(values) for label, values in samples.items()}
    floor, traced = results["off (no opentelemetry)"], results["SDK + batch export"]
    print(
        f"\n  whole operation: {floor:.1f} µs/op untraced, {traced:.1f} µs/op traced "
        f"(+{traced - floor:.1f} µs, x{traced / floor:.3f})"
    )
    assert traced / floor < 1.5


def test_audit_emit_cost(tmp_path: Path) -> None:
    """The file sink against the null and memory sinks (all three include the session's S3 recorder)."""
    clock = lambda: datetime(2026, 11, 26, 12, tzinfo=UTC)  # noqa: E731 - a constant clock
    jsonl = JsonLinesAuditSink(tmp_path, clock=clock)
    memory = MemoryAuditSink()
    null = NullAuditSink()
    try:
        results = {
            "serialise only (model_dump_json)": _cpu_per_call(RECORD.model_dump_json, 5_000),
            "NullAuditSink": _cpu_per_call(lambda: null.emit(RECORD), 5_000),
            "MemoryAuditSink": _cpu_per_call(lambda: memory.emit(RECORD), 5_000),
            "JsonLinesAuditSink": _cpu_per_call(lambda: jsonl.emit(RECORD), 5_000),
        }
        memory.records.clear()
        # What the event loop waits for: wall time of single emits, tail included.
        waits = []
        for _ in range(5_000):
            started = time.perf_counter()
            jsonl.emit(RECORD)
            waits.append((time.perf_counter() - started) * 1e6)
    finally:
        jsonl.close()
    waits.sort()
    p50, p99, worst = waits[len(waits) // 2], waits[int(len(waits) * 0.99)], waits[-1]
    print(f"\n  JsonLinesAuditSink.emit wall time: p50 {p50:.1f} µs, p99 {p99:.1f} µs, max {worst:.1f} µs")
    for label, micros in results.items():
        print(f"  audit emit, {label:34s} {micros:6.2f} µs/record")
    extra = results["JsonLinesAuditSink"] - results["MemoryAuditSink"]
    print(f"  file sink over memory sink: +{extra:.2f} µs/record")
    assert extra < 40.0
    assert p99 < 1_000.0
