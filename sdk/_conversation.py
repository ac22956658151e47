"""A conversation: one phone call of one tenant, and everything fetched during it.

Records fetched through a conversation live only in its encrypted in-memory
cache. Hangup, the maximum lifetime and SDK shutdown all wipe it (S5); any
use afterwards raises :class:`~sdk.ConversationClosedError`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sdk._cache import ConversationCache
from sdk._customer_context import CustomerContext, fetch_customer_context
from sdk._dispatch import dispatch
from sdk._errors import ConversationClosedError, UsageError
from sdk._tools import ToolFormat, ToolResult, invoke_tool, tool_definitions

if TYPE_CHECKING:
    from sdk._runtime import NexoraConnect

__all__ = ["Conversation"]


class Conversation:
    """Opened with ``nc.conversation(tenant=..., conversation_id=...)``; use it as ``async with``."""

    def __init__(
        self,
        runtime: NexoraConnect,
        *,
        tenant: str,
        conversation_id: str,
        max_lifetime: float,
        on_close: Callable[[Conversation], None],
    ) -> None:
        self._runtime = runtime
        self.tenant = tenant
        self.conversation_id = conversation_id
        self.max_lifetime = max_lifetime
        self.opened_at = time.monotonic()
        self._cache = ConversationCache(tenant)
        self._on_close = on_close
        self._closed_reason: str | None = None
        self._expiry: asyncio.TimerHandle | None = None

    # --- lifecycle -------------------------------------------------------------

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(self.max_lifetime, self._close, "maximum lifetime reached")

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
        if self._closed_reason is not None:
            return
        self._closed_reason = reason
        self._cache.wipe(reason)
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._on_close(self)

    @property
    def closed(self) -> bool:
        return self._closed_reason is not None

    def _require_open(self) -> None:
        if self._closed_reason is not None:
            raise ConversationClosedError(
                f"conversation {self.conversation_id!r} of tenant {self.tenant!r} is closed "
                f"({self._closed_reason}); its data has been wiped, open a new conversation"
            )
        if time.monotonic() - self.opened_at > self.max_lifetime:
            self._close("maximum lifetime reached")
            self._require_open()

    # --- operations ------------------------------------------------------------

    async def call(self, integration: str, operation: str, /, **arguments: Any) -> Any:
        """Run one operation of one of the tenant's integrations.

        Reads are cached for the rest of the conversation; a second identical
        call is served from the cache. Writes clear that integration's cache.
        """
        return await self._call(integration, operation, arguments, deadline=None)

    async def _call(
        self, integration: str, operation: str, arguments: dict[str, Any], *, deadline: float | None
    ) -> Any:
        self._require_open()
        binding = self._runtime._binding(self.tenant, integration)
        spec = binding.spec(operation)
        result = await dispatch(
            binding,
            spec,
            arguments,
            audit=self._runtime.audit_sink,
            conversation_id=self.conversation_id,
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
        return await fetch_customer_context(self, phone=phone, email=email, budget=budget)

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
        return await invoke_tool(self, name, arguments, budget=budget)

    @property
    def cached_records(self) -> int:
        """How many results the cache holds (0 after hangup)."""
        return len(self._cache)

    def __repr__(self) -> str:
        state = f"closed: {self._closed_reason}" if self._closed_reason else "open"
        return f"<Conversation tenant={self.tenant!r} id={self.conversation_id!r} {state}>"

    def __reduce__(self) -> Any:
        raise UsageError("a Conversation cannot be pickled: its data must never leave the process")
