"""One OpenTelemetry span per operation, saying what the audit record says and nothing more."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, ClassVar

import httpx
import pytest
import respx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

import sdk._dispatch
import sdk._telemetry
from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    ConfigurationError,
    Contact,
    MemoryAuditSink,
    NexoraConnect,
    ScopeDeniedError,
    VendorNotFoundError,
    VendorPayloadError,
)
from sdk.testing import MemoryCredentialSource, issued_canaries, make_canary
from tests.connectors import hubspot_cases as hs

pytestmark = pytest.mark.usefixtures("tracer_provider")

CONTACT = "/crm/v3/objects/contacts/51"

ALLOWED_ATTRIBUTES = {
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


async def call(nc: NexoraConnect, integration: str, operation: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        return await conv.call(integration, operation, **arguments)


CONVERSATION_ATTRIBUTES = frozenset(
    {"nexora.tenant", "nexora.conversation_id", "nexora.region", "nexora.end_reason"}
)
"""The conversation span: an opaque call id and closed-vocabulary words only (sdk/_telemetry.py)."""

HTTP_CLIENT_ATTRIBUTES = frozenset(
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
"""What the SDK's HTTP client spans may carry: never url.full, a path or a query (sdk/_http_spans.py)."""


def operation_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """The SDK's operation spans; its HTTP client spans (tests/telemetry/http) are children of them."""
    return [span for span in exporter.get_finished_spans() if span.name.startswith("nexora.")]


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = operation_spans(exporter)
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


def assert_failed_by_type_only(span: ReadableSpan, error: str) -> None:
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == error
    assert span.attributes is not None
    assert span.attributes["error.type"] == error
    assert [(event.name, dict(event.attributes or {})) for event in span.events] == [
        ("exception", {"exception.type": error})
    ]


async def test_an_operation_runs_in_one_internal_span_with_the_audit_fields(
    nc: NexoraConnect, router: respx.MockRouter, exporter: InMemorySpanExporter, audit: MemoryAuditSink
) -> None:
    router.get(CONTACT).respond(200, json=hs.fixture("contact"))
    await call(nc, hs.READ, "get_contact", contact_id="51")

    span = only_span(exporter)
    assert span.name == "nexora.hubspot.get_contact"
    assert span.kind is SpanKind.INTERNAL
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "nexora-connect"
    assert dict(span.attributes or {}) == {
        "nexora.tenant": "acme",
        "nexora.integration": hs.READ,
        "nexora.connector": "hubspot",
        "nexora.operation": "get_contact",
        "nexora.scope": "contacts:read",
        "nexora.region": "nz",
        "nexora.decision": "allowed",
        "nexora.outcome": "ok",
        "nexora.http_status": 200,
        "nexora.credential_version": 1,
        "nexora.cache_hit": False,
    }
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    (record,) = audit.records
    assert (record.outcome, record.http_status, record.credential_version) == ("ok", 200, 1)


async def test_the_span_is_current_while_the_vendor_is_called_and_nests_under_the_callers(
    nc: NexoraConnect,
    router: respx.MockRouter,
    exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
) -> None:
    seen: list[trace.SpanContext] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(trace.get_current_span().get_span_context())
        return httpx.Response(200, json=hs.fixture("contact"))

    router.get(CONTACT).mock(side_effect=vendor)
    with tracer_provider.get_tracer("voice-agent").start_as_current_span("agent-turn") as turn:
        await call(nc, hs.READ, "get_contact", contact_id="51")
        # Restored once the operation is over.
        assert trace.get_current_span() is turn

    operation = next(span for span in exporter.get_finished_spans() if span.name.startswith("nexora."))
    assert operation.context is not None
    assert seen == [operation.context]
    assert operation.parent is not None
    assert operation.parent.span_id == turn.get_span_context().span_id


async def test_a_cache_hit_is_its_own_span_without_an_http_status(
    nc: NexoraConnect, router: respx.MockRouter, exporter: InMemorySpanExporter
) -> None:
    router.get(CONTACT).respond(200, json=hs.fixture("contact"))
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        first = await conv.call(hs.READ, "get_contact", contact_id="51")
        second = await conv.call(hs.READ, "get_contact", contact_id="51")
    assert first == second

    fetched, cached = operation_spans(exporter)
    assert fetched.attributes is not None
    assert cached.attributes is not None
    assert (fetched.attributes["nexora.cache_hit"], fetched.attributes["nexora.outcome"]) == (False, "ok")
    assert (cached.attributes["nexora.cache_hit"], cached.attributes["nexora.outcome"]) == (True, "cached")
    assert "nexora.http_status" not in cached.attributes
    assert cached.status.status_code is StatusCode.UNSET


async def test_a_denied_operation_has_a_span_saying_denied(
    nc: NexoraConnect, router: respx.MockRouter, exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(ScopeDeniedError):
        await call(nc, hs.READ, "create_note", contact_id="51", body="Caller wants a refund")

    span = only_span(exporter)
    assert span.name == "nexora.hubspot.create_note"
    assert span.attributes is not None
    assert span.attributes["nexora.decision"] == "denied"
    assert span.attributes["nexora.scope"] == "notes:write"
    assert span.attributes["nexora.outcome"] == "ScopeDeniedError"
    assert "nexora.http_status" not in span.attributes
    assert "nexora.credential_version" not in span.attributes
    assert_failed_by_type_only(span, "ScopeDeniedError")
    assert len(router.calls) == 0


async def test_a_vendor_error_records_its_status_and_class_only(
    nc: NexoraConnect, router: respx.MockRouter, exporter: InMemorySpanExporter
) -> None:
    router.get(CONTACT).respond(404, json=hs.fixture("error_not_found"))
    with pytest.raises(VendorNotFoundError):
        await call(nc, hs.READ, "get_contact", contact_id="51")

    span = only_span(exporter)
    assert span.attributes is not None
    assert span.attributes["nexora.http_status"] == 404
    assert span.attributes["nexora.decision"] == "allowed"
    assert_failed_by_type_only(span, "VendorNotFoundError")


# --- no customer data, no secret -----------------------------------------------------------------


class _LeakyHubSpot(HubSpotConnector):
    """A buggy connector that raises a builtin error quoting the customer's record."""

    leaked: ClassVar[str] = ""

    async def get_account(self, account_id: str) -> Any:
        raise RuntimeError(f"could not map company {self.leaked}")


def all_span_text(spans: Sequence[ReadableSpan]) -> str:
    """Everything an exporter would send: names, attributes, events, status, links, resource."""
    return "\n".join(span.to_json() for span in spans)


async def test_no_customer_value_or_key_reaches_any_span(
    router: respx.MockRouter,
    credentials: MemoryCredentialSource,
    canary_key: str,
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, email, broken_date, vendor_message, searched, bug = (
        make_canary(p) for p in ("n", "e", "d", "m", "s", "b")
    )
    contact = hs.fixture("contact")
    contact["properties"].update(firstname=name, email=f"{email}@example.test")
    malformed = hs.fixture("contact")
    malformed["createdAt"] = broken_date
    not_found = hs.fixture("error_not_found")
    not_found["message"] = vendor_message
    router.get(CONTACT).mock(
        side_effect=[
            httpx.Response(200, json=contact),
            httpx.Response(200, json=malformed),
            httpx.Response(404, json=not_found),
        ]
    )
    router.post(hs.SEARCH).respond(200, json=hs.search_response(hs.search_hit()))
    monkeypatch.setattr(_LeakyHubSpot, "leaked", bug)

    async with hs.runtime(router, credentials, connector=_LeakyHubSpot) as nc:
        async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
            got = await conv.call(hs.READ, "get_contact", contact_id="51")
            assert isinstance(got, Contact)
            assert got.name is not None
            assert name in got.name
            await conv.call(hs.READ, "find_contacts", email=f"{searched}@example.test")
        for error in (VendorPayloadError, VendorNotFoundError):
            async with nc.conversation(tenant="acme", conversation_id="call-2") as conv:
                with pytest.raises(error):
                    await conv.call(hs.READ, "get_contact", contact_id="51")
        async with nc.conversation(tenant="acme", conversation_id="call-3") as conv:
            with pytest.raises(RuntimeError, match=bug):
                await conv.call(hs.READ, "get_account", account_id="9001")
            with pytest.raises(ScopeDeniedError):
                await conv.call(hs.READ, "create_note", contact_id="51", body=f"{name} called")

    spans = exporter.get_finished_spans()
    assert [span.attributes["nexora.outcome"] for span in operation_spans(exporter) if span.attributes] == [
        "ok",
        "ok",
        "VendorPayloadError",
        "VendorNotFoundError",
        "RuntimeError",
        "ScopeDeniedError",
    ]
    for span in spans:
        if span.name == "conversation":
            allowed = CONVERSATION_ATTRIBUTES
        elif span.name.startswith("nexora."):
            allowed = ALLOWED_ATTRIBUTES
        else:
            allowed = HTTP_CLIENT_ATTRIBUTES
        assert set(span.attributes or {}) <= allowed, span.name
    text = all_span_text(spans)
    planted = {name, email, broken_date, vendor_message, searched, bug, canary_key}
    assert planted <= issued_canaries()
    leaked = [canary for canary in issued_canaries() if canary in text]
    assert leaked == []
    # The domain of the searched address is not a canary, but is customer data all the same.
    assert "example.test" not in text
    assert "Traceback" not in text


# --- without OpenTelemetry ---------------------------------------------------------------------


def _telemetry_without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of sdk._telemetry imported as if the `otel` extra were not installed."""
    for name in [module for module in sys.modules if module.split(".")[0] == "opentelemetry"]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules makes the import fail
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    spec = importlib.util.spec_from_file_location("_telemetry_without_otel", sdk._telemetry.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_opentelemetry_tracing_is_off_and_says_how_to_turn_it_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = _telemetry_without_opentelemetry(monkeypatch)
    assert module.OTEL_AVAILABLE is False
    assert module.default_tracer() is None
    fields = {
        "tenant": "acme",
        "integration": "crm",
        "connector": "hubspot",
        "operation": "get_contact",
        "scope": "contacts:read",
        "region": "nz",
    }
    assert module.start_operation_span(**fields) is None
    with pytest.raises(ConfigurationError, match=r"nexora-connect\[otel\]"):
        module.OperationTracer()
    assert sdk._telemetry.OTEL_AVAILABLE is True  # the real module is untouched


async def test_without_opentelemetry_operations_run_and_are_audited_without_spans(
    nc: NexoraConnect,
    router: respx.MockRouter,
    exporter: InMemorySpanExporter,
    audit: MemoryAuditSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = _telemetry_without_opentelemetry(monkeypatch)
    monkeypatch.setattr(sdk._dispatch, "start_operation_span", module.start_operation_span)
    router.get(CONTACT).respond(200, json=hs.fixture("contact"))
    contact = await call(nc, hs.READ, "get_contact", contact_id="51")
    with pytest.raises(ScopeDeniedError):
        await call(nc, hs.READ, "create_note", contact_id="51", body="hello")

    assert contact.id == "51"
    assert [record.outcome for record in audit.records] == ["ok", "ScopeDeniedError"]
    assert operation_spans(exporter) == []


@pytest.mark.parametrize(
    "quiet_provider",
    [trace.NoOpTracerProvider(), TracerProvider(sampler=ALWAYS_OFF)],
    ids=["api-without-sdk", "sampled-out"],
)
async def test_an_unrecorded_span_is_neither_kept_nor_made_current(
    nc: NexoraConnect,
    router: respx.MockRouter,
    tracer_provider: TracerProvider,
    quiet_provider: trace.TracerProvider,
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sdk._telemetry, "_default", sdk._telemetry.OperationTracer(quiet_provider))
    seen: list[trace.Span] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(trace.get_current_span())
        return httpx.Response(200, json=hs.fixture("contact"))

    router.get(CONTACT).mock(side_effect=vendor)
    with tracer_provider.get_tracer("voice-agent").start_as_current_span("agent-turn") as turn:
        assert (await call(nc, hs.READ, "get_contact", contact_id="51")).id == "51"
    # The caller's span stays the parent of what the call does.
    assert seen == [turn]
    assert [span.name for span in exporter.get_finished_spans()] == ["agent-turn"]
