"""Exceptions leave the SDK without the customer records their frames held (S3, S5).

A traceback keeps every frame it passed through alive, and every frame keeps
its local variables: the page a paginator had collected, the result dispatch
was about to cache when the caller hung up, the response a connector was
parsing when the deadline fell. Whoever catches the exception (an error
reporter, a debugger, ``traceback.print_exc(locals=True)``, a test) can read
them. At the public boundary of a conversation, :func:`scrubbed` clears the
locals of every finished frame in the traceback and drops chained exceptions
that are not SDK errors: their messages are not written to our rules (a
``KeyError`` names the missing key, pydantic quotes the input). The exception's
own type and message are kept; they are what the caller acts on.

What this cannot do, and the docs say so: the public method's own frame is
still executing when it scrubs, so it keeps its arguments (the caller's own
values, which the caller holds anyway); and Python offers no way to clear a
frame some other code still references outside the traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from types import FrameType, TracebackType
from typing import Any, TypeVar

from sdk._errors import NexoraError

__all__ = ["scrub_exception", "scrubbed"]

T = TypeVar("T")

_MAX_AWAIT_DEPTH = 1000
_MAX_CHAIN = 100


def _live_frames() -> set[int]:
    """Ids of the frames of coroutines some task is still running or suspended in.

    ``frame.clear()`` on a suspended coroutine's frame does not just drop its
    locals, it finalises the coroutine. A traceback reaches such a frame only
    when one exception object was raised in several tasks (a shared future);
    those frames are left alone rather than killing another task's work.
    """
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no running loop
        return set()
    live: set[int] = set()
    for task in tasks:
        awaitable: Any = task.get_coro()
        for _ in range(_MAX_AWAIT_DEPTH):
            if awaitable is None:
                break
            frame = (
                getattr(awaitable, "cr_frame", None)
                or getattr(awaitable, "gi_frame", None)
                or getattr(awaitable, "ag_frame", None)
            )
            if frame is not None:
                live.add(id(frame))
            awaitable = (
                getattr(awaitable, "cr_await", None)
                or getattr(awaitable, "gi_yieldfrom", None)
                or getattr(awaitable, "ag_await", None)
            )
    return live


def _clear_frames(tb: TracebackType | None, live: set[int]) -> None:
    """Like :func:`traceback.clear_frames`, but never finalises a live coroutine."""
    while tb is not None:
        frame: FrameType = tb.tb_frame
        if id(frame) not in live:
            # Still executing (the boundary's own frame and its callers): RuntimeError, left as it is.
            with contextlib.suppress(RuntimeError):
                frame.clear()
        tb = tb.tb_next


def scrub_exception(exc: BaseException) -> BaseException:
    """Clear the frames of ``exc`` and of its SDK-error chain; drop chained non-SDK exceptions.

    Exception groups are walked member by member (members are kept: they are
    the errors themselves, not context). Returns ``exc`` for ``raise scrub_exception(e)``.
    """
    live = _live_frames()
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        _clear_frames(current.__traceback__, live)
        cause, context = current.__cause__, current.__context__
        if cause is not None and not isinstance(cause, NexoraError):
            current.__cause__ = None  # __suppress_context__ stays as `raise ... from` set it
            cause = None
        if context is not None and not isinstance(context, NexoraError):
            current.__context__ = None
            context = None
        pending.extend(e for e in (cause, context) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
    return exc


async def scrubbed(work: Awaitable[T]) -> T:
    """Await ``work``; an exception leaves scrubbed (see :func:`scrub_exception`), same type and message.

    This covers :class:`~sdk.NexoraError`, :class:`asyncio.CancelledError`
    (hangup, ``task.cancel()``) and :class:`TimeoutError` alike, and anything
    else a connector bug lets through.
    """
    try:
        return await work
    except BaseException as exc:
        scrub_exception(exc)
        raise
