"""The audit trail as OpenTelemetry log records, for deployments of many replicas (S7, S8).

A file per replica is awkward to collect and to keep for 90 days when replicas
come and go; an OpenTelemetry collector is what such deployments already run.
:class:`OtelLogAuditSink` hands each audit record to the OpenTelemetry logs API
as one log record; the application's logger provider exports it (OTLP, to a
collector in the tenant's region).

**What a log record holds.** The body is the record as one JSON object, the
very line :class:`~sdk._audit.JsonLinesAuditSink` would write, so tools that
read the file trail read this too. Every field is also an attribute
(``nexora.tenant``, ``nexora.region``, ``nexora.decision``, ...), so a
collector can route and filter without parsing the body. The audit record has
only closed-vocabulary fields, so neither holds customer data or a secret.
The event name is ``nexora.audit``; the severity is ``INFO`` for an allowed
call and ``WARN`` for a denied one. The record is emitted while the
operation's span is current, so it carries that span's trace and span ids.

**Residency and retention are the pipeline's job.** ``nexora.region`` is on
every record (the sink's ``default_region`` when the record has none): route on
it in the collector (the ``routing`` connector) to an exporter and storage in
that region. Retention is enforced where the records are stored (the log
backend's retention setting, 90 days by default as the product promises), not
here: this sink keeps nothing. See ``docs/observability.md``.

**Failures do not fail the call**, as with the file sink: a record the logs
pipeline refuses is counted in :attr:`dropped` and logged (class name only).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Final

from sdk._audit import AuditDecision, AuditRecord
from sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry._logs import LoggerProvider

try:
    from opentelemetry import _logs as _otel_logs
except ImportError:  # the `otel` extra is not installed
    _otel_available = False
else:
    _otel_available = True

__all__ = ["AUDIT_EVENT_NAME", "OtelLogAuditSink"]

AUDIT_EVENT_NAME: Final = "nexora.audit"
INSTRUMENTATION_NAME: Final = "nexora-connect.audit"

_log = logging.getLogger("nexora.audit")


def _attributes(record: AuditRecord, region: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "nexora.tenant": record.tenant,
        "nexora.region": region,
        "nexora.integration": record.integration,
        "nexora.connector": record.connector,
        "nexora.operation": record.operation,
        "nexora.scope": record.scope,
        "nexora.decision": record.decision.value,
        "nexora.outcome": record.outcome,
        "nexora.latency_ms": record.latency_ms,
    }
    if record.http_status is not None:
        attributes["nexora.http_status"] = record.http_status
    if record.credential_version is not None:
        attributes["nexora.credential_version"] = record.credential_version
    if record.conversation_id is not None:
        attributes["nexora.conversation_id"] = record.conversation_id
    return attributes


class OtelLogAuditSink:
    """Emits each audit record as an OpenTelemetry log record (see the module docstring).

    ``logger_provider`` defaults to OpenTelemetry's global one (set by the
    application with ``opentelemetry._logs.set_logger_provider``);
    ``default_region`` is the region of a record that names none.
    """

    def __init__(self, logger_provider: LoggerProvider | None = None, *, default_region: str = "nz") -> None:
        if not _otel_available:
            raise ConfigurationError(
                "the OpenTelemetry audit sink needs opentelemetry-api: pip install 'nexora-connect[otel]'"
            )
        self.default_region = default_region
        self._logger = _otel_logs.get_logger(INSTRUMENTATION_NAME, logger_provider=logger_provider)
        self._lock = threading.Lock()
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """How many records the logs pipeline refused since this sink was made."""
        with self._lock:
            return self._dropped

    def emit(self, record: AuditRecord) -> None:
        region = record.region or self.default_region
        denied = record.decision is AuditDecision.DENIED
        severity = _otel_logs.SeverityNumber.WARN if denied else _otel_logs.SeverityNumber.INFO
        try:
            self._logger.emit(
                _otel_logs.LogRecord(
                    timestamp=int(record.at.timestamp() * 1_000_000) * 1_000,
                    severity_number=severity,
                    severity_text="WARN" if denied else "INFO",
                    body=record.model_dump_json(),
                    attributes=_attributes(record, region),
                    event_name=AUDIT_EVENT_NAME,
                )
            )
        except Exception as exc:  # noqa: BLE001 - the call being audited has already run; see the docstring
            with self._lock:
                self._dropped += 1
                count = self._dropped
            if count & (count - 1) == 0:  # 1, 2, 4, ...: loud at first, bounded when it persists
                _log.warning(
                    "audit record not handed to OpenTelemetry (%d so far, %s): the exported trail is "
                    "incomplete; check the logger provider and its exporter",
                    count,
                    type(exc).__name__,
                )
