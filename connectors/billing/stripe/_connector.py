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
* ``get_balance``: ``GET /v1/customers/{customer}``. Stripe's ``balance`` is
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
* ``resend_invoice``: ``POST /v1/invoices/{invoice}/send``. Every POST carries an
  ``Idempotency-Key`` that retries reuse, so a retried send is sent once.
* ``verify``: ``GET /v1/customers?limit=1``.

List endpoints page with ``has_more`` and ``starting_after`` (the last id).
Errors carry Stripe's ``Request-Id`` header and the ``error.code`` (else
``error.type``) of the error body; ``error.message`` can quote customer data
and is never read.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.billing.stripe import _parse, _query
from sdk import (
    BillingConnector,
    BillingCustomer,
    InvalidArgumentsError,
    Invoice,
    Money,
    Subscription,
    VendorNotFoundError,
    paginate,
)

__all__ = ["StripeConnector", "StripeSettings"]

API_VERSION = "2023-08-16"
SEARCH_PAGE_SIZE = 10
MAX_CUSTOMERS = 30
MAX_LIST_PAGE = 100  # Stripe's largest page
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")

T = TypeVar("T")


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


def _path_id(value: str) -> str:
    return quote(value, safe="")


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

    async def find_customers(
        self, phone: str | None = None, email: str | None = None
    ) -> list[BillingCustomer]:
        clauses: list[str] = []
        if email is not None:
            clauses.append(_query.clause("email", email))
        if phone is not None:
            e164 = self.phone_e164(phone)
            if e164 is None:
                raise InvalidArgumentsError(
                    f"invalid arguments for find_customers: phone: not a phone number in region "
                    f"{self.phone_region} or in international form"
                )
            clauses.extend(_query.clause("phone", variant) for variant in _query.phone_variants(e164))
        if not clauses:
            raise InvalidArgumentsError("invalid arguments for find_customers: give phone or email (or both)")
        search = _query.or_query(clauses)

        async def page(cursor: str | None) -> tuple[list[BillingCustomer], str | None]:
            params: dict[str, Any] = {"query": search, "limit": SEARCH_PAGE_SIZE}
            if cursor is not None:
                params["page"] = cursor
            body = _parse.obj(await self.http.json("GET", "/v1/customers/search", params=params))
            found = [self._customer(item) for item in _list_data(body)]
            next_page = body.get("next_page")
            more = body.get("has_more") is True and isinstance(next_page, str) and next_page != ""
            return found, next_page if more else None

        customers = await paginate(page, max_items=MAX_CUSTOMERS)
        return list({c.id: c for c in customers}.values())

    async def get_balance(self, customer_id: str) -> Money:
        path = f"/v1/customers/{_path_id(customer_id)}"
        body = _parse.obj(await self.http.json("GET", path))
        if body.get("deleted") is True:
            raise VendorNotFoundError("the Stripe customer has been deleted", method="GET", path=path)
        balance = body.get("balance") or 0
        found = _parse.money(balance, body.get("currency"))
        if found is not None:
            return found
        if balance != 0:
            raise ValueError("a non-zero balance without a currency")
        return Money(amount_minor=0, currency=self._settings.default_currency)

    async def list_invoices(self, customer_id: str, limit: int = 10) -> list[Invoice]:
        params = {"customer": customer_id}
        open_items, recent_items = await _all(
            self._list("/v1/invoices", {**params, "status": "open"}, limit),
            self._list("/v1/invoices", params, limit),
        )
        now = time.time()
        merged = {
            inv.id: inv
            for inv in (
                _parse.invoice(item, source=self.integration, now=now) for item in open_items + recent_items
            )
        }
        return sorted(merged.values(), key=_parse.invoice_rank)[:limit]

    async def list_subscriptions(self, customer_id: str, limit: int = 10) -> list[Subscription]:
        items = await self._list("/v1/subscriptions", {"customer": customer_id, "status": "all"}, limit)
        return [_parse.subscription(item, source=self.integration) for item in items]

    async def resend_invoice(self, invoice_id: str) -> Invoice:
        body = await self.http.json("POST", f"/v1/invoices/{_path_id(invoice_id)}/send")
        return _parse.invoice(_parse.obj(body), source=self.integration, now=time.time())

    async def verify(self) -> None:
        await self.http.request("GET", "/v1/customers", params={"limit": 1})

    # --- override points -------------------------------------------------------------

    def error_code(self, response: httpx.Response) -> str | None:
        """Return ``error.code`` (else ``error.type``) of Stripe's error body, if it is a plain code."""
        try:
            body = json.loads(response.content)
        except ValueError:
            return None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return None
        for key in ("code", "type"):
            value = error.get(key)
            if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
                return value
        return None

    # --- helpers ---------------------------------------------------------------------

    @property
    def _settings(self) -> StripeSettings:
        if isinstance(self.settings, StripeSettings):
            return self.settings
        return StripeSettings.model_validate(self.settings.model_dump())

    def _customer(self, item: object) -> BillingCustomer:
        return _parse.customer(_parse.obj(item), source=self.integration, phone_e164=self.phone_e164)

    async def _list(self, path: str, params: Mapping[str, Any], limit: int) -> list[Mapping[str, Any]]:
        """Collect up to ``limit`` objects of a Stripe list endpoint, following ``starting_after``."""

        async def page(cursor: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            query: dict[str, Any] = {**params, "limit": min(limit, MAX_LIST_PAGE)}
            if cursor is not None:
                query["starting_after"] = cursor
            body = _parse.obj(await self.http.json("GET", path, params=query))
            items = [_parse.obj(item) for item in _list_data(body)]
            if body.get("has_more") is not True or not items:
                return items, None
            last = items[-1].get("id")
            return items, last if isinstance(last, str) and last else None

        return await paginate(page, max_items=limit)


def _list_data(body: Mapping[str, Any]) -> Sequence[Any]:
    data = body["data"]
    if not isinstance(data, list):
        raise TypeError("data must be a list")
    return data
