"""Tenants that differ only in what their policy lets a model see, over the three shipped connectors.

Vendor answers come from the connectors' own fixtures (tests/connectors), with canaries planted
where staff write for staff: internal Zendesk comments and HubSpot notes.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx

from connectors.billing.stripe import StripeConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import hubspot_cases, stripe_cases, zendesk_cases
from tests.mock_nexora import registry_of, runtime_on

DEFAULT = "tenant-default-9"
"""No redaction settings at all: the defaults under test."""
KEEP = "tenant-keep-9"
"""Opted in: internal notes reach the model (through the text redactor)."""
MASK = "tenant-mask-9"
"""Internal notes are shown as present, their text withheld."""
FIELDS = "tenant-fields-9"
"""Internal notes dropped, and per-field rules on top of the defaults."""

FIELD_RULES = {
    "Contact.email": "mask",
    "Contact.phone": "last4",
    "Ticket.subject": "drop",
    "TicketComment.author_id": "mask",
    "Invoice.amount_due": "drop",
    "BillingCustomer.balance": "drop",
}
POLICIES: dict[str, dict[str, Any] | None] = {
    DEFAULT: None,
    KEEP: {"internal_notes": "keep"},
    MASK: {"internal_notes": "mask"},
    FIELDS: {"fields": FIELD_RULES},
}
WRITES = {"crm": ["notes:write"], "desk": ["comments:write"]}
CONNECTOR_OF = {"crm": "hubspot", "desk": "zendesk", "billing": "stripe"}


def policy_config() -> NexoraConfig:
    tenants: dict[str, Any] = {}
    for tenant, redaction in POLICIES.items():
        integrations: dict[str, Any] = {}
        for integration, connector in CONNECTOR_OF.items():
            entry: dict[str, Any] = {"connector": connector}
            if integration == "desk":
                entry["settings"] = dict(zendesk_cases.SETTINGS)
            if integration in WRITES:
                entry |= {"grant": "scoped-write", "write_scopes": WRITES[integration]}
            integrations[integration] = entry
        tenants[tenant] = {"integrations": integrations}
        if redaction is not None:
            tenants[tenant]["redaction"] = redaction
    return NexoraConfig.parse({"vault": {"address": "http://127.0.0.1:9"}, "tenants": tenants})


def comments_page(*comments: tuple[str, bool]) -> dict[str, Any]:
    """A Zendesk comments page of (body, public) pairs given oldest first, served newest first.

    The connector asks for ``sort=-created_at`` (the newest comments) and returns them oldest first.
    """
    template = zendesk_cases.fixture("comments_page2")["comments"][0]
    items = []
    for n, (body, public) in enumerate(comments):
        item = copy.deepcopy(template)
        item.update(id=1_290_000 + n, body=body, plain_body=body, html_body=f"<p>{body}</p>", public=public)
        item["created_at"] = f"2024-06-{n + 1:02d}T09:00:00Z"
        items.append(item)
    return {"comments": items[::-1], "meta": {"has_more": False, "after_cursor": None, "before_cursor": None}}


@pytest.fixture
async def nc(router: respx.MockRouter) -> AsyncIterator[NexoraConnect]:
    key = make_canary("policy-key")
    source = MemoryCredentialSource()
    for tenant in POLICIES:
        source.put(tenant, "crm", hubspot_cases.credential(key))
        source.put(tenant, "desk", zendesk_cases.credential(key))
        source.put(tenant, "billing", stripe_cases.credential(key))
    registry = registry_of(HubSpotConnector, ZendeskConnector, StripeConnector)
    async with runtime_on(router, policy_config(), registry, source, audit=MemoryAuditSink()) as runtime:
        yield runtime
