"""The Pipecat adapter against the real pipecat-ai: a pipeline with Pipecat's own OpenAI LLM service.

The only thing simulated is OpenAI itself: the real ``OpenAILLMService`` talks through the real
``openai`` client to an ``httpx.MockTransport`` that streams scripted tool calls, and records every
request, so the tests see exactly the tools and tool results Pipecat would send to the model.
Vendors are the respx router of the tool tests; nothing touches the network.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx
from openai import AsyncOpenAI
from pipecat.adapters.llm.services.anthropic_adapter import AnthropicLLMAdapter
from pipecat.adapters.llm.services.open_ai_adapter import OpenAILLMAdapter
from pipecat.adapters.llm.services.open_ai_responses_adapter import OpenAIResponsesLLMAdapter
from pipecat.frames.frames import EndFrame, LLMRunFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.transports.base_transport import BaseTransport
from pipecat.workers.runner import WorkerRunner

from sdk import AuditDecision, ConversationClosedError, MemoryAuditSink, NexoraConnect
from sdk.adapters.pipecat import PipecatCall, result_for_pipecat
from sdk.testing import make_canary
from tests.adapters.conftest import PIPECAT_WARNINGS, digits
from tests.connectors import zendesk_cases
from tests.tools.conftest import GRANTED_WRITES, READ_ONLY, READS, SCOPED

pytestmark = [pytest.mark.filterwarnings(w) for w in PIPECAT_WARNINGS]

TIMEOUT = 20.0


# --- a scripted OpenAI behind Pipecat's real OpenAI service -----------------------------------------


def _sse(chunks: list[dict[str, Any]]) -> bytes:
    events = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
    return "".join(events).encode()


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gpt-4.1",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


class ScriptedOpenAI:
    """Answers the n-th request with the n-th scripted tool call, then with a sentence."""

    def __init__(self, script: list[tuple[str, dict[str, Any]]]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        answered = sum(1 for message in body["messages"] if message["role"] == "tool")
        if answered < len(self.script):
            name, arguments = self.script[answered]
            call = {
                "index": 0,
                "id": f"call_{answered}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            chunks = [_chunk({"role": "assistant", "tool_calls": [call]}), _chunk({}, "tool_calls")]
        else:
            chunks = [_chunk({"role": "assistant", "content": "Thanks, done."}), _chunk({}, "stop")]
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=_sse(chunks))

    def tool_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.requests[-1]["messages"] if m["role"] == "tool"]


class ScriptedOpenAIService(OpenAILLMService):
    """Pipecat's OpenAI service, unchanged except for the HTTP transport of its client."""

    def __init__(self, openai: ScriptedOpenAI) -> None:
        self._scripted = openai
        super().__init__(api_key="sk-test-not-real")

    def create_client(self, *args: Any, **kwargs: Any) -> AsyncOpenAI:
        transport = httpx.MockTransport(self._scripted.handle)
        return AsyncOpenAI(api_key="sk-test-not-real", http_client=httpx.AsyncClient(transport=transport))


class PhoneTransport(BaseTransport):
    """A transport with no media: only the caller-disconnected event real transports emit."""

    def __init__(self) -> None:
        super().__init__()
        self._register_event_handler("on_client_disconnected")

    def input(self) -> FrameProcessor:
        raise NotImplementedError

    def output(self) -> FrameProcessor:
        raise NotImplementedError

    async def caller_hangs_up(self) -> None:
        await self._call_event_handler("on_client_disconnected", object())


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not condition():  # noqa: ASYNC110 - the state polled belongs to Pipecat and the SDK
            await asyncio.sleep(0.01)


async def run_pipeline(
    call: PipecatCall,
    openai: ScriptedOpenAI,
    *,
    end: str = "end",
    transport: PhoneTransport | None = None,
) -> None:
    """Run one simulated call: the model asks for the scripted tools, then the call ends as ``end`` says."""
    llm = ScriptedOpenAIService(openai)
    call.register(llm)
    context = LLMContext(messages=[{"role": "user", "content": "What did I write?"}], tools=call.tools_schema)
    pair = LLMContextAggregatorPair(context)
    worker = PipelineWorker(Pipeline([pair.user(), llm, pair.assistant()]), cancel_on_idle_timeout=False)
    call.end_with(worker, transport=transport)

    @worker.event_handler("on_pipeline_started")
    async def start(worker: PipelineWorker, frame: Any) -> None:
        await worker.queue_frame(LLMRunFrame())

    async def finish() -> None:
        await _until(lambda: len(openai.requests) > len(openai.script))
        assert not call.conversation.closed  # the call was live for every tool call
        if end == "end":
            await worker.queue_frame(EndFrame())
        elif end == "cancel":
            await worker.cancel(reason="test")
        else:
            assert transport is not None
            await transport.caller_hangs_up()
            await _until(lambda: call.conversation.closed)
            await worker.cancel(reason="caller gone")

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    async with asyncio.timeout(TIMEOUT):
        await asyncio.gather(runner.run(), finish())


async def _assert_wiped(call: PipecatCall) -> None:
    conv = call.conversation
    assert conv.closed
    assert conv.cached_records == 0
    with pytest.raises(ConversationClosedError):
        await conv.invoke("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})


# --- the call ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["end", "cancel", "disconnect"])
async def test_tool_call_reaches_the_vendor_the_model_sees_it_redacted_and_the_end_wipes(
    nc: NexoraConnect, router: respx.MockRouter, card: str, end: str
) -> None:
    openai = ScriptedOpenAI([("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})])
    call = PipecatCall.open(nc, tenant=SCOPED, conversation_id=f"pc-{end}")
    transport = PhoneTransport() if end == "disconnect" else None

    await run_pipeline(call, openai, end=end, transport=transport)

    assert any(c.request.url.path.endswith("/comments") for c in router.calls)  # the vendor was reached
    (message,) = openai.tool_messages()
    assert card not in digits(message["content"])
    assert card[:6] not in digits(message["content"])
    assert card[-4:] in message["content"]
    assert "Please charge my card" in message["content"]
    await _assert_wiped(call)
    assert nc.open_conversations == 0


async def test_offered_tools_are_exactly_the_grants_and_keep_strict_on_the_wire(
    nc: NexoraConnect, router: respx.MockRouter, card: str
) -> None:
    openai = ScriptedOpenAI([("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})])
    call = PipecatCall.open(nc, tenant=SCOPED, conversation_id="pc-wire")
    await run_pipeline(call, openai)

    sent = openai.requests[0]["tools"]
    assert {tool["function"]["name"] for tool in sent} == READS | GRANTED_WRITES
    for tool in sent:
        function = tool["function"]
        assert function["strict"] is True
        assert function["parameters"]["additionalProperties"] is False
        assert set(function["parameters"]["required"]) == set(function["parameters"]["properties"])


async def test_a_forged_ungranted_write_is_refused_audited_and_never_sent(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    canary = make_canary("forged")
    route = zendesk_cases.create_ticket_route(router, canary)
    arguments = {"subject": "Refund", "body": canary, "email": zendesk_cases.CALLER_EMAIL}
    openai = ScriptedOpenAI([("desk__create_ticket", arguments)])
    call = PipecatCall.open(nc, tenant=SCOPED, conversation_id="pc-forged")
    assert "desk__create_ticket" not in {schema.name for schema in call.function_schemas}

    await run_pipeline(call, openai)

    assert not route.called
    (message,) = openai.tool_messages()
    answer = json.loads(message["content"])
    assert answer["kind"] == "unknown_tool"
    assert canary not in message["content"]
    denied = [r for r in audit.records if r.decision is AuditDecision.DENIED]
    assert [r.operation for r in denied] == ["create_ticket"]


async def test_a_vendor_failure_becomes_a_result_the_model_can_speak_about(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(zendesk_cases.COMMENTS).respond(503, json={"error": make_canary("body")})
    zendesk_cases.show_ticket_route(router, make_canary("subject"))
    openai = ScriptedOpenAI([("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})])
    call = PipecatCall.open(nc, tenant=READ_ONLY, conversation_id="pc-503")

    await run_pipeline(call, openai)

    (message,) = openai.tool_messages()
    answer = json.loads(message["content"])
    assert answer["kind"] in {"unavailable", "timeout"}
    assert "Continue without this information." in answer["error"]
    assert "zendesk" not in message["content"].lower()
    assert READ_ONLY not in message["content"]


# --- pieces -----------------------------------------------------------------------------------------


async def test_each_pipecat_format_keeps_what_it_can(nc: NexoraConnect) -> None:
    async with PipecatCall.open(nc, tenant=READ_ONLY, conversation_id="pc-formats") as call:
        schema = call.tools_schema
        chat = OpenAILLMAdapter().to_provider_tools_format(schema)
        responses = OpenAIResponsesLLMAdapter().to_provider_tools_format(schema)
        anthropic = AnthropicLLMAdapter().to_provider_tools_format(schema)
    assert len(chat) == len(responses) == len(anthropic) == len(READS)
    for tool in chat:
        function: Any = tool["function"]
        assert function["strict"] is True
        assert function["parameters"]["additionalProperties"] is False
    for flat in responses:
        flat_tool: Any = flat
        assert flat_tool["strict"] is True
        assert flat_tool["parameters"]["additionalProperties"] is False
    # Pipecat's Anthropic adapter rebuilds the schema from properties and required (documented).
    for tool in anthropic:
        assert set(tool["input_schema"]["required"]) == set(tool["input_schema"]["properties"])


async def test_non_strict_schemas_keep_constraints_and_closed_objects(nc: NexoraConnect) -> None:
    async with nc.conversation(tenant=READ_ONLY, conversation_id="pc-loose") as conv:
        loose = PipecatCall(conv, strict=False).function_schemas
        expected = {d["function"]["name"]: d["function"] for d in conv.tools("openai")}
    for schema in loose:
        produced = schema.to_default_dict()
        assert "strict" not in produced
        assert produced["parameters"] == expected[schema.name]["parameters"]
        assert produced["parameters"]["additionalProperties"] is False


async def test_a_handler_called_after_hangup_answers_that_the_call_ended(nc: NexoraConnect) -> None:
    call = PipecatCall.open(nc, tenant=READ_ONLY, conversation_id="pc-late")
    await call.hangup()
    results: list[Any] = []

    async def result_callback(result: Any, **kwargs: Any) -> None:
        results.append(result)

    params = SimpleNamespace(
        function_name="desk__get_ticket",
        arguments={"ticket_id": zendesk_cases.TICKET_ID},
        result_callback=result_callback,
    )
    await call.handle(params)  # type: ignore[arg-type]
    assert results == [{"error": "The call has ended, so no tool can be used any more.", "kind": "closed"}]


def test_an_empty_result_is_passed_as_text_so_pipecat_does_not_call_it_completed() -> None:
    from sdk import ToolResult

    assert result_for_pipecat(ToolResult(ok=True, content=[])) == "[]"
    assert result_for_pipecat(ToolResult(ok=True, content=[{"id": "1"}])) == [{"id": "1"}]


async def test_a_transport_without_the_event_is_refused(nc: NexoraConnect) -> None:
    async with PipecatCall.open(nc, tenant=READ_ONLY, conversation_id="pc-events") as call:
        worker = PipelineWorker(Pipeline([]), cancel_on_idle_timeout=False)
        with pytest.raises(ValueError, match="on_participant_left"):
            call.end_with(worker, transport=PhoneTransport(), disconnect_events=("on_participant_left",))
    assert call.conversation.closed


async def test_without_pipecat_the_error_names_the_extra_and_nothing_stays_open(
    nc: NexoraConnect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pipecat.adapters.llm.schemas.tools_schema", None)
    with pytest.raises(ImportError, match=r"nexora-connect\[pipecat\]"):
        PipecatCall.open(nc, tenant=READ_ONLY, conversation_id="pc-missing")
    assert nc.open_conversations == 0
