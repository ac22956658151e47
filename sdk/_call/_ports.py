"""The two seams of the call wing: what it needs from the runtime, and what a conversation lends its parts.

The runtime (:class:`~sdk.NexoraConnect`) implements :class:`CallRuntime`; no
module of :mod:`sdk._call` imports the runtime or its configuration, so the
call wing can be read, and tested, on its own. The conversation builds a
:class:`CallScope` for the fan-out and the tools, so they reach the call
through what it hands them rather than through its private attributes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sdk._audit import AuditSink
from sdk._cache import ConversationCache
from sdk._call._policy import LLMPolicy
from sdk._dispatch import IntegrationBinding

__all__ = ["CallRuntime", "CallScope", "RunOperation"]


class CallRuntime(Protocol):
    """What a conversation asks of the runtime that opened it."""

    @property
    def audit_sink(self) -> AuditSink:
        """Where every dispatch of the call is recorded (S7)."""
        ...

    def binding(self, tenant: str, integration: str) -> IntegrationBinding:
        """The tenant's integration, bound to its connector; raises for one the tenant does not have."""
        ...

    def integrations(self, tenant: str) -> dict[str, IntegrationBinding]:
        """Every integration of the tenant, bound, in configuration order."""
        ...

    def policy(self, tenant: str) -> LLMPolicy:
        """The tenant's redaction policy for what a language model sees (S6)."""
        ...

    def phone_region(self, tenant: str) -> str:
        """The region a caller's number without a country code is read in."""
        ...

    def holds(self, conversation: object) -> bool:
        """True while ``conversation`` is the very object the runtime has open under its tenant and id."""
        ...

    def forget(self, conversation: object) -> None:
        """Called once when ``conversation`` closes, so the runtime stops counting it as open."""
        ...


RunOperation = Callable[[str, str, dict[str, Any], float | None], Awaitable[Any]]
"""``(integration, operation, arguments, deadline) -> result``: one dispatch in the conversation."""


@dataclass(frozen=True, slots=True)
class CallScope:
    """What a conversation lends the fan-out and the tools for one use.

    ``ensure_open`` raises unless the conversation is open and untampered (S2,
    S5); ``run`` dispatches through the conversation (its cache, its audit
    trail, the same checks). Built afresh for each use, so it holds nothing a
    hangup must reach.
    """

    tenant: str
    conversation_id: str
    runtime: CallRuntime
    cache: ConversationCache
    ensure_open: Callable[[], None]
    run: RunOperation
