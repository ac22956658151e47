"""Tool results (conv.invoke) and the MCP server's call path: internal records and field rules.

Every read tool of the three shipped connectors runs against vendor answers with canaries planted
in internal comments; the writes that answer with an internal record (an internal comment, a CRM
note) are tried too. What the model receives is the JSON text of the result, so that is what is
searched.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from sdk import Conversation, NexoraConnect
from sdk._call import INTERNAL_WITHHELD, ToolResult
from sdk.testing import OperationCase, make_canary
from tests.connectors import hubspot_cases, zendesk_cases
from tests.llm_policy.conftest import DEFAULT, FIELDS, KEEP, MASK, comments_page
from tests.runtime.support import CARD
from tests.tools.conftest import CASES_OF, READS

READ_CASES = [
    pytest.param(f"{integration}__{case.operation}", case, id=f"{integration}__{case.label}")
    for integration, cases in CASES_OF.items()
    for case in cases
    if f"{integration}__{case.operation}" in READS
]


def _plant_internal(router: respx.MockRouter, reply: str, secret: str) -> None:
    """Ticket comments: one public reply and internal notes holding ``secret``, newest first."""
    page = comments_page(
        (f"{secret}: escalate, card {CARD}", False), (f"{reply} thanks", True), (f"{secret} again", False)
    )
    router.get(zendesk_cases.COMMENTS).respond(200, json=page)
    zendesk_cases.show_ticket_route(router, make_canary("subject"))


async def _invoke(nc: NexoraConnect, tenant: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
    async with nc.conversation(tenant=tenant, conversation_id=f"call-{tenant}") as conv:
        return await conv.invoke(tool, arguments)


def test_the_cases_cover_every_read_tool() -> None:
    assert {values[0] for values in (p.values for p in READ_CASES)} == READS


@pytest.mark.parametrize(("tool", "case"), READ_CASES)
async def test_no_read_tool_hands_over_an_internal_comment_by_default(
    nc: NexoraConnect, router: respx.MockRouter, tool: str, case: OperationCase
) -> None:
    reply, secret = make_canary("reply"), make_canary("internal")
    if tool != "desk__get_ticket":
        case.mock(router, make_canary("field"))
    _plant_internal(router, reply, secret)

    for tenant in (DEFAULT, FIELDS, MASK):
        result = await _invoke(nc, tenant, tool, dict(case.arguments))
        assert result.ok, result
        text = result.as_json()
        assert secret not in text
        assert CARD.replace(" ", "")[:12] not in text.replace(" ", "")
        if tool == "desk__get_ticket":
            assert reply in text  # the public reply is there: the result was not simply empty
            if tenant == MASK:
                assert text.count(INTERNAL_WITHHELD) == 2
            else:
                assert "false" not in text  # no internal comment, not even its visibility flag
        elif (tool, tenant) != ("billing__get_balance", FIELDS):  # FIELDS drops the balance
            assert result.content  # every read returned something to search


async def test_get_ticket_hands_over_internal_comments_once_opted_in(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    reply, secret = make_canary("reply"), make_canary("internal")
    _plant_internal(router, reply, secret)
    result = await _invoke(nc, KEEP, "desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})
    text = result.as_json()
    assert text.count(secret) == 2
    assert reply in text
    assert CARD not in text
    assert CARD.replace(" ", "") not in text
    assert "[card ending 1111]" in text
    publics = sorted(c["public"] for c in result.content["comments"])
    assert publics == [False, False, True]


@pytest.mark.parametrize(
    ("tenant", "shown"), [(DEFAULT, False), (FIELDS, False), (MASK, False), (KEEP, True)]
)
async def test_writes_answer_without_the_internal_record_unless_opted_in(
    nc: NexoraConnect, router: respx.MockRouter, tenant: str, shown: bool
) -> None:
    comment_secret, note_secret = make_canary("comment"), make_canary("note")
    zendesk_cases.update_ticket_route(router, comment_secret)
    hubspot_cases.note_route(router, note_secret)

    comment = await _invoke(
        nc, tenant, "desk__add_comment", {"ticket_id": zendesk_cases.TICKET_ID, "body": "x", "public": False}
    )
    # HubSpot's answer does not repeat the body; the connector's Note carries the one sent.
    note = await _invoke(nc, tenant, "crm__create_note", {"contact_id": "51", "body": f"VIP {note_secret}"})

    assert comment.ok
    assert note.ok
    assert comment.content["id"] == zendesk_cases.TICKET_ID  # the write is confirmed on the ticket
    assert (comment_secret in comment.as_json()) is shown
    assert (note_secret in note.as_json()) is shown
    if tenant == MASK:
        assert note.content["body"] == INTERNAL_WITHHELD
    elif not shown:
        assert note.content == {"status": "done"}
        assert "comments" not in comment.content


async def test_get_balance_follows_the_rule_for_the_customers_balance(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    case = next(c for c in CASES_OF["billing"] if c.operation == "get_balance")
    case.mock(router, make_canary("name"))
    plain = await _invoke(nc, DEFAULT, "billing__get_balance", dict(case.arguments))
    dropped = await _invoke(nc, FIELDS, "billing__get_balance", dict(case.arguments))
    assert set(plain.content) == {"amount", "currency"}
    assert dropped.ok
    assert dropped.content is None
    assert plain.content["amount"] not in dropped.as_json()


# --- the MCP server's call path ------------------------------------------------------------------

pytest.importorskip("mcp.server.lowlevel")

from mcp import Client  # noqa: E402 - the optional extra is checked first

from sdk.mcp_server import build_server  # noqa: E402


async def _mcp_texts(conv: Conversation, note_body: str) -> list[str]:
    texts = []
    async with Client(build_server(conv)) as client:
        for tool, arguments in (
            ("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID}),
            ("desk__add_comment", {"ticket_id": zendesk_cases.TICKET_ID, "body": "x", "public": False}),
            ("crm__create_note", {"contact_id": "51", "body": note_body}),
        ):
            result = await client.call_tool(tool, arguments)
            assert result.is_error is False
            assert len(result.content) == 1
            assert result.content[0].type == "text"
            texts.append(result.content[0].text)
    return texts


@pytest.mark.parametrize(("tenant", "shown"), [(DEFAULT, False), (KEEP, True)])
async def test_the_mcp_server_withholds_internal_records_unless_opted_in(
    nc: NexoraConnect, router: respx.MockRouter, tenant: str, shown: bool
) -> None:
    reply, secret = make_canary("reply"), make_canary("internal")
    _plant_internal(router, reply, secret)
    comment_secret, note_secret = make_canary("comment"), make_canary("note")
    zendesk_cases.update_ticket_route(router, comment_secret)
    hubspot_cases.note_route(router, note_secret)

    async with nc.conversation(tenant=tenant, conversation_id="call-mcp") as conv:
        ticket, comment, note = await _mcp_texts(conv, f"VIP {note_secret}")

    assert reply in ticket
    for text, canary in ((ticket, secret), (comment, comment_secret), (note, note_secret)):
        assert (canary in text) is shown
    assert CARD.replace(" ", "") not in ticket.replace(" ", "")
    if not shown:
        assert json.loads(note) == {"status": "done"}
