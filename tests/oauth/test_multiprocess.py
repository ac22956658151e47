"""Several real processes refresh one single-use refresh token through one real OpenBao.

The vendor (a loopback HTTP server in this process) rotates the refresh token on every
refresh and revokes the whole family the moment a spent one is presented again. Each
worker is a separate Python process with its own CredentialStore and token source, as
replicas of a voice agent would be. The proof: no refresh token is ever presented twice,
the family is alive at the end, and Vault holds its current refresh token. A control run
without the Vault lock shows the same harness catches a double spend.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.oauth.support import TokenVendor, VendorServer, refresh_credential
from vault import CredentialStore, OAuth2RefreshCredential, VaultSettings

pytestmark = pytest.mark.vault

ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT = 60.0


async def hammer(
    vendor: TokenVendor,
    settings: VaultSettings,
    tenant: str,
    integration: str,
    vault_token: str,
    *,
    workers: int,
    coroutines: int,
    rounds: int,
    locking: bool,
) -> list[dict[str, Any]]:
    """Start ``workers`` processes, release them together, and return what each reports."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VAULT_", "BAO_"))}
    processes: list[asyncio.subprocess.Process] = []
    with VendorServer(vendor) as server:
        config = {
            "address": settings.address,
            "vault_token": vault_token,
            "tenant": tenant,
            "integration": integration,
            "vendor": server.url,
            "coroutines": coroutines,
            "rounds": rounds,
            "locking": locking,
            "ttl": 10.0,
        }
        try:
            for _ in range(workers):
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "tests.oauth._worker",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    cwd=ROOT,
                    env=env,
                )
                processes.append(process)
                assert process.stdin is not None
                process.stdin.write(json.dumps(config).encode() + b"\n")
                await process.stdin.drain()
            for process in processes:
                assert process.stdout is not None
                line = await asyncio.wait_for(process.stdout.readline(), STEP_TIMEOUT)
                if line != b"ready\n":
                    assert process.stderr is not None
                    raise AssertionError(f"worker did not start: {(await process.stderr.read()).decode()}")
            started = time.monotonic()
            for process in processes:  # as close to together as the pipes allow
                assert process.stdin is not None
                process.stdin.write(b"go\n")
            await asyncio.gather(*(p.stdin.drain() for p in processes if p.stdin is not None))
            results = []
            for process in processes:
                assert process.stdout is not None
                results.append(json.loads(await asyncio.wait_for(process.stdout.readline(), STEP_TIMEOUT)))
            for process in processes:
                assert await asyncio.wait_for(process.wait(), STEP_TIMEOUT) == 0
            print(f"\n[oauth hammer] {workers} workers ran for {time.monotonic() - started:.2f}s after start")
            return results
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()


async def seed(
    settings: VaultSettings, tenant: str, integration: str, token: str, vendor: TokenVendor
) -> str:
    first = vendor.new_family()
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region=settings.region, token=token)
        await store.put(tenant, integration, refresh_credential(vendor, first), cas=0)
    return first


async def stored(settings: VaultSettings, tenant: str, integration: str, token: str) -> tuple[str, int]:
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region=settings.region, token=token)
        lease = await store.get(tenant, integration)
    assert isinstance(lease.credential, OAuth2RefreshCredential)
    return lease.credential.refresh_token.get_secret_value(), lease.version


async def test_four_replicas_never_spend_a_refresh_token_twice(
    settings: VaultSettings, tenant: str, integration: str, tenant_token: str
) -> None:
    vendor = TokenVendor(delay=0.003)
    first = await seed(settings, tenant, integration, tenant_token, vendor)
    results = await hammer(
        vendor, settings, tenant, integration, tenant_token, workers=4, coroutines=3, rounds=5, locking=True
    )
    failures = [failure for result in results for failure in result["failures"]]
    assert failures == []
    refreshes = sum(result["refreshes"] for result in results)
    # Every refresh the workers count is one the vendor served, and each spent a different token.
    assert refreshes == vendor.refreshes == sum(result["token_requests"] for result in results)
    assert len(vendor.spent) == len(set(vendor.spent)) == refreshes
    assert vendor.reuses == 0
    assert not vendor.revoked(first)
    # Vault holds the family's current token, in one new version per refresh.
    current, version = await stored(settings, tenant, integration, tenant_token)
    assert current == vendor.current(first)
    assert version == 1 + refreshes
    assert sum(result["calls"] for result in results) == 4 * 3 * 5
    lock = {key: sum(result["lock"][key] for result in results) for key in results[0]["lock"]}
    assert lock["acquired"] == refreshes
    assert lock["takeovers"] == 0
    assert lock["lost_releases"] == 0
    print(
        f"\n[oauth multi-process] workers=4 calls={4 * 3 * 5} refreshes={refreshes} "
        f"token_requests={vendor.requests} spent_twice={vendor.reuses} lock_conflicts={lock['conflicts']} "
        f"lock_waits={lock['waits']} per_worker_refreshes={[r['refreshes'] for r in results]}"
    )


async def test_control_without_the_lock_the_harness_catches_a_double_spend(
    settings: VaultSettings, tenant: str, integration: str, tenant_token: str
) -> None:
    """Same processes, same vendor, no Vault lock: check-and-set alone lets a token be spent twice."""
    vendor = TokenVendor(delay=0.05)
    first = await seed(settings, tenant, integration, tenant_token, vendor)
    results = await hammer(
        vendor, settings, tenant, integration, tenant_token, workers=2, coroutines=1, rounds=3, locking=False
    )
    assert vendor.reuses >= 1
    assert vendor.revoked(first)
    failures = [failure for result in results for failure in result["failures"]]
    assert any(
        "ReauthorizationRequiredError" in failure or "VaultConflictError" in failure for failure in failures
    )
    print(f"\n[oauth control, no lock] spent_twice={vendor.reuses} failures={len(failures)}")
