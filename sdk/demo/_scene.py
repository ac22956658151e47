"""Setting the demo's scene: a local Vault with the keys, a tenant-scoped token, sandboxes, a runtime.

Each step tells the viewer what it did, and records it in the run's summary,
without ever showing a key or a token.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from typing import Any

import hvac
from pydantic import SecretStr

from sdk import (
    MemoryAuditSink,
    NexoraConfig,
    NexoraConnect,
    VaultPermissionError,
)
from sdk.demo._hubspot import HubSpotSandbox
from sdk.demo._report import Reporter
from sdk.demo._sandbox import SandboxServer
from sdk.demo._stripe import StripeSandbox
from sdk.demo._zendesk import ZendeskSandbox
from vault import (
    ApiKeyCredential,
    BasicCredential,
    Credential,
    CredentialStore,
    OpenBaoDevServer,
    VaultSettings,
    credential_path,
    tenant_policy_hcl,
)

__all__ = [
    "CONTEXT_BUDGET",
    "CONVERSATION_ID",
    "MAX_STALENESS",
    "OTHER_TENANT",
    "TENANT",
    "ZENDESK_AGENT",
    "DemoError",
    "Sandboxes",
    "SceneSteps",
    "create_tenant_token",
    "new_key",
    "policy_rules",
]

TENANT = "demo-tenant"
OTHER_TENANT = "other-tenant"
CONVERSATION_ID = "demo-call-0001"
ZENDESK_AGENT = "voice-agent@demo-isp.example"
MAX_STALENESS = 30.0
"""Seconds the SDK may reuse a key it read (the default is 0: read Vault on every call).

The demo allows reuse so that the rotation step shows the other half of S4: a
reused key the vendor rejects is dropped, Vault is read again and the request
is resent, without the call failing."""

CONTEXT_BUDGET = 1.5
"""Seconds ``conv.customer_context`` may take. A voice agent would give it about 0.4 s; the demo
allows more so that a loaded machine (the first Vault reads included) still completes every source."""


class DemoError(Exception):
    """A step of the demo did not show what it claims to show."""


def new_key(prefix: str) -> str:
    """Return a fresh random key; each vendor's prefix makes a leaked one easy to spot."""
    return prefix + secrets.token_urlsafe(24)


@dataclass(slots=True)
class Sandboxes:
    crm: HubSpotSandbox
    ticketing: ZendeskSandbox
    billing: StripeSandbox

    def all(self) -> dict[str, SandboxServer]:
        return {"crm": self.crm, "ticketing": self.ticketing, "billing": self.billing}


class SceneSteps:
    """The demo's setting-up steps; mixed into the run, whose reporter and summary they use."""

    report: Reporter
    summary: dict[str, Any]

    def _start_vault(self, bao: OpenBaoDevServer) -> VaultSettings:
        self.report.step("Starting a local OpenBao dev server (in memory, loopback only)")
        bao.start()
        self.report.line(f"OpenBao listening at {bao.address}; its root token never leaves this process")
        self.summary["vault"] = {"address": bao.address}
        return VaultSettings(address=bao.address, region="nz")

    async def _seed_keys(
        self, admin: CredentialStore, settings: VaultSettings, root_token: str
    ) -> dict[str, str]:
        r = self.report
        r.step(f"Seeding tenant {TENANT}'s vendor keys into Vault (KV v2, random keys, never shown)")
        for tenant in (TENANT, OTHER_TENANT):
            admin.register_tenant(tenant, settings=settings, region="nz", token=root_token)
        keys = {"crm": new_key("pat-na1-"), "ticketing": new_key("zdtok-"), "billing": new_key("sk_test_")}
        credentials: dict[str, Credential] = {
            "crm": ApiKeyCredential(api_key=SecretStr(keys["crm"])),
            "ticketing": BasicCredential(
                username=f"{ZENDESK_AGENT}/token", password=SecretStr(keys["ticketing"])
            ),
            "billing": ApiKeyCredential(api_key=SecretStr(keys["billing"])),
        }
        versions = await asyncio.gather(
            *(admin.put(TENANT, integration, cred, cas=0) for integration, cred in credentials.items())
        )
        for (integration, cred), version in zip(credentials.items(), versions, strict=True):
            path = f"{settings.mount}/{credential_path(settings, TENANT, integration)}"
            r.line(f"{integration:<10} {cred.type:<8} -> {path}  (version {version})")
        # Another tenant on the same Vault, to show that the demo tenant's token cannot reach it.
        await admin.put(OTHER_TENANT, "crm", ApiKeyCredential(api_key=SecretStr(new_key("pat-na1-"))), cas=0)
        r.line(
            f"crm        api_key  -> {settings.mount}/{credential_path(settings, OTHER_TENANT, 'crm')}"
            "  (another tenant)"
        )
        return keys

    async def _tenant_token(self, bao: OpenBaoDevServer, settings: VaultSettings) -> str:
        r = self.report
        r.step(f"Giving the SDK a Vault token that can read tenant {TENANT}'s keys and nothing else")
        policy_name = f"nexora-{TENANT}"
        policy = tenant_policy_hcl(TENANT, settings)
        token = await asyncio.to_thread(create_tenant_token, bao.address, bao.root_token, policy_name, policy)
        for capabilities, path in policy_rules(policy):
            r.line(f"policy {policy_name}: {capabilities} on {path}")
        # Prove the fence with the SDK's own store: the tenant's token on the other tenant's path.
        probe = CredentialStore()
        try:
            probe.register_tenant(OTHER_TENANT, settings=settings, region="nz", token=token)
            await probe.get(OTHER_TENANT, "crm")
        except VaultPermissionError:
            r.line(f"reading {OTHER_TENANT}'s key with this token -> VaultPermissionError (denied by policy)")
        else:
            raise DemoError("the tenant-scoped Vault token could read another tenant's key")
        finally:
            await probe.aclose()
        self.summary["vault"].update(policy=policy_name, other_tenant_read="VaultPermissionError")
        return token

    def _start_sandboxes(self, sandboxes: Sandboxes, keys: dict[str, str]) -> None:
        r = self.report
        r.step("Starting sandbox vendor APIs on loopback HTTP (each accepts only the key in Vault)")
        for integration, sandbox in sandboxes.all().items():
            sandbox.start()
            sandbox.accept_keys(keys[integration])
            r.line(f"{sandbox.vendor:<8} {sandbox.base_url}")

    def _runtime(
        self, settings: VaultSettings, sandboxes: Sandboxes, audit: MemoryAuditSink, tenant_token: str
    ) -> NexoraConnect:
        r = self.report
        r.step(
            "Configuring Nexora Connect for the tenant (region nz) and loading connectors via entry points"
        )
        config = NexoraConfig.parse(
            {
                "vault": settings.model_dump(),
                "max_staleness": MAX_STALENESS,
                "tenants": {
                    TENANT: {
                        "region": "nz",
                        "integrations": {
                            "crm": {
                                "connector": "hubspot",
                                "grant": "read-only",
                                "base_url": sandboxes.crm.base_url,
                            },
                            "ticketing": {
                                "connector": "zendesk",
                                "grant": "scoped-write",
                                "write_scopes": ["comments:write"],
                                "base_url": sandboxes.ticketing.base_url,
                                "settings": {"subdomain": "demo-isp"},
                            },
                            "billing": {
                                "connector": "stripe",
                                "grant": "read-only",
                                "base_url": sandboxes.billing.base_url,
                            },
                        },
                    }
                },
            },
            source="demo configuration",
        )
        nc = NexoraConnect(config, audit_sink=audit, vault_tokens={TENANT: tenant_token})
        integrations: dict[str, Any] = {}
        for integration, binding in nc.integrations(TENANT).items():
            name = type(binding.connector).name
            scopes = sorted(str(s) for s in binding.grant.write_scopes)
            grant = binding.grant.mode + (f" ({', '.join(scopes)})" if scopes else "")
            source = nc.registry.describe(name).source
            r.line(f"{integration:<10} {name:<8} grant: {grant:<30} from entry point {source}")
            integrations[integration] = {
                "connector": name,
                "grant": binding.grant.mode,
                "write_scopes": scopes,
            }
        r.line(f"keys are read from Vault at call time; a read key may be reused for {MAX_STALENESS:g} s")
        self.summary["integrations"] = integrations
        return nc


def policy_rules(policy: str) -> list[tuple[str, str]]:
    """``(capabilities, path)`` of each rule of an HCL policy, for display."""
    rules = re.findall(r'path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]', policy)
    return [(", ".join(c.strip().strip('"') for c in caps.split(",")), path) for path, caps in rules]


def create_tenant_token(address: str, root_token: str, policy_name: str, policy: str) -> str:
    """Write the tenant policy and return a short-lived token holding only it (and Vault's default)."""
    client = hvac.Client(url=address, token=root_token, timeout=5)
    client.session.trust_env = False
    try:
        client.sys.create_or_update_policy(name=policy_name, policy=policy)
        created = client.auth.token.create(
            policies=[policy_name], ttl="15m", renewable=False, display_name="nexora-demo"
        )
        token = created["auth"]["client_token"]
    finally:
        client.adapter.close()
    if not isinstance(token, str) or not token:
        raise DemoError("OpenBao did not return a token")
    return token
