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
import functools
import json as jsonlib
import logging
import math
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from tenacity import AsyncRetrying, retry_if_exception

from sdk._context import CallContext, current_call
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
    """Remove query strings from httpx's request log lines.

    httpx logs every request URL at INFO. Vendor search APIs carry the caller's
    phone number or email in the query (Stripe ``query=phone:'+64...'``), so a
    service that turns on INFO logging would write customer data to its logs.
    Only the query is removed; method, host, path and status stay.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx.URL) and arg.query else arg
                for arg in record.args
            )
        return True


def _install_log_filter() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _StripQueryFilter) for f in logger.filters):
        logger.addFilter(_StripQueryFilter())


_install_log_filter()
DEFAULT_TIMEOUT = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=2.0)
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024


def enforce_request_scope(request: httpx.Request) -> CallContext:
    """Refuse ``request`` unless the operation in progress may send it (S1, HTTP layer).

    GET/HEAD/OPTIONS are reads. Any other method is allowed only when the
    operation declares a write scope that the tenant granted, or when it is a
    POST to a path the (read) operation declared as a read-over-POST.
    Requests made outside a dispatched operation are refused outright.
    """
    method = request.method.upper()
    path = request.url.path
    ctx = current_call.get()
    if ctx is None:
        raise ScopeDeniedError(
            f"refused {method} {path}: vendor requests may only be sent by a dispatched operation"
        )
    if method in SAFE_METHODS:
        return ctx
    spec = ctx.operation
    if spec.scope.is_write:
        if ctx.grant.allows(spec.scope):
            return ctx
        raise ScopeDeniedError(
            f"refused {method} {path}: {spec.name} needs {spec.scope}, which tenant {ctx.tenant!r} "
            f"did not grant integration {ctx.integration!r}",
            scope=str(spec.scope),
        )
    if method == "POST" and spec.allows_post_read(path):
        return ctx
    raise ScopeDeniedError(
        f"refused {method} {path}: {spec.name} holds only {spec.scope} and does not declare this path "
        "as a read over POST",
        scope=str(spec.scope),
    )


class ScopeGuardTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport and checks every request just before it is sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ctx = enforce_request_scope(request)
        ctx.requests_sent += 1
        return await self._inner.handle_async_request(request)

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
        self._auth = auth
        self._hooks = hooks
        self._retry_policy = retry_policy
        self._idempotency_header = idempotency_header
        self._auto_idempotency = auto_idempotency and idempotency_header is not None
        self._max_response_bytes = max_response_bytes
        self._default_headers = dict(default_headers or {})

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one logical request (with retries) and return the fully read response.

        Raises a :class:`~sdk.VendorError` subclass for any non-2xx outcome.
        """
        method = method.upper()
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        all_headers = {**self._default_headers, **(headers or {})}
        replayable = method in SAFE_METHODS
        ctx = current_call.get()
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
            return await self._attempt(request, deadline)
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
                return await self._attempt(request, deadline)
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover

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
        raise VendorPayloadError(
            "the vendor's response is not valid JSON (truncated, nested too deeply, or not JSON)",
            method=response.request.method,
            path=response.request.url.path,
            status=response.status_code,
        )

    async def _attempt(self, request: httpx.Request, deadline: float | None) -> httpx.Response:
        method, path = request.method, request.url.path
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
                body = await self._read_limited(response)
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
        context: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": final.status_code,
            "request_id": self._safe_hook(self._hooks.request_id, final),
            "vendor_code": self._safe_hook(self._hooks.error_code, final),
        }
        retry_after = self._safe_retry_after(final) if final.status_code == 429 else None
        raise _status_error(final.status_code, retry_after, context)

    async def _read_limited(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_response_bytes:
            raise self._oversized(response)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_response_bytes:
                raise self._oversized(response)
            chunks.append(chunk)
        return b"".join(chunks)

    def _oversized(self, response: httpx.Response) -> VendorPayloadError:
        return VendorPayloadError(
            f"the vendor's response exceeds the {self._max_response_bytes}-byte limit",
            method=response.request.method,
            path=response.request.url.path,
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
    def _safe_hook(hook: Any, response: httpx.Response) -> str | None:
        """Run a connector hook on an error response; a hook bug must not mask the real error."""
        try:
            value = hook(response)
        except Exception:  # noqa: BLE001 - the vendor error is what the caller needs to see
            return None
        if value is None:
            return None
        text = str(value)
        return text[:128] if text.isprintable() else None
