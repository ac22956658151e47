from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.oauth.support import new_id, writer_token
from vault import CredentialStore, OpenBaoDevServer, VaultSettings


@pytest.fixture
def settings(openbao: OpenBaoDevServer) -> VaultSettings:
    return VaultSettings(address=openbao.address)


@pytest.fixture
def tenant() -> str:
    return new_id("t")


@pytest.fixture
def integration() -> str:
    return new_id("crm")


@pytest.fixture
def tenant_token(vault_root: Any, settings: VaultSettings, tenant: str) -> str:
    return writer_token(vault_root, settings, tenant)


async def open_store(settings: VaultSettings, tenant: str, token: str) -> CredentialStore:
    store = CredentialStore()
    store.register_tenant(tenant, settings=settings, region=settings.region, token=token)
    return store


@pytest.fixture
async def store(settings: VaultSettings, tenant: str, tenant_token: str) -> AsyncIterator[CredentialStore]:
    """A store that reaches the tenant's Vault paths with the tenant's write policy only."""
    async with await open_store(settings, tenant, tenant_token) as credential_store:
        yield credential_store
