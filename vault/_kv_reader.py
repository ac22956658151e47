"""KV v2 reads on the event loop: one aiohttp connection pool per Vault address.

Every vendor request starts with a credential read, so this is the one Vault
call on the hot path. hvac is synchronous and had to run on worker threads:
~720 µs of client CPU per read against ~210 µs for a raw async read, and under
load the threads held the GIL while the event loop waited for it (stalls of
hundreds of ms, docs/benchmarks). aiohttp reads on the loop itself, without a
thread hop; measured against httpx's ``AsyncClient`` over the SDK's
``AiohttpTransport`` for the same read it costs ~200 µs less CPU per read, for
the same guarantees, so it is used directly.

This module only sends the request and says what came back. What an answer
*means* is decided the way hvac decides it, so that both read paths raise the
same SDK errors: a status becomes the exception hvac would raise for it
(:func:`hvac_error`), a transport failure the ``requests`` exception hvac's
``requests`` session would raise (:func:`transport_failure`), and
:func:`vault._errors.translate_vault_error` maps either to the SDK error.

What hvac with the client's ``requests`` session guarantees, this keeps:

* nothing from the environment: ``trust_env=False`` (no proxy variables, no
  ``.netrc``), no cookie jar, TLS verified as the tenant's ``verify`` says
  (``True``: certifi's bundle, as ``requests`` uses; a path: that CA file or
  directory; ``False``: unverified);
* ``X-Vault-Request: true`` on every request (what Vault Agent and Vault Proxy
  require against SSRF), ``X-Vault-Token`` only when there is a token,
  ``X-Vault-Namespace`` only with a namespace;
* the tenant's timeout to connect and for the longest silence while reading;
  waiting for a free pooled connection is not limited (as waiting for a free
  worker thread was not);
* no redirect is followed. hvac follows them (its default), and ``requests``
  strips only ``Authorization`` when a redirect changes host, so the
  ``X-Vault-Token`` header would go to whatever address the answer names. A
  redirect here (a standby node that does not forward requests) is an error
  that says so; the hvac calls of :class:`~vault.VaultClient` are told not to
  follow them either.

Nothing that holds a token leaves this module by exception: aiohttp's errors
carry the request's headers, so they are caught here and replaced by a fresh
``requests`` exception that holds nothing but its class and a fixed text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp
    import hvac.exceptions
    import yarl
    from requests.exceptions import RequestException

    _FailureTable = tuple[tuple[tuple[type[BaseException], ...], type[RequestException]], ...]

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "KvAnswer",
    "KvReader",
    "hvac_error",
    "TlsKey",
    "load_ssl_context",
    "transport_failure",
]

DEFAULT_MAX_CONNECTIONS = 32
"""Connections kept per Vault address (all its tenants together); more only queue inside Vault."""

_MAX_ERROR_BODY = 64 * 1024  # larger error answers are not parsed for Vault's error strings


@dataclasses.dataclass(frozen=True, slots=True)
class KvAnswer:
    """What one GET came back with: a status and body, or the transport failure instead."""

    status: int = 0
    content_type: str | None = None
    # Out of the repr: a 200 body holds the secret, and an error body may echo the request
    # (a proxy that quotes its headers); reprs end up in logs and in error reports' frame locals.
    body: bytes = dataclasses.field(default=b"", repr=False)
    failure: RequestException | None = None  # made by transport_failure
    index: str | None = None
    """The answering node's replication index (``X-Vault-Index``), see :mod:`vault._consistency`."""

    @property
    def token_refused(self) -> bool:
        """Whether Vault refused the token or the path (OpenBao says 403 for both)."""
        return self.status in (401, 403)

    @property
    def redirected(self) -> bool:
        return 300 <= self.status < 400

    def json(self) -> object:
        """The body of a 200 answer as JSON, or None where hvac would have handed back no mapping."""
        if self.status != 200:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def hvac_error(answer: KvAnswer, *, url: str) -> hvac.exceptions.VaultError | None:
    """Return the exception hvac raises for this answer's status, or None where it raises none.

    Mirrors ``hvac.adapters.RawAdapter._raise_for_error``: every status of 400
    and above raises ``VaultError.from_status`` (so 403 is ``Forbidden``, 404
    ``InvalidPath``, any 503 ``VaultDown``, 429 ``RateLimitExceeded``), with
    Vault's ``errors`` when the answer is JSON. A 404 for a deleted latest
    version is ``InvalidPath`` too, as with ``raise_on_deleted_version=True``.
    The body itself is not kept (Vault's error strings are all that is copied
    into messages, see :mod:`vault._errors`).
    """
    if answer.failure is not None or answer.status < 400:
        return None
    import hvac.exceptions

    errors: list[str] | None = None
    if answer.content_type == "application/json" and len(answer.body) <= _MAX_ERROR_BODY:
        try:
            parsed = json.loads(answer.body)
        except ValueError:
            parsed = None
        found = parsed.get("errors") if isinstance(parsed, Mapping) else None
        if isinstance(found, list):
            errors = [str(item) for item in found]
        elif isinstance(found, str):
            errors = [found]
    error: hvac.exceptions.VaultError = hvac.exceptions.VaultError.from_status(
        answer.status, None, errors=errors, method="get", url=url
    )
    return error


# --- transport failures -----------------------------------------------------------------------------

# (aiohttp class names, the requests exception hvac's session raises for the same failure), most
# specific first: certificate errors are connector errors, a connect timeout is a timeout. Names, not
# classes, so that aiohttp is imported only when a read is made (it costs ~60 ms to import), and
# requests (with hvac, ~70 ms) only when a read fails: a good read needs neither.
_FAILURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("ClientSSLError", "ServerFingerprintMismatch"), "SSLError"),
    (("ConnectionTimeoutError",), "ConnectTimeout"),
    (("ClientProxyConnectionError", "ClientHttpProxyError"), "ProxyError"),
    (("ClientConnectorError",), "ConnectionError"),
    (("ServerTimeoutError",), "ReadTimeout"),
    (("ClientPayloadError",), "ChunkedEncodingError"),
    (("InvalidURL", "NonHttpUrlClientError"), "InvalidURL"),
    # The server hung up or answered with something that is not HTTP: urllib3 calls these
    # protocol errors, which requests raises as ConnectionError.
    (("ServerConnectionError", "ClientOSError", "ClientConnectionError"), "ConnectionError"),
    (("ClientResponseError",), "ConnectionError"),
)


def _requests_class(name: str) -> type[RequestException]:
    """The ``requests`` exception class ``name`` (requests is imported on the first failure)."""
    import requests.exceptions

    found: type[RequestException] = getattr(requests.exceptions, name)
    return found


@functools.cache
def _failure_classes() -> _FailureTable:
    import aiohttp

    return tuple(
        (tuple(getattr(aiohttp, name) for name in names), _requests_class(failure))
        for names, failure in _FAILURES
    )


def transport_failure_class(cls: type[BaseException]) -> type[RequestException]:
    """Return the ``requests`` exception class hvac's session raises where aiohttp raises ``cls``."""
    for aiohttp_classes, failure in _failure_classes():
        if issubclass(cls, aiohttp_classes):
            return failure
    if issubclass(cls, ssl.SSLError | ssl.CertificateError):
        return _requests_class("SSLError")
    if issubclass(cls, TimeoutError):
        return _requests_class("ReadTimeout")  # aiohttp's sock_read timeout surfaces as a bare one
    if issubclass(cls, OSError):
        return _requests_class("ConnectionError")
    # A header value aiohttp refuses (a token with a line break) and anything else: requests refuses
    # those as InvalidHeader, i.e. "the request could not be made".
    return _requests_class("RequestException")


def transport_failure(exc: BaseException) -> RequestException:
    """Return a fresh ``requests`` exception standing for ``exc``, holding nothing of it."""
    failure = transport_failure_class(type(exc))
    return failure(f"{type(exc).__name__} while reading from Vault")


# --- TLS --------------------------------------------------------------------------------------------


TlsKey = tuple[bool | str, tuple[str, str] | str | None]
"""A TLS setting as ``requests`` takes it: (``verify``, ``cert``)."""


def load_ssl_context(verify: bool | str, cert: tuple[str, str] | str | None = None) -> ssl.SSLContext | bool:
    """Return what aiohttp's ``ssl=`` needs for ``verify`` and ``cert``, as ``requests`` reads them.

    ``verify`` is the CA setting (``True``, ``False`` or a bundle path) and
    ``cert`` the client certificate for mutual TLS: a file holding certificate
    and key, or a (certificate, key) pair. Loading reads files, so callers run
    this off the event loop. A file that cannot be loaded raises
    ``requests.exceptions.SSLError`` naming the setting, never the file's content.
    """
    try:
        if verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            if cert is None:
                return False
        elif verify is True:
            import certifi  # requests' own default bundle (trust_env is off: no REQUESTS_CA_BUNDLE)

            context = ssl.create_default_context(cafile=certifi.where())
        elif os.path.isdir(verify):
            context = ssl.create_default_context(capath=verify)
        else:
            context = ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError):
        failure = _requests_class("SSLError")(
            "the CA bundle named by 'ca_cert' or 'verify' could not be loaded"
        )
    else:
        if cert is None:
            return context
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        try:
            context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError):
            failure = _requests_class("SSLError")(
                "the client certificate named by 'client_cert' and 'client_key' could not be loaded"
            )
        else:
            return context
    raise failure


# --- the pool ---------------------------------------------------------------------------------------


class KvReader:
    """One aiohttp connection pool to one Vault address, shared by every client (tenant) using it.

    Tokens, namespaces, timeouts and TLS settings are per request, so tenants
    with different settings on one address share it safely: aiohttp keys its
    pooled connections on the TLS context too, and never mixes them up.

    Reads beyond ``max_connections`` wait in a first-come, first-served queue
    in front of aiohttp: aiohttp's own wait for a free connection is not fair,
    and with 100 reads at once on 32 connections some waited 400-600 ms while
    the median was 6 ms (p99 35 ms with the queue, the same throughput).

    The pool is opened on the first read, inside the running event loop, and
    belongs to that loop (:meth:`usable` says whether the running loop may use
    it); close it on that loop with :meth:`aclose`.
    """

    def __init__(self, address: str, *, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self.address = address
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ssl: dict[TlsKey, ssl.SSLContext | bool] = {}
        self._inflight = 0
        self._drained: asyncio.Event | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"KvReader(address={self.address!r}, open={self._session is not None}, closed={self._closed})"

    @property
    def closed(self) -> bool:
        return self._closed

    def usable(self) -> bool:
        """Whether a read from the running event loop can go through this pool."""
        return not self._closed and (self._loop is None or self._loop is asyncio.get_running_loop())

    def ssl_context(self, key: TlsKey) -> ssl.SSLContext | bool | None:
        """The loaded TLS setting for ``key`` (verify, cert), or None if it is not loaded yet.

        Loading reads files, so it happens off the loop (:func:`load_ssl_context`).

        One context per setting, shared by every client of this address: aiohttp
        pools connections by context, so a context per client would mean a pool
        per client.
        """
        if self.address.startswith("http://"):
            return True  # plain HTTP: nothing to verify, and one pool key for every client
        return self._ssl.get(key)

    def remember_ssl_context(self, key: TlsKey, context: ssl.SSLContext | bool) -> ssl.SSLContext | bool:
        """Keep ``context`` for ``key`` unless another read loaded one first; return the one kept."""
        return self._ssl.setdefault(key, context)

    def _open(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        import aiohttp

        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self._max_connections)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_connections),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            raise_for_status=False,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session, self._slots

    async def get(
        self,
        url: yarl.URL,
        headers: Mapping[str, str],
        *,
        client_timeout: aiohttp.ClientTimeout,
        ssl: ssl.SSLContext | bool,
    ) -> KvAnswer:
        """Send one GET and return the answer; a transport failure is returned, never raised.

        Returned rather than raised so that no traceback of an error the caller
        sees passes through a frame holding ``headers`` (the token): error
        reporters capture frame locals.
        """
        if self._closed:
            return KvAnswer(failure=_requests_class("ConnectionError")("the Vault connection pool is closed"))
        session, slots = self._session, self._slots
        if session is None or slots is None:
            session, slots = self._open()
        self._inflight += 1
        try:
            async with (
                slots,
                session.get(
                    url, headers=headers, allow_redirects=False, timeout=client_timeout, ssl=ssl
                ) as response,
            ):
                body = await response.read()
                if response.status >= 500:
                    # A node that cannot serve (sealed, no active node, failing) is not asked again
                    # over this kept-alive connection: the retry connects anew, and a load balancer
                    # sends a new connection to a node that can (see CredentialStore.failover_wait).
                    response.close()
                return KvAnswer(
                    response.status,
                    response.headers.get("Content-Type"),
                    body,
                    index=response.headers.get("X-Vault-Index"),
                )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a fresh requests exception
            return KvAnswer(failure=transport_failure(exc))
        finally:
            self._inflight -= 1
            if self._inflight == 0 and self._drained is not None:
                self._drained.set()

    async def aclose(self) -> None:
        """Wait for reads in flight (each ends within its timeout), then close every connection.

        From a loop other than the pool's, the pool's own loop closes it if that
        loop is still running; if it has been closed already, the connections
        died with it and aiohttp cannot close them any more (it warns when they
        are collected): close the store on the loop that used it.
        """
        if self._closed:
            return
        self._closed = True
        session, loop = self._session, self._loop
        self._session = None
        if session is None or loop is None:
            return
        if loop is asyncio.get_running_loop():
            if self._inflight:
                self._drained = asyncio.Event()
                await self._drained.wait()
            await session.close()
        elif not loop.is_closed():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(session.close(), loop))

    def discard(self) -> None:
        """Forget the pool without I/O, for an owner whose construction failed before any read."""
        self._closed = True
        if self._session is not None:
            self._session.detach()  # nothing was read yet in that case; never more than a formality
            self._session = None
