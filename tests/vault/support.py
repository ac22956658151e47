"""Helpers for arranging state in the real OpenBao dev server (test code only)."""

from __future__ import annotations

import secrets
from typing import Any

from sdk.testing import make_canary
from vault import VaultSettings, credential_path, tenant_policy_hcl


def make_secret() -> str:
    """Return a fresh, recognisable, random value to plant as a secret and look for in outputs."""
    return make_canary("vault-secret")


def new_id(prefix: str = "t") -> str:
    """Return a fresh valid tenant or integration id, so that tests sharing a server never collide."""
    return f"{prefix}{secrets.token_hex(5)}"


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_secret(
    root: Any, settings: VaultSettings, tenant: str, integration: str, data: dict[str, object]
) -> int:
    """Write ``data`` as the next version of the integration's secret, as a tenant's admin would."""
    path = credential_path(settings, tenant, integration)
    response = root.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point=settings.mount)
    return int(response["data"]["version"])


def tenant_policy(root: Any, settings: VaultSettings, tenant: str) -> str:
    """Install the tenant's read policy from :func:`vault.tenant_policy_hcl` and return its name."""
    name = f"nexora-{tenant}"
    root.sys.create_or_update_policy(name=name, policy=tenant_policy_hcl(tenant, settings))
    return name


def tenant_token(root: Any, settings: VaultSettings, tenant: str) -> str:
    """Return a token that carries only the tenant's read policy (plus Vault's default policy)."""
    policy = tenant_policy(root, settings, tenant)
    return str(root.auth.token.create(policies=[policy], ttl="10m")["auth"]["client_token"])


def tenant_approle(root: Any, settings: VaultSettings, tenant: str, mount: str) -> tuple[str, str]:
    """Create an AppRole limited to the tenant's policy and return its role id and a secret id."""
    policy = tenant_policy(root, settings, tenant)
    role = f"role-{tenant}"
    root.auth.approle.create_or_update_approle(
        role_name=role, token_policies=[policy], token_ttl="10m", mount_point=mount
    )
    role_id = root.auth.approle.read_role_id(role_name=role, mount_point=mount)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(role_name=role, mount_point=mount)["data"]["secret_id"]
    return str(role_id), str(secret_id)


def live_role_tokens(root: Any, role: str) -> list[str]:
    """Return the accessors of the unexpired tokens an AppRole login for ``role`` created."""
    accessors = root.auth.token.list_accessors()["data"]["keys"]
    found = []
    for accessor in accessors:
        meta = root.auth.token.lookup_accessor(accessor)["data"].get("meta") or {}
        if meta.get("role_name") == role:
            found.append(accessor)
    return found
