"""A planted canary secret never shows up in reprs, error messages or logs (S3)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sdk._errors import NexoraError
from tests.vault.support import make_secret, new_id, tenant_token, write_secret
from vault import CredentialStore, OpenBaoDevServer, VaultSettings

pytestmark = pytest.mark.vault


async def test_canary_never_leaks(
    settings: VaultSettings,
    openbao: OpenBaoDevServer,
    vault_root: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3 and hvac log requests at DEBUG
    tenant, other = new_id(), new_id()
    key, password, refresh = make_secret(), make_secret(), make_secret()
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": key})
    write_secret(
        vault_root, settings, tenant, "bad", {"type": "basic", "username": [password], "password": 1}
    )
    write_secret(
        vault_root,
        settings,
        tenant,
        "oauth",
        {"type": "oauth2_refresh", "client_id": "c", "client_secret": password, "refresh_token": refresh},
    )
    write_secret(vault_root, settings, other, "crm", {"type": "api_key", "api_key": make_secret()})
    token = tenant_token(vault_root, settings, tenant)
    canaries = [key, password, refresh, token]

    texts: list[str] = []
    errors: list[NexoraError] = []
    async with CredentialStore(max_staleness=5) as store:
        store.register_tenant(tenant, settings=settings, region="nz", token=token)
        store.register_tenant(other, settings=settings, region="nz", token=token)
        for integration in ("crm", "oauth"):
            lease = await store.get(tenant, integration)
            texts += [repr(lease), str(lease), repr(lease.credential), lease.credential.model_dump_json()]
        texts.append(repr(store))
        texts.append(repr(store._tenants[tenant].client))
        for tenant_id, integration in ((tenant, "bad"), (tenant, "missing"), (other, "crm")):
            with pytest.raises(NexoraError) as caught:
                await store.get(tenant_id, integration)
            errors.append(caught.value)
        vault_root.auth.token.revoke(token)
        with pytest.raises(NexoraError) as caught:
            await store.get(tenant, "crm", fresh=True)
        errors.append(caught.value)

    assert [type(error).__name__ for error in errors] == [
        "MalformedCredentialError",
        "CredentialNotFoundError",
        "VaultPermissionError",
        "VaultAuthError",
    ]
    for error in errors:
        texts += [str(error), repr(error), repr(error.args)]
        assert error.__cause__ is None
    texts.append(caplog.text)
    assert caplog.records  # the logs were captured, so their absence of secrets means something
    for text in texts:
        for canary in canaries:
            assert canary not in text
