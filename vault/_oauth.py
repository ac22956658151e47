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
* JWT bearer assertions are signed anew for every token request
  (:mod:`vault._jwt_assertion`).
* A token-response field naming the API host the token is for (Salesforce's
  ``instance_url``) must be one of the endpoint's allowed hosts, or the token
  is discarded (:mod:`vault._token_request`).
* A new refresh token from the vendor is written back at once
  (:mod:`vault._write_back`); an omitted one keeps the old (no write). A
  refresh token the vendor rejects raises
  :class:`~sdk.ReauthorizationRequiredError` naming the tenant and integration,
  and is not sent again (:mod:`vault._refusals`).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import inspect
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from sdk._errors import (
    ConfigurationError,
    CredentialError,
    MalformedCredentialError,
    UsageError,
    VaultConflictError,
)
from vault._credentials import (
    CredentialLease,
    OAuth2ClientCredential,
    OAuth2JWTCredential,
    OAuth2RefreshCredential,
)
from vault._lease import VaultRefreshLocks
from vault._locks import LocalRefreshLocks, RefreshLocks
from vault._refusals import RefusedRefreshTokens, reauthorization_error
from vault._store import CredentialStore
from vault._token_endpoint import (
    JWT_BEARER,
    AccessToken,
    TokenEndpoint,
    TokenStats,
    assertion_audience,
    effective_endpoint,
)
from vault._token_request import TokenRequester, access_token_from, is_token_word, refusal_error
from vault._write_back import CredentialSource, RotatedRefreshTokens, same_token

# TokenEndpoint stays exported until sdk/_connector.py imports it from vault._token_endpoint.
__all__ = ["OAuthTokenSource", "TokenEndpoint"]

logger = logging.getLogger("vault.oauth")

_Key = tuple[str, str]
_Identity = tuple[str, ...]
_OAuthCredential = OAuth2RefreshCredential | OAuth2ClientCredential | OAuth2JWTCredential


@dataclasses.dataclass(frozen=True, slots=True)
class _Cached:
    token: AccessToken
    identity: _Identity


class OAuthTokenSource:
    """Hands out access tokens for OAuth credentials read from ``source``.

    ``source`` is where credentials are read (and, for rotating refresh tokens,
    written back with ``put(..., cas=)``): a :class:`~vault.CredentialStore` in
    production. ``locks`` serialise refresh-token grants; by default a
    :class:`~vault._lease.VaultRefreshLocks` on the store's Vault, or, for a
    source that is not a ``CredentialStore``, locks of this process only.

    Token requests go through a client of their own (:mod:`vault._token_request`),
    not the vendor client of ``sdk._http`` with its scope guard (S1). The guard
    exists to stop a dispatched operation sending what its grant does not
    allow; the token request is not an operation, carries no customer data,
    changes nothing at the vendor on the tenant's behalf, and is built only
    here, from the connector's declared endpoint or the tenant's own Vault.
    Letting the guard wave token-endpoint POSTs through would instead open a
    path that connector code *could* use inside any read-only operation.
    ``transport`` replaces the network in tests.

    ``margin`` is how many seconds before ``expires_in`` runs out a token stops
    being handed out; ``assumed_lifetime`` is used when the vendor sends no
    ``expires_in``; ``timeout`` bounds one token request. ``lease_reserve`` is
    the part of the refresh lock's lease kept for the write-back, and
    ``write_back_pauses`` how long to wait before each retry of a write-back
    Vault could not take (while the lease lasts). ``clock`` is for tests.
    """

    def __init__(
        self,
        source: CredentialSource,
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
        self._requester = TokenRequester(transport, timeout)
        # How a granted answer becomes a token: its expiry, less the margin.
        self._token_from = functools.partial(
            access_token_from, margin=margin, assumed_lifetime=assumed_lifetime
        )
        self._timeout = timeout
        self._reserve = lease_reserve
        self._clock = clock
        self._tokens: dict[_Key, _Cached] = {}
        self._inflight: dict[_Key, asyncio.Task[AccessToken]] = {}
        self.stats = TokenStats()
        self._refused = RefusedRefreshTokens(self.stats)
        self._rotated = RotatedRefreshTokens(
            source,
            self.stats,
            reserve=lease_reserve,
            pauses=write_back_pauses,
            fingerprint=self._refused.fingerprint,
        )

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
        endpoint = effective_endpoint(lease, credential, endpoint)
        # A different app (client id), user or endpoint in Vault means tokens of the old one no longer apply.
        identity: _Identity = (credential.type, credential.client_id, endpoint.url)
        if isinstance(credential, OAuth2JWTCredential):
            identity += (credential.username, assertion_audience(credential, endpoint))
        return (lease.tenant, lease.integration), endpoint, identity

    def _usable(self, key: _Key, identity: _Identity) -> AccessToken | None:
        cached = self._tokens.get(key)
        if (
            cached is None
            or cached.identity != identity
            or self._clock() >= cached.token.refresh_at
            or self._rotated.pending(key)
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
        return self._token_from(lease, payload, endpoint, started, lease.version)

    async def _assertion_grant(
        self, lease: CredentialLease, credential: OAuth2JWTCredential, endpoint: TokenEndpoint
    ) -> AccessToken:
        """Obtain a token with a JWT bearer assertion (RFC 7523 §2.1), signed for this request only."""
        # Here, not at the top: signing needs joserfc and cryptography, which no other grant uses.
        from vault._jwt_assertion import sign_assertion

        started = self._clock()
        # Loading an RSA key checks it (tens of milliseconds of CPU): off the event loop, like Vault reads.
        assertion = await asyncio.to_thread(sign_assertion, lease, credential, endpoint)
        payload = await self._request(lease, endpoint, None, None, JWT_BEARER, {"assertion": assertion})
        return self._token_from(lease, payload, endpoint, started, lease.version)

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
        if self._refused.refused(key, credential.refresh_token) and not self._rotated.pending(key):
            raise reauthorization_error(lease, "it was already refused")
        held = await self.locks.acquire(lease.tenant, lease.integration)
        keep_locked = False
        try:
            current = await self._source.get(lease.tenant, lease.integration, fresh=True)
            try:
                current = await self._rotated.save_pending(key, current)
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
            if self._refused.refused(key, stored.refresh_token):
                raise reauthorization_error(current, "it was already refused")
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
            if rotated is not None and not is_token_word(rotated):
                rotated = None
                logger.warning(
                    "the token endpoint of tenant %r, integration %r sent an unusable refresh_token; "
                    "the stored one is kept",
                    lease.tenant,
                    lease.integration,
                )
            if rotated is None or same_token(rotated, stored.refresh_token):
                self.stats.kept += 1
            else:
                updated = stored.model_copy(update={"refresh_token": SecretStr(rotated)})
                try:
                    version = await self._rotated.write_back(current, stored, updated, held)
                except CredentialError:
                    # Vault did not take it and the old token is spent: keep the new one in memory,
                    # and the lock held, so that no other process refreshes with the spent one.
                    self._rotated.hold(key, updated, stored.refresh_token)
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
            return self._token_from(current, payload, endpoint, started, version)
        finally:
            await self.locks.release(held, keep=keep_locked)

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
        """POST one token request and return the granted answer, or raise what its refusal means."""
        self.stats.requests += 1
        answer = await self._requester.post(
            endpoint, client_id, client_secret, grant_type, params, budget=budget
        )
        if answer.granted:
            assert answer.data is not None
            return answer.data
        for_good = self._refused.judge(lease, endpoint, grant_type, answer)
        if for_good is not None:
            self._tokens.pop((lease.tenant, lease.integration), None)
            raise for_good
        raise refusal_error(lease, grant_type, answer)
