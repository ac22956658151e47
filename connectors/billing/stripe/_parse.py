"""Mapping Stripe objects onto the shared billing models.

Each function takes one decoded Stripe object and returns one shared model.
A missing ``id`` (or a payload of the wrong type) raises ``KeyError`` /
``TypeError``, which the SDK reports as a :class:`sdk.VendorPayloadError`;
unknown fields are ignored and unknown enum values map to ``unknown``, so API
drift never breaks a call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sdk import BillingCustomer, Invoice, InvoiceStatus, Money, Subscription, SubscriptionStatus
from sdk.authoring import coerce_enum
from sdk.parsing import integer, money, obj, optional, record_id, text
from sdk.parsing import timestamp as parse_time

__all__ = ["customer", "invoice", "invoice_rank", "subscription", "timestamp"]

# Stripe statuses the shared enum does not name. ``incomplete_expired`` is terminal: the first
# invoice was never paid and the subscription will never bill, which is "canceled" to a caller.
_SUBSCRIPTION_STATUS = {"incomplete_expired": SubscriptionStatus.CANCELED}


def timestamp(value: object) -> datetime | None:
    """Convert Stripe's Unix seconds to an aware UTC datetime."""
    return parse_time(value, unit="s")


def _date(value: object) -> date | None:
    moment = timestamp(value)
    return None if moment is None else moment.date()


def customer(
    item: Mapping[str, Any], *, source: str, phone_e164: Callable[[str | None], str | None]
) -> BillingCustomer:
    """Map a ``customer`` object.

    ``balance`` is kept only when Stripe reports the customer's currency (null
    until the customer is first billed). A stored phone number that
    libphonenumber cannot parse is passed through as written rather than lost.
    Card details need ``expand[]`` of the payment method, so ``card_last4``
    stays None.
    """
    raw_phone = text(item.get("phone"))
    delinquent = item.get("delinquent")
    return BillingCustomer(
        id=record_id(item["id"]),
        source=source,
        name=text(item.get("name")),
        email=text(item.get("email")),
        phone=phone_e164(raw_phone) or raw_phone,
        balance=optional(lambda: money(item.get("balance"), item.get("currency")), field="customer.currency"),
        delinquent=delinquent if isinstance(delinquent, bool) else None,
    )


def _invoice_status(item: Mapping[str, Any], now: float) -> InvoiceStatus:
    status = coerce_enum(InvoiceStatus, item.get("status"))
    due = integer(item.get("due_date"))
    if status is InvoiceStatus.OPEN and due is not None and due < now:
        return InvoiceStatus.OVERDUE
    return status  # type: ignore[no-any-return]


def invoice(item: Mapping[str, Any], *, source: str, now: float) -> Invoice:
    """Map an ``invoice`` object; ``now`` (Unix seconds) decides whether an open one is overdue.

    ``amount_due`` is Stripe's ``amount_remaining`` (what the customer still owes on
    it, zero once paid), not Stripe's ``amount_due``, which keeps the billed
    amount after payment.
    """
    currency = item.get("currency")
    return Invoice(
        id=record_id(item["id"]),
        source=source,
        number=text(item.get("number")),
        status=_invoice_status(item, now),
        amount_due=optional(lambda: money(item.get("amount_remaining"), currency), field="invoice.currency"),
        total=optional(lambda: money(item.get("total"), currency), field="invoice.currency"),
        due_date=_date(item.get("due_date")),
        created_at=timestamp(item.get("created")),
    )


_RANK = {InvoiceStatus.OVERDUE: 0, InvoiceStatus.OPEN: 1}


def invoice_rank(value: Invoice) -> tuple[int, float]:
    """Sort key: overdue, then open, then the rest; newest first within each group."""
    created = value.created_at.timestamp() if value.created_at is not None else 0.0
    return _RANK.get(value.status, 2), -created


def _item_price(item: Mapping[str, Any]) -> Mapping[str, Any]:
    price = item.get("price") or item.get("plan") or {}
    return obj(price)


def _plan_name(items: list[Mapping[str, Any]]) -> str | None:
    """Name the plan from what a list call returns without ``expand[]``.

    ``price.product`` is then only an id, so the price's nickname is used (or the
    product's name when a caller's proxy did expand it); ids are never shown.
    """
    names: list[str] = []
    for item in items:
        price = _item_price(item)
        product = price.get("product")
        name = text(price.get("nickname"))
        if name is None and isinstance(product, Mapping):
            name = text(product.get("name"))
        if name is not None and name not in names:
            names.append(name)
    return ", ".join(names) if names else None


def _amount(items: list[Mapping[str, Any]]) -> Money | None:
    """Sum ``unit_amount x quantity`` over the items, before discounts and tax.

    None when any item has no fixed unit amount (tiered or metered prices have
    no quantity or unit amount to multiply) or the items bill in different
    currencies.
    """
    total = 0
    currency: str | None = None
    for item in items:
        price = _item_price(item)
        unit = integer(price.get("unit_amount"))
        quantity = integer(item.get("quantity"))
        code = text(price.get("currency"))
        if unit is None or quantity is None or code is None:
            return None
        if currency is not None and code.upper() != currency:
            return None
        currency = code.upper()
        total += unit * quantity
    return None if currency is None else Money(amount_minor=total, currency=currency)


def subscription(item: Mapping[str, Any], *, source: str) -> Subscription:
    """Map a ``subscription`` object (its embedded ``items`` list carries the prices)."""
    raw_status = item.get("status")
    status = _SUBSCRIPTION_STATUS.get(raw_status) if isinstance(raw_status, str) else None
    items_list = item.get("items")
    entries = obj(items_list).get("data", []) if items_list is not None else []
    if not isinstance(entries, list):
        raise TypeError("items.data must be a list")
    items = [obj(entry) for entry in entries]
    cancel = item.get("cancel_at_period_end")
    return Subscription(
        id=record_id(item["id"]),
        source=source,
        status=status or coerce_enum(SubscriptionStatus, raw_status),
        plan_name=_plan_name(items),
        amount=optional(lambda: _amount(items), field="subscription.items.price"),
        current_period_end=timestamp(item.get("current_period_end")),
        cancel_at_period_end=cancel if isinstance(cancel, bool) else None,
    )
