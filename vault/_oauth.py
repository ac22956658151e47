"""OAuth 2.0 access tokens, obtained from credentials in Vault and never stored anywhere else.

Where this lives, and why: an access token is derived from a credential the
tenant keeps in Vault, and obtaining one may *change* that credential (a vendor
that rotates refresh tokens hands back a new one that must be written to Vault
at once, with check-and-set, under a lock that is itself a Vault secret). That
is credential lifecycle, the job DESIGN §3 gives to ``vault``. The HTTP request
to the token endpoint is deliberately *not* made through the SDK's vendor HTTP
stack (``sdk._http``): see :class:`OAuthTokenSource`. ``sdk._auth`` is the
SDK-side adapter that puts the resulting access token on vendor requests.

Promises kept here:

* An access token lives in this object's memory only, until ``expires_in``
  minus ``margin`` (or half its life, if that is longer), or until a vendor 401
  makes the caller :meth:`~OAuthTokenSource.drop` it. It is never written to
  Vault, logs, audit records, caches or exception messages (S3).
* Concurrent requests for a token of one tenant integration share one token
  request (single flight), which callers cannot cancel half-way: a refresh
  whose answer was thrown away would lose a rotated refresh token.
* Refresh-token grants are serialised across processes by a lease lock
  (:mod:`vault._lease`); after taking it the credential is read again, so a
  refresh token rotated by another process is used instead of the spent one.
* JWT bearer assertions (RFC 7523 §2.1) are signed anew for every token
  request, valid for ``TokenEndpoint.assertion_lifetime`` seconds (Salesforce
  accepts at most three minutes); the private key is loaded only to sign.
* A token-response field that names the API host the token is for
  (Salesforce's ``instance_url``) is checked against the endpoint's allowed
  hosts before the token is handed out, so a forged or tampered answer cannot
  send the token, and the requests it authorises, to another host.
* A new refresh token from the vendor is written back at once with
  ``cas`` = the version read under the lock; an omitted one keeps the old (no
  write). A refresh token the vendor rejects raises
  :class:`~sdk.ReauthorizationRequiredError` naming the tenant and integration.

authlib supplies the RFC 6749 pieces (the token request body and client
authentication) and the RFC 7523 assertion without its httpx integration,
which prefers ``httpx2`` and warns when it falls back to ``httpx`` (FACTS.md).
Keys are joserfc ``RSAKey`` objects (authlib's own dependency): authlib
deprecates both ``authlib.jose`` and passing it PEM text.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import hmac
import inspect
import json
import logging
import re
import secrets
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Literal, Protocol

import certifi
import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from authlib.oauth2.rfc7523 import JWTBearerGrant
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from sdk._errors import (
    ConfigurationError,
    CredentialError,
    MalformedCredentialError,
    ReauthorizationRequiredError,
    UsageError,
    VaultConflictError,
    VaultUnavailableError,
    VendorAuthError,
    VendorError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk._http import translate_httpx_error
from sdk._retry import parse_retry_after
from vault._credentials import (
    CredentialLease,
    OAuth2ClientCredential,
    OAuth2JWTCredential,
    OAuth2RefreshCredential,
)
from vault._lease import HeldLock, LocalRefreshLocks, RefreshLocks, VaultRefreshLocks
from vault._store import CredentialStore

__all__ = ["AccessToken", "OAuthTokenSource", "TokenEndpoint", "TokenStats"]

logger = logging.getLogger("vault.oauth")

_Key = tuple[str, str]
_Identity = tuple[str, ...]
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # one header-safe word: no spaces, controls or non-ASCII
_CODE_CHARS = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_MAX_TOKEN_RESPONSE = 64 * 1024
_JWT_BEARER = JWTBearerGrant.GRANT_TYPE  # urn:ietf:params:oauth:grant-type:jwt-bearer
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
_HOST_PATTERN = re.compile(r"(?:\*\.)?" + _HOST.pattern)
_OAuthCredential = OAuth2RefreshCredential | OAuth2ClientCredential | OAuth2JWTCredential


@dataclasses.dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """A vendor's OAuth 2.0 token endpoint and its dialect; connectors declare one.

    ``auth_method`` is how the client authenticates (RFC 6749 §2.3.1: HTTP
    Basic, or ``client_id``/``client_secret`` in the form, as HubSpot wants).
    ``error_fields`` are the JSON fields that may carry the error code (RFC 6749
    says ``error``; some vendors use their own). ``reauthorize_codes`` are the
    codes that mean the refresh token itself is dead. ``keep_fields`` are the
    token-response fields that are not secret and that a connector may need;
    every other field is dropped unread.

    ``instance_url_field`` names a token-response field holding the API origin
    the token is valid at (Salesforce's ``instance_url``): the token is then
    usable only if that field is an ``https`` origin on one of
    ``instance_hosts`` (``host`` exactly, or ``*.suffix`` for any host below
    it), and vendor requests are sent there (:attr:`AccessToken.instance_url`).

    ``assertion_audience`` is the ``aud`` of JWT bearer assertions (RFC 7523;
    the token URL when None) unless the credential names one;
    ``assertion_lifetime`` is how many seconds an assertion stays valid.
    """

    url: str
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    error_fields: tuple[str, ...] = ("error",)
    reauthorize_codes: frozenset[str] = frozenset({"invalid_grant"})
    keep_fields: frozenset[str] = frozenset({"scope"})
    instance_url_field: str | None = None
    instance_hosts: tuple[str, ...] = ()
    assertion_audience: str | None = None
    assertion_lifetime: int = 120

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")) or "@" in self.url.split("/", 3)[2]:
            raise ConfigurationError("a token endpoint must be an http(s) URL without user info")
        if self.instance_url_field is not None and not self.instance_hosts:
            raise ConfigurationError("a token endpoint with an instance_url_field must list instance_hosts")
        for pattern in self.instance_hosts:
            if not _HOST_PATTERN.fullmatch(pattern):
                raise ConfigurationError(
                    f"instance host {pattern!r} must be a lower-case host name, or '*.' and a domain"
                )
        if not 0 < self.assertion_lifetime <= 3600:
            raise ConfigurationError("assertion_lifetime must be between 1 and 3600 seconds")

    def allows_instance(self, url: str) -> bool:
        """Return True if ``url`` is an ``https`` origin on one of ``instance_hosts``.

        Nothing but scheme, host and an optional trailing ``/`` may appear: no
        user info, port, path, query or fragment, and the host must be plain
        lower-case ASCII (no IDNA lookalikes, no trailing dot).
        """
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return False
        host = parsed.host
        # Comparing with the rebuilt origin refuses everything httpx would normalise away or keep
        # (user info, ports, paths, queries, fragments, upper case, percent-escapes).
        if url not in (f"https://{host}", f"https://{host}/") or not _HOST.fullmatch(host):
            return False
        return any(
            host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
            for pattern in self.instance_hosts
        )


@dataclasses.dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token held in memory; ``value`` is masked in every repr."""

    value: SecretStr
    refresh_at: float
    """The token source's clock reading after which this token is no longer handed out."""
    credential_version: int
    """The Vault version of the credential the token was obtained with (for audit records)."""
    extras: Mapping[str, str]
    """The endpoint's ``keep_fields`` that the vendor sent, e.g. ``scope``."""
    instance_url: str | None = None
    """The checked API origin the token is valid at (see ``TokenEndpoint.instance_url_field``)."""


@dataclasses.dataclass(slots=True)
class TokenStats:
    """Counters for tests, benchmarks and operators; no secrets."""

    requests: int = 0
    """Token requests sent to the vendor."""
    refreshes: int = 0
    """Refresh-token grants the vendor answered with a token."""
    client_grants: int = 0
    """Client-credentials grants the vendor answered with a token."""
    assertion_grants: int = 0
    """JWT bearer grants (RFC 7523) the vendor answered with a token."""
    write_backs: int = 0
    """Rotated refresh tokens written to Vault."""
    kept: int = 0
    """Refreshes where the vendor sent no new refresh token, so the stored one was kept."""
    write_back_conflicts: int = 0
    """Write-backs that lost their check-and-set and were merged and retried."""
    rejected: int = 0
    """Refresh tokens the vendor rejected (reauthorisation needed)."""


class _Source(Protocol):
    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease: ...


@dataclasses.dataclass(frozen=True, slots=True)
class _Cached:
    token: AccessToken
    identity: _Identity


@dataclasses.dataclass(frozen=True, slots=True)
class _Unsaved:
    """A rotated refresh token the vendor issued but Vault did not take; kept until it does."""

    credential: OAuth2RefreshCredential
    spent: bytes  # fingerprint of the refresh token it replaces


class OAuthTokenSource:
    """Hands out access tokens for OAuth credentials read from ``source``.

    ``source`` is where credentials are read (and, for rotating refresh tokens,
    written back with ``put(..., cas=)``): a :class:`~vault.CredentialStore` in
    production. ``locks`` serialise refresh-token grants; by default a
    :class:`~vault._lease.VaultRefreshLocks` on the store's Vault, or, for a
    source that is not a ``CredentialStore``, locks of this process only.

    Token requests go through a client of their own, not the vendor client of
    ``sdk._http`` with its scope guard (S1). The guard exists to stop a
    dispatched operation sending what its grant does not allow; the token
    request is not an operation, carries no customer data, changes nothing at
    the vendor on the tenant's behalf, and is built only here, from the
    connector's declared endpoint or the tenant's own Vault. Letting the guard
    wave token-endpoint POSTs through would instead open a path that connector
    code *could* use inside any read-only operation. This client also never
    follows redirects (the client secret must not travel on), keeps no cookies
    and ignores proxy settings from the environment. ``transport`` replaces the
    network in tests.

    ``margin`` is how many seconds before ``expires_in`` runs out a token stops
    being handed out; ``assumed_lifetime`` is used when the vendor sends no
    ``expires_in``; ``timeout`` bounds one token request. ``lease_reserve`` is
    the part of the refresh lock's lease kept for the write-back, and
    ``write_back_pauses`` how long to wait before each retry of a write-back
    Vault could not take (while the lease lasts). ``clock`` is for tests.
    """

    def __init__(
        self,
        source: _Source,
        *,
        locks: RefreshLocks | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        margin: float = 60.0,
        assumed_lifetime: float = 600.0,
        timeout: float = 10.0,
        lease_reserve: float = 2.0,
        write_back_pauses: Sequence[float] = (0.05, 0.25, 0.75),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (margin >= 0 and assumed_lifetime > 0 and timeout > 0 and lease_reserve >= 0):
            raise ConfigurationError("margin and lease_reserve must be 0 or more; lifetimes and timeouts > 0")
        self._source = source
        if locks is None:
            locks = VaultRefreshLocks(source) if isinstance(source, CredentialStore) else LocalRefreshLocks()
        self.locks = locks
        self._transport = transport
        self._margin = margin
        self._assumed_lifetime = assumed_lifetime
        self._timeout = timeout
        self._reserve = lease_reserve
        self._pauses = tuple(write_back_pauses)
        self._clock = clock
        self._ssl: ssl.SSLContext | None = None
        self._pepper = secrets.token_bytes(32)
        self._tokens: dict[_Key, _Cached] = {}
        self._inflight: dict[_Key, asyncio.Task[AccessToken]] = {}
        self._unsaved: dict[_Key, _Unsaved] = {}
        self._rejected: dict[_Key, bytes] = {}
        self.stats = TokenStats()

    def __repr__(self) -> str:
        return f"OAuthTokenSource(tokens={len(self._tokens)}, locks={self.locks!r})"

    # --- the API -------------------------------------------------------------------------------

    async def token(self, lease: CredentialLease, endpoint: TokenEndpoint | None = None) -> AccessToken:
        """Return an access token for the OAuth credential in ``lease``, obtaining one if needed.

        ``endpoint`` is the connector's declared token endpoint; a ``token_url``
        stored with the credential overrides its URL.
        """
        key, endpoint, identity = self._resolve(lease, endpoint)
        cached = self._usable(key, identity)
        if cached is not None:
            return cached
        task = self._inflight.get(key)
        if task is None:
            # A fresh context: the refresh serves every waiter, not the call that happened to start it.
            task = asyncio.get_running_loop().create_task(
                self._obtain(key, lease, endpoint, identity),
                name=f"nexora-oauth-{lease.tenant}-{lease.integration}",
                context=contextvars.Context(),
            )
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._finished, key))
        # Shielded: a caller that gives up (deadline, hangup) must not abort a refresh half-way.
        return await asyncio.shield(task)

    def peek(self, lease: CredentialLease, endpoint: TokenEndpoint | None = None) -> AccessToken | None:
        """Return the token :meth:`token` would return without waiting, or None if it would wait."""
        key, _, identity = self._resolve(lease, endpoint)
        return self._usable(key, identity)

    def drop(self, tenant: str, integration: str, token: AccessToken) -> None:
        """Forget ``token`` after the vendor refused it (401); a newer token is left alone."""
        cached = self._tokens.get((tenant, integration))
        if cached is not None and cached.token is token:
            del self._tokens[(tenant, integration)]

    def forget(self) -> None:
        """Drop every access token held (e.g. at shutdown); refreshes in flight still finish."""
        self._tokens.clear()

    # --- obtaining a token ---------------------------------------------------------------------

    def _resolve(
        self, lease: CredentialLease, endpoint: TokenEndpoint | None
    ) -> tuple[_Key, TokenEndpoint, _Identity]:
        credential = lease.credential
        if not isinstance(credential, _OAuthCredential):
            raise UsageError(f"OAuthTokenSource needs an OAuth credential, not {credential.type!r}")
        endpoint = _effective_endpoint(lease, credential, endpoint)
        # A different app (client id), user or endpoint in Vault means tokens of the old one no longer apply.
        identity: _Identity = (credential.type, credential.client_id, endpoint.url)
        if isinstance(credential, OAuth2JWTCredential):
            identity += (credential.username, _assertion_audience(credential, endpoint))
        return (lease.tenant, lease.integration), endpoint, identity

    def _usable(self, key: _Key, identity: _Identity) -> AccessToken | None:
        cached = self._tokens.get(key)
        if (
            cached is None
            or cached.identity != identity
            or self._clock() >= cached.token.refresh_at
            or key in self._unsaved
        ):
            return None
        return cached.token

    def _finished(self, key: _Key, task: asyncio.Task[AccessToken]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a refresh nobody awaited any more is not reported as lost

    async def _obtain(
        self, key: _Key, lease: CredentialLease, endpoint: TokenEndpoint, identity: _Identity
    ) -> AccessToken:
        credential = lease.credential
        if isinstance(credential, OAuth2ClientCredential):
            token = await self._client_grant(lease, credential, endpoint)
            self.stats.client_grants += 1
        elif isinstance(credential, OAuth2JWTCredential):
            token = await self._assertion_grant(lease, credential, endpoint)
            self.stats.assertion_grants += 1
        else:
            assert isinstance(credential, OAuth2RefreshCredential)
            token = await self._refresh_grant(key, lease, credential, endpoint, identity)
        self._tokens[key] = _Cached(token=token, identity=identity)
        return token

    async def _client_grant(
        self, lease: CredentialLease, credential: OAuth2ClientCredential, endpoint: TokenEndpoint
    ) -> AccessToken:
        params: dict[str, Any] = {}
        if credential.scopes:
            params["scope"] = list(credential.scopes)
        started = self._clock()
        payload = await self._request(
            lease, endpoint, credential.client_id, credential.client_secret, "client_credentials", params
        )
        return self._access_token(lease, payload, endpoint, started, lease.version)

    async def _assertion_grant(
        self, lease: CredentialLease, credential: OAuth2JWTCredential, endpoint: TokenEndpoint
    ) -> AccessToken:
        """Obtain a token with a JWT bearer assertion (RFC 7523 §2.1), signed for this request only."""
        started = self._clock()
        # Loading an RSA key checks it (tens of milliseconds of CPU): off the event loop, like Vault reads.
        assertion = await asyncio.to_thread(_sign_assertion, lease, credential, endpoint)
        payload = await self._request(lease, endpoint, None, None, _JWT_BEARER, {"assertion": assertion})
        return self._access_token(lease, payload, endpoint, started, lease.version)

    async def _refresh_grant(
        self,
        key: _Key,
        lease: CredentialLease,
        credential: OAuth2RefreshCredential,
        endpoint: TokenEndpoint,
        identity: _Identity,
    ) -> AccessToken:
        put = getattr(self._source, "put", None)
        if not inspect.iscoroutinefunction(put):
            # Refused before the token is spent: a rotated refresh token that cannot be saved is lost.
            raise ConfigurationError(
                f"integration {lease.integration!r} of tenant {lease.tenant!r} holds an OAuth refresh token, "
                "but its credential source cannot write a rotated one back; use a vault.CredentialStore"
            )
        if (
            self._rejected.get(key) == self._fingerprint(credential.refresh_token)
            and key not in self._unsaved
        ):
            raise self._reauthorization_error(lease, "it was already refused")
        held = await self.locks.acquire(lease.tenant, lease.integration)
        keep_locked = False
        try:
            current = await self._source.get(lease.tenant, lease.integration, fresh=True)
            try:
                current = await self._save_unsaved(key, current)
            except CredentialError:
                keep_locked = True
                raise
            stored = current.credential
            if not isinstance(stored, OAuth2RefreshCredential):
                raise MalformedCredentialError(
                    f"the credential of tenant {lease.tenant!r}, integration {lease.integration!r} changed "
                    f"type to {stored.type!r} during an OAuth refresh; retry the call"
                )
            cached = self._tokens.get(key)
            if cached is not None and cached.identity == identity and self._clock() < cached.token.refresh_at:
                return cached.token  # only the unsaved write-back was due
            if self._rejected.get(key) == self._fingerprint(stored.refresh_token):
                raise self._reauthorization_error(current, "it was already refused")
            budget = min(self._timeout, held.remaining() - self._reserve)
            if budget < 0.5:
                raise VaultConflictError(
                    f"the OAuth refresh lock of tenant {lease.tenant!r}, integration {lease.integration!r} "
                    "had too little of its lease left to refresh safely; retry"
                )
            started = self._clock()
            payload = await self._request(
                current,
                endpoint,
                stored.client_id,
                stored.client_secret,
                "refresh_token",
                {"refresh_token": stored.refresh_token.get_secret_value()},
                budget=budget,
            )
            version = current.version
            rotated = payload.get("refresh_token")
            if rotated is not None and not (isinstance(rotated, str) and _TOKEN_CHARS.fullmatch(rotated)):
                rotated = None
                logger.warning(
                    "the token endpoint of tenant %r, integration %r sent an unusable refresh_token; "
                    "the stored one is kept",
                    lease.tenant,
                    lease.integration,
                )
            if rotated is None or _same(rotated, stored.refresh_token):
                self.stats.kept += 1
            else:
                updated = stored.model_copy(update={"refresh_token": SecretStr(rotated)})
                try:
                    version = await self._write_back(current, stored, updated, held)
                except CredentialError:
                    # Vault did not take it and the old token is spent: keep the new one in memory,
                    # and the lock held, so that no other process refreshes with the spent one.
                    self._unsaved[key] = _Unsaved(updated, self._fingerprint(stored.refresh_token))
                    keep_locked = True
                    logger.error(
                        "the vendor rotated the OAuth refresh token of tenant %r, integration %r but "
                        "Vault did not store the new one; it is kept in this process and saved on its "
                        "next call (if this process stops first, the tenant must authorise again)",
                        lease.tenant,
                        lease.integration,
                    )
                    raise
            self.stats.refreshes += 1
            logger.info(
                "refreshed the OAuth access token of tenant %r, integration %r (credential version %d)",
                lease.tenant,
                lease.integration,
                version,
            )
            return self._access_token(current, payload, endpoint, started, version)
        finally:
            await self.locks.release(held, keep=keep_locked)

    async def _save_unsaved(self, key: _Key, current: CredentialLease) -> CredentialLease:
        unsaved = self._unsaved.get(key)
        if unsaved is None:
            return current
        stored = current.credential
        if not (
            isinstance(stored, OAuth2RefreshCredential)
            and hmac.compare_digest(self._fingerprint(stored.refresh_token), unsaved.spent)
        ):
            # Vault holds something newer than the token we spent (the tenant authorised again).
            del self._unsaved[key]
            return current
        merged = stored.model_copy(update={"refresh_token": unsaved.credential.refresh_token})
        version = await self._put(current, merged, cas=current.version)
        del self._unsaved[key]
        self.stats.write_backs += 1
        logger.info(
            "saved the rotated OAuth refresh token of tenant %r, integration %r that Vault refused earlier",
            current.tenant,
            current.integration,
        )
        return dataclasses.replace(current, credential=merged, version=version)

    async def _write_back(
        self,
        current: CredentialLease,
        spent: OAuth2RefreshCredential,
        updated: OAuth2RefreshCredential,
        held: HeldLock,
    ) -> int:
        """Write the rotated refresh token with ``cas``; merge and retry if only other fields changed."""
        base, credential = current, updated
        pauses = list(self._pauses)
        while True:
            try:
                version = await self._put(base, credential, cas=base.version)
            except VaultConflictError:
                self.stats.write_back_conflicts += 1
                base = await self._source.get(current.tenant, current.integration, fresh=True)
                latest = base.credential
                if not isinstance(latest, OAuth2RefreshCredential) or not _same(
                    latest.refresh_token.get_secret_value(), spent.refresh_token
                ):
                    # Someone stored a different refresh token while we held the lock (the tenant
                    # authorised again): theirs stands. Ours still gave a working access token.
                    logger.warning(
                        "kept the refresh token written to Vault for tenant %r, integration %r during "
                        "an OAuth refresh instead of the vendor's rotated one",
                        current.tenant,
                        current.integration,
                    )
                    return base.version
                credential = latest.model_copy(update={"refresh_token": updated.refresh_token})
                continue
            except VaultUnavailableError:
                if not pauses or held.remaining() < pauses[0] + self._reserve:
                    raise
                await asyncio.sleep(pauses.pop(0))
                continue
            self.stats.write_backs += 1
            return version

    async def _put(self, lease: CredentialLease, credential: OAuth2RefreshCredential, *, cas: int) -> int:
        put = self._source.put  # type: ignore[attr-defined]  # checked in _refresh_grant
        version: int = await put(lease.tenant, lease.integration, credential, cas=cas)
        return version

    # --- the token request ---------------------------------------------------------------------

    async def _request(
        self,
        lease: CredentialLease,
        endpoint: TokenEndpoint,
        client_id: str | None,
        client_secret: SecretStr | None,
        grant_type: str,
        params: Mapping[str, Any],
        *,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """POST one token request; without ``client_secret`` (an assertion grant) no client auth is added."""
        body = prepare_token_request(grant_type, **params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        url = endpoint.url
        if client_id is not None and client_secret is not None:
            auth = ClientAuth(client_id, client_secret.get_secret_value(), endpoint.auth_method)
            url, headers, body = auth.prepare("POST", endpoint.url, headers, body)
        path = httpx.URL(endpoint.url).path
        transport = self._transport or httpx.AsyncHTTPTransport(retries=0, verify=self._ssl_context())
        client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(budget or self._timeout, connect=min(budget or self._timeout, 2.0)),
            follow_redirects=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            trust_env=False,
        )
        failure: VendorError | None = None
        self.stats.requests += 1
        try:
            response = await client.send(
                client.build_request("POST", url, content=body, headers=headers), stream=True
            )
            try:
                content = await _read_limited(response)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            failure = translate_httpx_error(exc, method="POST", path=path)
        finally:
            if self._transport is None:
                await client.aclose()
        if failure is not None:
            # Raised outside the except block: httpx errors hold the request, and its body holds secrets.
            raise failure
        if content is None:
            raise VendorPayloadError(
                f"the token endpoint's answer exceeds {_MAX_TOKEN_RESPONSE} bytes",
                method="POST",
                path=path,
                status=response.status_code,
            )
        data = _json_object(content)
        if response.status_code == 200 and data is not None:
            return data
        raise self._token_error(lease, endpoint, grant_type, response, data, path)

    def _token_error(
        self,
        lease: CredentialLease,
        endpoint: TokenEndpoint,
        grant_type: str,
        response: httpx.Response,
        data: dict[str, Any] | None,
        path: str,
    ) -> CredentialError | VendorError:
        status = response.status_code
        code = _error_code(data, endpoint.error_fields)
        context: dict[str, Any] = {"method": "POST", "path": path, "status": status, "vendor_code": code}
        if status == 200:
            return VendorPayloadError("the token endpoint's answer is not a JSON object", **context)
        if grant_type == "refresh_token" and status in (400, 401) and code in endpoint.reauthorize_codes:
            credential = lease.credential
            if isinstance(credential, OAuth2RefreshCredential):
                self._rejected[(lease.tenant, lease.integration)] = self._fingerprint(
                    credential.refresh_token
                )
            self.stats.rejected += 1
            self._tokens.pop((lease.tenant, lease.integration), None)
            return self._reauthorization_error(lease, f"the vendor answered {status} {code}")
        if grant_type == _JWT_BEARER and status in (400, 401) and code in {"invalid_grant", "invalid_client"}:
            return VendorAuthError(
                f"the token endpoint refused the signed JWT assertion of tenant {lease.tenant!r}, "
                f"integration {lease.integration!r}; check in Vault at {lease.path!r} that client_id, "
                "username and audience match the vendor's app, that the app holds the certificate of "
                "private_key, and that the user is authorised for the app",
                **context,
            )
        if status in (400, 401) and (status == 401 or code == "invalid_client"):
            return VendorAuthError(
                f"the token endpoint rejected the OAuth client of tenant {lease.tenant!r}, integration "
                f"{lease.integration!r}; check client_id and client_secret in Vault",
                **context,
            )
        if status == 429:
            return VendorRateLimitError(
                "the token endpoint is rate limiting requests",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                **context,
            )
        if status >= 500:
            return VendorServerError("the token endpoint failed to serve the request", **context)
        return VendorError("the token endpoint refused the request", **context)

    def _reauthorization_error(self, lease: CredentialLease, why: str) -> ReauthorizationRequiredError:
        return ReauthorizationRequiredError(
            f"the vendor no longer accepts the OAuth refresh token of tenant {lease.tenant!r}, integration "
            f"{lease.integration!r} ({why}); the tenant must authorise the app again and store the new "
            f"refresh token in Vault at {lease.path!r}"
        )

    def _access_token(
        self,
        lease: CredentialLease,
        payload: Mapping[str, Any],
        endpoint: TokenEndpoint,
        started: float,
        version: int,
    ) -> AccessToken:
        path = httpx.URL(endpoint.url).path
        value = payload.get("access_token")
        if not isinstance(value, str) or not _TOKEN_CHARS.fullmatch(value):
            raise VendorPayloadError(
                "the token endpoint's answer has no usable access_token", method="POST", path=path, status=200
            )
        token_type = payload.get("token_type", "bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise VendorPayloadError(
                "the token endpoint issued a token that is not a bearer token (RFC 6750)",
                method="POST",
                path=path,
                status=200,
            )
        lifetime = _seconds(payload.get("expires_in"))
        if lifetime is None:
            lifetime = self._assumed_lifetime
        usable = max(lifetime - self._margin, lifetime / 2, 0.0)
        extras = {
            name: str(payload[name])
            for name in sorted(endpoint.keep_fields)
            if isinstance(payload.get(name), str | int | float) and not isinstance(payload.get(name), bool)
        }
        instance_url = None
        if endpoint.instance_url_field is not None:
            instance_url = payload.get(endpoint.instance_url_field)
            if not isinstance(instance_url, str) or not endpoint.allows_instance(instance_url):
                # The value is not repeated: it came from the vendor, and the point is not to trust it.
                allowed = ", ".join(endpoint.instance_hosts)
                raise VendorPayloadError(
                    f"the token endpoint's {endpoint.instance_url_field} for tenant {lease.tenant!r}, "
                    f"integration {lease.integration!r} is missing or not an https origin on an allowed host "
                    f"({allowed}); the token was discarded unused",
                    method="POST",
                    path=path,
                    status=200,
                )
            instance_url = instance_url.rstrip("/")
        return AccessToken(
            value=SecretStr(value),
            refresh_at=started + usable,
            credential_version=version,
            extras=extras,
            instance_url=instance_url,
        )

    # --- helpers -------------------------------------------------------------------------------

    def _fingerprint(self, secret: SecretStr) -> bytes:
        # Keyed, so that the fingerprint of a refused token kept in memory is no hash of it.
        return hmac.new(self._pepper, secret.get_secret_value().encode(), hashlib.sha256).digest()

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl


def _same(value: str, secret: SecretStr) -> bool:
    # Bytes, because compare_digest refuses str with non-ASCII characters.
    return hmac.compare_digest(value.encode(), secret.get_secret_value().encode())


def _assertion_audience(credential: OAuth2JWTCredential, endpoint: TokenEndpoint) -> str:
    return credential.audience or endpoint.assertion_audience or endpoint.url


def _sign_assertion(lease: CredentialLease, credential: OAuth2JWTCredential, endpoint: TokenEndpoint) -> str:
    """Return a JWT bearer assertion (RS256) for ``credential``, valid for the endpoint's assertion lifetime.

    Claims (RFC 7523 §3): ``iss`` the client id, ``sub`` the user name, ``aud``
    the audience, ``exp`` now plus the lifetime; authlib adds ``iat`` and a
    random ``jti``. A key that cannot be read is reported without the
    reader's message and without chaining its exception: both could quote
    the key.
    """
    key: RSAKey | None = None
    with contextlib.suppress(ValueError, TypeError, JoseError):
        key = RSAKey.import_key(credential.private_key.get_secret_value())
    if key is None or not key.is_private:
        raise MalformedCredentialError(
            f"the private_key of the oauth2_jwt credential of tenant {lease.tenant!r}, integration "
            f"{lease.integration!r} at Vault path {lease.path!r} is not an RSA private key; store the "
            "unencrypted PEM key whose certificate the vendor's app holds"
        )
    issued = int(time.time())  # JWT times are wall-clock seconds (RFC 7519 §2), not the monotonic clock
    signed = JWTBearerGrant.sign(
        key,
        issuer=credential.client_id,
        audience=_assertion_audience(credential, endpoint),
        subject=credential.username,
        issued_at=issued,
        expires_at=issued + endpoint.assertion_lifetime,
        header={"alg": "RS256"},
    )
    return signed.decode("ascii") if isinstance(signed, bytes) else str(signed)


def _effective_endpoint(
    lease: CredentialLease,
    credential: OAuth2RefreshCredential | OAuth2ClientCredential | OAuth2JWTCredential,
    endpoint: TokenEndpoint | None,
) -> TokenEndpoint:
    if credential.token_url is not None:
        if endpoint is None:
            return TokenEndpoint(url=credential.token_url)
        return dataclasses.replace(endpoint, url=credential.token_url)
    if endpoint is None:
        raise MalformedCredentialError(
            f"the OAuth credential of tenant {lease.tenant!r}, integration {lease.integration!r} has no "
            f"token_url and its connector declares no token endpoint; add token_url to the secret at "
            f"{lease.path!r}"
        )
    return endpoint


async def _read_limited(response: httpx.Response) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > _MAX_TOKEN_RESPONSE:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _error_code(data: Mapping[str, Any] | None, fields: tuple[str, ...]) -> str | None:
    """The vendor's error code, if it looks like a code; free text (descriptions) is never read."""
    if data is None:
        return None
    for name in fields:
        value = data.get(name)
        if isinstance(value, str) and _CODE_CHARS.fullmatch(value):
            return value
    return None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and 0 <= value < 10 * 365 * 86400:
        return float(value)
    return None
