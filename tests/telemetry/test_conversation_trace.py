"""One trace per conversation: the conversation's span over its customer context, tool calls,
operations and HTTP requests, with no customer value or key anywhere in it.

The three shipped connectors (HubSpot, Zendesk, Stripe) answer from respx routes; spans go to the
in-memory exporter of ``tests/telemetry/conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import respx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from sdk import ScopeDeniedError, UnknownOperationError
from sdk.testing import issued_canaries, make_canary
from tests.connectors import hubspot_cases as hubspot
from tests.connectors import stripe_cases as stripe
from tests.runtime.support import BILLING, CALLER_E164, CALLER_PHONE, CRM, TENANT, TICKETS, Vendors, runtime
from tests.telemetry.http.scan import leaks

pytestmark = pytest.mark.usefixtures("tracer_provider")

OPERATION_ATTRIBUTES = frozenset(
    {
        "nexora.tenant",
        "nexora.integration",
        "nexora.connector",
        "nexora.operation",
        "nexora.scope",
        "nexora.region",
        "nexora.decision",
        "nexora.outcome",
        "nexora.http_status",
        "nexora.credential_version",
        "nexora.cache_hit",
        "error.type",
    }
)
HTTP_ATTRIBUTES = frozenset(
    {
        "http.request.method",
        "server.address",
        "server.port",
        "url.template",
        "http.response.status_code",
        "error.type",
        "http.request.resend_count",
    }
)
CONVERSATION_ATTRIBUTES = frozenset(
    {"nexora.tenant", "nexora.conversation_id", "nexora.region", "nexora.end_reason"}
)
CONTEXT_ATTRIBUTES = frozenset({"nexora.tenant", "nexora.sources", "nexora.complete", "error.type"})
SOURCE_ATTRIBUTES = frozenset(
    {"nexora.integration", "nexora.connector", "nexora.category", "nexora.source_status", "error.type"}
)
TOOL_ATTRIBUTES = frozenset(
    {
        "gen_ai.operation.name",
        "gen_ai.tool.type",
        "gen_ai.tool.name",
        "nexora.integration",
        "nexora.operation",
        "error.type",
    }
)


def allowed_attributes(span: ReadableSpan) -> frozenset[str]:
    """What each kind of span the SDK makes may carry; an unknown kind may carry nothing."""
    if span.kind is SpanKind.CLIENT:
        return HTTP_ATTRIBUTES
    if span.name.startswith("nexora."):
        return OPERATION_ATTRIBUTES
    if span.name == "conversation":
        return CONVERSATION_ATTRIBUTES
    if span.name == "customer_context":
        return CONTEXT_ATTRIBUTES
    if span.name.startswith("customer_context "):
        return SOURCE_ATTRIBUTES
    if span.name.startswith("execute_tool"):
        return TOOL_ATTRIBUTES
    return frozenset()


@pytest.fixture
def vendors() -> Vendors:
    return Vendors(respx.MockRouter(assert_all_called=False, assert_all_mocked=True)).mount()


def named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    (found,) = [span for span in spans if span.name == name]
    return found


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        span for span in spans if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


def in_one_trace(spans: Sequence[ReadableSpan]) -> int:
    trace_ids = {span.context.trace_id for span in spans if span.context is not None}
    assert len(trace_ids) == 1, [span.name for span in spans]
    (trace_id,) = trace_ids
    return trace_id


async def test_a_whole_call_is_one_trace_under_its_conversation_span(
    vendors: Vendors, exporter: InMemorySpanExporter
) -> None:
    async with (
        runtime(vendors.router) as nc,
        nc.conversation(tenant=TENANT, conversation_id="call-7f3a") as conv,
    ):
        context = await conv.customer_context(phone=CALLER_PHONE)
        assert context.complete
        result = await conv.invoke(f"{CRM}__get_contact", {"contact_id": "51"})
        assert result.ok
        assert "conversation" not in {span.name for span in exporter.get_finished_spans()}
    spans = exporter.get_finished_spans()
    in_one_trace(spans)

    root = named(spans, "conversation")
    assert root.parent is None
    assert dict(root.attributes or {}) == {
        "nexora.tenant": TENANT,
        "nexora.conversation_id": "call-7f3a",
        "nexora.region": "nz",
        "nexora.end_reason": "hangup",
    }
    assert {span.name for span in children(spans, root)} == {
        "customer_context",
        f"execute_tool {CRM}__get_contact",
    }

    fan_out = named(spans, "customer_context")
    assert dict(fan_out.attributes or {}) == {
        "nexora.tenant": TENANT,
        "nexora.sources": 3,
        "nexora.complete": True,
    }
    sources = children(spans, fan_out)
    assert sorted(span.name for span in sources) == [
        "customer_context hubspot",
        "customer_context stripe",
        "customer_context zendesk",
    ]
    for source in sources:
        attributes = dict(source.attributes or {})
        assert attributes["nexora.source_status"] == "ok"
        assert attributes["nexora.integration"] in {CRM, TICKETS, BILLING}
        operations = children(spans, source)
        assert operations, source.name
        assert all(span.name.startswith(f"nexora.{attributes['nexora.connector']}.") for span in operations)
        for operation in operations:
            assert all(http.kind is SpanKind.CLIENT for http in children(spans, operation))

    tool = named(spans, f"execute_tool {CRM}__get_contact")
    assert dict(tool.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.name": f"{CRM}__get_contact",
        "nexora.integration": CRM,
        "nexora.operation": "get_contact",
    }
    (under_tool,) = children(spans, tool)
    assert under_tool.name == "nexora.hubspot.get_contact"


async def test_the_conversation_span_ends_at_hangup_and_at_a_wipe(
    vendors: Vendors, exporter: InMemorySpanExporter
) -> None:
    async with runtime(vendors.router) as nc:
        hung_up = nc.conversation(tenant=TENANT, conversation_id="call-1")
        nc.conversation(tenant=TENANT, conversation_id="call-2", max_lifetime=0.01)
        nc.conversation(tenant=TENANT, conversation_id="call-3")  # still open at shutdown
        assert exporter.get_finished_spans() == ()
        await hung_up.hangup()
        await asyncio.sleep(0.05)
        reasons = {
            dict(span.attributes or {})["nexora.conversation_id"]: dict(span.attributes or {})[
                "nexora.end_reason"
            ]
            for span in exporter.get_finished_spans()
        }
        assert reasons == {"call-1": "hangup", "call-2": "max_lifetime"}
    ended = [span for span in exporter.get_finished_spans() if span.name == "conversation"]
    assert len(ended) == 3
    last = dict(ended[-1].attributes or {})
    assert (last["nexora.conversation_id"], last["nexora.end_reason"]) == ("call-3", "shutdown")
    # No operation ran: the region is not known, and nothing else was traced.
    assert all("nexora.region" not in (span.attributes or {}) for span in ended)


async def test_a_use_under_another_trace_joins_the_conversation_and_one_in_it_nests_where_it_is(
    vendors: Vendors, exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    agent = tracer_provider.get_tracer("voice-agent")
    async with runtime(vendors.router) as nc:
        with agent.start_as_current_span("agent-call") as call_span:
            conv = nc.conversation(tenant=TENANT, conversation_id="call-1")
            with agent.start_as_current_span("agent-turn") as turn:
                await conv.call(CRM, "get_contact", contact_id="51")
        with agent.start_as_current_span("webhook-request") as unrelated:
            await conv.call(CRM, "get_account", account_id="9001")
        await conv.hangup()
    spans = exporter.get_finished_spans()
    root = named(spans, "conversation")
    assert root.parent is not None
    assert root.parent.span_id == call_span.get_span_context().span_id
    in_turn = named(spans, "nexora.hubspot.get_contact")
    assert in_turn.parent is not None
    assert in_turn.parent.span_id == turn.get_span_context().span_id
    elsewhere = named(spans, "nexora.hubspot.get_account")
    assert elsewhere.parent is not None
    assert elsewhere.parent.span_id == root.context.span_id
    assert elsewhere.context.trace_id != unrelated.get_span_context().trace_id
    # The caller's own span is current again once each call returns.
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_failed_tool_calls_say_their_error_class_and_never_the_models_text(
    vendors: Vendors, exporter: InMemorySpanExporter
) -> None:
    made_up = make_canary("tool")
    async with runtime(vendors.router) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        with pytest.raises(UnknownOperationError):
            await conv.invoke(f"{CRM}__{made_up}", {})
        with pytest.raises(ScopeDeniedError):
            await conv.invoke(f"{CRM}__create_note", {"contact_id": "51", "body": made_up})
    spans = exporter.get_finished_spans()
    unknown = named(spans, "execute_tool")
    assert dict(unknown.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.type": "function",
        "error.type": "UnknownOperationError",
    }
    assert unknown.status.status_code is StatusCode.ERROR
    denied = named(spans, f"execute_tool {CRM}__create_note")
    assert dict(denied.attributes or {})["error.type"] == "ScopeDeniedError"
    assert [(event.name, dict(event.attributes or {})) for event in denied.events] == [
        ("exception", {"exception.type": "ScopeDeniedError"})
    ]
    assert leaks(spans, [made_up]) == []


async def test_a_source_that_times_out_is_a_failed_span_under_the_context(
    vendors: Vendors, exporter: InMemorySpanExporter
) -> None:
    async def never(request: object) -> object:
        await asyncio.sleep(5)
        raise AssertionError("unreachable")

    vendors.routes["stripe_search"].mock(side_effect=never)
    async with runtime(vendors.router) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        context = await conv.customer_context(phone=CALLER_PHONE, budget=0.2)
    assert not context.complete
    spans = exporter.get_finished_spans()
    assert dict(named(spans, "customer_context").attributes or {})["nexora.complete"] is False
    source = dict(named(spans, "customer_context stripe").attributes or {})
    assert (source["nexora.source_status"], source["error.type"]) == ("timed_out", "DeadlineExceededError")
    assert dict(named(spans, "customer_context hubspot").attributes or {})["nexora.source_status"] == "ok"


async def test_no_customer_value_or_key_reaches_any_span_of_a_whole_call(
    vendors: Vendors, exporter: InMemorySpanExporter
) -> None:
    """Canaries in every vendor answer, the key, the model's arguments and tool names; then a scan."""
    key, first, company, customer, note, typed, tool = (
        make_canary(p) for p in ("key", "first", "company", "cus", "note", "typed", "tool")
    )
    router = vendors.router
    vendors.routes["hubspot_search"].respond(
        200,
        json=hubspot.search_response(hubspot.contact_hit("51", firstname=first, mobilephone=CALLER_PHONE)),
    )
    contact_body = hubspot.fixture("contact")
    contact_body["properties"]["firstname"] = first
    vendors.routes["hubspot_contact"].respond(200, json=contact_body)
    company_body = hubspot.fixture("company")
    company_body["properties"]["name"] = company
    vendors.routes["hubspot_company"].respond(200, json=company_body)
    stripe_hit = stripe.fixture("customers_search_page1")["data"][0]
    stripe_hit["name"] = customer
    vendors.routes["stripe_search"].respond(200, json=stripe.search_page([stripe_hit], None))

    async with (
        runtime(router, key=key) as nc,
        nc.conversation(tenant=TENANT, conversation_id="call-1") as conv,
    ):
        context = await conv.customer_context(phone=CALLER_PHONE, email=f"{typed}@example.test")
        assert context.contact is not None
        assert context.contact.name is not None
        assert first in context.contact.name
        found = await conv.invoke(f"{CRM}__find_contacts", {"email": f"{typed}@example.test"})
        assert found.ok
        with pytest.raises(UnknownOperationError):
            await conv.invoke(tool, {"body": note})
        with pytest.raises(ScopeDeniedError):
            await conv.invoke(f"{CRM}__create_note", f'{{"contact_id": "51", "body": "{note}"}}')
    spans = exporter.get_finished_spans()
    in_one_trace(spans)
    assert len(spans) > 20
    for span in spans:
        assert set(span.attributes or {}) <= allowed_attributes(span), span.name
    planted = [key, first, company, customer, note, typed, tool]
    assert set(planted) <= issued_canaries()
    assert leaks(spans, sorted(issued_canaries())) == []
    # The caller's identity, in each form it was given or sent in, is customer data too.
    assert leaks(spans, [CALLER_PHONE, CALLER_E164, "5550100", "example.test", "aroha"]) == []
    assert all("Traceback" not in span.to_json() for span in spans)
