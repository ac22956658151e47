"""The fan-out behind ``conv.customer_context(...)``: the caller resolved across all integrations at once.

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
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from sdk import _metrics
from sdk._call._caller_id import caller_identity
from sdk._call._customer_context import CustomerContext, seal_context
from sdk._call._ports import CallScope
from sdk._call._sources import SourceRecords, SourceResult, SourceStatus, StepResult
from sdk._connector import Category, Connector
from sdk._dispatch import IntegrationBinding, collecting_notes
from sdk._errors import (
    AccessDeniedError,
    DeadlineExceededError,
    InvalidArgumentsError,
    VendorNotFoundError,
    VendorTimeoutError,
    error_kind,
)
from sdk._models import BillingCustomer, Contact
from sdk._parsing._notes import ReadNotes
from sdk._telemetry import start_step_span

__all__ = ["fetch_customer_context"]

TICKET_LIMIT = 5
"""Tickets asked for per ticketing source: an agent reads out a handful, open ones first."""
INVOICE_LIMIT = 5
SUBSCRIPTION_LIMIT = 5

_ANY_IDENTIFIER = frozenset({"phone", "email"})
"""What a connector can find the caller by unless it declares ``lookup_by`` (a ClassVar)."""

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

    scope: CallScope
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
    notes: ReadNotes = field(default_factory=ReadNotes)
    """What this source's steps could not read (records skipped, field paths, a walk cut short)."""

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
            result = await self.scope.run(self.binding.integration, operation, arguments, self.deadline)
        except Exception as exc:  # noqa: BLE001 - one source's failure must not sink the others
            # Only the class name is kept: a connector's own exception could quote a payload.
            step.finish(_classify(exc), error_kind(exc))
            return _MISSING
        step.finish(SourceStatus.OK)
        return result

    async def run(self) -> None:
        connector = type(self.connector)
        # Only the identifiers this connector can search by; with none left, the source is
        # ``unsupported`` (nothing is asked), not ``failed``: JSM customers have no phone number.
        searchable = getattr(connector, "lookup_by", _ANY_IDENTIFIER)
        self.identity = {name: value for name, value in self.identity.items() if name in searchable}
        if not self.identity:
            self.finished = time.monotonic()
            return
        # Current for this source's task only, so its steps' operation spans nest under it.
        span = start_step_span(
            f"customer_context {connector.name}",
            {
                "nexora.integration": self.binding.integration,
                "nexora.connector": connector.name,
                "nexora.category": connector.category.value,
            },
        )
        try:
            # Every step's dispatch adds its notes here (steps run concurrently share the object).
            with collecting_notes() as self.notes:
                category = connector.category
                if category is Category.CRM:
                    await self._crm()
                elif category is Category.TICKETING:
                    await self._ticketing()
                elif category is Category.BILLING:
                    await self._billing()
        finally:
            self.finished = time.monotonic()
            if span is not None:
                status, error = self._status(tuple(step.result(self.finished) for step in self.steps))
                span.end({"nexora.source_status": status.value}, error_type=error)

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
            records_skipped=self.notes.records_skipped,
            skipped_fields=tuple(self.notes.fields),
            truncated=self.notes.truncated,
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


async def fetch_customer_context(
    scope: CallScope, *, phone: str | None, email: str | None, budget: float
) -> CustomerContext:
    """Run the fan-out for the conversation of ``scope`` (see the module docstring) and seal what arrived."""
    scope.ensure_open()
    if (
        isinstance(budget, bool)
        or not isinstance(budget, (int, float))
        or not math.isfinite(budget)
        or budget <= 0
    ):
        raise InvalidArgumentsError("customer_context: budget must be a positive number of seconds")
    identity = caller_identity(phone, email, region=scope.runtime.phone_region(scope.tenant))
    policy = scope.runtime.policy(scope.tenant)
    if not identity:
        # Withheld caller ID and nothing else: a normal call, nobody to look up, nothing sent.
        return seal_context(
            CustomerContext(sources={}, budget_ms=round(budget * 1000, 3), elapsed_ms=0.0, identified=False),
            {},
            cache=scope.cache,
            policy=policy,
        )
    bindings = scope.runtime.integrations(scope.tenant)

    started = time.monotonic()
    deadline = started + budget
    runs = [_SourceRun(scope, binding, identity, deadline) for binding in bindings.values()]
    # The parent of the per-source spans; it records counts and statuses, never the caller's identity.
    span = start_step_span("customer_context", {"nexora.tenant": scope.tenant, "nexora.sources": len(runs)})
    try:
        try:
            async with asyncio.timeout_at(deadline):
                # gather cancels every chain still running when the timeout cancels it, and returns
                # only after they have all unwound: nothing is left in flight behind the caller's back.
                await asyncio.gather(*(run.run() for run in runs))
        except TimeoutError:
            pass
        now = time.monotonic()
        # Hung up while the sources were answering: nothing fetched may outlive the wipe.
        scope.ensure_open()
    except BaseException as exc:
        if span is not None:
            span.end(error_type=error_kind(exc))
        raise

    context = CustomerContext(
        sources={run.binding.integration: run.result(now) for run in runs},
        budget_ms=round(budget * 1000, 3),
        elapsed_ms=round((now - started) * 1000, 3),
    )
    if span is not None:
        span.end({"nexora.complete": context.complete})
    _record(scope, bindings, context, now - started)
    records = {run.binding.integration: SourceRecords(**run.records) for run in runs if run.records}
    return seal_context(context, records, cache=scope.cache, policy=policy)


def _record(
    scope: CallScope, bindings: dict[str, IntegrationBinding], context: CustomerContext, seconds: float
) -> None:
    """The fan-out's and each source's latency, by status, for the health metrics."""
    region = next((binding.region for binding in bindings.values()), None)
    _metrics.record_customer_context(
        tenant=scope.tenant,
        region=region,
        seconds=seconds,
        complete=context.complete,
        sources=[(i, s.status.value, s.latency_ms / 1000) for i, s in context.sources.items()],
    )
