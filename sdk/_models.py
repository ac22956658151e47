"""Shared models every connector maps its vendor's payloads onto.

The models are strict (unknown fields are refused, instances are frozen) so
that a connector cannot smuggle raw vendor data past redaction: whatever
reaches the voice agent has a declared field with a declared sensitivity.
Vendor drift is the connector's job to absorb (unknown enum values map to
``unknown``), not the models'.

Sensitivity is declared with ``Annotated[..., Sensitive.PII]`` and read back
with :func:`sensitivity_of`, so redaction and audit work by type, not by
guessing from field names.
"""

from __future__ import annotations

import functools
import types
import typing
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Account",
    "BillingCustomer",
    "Contact",
    "Invoice",
    "InvoiceStatus",
    "Money",
    "Note",
    "Requester",
    "Sensitive",
    "SharedModel",
    "Subscription",
    "SubscriptionStatus",
    "Ticket",
    "TicketComment",
    "TicketPriority",
    "TicketStatus",
    "sensitivity_of",
]


class Sensitive(StrEnum):
    """How a field must be treated at the language-model boundary and in telemetry."""

    PII = "pii"
    """Identifies a person: name, email, phone, address, free text they wrote."""
    PCI = "pci"
    """Payment card data: never more than the last four digits."""
    HEALTH = "health"
    """Health identifiers and information."""


class SharedModel(BaseModel):
    """Base of every shared model: strict, frozen, no extra fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=100_000)

    def is_internal(self) -> bool:
        """True for a record the business wrote for its own staff, not for the customer (S6).

        An agent's note on a contact or an internal ticket comment is such a
        record. The language-model view withholds internal records unless the
        tenant's policy opts in (``internal_notes``), so the model cannot read
        out to a caller what staff wrote about them. Declared on the model, not
        guessed by the renderer, so that a new internal kind is withheld by
        construction.
        """
        return False


def _sensitivity_in(annotation: Any) -> Sensitive | None:
    """Find a ``Sensitive`` mark anywhere in an annotation (``Annotated[str, PII] | None`` too)."""
    if typing.get_origin(annotation) is Annotated:
        for item in typing.get_args(annotation)[1:]:
            if isinstance(item, Sensitive):
                return item
        return _sensitivity_in(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _sensitivity_in(arg)
            if found is not None:
                return found
    return None


@functools.cache
def sensitivity_of(model: type[BaseModel], field_name: str) -> Sensitive | None:
    """Return the sensitivity declared on a model field, or None.

    pydantic moves an outermost ``Annotated`` mark into ``FieldInfo.metadata``
    but leaves one inside a union (``PIIStr | None``) in the annotation, so
    both places are searched.
    """
    info = model.model_fields[field_name]
    for item in info.metadata:
        if isinstance(item, Sensitive):
            return item
    return _sensitivity_in(info.annotation)


_Id = Annotated[str, Field(min_length=1, max_length=256)]
PIIStr = Annotated[str, Sensitive.PII]
PCIStr = Annotated[str, Sensitive.PCI]


class Contact(SharedModel):
    """A person in the CRM."""

    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    name: PIIStr | None = Field(default=None, description="Full name as the CRM holds it.")
    email: PIIStr | None = Field(default=None, description="Primary email address.")
    phone: PIIStr | None = Field(default=None, description="E.164 when the vendor's number could be parsed.")
    account_id: str | None = Field(
        default=None,
        description="Vendor id of the company the contact belongs to, if any.",
    )
    created_at: datetime | None = Field(default=None, description="When the vendor says it was created.")
    updated_at: datetime | None = Field(default=None, description="When the vendor says it last changed.")


class Account(SharedModel):
    """A company or organisation in the CRM."""

    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    name: str | None = Field(default=None, description="The company's name.")
    domain: str | None = Field(default=None, description="Its web domain, e.g. acme.example.")
    phone: PIIStr | None = Field(default=None, description="Its main phone number, E.164 when parseable.")
    industry: str | None = Field(default=None, description="Industry as the vendor labels it.")


class Note(SharedModel):
    """A note written on a contact (e.g. a call summary); always internal (agents write them for agents)."""

    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    contact_id: str | None = Field(default=None, description="The contact the note is on.")
    body: PIIStr = Field(description="The note's text (internal: withheld from models by default).")
    created_at: datetime | None = Field(default=None, description="When the vendor says it was created.")

    def is_internal(self) -> bool:
        return True


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"
    UNKNOWN = "unknown"

    @property
    def is_open(self) -> bool:
        return self in (
            TicketStatus.NEW,
            TicketStatus.OPEN,
            TicketStatus.PENDING,
            TicketStatus.ON_HOLD,
        )


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"
    UNKNOWN = "unknown"


class Requester(SharedModel):
    """The person a ticketing system files tickets for."""

    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    name: PIIStr | None = Field(default=None, description="Full name as the ticketing system holds it.")
    email: PIIStr | None = Field(default=None, description="Email address tickets are filed under.")
    phone: PIIStr | None = Field(default=None, description="Phone number, E.164 when parseable.")


class TicketComment(SharedModel):
    id: _Id = Field(description="The vendor's id of the comment.")
    body: PIIStr = Field(description="The comment's text.")
    public: bool
    """False for an internal note: only agents see it in the vendor's own interface."""
    author_id: str | None = Field(default=None, description="Vendor id of whoever wrote it.")
    created_at: datetime | None = Field(default=None, description="When it was written.")

    def is_internal(self) -> bool:
        return not self.public


class Ticket(SharedModel):
    """A support ticket; ``comments`` is filled by get_ticket, empty in lists."""

    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    subject: PIIStr | None = Field(default=None, description="The ticket's subject line.")
    status: TicketStatus = Field(
        default=TicketStatus.UNKNOWN,
        description="Status, mapped onto the shared set (unknown when the vendor's is new).",
    )
    priority: TicketPriority = Field(
        default=TicketPriority.UNKNOWN,
        description="Priority, mapped onto the shared set.",
    )
    requester_id: str | None = Field(
        default=None, description="Vendor id of the requester the ticket is for."
    )
    created_at: datetime | None = Field(default=None, description="When the vendor says it was created.")
    updated_at: datetime | None = Field(default=None, description="When the vendor says it last changed.")
    comments: tuple[TicketComment, ...] = Field(
        default=(),
        description="The conversation, oldest first; filled by get_ticket, empty in lists.",
    )


CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", to_upper=True)]
"""Three ASCII letters, held upper-case: what every billing vendor sends, in the case it sends it.

Stripe writes ``"nzd"``, Chargebee and Xero ``"NZD"``; both are the same currency, so the model
takes either and holds one form. Whether the code is in ISO 4217's current list is not checked
(funds codes, new or withdrawn currencies are harmless to read out); anything that is not three
letters is refused, since it cannot be a currency code and a wrong currency misstates a debt.
"""


class Money(SharedModel):
    """An amount in the currency's minor unit (cents), as billing vendors report it."""

    amount_minor: int = Field(
        description="Amount in the currency's minor unit (cents); negative for a credit."
    )
    currency: CurrencyCode = Field(description="ISO 4217 code, upper case, e.g. NZD.")


class BillingCustomer(SharedModel):
    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    name: PIIStr | None = Field(default=None, description="Name on the billing account.")
    email: PIIStr | None = Field(default=None, description="Billing email address.")
    phone: PIIStr | None = Field(default=None, description="Phone number, E.164 when parseable.")
    balance: Money | None = Field(
        default=None,
        description="Amount the customer owes (positive) or holds in credit (negative).",
    )
    delinquent: bool | None = Field(
        default=None,
        description="Whether the vendor flags the customer as behind on payments.",
    )
    card_last4: Annotated[str | None, Sensitive.PCI] = Field(
        default=None,
        pattern=r"^\d{4}$",
        description="Last four digits of the default card; never more (PCI).",
    )


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"
    UNKNOWN = "unknown"


class Invoice(SharedModel):
    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    number: str | None = Field(default=None, description="The invoice number the customer sees (not the id).")
    status: InvoiceStatus = Field(
        default=InvoiceStatus.UNKNOWN, description="Status, mapped onto the shared set."
    )
    amount_due: Money | None = Field(default=None, description="What is still owed on it.")
    total: Money | None = Field(default=None, description="Its total.")
    due_date: date | None = Field(default=None, description="When payment is due.")
    created_at: datetime | None = Field(default=None, description="When it was issued.")


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    INCOMPLETE = "incomplete"
    UNKNOWN = "unknown"


class Subscription(SharedModel):
    id: _Id = Field(description="The vendor's id of the record (what a follow-up operation takes).")
    source: str = Field(description="Integration id the record came from.")
    status: SubscriptionStatus = Field(
        default=SubscriptionStatus.UNKNOWN,
        description="Status, mapped onto the shared set.",
    )
    plan_name: str | None = Field(default=None, description="The plan's name as the customer knows it.")
    amount: Money | None = Field(default=None, description="What each billing period costs.")
    current_period_end: datetime | None = Field(
        default=None, description="When the current billing period ends."
    )
    cancel_at_period_end: bool | None = Field(
        default=None,
        description="Whether it ends at current_period_end instead of renewing.",
    )


def coerce_enum(enum: type[Any], value: object) -> Any:
    """Map a vendor's value onto ``enum``, or its UNKNOWN member when it drifted."""
    try:
        return enum(value)
    except ValueError:
        return enum.UNKNOWN
