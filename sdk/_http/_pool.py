"""The httpx clients every vendor request goes through: one per origin, shared, cookieless, guarded.

Credentials are applied per request, never stored on a client, so the clients
are shared by every tenant; what makes that safe is here: no cookie jar, no
redirects, nothing taken from the environment, and the scope guard (S1) under
every client whatever transport a test injects.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from sdk._http._aiohttp import default_transport
from sdk._http._guard import ScopeGuardTransport

__all__ = ["DEFAULT_TIMEOUT", "HttpClientPool", "guarded_transport_of"]

DEFAULT_TIMEOUT = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=2.0)


class _NoCookies(httpx.Cookies):
    """A cookie store that never stores or sends anything, and refuses to be given a cookie."""

    def __init__(self) -> None:
        super().__init__(CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])))

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        raise TypeError("the SDK's HTTP clients are shared across tenants and never hold cookies")

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        if any(args) or any(kwargs.values()):
            self.set("", "")


class _CookielessClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` without cookies, by construction.

    The clients are shared across tenants: a cookie one tenant's vendor set
    must never ride along on another tenant's request (S2). A cookie jar whose
    policy refuses every domain would do that too, but httpx still parses every
    response's ``Set-Cookie`` into it (~30 µs a response); here there is no
    jar to put anything in, and assigning ``client.cookies`` changes nothing.
    """

    def __init__(self, *, transport: ScopeGuardTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.guarded_transport = transport
        """The scope-guarded transport under this client; the SDK's requests are sent on it directly."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None


_NO_COOKIES = _NoCookies()


def guarded_transport_of(client: httpx.AsyncClient) -> ScopeGuardTransport | None:
    """The scope-guarded transport of one of the pool's clients; None for any other client."""
    return client.guarded_transport if isinstance(client, _CookielessClient) else None


class HttpClientPool:
    """One pooled ``httpx.AsyncClient`` per upstream origin, shared by all tenants.

    Credentials are applied per request, never stored on a client, so sharing
    the pool across tenants shares connections but nothing tenant-specific.
    ``transport`` replaces the network (tests pass a respx router); every
    client still goes through the scope guard.
    """

    def __init__(
        self, *, transport: httpx.AsyncBaseTransport | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT
    ) -> None:
        self._transport = transport
        self._timeout = timeout
        self._clients: dict[str, httpx.AsyncClient] = {}

    def client_for(self, base_url: str) -> httpx.AsyncClient:
        origin = str(httpx.URL(base_url).copy_with(path="/", query=None, fragment=None))
        client = self._clients.get(origin)
        if client is None:
            inner = self._transport or default_transport()
            client = _CookielessClient(
                transport=ScopeGuardTransport(inner),
                timeout=self._timeout,
                follow_redirects=False,  # a redirect must never carry credentials to another host
                trust_env=False,  # no proxies or .netrc credentials picked up from the environment
            )
            self._clients[origin] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
