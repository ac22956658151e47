"""S3 end to end: calls through the public API, on the SDK's default (aiohttp) transport, with both
standard HTTP client instrumentations on, leave no id and no query value in any span.

A Stripe integration points at a loopback server; ``get_balance`` puts a canary customer id in the
path and ``find_customers`` puts a canary email in the query of Stripe's search, the case the
facts file records as leaking through the aiohttp instrumentation's ``url.full``.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from connectors.billing.stripe import StripeConnector
from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.authoring import ConnectorRegistry
from sdk.testing import make_canary
from tests.connectors import stripe_cases as stripe
from tests.telemetry.http.conftest import Vendor
from tests.telemetry.http.scan import SDK_SCOPE, leaks, scope_of

pytestmark = [pytest.mark.usefixtures("instrumented", "quiet_httpx_log")]


def _answer(request: web.Request) -> tuple[int, object]:
    if request.path == "/v1/customers/search":
        return 200, stripe.search_page([stripe.fixture("customer")], None)
    return 200, stripe.fixture("customer")


def _runtime(base_url: str, key: str) -> NexoraConnect:
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                stripe.TENANT: {
                    "phone_region": "NZ",
                    "integrations": {stripe.READ: {"connector": "stripe", "base_url": base_url}},
                }
            },
        }
    )
    registry = ConnectorRegistry(discover=False)
    registry.register(StripeConnector)
    return NexoraConnect(
        config, audit_sink=MemoryAuditSink(), registry=registry, credential_store=stripe.credentials(key)
    )


async def test_public_calls_leave_only_clean_sdk_http_spans(
    vendor: Vendor, exporter: InMemorySpanExporter
) -> None:
    vendor.answer = _answer
    key, customer, email = make_canary("key"), make_canary("cus"), make_canary("email")
    runtime = _runtime(vendor.base, key)
    async with runtime as nc, nc.conversation(tenant=stripe.TENANT, conversation_id="call-1") as conv:
        await conv.call(stripe.READ, "get_balance", customer_id=customer)
        await conv.call(stripe.READ, "find_customers", email=f"{email}@example.test")
    # The canaries were sent: in the path, and in the search query.
    assert any(customer in target for target in vendor.targets)
    assert any(email in target for target in vendor.targets)
    spans = exporter.get_finished_spans()
    assert leaks(spans, [key, customer, email]) == []
    clients = [span for span in spans if span.kind is SpanKind.CLIENT]
    assert len(clients) == len(vendor.targets)
    assert {scope_of(span) for span in clients} == {SDK_SCOPE}
    operations = {span.context.span_id: span.name for span in spans if span.kind is SpanKind.INTERNAL}
    for span in clients:
        attributes = dict(span.attributes or {})
        template = attributes["url.template"]
        assert isinstance(template, str)
        assert template.startswith("/v1/customers")
        assert "?" not in template
        assert span.name == f"GET {template}"
        assert attributes["http.request.method"] == "GET"
        assert attributes["server.address"] == "127.0.0.1"
        assert attributes["server.port"] == vendor.port
        assert attributes["http.response.status_code"] == 200
        assert span.parent is not None
        assert operations[span.parent.span_id].startswith("nexora.stripe.")
    templates = {dict(span.attributes or {})["url.template"] for span in clients}
    assert any("{" in str(template) for template in templates), templates  # get_balance's id is a placeholder
