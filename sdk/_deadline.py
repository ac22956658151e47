"""The running call's deadline, where the credential layer can read it.

Dispatch knows when a call must be over; a Vault read deep inside the call
must not keep retrying past that moment. The read sits below dispatch in the
layers (``vault`` depends on the foundation only), so the deadline is handed
down here, in a ContextVar of its own: dispatch's context sets it for the
block it runs, and concurrent calls on one event loop never see each other's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["call_deadline", "deadline_set", "time_left"]

_deadline: ContextVar[float | None] = ContextVar("nexora_call_deadline", default=None)


def call_deadline() -> float | None:
    """The ``time.monotonic()`` value after which the running call may start nothing new, if any."""
    return _deadline.get()


def time_left() -> float | None:
    """Seconds left before the running call's deadline; None outside a call or without a deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def deadline_set(deadline: float | None) -> Iterator[None]:
    """Make ``deadline`` the running call's deadline for the block (set by dispatch's context only)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)
