"""The HTTP layer every connector talks to its vendor through.

Three things happen here and nowhere else:

* the second, independent scope check (S1): :class:`ScopeGuardTransport`
  refuses a mutating request that the operation in progress may not send,
  *inside* the transport, so it holds whatever the connector code does;
* credentials are applied per request (see :mod:`sdk._auth`);
* retries, timeouts, size limits and the translation of httpx errors and
  vendor statuses into the SDK's typed errors.

The network itself is reached through aiohttp when it is installed
(:class:`AiohttpTransport` under the httpx client), otherwise through httpx's
own transport. Measured on 2 cores against a loopback server, httpx's default
transport costs several times the client CPU per request of aiohttp, and the
gap widens with concurrency (encode/httpx#3215, ``docs/benchmarks/index.md``).
httpx stays the API connectors and tests see: a test still injects
``httpx.MockTransport(router.async_handler)`` and nothing reaches aiohttp.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import json as jsonlib
import logging
import math
import re
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote_plus

import httpx
from tenacity import AsyncRetrying, retry_if_exception

from sdk._context import CallContext, current_call
from sdk._endpoints import Endpoint, method_override_in
from sdk._errors import (
    DeadlineExceededError,
    ScopeDeniedError,
    VendorAuthError,
    VendorConflictError,
    VendorConnectionError,
    VendorError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)
from sdk._http_spans import send_observed
from sdk._retry import MAX_RETRY_AFTER, RETRYABLE, RetryPolicy

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "DEFAULT_TIMEOUT",
    "AiohttpTransport",
    "HttpClientPool",
    "default_transport",
    "ResponseHooks",
    "ScopeGuardTransport",
    "VendorHttp",
    "enforce_request_scope",
    "translate_httpx_error",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _StripQueryFilter(logging.Filter):
    """Keep ids and queries out of httpx's request log lines.

    httpx logs every request URL at INFO. Vendor search APIs carry the caller's
    phone number or email in the query (Stripe ``query=phone:'+64...'``) and
    record ids sit in paths, so a service that turns on INFO logging would
    write customer data to its logs. The URL is logged as its origin and the
    running operation's declared path template instead; method and status stay.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            method = record.args[0] if isinstance(record.args[0], str) else ""
            record.args = tuple(
                _loggable_url(method, arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def _loggable_url(method: str, url: httpx.URL) -> str:
    ctx = current_call.get()
    raw = url.raw_path.decode("ascii", "replace").partition("?")[0]
    shown = "/(path not shown)"
    if ctx is not None:
        relative = raw[len(ctx.base_path) :] if raw.startswith(ctx.base_path) else raw
        found = ctx.operation.matching_endpoint(method.upper(), relative)
        if found is not None:
            shown = ctx.base_path + found.template
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{shown}"


def _install_log_filter() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _StripQueryFilter) for f in logger.filters):
        logger.addFilter(_StripQueryFilter())


_install_log_filter()
DEFAULT_TIMEOUT = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=2.0)
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024


def _refused(ctx: CallContext, method: str, why: str) -> ScopeDeniedError:
    spec = ctx.operation
    declared = ", ".join(str(e) for e in spec.endpoints) or "nothing"
    return ScopeDeniedError(
        f"refused a {method} request from {spec.name} of integration {ctx.integration!r}: {why} "
        f"(it declares: {declared})",
        scope=str(spec.scope),
    )


def enforce_request_scope(request: httpx.Request) -> CallContext:
    """Refuse ``request`` unless the operation in progress declared it; see :func:`check_request`."""
    return check_request(request)[0]


def check_request(request: httpx.Request) -> tuple[CallContext, Endpoint]:
    """Refuse ``request`` unless the operation in progress declared it (S1, HTTP layer).

    The request's final method and encoded path — after the auth flow and
    every normalisation httpx applied — must match one of the running
    operation's declared endpoints, relative to the integration's API root,
    with every placeholder segment a plain value (never ``.``, ``..`` or a
    separator in any encoding). A method that is not a read additionally needs
    a granted write scope, or a read operation's declared POST (whose body
    check, if any, must pass). Method overrides are refused on every request,
    and requests made outside a dispatched operation are refused outright.
    Errors name the operation and its declared endpoints, never the path sent:
    it can hold an argument value.
    """
    method = request.method.upper()
    ctx = current_call.get()
    if ctx is None:
        raise ScopeDeniedError(
            f"refused a {method} request: vendor requests may only be sent by a dispatched operation"
        )
    raw = request.url.raw_path.decode("ascii", "replace")
    path, _, query = raw.partition("?")
    query_names = [item.partition("=")[0] for item in query.split("&") if item]
    override = method_override_in(request.headers.keys(), query_names)
    if override is not None:
        raise _refused(ctx, method, f"it carries a method override ({override})")
    base = ctx.base_path
    if base:
        if not path.startswith(base + "/"):
            raise _refused(ctx, method, "its path is outside the integration's API root")
        path = path[len(base) :]
    spec = ctx.operation
    endpoint = spec.matching_endpoint(method, path)
    if endpoint is None:
        raise _refused(ctx, method, "its path is not one of the operation's declared endpoints")
    if method not in SAFE_METHODS:
        if spec.scope.is_write and not ctx.grant.allows(spec.scope):
            raise ScopeDeniedError(
                f"refused {method} {endpoint.template}: {spec.name} needs {spec.scope}, which tenant "
                f"{ctx.tenant!r} did not grant integration {ctx.integration!r}",
                scope=str(spec.scope),
            )
        if not spec.scope.is_write and method != "POST":  # pragma: no cover - refused at declaration
            raise _refused(ctx, method, "a read may not send a mutating method")
    if endpoint.body_check is not None:
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b""
        if not endpoint.body_check(body):
            raise _refused(ctx, method, f"its body failed the check declared for {endpoint}")
    return ctx, endpoint


class ScopeGuardTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport and checks every request just before it is sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ctx, endpoint = check_request(request)
        ctx.requests_sent += 1
        # The SDK's own span (declared template, no ids, no query) in place of what the aiohttp and
        # httpx OpenTelemetry instrumentations would record: the URL with its ids and query (S3).
        return await send_observed(
            self._inner.handle_async_request,
            request,
            ctx.base_path + endpoint.template,
            resend_count=ctx.requests_sent - 1,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


# --- the default network transport ------------------------------------------------------------------

_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=15.0)
"""Up to 100 connections per origin. httpx's transport keeps 20 of them alive between bursts: keeping
all 100 made it slower at concurrency 100, not faster (docs/benchmarks). aiohttp keeps what it opened."""
_CHUNK = 64 * 1024


@functools.cache
def _sent_request_lost() -> type[Exception]:
    import aiohttp

    class _SentRequestLostError(aiohttp.ClientError):
        """A write's connection failed after the write may have been sent; never to be replayed."""

    return _SentRequestLostError


def _map_aiohttp_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error that says what httpcore would have said, above all whether anything was sent.

    Order matters: aiohttp's connect failures subclass its generic OS error,
    and its connect timeout subclasses its read timeout.
    """
    import aiohttp as a

    name = type(exc).__name__
    if isinstance(exc, a.ConnectionTimeoutError):
        # ClientTimeout.connect covers waiting for a pooled connection and connecting: nothing was sent.
        return httpx.ConnectTimeout(name, request=request)
    if isinstance(exc, a.ClientConnectorError):
        return httpx.ConnectError(name, request=request)
    if isinstance(exc, a.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout(name, request=request)
    if isinstance(exc, _sent_request_lost() | a.ServerDisconnectedError | a.ClientPayloadError):
        return httpx.RemoteProtocolError(name, request=request)
    if isinstance(exc, a.ClientResponseError):
        return httpx.RemoteProtocolError(name, request=request)
    if isinstance(exc, a.NonHttpUrlClientError | a.InvalidURL):
        return httpx.UnsupportedProtocol(name, request=request)
    if isinstance(exc, a.ClientOSError | a.ClientConnectionError | OSError):
        return httpx.ReadError(name, request=request)
    return httpx.TransportError(name, request=request)


async def _no_replay(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
    """Stop aiohttp from resending a PUT or DELETE whose connection broke.

    aiohttp resends idempotent methods once when a connection fails mid-request
    (RFC 9112 allows it). The SDK's rule is stricter: a write is repeated only
    with an idempotency key, and that decision belongs to the retry policy in
    :class:`VendorHttp`, which sees this as "sent, outcome unknown".
    """
    import aiohttp

    try:
        response: aiohttp.ClientResponse = await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # never connected: nothing was sent, and aiohttp does not resend these
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        raise _sent_request_lost()("the connection failed after the request may have been sent") from None
    return response


class _AiohttpStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import aiohttp

        failure: httpx.TransportError | None = None
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk
            self._complete = True
        except (OSError, aiohttp.ClientError, TimeoutError) as exc:
            failure = _map_aiohttp_error(exc, self._request)
        if failure is not None:
            raise failure

    async def aclose(self) -> None:
        # A body read to the end hands the connection back to the pool; one abandoned part-way
        # (an oversized response) closes it, since the rest of the body is still on the wire.
        if self._complete:
            self._response.release()
        else:
            self._response.close()


@functools.lru_cache(maxsize=64)
def _client_timeout(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    import aiohttp

    # aiohttp's ``connect`` spans waiting for a pooled connection plus connecting (httpx's pool +
    # connect); ``sock_read`` is the longest silence while waiting for or reading the response.
    whole_connect = None if connect is None and pool is None else (connect or 0.0) + (pool or 0.0)
    return aiohttp.ClientTimeout(total=None, connect=whole_connect, sock_connect=connect, sock_read=read)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """The network under the SDK's httpx clients: an aiohttp connection pool.

    It keeps every guarantee of the httpx transport it replaces. No cookie is
    stored or sent (aiohttp's ``DummyCookieJar``; the pool is shared across
    tenants). No redirect is followed (httpx decides, and it is told not to).
    Nothing is taken from the environment (``trust_env=False``: no proxy
    variables, no ``.netrc``). The request goes out exactly as httpx built it:
    the encoded URL is not re-quoted, so the path the scope guard checked is
    the path sent. Errors become the httpx errors httpcore raises for the same
    failure, so "never sent" (safe to repeat) and "sent, outcome unknown" keep
    their meaning, and a write is never resent behind the retry policy's back.

    The aiohttp session is made on first use, inside the running event loop,
    and belongs to that loop.
    """

    def __init__(
        self, *, limits: httpx.Limits = _DEFAULT_LIMITS, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        import aiohttp  # raises ImportError without it: default_transport() then uses httpx's own
        import yarl

        self._aiohttp = aiohttp
        self._yarl = yarl
        self._limits = limits
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        aiohttp = self._aiohttp
        loop = asyncio.get_running_loop()
        if self._session is not None:
            if self._loop is not loop:
                raise RuntimeError(
                    "this HTTP connection pool belongs to another event loop; create the NexoraConnect "
                    "inside the loop that uses it"
                )
            return self._session
        if self._ssl_context is None:
            # The trust store httpx's own transport uses (certifi), not one named by SSL_CERT_FILE.
            self._ssl_context = httpx.create_ssl_context(trust_env=False)
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry or 15.0,
            ssl=self._ssl_context,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,  # httpx decodes, as with its own transport
            timeout=aiohttp.ClientTimeout(total=None),
            raise_for_status=False,
        )
        self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        aiohttp = self._aiohttp
        session = self._open_session()
        timeouts = request.extensions.get("timeout", {})
        try:
            body: bytes | None = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        method = request.method
        failure: httpx.TransportError | None = None
        try:
            response = await session.request(
                method,
                self._yarl.URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=_client_timeout(timeouts.get("connect"), timeouts.get("read"), timeouts.get("pool")),
                middlewares=None if method in SAFE_METHODS or method == "POST" else (_no_replay,),
            )
        except (OSError, aiohttp.ClientError, TimeoutError) as exc:
            failure = _map_aiohttp_error(exc, request)
        if failure is not None:
            # Raised outside the except block: aiohttp's errors hold the request's headers.
            raise failure
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_AiohttpStream(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def default_transport() -> httpx.AsyncBaseTransport:
    """The transport a client gets when none is injected: aiohttp's if installed, else httpx's.

    aiohttp is imported here, on the first vendor client, not with ``sdk``: it
    adds ~60 ms to the import, which CLI commands that send nothing need not pay.
    """
    try:
        return AiohttpTransport(limits=_DEFAULT_LIMITS)
    except ImportError:
        return httpx.AsyncHTTPTransport(limits=_DEFAULT_LIMITS, retries=0, trust_env=False)


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

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None


_NO_COOKIES = _NoCookies()


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


class ResponseHooks(Protocol):
    """What the HTTP layer asks the connector about its vendor's responses."""

    def request_id(self, response: httpx.Response) -> str | None: ...

    def error_code(self, response: httpx.Response) -> str | None: ...

    def retry_after(self, response: httpx.Response) -> float | None: ...


class _NotSentError(VendorConnectionError):
    """The connection was never established, so repeating any request is safe."""


def translate_httpx_error(exc: Exception, *, method: str, path: str) -> VendorError:
    """Map an httpx exception to the most specific SDK error (never echoing URL queries)."""
    context: dict[str, Any] = {"method": method, "path": path}
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return _NotSentError("could not connect to the vendor in time", **context)
    if isinstance(exc, httpx.TimeoutException):
        return VendorTimeoutError("the vendor did not answer in time", **context)
    if isinstance(exc, httpx.ConnectError):
        return _NotSentError("could not connect to the vendor", **context)
    if isinstance(exc, httpx.ProxyError | httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return VendorConnectionError(f"the request could not be sent ({type(exc).__name__})", **context)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.NetworkError):
        return VendorConnectionError(f"the connection to the vendor failed ({type(exc).__name__})", **context)
    if isinstance(exc, httpx.DecodingError):
        return VendorPayloadError("the vendor's response could not be decoded", **context)
    if isinstance(exc, httpx.TooManyRedirects):
        return VendorPayloadError("the vendor redirected too many times", **context)
    if isinstance(exc, httpx.InvalidURL):
        return VendorPayloadError("the request URL is invalid", **context)
    return VendorError(f"the request failed ({type(exc).__name__})", **context)


def _status_error(status: int, retry_after: float | None, context: dict[str, Any]) -> VendorError:
    if status in (401, 403):
        return VendorAuthError(
            "the vendor rejected the credential even after a fresh read from Vault; check that the key "
            "stored for this integration is valid and has the vendor-side permissions",
            **context,
        )
    if status == 404:
        return VendorNotFoundError("the vendor has no such record", **context)
    if status == 409:
        return VendorConflictError("the vendor refused the write because of a conflict", **context)
    if status == 429:
        return VendorRateLimitError(
            "the vendor is rate limiting requests", retry_after=retry_after, **context
        )
    if status >= 500:
        return VendorServerError("the vendor failed to serve the request", **context)
    return VendorError("the vendor refused the request", **context)


class VendorHttp:
    """The request API a connector instance uses; bound to one integration of one tenant."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth,
        hooks: ResponseHooks,
        retry_policy: RetryPolicy,
        idempotency_header: str | None = None,
        auto_idempotency: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._base_path = httpx.URL(self._base_url).raw_path.decode("ascii").rstrip("/")
        self._auth = auth
        self._hooks = hooks
        self._retry_policy = retry_policy
        self._idempotency_header = idempotency_header
        self._auto_idempotency = auto_idempotency and idempotency_header is not None
        self._max_response_bytes = max_response_bytes
        self._default_headers = dict(default_headers or {})

    @property
    def base_path(self) -> str:
        """The encoded path of the API root (``""`` for a bare origin); endpoints are relative to it."""
        return self._base_path

    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one logical request (with retries) and return the fully read response.

        ``path`` is one of the running operation's declared endpoint templates
        (``"/v1/customers/{customer_id}"``) and ``path_params`` its values: the
        SDK fills each placeholder with one percent-encoded segment and refuses
        an unsafe value with :class:`~sdk.InvalidArgumentsError` before anything
        is sent. Raises a :class:`~sdk.VendorError` subclass for any non-2xx outcome.
        """
        method = method.upper()
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        ctx = current_call.get()
        shown = _shown_path(ctx, method, path)
        if "{" in path or "}" in path or path_params is not None:
            path = self._fill(ctx, method, path, path_params or {})
        all_headers = {**self._default_headers, **(headers or {})}
        replayable = method in SAFE_METHODS
        if method == "POST" and ctx is not None and ctx.operation.allows_post_read(path):
            replayable = True
        if method not in SAFE_METHODS and self._auto_idempotency:
            idempotency_key = idempotency_key or str(uuid.uuid4())
        if idempotency_key is not None:
            if not self._idempotency_header:
                raise ValueError("this connector declares no idempotency_header")
            all_headers[self._idempotency_header] = idempotency_key
            replayable = True
        url = self._base_url + path
        if params and "?" not in path:
            # The same query httpx would build from ``params``, encoded once here: httpx otherwise
            # parses the whole URL twice (once bare, once with the query merged in), and vendor
            # reads such as HubSpot's carry a long ``properties`` list.
            url = f"{url}?{httpx.QueryParams(params)}"
            params = None
        request = self._client.build_request(
            method, url, params=params, json=json, data=data, headers=all_headers
        )
        deadline = ctx.deadline if ctx is not None else None

        def should_retry(exc: BaseException) -> bool:
            return isinstance(exc, _NotSentError) or (replayable and isinstance(exc, RETRYABLE))

        # Most requests succeed at the first attempt: make that one without building the retry
        # machinery (~20 µs), and hand a retryable failure to tenacity as its first attempt.
        try:
            return await self._attempt(request, deadline, shown)
        except Exception as exc:
            if not should_retry(exc):
                raise
            replay: list[Exception] = [exc]
        retrying = AsyncRetrying(
            stop=self._retry_policy.stop(deadline),
            wait=self._retry_policy.wait(),
            retry=retry_if_exception(should_retry),
            reraise=True,
            sleep=asyncio.sleep,
        )
        async for attempt in retrying:
            with attempt:
                if replay:
                    raise replay.pop()
                return await self._attempt(request, deadline, shown)
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover

    @staticmethod
    def _fill(ctx: CallContext | None, method: str, template: str, values: Mapping[str, object]) -> str:
        if ctx is None:
            raise ScopeDeniedError(
                f"refused a {method} request: vendor requests may only be sent by a dispatched operation"
            )
        endpoint = ctx.operation.endpoint(method, template)
        if endpoint is None:
            raise _refused(ctx, method, f"{method} {template} is not one of its declared endpoints")
        return endpoint.fill(values, operation=ctx.operation.name)

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and parse its JSON body (None for an empty body)."""
        response = await self.request(method, path, **kwargs)
        return self.parse_json(response)

    @staticmethod
    def parse_json(response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return jsonlib.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: a document nested deeper than the interpreter's recursion limit
            # (200 KB of '[' is enough); it must not escape untyped from every operation.
            pass
        # Raised outside the except block: JSONDecodeError keeps the whole document in .doc.
        ctx = current_call.get()
        method = response.request.method
        raw = response.request.url.raw_path.decode("ascii", "replace").partition("?")[0]
        if ctx is not None and ctx.base_path and raw.startswith(ctx.base_path):
            raw = raw[len(ctx.base_path) :]
        raise VendorPayloadError(
            "the vendor's response is not valid JSON (truncated, nested too deeply, or not JSON)",
            method=method,
            path=_shown_path(ctx, method, raw),
            status=response.status_code,
        )

    async def _attempt(self, request: httpx.Request, deadline: float | None, path: str) -> httpx.Response:
        """Send once. ``path`` is what errors show: the declared template, never the filled path."""
        method = request.method
        timeout = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError(f"the deadline passed before {method} {path} could be sent")
            timeout = min(remaining, DEFAULT_TIMEOUT.read or remaining)
            request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        failure: VendorError | None = None
        try:
            response = await self._client.send(request, auth=self._auth, stream=True)
            try:
                body = await self._read_limited(response, path)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            failure = translate_httpx_error(exc, method=method, path=path)
        if failure is not None:
            # Raised outside the except block: httpx errors hold the request, with its credential
            # header and query string, and must not ride along as __context__ (S3).
            raise failure
        ctx = current_call.get()
        if ctx is not None:
            ctx.http_status = response.status_code
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
        final = httpx.Response(response.status_code, headers=headers, content=body, request=request)
        if final.status_code < 400:
            return final
        echoes = _presented_values(request, ctx)
        context: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": final.status_code,
            "request_id": self._safe_hook(self._hooks.request_id, final, echoes),
            "vendor_code": self._safe_hook(self._hooks.error_code, final, echoes),
        }
        retry_after = self._safe_retry_after(final) if final.status_code == 429 else None
        raise _status_error(final.status_code, retry_after, context)

    async def _read_limited(self, response: httpx.Response, path: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_response_bytes:
            raise self._oversized(response, path)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_response_bytes:
                raise self._oversized(response, path)
            chunks.append(chunk)
        return b"".join(chunks)

    def _oversized(self, response: httpx.Response, path: str) -> VendorPayloadError:
        return VendorPayloadError(
            f"the vendor's response exceeds the {self._max_response_bytes}-byte limit",
            method=response.request.method,
            path=path,
            status=response.status_code,
        )

    def _safe_retry_after(self, response: httpx.Response) -> float | None:
        """Run the connector's ``retry_after`` hook; a hook bug must not mask the 429 itself.

        An exception (a hook parsing a hostile error body) or a value that is not a finite
        number of seconds counts as "no advice", so the retry policy's own back-off applies.
        """
        try:
            value = self._hooks.retry_after(response)
        except Exception:  # noqa: BLE001 - the rate limit is what the caller needs to see
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)

    @staticmethod
    def _safe_hook(hook: Any, response: httpx.Response, echoes: frozenset[str]) -> str | None:
        """Run a connector hook on an error response and keep its answer only if it is plainly safe.

        A hook bug must not mask the real error, so an exception counts as no
        answer. Whatever the vendor sent is untrusted (S3): the value must be a
        short token of letters, digits and ``_ . : -``, and must not contain
        anything this request presented — its credential, a path segment, a
        query value or a body value — which a vendor (or a proxy) may echo.
        """
        try:
            value = hook(response)
        except Exception:  # noqa: BLE001 - the vendor error is what the caller needs to see
            return None
        if not isinstance(value, str) or not _SAFE_VENDOR_TOKEN.fullmatch(value):
            return None
        folded = value.casefold()
        if any(echo in folded for echo in echoes):
            return None
        return value


def _shown_path(ctx: CallContext | None, method: str, path: str) -> str:
    """The path an error may name: a declared template (ids stay out of errors and logs)."""
    if "{" in path or ctx is None:
        return path
    found = ctx.operation.matching_endpoint(method, path)
    return found.template if found is not None else "(an undeclared path)"


_SAFE_VENDOR_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,95}")
_MIN_ECHO = 8


def _presented_values(request: httpx.Request, ctx: CallContext | None) -> frozenset[str]:
    """Every value this request carried that a vendor's echo must not carry back into an error.

    Header values (with Basic credentials decoded), path segments, query values
    and the string values of a JSON or form body, case-folded; values shorter
    than eight characters are too common to tell apart from an id or an error code
    (``limit``, ``email``) and are left out.
    """
    found: set[str] = set()
    # The words of the declared paths and the auth schemes are the SDK's own, not presented values.
    own = {"bearer", "basic"}
    if ctx is not None:
        for endpoint in ctx.operation.endpoints:
            own.update(part.casefold() for part in endpoint.template.split("/"))

    def add(text: str) -> None:
        for part in re.split(r"[\s:=,;/&]+", text):
            if len(part) >= _MIN_ECHO and part.casefold() not in own:
                found.add(part.casefold())

    for name, value in request.headers.items():
        if name.lower() in ("host", "content-length", "content-type", "accept", "user-agent"):
            continue
        add(value)
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError, binascii.Error):
                add(base64.b64decode(token, validate=True).decode("utf-8", "replace"))
    for segment in request.url.path.split("/"):
        add(segment)
    for _, value in request.url.params.multi_items():
        add(value)
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = b""
    if body:
        add(unquote_plus(body.decode("utf-8", "replace")))
    return frozenset(found)
