"""The per-operation context that follows a call down to the HTTP layer.

Dispatch sets it; the scope guard, the credential auth flow and the retry
policy read it. They sit in a lower layer, so the ContextVar is theirs
(:mod:`sdk._http._running`, which names what they read), and the deadline
alone is handed further down to Vault reads (:mod:`sdk._deadline`). Both live
in ContextVars so concurrent conversations on one event loop never see each
other's context.

What the guard decides by — tenant, integration, operation, grant, deadline
and the API root the operation's paths are relative to — is fixed when
dispatch creates the context: assigning any of it raises ``AttributeError``.
Only the counters that feed the audit record change as the call runs. The
ContextVar itself is private; connector code reads the context through
``current_call.get()`` and has no ``set``. (Python cannot stop code that sets
out to subvert the process — such code could open a socket of its own — but
no careless or input-steered connector code can widen what the guard allows.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from sdk._deadline import deadline_set
from sdk._http._running import call_running, running_call
from sdk._operations import OperationSpec
from sdk._parsing._notes import ReadNotes
from sdk._scopes import Grant

__all__ = ["CallContext", "current_call"]

_FIXED = frozenset({"tenant", "integration", "connector", "operation", "grant", "deadline", "base_path"})


_set = object.__setattr__


@dataclass(slots=True, init=False)
class CallContext:
    """What is known about the operation in progress; only the counters may change."""

    tenant: str
    integration: str
    connector: str
    operation: OperationSpec
    grant: Grant
    deadline: float | None = None
    """``time.monotonic()`` value after which no new attempt may start."""
    base_path: str = ""
    """The encoded path of the integration's API root; declared endpoints are relative to it."""
    credential_version: int | None = None
    http_status: int | None = None
    requests_sent: int = 0
    started: float = field(default_factory=time.monotonic)
    notes: ReadNotes | None = None
    """What the operation could not read (records skipped, field paths, a walk cut short); see
    :mod:`sdk._parsing._notes`. None until something is noted, so a clean read allocates nothing."""
    accepts_partial: bool = False
    """True when the caller sees whether a result is complete (the customer-context fan-out reports
    it per source): then a page walk that loops may return what it gathered, flagged truncated."""
    last_endpoint: str | None = None
    """``"METHOD template"`` of the last request sent, when the HTTP layer records it; errors about
    the answer name it."""

    def __init__(
        self,
        tenant: str,
        integration: str,
        connector: str,
        operation: OperationSpec,
        grant: Grant,
        deadline: float | None = None,
        base_path: str = "",
        credential_version: int | None = None,
        http_status: int | None = None,
        requests_sent: int = 0,
        started: float | None = None,
        notes: ReadNotes | None = None,
        accepts_partial: bool = False,
        last_endpoint: str | None = None,
    ) -> None:
        # Assigned past __setattr__ (one context per operation: the check would cost ~10 µs here).
        _set(self, "tenant", tenant)
        _set(self, "integration", integration)
        _set(self, "connector", connector)
        _set(self, "operation", operation)
        _set(self, "grant", grant)
        _set(self, "deadline", deadline)
        _set(self, "base_path", base_path)
        _set(self, "credential_version", credential_version)
        _set(self, "http_status", http_status)
        _set(self, "requests_sent", requests_sent)
        _set(self, "started", time.monotonic() if started is None else started)
        _set(self, "notes", notes)
        _set(self, "accepts_partial", accepts_partial)
        _set(self, "last_endpoint", last_endpoint)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FIXED:
            raise AttributeError(f"CallContext.{name} is fixed when the operation is dispatched")
        _set(self, name, value)

    def read_notes(self) -> ReadNotes:
        """The notes, created on the first thing noted (:func:`sdk._parsing._notes.read_notes`)."""
        notes = self.notes
        if notes is None:
            notes = self.notes = ReadNotes()
        return notes

    def remaining(self) -> float | None:
        """Seconds left before the deadline, or None when there is no deadline."""
        return None if self.deadline is None else self.deadline - time.monotonic()


class _CurrentCall:
    """Read access to the running operation's context (``current_call.get()``); there is no ``set``."""

    __slots__ = ()

    def get(self) -> CallContext | None:
        # Only _running below sets the variable, and only ever to a CallContext.
        return cast("CallContext | None", running_call())


current_call = _CurrentCall()


@contextmanager
def _running(ctx: CallContext) -> Iterator[CallContext]:
    """Make ``ctx`` the running operation's context, and its deadline the call's, for the block."""
    with call_running(ctx), deadline_set(ctx.deadline):
        yield ctx
