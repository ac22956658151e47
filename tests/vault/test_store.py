"""CredentialStore against a real OpenBao: call-time reads, rotation, reuse, writes and bad input."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from sdk._errors import (
    ConfigurationError,
    CredentialNotFoundError,
    InvalidIdentifierError,
    MalformedCredentialError,
    ResidencyError,
    UnknownTenantError,
    UsageError,
    VaultConflictError,
)
from tests.vault.support import FakeClock, make_secret, new_id, write_secret
from vault import ApiKeyCredential, BasicCredential, CredentialStore, OpenBaoDevServer, VaultSettings

pytestmark = pytest.mark.vault


@pytest.fixture
def registered(
    store: CredentialStore, settings: VaultSettings, tenant: str, openbao: OpenBaoDevServer
) -> str:
    store.register_tenant(tenant, settings=settings, region="nz", token=openbao.root_token)
    return tenant


async def test_get_reads_the_credential(
    store: CredentialStore, registered: str, settings: VaultSettings, vault_root: Any
) -> None:
    key = make_secret()
    version = write_secret(vault_root, settings, registered, "crm", {"type": "api_key", "api_key": key})
    lease = await store.get(registered, "crm")
    assert isinstance(lease.credential, ApiKeyCredential)
    assert lease.credential.api_key.get_secret_value() == key
    assert (lease.version, lease.tenant, lease.integration) == (version, registered, "crm")
    assert lease.path == f"nexora/tenants/{registered}/integrations/crm"
    assert store.reads == 1


async def test_rotation_is_picked_up_by_the_next_get(
    store: CredentialStore, registered: str, settings: VaultSettings, vault_root: Any
) -> None:
    old, new = make_secret(), make_secret()
    write_secret(vault_root, settings, registered, "crm", {"type": "api_key", "api_key": old})
    first = await store.get(registered, "crm")
    write_secret(vault_root, settings, registered, "crm", {"type": "api_key", "api_key": new})
    second = await store.get(registered, "crm")
    assert second.version == first.version + 1
    assert isinstance(second.credential, ApiKeyCredential)
    assert second.credential.api_key.get_secret_value() == new
    assert store.reads == 2


async def test_reuse_is_bounded_by_max_staleness_and_dropped_by_invalidate(
    settings: VaultSettings, vault_root: Any, openbao: OpenBaoDevServer, tenant: str
) -> None:
    clock = FakeClock()
    async with CredentialStore(max_staleness=30.0, clock=clock) as store:
        store.register_tenant(tenant, settings=settings, region="nz", token=openbao.root_token)
        write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
        first = await store.get(tenant, "crm")
        write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})

        clock.advance(29.0)
        assert (await store.get(tenant, "crm")) is first  # reused, within bound
        assert store.reads == 1

        assert (await store.get(tenant, "crm", fresh=True)).version == first.version + 1
        assert store.reads == 2

        write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
        store.invalidate(tenant, "crm")
        assert (await store.get(tenant, "crm")).version == first.version + 2
        assert store.reads == 3

        write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": make_secret()})
        clock.advance(30.0)
        assert (await store.get(tenant, "crm")).version == first.version + 3  # bound reached
        assert store.reads == 4


async def test_default_staleness_reads_every_time(
    store: CredentialStore, registered: str, settings: VaultSettings, vault_root: Any
) -> None:
    write_secret(vault_root, settings, registered, "crm", {"type": "api_key", "api_key": make_secret()})
    for _ in range(3):
        await store.get(registered, "crm")
    assert store.reads == 3


async def test_missing_secret_names_tenant_integration_and_path(
    store: CredentialStore, registered: str
) -> None:
    with pytest.raises(CredentialNotFoundError) as caught:
        await store.get(registered, "nothing-here")
    message = str(caught.value)
    assert f"tenant {registered!r}" in message
    assert "integration 'nothing-here'" in message
    assert f"nexora/tenants/{registered}/integrations/nothing-here" in message


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "basic", "username": "bot"}, "'password' is missing"),
        ({"type": "basic", "username": "bot", "password": ["{canary}"]}, "'password' has the wrong type"),
        (
            {"type": "basic", "username": {"k": "{canary}"}, "password": "{canary}"},
            "'username' has the wrong type",
        ),
    ],
)
async def test_malformed_secret_names_the_field_not_the_value(
    store: CredentialStore,
    registered: str,
    settings: VaultSettings,
    vault_root: Any,
    data: dict[str, object],
    field: str,
) -> None:
    canary = make_secret()
    planted = eval_canary(data, canary)
    write_secret(vault_root, settings, registered, "crm", planted)
    with pytest.raises(MalformedCredentialError) as caught:
        await store.get(registered, "crm")
    message = str(caught.value)
    assert field in message
    assert f"tenant {registered!r}" in message
    assert "integration 'crm'" in message
    assert canary not in message
    assert canary not in repr(caught.value)


def eval_canary(value: object, canary: str) -> Any:
    if isinstance(value, str):
        return value.replace("{canary}", canary)
    if isinstance(value, list):
        return [eval_canary(item, canary) for item in value]
    if isinstance(value, dict):
        return {key: eval_canary(item, canary) for key, item in value.items()}
    return value


async def test_put_writes_a_new_version_with_check_and_set(store: CredentialStore, registered: str) -> None:
    first, second, third = (BasicCredential(username="bot", password=make_secret()) for _ in range(3))
    v1 = await store.put(registered, "billing", first, cas=0)
    v2 = await store.put(registered, "billing", second, cas=v1)
    assert v2 == v1 + 1
    assert (await store.get(registered, "billing")).credential == second

    with pytest.raises(VaultConflictError, match="check-and-set") as caught:
        await store.put(registered, "billing", third, cas=v1)  # stale: someone wrote v2 meanwhile
    assert third.password.get_secret_value() not in str(caught.value)

    old = await store.read_version(registered, "billing", v1)
    assert old.credential == first
    assert old.version == v1
    versions = await store.versions(registered, "billing")
    assert [info.version for info in versions] == [v1, v2]
    assert all(info.readable for info in versions)


async def test_put_drops_the_reused_copy(
    settings: VaultSettings, openbao: OpenBaoDevServer, tenant: str
) -> None:
    async with CredentialStore(max_staleness=60.0) as store:
        store.register_tenant(tenant, settings=settings, region="nz", token=openbao.root_token)
        v1 = await store.put(tenant, "crm", ApiKeyCredential(api_key=make_secret()), cas=0)
        assert (await store.get(tenant, "crm")).version == v1
        await store.put(tenant, "crm", ApiKeyCredential(api_key=make_secret()), cas=v1)
        assert (await store.get(tenant, "crm")).version == v1 + 1


async def test_read_version_of_a_missing_version(store: CredentialStore, registered: str) -> None:
    await store.put(registered, "crm", ApiKeyCredential(api_key=make_secret()), cas=0)
    with pytest.raises(CredentialNotFoundError):
        await store.read_version(registered, "crm", 7)


def test_residency_mismatch_is_refused_at_registration(
    store: CredentialStore, openbao: OpenBaoDevServer
) -> None:
    australian = VaultSettings(address=openbao.address, region="au")
    with pytest.raises(ResidencyError) as caught:
        store.register_tenant("kiwi", settings=australian, region="nz")
    message = str(caught.value)
    for part in ("'kiwi'", "'nz'", "'au'", "cross_region"):
        assert part in message
    store.register_tenant("kiwi", settings=australian, region="nz", allow_cross_region=True)
    with pytest.raises(ConfigurationError):
        store.register_tenant("kiwi", settings=australian, region="atlantis")


async def test_unknown_tenant(store: CredentialStore) -> None:
    with pytest.raises(UnknownTenantError, match="'nobody'"):
        await store.get("nobody", "crm")


def test_identical_settings_share_one_client(store: CredentialStore, settings: VaultSettings) -> None:
    store.register_tenant("a", settings=settings, region="nz", token="tok-1")
    store.register_tenant("b", settings=settings, region="nz", token="tok-1")
    store.register_tenant("c", settings=settings, region="nz", token="tok-2")
    clients = {name: store._tenants[name].client for name in "abc"}
    assert clients["a"] is clients["b"]
    assert clients["a"] is not clients["c"]


@pytest.fixture
def counting_listener() -> Iterator[tuple[str, socket.socket]]:
    """A TCP port that accepts nothing: any connection attempt shows up in its backlog."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.setblocking(False)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", listener


TRICKS = ["../b", "a/b", "%2e%2e", "", "Acme", "acmé", "a\nb", "..", "a/../../sys"]


@pytest.mark.parametrize("bad", TRICKS)
async def test_path_tricks_are_refused_before_any_request(
    counting_listener: tuple[str, socket.socket], bad: str
) -> None:
    address, listener = counting_listener
    async with CredentialStore() as store:
        store.register_tenant("acme", settings=VaultSettings(address=address), region="nz", token="unused")
        for call in (
            lambda: store.get(bad, "crm"),
            lambda: store.get("acme", bad),
            lambda: store.read_version("acme", bad, 1),
            lambda: store.versions(bad, "crm"),
            lambda: store.put("acme", bad, ApiKeyCredential(api_key="k"), cas=0),
        ):
            with pytest.raises(InvalidIdentifierError):
                await call()
        with pytest.raises(InvalidIdentifierError):
            store.register_tenant(bad, settings=VaultSettings(address=address), region="nz")
        assert store.reads == 0
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody ever connected


async def test_closed_store_refuses_use(settings: VaultSettings, tenant: str) -> None:
    store = CredentialStore()
    store.register_tenant(tenant, settings=settings, region="nz", token="unused")
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(UsageError):
        await store.get(tenant, "crm")


def test_max_staleness_must_be_sane() -> None:
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ConfigurationError):
            CredentialStore(max_staleness=bad)


async def test_second_integration_is_isolated(store: CredentialStore, registered: str) -> None:
    await store.put(registered, "crm", ApiKeyCredential(api_key=make_secret()), cas=0)
    with pytest.raises(CredentialNotFoundError):
        await store.get(registered, new_id("i"))
