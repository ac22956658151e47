"""The test-only httpx transport between a NexoraConnect and the Prism mocks.

It is passed as ``transport=`` to NexoraConnect, so everything the SDK does (scope guard, auth
flow, retries) happens before it, exactly as against the vendor. It only:

* sends each request to the mock that serves its path (HubSpot's contacts, companies and notes
  are three documents on three ports; JSM's ``/rest/api/3`` search is Jira's document), after
  removing a leading part the mock does not serve: Prism serves a document's paths without its
  server's base path (Chargebee's ``/api/v1``), and the gateway prefix ``/ex/jira/<cloud id>``
  of Atlassian's OAuth API root is a prefix of the same paths;
* adds ``Prefer: dynamic=true`` when asked, so Prism generates each body from the schema;
* records every exchange (method, path, status, Prism's ``sl-violations`` header) so the test
  can fail on a rejected request and the report can say what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

__all__ = ["REJECTED", "Exchange", "PrismRouter", "Route"]

REJECTED = frozenset({400, 401, 403, 404, 405, 415, 422})
"""Statuses Prism answers when a request breaks the document (400: Jira's own validation answer)."""


@dataclass(frozen=True)
class Route:
    """Requests whose path starts with ``strip + prefix`` go to ``mock``, without ``strip``."""

    prefix: str
    mock: str
    strip: str = ""


@dataclass(frozen=True)
class Exchange:
    method: str
    mock: str
    path: str
    status: int
    violations: str
    auth_scheme: str = ""  # "Basic" or "Bearer": the scheme word only, never the credential

    @property
    def rejected(self) -> bool:
        return self.status in REJECTED


@dataclass
class PrismRouter(httpx.AsyncBaseTransport):
    """Route each request to its Prism by path; optionally ask for generated bodies."""

    origins: Mapping[str, int]
    """Mock name -> loopback port."""
    routes: Sequence[Route]
    dynamic: bool = False
    exchanges: list[Exchange] = field(default_factory=list)
    _inner: httpx.AsyncHTTPTransport = field(default_factory=httpx.AsyncHTTPTransport)

    def _route(self, path: str) -> tuple[Route, str] | None:
        for route in self.routes:
            if path.startswith(route.strip + route.prefix):
                return route, path[len(route.strip) :]
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw_path = request.url.raw_path.decode("ascii")
        path, _, query = raw_path.partition("?")
        found = self._route(path)
        if found is None:
            self.exchanges.append(Exchange(request.method, "-", path, 404, "no mock serves this path"))
            return httpx.Response(404, json={"error": "no mock serves this path"}, request=request)
        route, served = found
        port = self.origins[route.mock]
        target = served + ("?" + query if query else "")
        # A copy goes to the mock: the SDK may resend this very request (a retry after a timeout),
        # and rewriting it in place would send the retry to an undeclared path.
        headers = httpx.Headers(request.headers)
        headers["Host"] = f"127.0.0.1:{port}"
        if self.dynamic:
            headers["Prefer"] = "dynamic=true"
        forwarded = httpx.Request(
            request.method,
            request.url.copy_with(
                scheme="http", host="127.0.0.1", port=port, raw_path=target.encode("ascii")
            ),
            headers=headers,
            content=request.content,
            extensions=request.extensions,
        )
        response = await self._inner.handle_async_request(forwarded)
        self.exchanges.append(
            Exchange(
                request.method,
                route.mock,
                served,
                response.status_code,
                response.headers.get("sl-violations", ""),
                forwarded.headers.get("Authorization", "").partition(" ")[0],
            )
        )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
