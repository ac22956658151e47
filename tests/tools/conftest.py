"""A runtime with the three shipped connectors under two tenants: one read-only, one with scoped writes.

Vendor answers come from the connectors' own respx cases (tests/connectors/*_cases.py), so the
tools are tested against the vendors' documented shapes, not shapes invented here.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx

from connectors.billing.stripe import StripeConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import Conversation, MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import hubspot_cases, stripe_cases, zendesk_cases
from tests.mock_nexora import registry_of, runtime_on

READ_ONLY = "tenant-ro-7"
"""Every integration read-only."""
SCOPED = "tenant-rw-7"
"""CRM notes and ticket comments granted; new tickets and invoice resends not."""
MASKING = "tenant-mask-7"
"""Read-only, and a redaction policy that masks every PII field."""

GRANTED_WRITES = {"crm__create_note", "desk__add_comment"}
UNGRANTED_WRITES = {"desk__create_ticket", "billing__resend_invoice"}
READS = {
    "crm__find_contacts",
    "crm__get_contact",
    "crm__get_account",
    "desk__list_tickets",
    "desk__get_ticket",
    "billing__find_customers",
    "billing__get_balance",
    "billing__list_invoices",
    "billing__list_subscriptions",
}

CONNECTOR_OF = {"crm": "hubspot", "desk": "zendesk", "billing": "stripe"}
CASES_OF = {"crm": hubspot_cases.KIT_CASES, "desk": zendesk_cases.CASES, "billing": stripe_cases.CASES}


def _integrations(writes: dict[str, list[str]]) -> dict[str, Any]:
    settings = {"desk": zendesk_cases.SETTINGS}
    out: dict[str, Any] = {}
    for integration, connector in CONNECTOR_OF.items():
        entry: dict[str, Any] = {"connector": connector, "settings": settings.get(integration, {})}
        if integration in writes:
            entry |= {"grant": "scoped-write", "write_scopes": writes[integration]}
        out[integration] = entry
    return out


def tools_config() -> NexoraConfig:
    return NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                READ_ONLY: {"integrations": _integrations({})},
                SCOPED: {"integrations": _integrations({"crm": ["notes:write"], "desk": ["comments:write"]})},
                MASKING: {"integrations": _integrations({}), "redaction": {"pii": "mask"}},
            },
        }
    )


def luhn_card(prefix: str = "4", length: int = 16) -> str:
    """A random card number that passes the Luhn check (so redaction must treat it as a card)."""
    digits = [int(d) for d in prefix] + [random.randrange(10) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


@pytest.fixture
def secret() -> str:
    return make_canary("tool-key")


@pytest.fixture
def credentials(secret: str) -> MemoryCredentialSource:
    source = MemoryCredentialSource()
    for tenant in (READ_ONLY, SCOPED, MASKING):
        source.put(tenant, "crm", hubspot_cases.credential(secret))
        source.put(tenant, "desk", zendesk_cases.credential(secret))
        source.put(tenant, "billing", stripe_cases.credential(secret))
    return source


@pytest.fixture
async def nc(
    router: respx.MockRouter, credentials: MemoryCredentialSource, audit: MemoryAuditSink
) -> AsyncIterator[NexoraConnect]:
    registry = registry_of(HubSpotConnector, ZendeskConnector, StripeConnector)
    async with runtime_on(router, tools_config(), registry, credentials, audit=audit) as runtime:
        yield runtime


@pytest.fixture
async def read_only(nc: NexoraConnect) -> AsyncIterator[Conversation]:
    async with nc.conversation(tenant=READ_ONLY, conversation_id="call-ro-1") as conv:
        yield conv


@pytest.fixture
async def scoped(nc: NexoraConnect) -> AsyncIterator[Conversation]:
    async with nc.conversation(tenant=SCOPED, conversation_id="call-rw-1") as conv:
        yield conv
