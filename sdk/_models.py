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

from pydantic import BaseModel, ConfigDict, Field

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

    id: _Id
    source: str = Field(description="Integration id the record came from.")
    name: PIIStr | None = None
    email: PIIStr | None = None
    phone: PIIStr | None = Field(default=None, description="E.164 when the vendor's number could be parsed.")
    account_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Account(SharedModel):
    """A company or organisation in the CRM."""

    id: _Id
    source: str
    name: str | None = None
    domain: str | None = None
    phone: PIIStr | None = None
    industry: str | None = None


class Note(SharedModel):
    """A note written on a contact (e.g. a call summary); always internal (agents write them for agents)."""

    id: _Id
    source: str
    contact_id: str | None = None
    body: PIIStr
    created_at: datetime | None = None

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
        return self in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"
    UNKNOWN = "unknown"


class Requester(SharedModel):
    """The person a ticketing system files tickets for."""

    id: _Id
    source: str
    name: PIIStr | None = None
    email: PIIStr | None = None
    phone: PIIStr | None = None


class TicketComment(SharedModel):
    id: _Id
    body: PIIStr
    public: bool
    """False for an internal note: only agents see it in the vendor's own interface."""
    author_id: str | None = None
    created_at: datetime | None = None

    def is_internal(self) -> bool:
        return not self.public


class Ticket(SharedModel):
    """A support ticket; ``comments`` is filled by get_ticket, empty in lists."""

    id: _Id
    source: str
    subject: PIIStr | None = None
    status: TicketStatus = TicketStatus.UNKNOWN
    priority: TicketPriority = TicketPriority.UNKNOWN
    requester_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    comments: tuple[TicketComment, ...] = ()


class Money(SharedModel):
    """An amount in the currency's minor unit (cents), as billing vendors report it."""

    amount_minor: int
    currency: str = Field(min_length=3, max_length=3)


class BillingCustomer(SharedModel):
    id: _Id
    source: str
    name: PIIStr | None = None
    email: PIIStr | None = None
    phone: PIIStr | None = None
    balance: Money | None = Field(
        default=None, description="Amount the customer owes (positive) or holds in credit (negative)."
    )
    delinquent: bool | None = None
    card_last4: Annotated[str | None, Sensitive.PCI] = Field(default=None, pattern=r"^\d{4}$")


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"
    UNKNOWN = "unknown"


class Invoice(SharedModel):
    id: _Id
    source: str
    number: str | None = None
    status: InvoiceStatus = InvoiceStatus.UNKNOWN
    amount_due: Money | None = None
    total: Money | None = None
    due_date: date | None = None
    created_at: datetime | None = None


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
    id: _Id
    source: str
    status: SubscriptionStatus = SubscriptionStatus.UNKNOWN
    plan_name: str | None = None
    amount: Money | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool | None = None


def coerce_enum(enum: type[Any], value: object) -> Any:
    """Map a vendor's value onto ``enum``, or its UNKNOWN member when it drifted."""
    try:
        return enum(value)
    except ValueError:
        return enum.UNKNOWN
