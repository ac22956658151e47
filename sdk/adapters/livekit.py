"""Nexora tools in a LiveKit Agents session (needs the ``livekit`` extra).

One :class:`LiveKitCall` is one phone call: :meth:`LiveKitCall.open` opens the
conversation, :attr:`LiveKitCall.tools` goes into your ``Agent(tools=...)``, every
tool call the model makes runs through :meth:`sdk.Conversation.invoke`, and
:meth:`LiveKitCall.end_with` hangs the conversation up (wiping it) when the
``AgentSession`` closes (for any reason, including LiveKit closing it because the
participant left), when the caller leaves the room, and when the job shuts down.

The tools are LiveKit raw function tools whose schema is exactly
``conv.tools("openai", strict=...)``'s function: LiveKit's OpenAI Chat
Completions and Responses formats send it as it is, ``strict`` included. Its
Anthropic format keeps the parameters (``additionalProperties: false`` and all)
but drops ``strict``. Invoke enforces the schema either way.

A result reaches the model as the JSON of :meth:`sdk.ToolResult.as_json`; a
failure is raised as LiveKit's ``ToolError`` carrying the model-safe JSON of
:meth:`sdk.ToolResult.from_error`, so the model sees it as an error it can talk
about. ``import sdk`` never imports LiveKit; this module imports it when a call
opens.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sdk._call import Conversation
from sdk.adapters._common import end_call, require_extra, run_tool

if TYPE_CHECKING:
    from livekit.agents.llm import RawFunctionTool

    from sdk._runtime import NexoraConnect

__all__ = ["LiveKitCall"]


def _require_livekit() -> None:
    require_extra("livekit.agents.llm", extra="livekit", framework="LiveKit Agents")


class LiveKitCall:
    """One call's Nexora tools for a LiveKit ``Agent``; build it with :meth:`open`."""

    def __init__(self, conv: Conversation, *, strict: bool = True, budget: float | None = None) -> None:
        """Wrap a conversation you opened yourself; :meth:`open` also opens it for you."""
        _require_livekit()
        self._conv = conv
        self._budget = budget
        self._tools = [self._tool(d["function"]) for d in conv.tools("openai", strict=strict)]

    @classmethod
    def open(
        cls,
        nc: NexoraConnect,
        *,
        tenant: str,
        conversation_id: str,
        strict: bool = True,
        budget: float | None = None,
    ) -> LiveKitCall:
        """Open the conversation for a call that is starting (in your entrypoint, per job).

        ``budget`` bounds each tool call in seconds. If building the tools
        fails, the conversation is hung up before the error leaves.
        """
        _require_livekit()
        conv = nc.conversation(tenant=tenant, conversation_id=conversation_id)
        try:
            return cls(conv, strict=strict, budget=budget)
        except BaseException:
            end_call(conv, "adapter_closed")
            raise

    @property
    def conversation(self) -> Conversation:
        """The call's conversation: use it for ``customer_context`` before the first turn."""
        return self._conv

    @property
    def tools(self) -> list[RawFunctionTool[..., Any]]:
        """One raw function tool per granted tool, for ``Agent(tools=...)``."""
        return list(self._tools)

    def _tool(self, definition: dict[str, Any]) -> RawFunctionTool[..., Any]:
        from livekit.agents.llm import ToolError, function_tool

        name: str = definition["name"]
        conv, budget = self._conv, self._budget

        async def call(raw_arguments: dict[str, object]) -> str:
            result = await run_tool(conv, name, raw_arguments, budget=budget)
            if not result.ok:
                raise ToolError(result.as_json())
            return result.as_json()

        call.__name__ = call.__qualname__ = name
        return function_tool(call, raw_schema=definition)

    def end_with(
        self,
        session: Any = None,
        *,
        room: Any = None,
        job: Any = None,
        participant_identity: str | None = None,
    ) -> None:
        """Hang up when ``session`` closes, the caller leaves ``room``, or ``job`` shuts down.

        ``session`` is the ``AgentSession`` (its ``close`` event fires however it
        closes); ``room`` the ``rtc.Room`` (``participant_disconnected``: any
        remote participant, or only ``participant_identity`` if given, as in a
        room with more than one caller-side participant); ``job`` the
        ``JobContext`` (a shutdown callback). Pass all three in an entrypoint.
        """
        if session is not None:
            session.on("close", self._on_session_close)
        if room is not None:
            room.on("participant_disconnected", self._participant_callback(participant_identity))
        if job is not None:
            job.add_shutdown_callback(self._on_job_shutdown)

    def _on_session_close(self, event: Any) -> None:
        end_call(self._conv, "session_closed")

    def _participant_callback(self, identity: str | None) -> Callable[[Any], None]:
        conv = self._conv

        def on_participant_disconnected(participant: Any) -> None:
            if identity is None or getattr(participant, "identity", None) == identity:
                end_call(conv, "participant_disconnected")

        return on_participant_disconnected

    async def _on_job_shutdown(self, reason: str) -> None:
        end_call(self._conv, "job_shutdown")

    async def hangup(self) -> None:
        """End the call now (wipe). Calling it again does nothing."""
        end_call(self._conv, "adapter_closed")

    async def __aenter__(self) -> LiveKitCall:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.hangup()
