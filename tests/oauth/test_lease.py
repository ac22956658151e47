"""The refresh lease lock on real OpenBao: contention, expiry and takeover, policy, no secrets."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from sdk import VaultConflictError, VaultPermissionError
from tests.oauth.conftest import open_store
from tests.oauth.support import dump, new_id, writer_token
from vault import CredentialStore, VaultSettings, tenant_policy_hcl
from vault._lease import VaultRefreshLocks
from vault._paths import refresh_lock_path

pytestmark = pytest.mark.vault


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def lock_record(root: Any, settings: VaultSettings, tenant: str, integration: str) -> dict[str, Any]:
    path = refresh_lock_path(settings, tenant, integration)
    answer = root.secrets.kv.v2.read_secret_version(
        path=path, mount_point=settings.mount, raise_on_deleted_version=True
    )
    return dict(answer["data"]["data"])


async def test_two_stores_contend_and_the_second_gets_the_lock_once_it_is_released(
    store: CredentialStore,
    settings: VaultSettings,
    tenant: str,
    tenant_token: str,
    integration: str,
    vault_root: Any,
) -> None:
    first = VaultRefreshLocks(store, poll=0.01)
    async with await open_store(settings, tenant, tenant_token) as other_store:
        second = VaultRefreshLocks(other_store, poll=0.01, wait=0.2)
        held = await first.acquire(tenant, integration)
        assert lock_record(vault_root, settings, tenant, integration)["owner"] == first.owner
        with pytest.raises(VaultConflictError, match="is held by") as caught:
            await second.acquire(tenant, integration)
        assert first.owner in str(caught.value)
        assert second.stats.waits >= 1
        assert second.stats.acquired == 0

        waiting = asyncio.create_task(second.acquire(tenant, integration))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await first.release(held)
        taken = await waiting
        record = lock_record(vault_root, settings, tenant, integration)
        assert record["state"] == "held"
        assert record["owner"] == second.owner
        await second.release(taken)
        assert lock_record(vault_root, settings, tenant, integration)["state"] == "free"
        assert second.stats.takeovers == 0


async def test_simultaneous_takers_race_on_one_check_and_set_and_exactly_one_wins(
    settings: VaultSettings, tenant: str, tenant_token: str, integration: str
) -> None:
    stores = [await open_store(settings, tenant, tenant_token) for _ in range(4)]
    try:
        locks = [VaultRefreshLocks(s, poll=0.01, wait=0.3) for s in stores]
        outcomes = await asyncio.gather(
            *(lock.acquire(tenant, integration) for lock in locks), return_exceptions=True
        )
        winners = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(o, VaultConflictError) for o in outcomes if o not in winners)
        assert sum(lock.stats.acquired for lock in locks) == 1
        # Each loser either lost the check-and-set or found the lock already held, then waited.
        assert all(lock.stats.conflicts + lock.stats.waits >= 1 for lock in locks if lock.stats.acquired == 0)
    finally:
        for s in stores:
            await s.aclose()


async def test_a_dead_holders_lock_is_taken_over_after_its_ttl_on_the_waiters_own_clock(
    store: CredentialStore, settings: VaultSettings, tenant: str, tenant_token: str, integration: str
) -> None:
    dead = VaultRefreshLocks(store, ttl=5)
    abandoned = await dead.acquire(tenant, integration)  # and never released: the holder "crashed"
    clock = FakeClock()
    async with await open_store(settings, tenant, tenant_token) as other_store:
        # The wall clock is far behind, so only the waiter's own observation can expire the lock.
        waiter = VaultRefreshLocks(
            other_store, ttl=5, poll=0.01, wait=3600, clock=clock, wall=lambda: time.time() - 3600
        )
        waiting = asyncio.create_task(waiter.acquire(tenant, integration))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert waiter.stats.waits >= 1
        clock.now += 4.9
        await asyncio.sleep(0.1)
        assert not waiting.done()  # watched for 4.9 s of a 5 s lease: still the dead holder's
        clock.now += 0.2
        held = await asyncio.wait_for(waiting, 5)
        assert waiter.stats.takeovers == 1
        # The old holder wakes up and releases: it must not free the new holder's lock.
        await dead.release(abandoned)
        assert dead.stats.lost_releases == 1
        await waiter.release(held)


async def test_a_newcomer_takes_over_an_old_lock_at_once_by_vaults_own_timestamps(
    store: CredentialStore, settings: VaultSettings, tenant: str, tenant_token: str, integration: str
) -> None:
    dead = VaultRefreshLocks(store, ttl=5)
    await dead.acquire(tenant, integration)
    async with await open_store(settings, tenant, tenant_token) as other_store:
        # Vault wrote the lock "now"; this host's clock says ttl + skew later.
        late = VaultRefreshLocks(
            other_store, ttl=5, max_clock_skew=2, wait=0.2, wall=lambda: time.time() + 7.5
        )
        held = await late.acquire(tenant, integration)
        assert late.stats.takeovers == 1
        assert late.stats.waits == 0
        await late.release(held)


async def test_a_lock_within_ttl_plus_skew_is_not_taken_over(
    store: CredentialStore, settings: VaultSettings, tenant: str, tenant_token: str, integration: str
) -> None:
    holder = VaultRefreshLocks(store, ttl=5)
    held = await holder.acquire(tenant, integration)
    async with await open_store(settings, tenant, tenant_token) as other_store:
        # 6 s "later" is past the ttl but within the allowed skew: a fast clock must not steal it.
        eager = VaultRefreshLocks(
            other_store, ttl=5, max_clock_skew=2, poll=0.01, wait=0.2, wall=lambda: time.time() + 6
        )
        with pytest.raises(VaultConflictError):
            await eager.acquire(tenant, integration)
        assert eager.stats.takeovers == 0
    await holder.release(held)


async def test_the_same_owner_queues_in_process_and_may_retake_a_lock_it_kept(
    store: CredentialStore, tenant: str, integration: str
) -> None:
    locks = VaultRefreshLocks(store, poll=0.01)
    held = await locks.acquire(tenant, integration)
    second = asyncio.create_task(locks.acquire(tenant, integration))
    await asyncio.sleep(0.05)
    assert not second.done()  # one owner, two coroutines: never both inside
    await locks.release(held, keep=True)  # kept held in Vault, handed on in process
    again = await asyncio.wait_for(second, 2)
    await locks.release(again)


async def test_a_deleted_lock_reads_as_free(
    store: CredentialStore, settings: VaultSettings, tenant: str, integration: str, vault_root: Any
) -> None:
    locks = VaultRefreshLocks(store)
    await locks.release(await locks.acquire(tenant, integration))
    path = refresh_lock_path(settings, tenant, integration)
    vault_root.secrets.kv.v2.delete_latest_version_of_secret(path=path, mount_point=settings.mount)
    held = await locks.acquire(tenant, integration)
    await locks.release(held)
    assert lock_record(vault_root, settings, tenant, integration)["state"] == "free"


async def test_the_write_policy_covers_the_tenants_locks_and_nothing_else(
    settings: VaultSettings, vault_root: Any, integration: str
) -> None:
    mine, theirs = new_id("t"), new_id("t")
    async with await open_store(settings, mine, writer_token(vault_root, settings, mine)) as store:
        # A store registered for "theirs" but holding "mine"'s token: Vault must say no.
        store.register_tenant(
            theirs, settings=settings, region=settings.region, token=writer_token(vault_root, settings, mine)
        )
        locks = VaultRefreshLocks(store)
        await locks.release(await locks.acquire(mine, integration))
        with pytest.raises(VaultPermissionError):
            await locks.acquire(theirs, integration)
    # A read-only policy cannot take a lock (and so can never spend a refresh token).
    read_only = f"nexora-ro-{mine}"
    vault_root.sys.create_or_update_policy(name=read_only, policy=tenant_policy_hcl(mine, settings))
    token = vault_root.auth.token.create(policies=[read_only], ttl="5m")["auth"]["client_token"]
    async with await open_store(settings, mine, token) as store:
        with pytest.raises(VaultPermissionError):
            await VaultRefreshLocks(store).acquire(mine, new_id("crm"))


def test_the_write_policy_names_the_lock_paths_one_segment_deep(settings: VaultSettings) -> None:
    policy = tenant_policy_hcl("acme", settings, write=True)
    assert 'path "secret/data/nexora/tenants/acme/refresh-locks/+"' in policy
    assert 'path "secret/metadata/nexora/tenants/acme/refresh-locks/+"' in policy
    assert "refresh-locks" not in tenant_policy_hcl("acme", settings)
    assert "*" not in policy


async def test_a_lock_record_holds_nothing_secret(
    store: CredentialStore,
    settings: VaultSettings,
    tenant: str,
    tenant_token: str,
    integration: str,
    vault_root: Any,
) -> None:
    locks = VaultRefreshLocks(store)
    held = await locks.acquire(tenant, integration)
    record = lock_record(vault_root, settings, tenant, integration)
    assert set(record) == {"state", "owner", "ttl_seconds", "holder_expires_at"}
    assert tenant_token not in dump(record)
    assert tenant_token not in repr(locks) + repr(held) + repr(locks.stats)
    await locks.release(held)
