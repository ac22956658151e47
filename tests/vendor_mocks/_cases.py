"""Every implemented operation of every connector with a vendor document, as run against Prism.

Arguments and settings are chosen so that the documents' static examples describe the records the
operation reads (e.g. the JSM desk and project of Atlassian's examples), so a static run parses
real example records instead of an empty list. ``test_every_implemented_operation_has_a_case``
fails when a connector gains an operation without a case here.

Salesforce has no vendor document (Salesforce publishes none for the sObjects REST API; see
``shared/vendor-specs/README.md``), so it has no mock and no case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from sdk.testing import make_canary
from tests.vendor_mocks._transport import Route
from vault import ApiKeyCredential, BasicCredential, Credential, OAuth2ClientCredential

__all__ = ["CASES", "CONNECTORS", "NO_DOCUMENT", "Case", "Target"]

NO_DOCUMENT = {"salesforce": "Salesforce publishes no static OpenAPI document for its REST API"}

CALLER_EMAIL = "caller@example.com"
JSM_CUSTOMER = "fred@example.com"  # the customer in Atlassian's getCustomers example
CALLER_PHONE = "+64 21 555 0123"
CLOUD_ID = "0d4f5c4e-2b6a-4c1e-9f3d-7a8b9c0d1e2f"
XERO_TENANT = "fe79f7dd-b6d4-4a92-ba7b-538af6289c58"  # the organisation of Xero's /Connections example
XERO_CONTACT = "8138a266-fb42-49b2-a104-014b7045753d"  # Xero's getContact example
XERO_INVOICE = "a03ffcd2-5d91-4c7e-b483-318584e9e439"  # Xero's getInvoice example


@dataclass(frozen=True)
class Target:
    """How one connector is configured to reach its mocks."""

    key: str  # report name: the connector, plus the auth scheme where there are several
    connector: str
    mocks: tuple[str, ...]
    routes: tuple[Route, ...]
    credential: Callable[[str | None], Credential]  # given the token endpoint URL, if any
    settings: Mapping[str, Any]
    base_path: str = ""  # the part of the API root after the host (Atlassian's gateway prefix)
    token_endpoint: bool = False  # the credential is OAuth: a loopback token endpoint is needed
    auth_scheme: str = "Bearer"  # what every request must carry


@dataclass(frozen=True)
class Case:
    target: Target
    label: str
    operation: str  # "verify" runs NexoraConnect.verify
    arguments: Mapping[str, Any] = field(default_factory=dict)
    write_scope: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)  # on top of the target's
    pending: str | None = None  # the static run is a strict xfail until this lands

    @property
    def id(self) -> str:
        return f"{self.target.key}-{self.label}"


def _bearer(_: str | None) -> Credential:
    return ApiKeyCredential(type="api_key", api_key=SecretStr(make_canary("api-key")))


def _basic(user: str) -> Callable[[str | None], Credential]:
    def build(_: str | None) -> Credential:
        return BasicCredential(type="basic", username=user, password=SecretStr(make_canary("api-token")))

    return build


def _atlassian_oauth(token_url: str | None) -> Credential:
    return OAuth2ClientCredential(
        type="oauth2_client",
        client_id="nexora-test-client",
        client_secret=SecretStr(make_canary("client-secret")),
        token_url=token_url,
    )


HUBSPOT = Target(
    "hubspot",
    "hubspot",
    ("hubspot-contacts", "hubspot-companies", "hubspot-notes"),
    (
        Route("/crm/v3/objects/contacts", "hubspot-contacts"),
        Route("/crm/v3/objects/companies", "hubspot-companies"),
        Route("/crm/v3/objects/notes", "hubspot-notes"),
    ),
    _bearer,
    {},
)
ZENDESK = Target(
    "zendesk",
    "zendesk",
    ("zendesk",),
    (Route("/api/v2/", "zendesk"),),
    _basic("agent@example.com/token"),
    {"subdomain": "acme"},
    auth_scheme="Basic",
)
_JSM_ROUTES = (Route("/rest/api/3/", "jira-search"), Route("/rest/servicedeskapi/", "jsm"))
_JSM_SETTINGS = {"service_desk_id": "10", "project_key": "HELPDESK", "request_type_id": "25"}
JSM_BASIC = Target(
    "jsm-basic",
    "jsm",
    ("jsm", "jira-search"),
    _JSM_ROUTES,
    _basic("agent@example.com"),
    {"site": "acme", **_JSM_SETTINGS},
    auth_scheme="Basic",
)
JSM_OAUTH = Target(
    "jsm-oauth",
    "jsm",
    ("jsm", "jira-search"),
    tuple(Route(r.prefix, r.mock, strip=f"/ex/jira/{CLOUD_ID}") for r in _JSM_ROUTES),
    _atlassian_oauth,
    {"cloud_id": CLOUD_ID, **_JSM_SETTINGS},
    base_path=f"/ex/jira/{CLOUD_ID}",
    token_endpoint=True,
)
STRIPE = Target("stripe", "stripe", ("stripe",), (Route("/v1/", "stripe"),), _bearer, {})
CHARGEBEE = Target(
    "chargebee",
    "chargebee",
    ("chargebee",),
    (Route("/customers", "chargebee", strip="/api/v1"),),
    _bearer,
    {"site": "acme-test", "currency": "USD"},
    auth_scheme="Basic",  # the API key as the Basic user name
)


def _xero_custom_connection(token_url: str | None) -> Credential:
    """A Xero custom connection (client credentials): the OAuth flow a loopback token endpoint can serve.

    The refresh-token flow needs a credential store that writes rotated tokens back, which the
    runs' in-memory store is not; ``tests/connectors/test_xero.py`` covers rotation.
    """
    return OAuth2ClientCredential(
        type="oauth2_client",
        client_id="nexora-test-client",
        client_secret=SecretStr(make_canary("client-secret")),
        token_url=token_url,
    )


XERO = Target(
    "xero",
    "xero",
    ("xero", "xero-identity"),
    # Prism serves the Accounting document without its server's /api.xro/2.0 base path.
    (Route("/Connections", "xero-identity"), Route("/", "xero", strip="/api.xro/2.0")),
    _xero_custom_connection,
    {"tenant_id": XERO_TENANT},
    token_endpoint=True,
)
INTERCOM = Target(
    "intercom",
    "intercom",
    ("intercom",),
    (
        Route("/contacts", "intercom"),
        Route("/companies", "intercom"),
        Route("/conversations", "intercom"),
        Route("/me", "intercom"),
    ),
    _bearer,
    {"region": "us"},
)
CONNECTORS = (HUBSPOT, ZENDESK, JSM_BASIC, JSM_OAUTH, STRIPE, CHARGEBEE, XERO, INTERCOM)


def _jsm_cases(target: Target) -> list[Case]:
    return [
        # Atlassian's getServiceDeskById example is desk 10001 of project ITH.
        Case(target, "verify", "verify", settings={"service_desk_id": "10001", "project_key": "ITH"}),
        # The Jira search example's issue is ED-1: the project must be ED for it to be ours.
        Case(
            target,
            "list_tickets(email)",
            "list_tickets",
            {"email": JSM_CUSTOMER},
            settings={"project_key": "ED"},
        ),
        Case(target, "get_ticket", "get_ticket", {"ticket_id": "HELPDESK-1"}),
        Case(
            target,
            "create_ticket",
            "create_ticket",
            {"subject": "Router drops", "body": "Since Monday.", "email": JSM_CUSTOMER},
            "tickets:write",
        ),
        Case(
            target,
            "add_comment",
            "add_comment",
            {"ticket_id": "HELPDESK-1", "body": "Called back."},
            "comments:write",
        ),
    ]


CASES: tuple[Case, ...] = (
    # Intercom: the ids are the ones in Intercom's own examples.
    Case(INTERCOM, "verify", "verify"),
    Case(INTERCOM, "find_contacts(email)", "find_contacts", {"email": CALLER_EMAIL}),
    Case(INTERCOM, "find_contacts(phone)", "find_contacts", {"phone": CALLER_PHONE}),
    Case(INTERCOM, "get_contact", "get_contact", {"contact_id": "6762f0d01bb69f9f2193bb7d"}),
    Case(INTERCOM, "get_account", "get_account", {"account_id": "6762f07f1bb69f9f2193baf5"}),
    Case(INTERCOM, "list_conversations", "list_conversations", {"contact_id": "6762f14a1bb69f9f2193bbb3"}),
    Case(
        INTERCOM,
        "create_note",
        "create_note",
        {"contact_id": "6762f0ad1bb69f9f2193bb62", "body": "Called back."},
        "notes:write",
    ),
    Case(HUBSPOT, "verify", "verify"),
    Case(HUBSPOT, "find_contacts(phone)", "find_contacts", {"phone": CALLER_PHONE}),
    Case(HUBSPOT, "find_contacts(email)", "find_contacts", {"email": CALLER_EMAIL}),
    Case(HUBSPOT, "get_contact", "get_contact", {"contact_id": "512"}),
    Case(HUBSPOT, "get_account", "get_account", {"account_id": "512"}),
    Case(HUBSPOT, "create_note", "create_note", {"contact_id": "512", "body": "Called back."}, "notes:write"),
    Case(ZENDESK, "verify", "verify"),
    Case(ZENDESK, "list_tickets(email)", "list_tickets", {"email": CALLER_EMAIL}),
    Case(ZENDESK, "list_tickets(phone)", "list_tickets", {"phone": CALLER_PHONE}),
    Case(ZENDESK, "get_ticket", "get_ticket", {"ticket_id": "35436"}),
    Case(
        ZENDESK,
        "create_ticket",
        "create_ticket",
        {"subject": "Router drops", "body": "Since Monday.", "email": CALLER_EMAIL},
        "tickets:write",
    ),
    Case(
        ZENDESK,
        "add_comment",
        "add_comment",
        {"ticket_id": "35436", "body": "Called back."},
        "comments:write",
    ),
    *_jsm_cases(JSM_BASIC),
    *_jsm_cases(JSM_OAUTH),
    Case(STRIPE, "verify", "verify"),
    Case(STRIPE, "find_customers(phone)", "find_customers", {"phone": CALLER_PHONE}),
    Case(STRIPE, "find_customers(email)", "find_customers", {"email": CALLER_EMAIL}),
    Case(STRIPE, "get_balance", "get_balance", {"customer_id": "cus_NffrFeUfNV2Hib"}),
    Case(STRIPE, "list_invoices", "list_invoices", {"customer_id": "cus_NffrFeUfNV2Hib"}),
    Case(STRIPE, "list_subscriptions", "list_subscriptions", {"customer_id": "cus_NffrFeUfNV2Hib"}),
    Case(
        STRIPE,
        "resend_invoice",
        "resend_invoice",
        {"invoice_id": "in_1MtHbELkdIwHu7ixl4OzzPMv"},
        "invoices:write",
    ),
    Case(CHARGEBEE, "verify", "verify"),
    Case(CHARGEBEE, "find_customers(email)", "find_customers", {"email": "user@example.com"}),
    Case(CHARGEBEE, "find_customers(phone)", "find_customers", {"phone": CALLER_PHONE}),
    Case(CHARGEBEE, "get_balance", "get_balance", {"customer_id": "cust_1"}),
    Case(CHARGEBEE, "list_invoices", "list_invoices", {"customer_id": "cust_1"}),
    Case(CHARGEBEE, "list_subscriptions", "list_subscriptions", {"customer_id": "cust_1"}),
    Case(XERO, "verify", "verify"),
    Case(XERO, "find_customers(email)", "find_customers", {"email": "kat.warren@clampett.com"}),
    Case(XERO, "find_customers(phone)", "find_customers", {"phone": CALLER_PHONE}),
    Case(XERO, "get_balance", "get_balance", {"customer_id": XERO_CONTACT}),
    Case(XERO, "list_invoices", "list_invoices", {"customer_id": XERO_CONTACT}),
    # No tenant_id: the organisation is resolved through GET /Connections first.
    Case(
        XERO,
        "list_invoices(tenant from /Connections)",
        "list_invoices",
        {"customer_id": XERO_CONTACT},
        settings={"tenant_id": None},
    ),
    Case(XERO, "list_subscriptions", "list_subscriptions", {"customer_id": XERO_CONTACT}),
    Case(XERO, "resend_invoice", "resend_invoice", {"invoice_id": XERO_INVOICE}, "invoices:write"),
)
