"""What a key operation reports: its steps, how it ended, and the versions Vault keeps.

Plain values with no I/O, so that the command line and callers of
:class:`~sdk.admin.TenantKeys` can print (``lines()``) or serialise (``to_dict()``)
them without touching Vault. Nothing here ever holds a credential's value.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from enum import StrEnum
from typing import Any

from sdk._errors import NexoraError, VaultConflictError

__all__ = ["KeyAction", "KeyOutcome", "KeyReport", "KeyStep", "KeyVersion", "KeyVersions"]


class KeyAction(StrEnum):
    """What one step of a key operation did."""

    WRITE = "write"
    VERIFY = "verify"
    ROLLBACK = "rollback"
    """Automatic, after a rotation failed verification: the previous version made current again."""
    RESTORE = "restore"
    """Asked for (``rollback --to N``): an earlier version made current again."""
    CHECK = "check"
    """After verifying: whether someone else wrote a version meanwhile."""


class KeyOutcome(StrEnum):
    """How a key operation ended."""

    OK = "ok"
    ROLLED_BACK = "rolled_back"
    """The new key failed verification and the previous one is current again."""
    VERIFY_FAILED = "verify_failed"
    """The current key failed verification and nothing was (or could be) rolled back."""
    CONFLICT = "conflict"
    """Another writer changed the credential after this operation wrote; their version was left alone."""
    ROLLBACK_FAILED = "rollback_failed"
    """The new key failed verification and could not be rolled back: it is still current."""


@dataclasses.dataclass(frozen=True, slots=True)
class KeyStep:
    """One step of a key operation, with the error that failed it (its class name and message).

    SDK error messages are written to say what went wrong and what to do, and
    never to hold a secret (S3), so they are safe to print and to log.
    """

    action: KeyAction
    ok: bool
    version: int | None = None
    """The version written, restored or verified."""
    cas: int | None = None
    """The version a write was conditional on (check-and-set; 0: none existed)."""
    source_version: int | None = None
    """The version whose value a rollback or restore copied."""
    error: str | None = None
    message: str | None = None

    def describe(self) -> str:
        """One line for people."""
        v = f"v{self.version}" if self.version is not None else "the new version"
        on = ""
        if self.cas is not None:
            on = f" (check-and-set on v{self.cas})" if self.cas else " (the first version)"
        why = f": {self.error}: {self.message}" if self.error else ""
        src = f"v{self.source_version}"
        if self.action is KeyAction.WRITE:
            return f"wrote {v}{on}" if self.ok else f"write failed{why}"
        if self.action is KeyAction.VERIFY:
            return f"verified {v} against the vendor: ok" if self.ok else f"verification of {v} failed{why}"
        if self.action is KeyAction.ROLLBACK:
            if self.ok:
                return f"rolled back: the value of {src} is current again as {v}{on}"
            return f"rollback to {src} failed{why}"
        if self.action is KeyAction.RESTORE:
            return f"restored the value of {src} as {v}{on}" if self.ok else f"restore of {src} failed{why}"
        return "no other writer intervened" if self.ok else f"another writer intervened{why}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; absent fields are left out."""
        return {
            field.name: str(value) if isinstance(value, StrEnum) else value
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }


@dataclasses.dataclass(frozen=True, slots=True)
class KeyReport:
    """What a key operation did, step by step, and how it ended."""

    operation: str
    """``put``, ``rotate``, ``rollback`` or ``verify``."""
    tenant: str
    integration: str
    outcome: KeyOutcome
    current_version: int | None
    """The version current when the operation ended, as far as it knows."""
    steps: tuple[KeyStep, ...]
    summary: str
    failure: NexoraError | None = dataclasses.field(default=None, repr=False, compare=False)
    """The error that decided a failed outcome (kept without its traceback)."""

    @property
    def ok(self) -> bool:
        """Whether the operation ended as asked (for a rotation: the new key is current and works)."""
        return self.outcome is KeyOutcome.OK

    def raise_for_outcome(self) -> None:
        """Raise the deciding error if the operation did not end as asked."""
        if self.ok:
            return
        if self.failure is not None:
            # A copy: raising the kept error itself would attach the raiser's traceback to it.
            raise copy.copy(self.failure)
        raise VaultConflictError(self.summary)  # pragma: no cover - every failed outcome records its error

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping for ``--json`` output."""
        return {
            "operation": self.operation,
            "tenant": self.tenant,
            "integration": self.integration,
            "ok": self.ok,
            "outcome": str(self.outcome),
            "current_version": self.current_version,
            "summary": self.summary,
            "steps": [step.to_dict() for step in self.steps],
        }

    def lines(self) -> list[str]:
        """Lines for people: a heading, one line per step, then the result."""
        heading = f"{self.operation} {self.tenant}/{self.integration}"
        return [heading, *(f"  {step.describe()}" for step in self.steps), f"result: {self.summary}"]


@dataclasses.dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of a credential, without its value."""

    version: int
    created_time: datetime
    deletion_time: datetime | None
    destroyed: bool
    current: bool

    @property
    def state(self) -> str:
        """``destroyed``, ``deleted`` or ``readable``."""
        if self.destroyed:
            return "destroyed"
        return "deleted" if self.deletion_time is not None else "readable"

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_time": self.created_time.isoformat(),
            "deletion_time": self.deletion_time.isoformat() if self.deletion_time else None,
            "destroyed": self.destroyed,
            "state": self.state,
            "current": self.current,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class KeyVersions:
    """Every version Vault keeps of one credential: metadata only, never a value."""

    tenant: str
    integration: str
    versions: tuple[KeyVersion, ...]

    @property
    def current_version(self) -> int | None:
        return max((v.version for v in self.versions), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "integration": self.integration,
            "current_version": self.current_version,
            "versions": [version.to_dict() for version in self.versions],
        }

    def lines(self) -> list[str]:
        rows = [("VERSION", "CREATED", "STATE", "")]
        for v in self.versions:
            state = v.state if v.deletion_time is None else f"deleted {v.deletion_time.isoformat()}"
            rows.append((str(v.version), v.created_time.isoformat(), state, "current" if v.current else ""))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        return [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)).rstrip()
            + (f"  {row[3]}" if row[3] else "")
            for row in rows
        ]
