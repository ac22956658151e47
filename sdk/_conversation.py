"""A conversation: one phone call of one tenant, and everything fetched during it.

Records fetched through a conversation live only in its encrypted in-memory
cache. Hangup, the maximum lifetime and SDK shutdown all wipe it (S5); any
use afterwards raises :class:`~sdk.ConversationClosedError`.

Its identity is fixed when it opens (S2): the tenant, the id, the cache and the
runtime cannot be reassigned (``AttributeError``), and every use checks that the
runtime still has this very object open under this tenant and id and that the
cache belongs to the same tenant, so even a write that goes around the guard
(``object.__setattr__``) is refused before a key is read. Python cannot stop code
in the same process from patching the class or using ``ctypes``; the guard stops
mistakes and casual tampering, and the cross-check stops the rest from reaching
another tenant's key through this object.

Exceptions leave the public methods scrubbed (:mod:`sdk._scrub`): the frames they
passed through no longer hold the records those frames were handling (S3).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from sdk._cache import ConversationCache
from sdk._customer_context import CustomerContext, fetch_customer_context
from sdk._dispatch import dispatch, resolve_operation
from sdk._errors import ConversationClosedError, UsageError
from sdk._scrub import scrubbed
from sdk._tools import ToolFormat, ToolResult, invoke_tool, tool_definitions

if TYPE_CHECKING:
    from sdk._runtime import NexoraConnect

__all__ = ["Conversation"]


class _State:
    """What changes during a conversation's life: only whether and why it closed, and its timer."""

    __slots__ = ("closed_reason", "expiry")

    def __init__(self) -> None:
        self.closed_reason: str | None = None
        self.expiry: asyncio.TimerHandle | None = None


class Conversation:
    """Opened with ``nc.conversation(tenant=..., conversation_id=...)``; use it as ``async with``."""

    __slots__ = (
        "__weakref__",
        "_cache",
        "_conversation_id",
        "_max_lifetime",
        "_on_close",
        "_opened_at",
        "_runtime",
        "_state",
        "_tenant",
    )

    _runtime: NexoraConnect
    _tenant: str
    _conversation_id: str
    _max_lifetime: float
    _opened_at: float
    _cache: ConversationCache
    _on_close: Callable[[Conversation], None]
    _state: _State

    def __init__(
        self,
        runtime: NexoraConnect,
        *,
        tenant: str,
        conversation_id: str,
        max_lifetime: float,
        on_close: Callable[[Conversation], None],
    ) -> None:
        init = object.__setattr__
        init(self, "_runtime", runtime)
        init(self, "_tenant", tenant)
        init(self, "_conversation_id", conversation_id)
        init(self, "_max_lifetime", max_lifetime)
        init(self, "_opened_at", time.monotonic())
        init(self, "_cache", ConversationCache(tenant))
        init(self, "_on_close", on_close)
        init(self, "_state", _State())

    def __setattr__(self, name: str, value: object) -> NoReturn:
        self._read_only(name)

    def __delattr__(self, name: str) -> NoReturn:
        self._read_only(name)

    def _read_only(self, name: str) -> NoReturn:
        raise AttributeError(
            f"Conversation.{name} cannot be changed: a conversation's tenant, id, cache and runtime are "
            "fixed when it opens; open another conversation with nc.conversation(tenant=..., "
            "conversation_id=...)",
            name=name,
            obj=self,
        )

    @property
    def tenant(self) -> str:
        """The tenant whose keys and data this conversation uses; fixed when it opens."""
        return self._tenant

    @property
    def conversation_id(self) -> str:
        """The id the conversation was opened with; fixed when it opens."""
        return self._conversation_id

    @property
    def max_lifetime(self) -> float:
        """Seconds after opening at which the conversation is wiped even if nobody hangs up."""
        return self._max_lifetime

    @property
    def opened_at(self) -> float:
        """When the conversation opened, on the :func:`time.monotonic` clock."""
        return self._opened_at

    # --- lifecycle -------------------------------------------------------------

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._state.expiry = loop.call_later(self._max_lifetime, self._close, "maximum lifetime reached")

    async def __aenter__(self) -> Conversation:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.hangup()

    async def hangup(self) -> None:
        """End the call: wipe every record of it. Calling it again does nothing."""
        self._close("hung up")

    def _close(self, reason: str) -> None:
        state = self._state
        if state.closed_reason is not None:
            return
        state.closed_reason = reason
        self._cache.wipe(reason)
        if state.expiry is not None:
            state.expiry.cancel()
            state.expiry = None
        self._on_close(self)

    @property
    def closed(self) -> bool:
        return self._state.closed_reason is not None

    def _require_open(self) -> None:
        """Raise unless the conversation is open and still the one the runtime opened (S2, S5)."""
        reason = self._state.closed_reason
        if reason is not None:
            raise ConversationClosedError(
                f"conversation {self._conversation_id!r} of tenant {self._tenant!r} is closed "
                f"({reason}); its data has been wiped, open a new conversation"
            )
        if time.monotonic() - self._opened_at > self._max_lifetime:
            self._close("maximum lifetime reached")
            self._require_open()
        self._require_identity()

    def _require_identity(self) -> None:
        # Attribute writes are refused above; this catches the ones that went around that guard.
        cache = self._cache
        registered = self._runtime._conversations.get((self._tenant, self._conversation_id))
        if registered is not self or type(cache) is not ConversationCache or cache._tenant != self._tenant:
            raise UsageError(
                "this conversation's identity was tampered with (tenant, id, cache or runtime no longer "
                "match what it was opened with); it will not read anything, open a new conversation"
            )

    # --- operations ------------------------------------------------------------

    async def call(self, integration: str, operation: str, /, **arguments: Any) -> Any:
        """Run one operation of one of the tenant's integrations.

        Reads are cached for the rest of the conversation; a second identical
        call is served from the cache. Writes clear that integration's cache.
        An exception leaves scrubbed: its frames hold no record (see :mod:`sdk._scrub`).
        """
        return await scrubbed(self._call(integration, operation, arguments, deadline=None))

    async def _call(
        self, integration: str, operation: str, arguments: dict[str, Any], *, deadline: float | None
    ) -> Any:
        self._require_open()
        binding = self._runtime._binding(self._tenant, integration)
        if binding.tenant != self._tenant:
            # Integration ids are per tenant; a binding of another tenant here is tampering.
            raise UsageError(f"integration {integration!r} is not bound to this conversation's tenant")
        spec = resolve_operation(
            binding, operation, audit=self._runtime.audit_sink, conversation_id=self.conversation_id
        )
        result = await dispatch(
            binding,
            spec,
            arguments,
            audit=self._runtime.audit_sink,
            conversation_id=self._conversation_id,
            deadline=deadline,
            cache=self._cache,
        )
        # Hung up while the request was in flight: the result must not outlive the wipe.
        self._require_open()
        return result

    async def customer_context(
        self, *, phone: str | None = None, email: str | None = None, budget: float = 0.4
    ) -> CustomerContext:
        """Resolve the caller across all of the tenant's integrations at once, within ``budget`` seconds.

        Sources run concurrently; at the deadline the ones still running are
        cancelled and the context says so per source. Ambiguous matches are
        reported, never picked. See :mod:`sdk._customer_context`.
        """
        return await scrubbed(fetch_customer_context(self, phone=phone, email=email, budget=budget))

    def tools(self, format: ToolFormat = "openai", *, strict: bool = False) -> list[dict[str, Any]]:
        """Tool definitions for exactly the operations this tenant granted (see :mod:`sdk._tools`).

        A write the tenant did not grant is not offered at all.
        """
        self._require_open()
        return tool_definitions(self, format, strict=strict)

    async def invoke(
        self, name: str, arguments: Mapping[str, Any] | str | None, *, budget: float | None = None
    ) -> ToolResult:
        """Run a tool call the model made: validate, enforce the scope again, return the redacted result."""
        return await scrubbed(invoke_tool(self, name, arguments, budget=budget))

    @property
    def cached_records(self) -> int:
        """How many results the cache holds (0 after hangup)."""
        return len(self._cache)

    def __repr__(self) -> str:
        reason = self._state.closed_reason
        state = f"closed: {reason}" if reason else "open"
        return f"<Conversation tenant={self._tenant!r} id={self._conversation_id!r} {state}>"

    def __reduce__(self) -> Any:
        raise UsageError("a Conversation cannot be pickled: its data must never leave the process")
