"""A HubSpot runtime (the real connector against respx) whose operations are traced into memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import sdk._telemetry
from sdk import MemoryAuditSink, NexoraConnect
from sdk._telemetry import OperationTracer
from sdk.testing import MemoryCredentialSource
from tests.connectors import hubspot_cases as hs
from tests.mock_nexora import vendor_router


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(
    monkeypatch: pytest.MonkeyPatch, exporter: InMemorySpanExporter
) -> Iterator[TracerProvider]:
    """A provider of the test's own, exporting to ``exporter``, that dispatch traces onto.

    The default tracer is swapped rather than OpenTelemetry's global provider set, because the
    global one can be set once per process and would trace every later test too.
    """
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(sdk._telemetry, "_default", OperationTracer(provider))
    yield provider
    provider.shutdown()


@pytest.fixture
def credentials(canary_key: str) -> MemoryCredentialSource:
    return hs.credentials(canary_key)


@pytest.fixture
def router() -> respx.MockRouter:
    return vendor_router(hs.BASE)


@pytest.fixture
async def nc(
    router: respx.MockRouter, credentials: MemoryCredentialSource, audit: MemoryAuditSink
) -> AsyncIterator[NexoraConnect]:
    async with hs.runtime(router, credentials, audit=audit) as runtime:
        yield runtime
