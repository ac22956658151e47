"""Vault reads run off the event loop: many concurrent reads never stall other tasks."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import hvac
import pytest

from tests.vault.support import make_secret, write_secret
from vault import CredentialStore, OpenBaoDevServer, VaultSettings, credential_path

pytestmark = pytest.mark.vault

# Judged against a control measured in the same run, not a fixed time: a batch
# of BATCH reads made on the loop would stall it for about BATCH x (one read),
# and on a loaded 2-core machine both that and scheduling noise grow together
# (fixed bounds of 50 and 150 ms both failed there while other suites ran).
BATCH = 200


async def test_concurrent_gets_do_not_block_the_event_loop(
    store: CredentialStore, settings: VaultSettings, openbao: OpenBaoDevServer, vault_root: Any, tenant: str
) -> None:
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
    store.register_tenant(tenant, settings=settings, region="nz", token=openbao.root_token)
    await store.get(tenant, "crm")  # log in and warm the connection pool

    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    # A full collection of the heap a long test session has built can pause the loop for
    # hundreds of ms (545 ms was seen late in a full run); that is not what is under test.
    gc.collect()
    gc.disable()
    try:
        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        for _ in range(3):
            leases = await asyncio.gather(*(store.get(tenant, "crm") for _ in range(BATCH)))
            assert {lease.version for lease in leases} == {1}
        done.set()
        await ticking
    finally:
        gc.enable()

    assert store.reads == 3 * BATCH + 1
    assert len(gaps) > 10

    # The control: how long the same batch would hold the loop if each read blocked it.
    client = hvac.Client(url=openbao.address, token=openbao.root_token, timeout=5)
    client.session.trust_env = False
    path = credential_path(settings, tenant, "crm")
    try:
        started = time.perf_counter()
        for _ in range(20):
            client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=settings.mount, raise_on_deleted_version=True
            )
        blocking_stall = (time.perf_counter() - started) / 20 * BATCH
    finally:
        client.adapter.close()
    assert max(gaps) < blocking_stall / 2, (
        f"event loop stalled for {max(gaps) * 1000:.1f} ms; reading on the loop would have stalled it "
        f"for about {blocking_stall * 1000:.0f} ms"
    )
