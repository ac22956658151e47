from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.vault.support import new_id
from vault import CredentialStore, OpenBaoDevServer, VaultSettings


@pytest.fixture
def settings(openbao: OpenBaoDevServer) -> VaultSettings:
    return VaultSettings(address=openbao.address)


@pytest.fixture
def tenant() -> str:
    return new_id("t")


@pytest.fixture
async def store(openbao: OpenBaoDevServer) -> AsyncIterator[CredentialStore]:
    async with CredentialStore() as credential_store:
        yield credential_store


@pytest.fixture(scope="session")
def approle_mount(vault_root: Any) -> str:
    """The AppRole auth method, enabled once per session."""
    mount = "approle"
    if f"{mount}/" not in vault_root.sys.list_auth_methods()["data"]:
        vault_root.sys.enable_auth_method(method_type="approle", path=mount)
    return mount
