"""A tenant with three real integrations (HubSpot, Zendesk, Stripe) behind one respx router.

Vendor payloads come from the connectors' own fixtures and case helpers under
``tests/connectors``, so these tests exercise the shipped connectors against the
shapes their contract tests validate; nothing here invents a vendor shape.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from connectors.billing.stripe import StripeConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.authoring import Connector, ConnectorRegistry
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import hubspot_cases as hubspot
from tests.connectors import stripe_cases as stripe
from tests.connectors import zendesk_cases as zendesk
from tests.mock_nexora import registry_of, runtime_on

TENANT = "acme"
CRM = "hubspot"
TICKETS = "zendesk"
BILLING = "stripe"

CALLER_PHONE = "021 555 0100"
"""The caller's number as a voice platform might pass it (NZ national form)."""
CALLER_E164 = "+64215550100"
CARD = "4111 1111 1111 1111"
"""A Luhn-valid Visa test number (the networks' published test card)."""
IRD = "49-091-850"
"""A check-digit-valid NZ IRD number (the example Inland Revenue publishes)."""

HUBSPOT_SEARCH = hubspot.BASE + hubspot.SEARCH
HUBSPOT_CONTACT = re.compile(re.escape(hubspot.BASE) + r"/crm/v3/objects/contacts/\d+(?:\?|$)")
HUBSPOT_COMPANY = re.compile(re.escape(hubspot.BASE) + r"/crm/v3/objects/companies/\d+(?:\?|$)")
ZENDESK_TICKET = re.compile(re.escape(zendesk.TICKETS) + r"/(?P<ticket_id>\d+)(?:\?|$)")
ZENDESK_COMMENTS = re.compile(re.escape(zendesk.TICKETS) + r"/\d+/comments(?:\?|$)")
STRIPE_SEARCH = f"{stripe.BASE}/v1/customers/search"
STRIPE_CUSTOMER = re.compile(re.escape(stripe.BASE) + r"/v1/customers/cus_\w+(?:\?|$)")
STRIPE_INVOICES = f"{stripe.BASE}/v1/invoices"
STRIPE_SUBSCRIPTIONS = f"{stripe.BASE}/v1/subscriptions"


def config(redaction: dict[str, Any] | None = None, *, with_tickets: bool = True) -> NexoraConfig:
    integrations: dict[str, Any] = {CRM: {"connector": "hubspot"}}
    if with_tickets:
        integrations[TICKETS] = {"connector": "zendesk", "settings": dict(zendesk.SETTINGS)}
    integrations[BILLING] = {"connector": "stripe"}
    tenant: dict[str, Any] = {"integrations": integrations}
    if redaction is not None:
        tenant["redaction"] = redaction
    return NexoraConfig.parse({"vault": {"address": "http://127.0.0.1:9"}, "tenants": {TENANT: tenant}})


def credentials(key: str) -> MemoryCredentialSource:
    source = MemoryCredentialSource()
    source.put(TENANT, CRM, hubspot.credential(key))
    source.put(TENANT, TICKETS, zendesk.credential(key))
    source.put(TENANT, BILLING, stripe.credential(key))
    return source


def registry(crm: type[Connector] = HubSpotConnector) -> ConnectorRegistry:
    return registry_of(ZendeskConnector, StripeConnector, hubspot=crm)


def runtime(
    router: respx.MockRouter,
    *,
    key: str | None = None,
    source: MemoryCredentialSource | Any | None = None,
    audit: MemoryAuditSink | None = None,
    redaction: dict[str, Any] | None = None,
    crm: type[Connector] = HubSpotConnector,
    with_tickets: bool = True,
) -> NexoraConnect:
    return runtime_on(
        router,
        config(redaction, with_tickets=with_tickets),
        registry(crm),
        source or credentials(key or make_canary("canary-key")),
        audit=audit or MemoryAuditSink(),
    )


# --- vendor answers ------------------------------------------------------------------------------


def hubspot_contact(contact_id: str, first: str, phone: str = CALLER_PHONE) -> dict[str, Any]:
    """A contact search hit holding the caller's mobile number."""
    return hubspot.contact_hit(contact_id, firstname=first, lastname="Test", mobilephone=phone)


def stripe_customer() -> dict[str, Any]:
    """The one Stripe customer with the caller's number: owes NZD 12.50, delinquent."""
    customer: dict[str, Any] = stripe.fixture("customers_search_page1")["data"][0]
    return customer


def zendesk_comments(*bodies: str) -> dict[str, Any]:
    template = zendesk.fixture("comments_page2")["comments"][0]
    comments = [
        {**copy.deepcopy(template), "id": 1_274_100 + n, "plain_body": body, "body": body}
        for n, body in enumerate(bodies)
    ]
    return {"comments": comments, "meta": {"has_more": False, "after_cursor": None, "before_cursor": None}}


Answer = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


@dataclass
class Vendors:
    """The three vendors' routes for one caller; tests replace single answers to script a case."""

    router: respx.MockRouter
    routes: dict[str, respx.Route] = field(default_factory=dict)

    def mount(self, *, comments: dict[str, Any] | None = None) -> Vendors:
        r = self.router
        company = hubspot.fixture("company")
        self.routes["hubspot_search"] = r.post(HUBSPOT_SEARCH).respond(
            200, json=hubspot.search_response(hubspot.search_hit())
        )
        self.routes["hubspot_contact"] = r.get(url__regex=HUBSPOT_CONTACT).respond(
            200, json=hubspot.fixture("contact")
        )
        self.routes["hubspot_company"] = r.get(url__regex=HUBSPOT_COMPANY).respond(200, json=company)
        self.routes["zendesk_users"] = r.get(zendesk.USERS_SEARCH).respond(
            200, json=zendesk.fixture("users_search_by_phone")
        )
        self.routes["zendesk_search"] = r.get(zendesk.SEARCH).respond(
            200, json=zendesk.fixture("search_tickets")
        )
        self.routes["zendesk_comments"] = r.get(url__regex=ZENDESK_COMMENTS).respond(
            200, json=comments or zendesk.fixture("comments_page2")
        )
        self.routes["zendesk_ticket"] = r.get(url__regex=ZENDESK_TICKET).mock(side_effect=_zendesk_ticket)
        self.routes["stripe_search"] = r.get(STRIPE_SEARCH).respond(
            200, json=stripe.search_page([stripe_customer()], None)
        )
        self.routes["stripe_customer"] = r.get(url__regex=STRIPE_CUSTOMER).respond(
            200, json=stripe.fixture("customer")
        )
        r.get(STRIPE_INVOICES, params__contains={"status": "open"}).respond(
            200, json=stripe.fixture("invoices_open")
        )
        self.routes["stripe_invoices"] = r.get(STRIPE_INVOICES).respond(
            200, json=stripe.fixture("invoices_all")
        )
        self.routes["stripe_subscriptions"] = r.get(STRIPE_SUBSCRIPTIONS).respond(
            200, json=stripe.fixture("subscriptions")
        )
        return self

    def calls(self) -> dict[str, int]:
        return {name: route.call_count for name, route in self.routes.items()}


def _zendesk_ticket(request: httpx.Request, ticket_id: str) -> httpx.Response:
    """Show Ticket for whichever id was asked (the fixture is ticket 35437)."""
    body = zendesk.fixture("ticket")
    body["ticket"]["id"] = int(ticket_id)
    return httpx.Response(200, json=body)


@dataclass
class Slow:
    """A route answer that takes ``delay`` seconds and records whether it was cancelled."""

    delay: float
    response: httpx.Response
    started: int = 0
    finished: int = 0
    cancelled: int = 0
    in_flight: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.started += 1
        self.in_flight.set()
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        return self.response
