"""What each source of a customer context delivered: its outcome, and its records.

Plain, frozen models: the fan-out (:mod:`sdk._call._fanout`) fills them, the
context (:mod:`sdk._call._customer_context`) holds them, and the text a model
reads (:mod:`sdk._call._context_text`) is rendered from them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from sdk._connector import Category
from sdk._models import Account, BillingCustomer, Contact, Invoice, Money, Subscription, Ticket

__all__ = ["SourceRecords", "SourceResult", "SourceStatus", "StepResult"]


class SourceStatus(StrEnum):
    """What became of one source (or one step of it)."""

    OK = "ok"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    TIMED_OUT = "timed_out"
    DENIED = "denied"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"
    """Nothing to ask: the connector implements none of its category's lookups, or cannot search
    by the identifier given (``lookup_by``: Jira Service Management has no phone numbers).
    Left out of :attr:`CustomerContext.complete`."""


class StepResult(BaseModel):
    """One operation run for the context."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operation: str
    status: SourceStatus
    error: str | None = None
    """The SDK error class name when the step did not succeed; never a message."""
    latency_ms: float


class SourceResult(BaseModel):
    """The outcome of one integration; holds no customer data (the records are sealed).

    ``status`` is the lookup's outcome (``not_found``, ``ambiguous``, ...);
    when the lookup found the caller, it is the first dependent step that
    timed out, was denied or failed, so that ``ok`` always means complete.
    A dependent record that does not exist (an account deleted since) does not
    spoil ``ok``. Records that did arrive are kept whatever the status.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    integration: str
    category: Category
    connector: str
    status: SourceStatus
    error: str | None = None
    latency_ms: float
    candidates: int = 0
    """How many records matched the caller when ``status`` is ``ambiguous``."""
    steps: tuple[StepResult, ...] = ()
    records_skipped: int = 0
    """Records this source's lists and searches left out because they could not be read."""
    skipped_fields: tuple[str, ...] = ()
    """Why: the field paths that could not be read (``customer.currency``), never the values."""
    truncated: bool = False
    """A page walk stopped at a loop: the source may hold more records than it returned."""


class SourceRecords(BaseModel):
    """The records one source delivered; which fields are filled depends on its category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contact: Contact | None = None
    account: Account | None = None
    contact_candidates: tuple[Contact, ...] = ()
    tickets: tuple[Ticket, ...] = ()
    customer: BillingCustomer | None = None
    customer_candidates: tuple[BillingCustomer, ...] = ()
    balance: Money | None = None
    invoices: tuple[Invoice, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
