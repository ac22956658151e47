"""How the demo speaks: numbered plain-text steps as they happen, or one JSON summary at the end.

The reporter is handed only what the demo chooses to show. Nothing secret is
ever passed to it: keys and Vault tokens stay in the scenario's local
variables, and SDK error messages never carry them (promise S3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from sdk._audit import AuditRecord

__all__ = ["Reporter", "audit_row", "format_audit"]

_AUDIT_HEADER = (
    f"{'#':>3}  {'integration':<11} {'operation':<19} {'scope':<18} {'decision':<8} "
    f"{'outcome':<22} {'status':>6} {'cred':>4} {'latency':>10}"
)


def audit_row(record: AuditRecord) -> dict[str, Any]:
    """The fields of one audit record the demo shows (all of them are closed-vocabulary)."""
    return {
        "integration": record.integration,
        "connector": record.connector,
        "operation": record.operation,
        "scope": record.scope,
        "decision": str(record.decision),
        "outcome": record.outcome,
        "http_status": record.http_status,
        "credential_version": record.credential_version,
        "latency_ms": record.latency_ms,
    }


def format_audit(records: Iterable[AuditRecord]) -> list[str]:
    """One line per record: operation, scope, decision, outcome, status, credential version, latency."""
    lines = [_AUDIT_HEADER]
    for number, record in enumerate(records, start=1):
        status = str(record.http_status) if record.http_status is not None else "-"
        version = f"v{record.credential_version}" if record.credential_version is not None else "-"
        lines.append(
            f"{number:>3}  {record.integration:<11} {record.operation:<19} {record.scope:<18} "
            f"{record.decision!s:<8} {record.outcome:<22} {status:>6} {version:>4} "
            f"{record.latency_ms:>7.1f} ms"
        )
    return lines


class Reporter:
    """Writes the demo's narration to ``out`` (text mode) or collects it for one JSON document."""

    def __init__(self, out: TextIO, *, json_output: bool) -> None:
        self._out = out
        self.json_output = json_output
        self._steps = 0

    def _write(self, text: str) -> None:
        if not self.json_output:
            self._out.write(text + "\n")
            self._out.flush()

    def title(self, text: str) -> None:
        self._write(text)

    def step(self, text: str) -> None:
        self._steps += 1
        self._write(f"\n[{self._steps}] {text}")

    def line(self, text: str = "") -> None:
        self._write(f"    {text}" if text else "")

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    def summary(self, document: dict[str, Any]) -> None:
        """In JSON mode, print the whole summary as one JSON document."""
        if self.json_output:
            self._out.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
            self._out.flush()
