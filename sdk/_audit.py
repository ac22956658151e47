"""Audit records: one per operation, allowed or denied, with no data in them (S7).

A record has only closed-vocabulary fields: ids that the configuration
defines, the operation and scope names, the decision, the outcome (an error
class name, never its message), the HTTP status, the latency and the Vault
version of the credential used. There is no free-text field, so there is no
place for customer data or a secret to land.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditDecision",
    "AuditRecord",
    "AuditSink",
    "JsonLinesAuditSink",
    "MemoryAuditSink",
    "NullAuditSink",
]


class AuditDecision(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class AuditRecord(BaseModel):
    """Who did what, under which scope, with what result; nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant: str
    integration: str
    connector: str
    operation: str
    scope: str
    decision: AuditDecision
    outcome: str = Field(description="'ok', 'cached', or the SDK error class name.")
    http_status: int | None = None
    latency_ms: float
    credential_version: int | None = None
    conversation_id: str | None = None
    region: str | None = None


class AuditSink(Protocol):
    """Where audit records go. ``emit`` must not block for long: it runs on the call path."""

    def emit(self, record: AuditRecord) -> None: ...


class NullAuditSink:
    """Discards records (for benchmarks of the SDK without audit I/O)."""

    def emit(self, record: AuditRecord) -> None:
        return None


class MemoryAuditSink:
    """Keeps records in a list; for tests and the demo."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def emit(self, record: AuditRecord) -> None:
        self.records.append(record)

    def __iter__(self) -> Iterator[AuditRecord]:
        return iter(self.records)


class JsonLinesAuditSink:
    """Appends one JSON object per line to a file.

    Writes are line-buffered and serialised with a lock so that records from
    concurrent calls never interleave.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8", buffering=1)

    def emit(self, record: AuditRecord) -> None:
        line = json.dumps(record.model_dump(mode="json"), separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()
