"""An in-memory credential source for connector tests: no Vault needed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from vault._credentials import Credential, CredentialLease

__all__ = ["MemoryCredentialSource", "issued_canaries", "make_canary"]

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
class MemoryCredentialSource:
    """Holds versions of credentials per (tenant, integration) like Vault KV v2 does, and counts reads.

    ``lagging=True`` simulates a reused stale copy: until the next
    ``invalidate()``, non-fresh reads return the previous version. That is how
    the kit proves a vendor 401 leads to exactly one fresh read and one resend.
    """

    versions: dict[tuple[str, str], list[Credential]] = field(default_factory=dict)
    reads: int = 0
    fresh_reads: int = 0
    invalidations: int = 0
    lagging: bool = False

    def put(self, tenant: str, integration: str, credential: Credential) -> int:
        stored = self.versions.setdefault((tenant, integration), [])
        stored.append(credential)
        return len(stored)

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        self.reads += 1
        self.fresh_reads += int(fresh)
        stored = self.versions[(tenant, integration)]
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
