"""Credentials by tenant and integration, read from each tenant's own Vault at call time.

The store is the one place the rest of the SDK asks for a key. It checks ids,
region and tenant before anything goes to Vault, reads the secret when asked
(reusing a copy only within an explicit staleness bound, S4) and shares one
client between tenants that use the same Vault the same way. How long one
read may take (the failover wait, the call's deadline) is :mod:`vault._store_reads`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Self

from sdk._errors import (
    ConfigurationError,
    InvalidArgumentsError,
    ResidencyError,
    UnknownTenantError,
    UsageError,
)
from sdk._ids import validate_id
from vault._client import SecretVersionInfo, VaultClient
from vault._credentials import Credential, CredentialLease, credential_to_secret_data
from vault._hvac import DEFAULT_THREADS, vault_executor
from vault._kv_reader import KvReader
from vault._paths import credential_path
from vault._settings import REGIONS, VaultSettings
from vault._store_reads import CredentialReads

__all__ = ["CredentialStore"]

_Key = tuple[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class _Tenant:
    settings: VaultSettings
    client: VaultClient


class CredentialStore:
    """Hands out each tenant's integration credentials, fresh from that tenant's Vault.

    ``max_staleness`` is how many seconds a credential read from Vault may be
    handed out again without a new read; the default ``0`` reads Vault on every
    call, so a rotated key is used on the very next call. ``clock`` is for tests.

    Each Vault server gets its own connection pool for credential reads, on
    the event loop (aiohttp), and its own pool of ``threads_per_vault`` threads
    for the rest (logins, renewals, writes: hvac), both shared by every tenant
    on that server: one tenant's hung Vault ties up only its own pools, while a
    thousand tenants on one Vault do not cost a thousand pools.
    ``async_reads=False`` sends reads through hvac on the threads as well
    (the same answers and errors, at about 2.5 times the client CPU per read,
    and with worker threads competing with the event loop for the GIL).

    Vault tokens with a TTL are renewed in the background, and replaced by a new
    AppRole login when they cannot be renewed any more (see
    :class:`~vault.VaultClient`); ``renew_tokens=False`` leaves them alone, for
    short-lived processes such as a CLI command.

    ``failover_wait`` is how many seconds a read keeps retrying while Vault is
    unavailable (connection refused or cut, 5xx, sealed, no active node): the
    time a highly available cluster takes to elect a new active node (under
    10 s for OpenBao's Raft on loopback, docs/scaling.md). It never outlasts
    the running operation's deadline; the default ``0`` fails at once, as a
    single-node Vault that is down will not come back within a call.
    """

    def __init__(
        self,
        *,
        max_staleness: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        threads_per_vault: int = DEFAULT_THREADS,
        renew_tokens: bool = True,
        async_reads: bool = True,
        failover_wait: float = 0.0,
    ) -> None:
        if not (math.isfinite(max_staleness) and max_staleness >= 0):
            raise ConfigurationError("max_staleness must be a finite number of seconds, 0 or more")
        if not (math.isfinite(failover_wait) and failover_wait >= 0):
            raise ConfigurationError("failover_wait must be a finite number of seconds, 0 or more")
        if threads_per_vault < 1:
            raise ConfigurationError("threads_per_vault must be at least 1")
        self._max_staleness = max_staleness
        self._clock = clock
        self._threads_per_vault = threads_per_vault
        self._renew_tokens = renew_tokens
        self._async_reads = async_reads
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._readers: dict[str, KvReader] = {}
        self._tenants: dict[str, _Tenant] = {}
        # Keyed on a digest of the token, not the token: keys end up in debug
        # output more easily than client internals do.
        self._clients: dict[tuple[VaultSettings, str | None], VaultClient] = {}
        self._reused: dict[_Key, tuple[float, CredentialLease]] = {}
        self._invalidations = 0
        self._closed = False
        self._reads = CredentialReads(failover_wait)

    def __repr__(self) -> str:
        return f"CredentialStore(tenants={len(self._tenants)}, max_staleness={self._max_staleness})"

    @property
    def reads(self) -> int:
        """How many secret reads this store has sent to Vault (for tests and benchmarks)."""
        return self._reads.reads

    @property
    def failover_retries(self) -> int:
        """How many reads were sent again because Vault was unavailable (see ``failover_wait``)."""
        return self._reads.failover_retries

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- configuration ---------------------------------------------------------------

    def register_tenant(
        self,
        tenant: str,
        *,
        settings: VaultSettings,
        region: str,
        allow_cross_region: bool = False,
        token: str | None = None,
    ) -> None:
        """Say where ``tenant``'s credentials live; ``region`` is the tenant's home region.

        Refuses, with :class:`~sdk._errors.ResidencyError`, a Vault outside the
        tenant's region unless ``allow_cross_region`` (the tenant's
        ``cross_region`` setting) is set (S8). Registering a tenant again
        replaces its settings and drops any credential reused for it.
        """
        self._check_open()
        tenant = validate_id(tenant, kind="tenant id")
        if region not in REGIONS:
            raise ConfigurationError(
                f"tenant {tenant!r} has an unknown region; use one of {', '.join(sorted(REGIONS))}"
            )
        if settings.region != region and not allow_cross_region:
            raise ResidencyError(
                f"tenant {tenant!r} is homed in region {region!r} but its Vault at {settings.address} "
                f"is in region {settings.region!r}, so its credentials would leave the region; "
                "use a Vault in the tenant's region, or set cross_region: true for this tenant"
            )
        digest = hashlib.sha256(token.encode()).hexdigest() if token is not None else None
        client = self._clients.get((settings, digest))
        if client is None:
            executor = self._executors.get(settings.address)
            if executor is None:
                executor = self._executors[settings.address] = vault_executor(self._threads_per_vault)
            reader = None
            if self._async_reads:
                reader = self._readers.get(settings.address)
                if reader is None:
                    reader = self._readers[settings.address] = KvReader(settings.address)
            client = self._clients[(settings, digest)] = VaultClient(
                settings,
                token=token,
                executor=executor,
                renew_tokens=self._renew_tokens,
                async_reads=self._async_reads,
                reader=reader,
            )
        self._tenants[tenant] = _Tenant(settings=settings, client=client)
        self._drop_tenant(tenant)

    # --- reads -----------------------------------------------------------------------

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        """Return the current credential of ``tenant``'s ``integration``.

        Read from Vault now, unless a copy read less than ``max_staleness``
        seconds ago can be reused and ``fresh`` is false. Pass ``fresh=True``
        after the vendor rejected a credential, and wherever the newest version
        matters (an OAuth refresh under its lock): a fresh read also sees every
        write this store's Vault client has seen acknowledged, even on a
        cluster whose standby nodes answer reads from a copy that trails the
        active node (:mod:`vault._consistency`).
        """
        tenant, integration, entry = self._resolve(tenant, integration)
        key = (tenant, integration)
        if self._max_staleness > 0 and not fresh:
            reused = self._reused.get(key)
            if reused is not None and self._clock() - reused[0] < self._max_staleness:
                return reused[1]
        started, invalidations = self._clock(), self._invalidations
        lease = await self._reads.read(
            entry.client, entry.settings, tenant, integration, version=None, consistent=fresh
        )
        # A copy read across an invalidate() may predate what made the caller
        # invalidate; hand it out this once but do not keep it.
        if self._max_staleness > 0 and invalidations == self._invalidations:
            self._reused[key] = (started, lease)
        return lease

    async def read_version(self, tenant: str, integration: str, version: int) -> CredentialLease:
        """Return one specific version of the credential, e.g. the previous one for a rollback."""
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidArgumentsError("version must be a positive integer (a KV v2 version number)")
        tenant, integration, entry = self._resolve(tenant, integration)
        return await self._reads.read(entry.client, entry.settings, tenant, integration, version=version)

    async def versions(self, tenant: str, integration: str) -> list[SecretVersionInfo]:
        """Return what Vault knows about each version of the credential (never the values)."""
        tenant, integration, entry = self._resolve(tenant, integration)
        path = credential_path(entry.settings, tenant, integration)
        return await entry.client.read_versions(path, tenant=tenant, integration=integration)

    def invalidate(self, tenant: str, integration: str) -> None:
        """Forget any reused copy of the credential, e.g. after the vendor answered 401."""
        self._invalidations += 1
        self._reused.pop((tenant, integration), None)

    # --- writes ----------------------------------------------------------------------

    async def put(self, tenant: str, integration: str, credential: Credential, *, cas: int | None) -> int:
        """Store ``credential`` as a new version and return its version number.

        ``cas`` is the version the caller last read (``0`` for "none yet"); the
        write fails if someone else wrote since. ``None`` writes unconditionally,
        which only a first-time setup should do.
        """
        tenant, integration, entry = self._resolve(tenant, integration)
        path = credential_path(entry.settings, tenant, integration)
        try:
            return await entry.client.write_secret(
                path, credential_to_secret_data(credential), cas=cas, tenant=tenant, integration=integration
            )
        finally:
            # Whatever happened, a reused copy may now be older than Vault's.
            self.invalidate(tenant, integration)

    async def restore(self, tenant: str, integration: str, version: int, *, cas: int) -> int:
        """Make the value of an earlier ``version`` current again, as a new version; return its number.

        This is how KV v2 rolls back: the old value is read and written back with
        check-and-set on ``cas`` (the version the caller believes is current), so
        a rotation someone else made meanwhile is never overwritten. The value
        is copied exactly as stored, fields this SDK does not know included, and
        never leaves the store.
        """
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidArgumentsError("version must be a positive integer (a KV v2 version number)")
        tenant, integration, entry = self._resolve(tenant, integration)
        path = credential_path(entry.settings, tenant, integration)
        self._reads.reads += 1
        data, _ = await entry.client.read_secret(
            path, version=version, tenant=tenant, integration=integration
        )
        try:
            return await entry.client.write_secret(
                path, data, cas=cas, tenant=tenant, integration=integration
            )
        finally:
            self.invalidate(tenant, integration)

    def vault_client(self, tenant: str) -> VaultClient:
        """Return the Vault client ``tenant``'s credentials are read with (for health checks and tests)."""
        tenant = validate_id(tenant, kind="tenant id")
        self._check_open()
        entry = self._tenants.get(tenant)
        if entry is None:
            raise UnknownTenantError(
                f"unknown tenant {tenant!r}; register it with CredentialStore.register_tenant"
            )
        return entry.client

    # --- lifecycle -------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close every client (revoking tokens they logged in for) and forget every credential."""
        if self._closed:
            return
        self._closed = True
        self._reused.clear()
        clients = list(self._clients.values())
        self._clients.clear()
        self._tenants.clear()
        await asyncio.gather(*(client.close() for client in clients))
        executors = list(self._executors.values())
        self._executors.clear()
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, wait=True)
        readers = list(self._readers.values())
        self._readers.clear()
        await asyncio.gather(*(reader.aclose() for reader in readers))

    def discard(self) -> None:
        """Release what registration created, without I/O, for an owner whose construction failed.

        Nothing has logged in yet at that point, so there is no token to revoke;
        the worker threads are stopped without waiting.
        """
        self._closed = True
        self._reused.clear()
        self._clients.clear()
        self._tenants.clear()
        executors = list(self._executors.values())
        self._executors.clear()
        for executor in executors:
            executor.shutdown(wait=False, cancel_futures=True)
        for reader in self._readers.values():
            reader.discard()
        self._readers.clear()

    # --- machinery -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("this CredentialStore is closed; create a new one")

    def _resolve(self, tenant: str, integration: str) -> tuple[str, str, _Tenant]:
        # Ids first: a malformed id is refused the same way whether or not the
        # tenant exists, and before any Vault request (S2).
        tenant = validate_id(tenant, kind="tenant id")
        integration = validate_id(integration, kind="integration id")
        self._check_open()
        entry = self._tenants.get(tenant)
        if entry is None:
            raise UnknownTenantError(
                f"unknown tenant {tenant!r}; register it with CredentialStore.register_tenant "
                "(is it in the configuration?)"
            )
        return tenant, integration, entry

    def _drop_tenant(self, tenant: str) -> None:
        self._invalidations += 1
        for key in [key for key in self._reused if key[0] == tenant]:
            del self._reused[key]
