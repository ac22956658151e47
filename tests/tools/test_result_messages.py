"""Tool-result messages in every format, checked against the official model SDKs' own types."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from sdk import ToolResult, UsageError

pytest.importorskip("openai")
pytest.importorskip("anthropic")
pytest.importorskip("google.genai")

from anthropic.types import ToolResultBlockParam
from google.genai import types as genai
from openai.types.chat import ChatCompletionToolMessageParam
from openai.types.realtime import ConversationItemCreateEventParam
from openai.types.responses import ResponseInputItemParam

RESULTS = [
    ToolResult(ok=True, content={"id": "c-1", "name": "Aroha"}),
    ToolResult(ok=False, error="No matching record was found.", error_kind="not_found"),
]


def _strict(adapter: TypeAdapter[Any], message: dict[str, Any]) -> None:
    adapter.validate_python(message, strict=True)


@pytest.mark.parametrize("result", RESULTS, ids=["ok", "error"])
@pytest.mark.parametrize(
    ("format", "adapter"),
    [
        ("openai", TypeAdapter(ChatCompletionToolMessageParam)),
        ("chat_completions", TypeAdapter(ChatCompletionToolMessageParam)),
        ("responses", TypeAdapter(ResponseInputItemParam)),
        ("realtime", TypeAdapter(ConversationItemCreateEventParam)),
        ("anthropic", TypeAdapter(ToolResultBlockParam)),
    ],
)
def test_each_format_is_a_valid_message_of_its_sdk(result: ToolResult, format: str, adapter: Any) -> None:
    message = result.to_message(format, "call_1")  # type: ignore[arg-type]
    _strict(adapter, message)
    assert result.as_json() in str(message)
    # pydantic ignores unknown keys of a TypedDict: check the top-level keys against the type itself.
    typed = getattr(adapter, "_type", None)
    if hasattr(typed, "__annotations__"):
        assert set(message) <= set(typed.__annotations__), set(message) - set(typed.__annotations__)


@pytest.mark.parametrize("result", RESULTS, ids=["ok", "error"])
def test_gemini_function_response_validates_and_needs_the_name(result: ToolResult) -> None:
    message = result.to_message("gemini", "call_1", name="crm__get_contact")
    part = genai.Part.model_validate(message)
    assert part.function_response is not None
    assert part.function_response.name == "crm__get_contact"
    with pytest.raises(UsageError, match="name="):
        result.to_message("gemini", "call_1")


def test_an_unknown_format_is_refused_in_a_sentence() -> None:
    with pytest.raises(UsageError, match="Use one of"):
        RESULTS[0].to_message("claude", "call_1")  # type: ignore[arg-type]
