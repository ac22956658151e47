"""Fixtures of the HTTP span tests: a loopback vendor, and both standard instrumentations on.

The loopback vendor is a real aiohttp.web server on 127.0.0.1 with its access log off: the
access log line holds the request path, and the session-wide S3 scan (tests/conftest.py) would
rightly flag a canary in it. It answers every path; ``answer`` may pick the status and body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider


@dataclass
class Vendor:
    """A loopback HTTP server that records the raw target of every request it gets."""

    answer: Callable[[web.Request], tuple[int, Any]] = lambda request: (200, {"ok": True})
    targets: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        self.targets.append(request.raw_path)
        status, body = self.answer(request)
        return web.Response(status=status, body=json.dumps(body), content_type="application/json")


@pytest.fixture
async def vendor() -> AsyncIterator[Vendor]:
    found = Vendor()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.port = runner.addresses[0][1]
    yield found
    await runner.cleanup()


@pytest.fixture
def instrumented(tracer_provider: TracerProvider) -> Iterator[None]:
    """Both standard HTTP client instrumentations on, exporting to the test's provider."""
    aiohttp_instrumentor = AioHttpClientInstrumentor()
    httpx_instrumentor = HTTPXClientInstrumentor()
    aiohttp_instrumentor.instrument(tracer_provider=tracer_provider)
    httpx_instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        yield
    finally:
        aiohttp_instrumentor.uninstrument()
        httpx_instrumentor.uninstrument()


@pytest.fixture
def quiet_httpx_log() -> Iterator[None]:
    """Silence httpx's INFO line per request for the tests that plant canaries in URL paths.

    That line holds the request's path (sdk._http strips only its query), and these tests are
    about spans; the session-wide scan would otherwise fail on a leak these tests do not cover.
    """
    logger = logging.getLogger("httpx")
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before
