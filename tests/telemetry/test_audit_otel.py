"""The audit trail as OpenTelemetry log records: one per audit record, region kept, nothing more."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sdk import AuditDecision, AuditRecord, ScopeDeniedError
from sdk._audit_otel import AUDIT_EVENT_NAME, OtelLogAuditSink
from sdk.testing import issued_canaries, make_canary
from tests.connectors import hubspot_cases as hs
from tests.mock_nexora import runtime_on

CONTACT = "/crm/v3/objects/contacts/51"


@pytest.fixture
def logs() -> Iterator[tuple[LoggerProvider, InMemoryLogRecordExporter]]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def exported(exporter: InMemoryLogRecordExporter) -> list[Any]:
    return [entry.log_record for entry in exporter.get_finished_logs()]


@pytest.mark.usefixtures("tracer_provider")
async def test_each_audit_record_becomes_one_log_record_with_its_fields_and_region(
    router: respx.MockRouter,
    canary_key: str,
    logs: tuple[LoggerProvider, InMemoryLogRecordExporter],
    exporter: InMemorySpanExporter,
) -> None:
    provider, log_exporter = logs
    name = make_canary("name")
    contact = hs.fixture("contact")
    contact["properties"]["firstname"] = name
    router.get(CONTACT).respond(200, json=contact)
    sink = OtelLogAuditSink(provider)
    async with (
        runtime_on(router, hs.config(), hs.registry(), hs.credentials(canary_key), audit=sink) as nc,
        nc.conversation(tenant="acme", conversation_id="call-1") as conv,
    ):
        await conv.call(hs.READ, "get_contact", contact_id="51")
        with pytest.raises(ScopeDeniedError):
            await conv.call(hs.READ, "create_note", contact_id="51", body=f"{name} called")

    allowed, denied = exported(log_exporter)
    assert allowed.event_name == AUDIT_EVENT_NAME
    assert (allowed.severity_number, denied.severity_number) == (SeverityNumber.INFO, SeverityNumber.WARN)
    assert dict(allowed.attributes) == {
        "nexora.tenant": "acme",
        "nexora.region": "nz",
        "nexora.integration": hs.READ,
        "nexora.connector": "hubspot",
        "nexora.operation": "get_contact",
        "nexora.scope": "contacts:read",
        "nexora.decision": "allowed",
        "nexora.outcome": "ok",
        "nexora.latency_ms": allowed.attributes["nexora.latency_ms"],
        "nexora.http_status": 200,
        "nexora.credential_version": 1,
        "nexora.conversation_id": "call-1",
    }
    assert isinstance(allowed.attributes["nexora.latency_ms"], float)
    # The body is the very line the file sink writes: it reads back as the record.
    record = AuditRecord.model_validate_json(allowed.body)
    assert (record.operation, record.outcome, record.region) == ("get_contact", "ok", "nz")
    assert allowed.timestamp == int(record.at.timestamp() * 1_000_000) * 1_000
    assert dict(denied.attributes)["nexora.outcome"] == "ScopeDeniedError"
    # Emitted while the operation's span was current: the trail joins the trace.
    spans = {span.name: span for span in exporter.get_finished_spans()}
    operation = spans["nexora.hubspot.get_contact"]
    assert operation.context is not None
    assert (allowed.trace_id, allowed.span_id) == (operation.context.trace_id, operation.context.span_id)
    text = "\n".join(entry.to_json() for entry in log_exporter.get_finished_logs())
    assert [canary for canary in issued_canaries() if canary in text] == []
    assert sink.dropped == 0


def _record(**changes: Any) -> AuditRecord:
    fields: dict[str, Any] = {
        "tenant": "acme",
        "integration": "crm",
        "connector": "hubspot",
        "operation": "get_contact",
        "scope": "contacts:read",
        "decision": AuditDecision.ALLOWED,
        "outcome": "ok",
        "latency_ms": 1.5,
    }
    return AuditRecord(**(fields | changes))


def test_a_record_without_a_region_gets_the_default_one_and_a_regions_own_is_kept(
    logs: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, log_exporter = logs
    sink = OtelLogAuditSink(provider, default_region="au")
    sink.emit(_record())
    sink.emit(_record(region="nz", tenant="kiwi"))
    regions = [
        (log.attributes["nexora.tenant"], log.attributes["nexora.region"]) for log in exported(log_exporter)
    ]
    assert regions == [("acme", "au"), ("kiwi", "nz")]
    assert "nexora.conversation_id" not in exported(log_exporter)[0].attributes


class _Refusing(LogRecordExporter):
    def export(self, batch: Any) -> LogRecordExportResult:
        raise OSError("collector unreachable")

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def test_a_pipeline_that_fails_never_fails_the_call_and_is_counted(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(_Refusing()))
    sink = OtelLogAuditSink(provider)
    sink.emit(_record())  # the SDK's processor swallows an exporter's failure itself

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("logger broke")

    monkeypatch.setattr(sink._logger, "emit", broken)
    for _ in range(3):
        sink.emit(_record())
    assert sink.dropped == 3
    warnings = [r for r in caplog.records if r.name == "nexora.audit"]
    assert [json.dumps(r.getMessage()).count("RuntimeError") for r in warnings] == [1, 1]
    provider.shutdown()
