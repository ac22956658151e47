"""The Xero billing connector: contacts, balances, open invoices and repeating invoices.

API: the Xero Accounting API at ``https://api.xero.com/api.xro/2.0`` (contract: XeroAPI/Xero-OpenAPI
16.1.0, ``xero_accounting.yaml``) and the identity API's ``GET /Connections`` on the same host. The
base URL is the host, so both are declared and sent relative to it.

Credentials (OAuth 2.0 only; Xero has no API keys), token endpoint
``https://identity.xero.com/connect/token`` with the client in HTTP Basic:

* ``oauth2_refresh``: a Xero app's ``client_id``, ``client_secret`` and the ``refresh_token`` of
  the tenant's one-time consent (scopes ``offline_access accounting.contacts.read
  accounting.transactions accounting.settings.read``). Access tokens last 30 minutes and stay in
  memory. **Every refresh rotates the refresh token** (the old one works for 30 minutes more, then
  never): the SDK writes the new one back to Vault under its single-flight refresh lock, with
  check-and-set, so concurrent calls and processes never spend one twice.
* ``oauth2_client``: a Xero *custom connection* (client credentials grant; one organisation).

Which organisation (``xero-tenant-id`` header, sent on every Accounting request): the setting
``tenant_id`` when given. Without it, the first call of the integration reads ``GET /Connections``
once (single flight) and uses the only ``ORGANISATION`` connection; none or several is a
ConfigurationError asking for ``tenant_id``, because picking one of several organisations would
read another business's books. ``verify()`` checks the configured organisation is among the
token's connections.

Operations:

* ``find_customers``: by email, ``GET /Contacts?where=EmailAddress=="…"`` (an optimised Xero filter;
  values escaped by ``_where``), each hit re-checked case-insensitively. By phone: Xero has no phone
  filter and stores numbers split into country, area and number fields as typed, so the most
  recently updated customer contacts (``IsCustomer==true``, up to ``PHONE_SCAN_PAGES`` pages of 100)
  are read and their numbers compared in E.164. Organisations with more customers than that should
  look callers up by email.
* ``get_balance``: ``GET /Contacts/{id}``' accounts-receivable ``Outstanding`` (owed positive), in
  the organisation's base currency (``GET /Organisation``, read once).
* ``list_invoices``: the contact's sales invoices awaiting payment (``Type=="ACCREC"``,
  ``Statuses=AUTHORISED``), overdue first. Paid, draft and voided invoices are not listed: a caller
  asks about what they owe, and listing only those cannot drop an old unpaid one past ``limit``.
* ``list_subscriptions``: the contact's repeating invoices (``GET /RepeatingInvoices?where=
  Contact.ContactID==Guid(…)``), Xero's recurring billing. ``current_period_end`` is the next
  scheduled invoice date; a schedule whose end date passed is canceled.
* ``resend_invoice`` (``invoices:write``): ``POST /Invoices/{id}/Email`` (204, body ``{}``) with an
  ``Idempotency-Key`` (Xero honours it on this endpoint, so a retry is safe), then the invoice.
* ``verify``: ``GET /Connections`` then ``GET /Organisation``.

Errors carry Xero's ``Xero-Correlation-Id`` and the error body's ``Type`` (``ValidationException``),
never its ``Message`` or ``Elements``, which quote the records.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict, Field

from connectors.billing.xero import _parse as parse
from connectors.billing.xero import _where as where
from sdk import BillingCustomer, ConfigurationError, InvalidArgumentsError, Invoice, Money, Subscription
from sdk.authoring import BillingConnector, endpoints, paginate
from sdk.parsing import code_token, obj, object_list, parse_each, response_json, text
from vault import Credential, OAuth2ClientCredential, OAuth2RefreshCredential, TokenEndpoint

__all__ = ["TOKEN_URL", "XeroConnector", "XeroSettings"]

TOKEN_URL = "https://identity.xero.com/connect/token"  # noqa: S105 - a URL, not a password
ACCOUNTING = "/api.xro/2.0"
CONNECTIONS = "/Connections"
ORGANISATION = f"{ACCOUNTING}/Organisation"
CONTACTS = f"{ACCOUNTING}/Contacts"
CONTACT = f"{ACCOUNTING}/Contacts/{{customer_id}}"
INVOICES = f"{ACCOUNTING}/Invoices"
INVOICE = f"{ACCOUNTING}/Invoices/{{invoice_id}}"
INVOICE_EMAIL = f"{ACCOUNTING}/Invoices/{{invoice_id}}/Email"
REPEATING = f"{ACCOUNTING}/RepeatingInvoices"

MAX_CUSTOMERS = 25
PHONE_SCAN_PAGES = 3
PAGE_SIZE = 100  # Xero's default page; it accepts up to 1000
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


class XeroSettings(BaseModel):
    """Settings of a Xero integration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: UUID | None = Field(
        default=None,
        description=(
            "The Xero organisation (tenantId from GET https://api.xero.com/connections) whose books "
            "this integration reads. Required when the consent covers several organisations; when "
            "omitted, the only organisation the credential is connected to is used."
        ),
    )


def _today() -> date:
    return datetime.now(UTC).date()


class XeroConnector(BillingConnector):
    """Xero Accounting: contacts, balances, invoices awaiting payment and repeating invoices."""

    name: ClassVar[str] = "xero"
    display_name: ClassVar[str] = "Xero"
    base_url: ClassVar[str] = "https://api.xero.com"
    credential_types: ClassVar[tuple[type[Credential], ...]] = (
        OAuth2RefreshCredential,
        OAuth2ClientCredential,
    )
    Settings: ClassVar[type[BaseModel]] = XeroSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ("xero-correlation-id",)
    idempotency_header: ClassVar[str | None] = "Idempotency-Key"
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tenant_lock = asyncio.Lock()
        self._resolved_tenant: str | None = None
        self._base_currency: str | None = None

    # --- override points -------------------------------------------------------------

    def token_endpoint(self, base_url: str) -> TokenEndpoint:
        """Xero's identity server (not on the API host); a ``token_url`` in Vault overrides it."""
        return TokenEndpoint(url=TOKEN_URL, auth_method="client_secret_basic")

    def error_code(self, response: httpx.Response) -> str | None:
        """``Type`` of an API exception (``ValidationException``), else ``Detail`` of a problem document."""
        body = response_json(response)
        if not isinstance(body, dict):
            return None
        return code_token(body.get("Type"), _ERROR_CODE) or code_token(body.get("Detail"), _ERROR_CODE)

    @endpoints(f"GET {CONNECTIONS}", f"GET {ORGANISATION}")
    async def verify(self) -> None:
        """Prove the token reaches the organisation: it is connected, and its settings can be read."""
        tenants = await self._connections()
        configured = self._settings.tenant_id
        if configured is not None and str(configured) not in tenants:
            raise ConfigurationError(
                f"the Xero organisation in the settings of integration {self.integration!r} is not one the "
                "stored credential is connected to; check tenant_id against GET /connections"
            )
        await self._organisation_currency()

    # --- operations ------------------------------------------------------------------

    @endpoints(f"GET {CONNECTIONS}", f"GET {CONTACTS}")
    async def find_customers(
        self, phone: str | None = None, email: str | None = None
    ) -> list[BillingCustomer]:
        if phone is None and email is None:
            raise InvalidArgumentsError("find_customers: pass the caller's phone or email (or both)")
        matching: list[Mapping[str, Any]] = []
        if email is not None:
            match = where.all_of([where.equals("EmailAddress", email, argument="email")])
            wanted = email.casefold()
            for item in await self._pages(CONTACTS, {"where": match}, MAX_CUSTOMERS):
                if (text(item.get("EmailAddress")) or "").casefold() == wanted:
                    matching.append(item)
        if phone is not None:
            caller = self.caller_e164(phone)
            customers = where.all_of([where.equals_constant("IsCustomer", "true")])
            scan = {"where": customers, "order": "UpdatedDateUTC DESC"}
            for item in await self._pages(CONTACTS, scan, PAGE_SIZE * PHONE_SCAN_PAGES, size=PAGE_SIZE):
                if parse.matches_phone(item, caller, self.phone_e164):
                    matching.append(item)
        found: dict[str, BillingCustomer] = {}
        for customer in parse_each(matching, self._customer, what="contact"):
            found.setdefault(customer.id, customer)
        return list(found.values())[:MAX_CUSTOMERS]

    @endpoints(f"GET {CONNECTIONS}", f"GET {CONTACT}", f"GET {ORGANISATION}")
    async def get_balance(self, customer_id: str) -> Money:
        where.equals_guid("ContactID", customer_id, argument="customer_id")
        data = await self.http.json(
            "GET", CONTACT, path_params={"customer_id": customer_id}, headers=await self._tenant_header()
        )
        contacts = parse.contacts(data)
        if len(contacts) != 1:
            raise ValueError("expected exactly one contact")
        return parse.balance(contacts[0], await self._organisation_currency())

    @endpoints(f"GET {CONNECTIONS}", f"GET {INVOICES}")
    async def list_invoices(self, customer_id: str, limit: int = 10) -> list[Invoice]:
        where.equals_guid("ContactID", customer_id, argument="customer_id")
        params = {
            "where": where.all_of([where.equals_constant("Type", "ACCREC")]),
            "ContactIDs": customer_id,
            "Statuses": "AUTHORISED",
            "order": "DueDate ASC",
        }
        today = _today()
        items = await self._pages(INVOICES, params, limit, "Invoices")
        invoices = parse_each(
            items, lambda item: parse.invoice(item, self.integration, today), what="invoice"
        )
        return sorted(invoices, key=parse.invoice_rank)[:limit]

    @endpoints(f"GET {CONNECTIONS}", f"GET {REPEATING}")
    async def list_subscriptions(self, customer_id: str, limit: int = 10) -> list[Subscription]:
        match = where.all_of(
            [
                where.equals_guid("Contact.ContactID", customer_id, argument="customer_id"),
                where.equals_constant("Type", "ACCREC"),
            ]
        )
        data = obj(
            await self.http.json(
                "GET", REPEATING, params={"where": match}, headers=await self._tenant_header()
            )
        )
        today = _today()
        items = object_list(data, "RepeatingInvoices")[:limit]
        return parse_each(
            items, lambda item: parse.subscription(item, self.integration, today), what="repeating_invoice"
        )

    @endpoints(f"GET {CONNECTIONS}", f"POST {INVOICE_EMAIL}", f"GET {INVOICE}")
    async def resend_invoice(self, invoice_id: str) -> Invoice:
        where.equals_guid("InvoiceID", invoice_id, argument="invoice_id")
        headers = await self._tenant_header()
        sent = await self.http.request(
            "POST",
            INVOICE_EMAIL,
            path_params={"invoice_id": invoice_id},
            json={},
            headers=headers,
            idempotency_key=str(uuid.uuid4()),
        )
        self.http.parse_json(sent)  # Xero answers 204; any body must at least be JSON
        data = await self.http.json("GET", INVOICE, path_params={"invoice_id": invoice_id}, headers=headers)
        invoices = object_list(obj(data), "Invoices")
        if len(invoices) != 1:
            raise ValueError("expected exactly one invoice")
        return parse.invoice(invoices[0], self.integration, _today())

    # --- helpers ---------------------------------------------------------------------

    @property
    def _settings(self) -> XeroSettings:
        return self.settings_as(XeroSettings)

    def _customer(self, item: Mapping[str, Any]) -> BillingCustomer:
        return parse.customer(item, self.integration, self.phone_e164)

    async def _connections(self) -> list[str]:
        return parse.connection_tenants(await self.http.json("GET", CONNECTIONS))

    async def _tenant_header(self) -> dict[str, str]:
        """``xero-tenant-id``: the configured organisation, else the only one connected (read once)."""
        configured = self._settings.tenant_id
        if configured is not None:
            return {"xero-tenant-id": str(configured)}
        async with self._tenant_lock:
            if self._resolved_tenant is None:
                tenants = await self._connections()
                if len(tenants) != 1:
                    raise ConfigurationError(
                        f"integration {self.integration!r} has no tenant_id setting and its Xero credential "
                        f"is connected to {len(tenants)} organisations; set tenant_id to the one to use"
                    )
                self._resolved_tenant = tenants[0]
        return {"xero-tenant-id": self._resolved_tenant}

    async def _organisation_currency(self) -> str:
        if self._base_currency is None:
            data = await self.http.json("GET", ORGANISATION, headers=await self._tenant_header())
            organisations = object_list(obj(data), "Organisations")
            currency = text(organisations[0].get("BaseCurrency")) if organisations else None
            if currency is None or not re.fullmatch(r"[A-Z]{3}", currency):
                raise ValueError("the organisation has no base currency")
            self._base_currency = currency
        return self._base_currency

    async def _pages(
        self, path: str, params: Mapping[str, Any], limit: int, key: str = "Contacts", *, size: int = 0
    ) -> list[Mapping[str, Any]]:
        """Up to ``limit`` records of a paged list (``page``/``pageSize``; Xero's ``pagination`` block).

        A page holding only records already seen means the vendor is serving one page again: the
        walk stops there (see :func:`sdk.authoring.paginate`).
        """
        headers = await self._tenant_header()
        page_size = size or min(max(limit, 1), PAGE_SIZE)

        async def fetch(cursor: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            page = int(cursor or "1")
            query = {**params, "page": page, "pageSize": page_size}
            body = obj(await self.http.json("GET", path, params=query, headers=headers))
            items = object_list(body, key)
            following = parse.next_page(body, page, len(items), page_size)
            return items, None if following is None else str(following)

        # Page numbers are offsets: a record served twice is returned once, and a page of records
        # already served stops the walk with what arrived (flagged truncated); a search or a list
        # read out to a caller is worth more than an error.
        return await paginate(fetch, max_items=limit, max_pages=PHONE_SCAN_PAGES, key=_identity, partial=True)


def _identity(item: Mapping[str, Any]) -> str:
    """A Xero record's id (a contact's or an invoice's), for de-duplicating offset pages."""
    return str(item.get("ContactID") or item.get("InvoiceID"))
