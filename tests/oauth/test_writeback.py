"""Refresh-token write-back against real OpenBao, and the hunt for leaked access tokens (S3)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from sdk import ReauthorizationRequiredError, VendorAuthError
from sdk._auth import VaultCredentialAuth
from tests.oauth.support import (
    RESOURCE_PATH,
    TOKEN_PATH,
    TokenVendor,
    all_versions,
    dump,
    refresh_credential,
)
from vault import CredentialStore, OAuth2RefreshCredential, VaultSettings, credential_path
from vault._oauth import OAuthTokenSource
from vault._paths import refresh_lock_path
from vault._token_endpoint import TokenEndpoint

pytestmark = pytest.mark.vault

BASE = "https://vendor.test"
ENDPOINT = TokenEndpoint(url=BASE + TOKEN_PATH, auth_method="client_secret_post")


async def seed(store: CredentialStore, tenant: str, integration: str, vendor: TokenVendor) -> str:
    refresh = vendor.new_family()
    await store.put(tenant, integration, refresh_credential(vendor, refresh), cas=0)
    return refresh


async def stored_refresh(store: CredentialStore, tenant: str, integration: str) -> str:
    credential = (await store.get(tenant, integration, fresh=True)).credential
    assert isinstance(credential, OAuth2RefreshCredential)
    return credential.refresh_token.get_secret_value()


async def test_a_rotated_refresh_token_becomes_the_next_version_in_vault(
    store: CredentialStore, tenant: str, integration: str
) -> None:
    vendor = TokenVendor()
    first = await seed(store, tenant, integration, vendor)
    tokens = OAuthTokenSource(store, transport=vendor.transport())
    token = await tokens.token(await store.get(tenant, integration), ENDPOINT)
    versions = await store.versions(tenant, integration)
    assert [v.version for v in versions] == [1, 2]
    assert token.credential_version == 2
    rotated = await stored_refresh(store, tenant, integration)
    assert rotated == vendor.current(first) == vendor.issued_refresh[-1]
    assert rotated != first
    # The lock was taken and given back in the tenant's own Vault, with the tenant's own token.
    assert tokens.locks.stats.acquired == 1


async def test_an_omitted_refresh_token_writes_no_new_version(
    store: CredentialStore, tenant: str, integration: str
) -> None:
    vendor = TokenVendor(rotate=False)
    first = await seed(store, tenant, integration, vendor)
    tokens = OAuthTokenSource(store, transport=vendor.transport())
    await tokens.token(await store.get(tenant, integration), ENDPOINT)
    assert [v.version for v in await store.versions(tenant, integration)] == [1]
    assert await stored_refresh(store, tenant, integration) == first


async def test_a_write_during_the_refresh_is_merged_with_check_and_set_not_overwritten(
    store: CredentialStore, settings: VaultSettings, tenant: str, integration: str, vault_root: Any
) -> None:
    vendor = TokenVendor(delay=0.1)
    first = await seed(store, tenant, integration, vendor)
    tokens = OAuthTokenSource(store, transport=vendor.transport())
    pending = asyncio.create_task(tokens.token(await store.get(tenant, integration), ENDPOINT))
    await asyncio.sleep(0.05)
    # An operator edits the secret (same grant, token_url added) while the vendor is answering.
    path = credential_path(settings, tenant, integration)
    edited = {**refresh_credential(vendor, first).model_dump(mode="json"), "token_url": BASE + TOKEN_PATH}
    edited["client_secret"] = vendor.client_secret
    edited["refresh_token"] = first
    vault_root.secrets.kv.v2.create_or_update_secret(path=path, secret=edited, mount_point=settings.mount)
    await pending
    assert [v.version for v in await store.versions(tenant, integration)] == [1, 2, 3]
    latest = (await store.get(tenant, integration, fresh=True)).credential
    assert isinstance(latest, OAuth2RefreshCredential)
    assert latest.refresh_token.get_secret_value() == vendor.issued_refresh[-1]
    assert latest.token_url == BASE + TOKEN_PATH
    assert tokens.stats.write_back_conflicts == 1
    assert vendor.reuses == 0


async def test_access_tokens_never_reach_vault_logs_errors_or_reprs(
    store: CredentialStore,
    settings: VaultSettings,
    tenant: str,
    integration: str,
    vault_root: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    vendor = TokenVendor()
    await seed(store, tenant, integration, vendor)
    tokens = OAuthTokenSource(store, transport=vendor.transport())
    auth = VaultCredentialAuth(
        source=store,
        tenant=tenant,
        integration=integration,
        accepted_types=(OAuth2RefreshCredential,),
        apply=lambda request, credential: None,
        tokens=tokens,
        token_endpoint=ENDPOINT,
    )
    texts: list[str] = []
    async with httpx.AsyncClient(base_url=BASE, transport=vendor.transport(), auth=auth) as client:
        for _ in range(3):
            assert (await client.get(RESOURCE_PATH)).status_code == 200
            vendor.revoke_access(vendor.issued_access[-1])  # forces a 401, a drop and a refresh
        # Errors along the way: a client the vendor refuses, then a refresh token it refuses.
        secret = vendor.client_secret
        vendor.client_secret = "rotated-at-the-vendor"
        with pytest.raises(VendorAuthError) as refused:
            await client.get(RESOURCE_PATH)
        texts += [str(refused.value), repr(refused.value)]
        vendor.client_secret = secret
        vendor.token = lambda form, authorization: (400, {"error": "invalid_grant"})  # type: ignore[method-assign]
        with pytest.raises(ReauthorizationRequiredError) as dead:
            await client.get(RESOURCE_PATH)
        texts += [str(dead.value), repr(dead.value)]
    assert len(vendor.issued_access) == vendor.refreshes == 3
    texts += [repr(tokens), repr(tokens.stats), repr(tokens.locks), repr(auth), repr(store)]
    texts += [record.getMessage() for record in caplog.records]
    texts += [
        dump(data)
        for data in all_versions(vault_root, settings, credential_path(settings, tenant, integration))
    ]
    texts += [
        dump(data)
        for data in all_versions(vault_root, settings, refresh_lock_path(settings, tenant, integration))
    ]
    haystack = "\n".join(texts)
    for access in vendor.issued_access:
        assert access not in haystack
    for refresh in vendor.issued_refresh:
        assert refresh not in "\n".join(texts[:4] + [record.getMessage() for record in caplog.records])
    assert vendor.client_secret not in "\n".join(texts[:4])
    # The canary scan must be able to fail: the rotated refresh token *is* in Vault.
    assert vendor.issued_refresh[-1] in haystack
