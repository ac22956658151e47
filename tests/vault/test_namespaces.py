"""A Vault namespace per tenant, against the real OpenBao: reads, logins and isolation honour it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hvac.exceptions
import pytest

from sdk._errors import CredentialNotFoundError, VaultAuthError, VaultPermissionError
from tests.vault.namespaces import TenantNamespace, make_tenant_namespace
from tests.vault.support import make_secret
from vault import (
    ApiKeyCredential,
    AppRoleAuth,
    CredentialStore,
    OpenBaoDevServer,
    VaultClient,
    VaultSettings,
    credential_path,
)

pytestmark = pytest.mark.vault


@pytest.fixture
def pair(openbao: OpenBaoDevServer) -> Iterator[tuple[TenantNamespace, TenantNamespace]]:
    first, second = make_tenant_namespace(openbao), make_tenant_namespace(openbao)
    yield first, second
    first.admin.adapter.close()
    second.admin.adapter.close()


@pytest.mark.parametrize("async_reads", [True, False])
async def test_a_token_of_one_namespace_cannot_read_another_tenants(
    pair: tuple[TenantNamespace, TenantNamespace], async_reads: bool
) -> None:
    a, b = pair
    key_a, key_b = make_secret(), make_secret()
    a.write("crm", {"type": "api_key", "api_key": key_a})
    b.write("crm", {"type": "api_key", "api_key": key_b})
    token_a = a.token()
    async with CredentialStore(async_reads=async_reads) as store:
        store.register_tenant(a.tenant, settings=a.settings, region="nz", token=token_a)
        lease = await store.get(a.tenant, "crm")
        assert lease.credential.api_key.get_secret_value() == key_a  # type: ignore[union-attr]

        # B's namespace, with A's token: refused, and the error says why.
        store.register_tenant(b.tenant, settings=b.settings, region="nz", token=token_a)
        with pytest.raises(VaultPermissionError) as caught:
            await store.get(b.tenant, "crm")
        message = str(caught.value)
        assert f"namespace {b.name!r}" in message
        assert "another namespace" in message
        assert key_b not in message
        assert token_a not in message
        assert caught.value.__cause__ is None

        # The root namespace, with A's token, even for A's own tenant id: refused as well.
        root = VaultSettings(address=a.settings.address)
        store.register_tenant(a.tenant, settings=root, region="nz", token=token_a)
        with pytest.raises(VaultPermissionError):
            await store.get(a.tenant, "crm")
        # The token still works where it belongs (it was not mistaken for a bad one and dropped).
        store.register_tenant(a.tenant, settings=a.settings, region="nz", token=token_a)
        assert (await store.get(a.tenant, "crm")).version == 1


async def test_the_same_tenant_path_in_two_namespaces_holds_two_secrets(
    pair: tuple[TenantNamespace, TenantNamespace],
) -> None:
    a, b = pair
    b_as_a = VaultSettings(address=b.settings.address, namespace=b.name)
    # Same tenant id in both namespaces: the namespace, not the path, keeps them apart.
    key_a, key_b = make_secret(), make_secret()
    a.write("crm", {"type": "api_key", "api_key": key_a})
    b.tenant = a.tenant
    b.write("crm", {"type": "api_key", "api_key": key_b})
    async with CredentialStore() as store:
        store.register_tenant(a.tenant, settings=a.settings, region="nz", token=a.token())
        first = await store.get(a.tenant, "crm")
        store.register_tenant(a.tenant, settings=b_as_a, region="nz", token=b.token())
        second = await store.get(a.tenant, "crm")
    assert first.credential.api_key.get_secret_value() == key_a  # type: ignore[union-attr]
    assert second.credential.api_key.get_secret_value() == key_b  # type: ignore[union-attr]


async def test_writes_and_versions_stay_in_the_namespace(
    pair: tuple[TenantNamespace, TenantNamespace], vault_root: Any
) -> None:
    a, _ = pair
    async with CredentialStore() as store:
        store.register_tenant(a.tenant, settings=a.settings, region="nz", token=a.token(write=True))
        with pytest.raises(CredentialNotFoundError):
            await store.get(a.tenant, "crm")
        key = make_secret()
        version = await store.put(a.tenant, "crm", ApiKeyCredential(api_key=key), cas=0)  # type: ignore[arg-type]
        assert [info.version for info in await store.versions(a.tenant, "crm")] == [version]
    # Written inside the namespace, not at the root namespace's same path.
    path = credential_path(a.settings, a.tenant, "crm")
    inside = a.admin.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    assert inside["data"]["data"]["api_key"] == key
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_root.secrets.kv.v2.read_secret_version(
            path=path, mount_point="secret", raise_on_deleted_version=True
        )


async def test_approle_logs_in_inside_the_namespace(
    pair: tuple[TenantNamespace, TenantNamespace], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    for each in (a, b):
        each.admin.sys.enable_auth_method(method_type="approle", path="approle")
    policy = a.policy()
    a.admin.auth.approle.create_or_update_approle(role_name="agent", token_policies=[policy], token_ttl="10m")
    role_id = a.admin.auth.approle.read_role_id(role_name="agent")["data"]["role_id"]
    secret_id = a.admin.auth.approle.generate_secret_id(role_name="agent")["data"]["secret_id"]
    key = make_secret()
    a.write("crm", {"type": "api_key", "api_key": key})
    monkeypatch.setenv("NEXORA_TEST_NS_SECRET_ID", secret_id)
    auth = AppRoleAuth(role_id=role_id, secret_id_env="NEXORA_TEST_NS_SECRET_ID")
    client = VaultClient(a.settings.model_copy(update={"auth": auth}), renew_tokens=False)
    try:
        data, _ = await client.read_secret(credential_path(a.settings, a.tenant, "crm"))
        assert data["api_key"] == key
    finally:
        await client.close()
    # The same role id does not exist in B's namespace: the login there is refused, naming it.
    wrong = VaultClient(b.settings.model_copy(update={"auth": auth}), renew_tokens=False)
    try:
        with pytest.raises(VaultAuthError) as caught:
            await wrong.read_secret(credential_path(b.settings, b.tenant, "crm"))
        assert f"namespace {b.name!r}" in str(caught.value)
        assert secret_id not in str(caught.value)
    finally:
        await wrong.close()
