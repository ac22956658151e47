"""Credentials applied per request, read from Vault at call time (promises S3, S4).

:class:`VaultCredentialAuth` is an ``httpx.Auth``: httpx's documented place for
authentication that does I/O. It reads the key when the request is about to be
sent, applies it, and if the vendor answers 401/403 it drops any reused copy,
reads Vault once more (a rotated key is picked up here) and resends once.
The credential object goes out of scope when the flow ends: nothing keeps it.

OAuth credentials (refresh-token, client-credentials or JWT bearer grants) are
turned into an access token by a :class:`vault._oauth.OAuthTokenSource`, which
keeps that token in memory until shortly before it expires; it is sent as
``Authorization: Bearer`` (RFC 6750). A 401 drops it and obtains a new one once.
A 403 is not retried for OAuth: a token that was just obtained and is refused
lacks a permission, which no refresh can add.

A token that is valid at one API host only (Salesforce's ``instance_url``,
checked against the connector's allowed hosts when the token was issued) sends
the request there: its scheme, host and port are replaced, path and query kept.
This happens inside the auth flow, i.e. before the transport, so the scope
guard (S1) sees and checks the request as it will really be sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Protocol

import httpx
from pydantic import SecretStr

from sdk import _metrics
from sdk._errors import DeadlineExceededError, MalformedCredentialError, UsageError, error_kind
from sdk._http._running import running_call
from vault._credentials import (
    Credential,
    CredentialLease,
    OAuth2ClientCredential,
    OAuth2JWTCredential,
    OAuth2RefreshCredential,
)
from vault._token_endpoint import AccessToken, TokenEndpoint

if TYPE_CHECKING:
    from vault._oauth import OAuthTokenSource

__all__ = ["CredentialSource", "VaultCredentialAuth", "apply_bearer", "retarget"]

AUTH_FAILURE_STATUSES = frozenset({401, 403})


class CredentialSource(Protocol):
    """Where credentials come from: :class:`vault.CredentialStore` in production."""

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease: ...

    def invalidate(self, tenant: str, integration: str) -> None: ...


def apply_bearer(request: httpx.Request, token: SecretStr) -> None:
    """Put an OAuth access token on ``request`` as RFC 6750 says: ``Authorization: Bearer``."""
    request.headers["Authorization"] = "Bearer " + token.get_secret_value()


def retarget(request: httpx.Request, origin: str) -> None:
    """Send ``request`` to ``origin`` (an already checked ``scheme://host[:port]``), keeping path and query.

    The ``Host`` header is rewritten too: httpx set it from the original URL
    when the request was built, and a mismatched one would be routed by the
    server's virtual hosting, not by where the connection goes.
    """
    target = httpx.URL(origin)
    request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
    request.headers["Host"] = request.url.netloc.decode("ascii")


class VaultCredentialAuth(httpx.Auth):
    """Apply the integration's current credential to each request, re-reading once on rejection.

    ``tokens`` turns OAuth credentials into access tokens; without one, a
    source of its own is made on first use (access tokens then live as long as
    this auth, i.e. the connector instance). ``token_endpoint`` is the vendor's
    token endpoint, which a ``token_url`` stored with the credential overrides.
    ``apply_token`` puts an access token on a request (Bearer by default).
    """

    def __init__(
        self,
        *,
        source: CredentialSource,
        tenant: str,
        integration: str,
        accepted_types: tuple[type[Credential], ...],
        apply: Callable[[httpx.Request, Credential], None],
        tokens: OAuthTokenSource | None = None,
        token_endpoint: TokenEndpoint | None = None,
        apply_token: Callable[[httpx.Request, SecretStr], None] = apply_bearer,
    ) -> None:
        self._source = source
        self._tenant = tenant
        self._integration = integration
        self._accepted = accepted_types
        self._apply = apply
        self._tokens = tokens
        self._token_endpoint = token_endpoint
        self._apply_token = apply_token

    @property
    def tokens(self) -> OAuthTokenSource:
        """Where this auth gets OAuth access tokens (made on first use if none was given)."""
        if self._tokens is None:
            # Imported on first use: OAuth (and its JOSE libraries) cost nothing to API-key integrations.
            from vault._oauth import OAuthTokenSource

            self._tokens = OAuthTokenSource(self._source)
        return self._tokens

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise UsageError("Nexora Connect credentials work with httpx.AsyncClient only")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._authorise(request, fresh=False)
        response = yield request
        if token is None and response.status_code in AUTH_FAILURE_STATUSES:
            self._source.invalidate(self._tenant, self._integration)
            await self._authorise(request, fresh=True)
            yield request
        elif token is not None and response.status_code == 401:
            self._source.invalidate(self._tenant, self._integration)
            self.tokens.drop(self._tenant, self._integration, token)
            await self._authorise(request, fresh=True)
            yield request

    async def _authorise(self, request: httpx.Request, *, fresh: bool) -> AccessToken | None:
        """Put the credential (or its access token) on ``request``; return the access token if any."""
        started = time.monotonic()
        outcome = "ok"
        try:
            lease = await self._source.get(self._tenant, self._integration, fresh=fresh)
        except BaseException as exc:
            outcome = error_kind(exc)
            raise
        finally:
            _metrics.record_vault_read(
                tenant=self._tenant,
                integration=self._integration,
                seconds=time.monotonic() - started,
                outcome=outcome,
            )
        credential = lease.credential
        if not isinstance(credential, self._accepted):
            expected = ", ".join(sorted(t.model_fields["type"].default for t in self._accepted))
            raise MalformedCredentialError(
                f"integration {self._integration!r} of tenant {self._tenant!r} needs a credential of type "
                f"{expected}, but Vault holds type {credential.type!r} at {lease.path}"
            )
        ctx = running_call()
        if ctx is not None:
            ctx.credential_version = lease.version
        if not isinstance(credential, OAuth2RefreshCredential | OAuth2ClientCredential | OAuth2JWTCredential):
            self._apply(request, credential)
            return None
        token = self.tokens.peek(lease, self._token_endpoint)
        remaining = ctx.remaining() if ctx is not None else None
        if token is not None:
            pass
        elif remaining is None:
            token = await self.tokens.token(lease, self._token_endpoint)
        else:
            # The refresh itself is shielded and finishes for the next caller; this one stops waiting.
            try:
                token = await asyncio.wait_for(
                    self.tokens.token(lease, self._token_endpoint), timeout=max(remaining, 0.0)
                )
            except TimeoutError:
                token = None
            if token is None:
                raise DeadlineExceededError(
                    f"the deadline passed while waiting for an OAuth access token for integration "
                    f"{self._integration!r} of tenant {self._tenant!r}"
                )
        self._apply_token(request, token.value)
        if token.instance_url is not None:
            retarget(request, token.instance_url)
        return token
