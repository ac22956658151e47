"""Both read paths against the real OpenBao: deleted and destroyed versions, denials, namespaces.

The fake server in test_kv_reader.py scripts every status; these are the
answers worth seeing from the real thing, each read through aiohttp on the loop
(the default) and through hvac on threads (``async_reads=False``), with the
same outcome required of both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hvac
import pytest

from sdk._errors import CredentialNotFoundError, NexoraError, VaultPermissionError
from tests.vault.support import make_secret, new_id, tenant_token, write_secret
from vault import CredentialStore, OpenBaoDevServer, VaultSettings, credential_path

pytestmark = pytest.mark.vault


async def _outcomes(settings: VaultSettings, token: str, read: Any, *, tenant: str) -> tuple[object, object]:
    results = []
    for async_reads in (True, False):
        async with CredentialStore(async_reads=async_reads, renew_tokens=False) as store:
            store.register_tenant(tenant, settings=settings, region="nz", token=token)
            try:
                results.append(await read(store))
            except NexoraError as exc:
                results.append(exc)
    return results[0], results[1]


def _same(on_loop: object, threads: object, expected: type[BaseException]) -> str:
    assert type(on_loop) is expected, repr(on_loop)
    assert type(threads) is expected, repr(threads)
    assert str(on_loop) == str(threads)
    return str(on_loop)


async def test_deleted_and_destroyed_versions(
    settings: VaultSettings, openbao: OpenBaoDevServer, vault_root: Any, tenant: str
) -> None:
    first, second = make_secret(), make_secret()
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": first})
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": second})
    path = credential_path(settings, tenant, "crm")
    vault_root.secrets.kv.v2.delete_latest_version_of_secret(path=path, mount_point=settings.mount)

    on_loop, threads = await _outcomes(
        settings, openbao.root_token, lambda store: store.get(tenant, "crm"), tenant=tenant
    )
    message = _same(on_loop, threads, CredentialNotFoundError)  # not the previous version
    assert "latest version was deleted" in message

    async def read_first(store: CredentialStore) -> object:
        lease = await store.read_version(tenant, "crm", 1)
        return (lease.version, lease.credential.api_key.get_secret_value())  # type: ignore[union-attr]

    assert await _outcomes(settings, openbao.root_token, read_first, tenant=tenant) == (
        (1, first),
        (1, first),
    )

    vault_root.secrets.kv.v2.destroy_secret_versions(path=path, versions=[1], mount_point=settings.mount)
    on_loop, threads = await _outcomes(settings, openbao.root_token, read_first, tenant=tenant)
    _same(on_loop, threads, CredentialNotFoundError)


async def test_a_policy_denial_reads_the_same(settings: VaultSettings, vault_root: Any) -> None:
    mine, other = new_id("a"), new_id("b")
    write_secret(vault_root, settings, other, "crm", {"type": "api_key", "api_key": make_secret()})
    token = tenant_token(vault_root, settings, mine)
    on_loop, threads = await _outcomes(settings, token, lambda store: store.get(other, "crm"), tenant=other)
    message = _same(on_loop, threads, VaultPermissionError)
    assert token not in message


@pytest.fixture
def namespace(openbao: OpenBaoDevServer, vault_root: Any) -> Iterator[tuple[str, Any]]:
    """An OpenBao namespace with its own KV v2 mount, and a root client inside it."""
    name = new_id("ns")
    vault_root.sys.create_namespace(path=name)
    inside = hvac.Client(url=openbao.address, token=openbao.root_token, namespace=name, timeout=5)
    inside.session.trust_env = False
    try:
        inside.sys.enable_secrets_engine(backend_type="kv", path="secret", options={"version": "2"})
        yield name, inside
    finally:
        inside.adapter.close()
        vault_root.sys.delete_namespace(path=name)


async def test_a_namespace_is_read_through_its_header(
    openbao: OpenBaoDevServer, namespace: tuple[str, Any], tenant: str
) -> None:
    name, inside = namespace
    settings = VaultSettings(address=openbao.address, namespace=name)
    key = make_secret()
    write_secret(inside, settings, tenant, "crm", {"type": "api_key", "api_key": key})

    async def read_key(store: CredentialStore) -> object:
        return (await store.get(tenant, "crm")).credential.api_key.get_secret_value()  # type: ignore[union-attr]

    assert await _outcomes(settings, openbao.root_token, read_key, tenant=tenant) == (key, key)
    # The same path without the namespace is another, empty, KV mount.
    outside = VaultSettings(address=openbao.address)
    on_loop, threads = await _outcomes(outside, openbao.root_token, read_key, tenant=tenant)
    _same(on_loop, threads, CredentialNotFoundError)
