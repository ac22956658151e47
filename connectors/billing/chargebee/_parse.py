"""Map Chargebee API v1 objects onto the shared billing models.

Amounts are integers in the currency's minor unit, times are Unix seconds. A missing id or a
payload of the wrong type raises (the SDK reports a VendorPayloadError); unknown statuses map to
``unknown``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sdk import (
    BillingCustomer,
    Invoice,
    InvoiceStatus,
    Subscription,
    SubscriptionStatus,
)
from sdk.parsing import cursor, integer, money, obj, object_list, optional, record_id, text, timestamp

__all__ = [
    "UNPAID",
    "amount",
    "credits",
    "customer",
    "invoice",
    "invoice_rank",
    "page",
    "subscription",
]

PhoneNormaliser = Callable[[str | None], str | None]

# v1 invoice statuses. not_paid: every collection attempt failed, still owed (overdue to a caller);
# payment_due: awaiting or retrying payment; pending: not yet closed (a draft).
_INVOICE_STATUS = {
    "paid": InvoiceStatus.PAID,
    "payment_due": InvoiceStatus.OPEN,
    "not_paid": InvoiceStatus.OVERDUE,
    "voided": InvoiceStatus.VOID,
    "pending": InvoiceStatus.DRAFT,
}
UNPAID = frozenset({"payment_due", "not_paid"})
_SUBSCRIPTION_STATUS = {
    "in_trial": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "non_renewing": SubscriptionStatus.ACTIVE,
    "cancelled": SubscriptionStatus.CANCELED,
    # Moved to another business entity: no longer in service on this one.
    "transferred": SubscriptionStatus.CANCELED,
}
_RANK = {InvoiceStatus.OVERDUE: 0, InvoiceStatus.OPEN: 1}


def page(data: object) -> tuple[list[Mapping[str, Any]], str | None]:
    """One v1 list page: its items and ``next_offset`` (absent on the last page)."""
    body = obj(data)
    return object_list(body, "list"), cursor(body.get("next_offset"))


def amount(value: object) -> int:
    """An amount in minor units; absent is zero (v1 leaves out credits a customer does not hold)."""
    return integer(value) or 0


def _time(value: object) -> datetime | None:
    # v1 times are Unix seconds; one that is not is a wrong shape.
    return timestamp(value, unit="s")


def credits(item: Mapping[str, Any]) -> int:
    """What the customer holds in credit: refundable and promotional credits and excess payments."""
    return sum(amount(item.get(key)) for key in ("refundable_credits", "excess_payments", "account_credits"))


def _name(item: Mapping[str, Any]) -> str | None:
    parts = [text(item.get("first_name")), text(item.get("last_name"))]
    joined = " ".join(part for part in parts if part)
    return joined or text(item.get("company"))


def customer(entry: Mapping[str, Any], source: str, phone_e164: PhoneNormaliser) -> BillingCustomer:
    """A list entry ``{"customer": {...}, "card": {...}}`` (the card is optional)."""
    item = obj(entry["customer"])
    card = entry.get("card")
    last4 = text(card.get("last4")) if isinstance(card, Mapping) else None
    return BillingCustomer(
        id=record_id(item["id"]),
        source=source,
        name=_name(item),
        email=text(item.get("email")),
        phone=phone_e164(text(item.get("phone"))),
        # Only the last four digits of a card are ever kept (PCI); anything else is dropped.
        card_last4=last4 if last4 is not None and len(last4) == 4 and last4.isdigit() else None,
    )


def invoice(item: Mapping[str, Any], source: str) -> Invoice:
    """A v1 invoice; its id is the invoice number."""
    status = item.get("status")
    currency = item.get("currency_code")
    where = "invoice.currency_code"
    return Invoice(
        id=record_id(item["id"]),
        source=source,
        number=record_id(item["id"]),
        status=_INVOICE_STATUS.get(status, InvoiceStatus.UNKNOWN)
        if isinstance(status, str)
        else InvoiceStatus.UNKNOWN,
        # Kept without its amounts when the currency cannot be read: the invoice is still worth reading out.
        amount_due=optional(lambda: money(amount(item.get("amount_due")), currency), field=where),
        total=optional(lambda: money(amount(item.get("amount")), currency), field=where),
        # The document date printed on the invoice; v1 invoices have no due date.
        created_at=_time(item.get("end_date", item.get("start_date"))),
    )


def invoice_rank(item: Invoice) -> tuple[int, float]:
    """Sort key: overdue, then open, then the rest; newest first within each group."""
    created = item.created_at.timestamp() if item.created_at is not None else float("-inf")
    return (_RANK.get(item.status, 2), -created)


def subscription(item: Mapping[str, Any], source: str) -> Subscription:
    """A v1 subscription; its plan is named by ``plan_id`` (v1 subscriptions carry no plan name)."""
    raw = item.get("status")
    status = (
        _SUBSCRIPTION_STATUS.get(raw, SubscriptionStatus.UNKNOWN)
        if isinstance(raw, str)
        else SubscriptionStatus.UNKNOWN
    )
    if status is SubscriptionStatus.ACTIVE and amount(item.get("due_invoices_count")) > 0:
        status = SubscriptionStatus.PAST_DUE
    return Subscription(
        id=record_id(item["id"]),
        source=source,
        status=status,
        plan_name=text(item.get("plan_id")),
        current_period_end=_time(item.get("current_term_end")),
        cancel_at_period_end=raw == "non_renewing" if isinstance(raw, str) else None,
    )
