"""Nexora tools in a Pipecat pipeline (needs the ``pipecat`` extra).

One :class:`PipecatCall` is one phone call: :meth:`PipecatCall.open` opens the
conversation, :attr:`PipecatCall.tools_schema` goes into the pipeline's
``LLMContext``, every function call the model makes runs through
:meth:`sdk.Conversation.invoke`, and :meth:`PipecatCall.end_with` hangs the
conversation up (wiping it) when the pipeline reaches any terminal state
(``EndFrame``, ``StopFrame``, ``CancelFrame``: Pipecat's ``on_pipeline_finished``)
or the transport reports that the caller disconnected (``on_client_disconnected``).

Strict schemas survive where Pipecat lets them: the schemas carry ``strict`` and
the top-level ``additionalProperties: false`` in ``to_default_dict()``, which
Pipecat's OpenAI Chat Completions and Responses adapters send as they are. Its
Anthropic and OpenAI Realtime adapters rebuild the schema from ``properties``
and ``required`` alone and drop both (nested objects keep theirs); Gemini drops
``additionalProperties`` everywhere. Invoke enforces the schema either way.

``import sdk`` never imports Pipecat; this module imports it when a call opens.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sdk._call import Conversation, ToolResult
from sdk.adapters._common import end_call, require_extra, run_tool

if TYPE_CHECKING:
    from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
    from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
    from pipecat.services.llm_service import FunctionCallParams

    from sdk._runtime import NexoraConnect

__all__ = ["PipecatCall", "result_for_pipecat"]

_DISCONNECT_EVENTS = ("on_client_disconnected",)


def _require_pipecat() -> None:
    require_extra("pipecat.adapters.llm.schemas.tools_schema", extra="pipecat", framework="Pipecat")


def result_for_pipecat(result: ToolResult) -> Any:
    """What to hand Pipecat's ``result_callback``: the same JSON the model gets from ``as_json()``.

    Pipecat serialises a result with ``json.dumps`` and treats a falsy one as
    "COMPLETED" without running the model again, so an empty answer (no
    invoices: ``[]``) is passed as its JSON text instead.
    """
    text = result.as_json()
    payload = json.loads(text)
    return payload if payload else text


def _schema_class() -> Callable[[dict[str, Any], Any], FunctionSchema]:
    from pipecat.adapters.llm.schemas.function_schema import FunctionSchema

    class _NexoraFunctionSchema(FunctionSchema):
        """A FunctionSchema that keeps what Pipecat's own class drops: ``strict`` and the top-level
        ``additionalProperties: false``."""

        def __init__(self, definition: dict[str, Any], handler: Any) -> None:
            parameters = definition["parameters"]
            super().__init__(
                name=definition["name"],
                description=definition["description"],
                properties=parameters.get("properties", {}),
                required=list(parameters.get("required", [])),
                handler=handler,
            )
            self._nexora_parameters = parameters
            self._nexora_strict = bool(definition.get("strict", False))

        def to_default_dict(self) -> dict[str, Any]:
            out: dict[str, Any] = {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self._nexora_parameters),
            }
            if self._nexora_strict:
                out["strict"] = True
            return out

    return _NexoraFunctionSchema


class PipecatCall:
    """One call's Nexora tools, wired into a Pipecat pipeline; build it with :meth:`open`."""

    def __init__(self, conv: Conversation, *, strict: bool = True, budget: float | None = None) -> None:
        """Wrap a conversation you opened yourself; :meth:`open` also opens it for you."""
        _require_pipecat()
        self._conv = conv
        self._budget = budget
        schema_class = _schema_class()
        self._schemas = [
            schema_class(definition["function"], self.handle)
            for definition in conv.tools("openai", strict=strict)
        ]

    @classmethod
    def open(
        cls,
        nc: NexoraConnect,
        *,
        tenant: str,
        conversation_id: str,
        llm: Any = None,
        strict: bool = True,
        budget: float | None = None,
        route_unknown: bool = True,
    ) -> PipecatCall:
        """Open the conversation for a call that is starting, and register its tools with ``llm``.

        ``llm`` is any Pipecat ``LLMService``; without it, the handlers travel
        with :attr:`tools_schema` and Pipecat registers them wherever the schema
        is advertised. ``route_unknown`` also sends function names that are not
        among the tools through ``invoke`` (Pipecat's catch-all handler), so a
        forged call to an ungranted write is refused *and audited*, and the
        model hears only that there is no such tool. ``budget`` bounds each tool
        call in seconds. If anything fails here the conversation is hung up.
        """
        _require_pipecat()
        conv = nc.conversation(tenant=tenant, conversation_id=conversation_id)
        try:
            call = cls(conv, strict=strict, budget=budget)
            if llm is not None:
                call.register(llm, route_unknown=route_unknown)
        except BaseException:
            end_call(conv, "adapter_closed")
            raise
        return call

    @property
    def conversation(self) -> Conversation:
        """The call's conversation: use it for ``customer_context`` before the first turn."""
        return self._conv

    @property
    def function_schemas(self) -> list[FunctionSchema]:
        """One schema per granted tool, each carrying its handler."""
        return list(self._schemas)

    @property
    def tools_schema(self) -> ToolsSchema:
        """The granted tools for ``LLMContext(messages, tools=...)``."""
        from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema

        return ToolsSchema(standard_tools=list(self._schemas))

    def register(self, llm: Any, *, route_unknown: bool = True) -> None:
        """Register every tool's handler with ``llm`` (a Pipecat ``LLMService``) by name."""
        for schema in self._schemas:
            llm.register_function(schema.name, self.handle)
        if route_unknown:
            llm.register_function(None, self.handle)

    async def handle(self, params: FunctionCallParams) -> None:
        """Pipecat's function-call handler: run the call and report the model-safe result."""
        result = await run_tool(self._conv, params.function_name, dict(params.arguments), budget=self._budget)
        await params.result_callback(result_for_pipecat(result))

    def end_with(
        self, worker: Any, *, transport: Any = None, disconnect_events: tuple[str, ...] = _DISCONNECT_EVENTS
    ) -> None:
        """Hang up when ``worker`` (a ``PipelineWorker``) finishes, or ``transport`` loses the caller.

        ``on_pipeline_finished`` fires for ``EndFrame``, ``StopFrame`` and
        ``CancelFrame`` alike, so an ended, stopped or cancelled pipeline wipes.
        ``disconnect_events`` names the transport events that mean the caller is
        gone (``on_client_disconnected`` by default; add ``on_participant_left``
        for a Daily room); an event the transport does not have is a
        ``ValueError``, because a wipe that silently never fires is the failure
        this exists to prevent.
        """
        worker.add_event_handler("on_pipeline_finished", self._on_pipeline_finished)
        if transport is None:
            return
        known = getattr(transport, "_event_handlers", None)
        for event in disconnect_events:
            if isinstance(known, dict) and event not in known:
                raise ValueError(
                    f"{type(transport).__name__} has no event {event!r}; pass disconnect_events= "
                    "with the events that mean the caller has gone"
                )
            transport.add_event_handler(event, self._on_client_disconnected)

    async def _on_pipeline_finished(self, worker: Any, frame: Any) -> None:
        end_call(self._conv, "pipeline_ended")

    async def _on_client_disconnected(self, transport: Any, *args: Any) -> None:
        end_call(self._conv, "client_disconnected")

    async def hangup(self) -> None:
        """End the call now (wipe). Calling it again does nothing."""
        end_call(self._conv, "adapter_closed")

    async def __aenter__(self) -> PipecatCall:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.hangup()
