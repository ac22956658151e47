"""What the HTTP layer knows about the operation in progress, and where it finds it.

The scope guard, the credential auth flow and the request API all need the
running operation: its declared endpoints, the tenant's grant, the deadline.
Dispatch, which creates that context, sits above this layer, so the HTTP layer
names only the parts it reads (the protocols below, which dispatch's
``CallContext`` satisfies) and owns the ContextVar dispatch sets. It lives in
a ContextVar so concurrent conversations on one event loop never see each
other's operation; there is no ``set`` outside :func:`call_running`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from sdk._endpoints import Endpoint
from sdk._scopes import Grant, Scope

__all__ = ["RunningCall", "RunningOperation", "call_running", "running_call"]


class RunningOperation(Protocol):
    """The declared operation whose requests are being sent."""

    @property
    def name(self) -> str: ...

    @property
    def scope(self) -> Scope: ...

    @property
    def endpoints(self) -> tuple[Endpoint, ...]: ...

    def endpoint(self, method: str, template: str) -> Endpoint | None: ...

    def matching_endpoint(self, method: str, raw_path: str) -> Endpoint | None: ...

    def allows_post_read(self, path: str) -> bool: ...


class RunningCall(Protocol):
    """The operation in progress: fixed facts the guard decides by, and the counters it feeds."""

    @property
    def tenant(self) -> str: ...

    @property
    def integration(self) -> str: ...

    @property
    def operation(self) -> RunningOperation: ...

    @property
    def grant(self) -> Grant: ...

    @property
    def deadline(self) -> float | None: ...

    @property
    def base_path(self) -> str: ...

    credential_version: int | None
    http_status: int | None
    requests_sent: int

    def remaining(self) -> float | None: ...


_current: ContextVar[RunningCall | None] = ContextVar("nexora_current_call", default=None)


def running_call() -> RunningCall | None:
    """The operation in progress in this task, or None outside a dispatched operation."""
    return _current.get()


@contextmanager
def call_running(call: RunningCall) -> Iterator[None]:
    """Make ``call`` the operation in progress for the block (dispatch's context only)."""
    token = _current.set(call)
    try:
        yield
    finally:
        _current.reset(token)
