"""OpenTelemetry metrics read back through the SDK's in-memory reader: what is counted, by what,
and that no customer value, key or free text ever becomes an attribute."""

from __future__ import annotations

import gc
import importlib.util
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import sdk._metrics
from sdk import ConfigurationError, ScopeDeniedError, VendorNotFoundError
from sdk._metrics import Metrics
from sdk.testing import issued_canaries, make_canary
from tests.connectors import hubspot_cases as hs
from tests.runtime.support import CALLER_PHONE, CRM, TENANT, Vendors, runtime

CONTACT = "/crm/v3/objects/contacts/51"


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryMetricReader]:
    """A provider of the test's own (the global one can be set once per process), read in memory."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    monkeypatch.setattr(sdk._metrics, "_default", Metrics(provider))
    yield reader
    provider.shutdown()


def points(reader: InMemoryMetricReader, name: str) -> list[tuple[dict[str, Any], Any]]:
    """(attributes, point) of every data point of the metric ``name``, collected now."""
    data = reader.get_metrics_data()
    found: list[tuple[dict[str, Any], Any]] = []
    for resource in data.resource_metrics if data is not None else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found += [(dict(point.attributes or {}), point) for point in metric.data.data_points]
    return found


def everything(reader: InMemoryMetricReader) -> str:
    data = reader.get_metrics_data()
    return data.to_json() if data is not None else ""


def by_tenant(reader: InMemoryMetricReader, name: str) -> int:
    return sum(
        point.value for attributes, point in points(reader, name) if attributes["nexora.tenant"] == "acme"
    )


async def test_calls_are_counted_by_integration_operation_and_outcome_with_their_latency(
    nc: Any, router: respx.MockRouter, reader: InMemoryMetricReader
) -> None:
    router.get(CONTACT).respond(200, json=hs.fixture("contact"))
    router.get("/crm/v3/objects/companies/9001").respond(404, json=hs.fixture("error_not_found"))
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        await conv.call(hs.READ, "get_contact", contact_id="51")
        await conv.call(hs.READ, "get_contact", contact_id="51")
        with pytest.raises(VendorNotFoundError):
            await conv.call(hs.READ, "get_account", account_id="9001")
        with pytest.raises(ScopeDeniedError):
            await conv.call(hs.READ, "create_note", contact_id="51", body="hello")

    counted = {
        (a["nexora.integration"], a["nexora.operation"], a["nexora.outcome"]): p.count
        for a, p in points(reader, "nexora.call.duration")
    }
    assert counted == {
        (hs.READ, "get_contact", "ok"): 1,
        (hs.READ, "get_contact", "cached"): 1,
        (hs.READ, "get_account", "VendorNotFoundError"): 1,
        (hs.READ, "create_note", "ScopeDeniedError"): 1,
    }
    for attributes, _ in points(reader, "nexora.call.duration"):
        assert attributes.keys() == {
            "nexora.tenant",
            "nexora.region",
            "nexora.integration",
            "nexora.connector",
            "nexora.operation",
            "nexora.outcome",
        }
        assert (attributes["nexora.tenant"], attributes["nexora.region"]) == ("acme", "nz")
    durations = points(reader, "nexora.call.duration")
    assert sum(point.count for _, point in durations) == 4
    assert all(0 <= point.sum < 5 for _, point in durations)  # seconds, not milliseconds
    (_, fetched) = next(item for item in durations if item[0]["nexora.outcome"] == "ok")
    assert fetched.explicit_bounds[0] == 0.005
    assert 0.3 in fetched.explicit_bounds


async def test_open_conversations_and_cached_records_are_observed_when_collected(
    nc: Any, router: respx.MockRouter, reader: InMemoryMetricReader
) -> None:
    gc.collect()  # conversations other tests dropped without hanging up
    open_before = by_tenant(reader, "nexora.conversations.open")
    cached_before = by_tenant(reader, "nexora.cache.records")
    router.get(CONTACT).respond(200, json=hs.fixture("contact"))
    first = nc.conversation(tenant="acme", conversation_id="call-1")
    second = nc.conversation(tenant="acme", conversation_id="call-2")
    await first.call(hs.READ, "get_contact", contact_id="51")
    assert by_tenant(reader, "nexora.conversations.open") == open_before + 2
    assert by_tenant(reader, "nexora.cache.records") == cached_before + 1
    await first.hangup()
    assert by_tenant(reader, "nexora.conversations.open") == open_before + 1
    assert by_tenant(reader, "nexora.cache.records") == cached_before
    await second.hangup()
    assert by_tenant(reader, "nexora.conversations.open") == open_before


async def test_customer_context_latency_is_recorded_per_fetch_and_per_source(
    reader: InMemoryMetricReader,
) -> None:
    vendors = Vendors(respx.MockRouter(assert_all_called=False, assert_all_mocked=True)).mount()
    async with runtime(vendors.router) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        await conv.customer_context(phone=CALLER_PHONE)
    ((attributes, fetch),) = points(reader, "nexora.customer_context.duration")
    assert attributes == {"nexora.tenant": TENANT, "nexora.region": "nz", "nexora.complete": True}
    assert fetch.count == 1
    sources = {
        a["nexora.integration"]: (a["nexora.status"], p.count)
        for a, p in points(reader, "nexora.customer_context.source.duration")
    }
    assert sources == {CRM: ("ok", 1), "zendesk": ("ok", 1), "stripe": ("ok", 1)}
    # The fan-out's steps are ordinary calls, counted as such.
    assert sum(p.count for _, p in points(reader, "nexora.call.duration")) >= 6


def test_the_http_and_redaction_hooks_count_by_closed_vocabulary_only(reader: InMemoryMetricReader) -> None:
    leaked = make_canary("value")
    sdk._metrics.record_retry(CRM, "429")
    sdk._metrics.record_retry(CRM, "ConnectError", tenant="acme")
    sdk._metrics.record_retry(CRM, f"retry after {leaked}")  # a message passed by mistake
    sdk._metrics.record_rate_limit_wait(CRM, 0.25)
    sdk._metrics.record_rate_limit_wait(CRM, -1.0)
    sdk._metrics.record_redaction("phone")
    sdk._metrics.record_redaction("card", 2)
    sdk._metrics.record_redaction(leaked)
    sdk._metrics.record_vault_read(tenant="acme", integration=CRM, seconds=0.004)
    sdk._metrics.record_vault_read(tenant="acme", integration=CRM, seconds=2.0, outcome=f"{leaked} down")

    retries = {
        (a["nexora.retry.reason"], a.get("nexora.tenant")): p.value
        for a, p in points(reader, "nexora.http.retries")
    }
    assert retries == {("429", None): 1, ("ConnectError", "acme"): 1, ("_OTHER", None): 1}
    ((_, waits),) = points(reader, "nexora.rate_limit.wait")
    assert (waits.count, waits.sum) == (2, 0.25)
    redactions = {a["nexora.identifier_type"]: p.value for a, p in points(reader, "nexora.redactions")}
    assert redactions == {"phone": 1, "card": 2, "_OTHER": 1}
    reads = {a["nexora.outcome"]: p.count for a, p in points(reader, "nexora.vault.read.duration")}
    assert reads == {"ok": 1, "_OTHER": 1}
    assert leaked not in everything(reader)


async def test_no_customer_value_or_key_reaches_any_metric(
    router: respx.MockRouter, canary_key: str, reader: InMemoryMetricReader
) -> None:
    name, searched, vendor_message = (make_canary(p) for p in ("n", "s", "m"))
    contact = hs.fixture("contact")
    contact["properties"]["firstname"] = name
    not_found = hs.fixture("error_not_found")
    not_found["message"] = vendor_message
    router.get(CONTACT).respond(200, json=contact)
    router.get("/crm/v3/objects/contacts/52").respond(404, json=not_found)
    router.post(hs.SEARCH).respond(200, json=hs.search_response(hs.search_hit()))
    async with (
        hs.runtime(router, hs.credentials(canary_key)) as nc,
        nc.conversation(tenant="acme", conversation_id="call-1") as conv,
    ):
        await conv.call(hs.READ, "get_contact", contact_id="51")
        await conv.call(hs.READ, "find_contacts", email=f"{searched}@example.test")
        with pytest.raises(VendorNotFoundError):
            await conv.call(hs.READ, "get_contact", contact_id="52")
        result = await conv.invoke(f"{hs.READ}__get_contact", {"contact_id": "51"})
        assert name in json.dumps(result.content)
    text = everything(reader)
    assert "nexora.call.duration" in text
    assert [canary for canary in issued_canaries() if canary in text] == []
    assert "example.test" not in text
    assert '"52"' not in text  # an id the caller asked for is not a label either


# --- without OpenTelemetry ---------------------------------------------------------------------


def _metrics_without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for name in [module for module in sys.modules if module.split(".")[0] == "opentelemetry"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    spec = importlib.util.spec_from_file_location("_metrics_without_otel", sdk._metrics.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_opentelemetry_every_hook_is_a_no_op_and_metrics_say_how_to_turn_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = _metrics_without_opentelemetry(monkeypatch)
    assert module.default_metrics() is None
    module.record_retry(CRM, "429")
    module.record_rate_limit_wait(CRM, 1.0)
    module.record_redaction("phone")
    module.record_vault_read(tenant="acme", integration=CRM, seconds=0.1)

    class Conversation:
        tenant = "acme"
        cached_records = 3

    module.conversation_opened(Conversation())
    assert module._registry.snapshot() == []
    with pytest.raises(ConfigurationError, match=r"nexora-connect\[otel\]"):
        module.Metrics()


async def test_a_retry_and_every_vault_read_are_recorded_by_the_layers_that_make_them(
    nc: Any, router: respx.MockRouter, reader: InMemoryMetricReader
) -> None:
    """The wiring, not only the hooks: the HTTP layer counts its resend, the auth flow times its read."""
    router.get(CONTACT).mock(
        side_effect=[
            httpx.Response(503, json={}),
            httpx.Response(200, json=hs.fixture("contact")),
        ]
    )
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        await conv.call(hs.READ, "get_contact", contact_id="51")
    retries = {
        (a["nexora.retry.reason"], a.get("nexora.tenant")): p.value
        for a, p in points(reader, "nexora.http.retries")
    }
    assert retries == {("503", "acme"): 1}
    reads = {a["nexora.outcome"]: p.count for a, p in points(reader, "nexora.vault.read.duration")}
    assert reads == {"ok": 2}  # one credential read per attempt


def test_identifiers_masked_by_the_engine_are_counted_by_type_never_by_value(
    reader: InMemoryMetricReader,
) -> None:
    from sdk import redact

    card = "4111 1111 1111 1111"
    text = redact(f"card {card} and again ({card})")
    assert card not in text
    counted = {a["nexora.identifier_type"]: p.value for a, p in points(reader, "nexora.redactions")}
    assert counted == {"card": 2}
    assert "4111" not in everything(reader)
