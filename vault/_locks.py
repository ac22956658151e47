"""What serialising OAuth refreshes means, and the lock that does it within one process.

An integration's refresh token may be spent by one holder at a time (see
:mod:`vault._lease` for why, and for the lock that holds across processes).
:class:`~vault._oauth.OAuthTokenSource` sees only the protocol here, so a
credential source without a Vault (a test double, a single-process tool) can
use the in-process locks instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Protocol

__all__ = ["HeldLock", "LocalRefreshLocks", "LockStats", "RefreshLocks"]


@dataclasses.dataclass(slots=True)
class LockStats:
    """Counters for tests, benchmarks and operators; no secrets, no ids."""

    acquired: int = 0
    conflicts: int = 0
    """Check-and-set writes to take the lock that another process won."""
    waits: int = 0
    """Times the lock was found held by someone else and this process waited."""
    takeovers: int = 0
    """Expired locks taken over from another holder."""
    lost_releases: int = 0
    """Releases that found the lock already taken over (this process overran its lease)."""


class HeldLock(Protocol):
    """A lock this process holds; ``remaining()`` says for how many more seconds it is safe to act."""

    def remaining(self) -> float: ...


class RefreshLocks(Protocol):
    """Serialises refreshes of one tenant integration; see :class:`VaultRefreshLocks`."""

    stats: LockStats

    async def acquire(self, tenant: str, integration: str) -> HeldLock: ...

    async def release(self, held: HeldLock, *, keep: bool = False) -> None:
        """Give the lock up; with ``keep``, let other processes see it held until it expires.

        ``keep`` is for a holder that spent the refresh token but could not save
        the new one: until it expires, nobody else refreshes with the spent token
        still in Vault, while this process (the same owner) may take it back.
        """
        ...


@dataclasses.dataclass(slots=True)
class _LocalHeld:
    key: tuple[str, str]
    lock: asyncio.Lock

    def remaining(self) -> float:
        return float("inf")


class LocalRefreshLocks:
    """Locks that serialise refreshes within this process only.

    For credential sources that have no Vault to lock on (test doubles, a
    single-process tool). Never use them where two processes share a refresh
    token: that is exactly the double spend :class:`VaultRefreshLocks` prevents.
    """

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.stats = LockStats()

    async def acquire(self, tenant: str, integration: str) -> HeldLock:
        key = (tenant, integration)
        lock = self._locks.setdefault(key, asyncio.Lock())
        if lock.locked():
            self.stats.waits += 1
        await lock.acquire()
        self.stats.acquired += 1
        return _LocalHeld(key, lock)

    async def release(self, held: HeldLock, *, keep: bool = False) -> None:
        if not isinstance(held, _LocalHeld):
            raise TypeError("release() takes what this object's acquire() returned")
        held.lock.release()
