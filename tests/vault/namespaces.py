"""Arranging OpenBao namespaces, one per tenant, on the real dev server (test code only)."""

from __future__ import annotations

import dataclasses
from typing import Any

import hvac

from tests.vault.support import new_id
from vault import OpenBaoDevServer, VaultSettings, credential_path, tenant_policy_hcl


@dataclasses.dataclass
class TenantNamespace:
    """One tenant living in its own namespace: its KV v2 mount, read policy and admin client there."""

    name: str
    tenant: str
    admin: Any  # an hvac client with the root token, scoped to the namespace
    settings: VaultSettings

    def write(self, integration: str, data: dict[str, object]) -> int:
        path = credential_path(self.settings, self.tenant, integration)
        answer = self.admin.secrets.kv.v2.create_or_update_secret(
            path=path, secret=data, mount_point="secret"
        )
        return int(answer["data"]["version"])

    def policy(self, *, write: bool = False) -> str:
        name = f"nexora-{self.tenant}-{'write' if write else 'read'}"
        self.admin.sys.create_or_update_policy(
            name=name, policy=tenant_policy_hcl(self.tenant, self.settings, write=write)
        )
        return name

    def token(self, *, write: bool = False, ttl: str = "10m") -> str:
        """A token issued inside this namespace, with only the tenant's policy."""
        answer = self.admin.auth.token.create(policies=[self.policy(write=write)], ttl=ttl)
        return str(answer["auth"]["client_token"])


def make_tenant_namespace(openbao: OpenBaoDevServer, **settings: Any) -> TenantNamespace:
    """Create a namespace (``bao namespace create``) with a KV v2 mount at 'secret' for a new tenant."""
    name = new_id("ns")
    root = hvac.Client(url=openbao.address, token=openbao.root_token, timeout=5)
    root.session.trust_env = False
    root.sys.create_namespace(path=name)
    root.adapter.close()
    admin = hvac.Client(url=openbao.address, token=openbao.root_token, namespace=name, timeout=5)
    admin.session.trust_env = False
    admin.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    return TenantNamespace(
        name=name,
        tenant=new_id("t"),
        admin=admin,
        settings=VaultSettings(address=openbao.address, namespace=name, **settings),
    )
