"""Chargebee connector (API v1): customers, balances, invoices and subscriptions.

Built from the Nexora Connect ``billing`` template. API root ``https://{site}.chargebee.com``,
paths under ``/api/v1`` (operationIds from Chargebee's own v1 OpenAPI document). Chargebee's v2
document is not available to this project (see the vendor-specs README), so this connector speaks
the legacy v1 API; v2 sites, and Product Catalog 2.0 objects, are not covered yet.

Endpoints:

* ``GET /api/v1/customers?limit=100&offset=`` (list_customers): find_customers, by scanning.
* ``GET /api/v1/customers/{id}`` (retrieve_a_customer) and
  ``GET /api/v1/customers/{id}/invoices`` (list_invoices_for_a_customer): get_balance.
* ``GET /api/v1/customers/{id}/invoices``: list_invoices.
* ``GET /api/v1/customers/{id}/subscriptions`` (list_subscriptions_for_a_customer): list_subscriptions.
* ``GET /api/v1/customers?limit=1``: verify().

Why it is built this way:

* Credentials: the site's API key as the HTTP Basic user name, with an empty password. Vault
  holds an ``api_key`` credential; ``authenticate`` builds the Basic header from it.
* find_customers scans. API v1's customer list has no email or phone filter (v2's ``email[is]``
  and ``phone[is]`` are not in v1, and v1 ignores them silently, so sending them would return
  every customer). The connector reads the list 100 customers a page, up to the
  ``customer_scan_pages`` setting (default 5: the 500 most recent customers), and keeps exact
  matches: email compared case-insensitively, phone compared in E.164 in the tenant's region.
  Records that do not match are dropped as they are read and never leave the connector. When the
  scan stops at the page limit without a match, the call fails with a VendorError saying so,
  rather than reporting "no such customer" for a site it could not search completely; matches
  found before the limit are returned. Each page is a request, so the scan costs one round trip
  per 100 customers: sites with many customers should look billing customers up by an id the
  CRM holds, or move to v2.
* get_balance: v1 customers carry credits (``refundable_credits``, ``excess_payments`` and
  ``account_credits``, the promotional credits) but neither an amount owed nor a currency. The
  balance is the ``amount_due`` of the customer's unpaid invoices (``payment_due``, ``not_paid``)
  minus those credits, in the ``currency`` setting (a v1 site bills in one currency); an unpaid
  invoice in another currency is a ConfigurationError naming the site's currency.
* list_invoices reads the customer's most recent 100 invoices (one page) and returns the unpaid
  ones first: v1 cannot filter invoices by status. ``not_paid`` (every collection attempt failed)
  is overdue, ``payment_due`` (awaiting or retrying payment) is open; v1 invoices have no due date.
* resend_invoice is not implemented: API v1 has no endpoint that emails an invoice.
* Subscriptions: ``non_renewing`` is active and ends at the term end; ``active`` with unpaid
  invoices (``due_invoices_count``) is past due; ``future`` has no shared equivalent (unknown).
* Paths (S1): every request an operation sends is declared on it with ``@endpoints``, and the
  customer id is filled into ``/api/v1/customers/{customer_id}/...`` by the SDK: one encoded
  segment, never ``.``/``..``/a separator in any encoding. (A ``customer_id`` of ``..`` once
  turned ``/customers/../invoices`` into ``/api/v1/invoices``: every customer's invoices.) Lists
  page with the ``next_offset`` value sent as a query parameter; no vendor URL is ever followed.
* Errors: Chargebee answers ``{"message", "type", "api_error_code", ...}``; only
  ``api_error_code`` is surfaced (``message`` can quote customer data). Chargebee sends no request
  id header. All calls are reads, so all are retried on 429 and 5xx.
* Rate limits: API v1 documents per-minute limits per site but no rate-limit headers, only the
  429 (``api_request_limit_exceeded``), so there is nothing to pace by: the SDK's default
  ``rate_limit_state`` finds nothing in Chargebee's answers. A 429 is retried after the policy's
  back-off (or ``Retry-After`` when sent).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.billing.chargebee import _parse as parse
from sdk import (
    BillingCustomer,
    ConfigurationError,
    InvalidArgumentsError,
    Invoice,
    Money,
    Subscription,
    VendorError,
)
from sdk.authoring import BillingConnector, endpoints, paginate
from sdk.parsing import Subdomain, code_token, obj, parse_each, response_json, text
from vault import ApiKeyCredential, Credential

__all__ = ["ChargebeeConnector", "ChargebeeSettings"]

CUSTOMERS = "/api/v1/customers"
CUSTOMER = "/api/v1/customers/{customer_id}"
INVOICES = "/api/v1/customers/{customer_id}/invoices"
SUBSCRIPTIONS = "/api/v1/customers/{customer_id}/subscriptions"

PAGE_SIZE = 100  # Chargebee's largest page
MAX_CUSTOMERS = 10  # matching customers returned
MAX_INVOICE_PAGES = 5  # get_balance reads at most 500 invoices of one customer
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class ChargebeeSettings(BaseModel):
    """Which Chargebee site an integration reads, and how it looks customers up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: Annotated[
        Subdomain,
        Field(description="The site: 'acme' for https://acme.chargebee.com, 'acme-test' for its test site."),
    ]
    currency: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z]{3}$",
            description="The site's currency (ISO 4217); API v1 customers carry none, so balances use it.",
        ),
    ]
    customer_scan_pages: Annotated[
        int,
        Field(
            ge=1,
            le=20,
            description="How many pages of 100 customers find_customers reads (API v1 cannot filter).",
        ),
    ] = 5

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class ChargebeeConnector(BillingConnector):
    """Billing customers, balances, invoices and subscriptions in Chargebee (API v1)."""

    name: ClassVar[str] = "chargebee"
    display_name: ClassVar[str] = "Chargebee"
    base_url: ClassVar[str] = "https://{site}.chargebee.com"
    credential_types: ClassVar[tuple[type[Credential], ...]] = (ApiKeyCredential,)
    Settings: ClassVar[type[BaseModel]] = ChargebeeSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ()  # Chargebee sends none
    idempotency_header: ClassVar[str | None] = None  # every operation is a read

    # --- override points -----------------------------------------------------------------

    def authenticate(self, request: httpx.Request, credential: Credential) -> None:
        """Send the API key as the Basic user name with an empty password, as Chargebee expects."""
        if not isinstance(credential, ApiKeyCredential):
            super().authenticate(request, credential)
            return
        request.headers["Authorization"] = self.basic_authorization(credential.api_key.get_secret_value(), "")

    def error_code(self, response: httpx.Response) -> str | None:
        """Return ``api_error_code``; ``message`` can quote customer data."""
        payload = response_json(response)
        return code_token(payload.get("api_error_code"), _ERROR_CODE) if isinstance(payload, dict) else None

    @endpoints(f"GET {CUSTOMERS}")
    async def verify(self) -> None:
        """One cheap authenticated read: the first customer of the site."""
        await self.http.request("GET", CUSTOMERS, params={"limit": 1})

    # --- operations ------------------------------------------------------------------------

    @endpoints(f"GET {CUSTOMERS}")
    async def find_customers(
        self, phone: str | None = None, email: str | None = None
    ) -> list[BillingCustomer]:
        """Find billing customers whose phone number or email matches the caller's (by scanning)."""
        wanted_email = email.casefold() if email is not None else None
        wanted_phone = self.caller_e164(phone) if phone is not None else None
        if wanted_email is None and wanted_phone is None:
            raise InvalidArgumentsError("find_customers: pass the caller's phone or email (or both)")
        complete = False

        async def fetch(offset: str | None) -> tuple[list[BillingCustomer], str | None]:
            nonlocal complete
            items, following = await self._page(CUSTOMERS, {}, offset)
            complete = following is None

            def match(entry: Mapping[str, Any]) -> BillingCustomer | None:
                if not self._matches(obj(entry["customer"]), wanted_email, wanted_phone):
                    return None
                return parse.customer(entry, self.integration, self.phone_e164)

            found = [c for c in parse_each(items, match, what="customer") if c is not None]
            return found, following

        # A search for the caller: a loop returns the matches found so far, flagged truncated. No
        # ``key``: a page here is only its matches, so "nothing new" cannot tell a loop.
        matches = await paginate(
            fetch, max_items=MAX_CUSTOMERS, max_pages=self._settings.customer_scan_pages, partial=True
        )
        if not matches and not complete:
            raise VendorError(
                f"Chargebee API v1 cannot search customers by email or phone, and no match was found in "
                f"the {self._settings.customer_scan_pages * PAGE_SIZE} most recent customers read; raise "
                "the integration's customer_scan_pages setting or look the customer up by id",
                method="GET",
                path=CUSTOMERS,
            )
        return matches

    @endpoints(f"GET {CUSTOMER}", f"GET {INVOICES}")
    async def get_balance(self, customer_id: str) -> Money:
        """Unpaid invoices' amount due minus the customer's credits, in the site's currency."""
        customer_data: Any
        invoices: list[Mapping[str, Any]] | BaseException
        # Two independent reads: run them together, a voice caller is waiting.
        customer_data, invoices = await asyncio.gather(
            self.http.json("GET", CUSTOMER, path_params={"customer_id": customer_id}),
            self._invoices(customer_id, MAX_INVOICE_PAGES * PAGE_SIZE, complete=True),
            return_exceptions=True,
        )
        if isinstance(customer_data, BaseException):
            raise customer_data
        if isinstance(invoices, BaseException):
            raise invoices
        currency = self._settings.currency
        owed = 0
        for entry in invoices:
            # Strict: a balance computed without one of the unpaid invoices would misstate the debt.
            invoice = obj(entry["invoice"])
            if invoice.get("status") not in parse.UNPAID:
                continue
            if str(invoice.get("currency_code", "")).upper() != currency:
                raise ConfigurationError(
                    f"this Chargebee site bills in {str(invoice.get('currency_code')).upper()!r}, not in "
                    f"{currency!r}: correct the integration's currency setting"
                )
            owed += parse.amount(invoice.get("amount_due"))
        credits = parse.credits(obj(obj(customer_data)["customer"]))
        return Money(amount_minor=owed - credits, currency=currency)

    @endpoints(f"GET {INVOICES}")
    async def list_invoices(self, customer_id: str, limit: int = 10) -> list[Invoice]:
        """The customer's invoices, overdue and open ones first, newest first within each group."""
        items = await self._invoices(customer_id, PAGE_SIZE)
        invoices = parse_each(
            items, lambda entry: parse.invoice(obj(entry["invoice"]), self.integration), what="invoice"
        )
        return sorted(invoices, key=parse.invoice_rank)[:limit]

    @endpoints(f"GET {SUBSCRIPTIONS}")
    async def list_subscriptions(self, customer_id: str, limit: int = 10) -> list[Subscription]:
        """The customer's subscriptions, most recent first."""
        ids = {"customer_id": customer_id}

        async def fetch(offset: str | None) -> tuple[list[Subscription], str | None]:
            items, following = await self._page(SUBSCRIPTIONS, ids, offset, size=min(limit, PAGE_SIZE))
            found = parse_each(
                items,
                lambda entry: parse.subscription(obj(entry["subscription"]), self.integration),
                what="subscription",
            )
            return found, following

        # Offsets: a subscription served twice is returned once; a loop returns what arrived.
        return await paginate(fetch, max_items=limit, key=lambda found: found.id, partial=True)

    # --- helpers ---------------------------------------------------------------------------

    @property
    def _settings(self) -> ChargebeeSettings:
        return self.settings_as(ChargebeeSettings)

    def _matches(self, record: Mapping[str, Any], email: str | None, e164: str | None) -> bool:
        """Exact match only: a near miss is somebody else's billing account."""
        stored_email = text(record.get("email"))
        if email is not None and stored_email is not None and stored_email.casefold() == email:
            return True
        return e164 is not None and self.phone_e164(text(record.get("phone"))) == e164

    async def _page(
        self, template: str, ids: Mapping[str, str], offset: str | None, *, size: int = PAGE_SIZE
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        """One page of a v1 list: ``{"list": [...], "next_offset": "..."}`` (no next_offset: last page).

        ``template`` is a declared endpoint and ``ids`` its placeholders' values; the vendor's
        ``next_offset`` only ever travels as a query value, never as part of the path.
        """
        params: dict[str, Any] = {"limit": size}
        if offset is not None:
            params["offset"] = offset
        return parse.page(await self.http.json("GET", template, path_params=ids, params=params))

    async def _invoices(
        self, customer_id: str, max_items: int, *, complete: bool = False
    ) -> list[Mapping[str, Any]]:
        """Up to ``max_items`` invoice list entries (``{"invoice": {...}}``) of a customer, newest first.

        With ``complete``, a customer with more invoices than that is a VendorError: a balance
        computed from part of the invoices would be wrong.
        """
        ids = {"customer_id": customer_id}
        more = False

        async def fetch(offset: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            nonlocal more
            items, following = await self._page(INVOICES, ids, offset)
            more = following is not None
            return items, following

        # A balance summed over part of the invoices would be wrong: then a loop is an error.
        invoices = await paginate(
            fetch, max_items=max_items, max_pages=max(1, max_items // PAGE_SIZE), partial=not complete
        )
        if complete and more:
            raise VendorError(
                f"the customer has more than {max_items} invoices; the balance cannot be computed from "
                "Chargebee API v1 without reading them all",
                method="GET",
                path=INVOICES,
            )
        return invoices
