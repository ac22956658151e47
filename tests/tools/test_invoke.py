"""Invoking tools: redacted results, arguments the model got wrong, names it made up, and hangup."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
import respx

from sdk import (
    AuditDecision,
    Conversation,
    ConversationClosedError,
    DeadlineExceededError,
    InvalidArgumentsError,
    MemoryAuditSink,
    NexoraConnect,
    ScopeDeniedError,
    UnknownOperationError,
    VendorNotFoundError,
    VendorServerError,
)
from sdk._call import ToolResult, invoke_tool, scope_of, tool_definitions
from sdk.testing import make_canary
from tests.connectors import hubspot_cases, stripe_cases, zendesk_cases
from tests.tools.conftest import MASKING, READ_ONLY, SCOPED, UNGRANTED_WRITES, luhn_card


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# --- good calls ----------------------------------------------------------------------------------


async def test_result_is_redacted_card_keeps_only_last_four(
    scoped: Conversation, router: respx.MockRouter
) -> None:
    card = luhn_card("4")
    spaced = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    comments = zendesk_cases.fixture("comments_page2")
    comments["comments"][0]["plain_body"] = f"Please use my card {spaced} for the upgrade."
    router.get(zendesk_cases.COMMENTS).respond(200, json=comments)
    zendesk_cases.show_ticket_route(router, make_canary("subject"))

    result = await invoke_tool(scope_of(scoped), "desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})

    assert result.ok
    text = result.as_json()
    assert card not in digits(text)
    assert card[:12] not in digits(text)
    body = result.content["comments"][0]["body"]
    assert body.startswith("Please use my card ")
    assert body.endswith(" for the upgrade.")
    assert card[-4:] in body
    assert card[:6] not in digits(body)


async def test_the_tenants_redaction_policy_applies(nc: NexoraConnect, router: respx.MockRouter) -> None:
    name = make_canary("firstname")
    hubspot_cases.contact_route(router, name)
    results = {}
    for tenant in (READ_ONLY, MASKING):
        async with nc.conversation(tenant=tenant, conversation_id="call-policy-1") as conv:
            results[tenant] = await invoke_tool(scope_of(conv), "crm__get_contact", {"contact_id": "51"})
    assert name in results[READ_ONLY].as_json()  # the default policy keeps names for the greeting
    assert name not in results[MASKING].as_json()
    assert results[MASKING].content["id"] == results[READ_ONLY].content["id"] == "51"


async def test_arguments_as_json_text_and_results_come_from_the_cache_the_second_time(
    read_only: Conversation, router: respx.MockRouter
) -> None:
    route = hubspot_cases.search_route(router, make_canary("firstname"))
    arguments = json.dumps({"email": hubspot_cases.CALLER_EMAIL})

    first = await invoke_tool(scope_of(read_only), "crm__find_contacts", arguments)
    second = await invoke_tool(
        scope_of(read_only), "crm__find_contacts", {"email": hubspot_cases.CALLER_EMAIL}
    )

    assert first.ok
    assert isinstance(first.content, list)
    assert first.content
    assert first.content[0]["source"] == "crm"
    assert second.content == first.content
    assert route.call_count == 1
    assert read_only.cached_records >= 1


async def test_null_for_an_argument_with_a_default_means_the_default(
    read_only: Conversation, router: respx.MockRouter
) -> None:
    route = router.get(f"{stripe_cases.BASE}/v1/subscriptions").respond(
        200, json=stripe_cases.fixture("subscriptions")
    )
    result = await invoke_tool(
        scope_of(read_only),
        "billing__list_subscriptions",
        {"customer_id": stripe_cases.CUSTOMER_ID, "limit": None},
    )
    assert result.ok
    assert route.call_count == 1


async def test_every_call_that_names_an_operation_is_audited(
    read_only: Conversation, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    hubspot_cases.contact_route(router, make_canary("firstname"))
    await invoke_tool(scope_of(read_only), "crm__get_contact", {"contact_id": "51"})
    with pytest.raises(InvalidArgumentsError):
        await invoke_tool(scope_of(read_only), "crm__get_contact", {"contact_id": 51})
    outcomes = [(r.operation, r.decision, r.outcome) for r in audit.records]
    assert outcomes == [
        ("get_contact", AuditDecision.ALLOWED, "ok"),
        ("get_contact", AuditDecision.ALLOWED, "InvalidArgumentsError"),
    ]


# --- bad arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "names"),
    [
        pytest.param("desk__get_ticket", {"ticket_id": 35437}, ["ticket_id"], id="wrong-type"),
        pytest.param("billing__list_invoices", {"customer_id": "cus_1", "limit": "{v}"}, ["limit"], id="int"),
        pytest.param(
            "billing__list_invoices", {"customer_id": "cus_1", "limit": 1000}, ["limit"], id="range"
        ),
        pytest.param("desk__get_ticket", {}, ["ticket_id", "required"], id="missing-required"),
        pytest.param(
            "desk__get_ticket", {"ticket_id": "{v}/../x"}, ["ticket_id", "pattern"], id="path-trick"
        ),
        pytest.param(
            "desk__get_ticket", {"ticket_id": "1", "note": "{v}"}, ["note", "not permitted"], id="extra"
        ),
        pytest.param("crm__find_contacts", {"email": "{v}"}, ["email"], id="not-an-email"),
    ],
)
async def test_bad_arguments_name_fields_and_never_echo_values(
    read_only: Conversation,
    router: respx.MockRouter,
    audit: MemoryAuditSink,
    tool: str,
    arguments: dict[str, object],
    names: list[str],
) -> None:
    value = make_canary("value").replace("-", "")
    planted = {k: v.format(v=value) if isinstance(v, str) else v for k, v in arguments.items()}

    with pytest.raises(InvalidArgumentsError) as caught:
        await invoke_tool(scope_of(read_only), tool, planted)

    message = str(caught.value)
    for name in names:
        assert name in message
    assert value not in message
    rendered = ToolResult.from_error(caught.value, tool=tool)
    assert rendered.error_kind == "invalid_arguments"
    assert value not in rendered.as_json()
    assert len(router.calls) == 0
    assert value not in "".join(r.model_dump_json() for r in audit.records)


async def test_an_extra_argument_whose_name_looks_like_data_is_not_repeated(read_only: Conversation) -> None:
    card = luhn_card("5")
    with pytest.raises(InvalidArgumentsError) as caught:
        await invoke_tool(
            scope_of(read_only), "desk__get_ticket", {"ticket_id": "1", card: "x", "a b@c": "y"}
        )
    message = str(caught.value)
    assert card not in digits(message)
    assert "a b@c" not in message
    assert "(unexpected argument 1)" in message
    assert "(unexpected argument 2)" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('{"ticket_id": "{v}"', "not valid JSON", id="truncated"),
        pytest.param("{'ticket_id': '{v}'}", "not valid JSON", id="single-quotes"),
        pytest.param('["{v}"]', "JSON object", id="array"),
        pytest.param('"{v}"', "JSON object", id="string"),
    ],
)
async def test_malformed_json_arguments_are_refused_without_echo(
    read_only: Conversation, router: respx.MockRouter, text: str, expected: str
) -> None:
    value = make_canary("value")
    with pytest.raises(InvalidArgumentsError, match=expected) as caught:
        await invoke_tool(scope_of(read_only), "desk__get_ticket", text.replace("{v}", value))
    assert value not in str(caught.value)
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None
    assert len(router.calls) == 0


async def test_oversized_json_arguments_are_refused_before_parsing(read_only: Conversation) -> None:
    with pytest.raises(InvalidArgumentsError, match="longer than"):
        await invoke_tool(scope_of(read_only), "desk__get_ticket", '{"ticket_id": "' + "9" * 300_000 + '"}')


async def test_empty_arguments_mean_no_arguments(read_only: Conversation) -> None:
    for empty in ("", "  ", None):
        with pytest.raises(InvalidArgumentsError, match="ticket_id"):
            await invoke_tool(scope_of(read_only), "desk__get_ticket", empty)


# --- names that are not tools --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["crm__delete_contact", "crm", "crm__find_contacts ", "", "hubspot__get_contact"]
)
async def test_unknown_tool(read_only: Conversation, router: respx.MockRouter, name: str) -> None:
    with pytest.raises(UnknownOperationError):
        await invoke_tool(scope_of(read_only), name, {})
    assert len(router.calls) == 0


async def test_an_unknown_name_that_looks_like_data_is_not_repeated(read_only: Conversation) -> None:
    card = luhn_card("4")
    with pytest.raises(UnknownOperationError) as caught:
        await invoke_tool(scope_of(read_only), f"card {card}", {})
    assert card not in str(caught.value)
    assert card not in ToolResult.from_error(caught.value, tool=f"card {card}").as_json()


@pytest.fixture(params=[READ_ONLY, SCOPED])
async def either_tenant(request: pytest.FixtureRequest, nc: NexoraConnect) -> AsyncIterator[Conversation]:
    async with nc.conversation(tenant=request.param, conversation_id="call-either-1") as conv:
        yield conv


async def test_forged_ungranted_write_is_denied_audited_and_never_sent(
    either_tenant: Conversation, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    conv = either_tenant
    canary = make_canary("forged")
    zendesk_cases.create_ticket_route(router, canary)
    stripe_cases.CASES[-1].mock(router, canary)  # resend_invoice
    arguments = {
        "desk__create_ticket": {"subject": "Refund", "body": canary, "email": zendesk_cases.CALLER_EMAIL},
        "billing__resend_invoice": {"invoice_id": stripe_cases.INVOICE_ID},
    }
    offered = {d["name"] for d in tool_definitions(scope_of(conv), "anthropic")}

    for name in sorted(UNGRANTED_WRITES):
        assert name not in offered
        with pytest.raises(ScopeDeniedError) as caught:
            await invoke_tool(scope_of(conv), name, arguments[name])
        unknown = ToolResult.from_error(UnknownOperationError("x"), tool=name)
        assert ToolResult.from_error(caught.value, tool=name) == unknown

    assert len(router.calls) == 0
    denied = [r for r in audit.records if r.decision is AuditDecision.DENIED]
    assert sorted(r.operation for r in denied) == ["create_ticket", "resend_invoice"]


async def test_forged_write_with_bad_arguments_reveals_no_fields(
    read_only: Conversation, router: respx.MockRouter
) -> None:
    for arguments in ({}, {"subject": 1}, "not json"):
        with pytest.raises(ScopeDeniedError) as caught:
            await invoke_tool(scope_of(read_only), "desk__create_ticket", arguments)
        rendered = ToolResult.from_error(caught.value, tool="desk__create_ticket").as_json()
        assert "subject" not in rendered
        assert "body" not in rendered
    assert len(router.calls) == 0


# --- hangup ----------------------------------------------------------------------------------------


async def test_invoke_after_hangup_raises(read_only: Conversation, router: respx.MockRouter) -> None:
    hubspot_cases.contact_route(router, make_canary("firstname"))
    await invoke_tool(scope_of(read_only), "crm__get_contact", {"contact_id": "51"})
    await read_only.hangup()
    with pytest.raises(ConversationClosedError) as caught:
        await invoke_tool(scope_of(read_only), "crm__get_contact", {"contact_id": "51"})
    assert ToolResult.from_error(caught.value).error_kind == "closed"
    assert read_only.cached_records == 0


# --- rendering for the model -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (
            VendorNotFoundError(
                "contact missing", method="GET", path="/crm/v3/objects/contacts/51", status=404
            ),
            "not_found",
        ),
        (
            VendorServerError("down", method="GET", path="/api/v2/search", status=503, request_id="r-1"),
            "unavailable",
        ),
        (DeadlineExceededError("get_ticket did not finish"), "timeout"),
        (
            ScopeDeniedError("tickets:write not granted to tenant 'acme'", scope="tickets:write"),
            "unknown_tool",
        ),
        (RuntimeError("boom /secret/path"), "failed"),
    ],
)
def test_errors_render_without_internals(error: BaseException, kind: str) -> None:
    rendered = ToolResult.from_error(error, tool="desk__get_ticket")
    assert not rendered.ok
    assert rendered.error_kind == kind
    text = rendered.as_json()
    for internal in ("/crm", "/api", "acme", "tickets:write", "r-1", "secret", "503", "404"):
        assert internal not in text
    assert json.loads(text) == {"error": rendered.error, "kind": kind}


def test_provider_messages() -> None:
    ok = ToolResult(ok=True, content={"id": "1"})
    failed = ToolResult.from_error(DeadlineExceededError("late"))
    assert ok.to_message("openai", "call_1") == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"id":"1"}',
    }
    assert ok.to_message("anthropic", "tu_1") == {
        "type": "tool_result",
        "tool_use_id": "tu_1",
        "content": '{"id":"1"}',
    }
    assert failed.to_message("anthropic", "tu_2")["is_error"] is True


def test_repr_does_not_show_the_content() -> None:
    value = make_canary("name")
    assert value not in repr(ToolResult(ok=True, content={"name": value}))


async def test_a_spent_budget_is_a_timeout_the_model_can_read(
    read_only: Conversation, router: respx.MockRouter
) -> None:
    hubspot_cases.contact_route(router, make_canary("firstname"))
    with pytest.raises(DeadlineExceededError) as caught:
        await invoke_tool(scope_of(read_only), "crm__get_contact", {"contact_id": "51"}, budget=0.0)
    assert ToolResult.from_error(caught.value).error_kind == "timeout"
    assert read_only.cached_records == 0


async def test_conversation_methods_delegate_to_the_tool_layer(read_only: Conversation) -> None:
    """conv.tools() and conv.invoke() are the public way in; they reach the same functions."""
    assert read_only.tools("anthropic") == tool_definitions(scope_of(read_only), "anthropic")
    assert read_only.tools() == tool_definitions(scope_of(read_only), "openai")
    with pytest.raises(ScopeDeniedError):
        await read_only.invoke("desk__create_ticket", {"subject": "Refund", "body": "x"})
