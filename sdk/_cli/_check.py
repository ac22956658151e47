"""One line of the doctor's report: what was checked, how it came out, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Check", "Status"]


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report; ``fix`` says what to do when it is not ok."""

    name: str
    status: Status
    detail: str
    fix: str | None = None
    integration: str | None = None

    @property
    def label(self) -> str:
        return f"{self.integration}/{self.name}" if self.integration else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "integration": self.integration,
            "status": str(self.status),
            "detail": self.detail,
            "fix": self.fix,
        }
