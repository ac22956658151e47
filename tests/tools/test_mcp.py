"""The MCP server: one conversation's scoped tools over an in-process MCP session."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
import respx

from sdk import Conversation
from sdk._call import scope_of, tool_definitions
from sdk.testing import make_canary
from tests.connectors import hubspot_cases, zendesk_cases
from tests.tools.conftest import GRANTED_WRITES, READS, luhn_card

# The MCP server is an optional extra (mcp 2.x); without it these tests are skipped, not failed.
pytest.importorskip("mcp.server.lowlevel")

from mcp import Client, ClientSession, StdioServerParameters
from mcp.shared.memory import create_client_server_memory_streams

from sdk.mcp_server import build_server, serve_conversation


def text_of(result: Any) -> str:
    assert len(result.content) == 1
    assert result.content[0].type == "text"
    text: str = result.content[0].text
    return text


async def test_lists_exactly_the_offered_tools_with_their_schemas(scoped: Conversation) -> None:
    async with Client(build_server(scoped)) as client:
        listed = (await client.list_tools()).tools
    expected = {d["name"]: d for d in tool_definitions(scope_of(scoped), "anthropic")}
    assert {tool.name for tool in listed} == READS | GRANTED_WRITES == set(expected)
    for tool in listed:
        assert tool.input_schema == expected[tool.name]["input_schema"]
        assert tool.description == expected[tool.name]["description"]
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (tool.name not in GRANTED_WRITES)


async def test_calls_a_tool_and_returns_the_redacted_result_as_json_text(
    scoped: Conversation, router: respx.MockRouter
) -> None:
    card = luhn_card("4")
    comments = zendesk_cases.fixture("comments_page2")
    comments["comments"][0]["plain_body"] = f"card {card} please"
    router.get(zendesk_cases.COMMENTS).respond(200, json=comments)
    zendesk_cases.show_ticket_route(router, make_canary("subject"))

    async with Client(build_server(scoped)) as client:
        result = await client.call_tool("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})

    assert result.is_error is False
    text = text_of(result)
    ticket = json.loads(text)
    assert ticket["id"] == zendesk_cases.TICKET_ID
    assert card not in text
    assert card[-4:] in ticket["comments"][0]["body"]


async def test_errors_are_is_error_results_with_the_model_safe_message(
    read_only: Conversation, router: respx.MockRouter
) -> None:
    value = make_canary("value")
    async with Client(build_server(read_only)) as client:
        forged = await client.call_tool("crm__create_note", {"contact_id": "51", "body": value})
        unknown = await client.call_tool("crm__drop_database", {})
        bad = await client.call_tool("crm__get_contact", {"contact_id": value + "/x"})

    assert forged.is_error
    assert unknown.is_error
    assert bad.is_error
    assert json.loads(text_of(forged))["kind"] == json.loads(text_of(unknown))["kind"] == "unknown_tool"
    assert json.loads(text_of(bad))["kind"] == "invalid_arguments"
    assert "contact_id" in text_of(bad)
    for result in (forged, unknown, bad):
        assert value not in text_of(result)
        assert "Traceback" not in text_of(result)
    assert len(router.calls) == 0


async def test_the_conversation_is_hung_up_when_the_session_ends(
    read_only: Conversation, router: respx.MockRouter
) -> None:
    hubspot_cases.contact_route(router, make_canary("firstname"))
    async with (
        create_client_server_memory_streams() as (client_streams, server_streams),
        anyio.create_task_group() as tasks,
    ):
        tasks.start_soon(
            lambda: serve_conversation(
                read_only, read_stream=server_streams[0], write_stream=server_streams[1]
            )
        )
        async with ClientSession(*client_streams) as session:
            await session.initialize()
            result = await session.call_tool("crm__get_contact", {"contact_id": "51"})
            assert result.is_error is False
            assert read_only.cached_records == 1
            assert not read_only.closed
        await client_streams[1].aclose()  # the client goes away: EOF on the server's input
    assert read_only.closed
    assert read_only.cached_records == 0


async def test_after_hangup_no_tools_are_listed_and_calls_fail_as_closed(read_only: Conversation) -> None:
    server = build_server(read_only)
    await read_only.hangup()
    async with Client(server) as client:
        assert (await client.list_tools()).tools == []
        result = await client.call_tool("crm__get_contact", {"contact_id": "51"})
    assert result.is_error
    assert json.loads(text_of(result))["kind"] == "closed"


async def test_run_stdio_serves_a_configured_conversation_over_a_real_pipe(tmp_path: Path) -> None:
    config = tmp_path / "nexora.toml"
    config.write_text(
        '[vault]\naddress = "http://127.0.0.1:9"\n\n'
        '[tenants.acme.integrations.crm]\nconnector = "hubspot"\n\n'
        '[tenants.acme.integrations.desk]\nconnector = "zendesk"\n'
        'grant = "scoped-write"\nwrite_scopes = ["comments:write"]\n'
        f'settings = {{ subdomain = "{zendesk_cases.SUBDOMAIN}" }}\n',
        encoding="utf-8",
    )
    script = (
        "import sys; from sdk.mcp_server import run_stdio; run_stdio(sys.argv[1], 'acme', 'call-stdio-1')"
    )
    server = StdioServerParameters(command=sys.executable, args=["-c", script, str(config)])
    async with Client(server) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
    assert listed == {n for n in READS | GRANTED_WRITES if n.startswith(("crm__", "desk__"))} - {
        "crm__create_note"
    }
