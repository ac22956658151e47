"""The per-operation context that follows a call down to the HTTP layer.

Dispatch sets it; the scope guard, the credential auth flow and the retry
policy read it. It lives in a ContextVar so concurrent conversations on one
event loop never see each other's context.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from sdk._operations import OperationSpec
from sdk._scopes import Grant

__all__ = ["CallContext", "current_call"]


@dataclass(slots=True)
class CallContext:
    """What is known about the operation in progress; the mutable fields feed the audit record."""

    tenant: str
    integration: str
    connector: str
    operation: OperationSpec
    grant: Grant
    deadline: float | None = None
    """``time.monotonic()`` value after which no new attempt may start."""
    credential_version: int | None = None
    http_status: int | None = None
    requests_sent: int = 0
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float | None:
        """Seconds left before the deadline, or None when there is no deadline."""
        return None if self.deadline is None else self.deadline - time.monotonic()


current_call: ContextVar[CallContext | None] = ContextVar("nexora_current_call", default=None)
