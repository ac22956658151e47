"""In-memory credential sources for connector tests: no Vault needed.

:class:`MemoryCredentialSource` is read-only, as far as the SDK is concerned
(tests add versions with ``put``); :class:`WritableMemoryCredentialSource` also
takes the write-back of a rotated OAuth refresh token (``await put(..., cas=)``
with Vault's check-and-set rules), which is what an OAuth connector needs to
run the kit with a refresh-token credential. A read of a (tenant, integration)
that holds nothing raises :class:`~sdk.CredentialNotFoundError` naming the
integration, exactly like Vault's store, so that a test that forgot to store a
credential is told so instead of seeing some later failure.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sdk._errors import CredentialNotFoundError, VaultConflictError, VaultUnavailableError
from vault._credentials import Credential, CredentialLease

__all__ = ["MemoryCredentialSource", "WritableMemoryCredentialSource", "issued_canaries", "make_canary"]

_ISSUED: set[str] = set()


def make_canary(prefix: str = "canary") -> str:
    """A random marker string to plant and then search for; unique per call, never a real-looking key.

    Every canary issued is remembered (see :func:`issued_canaries`) so that a
    test session can scan everything it captured for all of them at the end.
    """
    canary = f"{prefix}-{secrets.token_hex(10)}"
    _ISSUED.add(canary)
    return canary


def issued_canaries() -> frozenset[str]:
    """Every canary this process has issued so far."""
    return frozenset(_ISSUED)


@dataclass
class _MemoryVersions:
    """Versions of credentials per (tenant, integration) like Vault KV v2 keeps them, and read counters.

    ``lagging=True`` simulates a reused stale copy: until the next
    ``invalidate()``, non-fresh reads return the previous version. That is how
    the kit proves a vendor 401 leads to exactly one fresh read and one resend.
    """

    versions: dict[tuple[str, str], list[Credential]] = field(default_factory=dict)
    reads: int = 0
    fresh_reads: int = 0
    invalidations: int = 0
    lagging: bool = False

    def seed(self, tenant: str, integration: str, credential: Credential) -> int:
        """Store ``credential`` as the next version (what ``bao kv put`` does); return its version."""
        stored = self.versions.setdefault((tenant, integration), [])
        stored.append(credential)
        return len(stored)

    def latest(self, tenant: str, integration: str) -> Credential:
        """The newest version stored (a rotated refresh token written back shows here)."""
        return self._stored(tenant, integration)[-1]

    def _stored(self, tenant: str, integration: str) -> list[Credential]:
        stored = self.versions.get((tenant, integration))
        if not stored:
            # Named like the Vault store's error: a forgotten credential must read as one, never as
            # a malformed vendor answer or a bare KeyError somewhere down the call.
            raise CredentialNotFoundError(
                f"no credential is stored for integration {integration!r} of tenant {tenant!r} "
                f"in the in-memory credential source; store one with seed() or put() first"
            )
        return stored

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        self.reads += 1
        self.fresh_reads += int(fresh)
        stored = self._stored(tenant, integration)
        index = len(stored) - 1
        if self.lagging and not fresh and len(stored) > 1:
            index -= 1
        return CredentialLease(
            credential=stored[index],
            version=index + 1,
            tenant=tenant,
            integration=integration,
            path=f"memory/{tenant}/{integration}",
        )

    def invalidate(self, tenant: str, integration: str) -> None:
        self.invalidations += 1
        self.lagging = False


@dataclass
class MemoryCredentialSource(_MemoryVersions):
    """An in-memory source the SDK only reads; ``put`` stores a new version (synchronously).

    An OAuth refresh-token credential needs :class:`WritableMemoryCredentialSource`: the SDK
    refuses to spend a refresh token it could not write back.
    """

    def put(self, tenant: str, integration: str, credential: Credential) -> int:
        """Store ``credential`` as the next version; return its version number."""
        return self.seed(tenant, integration, credential)


@dataclass
class WritableMemoryCredentialSource(_MemoryVersions):
    """An in-memory source that takes rotated OAuth refresh tokens back, as a Vault store does.

    Tests store credentials with :meth:`seed`; the SDK writes with ``await put(..., cas=version)``,
    refused with :class:`~sdk.VaultConflictError` when ``cas`` is not the current version.
    ``fail_writes`` makes that many of the next writes fail as if Vault were down; ``writes`` and
    ``conflicts`` count what happened.
    """

    writes: int = 0
    conflicts: int = 0
    fail_writes: int = 0

    async def put(
        self, tenant: str, integration: str, credential: Credential, *, cas: int | None = None
    ) -> int:
        """Write ``credential`` as the next version, with check-and-set when ``cas`` is given."""
        if self.fail_writes > 0:
            self.fail_writes -= 1
            raise VaultUnavailableError(
                "could not write to the in-memory credential source (simulated outage)"
            )
        stored = self.versions.setdefault((tenant, integration), [])
        if cas is not None and cas != len(stored):
            self.conflicts += 1
            raise VaultConflictError(f"check-and-set lost: the current version is {len(stored)}, not {cas}")
        stored.append(credential)
        self.writes += 1
        return len(stored)
