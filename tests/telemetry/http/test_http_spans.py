"""S3 for HTTP client spans: with both standard instrumentations on, the SDK's requests leave one span
each, the SDK's, with the semantic-convention attributes and no id or query value in it.

Real clients (an aiohttp ``ClientSession``, an ``httpx.AsyncClient`` on httpx's own transport, and
one on the SDK's aiohttp transport) send to a real loopback server, with canaries in path segments
and query strings. Every span exported is scanned. The control tests show the same requests
without the SDK's suppression do put the canaries in the instrumentations' spans, so a scan that
finds nothing means something.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import ModuleType

import aiohttp
import httpx
import pytest
from opentelemetry import context as otel_context
from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

import sdk._http_spans
import sdk._telemetry
from sdk._http import AiohttpTransport
from sdk._http_spans import (
    error_type_of,
    send_observed,
    start_http_span,
    suppress_instrumentation,
)
from sdk._telemetry import OperationTracer, start_operation_span
from sdk.testing import make_canary
from tests.telemetry.http.conftest import Vendor
from tests.telemetry.http.scan import AIOHTTP_SCOPE, HTTPX_SCOPE, SDK_SCOPE, leaks, scope_of

pytestmark = pytest.mark.usefixtures("instrumented", "quiet_httpx_log")

TEMPLATE = "/v1/customers/{customer_id}"
SDK_ATTRIBUTES = {
    "http.request.method",
    "server.address",
    "server.port",
    "url.template",
    "http.response.status_code",
}

Send = Callable[[httpx.Request], Awaitable[httpx.Response]]


class _Observed(httpx.AsyncBaseTransport):
    """What the HTTP layer does once wired: every request through :func:`send_observed`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, template: str | None) -> None:
        self._inner = inner
        self.template = template

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await send_observed(self._inner.handle_async_request, request, self.template)

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def client(kind: str, *, observed: bool) -> AsyncIterator[Callable[[str], Awaitable[int]]]:
    """A function that GETs a URL with a fresh client of ``kind`` (made after instrumenting) → status.

    With ``observed`` the request goes the SDK's way (suppressed, under the SDK's span for
    ``TEMPLATE``); without it, the way any application's request goes.
    """
    if kind == "aiohttp":
        async with aiohttp.ClientSession() as session:

            async def get(url: str) -> int:
                if not observed:
                    async with session.get(url) as response:
                        await response.read()
                        return response.status
                span = start_http_span("GET", httpx.URL(url), TEMPLATE)
                assert span is not None
                with suppress_instrumentation():
                    async with session.get(url) as response:
                        await response.read()
                span.end(response.status)
                return response.status

            yield get
        return
    inner: httpx.AsyncBaseTransport = (
        AiohttpTransport() if kind == "httpx-over-sdk-aiohttp" else httpx.AsyncHTTPTransport()
    )
    transport = _Observed(inner, TEMPLATE) if observed else inner
    async with httpx.AsyncClient(transport=transport) as http:

        async def send(url: str) -> int:
            return (await http.get(url)).status_code

        yield send


KINDS = ["aiohttp", "httpx", "httpx-over-sdk-aiohttp"]
FOREIGN_SCOPE = {"aiohttp": AIOHTTP_SCOPE, "httpx": HTTPX_SCOPE, "httpx-over-sdk-aiohttp": AIOHTTP_SCOPE}


def hostile_urls(vendor: Vendor) -> tuple[list[str], list[str]]:
    """URLs with canaries in a path segment and in query values, and the canaries."""
    customer, phone, email = make_canary("cus"), make_canary("phone"), make_canary("email")
    urls = [
        f"{vendor.base}/v1/customers/{customer}",
        f"{vendor.base}/v1/customers/{customer}?expand=x&query=phone%3A%27{phone}%27",
        f"{vendor.base}/v1/customers/{customer}?email={email}%40example.test",
    ]
    return urls, [customer, phone, email]


@pytest.mark.parametrize("kind", KINDS)
async def test_control_without_the_sdk_the_instrumentations_record_ids_and_queries(
    kind: str, vendor: Vendor, exporter: InMemorySpanExporter
) -> None:
    urls, canaries = hostile_urls(vendor)
    async with client(kind, observed=False) as get:
        for url in urls:
            assert await get(url) == 200
    spans = exporter.get_finished_spans()
    assert [scope_of(span) for span in spans] == [FOREIGN_SCOPE[kind]] * len(urls)
    found = {canary for _, canary in leaks(spans, canaries)}
    assert found == set(canaries), "the instrumentation no longer records the URL: this suite proves nothing"


@pytest.mark.parametrize("kind", KINDS)
async def test_the_sdk_requests_leave_only_the_sdk_span_and_no_canary(
    kind: str, vendor: Vendor, exporter: InMemorySpanExporter
) -> None:
    urls, canaries = hostile_urls(vendor)
    async with client(kind, observed=True) as get:
        for url in urls:
            assert await get(url) == 200
    # The canaries did reach the wire, in the path and in the query.
    assert all(canaries[0] in target for target in vendor.targets)
    assert any(canaries[1] in target for target in vendor.targets)
    spans = exporter.get_finished_spans()
    assert leaks(spans, canaries) == []
    assert [scope_of(span) for span in spans] == [SDK_SCOPE] * len(urls)
    for span in spans:
        assert span.name == f"GET {TEMPLATE}"
        assert span.kind is SpanKind.CLIENT
        assert dict(span.attributes or {}) == {
            "http.request.method": "GET",
            "server.address": "127.0.0.1",
            "server.port": vendor.port,
            "url.template": TEMPLATE,
            "http.response.status_code": 200,
        }
        assert span.status.status_code is StatusCode.UNSET
        assert span.events == ()


async def test_an_application_request_beside_the_sdk_is_still_traced(
    vendor: Vendor, exporter: InMemorySpanExporter
) -> None:
    """Suppression is per task: the application's own concurrent requests keep their spans."""
    urls, canaries = hostile_urls(vendor)
    async with client("httpx", observed=True) as sdk_get, client("httpx", observed=False) as app_get:
        await asyncio.gather(sdk_get(urls[1]), app_get(f"{vendor.base}/app/ping"), sdk_get(urls[2]))
        await app_get(f"{vendor.base}/app/pong")
    spans = exporter.get_finished_spans()
    assert sorted(scope_of(span) for span in spans) == sorted([SDK_SCOPE] * 2 + [HTTPX_SCOPE] * 2)
    assert leaks(spans, canaries) == []
    assert otel_context.get_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY) is None


@pytest.mark.parametrize("kind", ["httpx", "httpx-over-sdk-aiohttp"])
async def test_a_vendor_error_status_is_an_error_type_without_a_message(
    kind: str, vendor: Vendor, exporter: InMemorySpanExporter
) -> None:
    customer = make_canary("cus")
    vendor.answer = lambda request: (503, {"error": {"message": f"no such customer {customer}"}})
    async with client(kind, observed=True) as get:
        assert await get(f"{vendor.base}/v1/customers/{customer}?q={customer}") == 503
    [span] = exporter.get_finished_spans()
    assert leaks([span], [customer]) == []
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 503
    assert span.attributes["error.type"] == "503"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None


@pytest.mark.parametrize("kind", ["httpx", "httpx-over-sdk-aiohttp"])
async def test_a_failed_connection_is_recorded_by_class_name_only(
    kind: str, unused_tcp_port: int, exporter: InMemorySpanExporter
) -> None:
    customer = make_canary("cus")
    async with client(kind, observed=True) as get:
        with pytest.raises(httpx.ConnectError):
            await get(f"http://127.0.0.1:{unused_tcp_port}/v1/customers/{customer}?q={customer}")
    [span] = exporter.get_finished_spans()
    assert leaks([span], [customer]) == []
    assert span.attributes is not None
    assert span.attributes["error.type"] == "ConnectError"
    assert "http.response.status_code" not in span.attributes
    assert span.status.status_code is StatusCode.ERROR
    assert span.events == ()


async def test_a_cancelled_request_ends_its_span_and_leaves_nothing_suppressed(
    exporter: InMemorySpanExporter,
) -> None:
    started = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    request = httpx.Request("GET", "https://vendor.invalid/v1/customers/x")
    task = asyncio.ensure_future(send_observed(hang, request, TEMPLATE))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [span] = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "CancelledError"
    assert span.attributes["server.port"] == 443
    assert otel_context.get_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY) is None


async def test_the_http_span_is_a_child_of_the_operation_span(exporter: InMemorySpanExporter) -> None:
    async def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, request=request)

    operation = start_operation_span(
        tenant="acme",
        integration="stripe",
        connector="stripe",
        operation="get_balance",
        scope="billing:read",
        region="nz",
    )
    assert operation is not None
    await send_observed(ok, httpx.Request("GET", "https://api.stripe.com/v1/customers/cus_1"), TEMPLATE)
    await send_observed(ok, httpx.Request("GET", "https://api.stripe.com/v1/customers/cus_1"), TEMPLATE)
    http_spans = exporter.get_finished_spans()
    assert len(http_spans) == 2
    operation._span.end()
    otel_context.detach(operation._token)
    parent = exporter.get_finished_spans()[-1]
    assert parent.name == "nexora.stripe.get_balance"
    for span in http_spans:
        assert span.parent is not None
        assert span.parent.span_id == parent.context.span_id
        assert span.context.trace_id == parent.context.trace_id


# --- the contract's edges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected_name", "expected_template"),
    [
        ("/v1/customers/search?query={query}", "GET /v1/customers/search", "/v1/customers/search"),
        ("/v1/customers/{id}#frag", "GET /v1/customers/{id}", "/v1/customers/{id}"),
        (None, "GET", None),
        ("", "GET", None),
    ],
)
def test_a_template_never_carries_a_query_or_fragment(
    template: str | None, expected_name: str, expected_template: str | None, exporter: InMemorySpanExporter
) -> None:
    span = start_http_span("get", httpx.URL("https://api.stripe.com/v1/customers/search?query=x"), template)
    assert span is not None
    span.end(200)
    [finished] = exporter.get_finished_spans()
    assert finished.name == expected_name
    assert finished.attributes is not None
    assert finished.attributes.get("url.template") == expected_template
    assert finished.attributes["server.port"] == 443


def test_an_error_type_that_is_not_an_identifier_is_not_recorded(exporter: InMemorySpanExporter) -> None:
    canary = make_canary("message")
    span = start_http_span("BREW", httpx.URL("https://vendor.invalid:8443/x"), "/x", resend_count=2)
    assert span is not None
    span.end(None, f"the request for {canary} failed")
    span.end(200)  # a second end is ignored
    [finished] = exporter.get_finished_spans()
    assert leaks([finished], [canary]) == []
    assert finished.name == "HTTP /x"
    assert dict(finished.attributes or {}) == {
        "http.request.method": "_OTHER",
        "server.address": "vendor.invalid",
        "server.port": 8443,
        "url.template": "/x",
        "http.request.resend_count": 2,
        "error.type": "_OTHER",
    }


def test_error_type_is_the_class_name_never_the_message() -> None:
    canary = make_canary("message")
    assert error_type_of(httpx.ReadTimeout(canary)) == "ReadTimeout"
    assert error_type_of(ValueError(canary)) == "ValueError"


def test_a_sampled_out_request_starts_no_span(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = TracerProvider(sampler=ALWAYS_OFF)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(sdk._telemetry, "_default", OperationTracer(provider))
    assert start_http_span("GET", httpx.URL("https://vendor.invalid/x"), "/x") is None
    assert exporter.get_finished_spans() == ()


def _http_spans_without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of sdk._http_spans imported as if the `otel` extra were not installed."""
    for name in [module for module in sys.modules if module.split(".")[0] == "opentelemetry"]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules makes the import fail
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    spec = importlib.util.spec_from_file_location("_http_spans_without_otel", sdk._http_spans.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_without_opentelemetry_requests_go_out_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _http_spans_without_opentelemetry(monkeypatch)
    monkeypatch.setattr(sdk._telemetry, "_default", None)  # what sdk._telemetry holds without the API
    assert module.suppress_instrumentation() is module.suppress_instrumentation()  # one shared no-op
    assert module.start_http_span("GET", httpx.URL("https://vendor.invalid/x"), "/x") is None
    sent: list[httpx.Request] = []

    async def ok(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204, request=request)

    request = httpx.Request("GET", "https://vendor.invalid/x")
    response = await module.send_observed(ok, request, "/x")
    assert response.status_code == 204
    assert sent == [request]


def test_the_sdk_span_may_be_started_inside_the_suppression(exporter: InMemorySpanExporter) -> None:
    """The SDK's own tracer ignores the suppression keys, so the wiring may nest them either way."""
    with suppress_instrumentation():
        span = start_http_span("GET", httpx.URL("https://vendor.invalid/x"), "/x")
        assert span is not None
        span.end(204)
    assert [finished.name for finished in exporter.get_finished_spans()] == ["GET /x"]
