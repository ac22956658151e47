"""Vault tokens that live long: renewed in the background, replaced when they cannot be, never sent expired.

The server tests use tokens of a few seconds (TTL 3 s, maximum TTL 6 s) so that
a whole token lifetime fits in one test. They wait for events (a renewal, a new
login, the error) with a generous deadline; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sdk._errors import VaultAuthError
from tests.vault.support import make_secret, new_id, tenant_policy, write_secret
from vault import AppRoleAuth, CredentialStore, OpenBaoDevServer, TokenAuth, VaultClient, VaultSettings
from vault._paths import credential_path
from vault._renewal import RENEW_AT_FRACTION, TokenLease, TokenRenewer

# --- the schedule, without a server ----------------------------------------------------------


def test_a_token_that_never_expires_has_no_lease() -> None:
    root_lookup = {"ttl": 0, "renewable": False, "creation_ttl": 0, "expire_time": None}
    assert TokenLease.from_lookup(root_lookup, obtained_at=100.0) is None
    assert TokenLease.from_auth({"lease_duration": 0, "renewable": False}, obtained_at=100.0) is None


def test_upkeep_is_due_at_two_thirds_and_expiry_errs_early() -> None:
    lease = TokenLease.from_lookup(
        {"ttl": 2, "creation_ttl": 3, "renewable": True, "explicit_max_ttl": 6}, obtained_at=100.0
    )
    assert lease is not None
    assert lease.full_ttl == 3  # a renewal asks for the TTL the token was created with
    assert lease.upkeep_at == pytest.approx(100.0 + 2 * RENEW_AT_FRACTION)
    assert not lease.expired(100.0 + 1.5)
    assert lease.expired(lease.expires_at - lease.margin)  # treated as expired before Vault says so
    assert lease.margin > 0


def test_a_capped_renewal_makes_the_lease_final() -> None:
    lease = TokenLease.from_auth({"lease_duration": 3, "renewable": True}, obtained_at=0.0)
    assert lease is not None
    assert not lease.final
    full = lease.renewed({"lease_duration": 3, "renewable": True}, obtained_at=2.0)
    assert not full.final
    assert full.expires_at == 5.0
    capped = full.renewed({"lease_duration": 2, "renewable": True}, obtained_at=4.0)
    assert capped.final  # Vault granted less than asked: the maximum TTL is near
    not_renewable = TokenLease.from_auth({"lease_duration": 3, "renewable": False}, obtained_at=0.0)
    assert not_renewable is not None
    assert not_renewable.final


def test_retry_delay_while_vault_is_down_stays_within_the_lease() -> None:
    lease = TokenLease.from_auth({"lease_duration": 600, "renewable": True}, obtained_at=0.0)
    assert lease is not None
    assert lease.retry_delay(400.0) == 5.0  # capped: try again soon
    assert 0 < lease.retry_delay(lease.expires_at - lease.margin - 0.4) <= 0.1


async def test_a_failing_upkeep_stops_the_renewer_for_good(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def broken_upkeep() -> float | None:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug")

    with ThreadPoolExecutor(max_workers=1) as executor:
        renewer = TokenRenewer(first_delay=lambda: 0.0, upkeep=broken_upkeep, executor=executor, name="test")
        renewer.ensure_running()
        await eventually(lambda: _true(not renewer.running))
        renewer.ensure_running()  # a later read must not start it again, only to fail again
        assert not renewer.running
        await renewer.stop()
    assert calls == 1
    assert any("failed with RuntimeError" in record.getMessage() for record in caplog.records)


async def test_stop_cancels_a_sleeping_renewer() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        renewer = TokenRenewer(
            first_delay=lambda: 3600.0, upkeep=lambda: None, executor=executor, name="test"
        )
        renewer.ensure_running()
        assert renewer.running
        await renewer.stop()
        assert not renewer.running
        renewer.ensure_running()
        assert not renewer.running  # stopped for good


async def _true(value: bool) -> bool:
    return value


# --- against the real OpenBao ---------------------------------------------------------------

SHORT_TTL = "3s"
SHORT_MAX_TTL = "6s"


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 15.0, every: float = 0.1
) -> None:
    """Wait until ``check`` is true; fail (not hang) if it never becomes true."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never became true")
        await asyncio.sleep(every)


def _secret_at(root: Any, settings: VaultSettings, tenant: str) -> tuple[str, str]:
    key = make_secret()
    write_secret(root, settings, tenant, "crm", {"type": "api_key", "api_key": key})
    return credential_path(settings, tenant, "crm"), key


def _renewer_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("vault-token-renewer")]


@pytest.mark.vault
async def test_short_token_is_renewed_then_refused_once_it_cannot_be(
    openbao: OpenBaoDevServer,
    vault_root: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = VaultSettings(address=openbao.address, auth=TokenAuth(token_env="TEST_RENEWAL_TOKEN"))
    tenant = new_id()
    path, key = _secret_at(vault_root, settings, tenant)
    policy = tenant_policy(vault_root, settings, tenant)
    created = time.monotonic()
    token = vault_root.auth.token.create(
        policies=[policy], ttl=SHORT_TTL, explicit_max_ttl=SHORT_MAX_TTL, renewable=True
    )["auth"]["client_token"]
    monkeypatch.setenv("TEST_RENEWAL_TOKEN", token)
    client = VaultClient(settings)
    try:
        data, _ = await client.read_secret(path)
        assert data["api_key"] == key
        assert client.logins == 1

        async def renewed() -> bool:
            return client.renewals >= 1

        await eventually(renewed)
        # Past the TTL the token was created with: only the renewal keeps it alive.
        await asyncio.sleep(max(0.0, created + 3.5 - time.monotonic()))
        assert (await client.read_secret(path))[0]["api_key"] == key
        assert vault_root.auth.token.lookup(token)["data"]["ttl"] > 0

        caught: list[VaultAuthError] = []

        async def refused() -> bool:
            try:
                await client.read_secret(path)
            except VaultAuthError as exc:
                caught.append(exc)
                return True
            return False

        await eventually(refused, every=0.2)
        message = str(caught[0])
        assert "has expired" in message
        assert "maximum TTL" in message
        assert "$TEST_RENEWAL_TOKEN" in message  # says where a new token has to go
        assert token not in message
        assert client.logins == 1  # nothing could replace it
        assert any("cannot be renewed any more" in record.getMessage() for record in caplog.records)

        # An operator provides a new token: the next read takes it up.
        monkeypatch.setenv(
            "TEST_RENEWAL_TOKEN",
            vault_root.auth.token.create(policies=[policy], ttl="1m")["auth"]["client_token"],
        )
        assert (await client.read_secret(path))[0]["api_key"] == key
        assert client.logins == 2
    finally:
        await client.close()
    assert _renewer_tasks() == []


@pytest.mark.vault
async def test_approle_logs_in_again_at_max_ttl_and_reads_never_fail(
    openbao: OpenBaoDevServer,
    vault_root: Any,
    approle_mount: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="vault.client")
    plain = VaultSettings(address=openbao.address)
    tenant = new_id()
    _path, key = _secret_at(vault_root, plain, tenant)
    role = f"role-{tenant}"
    vault_root.auth.approle.create_or_update_approle(
        role_name=role,
        token_policies=[tenant_policy(vault_root, plain, tenant)],
        # Longer than the other tests' 3 s / 6 s: the renewer must win its race against the
        # reads on a loaded 2-core CI machine (it once lost it with a 0.4 s window).
        token_ttl="5s",
        token_max_ttl="10s",
        mount_point=approle_mount,
    )
    role_id = vault_root.auth.approle.read_role_id(role_name=role, mount_point=approle_mount)["data"][
        "role_id"
    ]
    secret_file = tmp_path / "secret-id"
    secret_file.write_text(
        vault_root.auth.approle.generate_secret_id(role_name=role, mount_point=approle_mount)["data"][
            "secret_id"
        ]
    )
    settings = VaultSettings(
        address=openbao.address,
        auth=AppRoleAuth(role_id=role_id, secret_id_file=str(secret_file), mount_point=approle_mount),
    )
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region="nz")
        client = store.vault_client(tenant)
        reads = 0

        async def read_and_check() -> bool:
            nonlocal reads
            lease = await store.get(tenant, "crm")  # any failure fails the test
            reads += 1
            assert lease.credential.api_key.get_secret_value() == key  # type: ignore[union-attr]
            return client.logins >= 2 and client.renewals >= 1 and reads >= 10

        # Reads keep going through a whole token lifetime and into the next one.
        await eventually(read_and_check, within=30.0, every=0.1)
        first_token_replaced_by_upkeep = [
            r
            for r in caplog.records
            if "logged in to Vault at" in r.getMessage() and "could not be renewed" in r.getMessage()
        ]
        assert first_token_replaced_by_upkeep, "the renewer, not a failing read, should have logged in again"
        assert not [r for r in caplog.records if "taking up a new one before the request" in r.getMessage()]
        assert _renewer_tasks() != []
    assert _renewer_tasks() == []


@pytest.mark.vault
async def test_an_expired_token_is_replaced_before_the_read_not_after_a_failure(
    openbao: OpenBaoDevServer,
    vault_root: Any,
    approle_mount: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With no renewer running (it is off here; a blocked loop would do the same), a read logs in first."""
    caplog.set_level(logging.INFO, logger="vault.client")
    plain = VaultSettings(address=openbao.address)
    tenant = new_id()
    path, key = _secret_at(vault_root, plain, tenant)
    role = f"role-{tenant}"
    vault_root.auth.approle.create_or_update_approle(
        role_name=role,
        token_policies=[tenant_policy(vault_root, plain, tenant)],
        token_ttl="2s",
        token_max_ttl="2s",
        mount_point=approle_mount,
    )
    role_id = vault_root.auth.approle.read_role_id(role_name=role, mount_point=approle_mount)["data"][
        "role_id"
    ]
    secret_id = vault_root.auth.approle.generate_secret_id(role_name=role, mount_point=approle_mount)["data"][
        "secret_id"
    ]
    secret_file = tmp_path / "secret-id"
    secret_file.write_text(secret_id)
    settings = VaultSettings(
        address=openbao.address,
        auth=AppRoleAuth(role_id=role_id, secret_id_file=str(secret_file), mount_point=approle_mount),
    )
    client = VaultClient(settings, renew_tokens=False)
    try:
        assert (await client.read_secret(path))[0]["api_key"] == key
        expires_in = client.token_expires_in
        assert expires_in is not None
        await asyncio.sleep(expires_in)
        assert (await client.read_secret(path))[0]["api_key"] == key
        assert client.logins == 2
        assert client.renewals == 0
        assert any("taking up a new one before the request" in r.getMessage() for r in caplog.records)
    finally:
        await client.close()


@pytest.mark.vault
async def test_renewal_runs_on_the_vault_threads_and_stops_on_close(
    openbao: OpenBaoDevServer, vault_root: Any
) -> None:
    settings = VaultSettings(address=openbao.address)
    tenant = new_id()
    path, _ = _secret_at(vault_root, settings, tenant)
    # A periodic token: renewable for ever, each renewal for one period.
    token = vault_root.auth.token.create(
        policies=[tenant_policy(vault_root, settings, tenant)], period="2s", renewable=True
    )["auth"]["client_token"]
    client = VaultClient(settings, token=token)
    renew_threads: list[str] = []
    ticks = 0
    ticks_during_renewal: list[int] = []
    real_renew = client._hvac.auth.token.renew_self

    def slow_renew(**kwargs: Any) -> Any:
        renew_threads.append(threading.current_thread().name)
        before = ticks
        time.sleep(0.3)  # a slow Vault: the event loop must keep running meanwhile
        ticks_during_renewal.append(ticks - before)
        return real_renew(**kwargs)

    client._hvac.auth.token.renew_self = slow_renew
    try:
        await client.read_secret(path)
        [renewer] = _renewer_tasks()

        async def ticking() -> bool:
            nonlocal ticks
            ticks += 1
            return client.renewals >= 1

        await eventually(ticking, every=0.01)
        assert renew_threads
        assert all(name.startswith("nexora-vault") for name in renew_threads)
        lease = client._login.lease
        assert lease is not None
        assert not lease.final  # a periodic token is renewed, never replaced
        assert lease.full_ttl == 2
        # A renewal that blocked the loop would have seen no tick at all.
        assert ticks_during_renewal
        assert min(ticks_during_renewal) >= 3
    finally:
        await client.close()
    threads = list(client._executor._threads)  # the client's own pool, shut down by close()
    assert renewer.done()
    assert _renewer_tasks() == []
    assert threads
    assert not [thread for thread in threads if thread.is_alive()]
