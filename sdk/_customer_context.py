"""``conv.customer_context(...)``: the caller resolved across all of a tenant's integrations at once.

How it works, and why:

* **One task per integration, all at once.** A voice caller notices 300 ms, so
  the context costs the slowest source, not the sum. Within a source the steps
  that do not depend on each other run concurrently too.
* **A chain per category.** CRM: ``find_contacts``; on exactly one match
  ``get_contact`` and ``get_account`` (together when the search hit already
  names the account). Ticketing: ``list_tickets``, then ``get_ticket`` for the
  newest open ticket, the one the caller most likely phones about (lists carry
  no comments). Billing: ``find_customers``; on exactly one match
  ``list_invoices``, ``list_subscriptions`` and, only when the customer record
  carries no balance, ``get_balance``, together. Operations a connector does
  not implement are skipped.
* **One deadline.** ``budget`` seconds become a ``time.monotonic()`` deadline
  that every dispatch receives (connectors stop retrying and shrink their HTTP
  timeouts before it) and that ``asyncio.timeout_at`` enforces around the whole
  fan-out. At the deadline the in-flight requests are cancelled and the
  context holds what arrived, with a status per source.
* **Never a guess.** Several contacts or customers matching the caller, or
  tickets of several requesters sharing the caller's number, make the source
  ``ambiguous`` with the candidates; the dependent fetches are skipped.
* **No denial path of its own.** Every step goes through dispatch, so a scope
  the grant lacks is refused there (audited, no request sent); the HTTP scope
  guard and the residency check refuse the rest. All of them surface as
  ``denied`` with the error class name.
* **Cached and wiped with the conversation (S5).** Every step is an ordinary
  dispatch, so its result sits in the conversation's encrypted cache and a
  second identical call is served from there. The records the context holds
  are sealed in that cache too: the object itself keeps only statuses and
  timings, so hangup's wipe reaches the records, and reading them afterwards
  raises :class:`~sdk.ConversationClosedError`. ``get_balance`` is declared
  fresh-on-every-call, so it is the one step a second call repeats; it is
  asked only when the customer search carried no balance (Stripe's does).
* **Hangup while sources answer.** Requests in flight end at the deadline at
  the latest, steps not yet started fail at once, and the call raises
  :class:`~sdk.ConversationClosedError`: nothing fetched outlives the wipe.
* **Error kinds, never messages.** A failed step records its exception's class
  name only. SDK messages carry no customer data by design; storing the name
  alone keeps that true even for a connector's own exceptions.
"""

from __future__ import annotations

import asyncio
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel, ConfigDict, PrivateAttr

from sdk._connector import Category, Connector, normalise_phone
from sdk._dispatch import IntegrationBinding
from sdk._errors import (
    AccessDeniedError,
    DeadlineExceededError,
    InvalidArgumentsError,
    UsageError,
    VendorNotFoundError,
    VendorTimeoutError,
    error_kind,
)
from sdk._llm_view import LLMPolicy, context_text, context_view
from sdk._models import (
    Account,
    BillingCustomer,
    Contact,
    Invoice,
    Money,
    Subscription,
    Ticket,
)

if TYPE_CHECKING:
    from sdk._cache import ConversationCache
    from sdk._conversation import Conversation

__all__ = [
    "CustomerContext",
    "SourceRecords",
    "SourceResult",
    "SourceStatus",
    "StepResult",
    "fetch_customer_context",
]

TICKET_LIMIT = 5
"""Tickets asked for per ticketing source: an agent reads out a handful, open ones first."""
INVOICE_LIMIT = 5
SUBSCRIPTION_LIMIT = 5

_SEALED_INTEGRATION = "~customer-context"
"""Cache namespace of sealed contexts; '~' is outside the integration id alphabet, so no
integration's entries can collide with it or be discarded with it after a write."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

T = TypeVar("T")


class SourceStatus(StrEnum):
    """What became of one source (or one step of it)."""

    OK = "ok"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    TIMED_OUT = "timed_out"
    DENIED = "denied"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"
    """The connector implements none of its category's lookups, so there was nothing to ask."""


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


class _AllRecords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceRecords]


class _Sealed:
    """Where a context's records live: one sealed entry in the conversation's cache.

    Copies of a context share it (there is one conversation to wipe), and it
    refuses to be pickled: customer data never leaves the process.
    """

    __slots__ = ("_cache", "_token")

    def __init__(self, cache: ConversationCache, records: _AllRecords) -> None:
        self._cache = cache
        self._token = secrets.token_bytes(16)
        cache.put(_SEALED_INTEGRATION, "records", self._token, records.model_dump_json().encode())

    def open(self) -> _AllRecords:
        payload = self._cache.get(_SEALED_INTEGRATION, "records", self._token)
        if payload is None:  # pragma: no cover - entries of this namespace are only dropped by a wipe
            raise UsageError("this customer context's records are gone; fetch the context again")
        return _AllRecords.model_validate_json(payload)

    def __deepcopy__(self, memo: dict[int, Any]) -> _Sealed:
        return self

    def __reduce__(self) -> Any:
        raise UsageError("a CustomerContext cannot be pickled: its data must never leave the process")


class CustomerContext(BaseModel):
    """The caller's context across the tenant's integrations, from ``conv.customer_context(...)``.

    The model's fields are statuses and timings only (safe to log or dump);
    the records are read through :meth:`records` and the accessors, which
    decrypt them from the conversation's cache on each access and raise
    :class:`~sdk.ConversationClosedError` once the conversation is over. Hand
    the model :meth:`for_llm`, which applies the tenant's redaction policy.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceResult]
    """Per integration id, in the tenant's configuration order."""
    budget_ms: float
    elapsed_ms: float

    _sealed: _Sealed | None = PrivateAttr(default=None)
    _policy: LLMPolicy = PrivateAttr(default_factory=LLMPolicy)

    # --- status ----------------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """True when every source answered definitively (found the caller once, or found nothing)."""
        return all(s.status in (SourceStatus.OK, SourceStatus.NOT_FOUND) for s in self.sources.values())

    # --- records ---------------------------------------------------------------------------------

    def _records(self) -> dict[str, SourceRecords]:
        if self._sealed is None:
            return {}
        return self._sealed.open().sources

    def records(self, integration: str) -> SourceRecords:
        """Everything one integration delivered (candidates too, when it was ambiguous)."""
        if integration not in self.sources:
            known = ", ".join(self.sources) or "none"
            raise UsageError(f"this context has no source {integration!r} (sources: {known})")
        return self._records().get(integration, SourceRecords())

    def _first(self, category: Category, pick: Callable[[SourceRecords], T | None]) -> T | None:
        records = self._records()
        for integration, result in self.sources.items():
            if result.category is category and integration in records:
                found = pick(records[integration])
                if found is not None:
                    return found
        return None

    def _all(self, category: Category, pick: Callable[[SourceRecords], tuple[T, ...]]) -> tuple[T, ...]:
        records = self._records()
        return tuple(
            item
            for integration, result in self.sources.items()
            if result.category is category and integration in records
            for item in pick(records[integration])
        )

    @property
    def contact(self) -> Contact | None:
        """The caller's CRM contact (from the first CRM integration that found exactly one)."""
        return self._first(Category.CRM, lambda r: r.contact)

    @property
    def account(self) -> Account | None:
        return self._first(Category.CRM, lambda r: r.account)

    @property
    def tickets(self) -> tuple[Ticket, ...]:
        """The caller's tickets from every ticketing integration, each source's open ones first."""
        return self._all(Category.TICKETING, lambda r: r.tickets)

    @property
    def billing_customer(self) -> BillingCustomer | None:
        return self._first(Category.BILLING, lambda r: r.customer)

    @property
    def balance(self) -> Money | None:
        """What the caller owes (positive) or holds in credit (negative)."""
        return self._first(Category.BILLING, lambda r: r.balance)

    @property
    def invoices(self) -> tuple[Invoice, ...]:
        return self._all(Category.BILLING, lambda r: r.invoices)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._all(Category.BILLING, lambda r: r.subscriptions)

    # --- rendering for a language model ----------------------------------------------------------

    @overload
    def for_llm(self, format: Literal["text"] = "text") -> str: ...

    @overload
    def for_llm(self, format: Literal["json"]) -> dict[str, Any]: ...

    def for_llm(self, format: Literal["text", "json"] = "text") -> str | dict[str, Any]:
        """Render the context for a language model, redacted with the tenant's policy (S6).

        ``text`` is a few lines per source, what a voice agent's prompt can
        afford; ``json`` is the same content as a dict. Both say plainly when
        a source found nothing, found several candidates, ran out of time,
        was denied or failed, so the model never mistakes silence for absence.
        Internal ticket comments are left out unless the tenant's policy opts
        in (``internal_notes``), and its per-field rules apply; the records
        from :meth:`records` and the accessors stay complete for agent code.
        """
        if format == "text":
            return self.__llm_text__(self._policy)
        if format == "json":
            return self.__llm_view__(self._policy)
        raise InvalidArgumentsError("for_llm: format must be 'text' or 'json'")

    def _pairs(self) -> list[tuple[SourceResult, SourceRecords]]:
        records = self._records()
        return [(result, records.get(i, SourceRecords())) for i, result in self.sources.items()]

    def __llm_view__(self, policy: LLMPolicy) -> dict[str, Any]:
        return context_view(self._pairs(), policy)

    def __llm_text__(self, policy: LLMPolicy) -> str:
        return context_text(self._pairs(), policy)

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise UsageError("a CustomerContext cannot be pickled: its data must never leave the process")


# --- the fan-out -------------------------------------------------------------------------------


class _Missing:
    """A step that produced no result (its outcome is in the step record)."""


_MISSING = _Missing()


@dataclass(slots=True)
class _Step:
    operation: str
    started: float
    status: SourceStatus | None = None
    error: str | None = None
    finished: float | None = None

    def finish(self, status: SourceStatus, error: str | None = None) -> None:
        self.status, self.error, self.finished = status, error, time.monotonic()

    def result(self, now: float) -> StepResult:
        status = self.status or SourceStatus.TIMED_OUT
        # A step still in flight at the deadline was cancelled: it ran out of time.
        error = self.error if self.status is not None else DeadlineExceededError.__name__
        latency = ((self.finished or now) - self.started) * 1000
        return StepResult(operation=self.operation, status=status, error=error, latency_ms=round(latency, 3))


def _classify(exc: BaseException) -> SourceStatus:
    if isinstance(exc, (DeadlineExceededError, VendorTimeoutError)):
        return SourceStatus.TIMED_OUT
    if isinstance(exc, VendorNotFoundError):
        return SourceStatus.NOT_FOUND
    if isinstance(exc, AccessDeniedError):
        return SourceStatus.DENIED
    return SourceStatus.FAILED


@dataclass
class _SourceRun:
    """One integration's chain in progress; what it gathered survives its cancellation."""

    conversation: Conversation
    binding: IntegrationBinding
    identity: dict[str, str]
    deadline: float
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    steps: list[_Step] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)
    outcome: SourceStatus | None = None
    """Set by the chain when the lookup answered: not found or ambiguous."""
    candidates: int = 0

    @property
    def connector(self) -> Connector:
        return self.binding.connector

    def implements(self, operation: str) -> bool:
        return operation in type(self.connector).implemented_operations()

    async def call(self, operation: str, **arguments: Any) -> Any:
        """Run one step through the conversation's dispatch; record its outcome, never raise."""
        step = _Step(operation, time.monotonic())
        self.steps.append(step)
        try:
            result = await self.conversation._call(
                self.binding.integration, operation, arguments, deadline=self.deadline
            )
        except Exception as exc:  # noqa: BLE001 - one source's failure must not sink the others
            # Only the class name is kept: a connector's own exception could quote a payload.
            step.finish(_classify(exc), error_kind(exc))
            return _MISSING
        step.finish(SourceStatus.OK)
        return result

    async def run(self) -> None:
        try:
            category = type(self.connector).category
            if category is Category.CRM:
                await self._crm()
            elif category is Category.TICKETING:
                await self._ticketing()
            elif category is Category.BILLING:
                await self._billing()
        finally:
            self.finished = time.monotonic()

    async def _crm(self) -> None:
        if not self.implements("find_contacts"):
            return
        found = await self.call("find_contacts", **self.identity)
        if isinstance(found, _Missing) or not self._one(found, "contact_candidates"):
            return
        hit: Contact = found[0]
        self.records["contact"] = hit

        async def full_contact() -> Contact | None:
            if not self.implements("get_contact"):
                return None
            got = await self.call("get_contact", contact_id=hit.id)
            if isinstance(got, _Missing):
                return None
            contact: Contact = got
            self.records["contact"] = contact
            return contact

        async def account(account_id: str) -> None:
            got = await self.call("get_account", account_id=account_id)
            if not isinstance(got, _Missing):
                self.records["account"] = got

        if not self.implements("get_account"):
            await full_contact()
        elif hit.account_id is not None:
            # The search hit names the account already: fetch both at once, one round trip saved.
            contact, _ = await asyncio.gather(full_contact(), account(hit.account_id))
            moved = contact.account_id if contact is not None else None
            if moved is not None and moved != hit.account_id:
                await account(moved)  # the full record names another account: it wins
        else:
            contact = await full_contact()
            if contact is not None and contact.account_id is not None:
                await account(contact.account_id)

    async def _ticketing(self) -> None:
        if not self.implements("list_tickets"):
            return
        tickets = await self.call("list_tickets", **self.identity, limit=TICKET_LIMIT)
        if isinstance(tickets, _Missing):
            return
        self.records["tickets"] = tuple(tickets)
        if not tickets:
            self.outcome = SourceStatus.NOT_FOUND
            return
        requesters = {t.requester_id for t in tickets if t.requester_id is not None}
        if len(requesters) > 1:
            # Several people share the caller's number: their tickets must not be read out as the caller's.
            self.outcome, self.candidates = SourceStatus.AMBIGUOUS, len(requesters)
            return
        newest_open = next((t for t in tickets if t.status.is_open), None)
        if newest_open is None or not self.implements("get_ticket"):
            return
        detailed = await self.call("get_ticket", ticket_id=newest_open.id)
        if not isinstance(detailed, _Missing):
            self.records["tickets"] = tuple(detailed if t.id == detailed.id else t for t in tickets)

    async def _billing(self) -> None:
        if not self.implements("find_customers"):
            return
        found = await self.call("find_customers", **self.identity)
        if isinstance(found, _Missing) or not self._one(found, "customer_candidates"):
            return
        customer: BillingCustomer = found[0]
        self.records["customer"] = customer
        if customer.balance is not None:
            self.records["balance"] = customer.balance

        async def fetch(operation: str, key: str, **arguments: Any) -> None:
            if self.implements(operation):
                got = await self.call(operation, customer_id=customer.id, **arguments)
                if not isinstance(got, _Missing):
                    self.records[key] = tuple(got) if isinstance(got, list) else got

        steps: list[Awaitable[None]] = [
            fetch("list_invoices", "invoices", limit=INVOICE_LIMIT),
            fetch("list_subscriptions", "subscriptions", limit=SUBSCRIPTION_LIMIT),
        ]
        if customer.balance is None:
            # get_balance is declared fresh-on-every-call (not cached): asked only when the search had none.
            steps.append(fetch("get_balance", "balance"))
        await asyncio.gather(*steps)

    def _one(self, found: list[Any], candidates_key: str) -> bool:
        """True when the lookup found exactly one record; otherwise record why not."""
        if not found:
            self.outcome = SourceStatus.NOT_FOUND
            return False
        if len(found) > 1:
            self.outcome, self.candidates = SourceStatus.AMBIGUOUS, len(found)
            self.records[candidates_key] = tuple(found)
            return False
        return True

    def result(self, now: float) -> SourceResult:
        steps = tuple(step.result(now) for step in self.steps)
        category = type(self.connector).category
        status, error = self._status(steps)
        latency = ((self.finished or now) - self.started) * 1000
        return SourceResult(
            integration=self.binding.integration,
            category=category,
            connector=type(self.connector).name,
            status=status,
            error=error,
            latency_ms=round(latency, 3),
            candidates=self.candidates,
            steps=steps,
        )

    def _status(self, steps: tuple[StepResult, ...]) -> tuple[SourceStatus, str | None]:
        if not steps:
            return SourceStatus.UNSUPPORTED, None
        lookup = steps[0]
        if lookup.status is not SourceStatus.OK:
            return lookup.status, lookup.error
        if self.outcome is not None:
            return self.outcome, None
        for step in steps[1:]:
            if step.status in (SourceStatus.TIMED_OUT, SourceStatus.DENIED, SourceStatus.FAILED):
                return step.status, step.error
        return SourceStatus.OK, None


def _identity(conversation: Conversation, phone: str | None, email: str | None) -> dict[str, str]:
    """Validate the caller's identity once, so one bad value fails the call instead of every source."""
    if phone is None and email is None:
        raise InvalidArgumentsError("customer_context: pass the caller's phone or email (or both)")
    identity: dict[str, str] = {}
    if phone is not None:
        region = conversation._runtime.config.tenants[conversation.tenant].phone_region
        e164 = normalise_phone(phone, region) if isinstance(phone, str) and len(phone) <= 32 else None
        if e164 is None:
            raise InvalidArgumentsError(
                f"customer_context: phone is not a phone number in the tenant's default region ({region}) "
                "or in international form such as +64 21 555 0100"
            )
        # E.164 for every source: the same caller typed two ways shares one set of cache entries.
        identity["phone"] = e164
    if email is not None:
        if not isinstance(email, str) or not 3 <= len(email) <= 254 or not _EMAIL.fullmatch(email):
            raise InvalidArgumentsError("customer_context: email is not an email address")
        identity["email"] = email
    return identity


async def fetch_customer_context(
    conversation: Conversation, *, phone: str | None, email: str | None, budget: float
) -> CustomerContext:
    """Run the fan-out for ``conversation`` (see the module docstring) and seal what arrived."""
    conversation._require_open()
    if (
        isinstance(budget, bool)
        or not isinstance(budget, (int, float))
        or not math.isfinite(budget)
        or budget <= 0
    ):
        raise InvalidArgumentsError("customer_context: budget must be a positive number of seconds")
    identity = _identity(conversation, phone, email)
    runtime = conversation._runtime
    policy = runtime.config.tenants[conversation.tenant].redaction
    bindings = runtime.integrations(conversation.tenant)

    started = time.monotonic()
    deadline = started + budget
    runs = [_SourceRun(conversation, binding, identity, deadline) for binding in bindings.values()]
    try:
        async with asyncio.timeout_at(deadline):
            # gather cancels every chain still running when the timeout cancels it, and returns
            # only after they have all unwound: nothing is left in flight behind the caller's back.
            await asyncio.gather(*(run.run() for run in runs))
    except TimeoutError:
        pass
    now = time.monotonic()
    # Hung up while the sources were answering: nothing fetched may outlive the wipe.
    conversation._require_open()

    context = CustomerContext(
        sources={run.binding.integration: run.result(now) for run in runs},
        budget_ms=round(budget * 1000, 3),
        elapsed_ms=round((now - started) * 1000, 3),
    )
    records = _AllRecords(
        sources={run.binding.integration: SourceRecords(**run.records) for run in runs if run.records}
    )
    context._sealed = _Sealed(conversation._cache, records)
    context._policy = policy
    return context
