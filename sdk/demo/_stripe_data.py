"""The records the Stripe sandbox starts with: the demo caller as a customer who owes money.

One customer with a balance and a delinquent flag, an overdue open invoice and
the paid one before it, and the fibre subscription both were billed for, in
the shapes of Stripe's REST API (version 2023-08-16). Times are relative to
the sandbox's :class:`~sdk.demo._dataset.Clock`.
"""

from __future__ import annotations

from typing import Any

from sdk.demo._dataset import CALLER, Clock

__all__ = [
    "CUSTOMER_ID",
    "OVERDUE_INVOICE_ID",
    "PAID_INVOICE_ID",
    "SUBSCRIPTION_ID",
    "seed_customers",
    "seed_invoices",
    "seed_subscriptions",
]

CUSTOMER_ID = "cus_DemoAroha0001"
OVERDUE_INVOICE_ID = "in_DemoOverdue0042"
PAID_INVOICE_ID = "in_DemoPaid000041"
SUBSCRIPTION_ID = "sub_DemoFibre0001"


def seed_customers(clock: Clock) -> dict[str, dict[str, Any]]:
    """The demo caller as a Stripe customer, by id."""
    return {
        CUSTOMER_ID: {
            "id": CUSTOMER_ID,
            "object": "customer",
            "address": None,
            "balance": 2500,
            "created": clock.epoch(-600),
            "currency": "nzd",
            "default_source": None,
            "delinquent": True,
            "description": None,
            "discount": None,
            "email": CALLER.email,
            "invoice_prefix": "KPL",
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": {},
            "name": CALLER.name,
            "next_invoice_sequence": 43,
            "phone": CALLER.phone_national,
            "preferred_locales": ["en-NZ"],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
    }


def seed_invoices(clock: Clock) -> dict[str, dict[str, Any]]:
    """The caller's overdue invoice and the paid one before it, by id."""
    overdue = _invoice(
        clock, OVERDUE_INVOICE_ID, "KPL-0042", status="open", total=12900, paid=0, created=-19, due=-5
    )
    paid = _invoice(
        clock, PAID_INVOICE_ID, "KPL-0041", status="paid", total=8900, paid=8900, created=-49, due=-35
    )
    return {OVERDUE_INVOICE_ID: overdue, PAID_INVOICE_ID: paid}


def seed_subscriptions(clock: Clock) -> dict[str, dict[str, Any]]:
    """The caller's active fibre subscription, by id."""
    price = {
        "id": "price_DemoFibre300",
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "currency": "nzd",
        "nickname": "Business Fibre 300",
        "product": "prod_DemoFibre300",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": 8900,
        "unit_amount_decimal": "8900",
    }
    return {
        SUBSCRIPTION_ID: {
            "id": SUBSCRIPTION_ID,
            "object": "subscription",
            "cancel_at_period_end": False,
            "collection_method": "send_invoice",
            "created": clock.epoch(-600),
            "currency": "nzd",
            "current_period_end": clock.epoch(11),
            "current_period_start": clock.epoch(-19),
            "customer": CUSTOMER_ID,
            "days_until_due": 14,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_DemoFibre0001",
                        "object": "subscription_item",
                        "price": price,
                        "quantity": 1,
                        "subscription": SUBSCRIPTION_ID,
                    }
                ],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={SUBSCRIPTION_ID}",
            },
            "livemode": False,
            "metadata": {},
            "status": "active",
        }
    }


def _invoice(
    clock: Clock,
    invoice_id: str,
    number: str,
    *,
    status: str,
    total: int,
    paid: int,
    created: float,
    due: float,
) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "NZ",
        "account_name": "Demo ISP Ltd",
        "amount_due": total,
        "amount_paid": paid,
        "amount_remaining": total - paid,
        "attempt_count": 0,
        "attempted": status != "draft",
        "auto_advance": status == "open",
        "billing_reason": "subscription_cycle",
        "collection_method": "send_invoice",
        "created": clock.epoch(created),
        "currency": "nzd",
        "customer": CUSTOMER_ID,
        "customer_email": CALLER.email,
        "customer_name": CALLER.name,
        "customer_phone": None,
        "description": None,
        "due_date": clock.epoch(due),
        "hosted_invoice_url": f"https://invoice.stripe.test/i/{invoice_id}",
        "lines": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "number": number,
        "paid": status == "paid",
        "period_end": clock.epoch(created),
        "period_start": clock.epoch(created - 30),
        "status": status,
        "status_transitions": {
            "finalized_at": clock.epoch(created),
            "marked_uncollectible_at": None,
            "paid_at": clock.epoch(created + 2) if status == "paid" else None,
            "voided_at": None,
        },
        "subscription": SUBSCRIPTION_ID,
        "subtotal": total,
        "total": total,
        "webhooks_delivered_at": clock.epoch(created),
    }
