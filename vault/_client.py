"""An asyncio face on one hvac client: KV v2 reads and writes that never block the event loop.

The hot path, the KV v2 read every vendor request starts with, is sent on the
event loop itself through aiohttp (:mod:`vault._kv_reader`): no thread hop, and
no worker thread holding the GIL while the loop waits for it. Everything else
(logins, token lookups and renewals, writes with check-and-set, metadata)
is hvac, which is synchronous (requests), so it runs on a small thread pool
owned by the client; with ``async_reads=False`` reads go that way too. Both
read paths raise the same errors for the same answers: the on-loop read turns
what it got into the exception hvac would have raised and translates that.

Login state lives here, once, for both paths: the token is obtained lazily, a
read sends the token hvac currently holds, and a 403 is told apart into "this
token is no good" (log in again once, retry once) and "this token may not read
that path" (a policy denial, reported as such).

Tokens that expire are kept alive in the background (see :mod:`vault._renewal`):
renewed at two thirds of their lease, replaced by a new AppRole login once they
cannot be renewed any more, and never sent once known to be expired: a read
that finds the token expired logs in first, or, for a token provisioned out of
band, fails with :class:`~sdk._errors.VaultAuthError` without sending it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import hvac
import hvac.exceptions
import hvac.utils
import requests
import requests.adapters
from pydantic import SecretStr

from sdk._errors import (
    CredentialError,
    UsageError,
    VaultAuthError,
    VaultConflictError,
    VaultError,
    VaultPermissionError,
    VaultUnavailableError,
)
from vault._errors import FOREIGN_ERRORS, translate_vault_error
from vault._kv_reader import KvAnswer, KvReader, hvac_error, load_ssl_context
from vault._renewal import TokenLease, TokenRenewer
from vault._settings import AppRoleAuth, JwtAuth, TokenAuth, VaultSettings

if TYPE_CHECKING:
    import aiohttp
    import yarl

__all__ = ["SecretVersionInfo", "VaultClient", "vault_executor"]

_T = TypeVar("_T")

DEFAULT_THREADS = 8
_MAX_CONNECTIONS = 32


def vault_executor(max_workers: int = DEFAULT_THREADS) -> ThreadPoolExecutor:
    """Return a thread pool for hvac calls with all of its threads already started.

    ``ThreadPoolExecutor`` starts threads lazily inside ``submit``, i.e. on the
    event loop, and ``Thread.start`` waits for the new thread to get the GIL:
    under a burst of reads that stalled the loop for ~60 ms on 2 cores.
    Starting them here, at configuration time, costs ~1.5 ms once. Eight
    threads: on 2 cores more only lengthen GIL hand-offs (worst loop stall
    ~25 ms at 16 threads, ~15 ms at 8) without reading any faster.
    """
    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="nexora-vault")
    barrier = threading.Barrier(max_workers + 1)
    for _ in range(max_workers):
        executor.submit(barrier.wait, 10)
    barrier.wait(10)
    return executor


_TOKEN_ERRORS = (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized)
_MAX_CACHED_URLS = 4096
# What renew-self answers for a token that is revoked, expired or not renewable.
_NOT_RENEWABLE_ERRORS = (*_TOKEN_ERRORS, hvac.exceptions.InvalidRequest)
# What makes upkeep try again shortly: Vault down, sealed, slow, or failing.
_UPKEEP_RETRYABLE: tuple[type[BaseException], ...] = (VaultUnavailableError, *FOREIGN_ERRORS)

logger = logging.getLogger("vault.client")


@dataclasses.dataclass(frozen=True, slots=True)
class SecretVersionInfo:
    """What Vault knows about one version of a secret, without its value."""

    version: int
    created_time: datetime
    deletion_time: datetime | None
    destroyed: bool

    @property
    def readable(self) -> bool:
        """Whether the value of this version can still be read (it is neither deleted nor destroyed)."""
        return self.deletion_time is None and not self.destroyed


@dataclasses.dataclass(frozen=True, slots=True)
class _Where:
    """Names for error messages: which secret an hvac call was about."""

    path: str
    tenant: str | None = None
    integration: str | None = None

    @property
    def what(self) -> str:
        names = [f"tenant {self.tenant!r}"] if self.tenant else []
        names += [f"integration {self.integration!r}"] if self.integration else []
        return ", ".join(names) if names else f"path {self.path!r}"


class VaultClient:
    """One logged-in connection to one Vault (or OpenBao) server.

    ``token``, if given, is used instead of looking one up as the settings say;
    with AppRole settings it is only the first token, and a new one is obtained
    by logging in when it stops working. Calls are safe from many tasks at once.
    hvac calls run on ``executor`` (see :func:`vault_executor`); without one the
    client makes and owns its own.

    KV reads go through ``reader``, the aiohttp pool of this Vault address
    (shared with other clients of the address; without one the client makes
    and owns its own), on the event loop of the first read. A read from
    another event loop, or every read with ``async_reads=False``, goes through
    hvac on ``executor`` instead, with the same results and errors.

    A token with a TTL is renewed in the background while the client is in use
    (``renew_tokens=False`` turns that off, e.g. for one-shot commands); the
    renewer is one asyncio task on the loop of the client's calls, doing its
    Vault requests on ``executor``, and :meth:`close` stops it. ``clock`` is
    for tests.
    """

    def __init__(
        self,
        settings: VaultSettings,
        *,
        token: str | None = None,
        executor: ThreadPoolExecutor | None = None,
        renew_tokens: bool = True,
        clock: Callable[[], float] = time.monotonic,
        async_reads: bool = True,
        reader: KvReader | None = None,
    ) -> None:
        if reader is not None and reader.address != settings.address:
            raise UsageError(
                f"the KV reader for {reader.address} cannot serve a client of {settings.address}"
            )
        self._settings = settings
        # Tokens are held as SecretStr (masked in repr, str and logs, S3) and unwrapped only
        # where they are sent; hvac keeps its own plain copy, in its adapter.
        self._explicit_token = SecretStr(token) if token is not None else None
        self._owns_executor = executor is None
        self._executor = executor if executor is not None else vault_executor()
        self._clock = clock
        self._owns_reader = async_reads and reader is None
        self._reader = (reader or KvReader(settings.address)) if async_reads else None
        self._read_headers_base = {"X-Vault-Request": "true"}  # as hvac sends: Vault Agent's SSRF guard
        if settings.namespace:
            self._read_headers_base["X-Vault-Namespace"] = settings.namespace
        self._read_timeout: aiohttp.ClientTimeout | None = None  # made on the first read (aiohttp is lazy)
        self._urls: dict[tuple[str, int | None], yarl.URL] = {}
        session = requests.Session()
        # Proxies, netrc and CA bundles from the environment are process-wide
        # settings that would silently apply to every tenant's Vault; the
        # tenant's settings are the only source of truth. It also saves the
        # per-request environment lookups requests does otherwise.
        session.trust_env = False
        session.verify = settings.tls_verify
        session.cert = settings.tls_client_cert
        # Room for one kept-alive connection per thread of any sensible pool;
        # urllib3 opens connections on demand, so the size costs nothing idle.
        pool = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=_MAX_CONNECTIONS)
        session.mount("http://", pool)
        session.mount("https://", pool)
        # token="" (not None): hvac would otherwise pick up VAULT_TOKEN or
        # ~/.vault-token, a credential this tenant was never configured with.
        # No redirects: requests would re-send X-Vault-Token to whatever host a
        # redirect names (it strips only Authorization); see vault._kv_reader.
        self._hvac: Any = hvac.Client(
            url=settings.address,
            token="",
            verify=settings.tls_verify,
            cert=settings.tls_client_cert,
            timeout=settings.timeout,
            namespace=settings.namespace,
            session=session,
            allow_redirects=False,
        )
        self._login_lock = threading.Lock()
        self._generation = 0  # bumped by every successful login
        self._current_token: SecretStr | None = None
        self._owns_token = False  # True when the token came from our own login
        self._lease: TokenLease | None = None  # None: no token yet, or one that never expires
        self._renewer = (
            TokenRenewer(
                first_delay=self._first_upkeep_delay,
                upkeep=self._upkeep,
                executor=self._executor,
                name=f"vault-token-renewer {settings.address}",
            )
            if renew_tokens
            else None
        )
        self._closed = False
        self.logins: int = 0
        """How many tokens this client has taken up: logins, and tokens read from their source."""
        self.renewals: int = 0
        """How many times this client has renewed its token."""

    def __repr__(self) -> str:
        return (
            f"VaultClient(address={self._settings.address!r}, namespace={self._settings.namespace!r}, "
            f"auth={self._settings.auth.method!r})"
        )

    @property
    def settings(self) -> VaultSettings:
        """The settings this client was made from."""
        return self._settings

    @property
    def token_expires_in(self) -> float | None:
        """Seconds until the current token expires; None without a token or for one that never expires."""
        lease = self._lease
        return None if lease is None else lease.expires_at - self._clock()

    # --- public async API ------------------------------------------------------------

    async def read_secret(
        self,
        path: str,
        *,
        version: int | None = None,
        tenant: str | None = None,
        integration: str | None = None,
    ) -> tuple[dict[str, object], int]:
        """Return the data and version number of the KV v2 secret at ``path``.

        Reads the newest version unless ``version`` is given; a deleted or
        destroyed version is reported as not found rather than returned empty.
        ``tenant`` and ``integration`` only name the secret in error messages.
        """
        where = _Where(path, tenant, integration)
        reader = self._reader
        response: object
        if reader is not None and reader.usable():
            response = await self._read_on_loop(reader, where, path, version)
        else:
            response = await self._submit(
                where,
                lambda: self._hvac.secrets.kv.v2.read_secret_version(
                    path=path,
                    version=version,
                    mount_point=self._settings.mount,
                    raise_on_deleted_version=True,
                ),
            )
        body = _mapping(response, "data")
        data = body.get("data")
        metadata = _mapping(body, "metadata")
        number = metadata.get("version")
        if not isinstance(data, dict) or not isinstance(number, int):
            raise self._shape_error(where)
        return dict(data), number

    async def write_secret(
        self,
        path: str,
        data: Mapping[str, object],
        *,
        cas: int | None,
        tenant: str | None = None,
        integration: str | None = None,
    ) -> int:
        """Write ``data`` as a new version of the secret at ``path`` and return its number.

        With ``cas`` the write only succeeds if the current version is ``cas``
        (``0``: only if there is none yet), so that two rotations cannot both win.
        """
        where = _Where(path, tenant, integration)
        payload = dict(data)
        failure: VaultError | None = None
        try:
            response = await self._submit(
                where,
                lambda: self._hvac.secrets.kv.v2.create_or_update_secret(
                    path=path, secret=payload, cas=cas, mount_point=self._settings.mount
                ),
            )
        except VaultPermissionError:
            # The generic denial names the read capability; a write needs more.
            failure = VaultPermissionError(
                f"Vault at {self._vault_name} denied writing the credential of {where.what} "
                f"({self._settings.mount}/data/{path}): the token may not create or update it. Writing "
                "keys needs the tenant's admin token, with the policy vault.tenant_policy_hcl(tenant, "
                "settings, write=True); the voice agent's read-only token cannot write"
            )
        except VaultError as exc:
            # Vault answers a lost check-and-set with a 400 whose text says the versions differ.
            if (
                cas is None
                or type(exc) is not VaultError
                or "did not match the current version" not in str(exc)
            ):
                raise
            failure = VaultConflictError(
                f"check-and-set write to {path!r} lost: the current version is no longer {cas}; "
                "another writer got there first, re-read and retry"
            )
        if failure is not None:
            raise failure
        number = _mapping(response, "data").get("version")
        if not isinstance(number, int):
            raise self._shape_error(where)
        return number

    async def read_versions(
        self, path: str, *, tenant: str | None = None, integration: str | None = None
    ) -> list[SecretVersionInfo]:
        """Return every version Vault keeps of the secret at ``path``, oldest first, without values."""
        where = _Where(path, tenant, integration)
        denied: VaultPermissionError | None = None
        try:
            response = await self._submit(
                where,
                lambda: self._hvac.secrets.kv.v2.read_secret_metadata(
                    path=path, mount_point=self._settings.mount
                ),
            )
        except VaultPermissionError:
            denied = VaultPermissionError(
                f"Vault at {self._vault_name} denied listing the versions of the credential of "
                f"{where.what}: the token needs read on {self._settings.mount}/metadata/{path} "
                "(vault.tenant_policy_hcl grants it)"
            )
        if denied is not None:
            raise denied
        versions = _mapping(_mapping(response, "data"), "versions")
        try:
            infos = [_version_info(int(number), _mapping(info)) for number, info in versions.items()]
        except (TypeError, ValueError):
            infos = None
        if infos is None:
            raise self._shape_error(where)
        return sorted(infos, key=lambda info: info.version)

    async def close(self) -> None:
        """Revoke a token this client logged in for, then release its threads and connections.

        A token handed to the client (token auth) belongs to someone else and is
        left alone. An executor passed in belongs to the caller and stays open.
        """
        if self._closed:
            return
        self._closed = True
        if self._renewer is not None:
            await self._renewer.stop()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._revoke_own_token)
        if self._owns_executor:
            await asyncio.to_thread(self._executor.shutdown, wait=True)
        if self._owns_reader and self._reader is not None:
            await self._reader.aclose()
        self._hvac.token = None
        self._current_token = None
        self._hvac.adapter.close()

    # --- machinery -------------------------------------------------------------------

    async def _submit(self, where: _Where, call: Callable[[], _T]) -> _T:
        self._check_open()
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._executor, functools.partial(self._run, where, call))
        self._keep_renewing()
        return result

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError(f"{self!r} is closed; create a new client (or CredentialStore)")

    def _keep_renewing(self) -> None:
        lease, renewer = self._lease, self._renewer
        if renewer is not None and lease is not None and not lease.abandoned and not renewer.running:
            renewer.ensure_running()

    def _run(self, where: _Where, call: Callable[[], _T]) -> _T:
        """Run ``call`` with login and re-login on a worker thread, and translate what it raises."""
        return self._translated(where, lambda: self._call_with_login(call))

    def _translated(self, where: _Where, call: Callable[[], _T]) -> _T:
        """Run ``call`` (on a worker thread) and translate the hvac and requests errors it raises.

        The SDK error is raised after the ``except`` block on purpose, so it
        carries neither ``__cause__`` nor ``__context__``: see vault._errors.
        """
        try:
            result = call()
        except FOREIGN_ERRORS as exc:
            error = self._translate(where, exc)
        except OSError:
            # requests raises a bare OSError, naming the path, for a CA bundle or client
            # certificate file that does not exist: a TLS setting to fix, reported as such.
            error = self._translate(
                where, requests.exceptions.SSLError("a TLS file named by the settings could not be loaded")
            )
        else:
            if not _is_redirect(result):
                return result
            assert isinstance(result, requests.Response)
            error = self._redirect_error(where, result.status_code)
        raise error

    @property
    def _vault_name(self) -> str:
        """The Vault as error messages name it: its address, and the namespace if there is one."""
        namespace = self._settings.namespace
        address = self._settings.address
        return f"{address} (namespace {namespace!r})" if namespace else address

    def _translate(self, where: _Where, exc: BaseException) -> VaultError | CredentialError:
        error = translate_vault_error(
            exc,
            path=where.path,
            tenant=where.tenant,
            integration=where.integration,
            address=self._vault_name,
            mount=self._settings.mount,
        )
        if self._settings.namespace and type(error) is VaultPermissionError:
            error = VaultPermissionError(
                f"{error}; a token works only in the namespace it was issued in and those below it, "
                "so a token of another namespace (another tenant's) is refused here"
            )
        return error

    def _redirect_error(self, where: _Where, status: int) -> VaultError:
        return VaultError(
            f"Vault at {self._vault_name} answered the request for {where.what} with a redirect "
            f"(HTTP {status}) to another node, typically a standby that does not forward requests to the "
            "active node. Redirects are not followed, since that would send the Vault token to whatever "
            "address the answer names: point this tenant's Vault address at the active node or at the "
            "cluster's load balancer"
        )

    # --- the KV read on the event loop (see vault._kv_reader) -----------------------------

    async def _read_on_loop(self, reader: KvReader, where: _Where, path: str, version: int | None) -> object:
        """Read one KV v2 secret through aiohttp, with the login logic of :meth:`_call_with_login`.

        Only what may block runs on the executor, and only when it is needed: a
        login (no token yet, or one known to be expired: it is never sent), and
        after a 401 or 403 the token's self-lookup and the one re-login.
        """
        self._check_open()
        loop = asyncio.get_running_loop()
        lease = self._lease
        if self._current_token is None or (lease is not None and lease.expired(self._clock())):
            generation = await loop.run_in_executor(
                self._executor, functools.partial(self._translated, where, self._ensure_logged_in)
            )
        else:
            generation = self._generation
        url = self._kv_url(path, version)
        tls_key = (self._settings.tls_verify, self._settings.tls_client_cert)
        tls = reader.ssl_context(tls_key)
        if tls is None:
            loaded = await loop.run_in_executor(
                self._executor,
                functools.partial(self._translated, where, lambda: load_ssl_context(*tls_key)),
            )
            tls = reader.remember_ssl_context(tls_key, loaded)
        timeout = self._read_timeout or self._make_read_timeout()
        answer = await reader.get(url, self._read_headers(), client_timeout=timeout, ssl=tls)
        if answer.token_refused:
            # OpenBao answers 403 both for a bad token and for a policy denial;
            # only the token's own lookup tells them apart (on the executor: hvac).
            retry = await loop.run_in_executor(
                self._executor,
                functools.partial(
                    self._translated, where, functools.partial(self._relogin_if_bad, generation)
                ),
            )
            if retry:
                answer = await reader.get(url, self._read_headers(), client_timeout=timeout, ssl=tls)
        return self._answer_payload(where, answer, url)

    def _answer_payload(self, where: _Where, answer: KvAnswer, url: yarl.URL) -> object:
        """Return the JSON of a good answer, or raise what hvac's answer would have been translated to."""
        failure: BaseException | None = answer.failure or hvac_error(answer, url=url.path_qs)
        if failure is not None:
            raise self._translate(where, failure)
        if answer.redirected:
            raise self._redirect_error(where, answer.status)
        self._keep_renewing()
        return answer.json()

    def _relogin_if_bad(self, generation: int) -> bool:
        """After a 401 or 403: True if the token was bad and a new one is in place; False if denied."""
        if self._token_still_valid(generation):
            return False
        self._login_again(generation)
        return True

    def _read_headers(self) -> dict[str, str]:
        headers = dict(self._read_headers_base)
        token = self._current_token
        if token is not None and token.get_secret_value():  # as hvac: never an empty header
            headers["X-Vault-Token"] = token.get_secret_value()
        return headers

    def _kv_url(self, path: str, version: int | None) -> yarl.URL:
        """The URL hvac's ``read_secret_version`` sends, built once per path and version."""
        key = (path, version)
        url = self._urls.get(key)
        if url is None:
            import yarl

            # hvac.utils.format_url quotes each part; the adapter collapses '//' and joins.
            api_path = hvac.utils.format_url(
                "/v1/{mount_point}/data/{path}", mount_point=self._settings.mount, path=path
            )
            while "//" in api_path:
                api_path = api_path.replace("//", "/")
            query = "" if version is None else f"?version={int(version)}"
            url = yarl.URL(f"{self._settings.address.rstrip('/')}/{api_path.strip('/')}{query}", encoded=True)
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()
            self._urls[key] = url
        return url

    def _make_read_timeout(self) -> aiohttp.ClientTimeout:
        import aiohttp

        # requests' timeout=t: t to connect, and t of silence at most while reading.
        timeout = self._settings.timeout
        self._read_timeout = aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=timeout, sock_read=timeout
        )
        return self._read_timeout

    def _call_with_login(self, call: Callable[[], _T]) -> _T:
        generation = self._ensure_logged_in()
        try:
            return call()
        except _TOKEN_ERRORS:
            # OpenBao answers 403 both for a bad token and for a policy denial;
            # only the token's own lookup tells them apart.
            if self._token_still_valid(generation):
                raise
        self._login_again(generation)
        return call()

    def _ensure_logged_in(self) -> int:
        lease = self._lease
        if self._current_token is None or (lease is not None and lease.expired(self._clock())):
            with self._login_lock:
                lease = self._lease
                if self._current_token is None:
                    self._login_locked()
                elif lease is not None and lease.expired(self._clock()):
                    self._replace_expired_locked()
        return self._generation

    def _replace_expired_locked(self) -> None:
        """Take up a new token before a request, because the current one is known to be expired."""
        if self._uses_configured_token() and _same(self._configured_token(), self._current_token):
            raise VaultAuthError(
                f"the Vault token for {self._settings.address} has expired: it reached its maximum TTL "
                f"or was not renewable, so it could not be renewed any more; {self._token_remedy()}"
            )
        logger.info(
            "the Vault token for %s expired; taking up a new one before the request", self._settings.address
        )
        self._login_locked()

    def _token_still_valid(self, generation: int) -> bool:
        if generation != self._generation:
            return False  # another thread logged in meanwhile; just retry with its token
        try:
            self._hvac.auth.token.lookup_self()
        except _TOKEN_ERRORS:
            return False
        # A login that finished meanwhile means the lookup may have sent the new
        # token, whose validity says nothing about the refused one: retry with it.
        return generation == self._generation

    def _login_again(self, generation: int) -> None:
        with self._login_lock:
            if generation != self._generation:
                return
            stale = self._current_token
            self._login_locked()
            if _same(self._current_token, stale):
                raise VaultAuthError(
                    f"the Vault token for {self._settings.address} expired or was revoked; "
                    f"{self._token_remedy()}"
                )

    def _login_locked(self) -> None:
        auth = self._settings.auth
        started = self._clock()
        login: Mapping[str, object] | None = None
        token: SecretStr
        if self._explicit_token is not None and self._generation == 0:
            token, owned = self._explicit_token, False
        elif isinstance(auth, TokenAuth):
            token, owned = self._configured_token(), False
        else:
            (token, login), owned = self._method_login(auth), True
        # The old token, if ours, is left to expire rather than revoked: requests
        # in flight on other threads may still carry it, and it has at most a
        # third of its last lease left.
        self._hvac.token = token.get_secret_value()
        self._current_token = token
        self._owns_token = owned
        self._generation += 1
        self.logins += 1
        # Unknown until the lookup answers: if it fails, the old token's lease must not linger.
        self._lease = None
        if login is not None:
            self._lease = TokenLease.from_auth(login, obtained_at=started)
        else:
            self._lease = self._look_up_lease(started)

    def _look_up_lease(self, started: float) -> TokenLease | None:
        """Ask Vault how long the current token lives (the default policy allows every token this)."""
        try:
            response = self._hvac.auth.token.lookup_self()
        except _TOKEN_ERRORS:
            return None  # a bad token: the request it was wanted for will say so
        return TokenLease.from_lookup(_mapping(response, "data"), obtained_at=started)

    def _uses_configured_token(self) -> bool:
        """Whether new tokens come from the settings' token source (or the caller) rather than a login."""
        return isinstance(self._settings.auth, TokenAuth)

    def _configured_token(self) -> SecretStr:
        auth = self._settings.auth
        assert isinstance(auth, TokenAuth)
        return self._explicit_token or SecretStr(_read_token(auth))

    # --- keeping the token alive (runs on the executor, see vault._renewal) -----------

    def _first_upkeep_delay(self) -> float | None:
        lease = self._lease
        if self._closed or lease is None or lease.abandoned:
            return None
        return max(0.0, lease.upkeep_at - self._clock())

    def _upkeep(self) -> float | None:
        """Renew the token, or replace it if it cannot be renewed; return seconds until the next upkeep."""
        with self._login_lock:
            lease = self._lease
            if self._closed or lease is None or lease.abandoned:
                return None
            started = self._clock()
            if started < lease.upkeep_at:
                return lease.upkeep_at - started  # replaced by a read meanwhile
            try:
                if not lease.final and self._renew_locked(lease, started):
                    return self._first_upkeep_delay()
                self._replace_final_locked()
            except _UPKEEP_RETRYABLE as exc:
                now = self._clock()
                if lease.expired(now):
                    return None  # the next read logs in again, once Vault is back
                logger.warning(
                    "could not renew or replace the Vault token for %s (%s); trying again shortly",
                    self._settings.address,
                    type(exc).__name__,
                )
                return lease.retry_delay(now)
            except VaultAuthError as exc:
                # The login credentials were refused: reads will report it, with the remedy,
                # once the token expires. Upkeep gives up on this token rather than retrying
                # a refused login on every read.
                self._lease = dataclasses.replace(lease, abandoned=True)
                logger.error("could not replace the Vault token for %s: %s", self._settings.address, exc)
                return None
            return self._first_upkeep_delay()

    def _renew_locked(self, lease: TokenLease, started: float) -> bool:
        try:
            response = self._hvac.auth.token.renew_self(increment=max(1, int(lease.full_ttl)))
        except _NOT_RENEWABLE_ERRORS:
            # Revoked, expired or not renewable after all: replace it instead.
            self._lease = dataclasses.replace(lease, final=True)
            return False
        self._lease = lease.renewed(_mapping(response, "auth"), obtained_at=started)
        self.renewals += 1
        logger.debug(
            "renewed the Vault token for %s for %.0f s%s",
            self._settings.address,
            self._lease.ttl,
            " (its maximum TTL is near: it will be replaced)" if self._lease.final else "",
        )
        return True

    def _replace_final_locked(self) -> None:
        """Take up a new token because the current one cannot be renewed any further."""
        if not self._uses_configured_token():
            self._login_locked()
            logger.debug(
                "logged in to Vault at %s again: the old token could not be renewed", self._settings.address
            )
            return
        token = self._configured_token()
        if not _same(token, self._current_token):
            self._login_locked()  # an operator (or Vault Agent) provided a new token meanwhile
            return
        lease = self._lease
        assert lease is not None
        self._lease = dataclasses.replace(lease, abandoned=True)
        logger.warning(
            "the Vault token for %s cannot be renewed any more and expires in %.0f s; %s",
            self._settings.address,
            max(0.0, lease.expires_at - self._clock()),
            self._token_remedy(),
        )

    def _method_login(self, auth: AppRoleAuth | JwtAuth) -> tuple[SecretStr, Mapping[str, object]]:
        """Log in and return the token with the ``auth`` block of the answer (its lease).

        The login secret (AppRole secret id, or the workload's JWT) is read from
        its source at every login and not kept: a rotated one is picked up.
        """
        where = f"auth/{auth.mount_point}/login"
        try:
            if isinstance(auth, JwtAuth):
                jwt = SecretStr(_read_file(auth.token_file, "workload identity JWT"))
                response = self._hvac.auth.jwt.jwt_login(
                    role=auth.role, jwt=jwt.get_secret_value(), path=auth.mount_point, use_token=False
                )
            else:
                secret_id = _read_secret_id(auth)
                response = self._hvac.auth.approle.login(
                    role_id=auth.role_id, secret_id=secret_id, mount_point=auth.mount_point, use_token=False
                )
        except FOREIGN_ERRORS as exc:
            error = translate_vault_error(
                exc, path=where, tenant=None, integration=None, address=self._vault_name
            )
            # Unreachable, sealed, slow or rate-limited: Vault's state, reported
            # as such. Anything else means these login credentials were refused.
            if not isinstance(error, VaultUnavailableError):
                error = VaultAuthError(
                    f"{_method_name(auth)} login at {where!r} on Vault at {self._vault_name} failed; "
                    f"{_login_remedy(auth)}, and that the {_method_name(auth)} auth method is enabled at "
                    f"{auth.mount_point!r}"
                )
        else:
            if _is_redirect(response):
                raise self._redirect_error(_Where(where), response.status_code)
            login = _mapping(response, "auth")
            token = login.get("client_token")
            if isinstance(token, str) and token:
                return SecretStr(token), login
            error = VaultAuthError(
                f"{_method_name(auth)} login at {where!r} on Vault at {self._vault_name} gave no token"
            )
        raise error

    def _token_remedy(self) -> str:
        auth = self._settings.auth
        if self._explicit_token is not None and isinstance(auth, TokenAuth):
            return "the token was given in code, so give the client a new one"
        if isinstance(auth, TokenAuth):
            source = f"the file {auth.token_file!r}" if auth.token_file else f"${auth.token_env}"
            return f"put a valid token in {source}"
        return _login_remedy(auth)

    def _revoke_own_token(self) -> None:
        # Under the login lock: an upkeep still running on another thread
        # finishes its login first (and that token is the one revoked), or
        # sees the client closed and does nothing.
        with self._login_lock:
            if self._owns_token and self._current_token is not None:
                # Best effort: the token expires on its own TTL anyway, and a close
                # that fails because Vault is down would only hide the real problem.
                with contextlib.suppress(*FOREIGN_ERRORS):
                    self._hvac.auth.token.revoke_self()
            self._lease = None

    def _shape_error(self, where: _Where) -> VaultError:
        return VaultError(
            f"Vault at {self._vault_name} answered for path {where.path!r} with an unexpected shape; "
            f"check that {self._settings.mount!r} is a KV version 2 mount"
        )


def _is_redirect(result: object) -> bool:
    """Whether hvac handed back a 3xx answer (it does not follow them: see VaultClient.__init__)."""
    return isinstance(result, requests.Response) and 300 <= result.status_code < 400


def _mapping(value: object, key: str | None = None) -> Mapping[str, object]:
    """Return ``value[key]`` (or ``value``) if it is a mapping, else an empty one."""
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)


def _version_info(number: int, info: Mapping[str, object]) -> SecretVersionInfo:
    created = _parse_time(info.get("created_time"))
    if created is None:
        raise ValueError("version without created_time")
    return SecretVersionInfo(
        version=number,
        created_time=created,
        deletion_time=_parse_time(info.get("deletion_time")),
        destroyed=bool(info.get("destroyed", False)),
    )


def _read_file(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except OSError as exc:
        # The OSError names the file and the reason, never its contents.
        raise VaultAuthError(f"cannot read the {what} file {path!r}: {exc.strerror}") from None
    if not value:
        raise VaultAuthError(f"the {what} file {path!r} is empty")
    return value


def _read_token(auth: TokenAuth) -> str:
    if auth.token_file:
        return _read_file(auth.token_file, "Vault token")
    token = os.environ.get(auth.token_env, "").strip()
    if not token:
        raise VaultAuthError(
            f"no Vault token: set the environment variable {auth.token_env} "
            "(or configure token_file) for this tenant's Vault"
        )
    return token


def _read_secret_id(auth: AppRoleAuth) -> str | None:
    if auth.secret_id_file:
        return _read_file(auth.secret_id_file, "AppRole secret id")
    if auth.secret_id_env:
        secret_id = os.environ.get(auth.secret_id_env, "").strip()
        if not secret_id:
            raise VaultAuthError(f"no AppRole secret id: set the environment variable {auth.secret_id_env}")
        return secret_id
    return None


def _same(first: SecretStr | None, second: SecretStr | None) -> bool:
    """Whether two tokens are the same token (None only equals None)."""
    if first is None or second is None:
        return first is second
    return first.get_secret_value() == second.get_secret_value()


def _method_name(auth: AppRoleAuth | JwtAuth) -> str:
    return "JWT" if isinstance(auth, JwtAuth) else "AppRole"


def _login_remedy(auth: AppRoleAuth | JwtAuth) -> str:
    if isinstance(auth, JwtAuth):
        return (
            f"check role {auth.role!r}, that {auth.token_file!r} holds a current JWT whose issuer, "
            "audience and signing key the role accepts"
        )
    return f"check role_id and {_secret_id_source(auth)}"


def _secret_id_source(auth: AppRoleAuth) -> str:
    if auth.secret_id_file:
        return f"the secret id in {auth.secret_id_file!r}"
    if auth.secret_id_env:
        return f"the secret id in ${auth.secret_id_env}"
    return "whether the role needs a secret id"
