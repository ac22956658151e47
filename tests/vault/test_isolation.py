"""Tenant isolation in Vault itself: a tenant-scoped token reads its own tenant and nothing else (S2)."""

from __future__ import annotations

from typing import Any

import pytest

from sdk._errors import CredentialNotFoundError, VaultPermissionError
from tests.vault.support import make_secret, new_id, tenant_approle, tenant_token, write_secret
from vault import AppRoleAuth, CredentialStore, VaultSettings

pytestmark = pytest.mark.vault


async def test_tenant_token_cannot_read_another_tenants_path(
    settings: VaultSettings, vault_root: Any
) -> None:
    tenant_a, tenant_b = new_id("a"), new_id("b")
    key_b = make_secret()
    write_secret(vault_root, settings, tenant_a, "crm", {"type": "api_key", "api_key": make_secret()})
    write_secret(vault_root, settings, tenant_b, "crm", {"type": "api_key", "api_key": key_b})
    token_a = tenant_token(vault_root, settings, tenant_a)

    async with CredentialStore() as store:
        # Misconfiguration on purpose: tenant B registered with tenant A's token.
        store.register_tenant(tenant_a, settings=settings, region="nz", token=token_a)
        store.register_tenant(tenant_b, settings=settings, region="nz", token=token_a)

        assert (await store.get(tenant_a, "crm")).tenant == tenant_a
        with pytest.raises(CredentialNotFoundError):
            await store.get(tenant_a, "not-yet")  # own subtree: absent, not denied

        for integration in ("crm", "does-not-exist"):  # existing or not, the answer is the same
            with pytest.raises(VaultPermissionError) as caught:
                await store.get(tenant_b, integration)
            message = str(caught.value)
            assert f"tenant {tenant_b!r}" in message
            assert "grant" in message
            assert key_b not in message
        with pytest.raises(VaultPermissionError):
            await store.versions(tenant_b, "crm")


async def test_tenant_approle_cannot_read_another_tenants_path(
    openbao: Any, vault_root: Any, approle_mount: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_a, tenant_b = new_id("a"), new_id("b")
    plain = VaultSettings(address=openbao.address)
    write_secret(vault_root, plain, tenant_a, "crm", {"type": "api_key", "api_key": make_secret()})
    write_secret(vault_root, plain, tenant_b, "crm", {"type": "api_key", "api_key": make_secret()})
    role_id, secret_id = tenant_approle(vault_root, plain, tenant_a, approle_mount)
    monkeypatch.setenv("TEST_SECRET_ID_A", secret_id)
    settings = VaultSettings(
        address=openbao.address,
        auth=AppRoleAuth(role_id=role_id, secret_id_env="TEST_SECRET_ID_A", mount_point=approle_mount),
    )
    async with CredentialStore() as store:
        store.register_tenant(tenant_a, settings=settings, region="nz")
        store.register_tenant(tenant_b, settings=settings, region="nz")
        assert (await store.get(tenant_a, "crm")).version == 1
        with pytest.raises(VaultPermissionError):
            await store.get(tenant_b, "crm")
