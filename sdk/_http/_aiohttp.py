"""The network under the SDK's httpx clients: aiohttp's connection pool, or httpx's own.

Measured on 2 cores against a loopback server, httpx's default transport costs
several times the client CPU per request of aiohttp, and the gap widens with
concurrency (encode/httpx#3215, ``docs/benchmarks/index.md``). httpx stays the
API connectors and tests see: a test still injects
``httpx.MockTransport(router.async_handler)`` and nothing reaches aiohttp.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

from sdk._http._guard import SAFE_METHODS

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BODY_LIMIT", "AiohttpTransport", "default_transport"]

BODY_LIMIT = "nexora.max_response_bytes"
"""Request extension: the most bytes the sender will read. A response that declares a length within
it, with no content coding, is read whole by the transport and handed over already read: one
``httpx.Response`` built instead of a streamed one and then a second with the body."""

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
        limit = request.extensions.get(BODY_LIMIT)
        length = response.content_length
        if (
            limit is not None
            and length is not None
            and length <= limit
            and not response.headers.get("Content-Encoding")
        ):
            try:
                body = await response.read()
            except (OSError, aiohttp.ClientError, TimeoutError) as exc:
                failure = _map_aiohttp_error(exc, request)
            finally:
                response.release()
            if failure is not None:
                raise failure
            return httpx.Response(
                response.status,
                headers=list(response.raw_headers),
                content=body,
                request=request,
                extensions=extensions,
            )
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
