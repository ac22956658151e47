"""Rotated refresh tokens, written back to Vault at once and never lost while this process lives.

A vendor that rotates refresh tokens spends the old one as it hands out the
new one, so the new one must reach Vault: it is written with ``cas`` = the
version read under the refresh lock, merged and retried when only other fields
changed meanwhile, and kept in this process's memory when Vault does not take
it, to be saved before that integration's next refresh.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from pydantic import SecretStr

from sdk._errors import VaultConflictError, VaultUnavailableError
from vault._credentials import CredentialLease, OAuth2RefreshCredential
from vault._locks import HeldLock
from vault._token_endpoint import TokenStats

__all__ = ["CredentialSource", "RotatedRefreshTokens", "same_token"]

logger = logging.getLogger("vault.oauth")

_Key = tuple[str, str]


class CredentialSource(Protocol):
    """Where OAuth credentials are read; one that holds refresh tokens also has ``put(..., cas=)``."""

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease: ...


def same_token(value: str, secret: SecretStr) -> bool:
    """Whether ``value`` is the token ``secret`` holds, compared in constant time."""
    # Bytes, because compare_digest refuses str with non-ASCII characters.
    return hmac.compare_digest(value.encode(), secret.get_secret_value().encode())


@dataclasses.dataclass(frozen=True, slots=True)
class _Unsaved:
    """A rotated refresh token the vendor issued but Vault did not take; kept until it does."""

    credential: OAuth2RefreshCredential
    spent: bytes  # fingerprint of the refresh token it replaces


class RotatedRefreshTokens:
    """Writes rotated refresh tokens to ``source``, and holds the ones Vault did not take.

    ``reserve`` is the part of the refresh lock's lease kept for the write-back,
    and ``pauses`` how long to wait before each retry of a write-back Vault
    could not take (while the lease lasts). ``fingerprint`` is the token
    source's keyed fingerprint of a refresh token.
    """

    def __init__(
        self,
        source: CredentialSource,
        stats: TokenStats,
        *,
        reserve: float,
        pauses: Sequence[float],
        fingerprint: Callable[[SecretStr], bytes],
    ) -> None:
        self._source = source
        self.stats = stats
        self._reserve = reserve
        self._pauses = tuple(pauses)
        self._fingerprint = fingerprint
        self._unsaved: dict[_Key, _Unsaved] = {}

    def pending(self, key: _Key) -> bool:
        """Whether a rotated token of ``key`` is held in memory only (no access token is due until saved)."""
        return key in self._unsaved

    def hold(self, key: _Key, updated: OAuth2RefreshCredential, spent: SecretStr) -> None:
        """Keep ``updated``, which Vault did not take, until :meth:`save_pending` saves it."""
        self._unsaved[key] = _Unsaved(updated, self._fingerprint(spent))

    async def save_pending(self, key: _Key, current: CredentialLease) -> CredentialLease:
        """Save the token held for ``key``, if still due; return the credential as Vault now holds it."""
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

    async def write_back(
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
                if not isinstance(latest, OAuth2RefreshCredential) or not same_token(
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
        put = self._source.put  # type: ignore[attr-defined]  # checked before any refresh
        version: int = await put(lease.tenant, lease.integration, credential, cas=cas)
        return version
