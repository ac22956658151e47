"""Lease locks that let one process at a time spend an integration's OAuth refresh token.

Check-and-set on the credential alone does not stop two replicas from sending
the same single-use refresh token to the vendor: both read version N, both
refresh, and only the *write* of the loser fails, after the vendor has seen the
token twice and (as many vendors do) revoked the whole token family. So the
refresh itself is serialised, per tenant and integration, by a lease lock kept
in the engine every deployment already runs: the tenant's own Vault.

The lock is the KV v2 secret at :func:`vault._paths.refresh_lock_path`::

    {"state": "held" | "free", "owner": "<host>/<pid>/<random>",
     "ttl_seconds": "30", "holder_expires_at": "<ISO time, holder's clock>"}

* **Take**: read it; if it is free, missing, ours, or expired, write a ``held``
  record with ``cas`` = the version read. Of several processes doing this at
  once exactly one write succeeds (Vault's check-and-set); the others re-read.
* **Release**: write a ``free`` record with ``cas`` = the version we wrote. If
  that loses, someone took the lock over because we overran: it is logged.
* **Expiry** is judged by the waiting process, never by the holder's word, in
  two ways, either of which suffices:

  1. it has watched the *same version* stay ``held`` for ``ttl_seconds`` on its
     own monotonic clock. This needs no agreement between clocks at all, only
     that they tick at roughly the same rate (how Kubernetes leader election
     judges leases); or
  2. Vault's own ``created_time`` of that version, plus ``ttl_seconds``, plus
     ``max_clock_skew``, is in the past by this host's wall clock. This lets a
     process that just started take over a long-dead lock at once; it is safe
     as long as this host's clock is within ``max_clock_skew`` of Vault's.

  The holder, for its part, counts its lease from just *before* it sent the
  write, on its monotonic clock, and stops starting vendor requests when too
  little of it is left: the waiter's window starts later and lasts longer.

Failure modes, and what happens:

* **The holder dies** (crash, OOM, network partition): its lock expires after
  ``ttl_seconds`` (rule 1) or sooner for a newcomer (rule 2) and is taken over.
  If it died between the vendor's answer and the write-back, the rotated
  refresh token died with it: the next refresh is refused and raises
  :class:`~sdk.ReauthorizationRequiredError`. No lock can prevent that; a
  short ``ttl_seconds`` does not make it likelier.
* **The holder is slow** (a stalled vendor call): it never sends a request that
  could outlive its lease (the request timeout is cut to what is left), so a
  takeover can only happen after it stopped using the token.
* **Clock skew**: rule 1 is immune; rule 2 is bounded by ``max_clock_skew``.
  Keep the hosts on NTP and ``max_clock_skew`` generous.
* **Vault unreachable**: no lock can be taken, so no refresh happens; nothing
  is spent twice. A failed release leaves the lock to expire.
* **Someone deletes the lock secret**: it reads as free and is taken with
  ``cas`` on the newest version number, so concurrent takers still race on one
  check-and-set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sdk._errors import ConfigurationError, CredentialNotFoundError, VaultConflictError, VaultError
from vault._client import VaultClient
from vault._locks import HeldLock, LockStats
from vault._paths import refresh_lock_path
from vault._store import CredentialStore

__all__ = ["VaultRefreshLocks", "new_owner_id"]

logger = logging.getLogger("vault.lease")

_HELD = "held"
_FREE = "free"


def new_owner_id() -> str:
    """Return an id naming this process (host and pid, for an operator) and this holder (random)."""
    return f"{socket.gethostname()[:64]}/{os.getpid()}/{secrets.token_hex(4)}"


@dataclasses.dataclass(slots=True)
class _VaultHeld:
    client: VaultClient
    path: str
    tenant: str
    integration: str
    version: int
    owner: str
    ttl: float
    acquired_at: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        return self.ttl - (self.clock() - self.acquired_at)


@dataclasses.dataclass(frozen=True, slots=True)
class _Record:
    state: str
    owner: str
    ttl: float


class VaultRefreshLocks:
    """Lease locks on the tenant's Vault, one per tenant integration (see the module docstring).

    ``ttl`` is how long a lock stays valid without being released; it must
    comfortably exceed one Vault re-read, one vendor token request and one
    write-back. ``max_clock_skew`` bounds how far this host's clock may be from
    Vault's. ``wait`` is how long :meth:`acquire` waits for a held lock before
    it gives up with :class:`~sdk.VaultConflictError`; while waiting it reads
    the lock every ``poll`` seconds, backing off to ``max_poll`` (a refresh
    takes tens of milliseconds and a read costs Vault about a millisecond, so
    waiters poll briskly rather than sleep through the hand-over). ``clock``
    (monotonic) and ``wall`` (seconds since the epoch) are for tests.
    """

    def __init__(
        self,
        store: CredentialStore,
        *,
        ttl: float = 30.0,
        max_clock_skew: float = 10.0,
        wait: float | None = None,
        poll: float = 0.02,
        max_poll: float = 0.1,
        owner: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if not (ttl > 0 and max_clock_skew >= 0 and 0 < poll <= max_poll):
            raise ConfigurationError(
                "ttl must be positive, max_clock_skew 0 or more, and 0 < poll <= max_poll"
            )
        self._store = store
        self._ttl = ttl
        self._skew = max_clock_skew
        # Long enough, by default, to outwait a dead holder's lease.
        self._wait = wait if wait is not None else ttl + max_clock_skew + 5.0
        self._poll = poll
        self._max_poll = max_poll
        self.owner = owner or new_owner_id()
        self._clock = clock
        self._wall = wall
        self._local: dict[tuple[str, str], asyncio.Lock] = {}
        self.stats = LockStats()

    def __repr__(self) -> str:
        return f"VaultRefreshLocks(owner={self.owner!r}, ttl={self._ttl})"

    async def acquire(self, tenant: str, integration: str) -> HeldLock:
        """Take the lock of ``tenant``'s ``integration``, waiting while someone else holds it."""
        client, path = self._where(tenant, integration)
        # Holders in this process queue here first: the Vault record names the owner,
        # not the coroutine, so two holders under one owner must never meet there.
        local = self._local.setdefault((tenant, integration), asyncio.Lock())
        await local.acquire()
        try:
            return await self._acquire_in_vault(client, path, tenant, integration)
        except BaseException:
            local.release()
            raise

    async def _acquire_in_vault(
        self, client: VaultClient, path: str, tenant: str, integration: str
    ) -> _VaultHeld:
        give_up = self._clock() + self._wait
        first_seen: dict[int, float] = {}
        created: dict[int, datetime | None] = {}
        delay = self._poll
        while True:
            record, version = await self._read(client, path, tenant, integration)
            taking_over = record is not None and record.state == _HELD and record.owner != self.owner
            if not taking_over or await self._expired(
                client, path, tenant, integration, record, version, first_seen, created
            ):
                held = await self._take(client, path, tenant, integration, version)
                if held is not None:
                    if taking_over:
                        self.stats.takeovers += 1
                        logger.warning(
                            "took over the expired OAuth refresh lock of tenant %r, integration %r "
                            "from %s (it held it for more than %ss without releasing it)",
                            tenant,
                            integration,
                            record.owner if record is not None else "?",
                            record.ttl if record is not None else "?",
                        )
                    return held
                # Lost the check-and-set: somebody else just took it. Look again at once.
                continue
            self.stats.waits += 1
            if self._clock() >= give_up:
                raise VaultConflictError(
                    f"the OAuth refresh lock of tenant {tenant!r}, integration {integration!r} "
                    f"(Vault path {path!r}) is held by {record.owner if record else '?'} and did not "
                    f"come free within {self._wait:g}s; another process is refreshing the token, retry"
                )
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not secrecy
            delay = min(delay * 1.5, self._max_poll)

    async def release(self, held: HeldLock, *, keep: bool = False) -> None:
        """Mark the lock free, unless someone took it over meanwhile (then only log it).

        With ``keep`` the Vault record stays ``held`` until it expires; only this
        object's in-process hold is dropped, so that this owner may take it again.
        """
        if not isinstance(held, _VaultHeld):
            raise TypeError("release() takes what this object's acquire() returned")
        try:
            if not keep:
                await self._release_in_vault(held)
        finally:
            self._local[(held.tenant, held.integration)].release()

    async def _release_in_vault(self, held: _VaultHeld) -> None:
        body = {"state": _FREE, "owner": held.owner, "released_at": self._iso(self._wall())}
        try:
            await held.client.write_secret(
                held.path, body, cas=held.version, tenant=held.tenant, integration=held.integration
            )
        except VaultConflictError:
            self.stats.lost_releases += 1
            logger.warning(
                "the OAuth refresh lock of tenant %r, integration %r was taken over before it was "
                "released: this process held it longer than its %ss lease",
                held.tenant,
                held.integration,
                held.ttl,
            )
        except VaultError as exc:
            # Vault's message names the path and the problem, never a value; the lock expires anyway.
            logger.warning(
                "could not release the OAuth refresh lock of tenant %r, integration %r (%s); "
                "it expires by itself after %ss",
                held.tenant,
                held.integration,
                exc,
                held.ttl,
            )

    # --- machinery -------------------------------------------------------------------------

    def _where(self, tenant: str, integration: str) -> tuple[VaultClient, str]:
        # The store already validated ids, region and tenant when it resolved the
        # tenant's Vault; the lock lives in that same Vault, beside the credential.
        tenant, integration, entry = self._store._resolve(tenant, integration)
        return entry.client, refresh_lock_path(entry.settings, tenant, integration)

    async def _read(
        self, client: VaultClient, path: str, tenant: str, integration: str
    ) -> tuple[_Record | None, int]:
        while True:
            try:
                # Consistent: after our own check-and-set lost, a lagging standby would show the
                # record we lost to as not yet written, and we would lose again until it caught up.
                data, version = await client.read_secret(
                    path, tenant=tenant, integration=integration, consistent=True
                )
            except CredentialNotFoundError:
                pass
            else:
                return _parse(data, default_ttl=self._ttl), version
            # Never written, or its newest version deleted: free, at the newest version number.
            try:
                versions = await client.read_versions(path, tenant=tenant, integration=integration)
            except CredentialNotFoundError:
                return None, 0
            if not versions:
                return None, 0
            if not versions[-1].readable:
                return None, versions[-1].version
            # Someone wrote it between our two reads: what they wrote decides, so read it.

    async def _expired(
        self,
        client: VaultClient,
        path: str,
        tenant: str,
        integration: str,
        record: _Record | None,
        version: int,
        first_seen: dict[int, float],
        created: dict[int, datetime | None],
    ) -> bool:
        assert record is not None
        now = self._clock()
        seen = first_seen.setdefault(version, now)
        if now - seen >= record.ttl:
            return True
        if version not in created:
            created[version] = await self._created_time(client, path, tenant, integration, version)
        born = created[version]
        if born is None:
            return False
        deadline = born + timedelta(seconds=record.ttl + self._skew)
        return datetime.fromtimestamp(self._wall(), UTC) >= deadline

    async def _created_time(
        self, client: VaultClient, path: str, tenant: str, integration: str, version: int
    ) -> datetime | None:
        try:
            versions = await client.read_versions(path, tenant=tenant, integration=integration)
        except CredentialNotFoundError:
            return None
        for info in versions:
            if info.version == version:
                born = info.created_time
                return born if born.tzinfo is not None else born.replace(tzinfo=UTC)
        return None

    async def _take(
        self, client: VaultClient, path: str, tenant: str, integration: str, version: int
    ) -> _VaultHeld | None:
        started = self._clock()  # before the write: the lease is counted from the earliest moment
        body = {
            "state": _HELD,
            "owner": self.owner,
            "ttl_seconds": f"{self._ttl:g}",
            "holder_expires_at": self._iso(self._wall() + self._ttl),
        }
        try:
            written = await client.write_secret(
                path, body, cas=version, tenant=tenant, integration=integration
            )
        except VaultConflictError:
            self.stats.conflicts += 1
            return None
        self.stats.acquired += 1
        return _VaultHeld(
            client=client,
            path=path,
            tenant=tenant,
            integration=integration,
            version=written,
            owner=self.owner,
            ttl=self._ttl,
            acquired_at=started,
            clock=self._clock,
        )

    @staticmethod
    def _iso(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).isoformat()


def _parse(data: dict[str, object], *, default_ttl: float) -> _Record:
    """Read a lock record; anything malformed counts as held, with our own ttl (the cautious reading)."""
    state = data.get("state")
    owner = data.get("owner")
    ttl: float = default_ttl
    raw_ttl = data.get("ttl_seconds")
    if isinstance(raw_ttl, str | int | float):
        try:
            ttl = float(raw_ttl)
        except ValueError:
            ttl = default_ttl
    if not (0 < ttl < 3600):
        ttl = default_ttl
    return _Record(
        state=_FREE if state == _FREE else _HELD,
        owner=owner if isinstance(owner, str) else "an unknown holder",
        ttl=ttl,
    )
