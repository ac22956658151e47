"""Vault sealed, down, hung, or the token gone: each ends in its own error, or in a transparent re-login."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdk._errors import (
    VaultAuthError,
    VaultSealedError,
    VaultTimeoutError,
    VaultUnavailableError,
)
from tests.vault.support import (
    live_role_tokens,
    make_secret,
    new_id,
    tenant_approle,
    tenant_token,
    write_secret,
)
from vault import AppRoleAuth, CredentialStore, OpenBaoDevServer, TokenAuth, VaultSettings

pytestmark = pytest.mark.vault


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_sealed_vault(
    store: CredentialStore, settings: VaultSettings, openbao: OpenBaoDevServer, vault_root: Any, tenant: str
) -> None:
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
    store.register_tenant(tenant, settings=settings, region="nz", token=openbao.root_token)
    await store.get(tenant, "crm")
    vault_root.sys.seal()
    try:
        with pytest.raises(VaultSealedError, match="unseal it"):
            await store.get(tenant, "crm")
    finally:
        # One key share, threshold one: this unseals at once (or says why not).
        status = vault_root.sys.submit_unseal_key(openbao.unseal_key)
    assert status["sealed"] is False
    for _ in range(100):  # the active node needs a moment after unsealing
        try:
            await store.get(tenant, "crm")
            break
        except VaultUnavailableError:
            await asyncio.sleep(0.05)
    assert (await store.get(tenant, "crm")).version == 1


async def test_vault_down_fails_fast() -> None:
    address = f"http://127.0.0.1:{_free_port()}"
    async with CredentialStore() as store:
        store.register_tenant("acme", settings=VaultSettings(address=address), region="nz", token="unused")
        started = time.monotonic()
        with pytest.raises(VaultUnavailableError) as caught:
            await store.get("acme", "crm")
        assert time.monotonic() - started < 1.0
    assert type(caught.value) is VaultUnavailableError
    assert f"check that Vault at {address} is running" in str(caught.value)


@pytest.fixture
def hung_server() -> Iterator[str]:
    """A port that completes the TCP handshake (kernel backlog) and then never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_hung_vault_times_out(hung_server: str) -> None:
    async with CredentialStore() as store:
        settings = VaultSettings(address=hung_server, timeout=0.2)
        store.register_tenant("acme", settings=settings, region="nz", token="unused")
        started = time.monotonic()
        with pytest.raises(VaultTimeoutError, match="did not answer within the timeout"):
            await store.get("acme", "crm")
        assert time.monotonic() - started < 2.0


async def test_approle_token_revoked_mid_session_logs_in_again_once(
    openbao: OpenBaoDevServer, vault_root: Any, approle_mount: str, tmp_path: Path, tenant: str
) -> None:
    plain = VaultSettings(address=openbao.address)
    key = make_secret()
    write_secret(vault_root, plain, tenant, "crm", {"type": "api_key", "api_key": key})
    role_id, secret_id = tenant_approle(vault_root, plain, tenant, approle_mount)
    secret_file = tmp_path / "secret-id"
    secret_file.write_text(secret_id + "\n")
    settings = VaultSettings(
        address=openbao.address,
        auth=AppRoleAuth(role_id=role_id, secret_id_file=str(secret_file), mount_point=approle_mount),
    )
    role = f"role-{tenant}"
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region="nz")
        await store.get(tenant, "crm")
        [accessor] = live_role_tokens(vault_root, role)
        vault_root.auth.token.revoke_accessor(accessor)  # an operator revokes the token

        leases = await asyncio.gather(*(store.get(tenant, "crm") for _ in range(20)))
        assert all(lease.credential.api_key.get_secret_value() == key for lease in leases)  # type: ignore[union-attr]
        assert len(live_role_tokens(vault_root, role)) == 1  # exactly one re-login despite 20 racing reads
    assert live_role_tokens(vault_root, role) == []  # aclose revoked the token it logged in for


async def test_token_auth_with_revoked_token_is_an_auth_error(
    settings: VaultSettings, vault_root: Any, tenant: str
) -> None:
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
    token = tenant_token(vault_root, settings, tenant)
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region="nz", token=token)
        await store.get(tenant, "crm")
        vault_root.auth.token.revoke(token)
        with pytest.raises(VaultAuthError, match="expired or was revoked") as caught:
            await store.get(tenant, "crm")
    assert token not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


async def test_token_from_environment_is_read_again_after_revocation(
    openbao: OpenBaoDevServer, vault_root: Any, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = VaultSettings(address=openbao.address, auth=TokenAuth(token_env="TEST_VAULT_TOKEN"))
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
    first = tenant_token(vault_root, settings, tenant)
    monkeypatch.setenv("TEST_VAULT_TOKEN", first)
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region="nz")
        await store.get(tenant, "crm")
        vault_root.auth.token.revoke(first)
        with pytest.raises(VaultAuthError, match=r"\$TEST_VAULT_TOKEN"):
            await store.get(tenant, "crm")
        monkeypatch.setenv("TEST_VAULT_TOKEN", tenant_token(vault_root, settings, tenant))  # rotated by ops
        assert (await store.get(tenant, "crm")).version == 1


async def test_token_file(openbao: OpenBaoDevServer, vault_root: Any, tenant: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    settings = VaultSettings(address=openbao.address, auth=TokenAuth(token_file=str(token_file)))
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region="nz")
        with pytest.raises(VaultAuthError, match="cannot read the Vault token file"):
            await store.get(tenant, "crm")
        token_file.write_text(tenant_token(vault_root, settings, tenant) + "\n")
        assert (await store.get(tenant, "crm")).version == 1


async def test_missing_token_names_the_variable(
    openbao: OpenBaoDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEXORA_VAULT_TOKEN", raising=False)
    async with CredentialStore() as store:
        store.register_tenant("acme", settings=VaultSettings(address=openbao.address), region="nz")
        with pytest.raises(VaultAuthError, match="NEXORA_VAULT_TOKEN"):
            await store.get("acme", "crm")


async def test_approle_with_wrong_secret_id(
    openbao: OpenBaoDevServer, vault_root: Any, approle_mount: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_id()
    role_id, _ = tenant_approle(vault_root, VaultSettings(address=openbao.address), tenant, approle_mount)
    wrong = make_secret()
    monkeypatch.setenv("TEST_WRONG_SECRET_ID", wrong)
    settings = VaultSettings(
        address=openbao.address,
        auth=AppRoleAuth(role_id=role_id, secret_id_env="TEST_WRONG_SECRET_ID", mount_point=approle_mount),
    )
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region="nz")
        with pytest.raises(VaultAuthError, match="AppRole login") as caught:
            await store.get(tenant, "crm")
    assert wrong not in str(caught.value)
