"""Fixed customer contexts and policies whose renderings are pinned byte for byte (issue 13).

The renderer is optimised for speed; these cases pin what it must keep producing. Every
input is deterministic (no random canaries: the expected outputs are stored), hostile where
customers and staff write (card and IRD numbers in subjects, names and comments, internal notes
marked with :data:`STAFF_MARK`), and covers every source status, currency precision, money sign
and field action. Regenerate the stored outputs only for an intended change of rendering::

    .venv/bin/python -m tests.llm_policy.render_cases --write
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sdk._cache import ConversationCache
from sdk._call import CustomerContext, LLMPolicy, llm_field_view, llm_text, llm_view
from sdk._call._customer_context import seal_context
from sdk._call._sources import SourceRecords, SourceResult, SourceStatus
from sdk._connector import Category
from sdk._models import (
    Account,
    BillingCustomer,
    Contact,
    Invoice,
    InvoiceStatus,
    Money,
    Note,
    Subscription,
    SubscriptionStatus,
    Ticket,
    TicketComment,
    TicketPriority,
    TicketStatus,
)

EXPECTED = Path(__file__).with_name("render_expected.json")
CARD = "4111 1111 1111 1111"
IRD = "49-091-850"
STAFF_MARK = "STAFFONLY"
"""In every internal comment and note: absent from any rendering whose policy drops or masks them."""

POLICIES: dict[str, dict[str, Any]] = {
    "default": {},
    "internal-keep": {"internal_notes": "keep"},
    "internal-mask": {"internal_notes": "mask"},
    "pii-mask-pci-keep-health-keep": {"pii": "mask", "pci": "keep", "health": "keep"},
    "pii-last4-pci-mask": {"pii": "last4", "pci": "mask"},
    "identifiers": {"identifiers": {"card": "keep", "nz_ird": "last4", "email": "mask", "phone": "last4"}},
    "strict": {"strict": True, "phone_regions": ["NZ", "AU", "GB"]},
    "fields-a": {
        "fields": {
            "Contact.email": "mask",
            "Contact.phone": "last4",
            "Ticket.subject": "drop",
            "TicketComment.author_id": "mask",
            "Invoice.amount_due": "drop",
            "BillingCustomer.balance": "drop",
        }
    },
    "fields-b": {
        "internal_notes": "keep",
        "fields": {
            "Ticket.status": "drop",
            "Ticket.priority": "mask",
            "TicketComment.body": "keep",
            "Ticket.id": "last4",
            "Invoice.total": "mask",
            "Subscription.amount": "last4",
            "BillingCustomer.card_last4": "keep",
            "BillingCustomer.balance": "mask",
            "Contact.created_at": "mask",
            "Account.name": "mask",
            "Invoice.status": "mask",
            "Note.body": "last4",
        },
    },
    "fields-c": {
        "internal_notes": "mask",
        "pii": "last4",
        "fields": {
            "TicketComment.created_at": "mask",
            "Contact.name": "keep",
            "BillingCustomer.delinquent": "mask",
            "Subscription.cancel_at_period_end": "drop",
            "Invoice.due_date": "mask",
            "Ticket.updated_at": "drop",
            "Ticket.comments": "mask",
            "Subscription.status": "drop",
            "Contact.id": "drop",
        },
    },
    "fields-d": {
        "fields": {"Ticket.comments": "drop", "Invoice.number": "drop", "Subscription.plan_name": "drop"}
    },
}


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2024, 5, day, hour, 30, 15, tzinfo=UTC)


def _money(minor: int, currency: str = "NZD") -> Money:
    return Money(amount_minor=minor, currency=currency)


def _comment(n: int, body: str, *, public: bool) -> TicketComment:
    return TicketComment(id=f"c{n}", body=body, public=public, author_id=f"agent-{n}", created_at=_at(n + 1))


def _tickets(source: str) -> tuple[Ticket, ...]:
    thread = (
        _comment(1, "Router drops every hour.", public=True),
        _comment(2, f"{STAFF_MARK} caller was rude, card {CARD} on file", public=False),
        _comment(3, "We are   looking\ninto it. " + "long words " * 40, public=True),
        _comment(4, f"{STAFF_MARK} refund declined, IRD {IRD}", public=False),
        _comment(5, f"My card is {CARD}, please call +64 21 555 0100", public=True),
        _comment(6, f"{STAFF_MARK} escalate", public=False),
    )
    return (
        Ticket(
            id="35438",
            source=source,
            subject=f"Charge on card {CARD} twice",
            status=TicketStatus.OPEN,
            priority=TicketPriority.HIGH,
            requester_id="9100001",
            created_at=_at(1),
            updated_at=_at(20),
            comments=thread,
        ),
        Ticket(id="35437", source=source, subject="Router keeps dropping", status=TicketStatus.PENDING),
        Ticket(
            id="35439",
            source=source,
            subject="Change of address",
            status=TicketStatus.CLOSED,
            priority=TicketPriority.UNKNOWN,
            created_at=_at(2),
            comments=(_comment(7, f"{STAFF_MARK} only staff wrote here", public=False),),
        ),
        Ticket(id="35440", source=source, status=TicketStatus.SOLVED, priority=TicketPriority.LOW),
    )


def _customer(source: str, n: int, balance: Money | None) -> BillingCustomer:
    return BillingCustomer(
        id=f"cus_T3st{n:04d}",
        source=source,
        name=f"Aroha Test {n}",
        email=f"aroha{n}@example.test",
        phone="+64215550100",
        balance=balance,
        delinquent=n % 2 == 1,
        card_last4="4242",
    )


def _billing(source: str) -> SourceRecords:
    return SourceRecords(
        customer=_customer(source, 1, _money(1250)),
        balance=_money(1250),
        invoices=(
            Invoice(
                id="in_1",
                source=source,
                number="A1B2-0001",
                status=InvoiceStatus.OPEN,
                amount_due=_money(8999),
                total=_money(8999),
                due_date=date(2024, 8, 14),
                created_at=_at(3),
            ),
            Invoice(
                id="in_2",
                source=source,
                status=InvoiceStatus.PAID,
                amount_due=_money(0),
                total=_money(500, "JPY"),
            ),
            Invoice(
                id="in_3",
                source=source,
                number="A1B2-0003",
                status=InvoiceStatus.DRAFT,
                total=_money(12345, "BHD"),
            ),
        ),
        subscriptions=(
            Subscription(
                id="sub_1",
                source=source,
                status=SubscriptionStatus.ACTIVE,
                plan_name="Fibre 300, Static IP",
                amount=_money(10999),
                current_period_end=_at(22),
                cancel_at_period_end=True,
            ),
            Subscription(
                id="sub_2", source=source, status=SubscriptionStatus.PAST_DUE, current_period_end=_at(23)
            ),
        ),
    )


def _result(integration: str, category: Category, status: SourceStatus, **extra: Any) -> SourceResult:
    return SourceResult(
        integration=integration,
        category=category,
        connector=extra.pop("connector", integration),
        status=status,
        latency_ms=1.0,
        **extra,
    )


def _full() -> tuple[dict[str, SourceResult], dict[str, SourceRecords]]:
    contact = Contact(
        id="51",
        source="hubspot",
        name="Aroha Ngata",
        email="aroha.ngata@example.co.nz",
        phone="+6495550123",
        account_id="9001",
        created_at=_at(4),
        updated_at=_at(5),
    )
    account = Account(
        id="9001",
        source="hubspot",
        name="Kiwi Plumbing Ltd",
        domain="kiwi.example.co.nz",
        phone="+6495550199",
    )
    sources = {
        "hubspot": _result("hubspot", Category.CRM, SourceStatus.OK),
        "desk": _result("desk", Category.TICKETING, SourceStatus.OK, connector="zendesk"),
        "stripe": _result("stripe", Category.BILLING, SourceStatus.OK),
    }
    records = {
        "hubspot": SourceRecords(contact=contact, account=account),
        "desk": SourceRecords(tickets=_tickets("desk")),
        "stripe": _billing("stripe"),
    }
    return sources, records


def _troubled() -> tuple[dict[str, SourceResult], dict[str, SourceRecords]]:
    candidates = (
        Contact(id="61", source="crm", name=f"Sam IRD {IRD}", phone="+6495550111"),
        Contact(id="62", source="crm", name="Sam Two", email="sam2@example.test"),
    )
    billing_candidates = (_customer("billing", 2, None), _customer("billing", 3, _money(-700)))
    sources = {
        "crm": _result("crm", Category.CRM, SourceStatus.AMBIGUOUS, candidates=2, connector="hubspot"),
        "crm2": _result("crm2", Category.CRM, SourceStatus.NOT_FOUND),
        "desk": _result("desk", Category.TICKETING, SourceStatus.AMBIGUOUS, candidates=3),
        "desk2": _result("desk2", Category.TICKETING, SourceStatus.TIMED_OUT, error="DeadlineExceededError"),
        "jira": _result("jira", Category.TICKETING, SourceStatus.UNSUPPORTED),
        "billing": _result("billing", Category.BILLING, SourceStatus.AMBIGUOUS, candidates=2),
        "credit": _result("credit", Category.BILLING, SourceStatus.FAILED, error="VendorServerError"),
        "zero": _result("zero", Category.BILLING, SourceStatus.DENIED),
        "nobill": _result("nobill", Category.BILLING, SourceStatus.NOT_FOUND),
        "notix": _result("notix", Category.TICKETING, SourceStatus.NOT_FOUND),
    }
    records = {
        "crm": SourceRecords(contact_candidates=candidates),
        "desk": SourceRecords(tickets=_tickets("desk")[1:3]),
        "desk2": SourceRecords(tickets=_tickets("desk2")[:1]),
        "billing": SourceRecords(customer_candidates=billing_candidates),
        "credit": SourceRecords(customer=_customer("credit", 4, _money(-700)), balance=_money(-700)),
        "zero": SourceRecords(customer=_customer("zero", 5, _money(0, "JPY")), balance=_money(0, "JPY")),
    }
    return sources, records


def contexts() -> dict[str, CustomerContext]:
    """The contexts rendered, each sealed in its own cache (kept open while the caller renders)."""
    built: dict[str, CustomerContext] = {}
    for name, (sources, records) in {"full": _full(), "troubled": _troubled(), "empty": ({}, {})}.items():
        context = CustomerContext(sources=sources, budget_ms=2000.0, elapsed_ms=12.0)
        built[name] = seal_context(
            context, records, cache=ConversationCache("tenant-golden"), policy=LLMPolicy()
        )
    built["unidentified"] = CustomerContext(sources={}, budget_ms=2000.0, elapsed_ms=0.0, identified=False)
    return built


def loose_values() -> dict[str, object]:
    """What tools hand the renderer: single records, lists, mappings and plain values."""
    _, records = _full()
    note = Note(
        id="n1", source="hubspot", contact_id="51", body=f"{STAFF_MARK} caller was abusive", created_at=_at(6)
    )
    return {
        "contact": records["hubspot"].contact,
        "tickets": list(records["desk"].tickets[:2]),
        "note": note,
        "notes": (note, note),
        "mapping": {"first": records["hubspot"].account, f"key {CARD}": [Decimal("12.50"), date(2024, 1, 2)]},
        "strings": (f"card {CARD}", f"IRD {IRD}", "plain"),
        "money": _money(-1234, "KWD"),
        "customer": _customer("stripe", 7, _money(99)),
        "number": 42,
        "nothing": None,
    }


def render_all() -> dict[str, Any]:
    """Every case rendered under every policy: ``{policy: {case: output}}``."""
    out: dict[str, Any] = {}
    built = contexts()
    loose = loose_values()
    for name, settings in POLICIES.items():
        policy = LLMPolicy.model_validate(settings)
        rendered: dict[str, Any] = {}
        for case, context in built.items():
            rendered[f"{case}.text"] = llm_text(context, policy)
            rendered[f"{case}.json"] = llm_view(context, policy)
        for case, value in loose.items():
            rendered[f"value.{case}.text"] = llm_text(value, policy)
            rendered[f"value.{case}.json"] = llm_view(value, policy)
        rendered["field.balance"] = llm_field_view(_money(-4500), BillingCustomer, "balance", policy)
        rendered["field.card_last4"] = llm_field_view("4242", BillingCustomer, "card_last4", policy)
        out[name] = rendered
    # The context's own policy (what for_llm uses) is the default here.
    out["for_llm"] = {case: [ctx.for_llm(), ctx.for_llm("json")] for case, ctx in built.items()}
    return out


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    EXPECTED.write_text(json.dumps(render_all(), indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    print(f"wrote {EXPECTED}")
