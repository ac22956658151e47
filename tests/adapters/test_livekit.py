"""The LiveKit adapter against the real livekit-agents: an ``AgentSession`` in text mode with a scripted LLM.

The session, the agent, LiveKit's tool execution and its OpenAI tool format are the real ones; the
LLM is a scripted ``livekit.agents.llm.LLM`` that records what LiveKit's OpenAI format would send
(tools and messages) and asks for the scripted tool calls. No room, no audio, no network.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from livekit import rtc
from livekit.agents import Agent, AgentSession, JobContext
from livekit.agents.llm import (
    LLM,
    ChatChunk,
    ChatContext,
    ChoiceDelta,
    FunctionToolCall,
    LLMStream,
    Tool,
    ToolContext,
)
from livekit.agents.llm._provider_format import anthropic as anthropic_format
from livekit.agents.llm._provider_format import openai as openai_format
from livekit.agents.testing import fake_job_context
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from sdk import AuditDecision, ConversationClosedError, MemoryAuditSink, NexoraConnect
from sdk.adapters.livekit import LiveKitCall
from sdk.testing import make_canary
from tests.adapters.conftest import digits
from tests.connectors import zendesk_cases
from tests.tools.conftest import GRANTED_WRITES, READ_ONLY, READS, SCOPED

# --- a scripted LLM inside the real session ---------------------------------------------------------


class ScriptedStream(LLMStream):
    def __init__(self, owner: ScriptedLLM, *, chat_ctx: ChatContext, tools: list[Tool]) -> None:
        super().__init__(owner, chat_ctx=chat_ctx, tools=tools, conn_options=DEFAULT_API_CONNECT_OPTIONS)
        self._owner = owner

    async def _run(self) -> None:
        messages, _ = self._chat_ctx.to_provider_format("openai")
        tools = openai_format.to_fnc_ctx(ToolContext(self._tools), strict=True)
        self._owner.requests.append({"messages": messages, "tools": tools})
        answered = sum(1 for message in messages if message["role"] == "tool")
        if answered < len(self._owner.script):
            name, arguments = self._owner.script[answered]
            call = FunctionToolCall(name=name, arguments=json.dumps(arguments), call_id=f"call_{answered}")
            delta = ChoiceDelta(role="assistant", tool_calls=[call])
        else:
            delta = ChoiceDelta(role="assistant", content="Thanks, done.")
        self._event_ch.send_nowait(ChatChunk(id="scripted", delta=delta))


class ScriptedLLM(LLM):
    """Asks for the n-th scripted tool call on the n-th request, then says a sentence."""

    def __init__(self, script: list[tuple[str, dict[str, Any]]]) -> None:
        super().__init__()
        self.script = script
        self.requests: list[dict[str, Any]] = []

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        **kwargs: Any,
    ) -> LLMStream:
        return ScriptedStream(self, chat_ctx=chat_ctx, tools=tools or [])

    def tool_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.requests[-1]["messages"] if m["role"] == "tool"]


async def run_session(call: LiveKitCall, llm: ScriptedLLM) -> AgentSession:
    """One user turn through a real AgentSession; returns the (still open) session."""
    session: AgentSession = AgentSession(llm=llm)
    call.end_with(session)
    await session.start(Agent(instructions="You help callers.", tools=call.tools))
    await session.run(user_input="What did I write on my ticket?")
    assert not call.conversation.closed  # the call was live for every tool call
    return session


async def _assert_wiped(call: LiveKitCall) -> None:
    conv = call.conversation
    assert conv.closed
    assert conv.cached_records == 0
    with pytest.raises(ConversationClosedError):
        await conv.invoke("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})


@contextlib.contextmanager
def fake_job(room: rtc.Room) -> Iterator[JobContext]:
    """LiveKit's own fake job context, plus the temporary-directory cleanup its job runner would do."""
    with fake_job_context(room=room) as job:
        try:
            yield job
        finally:
            job._tempdir.cleanup()


class Caller:
    """What LiveKit passes to ``participant_disconnected``: only the identity is read."""

    def __init__(self, identity: str) -> None:
        self.identity = identity


# --- the call ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["session_close", "participant_disconnected", "job_shutdown"])
async def test_tool_call_reaches_the_vendor_the_model_sees_it_redacted_and_the_end_wipes(
    nc: NexoraConnect, router: respx.MockRouter, card: str, end: str
) -> None:
    llm = ScriptedLLM([("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})])
    call = LiveKitCall.open(nc, tenant=SCOPED, conversation_id=f"lk-{end}")
    room = rtc.Room()
    with fake_job(room) as job:
        call.end_with(room=room, job=job, participant_identity="sip_caller")
        session = await run_session(call, llm)

        assert any(c.request.url.path.endswith("/comments") for c in router.calls)
        (message,) = llm.tool_messages()
        assert card not in digits(message["content"])
        assert card[:6] not in digits(message["content"])
        assert card[-4:] in message["content"]

        if end == "participant_disconnected":
            room.emit("participant_disconnected", Caller("someone_else"))
            assert not call.conversation.closed  # only the caller's own departure ends the call
            room.emit("participant_disconnected", Caller("sip_caller"))
        elif end == "job_shutdown":
            # What LiveKit's job process does on shutdown: await every registered callback.
            for callback in job._shutdown_callbacks:
                await callback("room deleted")
        else:
            await session.aclose()
        await _assert_wiped(call)
        await session.aclose()
    assert nc.open_conversations == 0


async def test_offered_tools_are_exactly_the_grants_and_keep_strict_on_the_wire(
    nc: NexoraConnect, router: respx.MockRouter, card: str
) -> None:
    llm = ScriptedLLM([("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})])
    async with LiveKitCall.open(nc, tenant=SCOPED, conversation_id="lk-wire") as call:
        session = await run_session(call, llm)
        await session.aclose()
    sent = llm.requests[0]["tools"]
    assert {tool["function"]["name"] for tool in sent} == READS | GRANTED_WRITES
    for tool in sent:
        function = tool["function"]
        assert function["strict"] is True
        assert function["parameters"]["additionalProperties"] is False
        assert set(function["parameters"]["required"]) == set(function["parameters"]["properties"])


async def test_a_forged_ungranted_write_is_neither_offered_nor_run(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    canary = make_canary("forged")
    route = zendesk_cases.create_ticket_route(router, canary)
    arguments = {"subject": "Refund", "body": canary, "email": zendesk_cases.CALLER_EMAIL}
    llm = ScriptedLLM([("desk__create_ticket", arguments)])
    async with LiveKitCall.open(nc, tenant=SCOPED, conversation_id="lk-forged") as call:
        assert "desk__create_ticket" not in {tool.info.name for tool in call.tools}
        session = await run_session(call, llm)
        await session.aclose()
    assert not route.called
    assert not [r for r in audit.records if r.decision is AuditDecision.ALLOWED]
    (message,) = llm.tool_messages()
    assert canary not in message["content"]


async def test_a_vendor_failure_becomes_an_error_the_model_can_speak_about(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(zendesk_cases.COMMENTS).respond(503, json={"error": make_canary("body")})
    zendesk_cases.show_ticket_route(router, make_canary("subject"))
    llm = ScriptedLLM([("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})])
    async with LiveKitCall.open(nc, tenant=READ_ONLY, conversation_id="lk-503") as call:
        session = await run_session(call, llm)
        await session.aclose()
    (message,) = llm.tool_messages()
    answer = json.loads(message["content"])
    assert answer["kind"] in {"unavailable", "timeout"}
    assert "Continue without this information." in answer["error"]
    assert READ_ONLY not in message["content"]


# --- pieces -----------------------------------------------------------------------------------------


async def test_each_livekit_format_keeps_what_it_can(nc: NexoraConnect) -> None:
    async with LiveKitCall.open(nc, tenant=READ_ONLY, conversation_id="lk-formats") as call:
        context = ToolContext(call.tools)
        chat = openai_format.to_fnc_ctx(context, strict=True)
        responses = openai_format.to_responses_fnc_ctx(context, strict=True)
        anthropic = anthropic_format.to_fnc_ctx(context, strict=True)
    assert len(chat) == len(responses) == len(anthropic) == len(READS)
    assert all(tool["function"]["strict"] is True for tool in chat)
    assert all(tool["strict"] is True and tool["type"] == "function" for tool in responses)
    # LiveKit's Anthropic format keeps the closed parameters but drops `strict` (documented).
    assert all(tool["input_schema"]["additionalProperties"] is False for tool in anthropic)
    assert all("strict" not in tool for tool in anthropic)


async def test_non_strict_tools_carry_the_full_schema(nc: NexoraConnect) -> None:
    async with nc.conversation(tenant=READ_ONLY, conversation_id="lk-loose") as conv:
        tools = LiveKitCall(conv, strict=False).tools
        expected = {d["function"]["name"]: d["function"] for d in conv.tools("openai")}
    for tool in tools:
        assert tool.info.raw_schema == expected[tool.info.name]
        assert "strict" not in tool.info.raw_schema


async def test_without_livekit_the_error_names_the_extra_and_nothing_stays_open(
    nc: NexoraConnect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "livekit.agents.llm", None)
    with pytest.raises(ImportError, match=r"nexora-connect\[livekit\]"):
        LiveKitCall.open(nc, tenant=READ_ONLY, conversation_id="lk-missing")
    assert nc.open_conversations == 0
