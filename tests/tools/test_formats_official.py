"""Every tool format, strict and not, validated against the provider's own SDK types.

The OpenAI and Anthropic SDKs describe requests as TypedDicts, which pydantic
validates without refusing unknown keys; :func:`forbid_unknown_keys` walks
them so that a key the SDK invents or misspells fails, and the canary tests
show that it does. Gemini's ``FunctionDeclaration`` is a pydantic model that
forbids extra keys itself, down to every node of its ``Schema``.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin, get_type_hints

import pytest
from pydantic import TypeAdapter, ValidationError
from typing_extensions import is_typeddict  # the SDKs' TypedDicts are typing_extensions ones

from sdk import Conversation, NexoraConnect, UsageError
from sdk._call import FORMATS, scope_of, tool_definitions
from tests.tools.conftest import GRANTED_WRITES, READS, SCOPED

openai_chat = pytest.importorskip("openai.types.chat")
openai_responses = pytest.importorskip("openai.types.responses")
openai_realtime = pytest.importorskip("openai.types.realtime")
anthropic_types = pytest.importorskip("anthropic.types")
genai_types = pytest.importorskip("google.genai.types")


def _typeddicts(hint: Any) -> list[Any]:
    """The TypedDicts a (possibly Required/Optional/Union) annotation allows."""
    origin = get_origin(hint)
    if origin in (typing.Required, typing.NotRequired, typing.Union, typing.Annotated) or str(origin) in (
        "typing.Union",
        "types.UnionType",
    ):
        return [found for arg in get_args(hint) for found in _typeddicts(arg)]
    return [hint] if is_typeddict(hint) else []


def forbid_unknown_keys(kind: Any, value: Any, path: str = "$") -> None:
    """Fail on any key ``kind`` (a TypedDict) does not declare, at any depth of nested TypedDicts."""
    hints = get_type_hints(kind, include_extras=True)
    assert isinstance(value, dict), path
    unknown = set(value) - set(hints)
    assert not unknown, f"{path}: keys {sorted(unknown)} are not in {kind.__name__}"
    for key, sub in value.items():
        nested = _typeddicts(hints[key])
        if len(nested) == 1 and isinstance(sub, dict) and not nested[0].__dict__.get("__pydantic_config__"):
            forbid_unknown_keys(nested[0], sub, f"{path}.{key}")


def typed(kind: Any) -> Callable[[dict[str, Any]], None]:
    adapter: TypeAdapter[Any] = TypeAdapter(kind)

    def check(definition: dict[str, Any]) -> None:
        adapter.validate_python(definition, strict=True)
        forbid_unknown_keys(kind, definition)

    return check


def gemini(definition: dict[str, Any]) -> None:
    declaration = genai_types.FunctionDeclaration.model_validate(definition)
    # Nothing was dropped or renamed on the way in: the model gives back exactly what it was given.
    assert declaration.model_dump(by_alias=True, exclude_none=True, mode="json") == json.loads(
        json.dumps(definition)
    )


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "openai": typed(openai_chat.ChatCompletionFunctionToolParam),
    "chat_completions": typed(openai_chat.ChatCompletionFunctionToolParam),
    "responses": typed(openai_responses.FunctionToolParam),
    "realtime": typed(openai_realtime.RealtimeFunctionToolParam),
    "anthropic": typed(anthropic_types.ToolParam),
    "gemini": gemini,
}


def name_of(definition: dict[str, Any]) -> str:
    name: str = definition["function"]["name"] if "function" in definition else definition["name"]
    return name


def parameters_of(definition: dict[str, Any]) -> dict[str, Any]:
    for key in ("parameters", "input_schema"):
        if key in definition:
            found: dict[str, Any] = definition[key]
            return found
    found = definition["function"]["parameters"]
    return found


def test_every_format_has_an_official_validator() -> None:
    assert set(VALIDATORS) == set(FORMATS)
    # The union the Chat Completions API takes accepts the function tool we check against.
    TypeAdapter(openai_chat.ChatCompletionToolParam).validate_python(
        {"type": "function", "function": {"name": "x", "parameters": {"type": "object"}}}
    )


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
async def test_each_definition_is_accepted_by_the_official_sdk_type(
    scoped: Conversation, fmt: Any, strict: bool
) -> None:
    definitions = tool_definitions(scope_of(scoped), fmt, strict=strict)
    assert {name_of(d) for d in definitions} == READS | GRANTED_WRITES
    for definition in definitions:
        VALIDATORS[fmt](definition)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_misspelled_or_invented_key_fails_the_same_validation(scoped: Conversation, fmt: Any) -> None:
    """The validators are not vacuous: one wrong key anywhere in the envelope fails them."""
    definition = tool_definitions(scope_of(scoped), fmt, strict=True)[0]
    broken = [copy.deepcopy(definition) for _ in range(2)]
    target = broken[0]["function"] if "function" in broken[0] else broken[0]
    target["descripton"] = target.pop("description")
    broken[1]["x_nexora_extra"] = True
    if fmt == "gemini":
        broken.append(copy.deepcopy(definition))
        next(iter(broken[2]["parameters"]["properties"].values()))["maxLenght"] = 3
    for bad in broken:
        with pytest.raises((ValidationError, AssertionError)):
            VALIDATORS[fmt](bad)


async def test_strict_flags_follow_each_api(scoped: Conversation) -> None:
    scope = scope_of(scoped)
    for strict in (False, True):
        assert all(d["strict"] is strict for d in tool_definitions(scope, "responses", strict=strict))
        assert all("strict" not in d for d in tool_definitions(scope, "realtime", strict=strict))
        assert all("strict" not in d for d in tool_definitions(scope, "gemini", strict=strict))
    assert all(
        d["function"]["strict"] is True for d in tool_definitions(scope, "chat_completions", strict=True)
    )
    assert all(d["type"] == "function" for f in ("responses", "realtime") for d in tool_definitions(scope, f))


@pytest.mark.parametrize("strict", [False, True])
async def test_json_schema_formats_carry_one_and_the_same_schema(scoped: Conversation, strict: bool) -> None:
    scope = scope_of(scoped)
    by_format = {
        fmt: {
            name_of(d): (d.get("description") or d["function"]["description"], parameters_of(d))
            for d in tool_definitions(scope, fmt, strict=strict)
        }
        for fmt in FORMATS
        if fmt != "gemini"
    }
    reference = by_format["anthropic"]
    for fmt, found in by_format.items():
        assert found == reference, fmt


async def test_gemini_schemas_keep_every_argument_its_requiredness_and_nullability(
    scoped: Conversation,
) -> None:
    scope = scope_of(scoped)
    for strict in (False, True):
        json_schemas = {
            name_of(d): parameters_of(d) for d in tool_definitions(scope, "anthropic", strict=strict)
        }
        for declaration in tool_definitions(scope, "gemini", strict=strict):
            source = json_schemas[declaration["name"]]
            params = declaration["parameters"]
            assert params["type"] == "OBJECT"
            assert params["properties"].keys() == source["properties"].keys()
            assert params["required"] == source.get("required", [])
            for name, sub in params["properties"].items():
                original = source["properties"][name]
                may_be_null = any(b.get("type") == "null" for b in original.get("anyOf", ()))
                assert sub.get("nullable", False) is may_be_null, (declaration["name"], name)
                assert sub["type"] in {"STRING", "INTEGER", "BOOLEAN", "NUMBER", "ARRAY", "OBJECT"}
    limit = next(d for d in tool_definitions(scope, "gemini") if d["name"] == "billing__list_invoices")[
        "parameters"
    ]["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 10)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_argument_has_a_sentence_a_model_can_use(
    scoped: Conversation, fmt: Any, strict: bool
) -> None:
    for definition in tool_definitions(scope_of(scoped), fmt, strict=strict):
        for name, sub in parameters_of(definition)["properties"].items():
            text = sub.get("description", "")
            assert len(text) >= 12, (name_of(definition), name, text)
            assert text[0].isupper(), (name_of(definition), name, text)
            assert name.replace("_", " ") not in {text.lower().rstrip(".")}, text


async def test_unknown_formats_are_refused_with_a_sentence_naming_the_known_ones(
    scoped: Conversation,
) -> None:
    for wrong in ("OpenAI", "gemini ", "", None, 3, "mcp"):
        with pytest.raises(UsageError) as caught:
            tool_definitions(scope_of(scoped), wrong)  # type: ignore[arg-type]
        message = str(caught.value)
        assert message[0].isupper()
        assert message.endswith(".")
        assert all(repr(fmt) in message for fmt in FORMATS)


async def test_nc_tools_validates_too(nc: NexoraConnect) -> None:
    for fmt in FORMATS:
        for definition in nc.tools(SCOPED, fmt, strict=True):
            VALIDATORS[fmt](definition)
