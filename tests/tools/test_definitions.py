"""Tool export: exactly the granted operations, in shapes both providers accept."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import jsonschema
import pytest
import respx

from sdk import (
    ConfigurationError,
    Contact,
    Conversation,
    ConversationClosedError,
    NexoraConfig,
    UsageError,
)
from sdk._call import scope_of, tool_definitions, tool_name
from sdk.authoring import ConnectorRegistry, CRMConnector, operation
from sdk.testing import MemoryCredentialSource
from tests.mock_nexora import runtime_on
from tests.tools.conftest import (
    CASES_OF,
    GRANTED_WRITES,
    READS,
    SCOPED,
    UNGRANTED_WRITES,
)

OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ANTHROPIC_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def names(definitions: list[dict[str, Any]]) -> set[str]:
    return {d["function"]["name"] if "function" in d else d["name"] for d in definitions}


def schemas(conv: Conversation, *, strict: bool = False) -> dict[str, dict[str, Any]]:
    return {
        d["name"]: d["input_schema"] for d in tool_definitions(scope_of(conv), "anthropic", strict=strict)
    }


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, schema node) of a JSON Schema, skipping data keywords."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("default", "enum", "const", "examples"):
                continue
            if key == "properties":
                for name, sub in value.items():
                    yield from walk(sub, (*path, "properties", name))
            else:
                yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, (*path, i))


# --- which tools ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
async def test_read_only_grant_offers_every_read_and_no_write(read_only: Conversation, fmt: Any) -> None:
    offered = names(tool_definitions(scope_of(read_only), fmt))
    assert offered == READS


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
async def test_scoped_write_grant_offers_exactly_the_granted_writes(scoped: Conversation, fmt: Any) -> None:
    offered = names(tool_definitions(scope_of(scoped), fmt))
    assert offered == READS | GRANTED_WRITES
    assert not offered & UNGRANTED_WRITES


async def test_tools_after_hangup_raise(read_only: Conversation) -> None:
    await read_only.hangup()
    with pytest.raises(ConversationClosedError):
        tool_definitions(scope_of(read_only))


async def test_unknown_format_is_refused(read_only: Conversation) -> None:
    with pytest.raises(UsageError, match="Use one of 'openai', 'chat_completions'"):
        tool_definitions(scope_of(read_only), "claude")  # type: ignore[arg-type]


# --- shapes --------------------------------------------------------------------------------------


async def test_openai_shape(scoped: Conversation) -> None:
    for definition in tool_definitions(scope_of(scoped), "openai"):
        assert set(definition) == {"type", "function"}
        assert definition["type"] == "function"
        function = definition["function"]
        assert set(function) == {"name", "description", "parameters"}
        assert OPENAI_NAME.fullmatch(function["name"])
        assert function["parameters"]["type"] == "object"
        assert function["parameters"]["additionalProperties"] is False
        assert isinstance(function["parameters"]["properties"], dict)


async def test_anthropic_shape(scoped: Conversation) -> None:
    for definition in tool_definitions(scope_of(scoped), "anthropic"):
        assert set(definition) == {"name", "description", "input_schema"}
        assert ANTHROPIC_NAME.fullmatch(definition["name"])
        assert definition["input_schema"]["type"] == "object"
        assert definition["input_schema"]["additionalProperties"] is False


async def test_both_formats_carry_the_same_tools(scoped: Conversation) -> None:
    openai = {d["function"]["name"]: d["function"] for d in tool_definitions(scope_of(scoped), "openai")}
    anthropic = {d["name"]: d for d in tool_definitions(scope_of(scoped), "anthropic")}
    assert openai.keys() == anthropic.keys()
    for name, function in openai.items():
        assert function["parameters"] == anthropic[name]["input_schema"]
        assert function["description"] == anthropic[name]["description"]


async def test_strict_definitions_are_marked_and_require_every_property(scoped: Conversation) -> None:
    for definition in tool_definitions(scope_of(scoped), "openai", strict=True):
        function = definition["function"]
        assert function["strict"] is True
        parameters = function["parameters"]
        for _, node in walk(parameters):
            assert "default" not in node
            assert "minLength" not in node
            assert "maxLength" not in node
            assert "pattern" not in node
            if "properties" in node:
                assert node["required"] == list(node["properties"])
                assert node["additionalProperties"] is False
    assert all(d["strict"] is True for d in tool_definitions(scope_of(scoped), "anthropic", strict=True))


async def test_strict_optional_arguments_are_nullable_and_say_their_default(scoped: Conversation) -> None:
    limit = schemas(scoped, strict=True)["billing__list_invoices"]["properties"]["limit"]
    assert {"type": "null"} in limit["anyOf"]
    assert "default, 10" in limit["description"]
    assert limit["anyOf"][0] == {"type": "integer", "description": "from 1 to 100"}


async def test_descriptions_name_the_system_and_nothing_of_the_tenant(
    scoped: Conversation, secret: str
) -> None:
    by_name = {d["name"]: d["description"] for d in tool_definitions(scope_of(scoped), "anthropic")}
    assert "HubSpot" in by_name["crm__find_contacts"]
    assert "Zendesk Support" in by_name["desk__get_ticket"]
    assert "Stripe" in by_name["billing__get_balance"]
    assert "Changes data" in by_name["crm__create_note"]
    assert "Changes data" not in by_name["crm__get_contact"]
    text = json.dumps(tool_definitions(scope_of(scoped), "openai")) + json.dumps(
        tool_definitions(scope_of(scoped), "anthropic")
    )
    assert SCOPED not in text
    assert secret not in text


# --- schemas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True])
async def test_every_schema_is_valid_draft_2020_12_without_pydantic_noise(
    scoped: Conversation, strict: bool
) -> None:
    for name, schema in schemas(scoped, strict=strict).items():
        jsonschema.Draft202012Validator.check_schema(schema)
        for path, node in walk(schema):
            assert "title" not in node, (name, path)
            assert "$ref" not in node, (name, path)
            assert "$defs" not in node, (name, path)


@pytest.mark.parametrize("strict", [False, True])
async def test_connector_case_arguments_validate_against_the_exported_schema(
    scoped: Conversation, strict: bool
) -> None:
    exported = schemas(scoped, strict=strict)
    checked = 0
    for integration, cases in CASES_OF.items():
        for case in cases:
            name = tool_name(integration, case.operation)
            if name not in exported:
                continue  # a write this tenant did not grant
            schema = exported[name]
            arguments = dict(case.arguments)
            if strict:  # strict mode: the model sends every property, null for "not given"
                arguments = {key: arguments.get(key) for key in schema["properties"]}
            jsonschema.Draft202012Validator(schema).validate(arguments)
            checked += 1
    assert checked == 13  # hubspot 5, zendesk 4 of 6, stripe 4 of 5 (the rest are ungranted writes)


async def test_schema_rejects_what_invoke_would_reject(scoped: Conversation) -> None:
    schema = schemas(scoped)["desk__get_ticket"]
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({})
    assert not validator.is_valid({"ticket_id": "1/../2"})
    assert not validator.is_valid({"ticket_id": "35437", "extra": 1})
    assert validator.is_valid({"ticket_id": "35437"})


async def test_definitions_are_fresh_copies(scoped: Conversation) -> None:
    first = tool_definitions(scope_of(scoped), "openai")
    first[0]["function"]["parameters"]["properties"].clear()
    assert tool_definitions(scope_of(scoped), "openai")[0]["function"]["parameters"]["properties"]


# --- names ---------------------------------------------------------------------------------------


def test_names_join_integration_and_operation() -> None:
    assert tool_name("crm", "find_contacts") == "crm__find_contacts"
    assert tool_name("my-crm_2", "get_contact") == "my-crm_2__get_contact"


def test_long_names_are_cut_to_64_deterministically_and_stay_distinct() -> None:
    integration = "a" * 63
    first = tool_name(integration, "find_contacts")
    second = tool_name(integration, "find_customers")
    assert len(first) == len(second) == 64
    assert first != second
    assert first == tool_name(integration, "find_contacts")
    assert OPENAI_NAME.fullmatch(first)
    assert ANTHROPIC_NAME.fullmatch(first)


def test_an_operation_name_outside_ascii_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ASCII"):
        tool_name("crm", "fünd")


class DoubleUnderscoreCRM(CRMConnector):
    """A connector whose custom operation name contains the separator."""

    name: ClassVar[str] = "double"
    base_url: ClassVar[str] = "https://double.test"

    @operation("contacts:read")
    async def x(self) -> list[Contact]:
        return []

    @operation("contacts:read")
    async def lookup__x(self) -> list[Contact]:
        return []


async def test_colliding_names_are_a_configuration_error() -> None:
    registry = ConnectorRegistry(discover=False)
    registry.register(DoubleUnderscoreCRM)
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                "acme": {
                    "integrations": {"dbl": {"connector": "double"}, "dbl__lookup": {"connector": "double"}}
                }
            },
        }
    )
    router = respx.MockRouter(assert_all_mocked=True)
    async with (
        runtime_on(router, config, registry, MemoryCredentialSource()) as nc,
        nc.conversation(tenant="acme", conversation_id="c-1") as conv,
    ):
        with pytest.raises(ConfigurationError, match="dbl__lookup__x"):
            tool_definitions(scope_of(conv))
