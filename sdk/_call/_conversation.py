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

The conversation reaches the runtime only through :class:`~sdk._call._ports.CallRuntime`,
and lends the fan-out and the tools a :class:`~sdk._call._ports.CallScope` for each use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from sdk import _metrics
from sdk._cache import ConversationCache
from sdk._call._customer_context import CustomerContext
from sdk._call._fanout import fetch_customer_context
from sdk._call._ports import CallRuntime, CallScope
from sdk._call._tool_catalogue import ToolFormat, tool_definitions
from sdk._call._tool_invoke import ToolResult, invoke_tool
from sdk._dispatch import Flights, dispatch, resolve_operation
from sdk._errors import ConversationClosedError, UsageError
from sdk._scrub import scrubbed
from sdk._telemetry import ConversationTrace, start_conversation_trace

if TYPE_CHECKING:
    from contextvars import Token

__all__ = ["Conversation", "scope_of"]


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
        "_flights",
        "_max_lifetime",
        "_opened_at",
        "_runtime",
        "_state",
        "_tenant",
        "_trace",
    )

    _runtime: CallRuntime
    _tenant: str
    _conversation_id: str
    _max_lifetime: float
    _opened_at: float
    _cache: ConversationCache
    _flights: Flights
    _state: _State
    _trace: ConversationTrace | None

    def __init__(
        self, runtime: CallRuntime, *, tenant: str, conversation_id: str, max_lifetime: float
    ) -> None:
        """Open the conversation and start its lifetime timer (needs a running event loop).

        The runtime opens conversations (``nc.conversation(...)``) and registers
        them; one built by hand is not registered, so it refuses every use.
        """
        init = object.__setattr__
        init(self, "_runtime", runtime)
        init(self, "_tenant", tenant)
        init(self, "_conversation_id", conversation_id)
        init(self, "_max_lifetime", max_lifetime)
        init(self, "_opened_at", time.monotonic())
        init(self, "_cache", ConversationCache(tenant))
        # Reads in flight, keyed like the cache: identical concurrent reads of this conversation
        # (a model repeating a tool call, a tool call overlapping the context fetch) share one
        # vendor round trip. Per conversation, so never across conversations or tenants.
        init(self, "_flights", {})
        init(self, "_state", _State())
        # The root of the call's trace (None when tracing is off); see sdk._telemetry.
        init(self, "_trace", start_conversation_trace(tenant=tenant, conversation_id=conversation_id))
        _metrics.conversation_opened(self)
        loop = asyncio.get_running_loop()
        self._state.expiry = loop.call_later(max_lifetime, self.close, "maximum lifetime reached")

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

    async def __aenter__(self) -> Conversation:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.hangup()

    async def hangup(self) -> None:
        """End the call: wipe every record of it. Calling it again does nothing."""
        self.close("hung up")

    def close(self, reason: str) -> None:
        """End the call now for ``reason`` and wipe every record of it; a second close does nothing.

        Synchronous, for code that cannot await (an adapter's event handler, a
        signal handler). ``reason`` is shown by later uses' errors and in the repr.
        """
        state = self._state
        if state.closed_reason is not None:
            return
        state.closed_reason = reason
        self._cache.wipe(reason)
        if state.expiry is not None:
            state.expiry.cancel()
            state.expiry = None
        self._runtime.forget(self)
        _metrics.conversation_closed(self)
        if self._trace is not None:
            self._trace.end(reason)

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
            self.close("maximum lifetime reached")
            self._require_open()
        self._require_identity()

    def _require_identity(self) -> None:
        # Attribute writes are refused above; this catches the ones that went around that guard.
        cache = self._cache
        if (
            not self._runtime.holds(self)
            or type(cache) is not ConversationCache
            or cache.tenant != self._tenant
        ):
            raise UsageError(
                "this conversation's identity was tampered with (tenant, id, cache or runtime no longer "
                "match what it was opened with); it will not read anything, open a new conversation"
            )

    # --- operations ------------------------------------------------------------

    async def call(self, integration: str, operation: str, /, **arguments: Any) -> Any:
        """Run one operation of one of the tenant's integrations.

        Reads are cached for the rest of the conversation; a second identical
        call is served from the cache, and one issued while the first is still in
        flight waits for it rather than asking the vendor again. Writes clear that
        integration's cache.
        An exception leaves scrubbed: its frames hold no record (see :mod:`sdk._scrub`).
        """
        token = self._adopt()
        try:
            return await scrubbed(self._call(integration, operation, arguments, deadline=None))
        finally:
            ConversationTrace.release(token)

    def _adopt(self) -> Token[Any] | None:
        """Run what follows in the conversation's trace (its span made current for this use only)."""
        trace = self._trace
        return trace.adopt() if trace is not None else None

    async def _call(
        self, integration: str, operation: str, arguments: dict[str, Any], *, deadline: float | None
    ) -> Any:
        self._require_open()
        binding = self._runtime.binding(self._tenant, integration)
        if binding.tenant != self._tenant:
            # Integration ids are per tenant; a binding of another tenant here is tampering.
            raise UsageError(f"integration {integration!r} is not bound to this conversation's tenant")
        if self._trace is not None:
            self._trace.set_region(binding.region)
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
            flights=self._flights,
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
        reported, never picked. See :mod:`sdk._call._fanout`.
        """
        token = self._adopt()
        try:
            return await scrubbed(
                fetch_customer_context(self._scope(), phone=phone, email=email, budget=budget)
            )
        finally:
            ConversationTrace.release(token)

    def tools(self, format: ToolFormat = "openai", *, strict: bool = False) -> list[dict[str, Any]]:
        """Tool definitions for exactly the operations this tenant granted (:mod:`sdk._call._tool_catalogue`).

        A write the tenant did not grant is not offered at all.
        """
        self._require_open()
        return tool_definitions(self._scope(), format, strict=strict)

    async def invoke(
        self, name: str, arguments: Mapping[str, Any] | str | None, *, budget: float | None = None
    ) -> ToolResult:
        """Run a tool call the model made: validate, enforce the scope again, return the redacted result."""
        token = self._adopt()
        try:
            return await scrubbed(invoke_tool(self._scope(), name, arguments, budget=budget))
        finally:
            ConversationTrace.release(token)

    def _scope(self) -> CallScope:
        return CallScope(
            tenant=self._tenant,
            conversation_id=self._conversation_id,
            runtime=self._runtime,
            cache=self._cache,
            ensure_open=self._require_open,
            run=self._run,
        )

    async def _run(
        self, integration: str, operation: str, arguments: dict[str, Any], deadline: float | None
    ) -> Any:
        return await self._call(integration, operation, arguments, deadline=deadline)

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


def scope_of(conversation: Conversation) -> CallScope:
    """What ``conversation`` lends its parts, for a server that lists its tools itself (MCP)."""
    return conversation._scope()
