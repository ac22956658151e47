"""The Stripe billing connector: customers, balances, invoices and subscriptions.

API: Stripe REST at ``https://api.stripe.com/v1``, pinned to API version
``2023-08-16`` (the version of the OpenAPI document the contract tests use) with
the ``Stripe-Version`` header, so a change of the account's default version
cannot change the payloads parsed here. Keys (secret ``sk_`` or restricted
``rk_``) go in ``Authorization: Bearer``. Request bodies are form-encoded.

Operations and paths:

* ``find_customers``: ``GET /v1/customers/search`` (Search API), one query of
  ``email:'…'`` and ``phone:'…'`` clauses joined with ``OR``, paged with
  ``page``/``next_page``. Values are quoted and escaped (see ``_query``). The
  phone is searched in the forms people store it in, not only E.164, because
  Stripe matches the stored text exactly. Search is eventually consistent
  (about a minute; longer during incidents) and not offered to merchants in
  India; the list endpoint's ``email`` filter would be consistent but is
  case-sensitive and cannot search phone numbers.
* ``get_balance``: ``GET /v1/customers/{customer_id}``. Stripe's ``balance`` is
  positive when the customer owes and negative for credit, the shared sign.
  ``currency`` is null until the customer is first billed; the balance is then
  necessarily zero and is reported in the integration's ``default_currency``
  setting. A deleted customer (``deleted: true``) is a
  :class:`sdk.VendorNotFoundError`.
* ``list_invoices``: two ``GET /v1/invoices?customer=…`` lists sent
  concurrently, one with ``status=open`` and one of all statuses. Stripe lists
  newest first, so a single list of ``limit`` items would drop an old unpaid
  invoice, which is the one a caller phones about. Overdue (open with a past
  ``due_date``) come first, then open, then the rest, newest first in each.
* ``list_subscriptions``: ``GET /v1/subscriptions?customer=…&status=all``
  (without ``status=all`` Stripe omits canceled ones).
* ``resend_invoice``: ``POST /v1/invoices/{invoice_id}/send``. Every POST carries an
  ``Idempotency-Key`` that retries reuse, so a retried send is sent once.
* ``verify``: ``GET /v1/customers?limit=1``.

Each operation declares exactly these endpoints (S1). Ids reach a path only
through ``path_params``, which the SDK fills with one encoded segment; an id
sent as a list filter (``customer=…``) must pass the same check first, so a
value such as ``..`` is refused whichever way the operation would carry it.

List endpoints page with ``has_more`` and ``starting_after`` (the last id).
Errors carry Stripe's ``Request-Id`` header and the ``error.code`` (else
``error.type``) of the error body; ``error.message`` can quote customer data
and is never read.

Rate limits: Stripe documents no rate-limit headers (per-second limits per
account, signalled only by a 429), so there is nothing to pace by: the SDK's
default ``rate_limit_state`` finds nothing in Stripe's answers, and a 429 is
retried after ``Retry-After`` or the policy's back-off, then held for the
integration until then.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Mapping
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.billing.stripe import _parse, _query
from sdk import BillingCustomer, InvalidArgumentsError, Invoice, Money, Subscription, VendorNotFoundError
from sdk.authoring import BillingConnector, endpoints, paginate
from sdk.parsing import (
    check_record_id,
    code_token,
    listed,
    money,
    obj,
    object_list,
    optional,
    parse_each,
    response_json,
)

__all__ = ["StripeConnector", "StripeSettings"]

API_VERSION = "2023-08-16"
SEARCH_PAGE_SIZE = 10
MAX_CUSTOMERS = 30
MAX_LIST_PAGE = 100  # Stripe's largest page
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")

T = TypeVar("T")

# The requests this connector sends, relative to the API host (S1: each operation declares its own).
SEARCH_PATH = "/v1/customers/search"
CUSTOMERS_PATH = "/v1/customers"
CUSTOMER_PATH = "/v1/customers/{customer_id}"
INVOICES_PATH = "/v1/invoices"
SUBSCRIPTIONS_PATH = "/v1/subscriptions"
SEND_INVOICE_PATH = "/v1/invoices/{invoice_id}/send"


class StripeSettings(BaseModel):
    """Settings of a Stripe integration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_currency: str = Field(
        default="NZD",
        pattern=r"^[A-Za-z]{3}$",
        description=(
            "Currency in which get_balance reports the (zero) balance of a customer Stripe has never "
            "billed, for whom Stripe reports no currency; set it to the Stripe account's default currency."
        ),
    )

    @field_validator("default_currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


async def _all(*calls: Awaitable[T]) -> list[T]:
    """Await concurrently; on the first failure cancel the rest and raise that failure."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


class StripeConnector(BillingConnector):
    """Stripe Billing over the REST API (version 2023-08-16)."""

    name: ClassVar[str] = "stripe"
    display_name: ClassVar[str] = "Stripe"
    base_url: ClassVar[str] = "https://api.stripe.com"
    Settings: ClassVar[type[BaseModel]] = StripeSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ("request-id",)
    idempotency_header: ClassVar[str | None] = "Idempotency-Key"
    auto_idempotency: ClassVar[bool] = True  # Stripe honours the key on every POST
    default_headers: ClassVar[Mapping[str, str]] = {"Stripe-Version": API_VERSION}

    # --- operations ----------------------------------------------------------------

    @endpoints(f"GET {SEARCH_PATH}")
    async def find_customers(
        self, phone: str | None = None, email: str | None = None
    ) -> list[BillingCustomer]:
        if phone is None and email is None:
            raise InvalidArgumentsError("invalid arguments for find_customers: give phone or email (or both)")
        e164: str | None = None
        if phone is not None:
            e164 = self.phone_e164(phone)
            if e164 is None:
                raise InvalidArgumentsError(
                    f"invalid arguments for find_customers: phone: not a phone number in region "
                    f"{self.phone_region} or in international form"
                )
        search = _query.customers_query(email, e164)

        async def page(cursor: str | None) -> tuple[list[BillingCustomer], str | None]:
            params: dict[str, Any] = {"query": search, "limit": SEARCH_PAGE_SIZE}
            if cursor is not None:
                params["page"] = cursor
            body = obj(await self.http.json("GET", SEARCH_PATH, params=params))
            found = parse_each(listed(body, "data"), self._customer, what="customer")
            next_page = body.get("next_page")
            more = body.get("has_more") is True and isinstance(next_page, str) and next_page != ""
            return found, next_page if more else None

        # A search for the caller: a page loop returns the customers found so far, flagged truncated.
        customers = await paginate(page, max_items=MAX_CUSTOMERS, partial=True)
        return list({c.id: c for c in customers}.values())

    @endpoints(f"GET {CUSTOMER_PATH}")
    async def get_balance(self, customer_id: str) -> Money:
        customer = await self.http.json("GET", CUSTOMER_PATH, path_params={"customer_id": customer_id})
        body = obj(customer)
        if body.get("deleted") is True:
            # The template, as the SDK's own errors name it: the id stays out of the error.
            raise VendorNotFoundError(
                "the Stripe customer has been deleted", method="GET", path=CUSTOMER_PATH
            )
        balance = body.get("balance") or 0
        currency = body.get("currency")
        # A zero balance is zero in any currency: one Stripe has not set, or cannot name, is the
        # integration's default. Owed money in an unreadable currency is an error naming the field.
        if balance == 0:
            found = optional(lambda: money(balance, currency), field="customer.currency")
        else:
            found = money(balance, currency)
        if found is not None:
            return found
        if balance != 0:
            raise ValueError("a non-zero balance without a currency")
        return Money(amount_minor=0, currency=self._settings.default_currency)

    @endpoints(f"GET {INVOICES_PATH}")
    async def list_invoices(self, customer_id: str, limit: int = 10) -> list[Invoice]:
        params = {"customer": check_record_id(customer_id, operation="list_invoices", argument="customer_id")}
        open_items, recent_items = await _all(
            self._list(INVOICES_PATH, {**params, "status": "open"}, limit),
            self._list(INVOICES_PATH, params, limit),
        )
        now = time.time()
        invoices = parse_each(
            open_items + recent_items,
            lambda item: _parse.invoice(item, source=self.integration, now=now),
            what="invoice",
        )
        merged = {inv.id: inv for inv in invoices}
        return sorted(merged.values(), key=_parse.invoice_rank)[:limit]

    @endpoints(f"GET {SUBSCRIPTIONS_PATH}")
    async def list_subscriptions(self, customer_id: str, limit: int = 10) -> list[Subscription]:
        customer = check_record_id(customer_id, operation="list_subscriptions", argument="customer_id")
        items = await self._list(SUBSCRIPTIONS_PATH, {"customer": customer, "status": "all"}, limit)
        return parse_each(
            items, lambda item: _parse.subscription(item, source=self.integration), what="subscription"
        )

    @endpoints(f"POST {SEND_INVOICE_PATH}")
    async def resend_invoice(self, invoice_id: str) -> Invoice:
        body = await self.http.json("POST", SEND_INVOICE_PATH, path_params={"invoice_id": invoice_id})
        return _parse.invoice(obj(body), source=self.integration, now=time.time())

    @endpoints(f"GET {CUSTOMERS_PATH}")
    async def verify(self) -> None:
        """One customer of the list: proves the key and its read access to customers."""
        await self.http.request("GET", CUSTOMERS_PATH, params={"limit": 1})

    # --- override points -------------------------------------------------------------

    def error_code(self, response: httpx.Response) -> str | None:
        """Return ``error.code`` (else ``error.type``) of Stripe's error body, if it is a plain code."""
        body = response_json(response)
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return None
        return code_token(error.get("code"), _ERROR_CODE) or code_token(error.get("type"), _ERROR_CODE)

    # --- helpers ---------------------------------------------------------------------

    @property
    def _settings(self) -> StripeSettings:
        return self.settings_as(StripeSettings)

    def _customer(self, item: Mapping[str, Any]) -> BillingCustomer:
        return _parse.customer(item, source=self.integration, phone_e164=self.phone_e164)

    async def _list(self, path: str, params: Mapping[str, Any], limit: int) -> list[Mapping[str, Any]]:
        """Collect up to ``limit`` objects of a Stripe list endpoint, following ``starting_after``."""

        async def page(cursor: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            query: dict[str, Any] = {**params, "limit": min(limit, MAX_LIST_PAGE)}
            if cursor is not None:
                query["starting_after"] = cursor
            body = obj(await self.http.json("GET", path, params=query))
            items = object_list(body, "data")
            if body.get("has_more") is not True or not items:
                return items, None
            last = items[-1].get("id")
            return items, last if isinstance(last, str) and last else None

        return await paginate(page, max_items=limit, partial=True)
