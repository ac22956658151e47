"""Test material for key management: a HubSpot that accepts only the keys it is told, and a runtime.

The vendor side is a respx router in HubSpot's documented shapes (the fixtures of
``tests/connectors/fixtures/hubspot``, see ``tests/connectors/hubspot_cases.py``); the
Vault side is the session's real OpenBao.
"""

from __future__ import annotations

import collections
import re
from typing import Any

import httpx
import respx

from connectors.crm.hubspot import HubSpotConnector
from sdk import MemoryAuditSink, NexoraConfig
from sdk._keys import TenantKeys
from sdk.authoring import ConnectorRegistry
from tests.connectors.hubspot_cases import BASE, fixture
from vault import VaultSettings, tenant_policy_hcl

INTEGRATION = "crm"
VERIFY_PATH = "/crm/v3/objects/contacts"
_CONTACT = re.compile(r"^/crm/v3/objects/contacts/(\d+)$")
_COMPANY = re.compile(r"^/crm/v3/objects/companies/(\d+)$")


class KeyCheckingHubSpot:
    """HubSpot as it behaves around a rotation: only the keys in ``accepted`` work, any other gets 401.

    ``on_request`` (if set) runs before each answer, so a test can act at the
    moment a request arrives (another admin writing to Vault, say). Counts
    every answer by (path kind, status) and every key seen, for the tests' reports.
    """

    def __init__(self, *accepted: str) -> None:
        self.accepted: set[str] = set(accepted)
        self.answers: collections.Counter[tuple[str, int]] = collections.Counter()
        self.keys_seen: collections.Counter[str] = collections.Counter()
        self.on_request: Any = None
        self.router = respx.MockRouter(base_url=BASE, assert_all_called=False, assert_all_mocked=True)
        self.router.route(host="api.hubapi.com").mock(side_effect=self._answer)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.router.async_handler)

    def revoke_all_but(self, key: str) -> None:
        """The tenant revoked every other key at the vendor: only ``key`` works from now on."""
        self.accepted = {key}

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.on_request is not None:
            self.on_request(request)
        kind = self._kind(request.url.path)
        header = request.headers.get("authorization", "")
        key = header.removeprefix("Bearer ")
        self.keys_seen[key] += 1
        if not header.startswith("Bearer ") or key not in self.accepted:
            self.answers[(kind, 401)] += 1
            return httpx.Response(401, json=fixture("error_unauthorized"))
        self.answers[(kind, 200)] += 1
        if kind == "verify":
            return httpx.Response(200, json={"results": [fixture("contact")]})
        body = fixture(kind)
        body["id"] = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json=body)

    @staticmethod
    def _kind(path: str) -> str:
        if path == VERIFY_PATH:
            return "verify"
        if _CONTACT.match(path):
            return "contact"
        if _COMPANY.match(path):
            return "company"
        raise AssertionError(f"unexpected HubSpot path {path}")


def registry() -> ConnectorRegistry:
    reg = ConnectorRegistry(discover=False)
    reg.register(HubSpotConnector, name="hubspot")
    return reg


def config(tenant: str, address: str, *, max_staleness: float = 0.0) -> NexoraConfig:
    return NexoraConfig.parse(
        {
            "vault": {"address": address},
            "max_staleness": max_staleness,
            "tenants": {tenant: {"integrations": {INTEGRATION: {"connector": "hubspot"}}}},
        }
    )


def admin_token(root: Any, settings: VaultSettings, tenant: str) -> str:
    """A token with the tenant's write policy: what a tenant admin rotates keys with."""
    name = f"nexora-admin-{tenant}"
    root.sys.create_or_update_policy(name=name, policy=tenant_policy_hcl(tenant, settings, write=True))
    return str(root.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"])


def tenant_keys(
    tenant: str, address: str, token: str, vendor: KeyCheckingHubSpot, audit: MemoryAuditSink | None = None
) -> TenantKeys:
    return TenantKeys.from_config(
        config(tenant, address),
        vault_tokens={tenant: token},
        transport=vendor.transport(),
        registry=registry(),
        audit_sink=audit if audit is not None else MemoryAuditSink(),
    )


def api_key(key: str) -> dict[str, str]:
    return {"type": "api_key", "api_key": key}
