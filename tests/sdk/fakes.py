"""Test doubles for the core SDK tests: an in-memory credential source and a toy CRM connector.

The toy connector speaks a made-up vendor API; connector behaviour against real
vendor shapes is tested under tests/connectors with the vendors' own specs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from sdk import Account, Contact, Note
from sdk.authoring import CRMConnector, endpoints, operation
from sdk.testing import make_canary
from vault import ApiKeyCredential, CredentialLease


def make_secret() -> str:
    """A throwaway canary credential, different on every call (never a real-looking key)."""
    return make_canary("canary-key")


@dataclass
class FakeCredentialSource:
    """Serves keys from a dict, counts reads, and supports rotation like Vault's KV v2."""

    keys: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    reads: int = 0
    fresh_reads: int = 0
    invalidations: int = 0
    lagging: bool = False
    """Simulate a reused (stale) copy: non-fresh reads see the previous version until invalidated."""

    def set(self, tenant: str, integration: str, key: str) -> int:
        versions = self.keys.setdefault((tenant, integration), [])
        versions.append(key)
        return len(versions)

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        self.reads += 1
        self.fresh_reads += int(fresh)
        versions = self.keys[(tenant, integration)]
        index = len(versions) - 2 if (self.lagging and not fresh and len(versions) > 1) else len(versions) - 1
        return CredentialLease(
            credential=ApiKeyCredential(type="api_key", api_key=SecretStr(versions[index])),
            version=index + 1,
            tenant=tenant,
            integration=integration,
            path=f"nexora/tenants/{tenant}/integrations/{integration}",
        )

    def invalidate(self, tenant: str, integration: str) -> None:
        self.invalidations += 1
        self.lagging = False


TOY_BASE = "https://toy-crm.test"


class ToyCRM(CRMConnector):
    """A minimal connector over a made-up API: the shape a real one takes."""

    name: ClassVar[str] = "toy"
    display_name: ClassVar[str] = "Toy CRM"
    base_url: ClassVar[str] = TOY_BASE

    @operation("contacts:read", reads_over_post=["/contacts/search"])
    async def find_contacts(self, phone: str | None = None, email: str | None = None) -> list[Contact]:
        data = await self.http.json("POST", "/contacts/search", json={"phone": phone, "email": email})
        return [self._contact(item) for item in data["results"]]

    @endpoints("GET /contacts/{contact_id}")
    async def get_contact(self, contact_id: str) -> Contact:
        data = await self.http.json("GET", "/contacts/{contact_id}", path_params={"contact_id": contact_id})
        return self._contact(data)

    @endpoints("GET /accounts/{account_id}")
    async def get_account(self, account_id: str) -> Account:
        data = await self.http.json("GET", "/accounts/{account_id}", path_params={"account_id": account_id})
        return Account(id=str(data["id"]), source=self.integration, name=data.get("name"))

    @endpoints("POST /notes")
    async def create_note(self, contact_id: str, body: str) -> Note:
        data = await self.http.json("POST", "/notes", json={"contact": contact_id, "body": body})
        return Note(id=str(data["id"]), source=self.integration, contact_id=contact_id, body=body)

    @endpoints("GET /me")
    async def verify(self) -> None:
        await self.http.request("GET", "/me")

    def _contact(self, item: dict[str, Any]) -> Contact:
        return Contact(
            id=item["id"],
            source=self.integration,
            name=item.get("name"),
            email=item.get("email"),
            phone=self.phone_e164(item.get("phone")),
        )


class SneakyCRM(ToyCRM):
    """A buggy connector whose read operation tries to mutate: the HTTP guard must stop it."""

    name: ClassVar[str] = "sneaky"

    @endpoints("GET /contacts/{contact_id}")
    async def get_contact(self, contact_id: str) -> Contact:
        await self.http.request("DELETE", f"/contacts/{contact_id}")
        raise AssertionError("unreachable: the DELETE must be refused")

    @endpoints("GET /accounts/{account_id}")
    async def get_account(self, account_id: str) -> Account:
        await self.http.request("POST", f"/accounts/{account_id}/merge")
        raise AssertionError("unreachable: the POST must be refused")


def contact_json(**overrides: Any) -> dict[str, Any]:
    base = {"id": "c-1", "name": "Aroha Test", "email": "aroha@example.test", "phone": "021 555 0100"}
    return {**base, **overrides}


def ok_json(payload: Any) -> httpx.Response:
    return httpx.Response(200, json=payload)
