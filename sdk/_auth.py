"""Credentials applied per request, read from Vault at call time (promises S3, S4).

:class:`VaultCredentialAuth` is an ``httpx.Auth``: httpx's documented place for
authentication that does I/O. It reads the key when the request is about to be
sent, applies it, and if the vendor answers 401/403 it drops any reused copy,
reads Vault once more (a rotated key is picked up here) and resends once.
The credential object goes out of scope when the flow ends: nothing keeps it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from typing import Protocol

import httpx

from sdk._context import current_call
from sdk._errors import MalformedCredentialError, UsageError
from vault._credentials import Credential, CredentialLease

__all__ = ["CredentialSource", "VaultCredentialAuth"]

AUTH_FAILURE_STATUSES = frozenset({401, 403})


class CredentialSource(Protocol):
    """Where credentials come from: :class:`vault.CredentialStore` in production."""

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease: ...

    def invalidate(self, tenant: str, integration: str) -> None: ...


class VaultCredentialAuth(httpx.Auth):
    """Apply the integration's current credential to each request, re-reading once on rejection."""

    def __init__(
        self,
        *,
        source: CredentialSource,
        tenant: str,
        integration: str,
        accepted_types: tuple[type[Credential], ...],
        apply: Callable[[httpx.Request, Credential], None],
    ) -> None:
        self._source = source
        self._tenant = tenant
        self._integration = integration
        self._accepted = accepted_types
        self._apply = apply

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise UsageError("Nexora Connect credentials work with httpx.AsyncClient only")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await self._authorise(request, fresh=False)
        response = yield request
        if response.status_code in AUTH_FAILURE_STATUSES:
            self._source.invalidate(self._tenant, self._integration)
            await self._authorise(request, fresh=True)
            yield request

    async def _authorise(self, request: httpx.Request, *, fresh: bool) -> None:
        lease = await self._source.get(self._tenant, self._integration, fresh=fresh)
        credential = lease.credential
        if not isinstance(credential, self._accepted):
            expected = ", ".join(sorted(t.model_fields["type"].default for t in self._accepted))
            raise MalformedCredentialError(
                f"integration {self._integration!r} of tenant {self._tenant!r} needs a credential of type "
                f"{expected}, but Vault holds type {credential.type!r} at {lease.path}"
            )
        ctx = current_call.get()
        if ctx is not None:
            ctx.credential_version = lease.version
        self._apply(request, credential)
