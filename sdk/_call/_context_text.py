"""The customer context as a language model reads it: per source its status and its redacted records.

Rendered straight from the source results and the shared models. The text
form asks the renderer only for the fields it reads out, so a field nobody
reads is never redacted; each field it shows renders exactly as it does in the
JSON form, under the tenant's policy (S6).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, JsonValue

from sdk._call._policy import LLMPolicy
from sdk._call._render import LLMRenderer, inline
from sdk._call._sources import SourceRecords, SourceResult, SourceStatus
from sdk._connector import Category
from sdk._models import BillingCustomer, Ticket, TicketComment, TicketPriority

__all__ = ["COMMENTS_SHOWN", "COMMENT_CHARS", "context_text", "context_view"]

COMMENTS_SHOWN = 3
"""Newest comments of a detailed ticket handed to the model; older ones stay in the records."""
COMMENT_CHARS = 280
"""Longest comment excerpt in the text rendering (cut after redaction, never before)."""

_CATEGORY_LABEL = {Category.CRM: "CRM", Category.TICKETING: "Tickets", Category.BILLING: "Billing"}
_LOOKED_FOR = {Category.CRM: "contact", Category.TICKETING: "ticket", Category.BILLING: "billing customer"}
_OMIT = ("source",)
"""Each record's ``source`` is left out: records are grouped by source already, and tokens cost latency."""

_PERSON: tuple[str, ...] = ("name", "email", "phone")
_ACCOUNT: tuple[str, ...] = ("name", "domain", "industry", "phone")
_TICKET = ("id", "status", "priority", "subject", "updated_at", "created_at")
_COMMENT = ("body", "public", "created_at")
_CUSTOMER = ("name", "email", "phone", "card_last4", "delinquent")
_INVOICE = ("number", "status", "amount_due", "total", "due_date")
_SUBSCRIPTION = ("plan_name", "status", "amount", "current_period_end", "cancel_at_period_end")
_CANDIDATE = (*_PERSON, "id")
_ID = ("id",)
"""Read out only when a record has no number or name to go by: redacted only then."""

View = dict[str, JsonValue]
BATCHED_REDACTION = False
"""Redact a context's strings in one ``redact_many`` call once all its records are rendered.

Off because it does not pay yet: on the benchmark context (27 strings in the
text, 38 in the JSON) ``redact_many`` took 91 and 118 µs against 89 and 117 µs
one string at a time, and the batch's bookkeeping adds about 8 µs. Both ways
render the same bytes (tests/llm_policy/test_render_pinned.py runs both);
switch it on once the engine's batch beats its loop.
"""
_NO_RECORDS = SourceRecords()
"""What a source that delivered nothing renders from (frozen: one instance serves every rendering)."""


def _shown_comments(ticket: Ticket, policy: LLMPolicy) -> tuple[TicketComment, ...]:
    """The newest comments the model is shown: dropped internal ones do not take a public one's place."""
    comments: tuple[TicketComment, ...] = ticket.comments
    if policy.internal_notes == "drop":
        comments = tuple(comment for comment in comments if not comment.is_internal())
    if len(comments) > COMMENTS_SHOWN:
        comments = comments[-COMMENTS_SHOWN:]
    return comments


def _trim_ticket(ticket: Ticket, policy: LLMPolicy) -> Ticket:
    """``ticket`` with only the comments the model is shown."""
    comments = _shown_comments(ticket, policy)
    return ticket if comments == ticket.comments else ticket.model_copy(update={"comments": comments})


def _records(
    renderer: LLMRenderer, items: Sequence[BaseModel], fields: Collection[str] | None = None
) -> list[View]:
    shown = (renderer.record(item, fields, omit=_OMIT) for item in items)
    return [item for item in shown if item is not None]


def _balance(records: SourceRecords, renderer: LLMRenderer) -> JsonValue:
    """The source's balance is the customer's: the tenant's rule for ``BillingCustomer.balance`` holds."""
    if records.balance is None:
        return None
    return renderer.field_view(records.balance, BillingCustomer, "balance")


def _source_view(result: SourceResult, records: SourceRecords, renderer: LLMRenderer) -> View:
    view: View = {
        "category": result.category.value,
        "connector": result.connector,
        "status": result.status.value,
    }
    if result.error is not None:
        view["error"] = result.error
    candidates = records.contact_candidates or records.customer_candidates
    if result.status is SourceStatus.AMBIGUOUS and candidates:
        view["candidates"] = list[JsonValue](_records(renderer, candidates))
    for name in ("contact", "account"):
        record = getattr(records, name)
        shown = None if record is None else renderer.record(record, omit=_OMIT)
        if shown is not None:
            view[name] = shown
    tickets = _records(renderer, [_trim_ticket(t, renderer.policy) for t in records.tickets])
    if tickets:
        view["tickets"] = list[JsonValue](tickets)
    customer = None if records.customer is None else renderer.record(records.customer, omit=_OMIT)
    if customer is not None:
        view["customer"] = customer
    balance = _balance(records, renderer)
    if balance is not None:
        view["balance"] = balance
        if customer is not None:
            customer.pop("balance", None)  # said once, at the top of the source
    for name, items in (("invoices", records.invoices), ("subscriptions", records.subscriptions)):
        shown_items = _records(renderer, items)
        if shown_items:
            view[name] = list[JsonValue](shown_items)
    return view


def context_view(
    sources: Mapping[str, SourceResult], records: Mapping[str, SourceRecords], policy: LLMPolicy
) -> dict[str, JsonValue]:
    """The JSON form of a customer context: per source its status and its redacted records."""
    renderer = LLMRenderer(policy, batched=BATCHED_REDACTION)
    view: dict[str, JsonValue] = {
        "sources": {
            integration: _source_view(result, records.get(integration, _NO_RECORDS), renderer)
            for integration, result in sources.items()
        }
    }
    renderer.resolve()  # when batched: every string of every record, redacted in one call
    return view


# --- text ----------------------------------------------------------------------------------------


def _status_phrase(result: SourceResult) -> str:
    status = result.status
    if status is SourceStatus.OK:
        return "ok"
    if status is SourceStatus.NOT_FOUND:
        return f"not found (no {_LOOKED_FOR.get(result.category, 'record')} matches the caller)"
    if status is SourceStatus.AMBIGUOUS:
        if result.category is Category.TICKETING:
            return (
                f"ambiguous: {result.candidates} candidates "
                "(tickets of several requesters; ask who is calling)"
            )
        return f"ambiguous: {result.candidates} candidates (do not assume which one; ask the caller)"
    if status is SourceStatus.UNSUPPORTED:
        return "unsupported (the connector offers no lookup)"
    words = status.value.replace("_", " ")
    return f"{words} ({result.error})" if result.error else words


def _fields(view: View, *names: str) -> str:
    return "; ".join(f"{name.replace('_', ' ')} {inline(view[name])}" for name in names if name in view)


def _one_line(text: JsonValue, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _balance_text(shown: JsonValue, balance: int) -> str:
    if not isinstance(shown, dict):
        return f"balance {inline(shown)}"  # masked by the tenant's policy
    currency, amount = shown["currency"], str(shown["amount"])
    if balance < 0:
        return f"in credit {currency} {amount.removeprefix('-')}"
    if balance == 0:
        return f"balance {currency} {amount} (nothing owed)"
    return f"owes {currency} {amount}"


def _ticket_view(ticket: Ticket, renderer: LLMRenderer) -> View | None:
    """What the text reads of a ticket: its head, and the few fields of each comment shown."""
    if not renderer.shows_as_is(Ticket, "comments"):
        return renderer.record(_trim_ticket(ticket, renderer.policy), (*_TICKET, "comments"))
    view = renderer.record(ticket, _TICKET)
    if view is not None:
        comments = _records(renderer, _shown_comments(ticket, renderer.policy), _COMMENT)
        if comments:
            view["comments"] = list[JsonValue](comments)
    return view


def _ticket_lines(shown: Sequence[tuple[Ticket, View]], renderer: LLMRenderer) -> Iterator[str]:
    if not shown:
        return
    # Counted from the statuses the model is shown: a status the policy hides counts as not open.
    status_shown = renderer.shows_as_is(Ticket, "status")
    # A priority the policy masks is shown masked whatever it is, so its absence tells nothing either.
    priority_shown = renderer.shows_as_is(Ticket, "priority")
    open_count = sum(
        1 for ticket, view in shown if status_shown and "status" in view and ticket.status.is_open
    )
    yield f"  {len(shown)} recent ticket(s), {open_count} open:"
    for ticket, view in shown:
        head = f"  - #{view.get('id', '?')} {view.get('status', 'unknown')}"
        if "priority" in view and not (priority_shown and ticket.priority is TicketPriority.UNKNOWN):
            head += f", {view['priority']} priority"
        if "subject" in view:
            head += f": {_one_line(view['subject'], 120)}"
        updated = str(view.get("updated_at") or view.get("created_at") or "")[:10]
        if updated:
            head += f" (updated {updated})"
        yield head
        comments = view.get("comments", [])
        for comment in comments if isinstance(comments, list) else []:
            if not isinstance(comment, dict):
                continue
            kind = "public reply" if comment.get("public") is True else "internal note"
            when = str(comment.get("created_at", ""))[:10]
            yield f"      {kind} {when}: {_one_line(comment.get('body', ''), COMMENT_CHARS)}"


def _label(view: View, record: BaseModel, name: str, renderer: LLMRenderer) -> tuple[View, str]:
    """Where a line's label is read: ``view[name]``, else the record's id (rendered only then).

    Decided before the batch is resolved: an unresolved string is a non-empty
    one, and redaction never empties a string, so the choice is the same after.
    """
    if view.get(name):
        return view, name
    return renderer.record(record, _ID) or {}, "id"


def _invoice_line(invoice: View, label: JsonValue) -> str:
    line = f"  - invoice {label}: {invoice.get('status', 'unknown')}"
    if "amount_due" in invoice:
        line += f", {inline(invoice['amount_due'])} owing"
        if "total" in invoice:
            line += f" of {inline(invoice['total'])}"
    elif "total" in invoice:
        line += f", total {inline(invoice['total'])}"
    if "due_date" in invoice:
        line += f", due {invoice['due_date']}"
    return line


def _subscription_line(subscription: View, label: JsonValue) -> str:
    line = f"  - subscription {label}: "
    line += str(subscription.get("status", "unknown"))
    if "amount" in subscription:
        line += f", {inline(subscription['amount'])}"
    if "current_period_end" in subscription:
        line += f", period ends {str(subscription['current_period_end'])[:10]}"
    if subscription.get("cancel_at_period_end") is True:
        line += ", cancels at period end"
    return line


@dataclass(slots=True)
class _SourceText:
    """What the text reads of one source: rendered first, written out once every string is redacted."""

    result: SourceResult
    candidates: list[View]
    people: list[tuple[str, View, tuple[str, ...]]]
    tickets: list[tuple[Ticket, View]]
    customer: View | None
    balance: JsonValue
    balance_minor: int
    invoices: list[tuple[View, tuple[View, str]]]
    subscriptions: list[tuple[View, tuple[View, str]]]


def _source_text(result: SourceResult, records: SourceRecords, renderer: LLMRenderer) -> _SourceText:
    candidates: list[View] = []
    if result.status is SourceStatus.AMBIGUOUS:
        candidates = _records(renderer, records.contact_candidates or records.customer_candidates, _CANDIDATE)
    people = [
        (label, shown, fields)
        for label, record, fields in (
            ("contact", records.contact, _PERSON),
            ("account", records.account, _ACCOUNT),
        )
        if record is not None and (shown := renderer.record(record, fields)) is not None
    ]
    customer = None if records.customer is None else renderer.record(records.customer, _CUSTOMER)
    return _SourceText(
        result=result,
        candidates=candidates,
        people=people,
        tickets=[(t, view) for t in records.tickets if (view := _ticket_view(t, renderer)) is not None],
        customer=customer,
        balance=_balance(records, renderer),
        balance_minor=0 if records.balance is None else records.balance.amount_minor,
        invoices=[
            (view, _label(view, invoice, "number", renderer))
            for invoice in records.invoices
            if (view := renderer.record(invoice, _INVOICE)) is not None
        ],
        subscriptions=[
            (view, _label(view, subscription, "plan_name", renderer))
            for subscription in records.subscriptions
            if (view := renderer.record(subscription, _SUBSCRIPTION)) is not None
        ],
    )


def _source_lines(shown: _SourceText, renderer: LLMRenderer) -> Iterator[str]:
    result = shown.result
    name = result.integration
    if result.connector != name:
        name += f" ({result.connector})"
    yield f"{_CATEGORY_LABEL[result.category]} {name}: {_status_phrase(result)}"
    for candidate in shown.candidates:
        yield "  candidate: " + _fields(candidate, *_CANDIDATE)
    for label, view, fields in shown.people:
        yield f"  {label}: " + _fields(view, *fields)
    yield from _ticket_lines(shown.tickets, renderer)
    if shown.customer is not None:
        line = "  customer: " + _fields(shown.customer, "name", "email", "phone", "card_last4")
        if shown.customer.get("delinquent") is True:
            line += "; delinquent"
        yield line
    if shown.balance is not None:
        yield "  " + _balance_text(shown.balance, shown.balance_minor)
    for view, (holder, key) in shown.invoices:
        yield _invoice_line(view, holder.get(key, "?"))
    for view, (holder, key) in shown.subscriptions:
        yield _subscription_line(view, holder.get(key, "?"))


def context_text(
    sources: Mapping[str, SourceResult], records: Mapping[str, SourceRecords], policy: LLMPolicy
) -> str:
    """The text form of a customer context: a status line per source, a few lines of records under it.

    Every status is said in words ("not found", "ambiguous: 2 candidates",
    "timed out"), so a model never mistakes a source that did not answer for
    a caller who has nothing there. Every record is rendered before a line is
    written, so that a batched renderer (:data:`BATCHED_REDACTION`) can redact
    all their strings in one call first.
    """
    renderer = LLMRenderer(policy, batched=BATCHED_REDACTION)
    shown = [
        _source_text(result, records.get(integration, _NO_RECORDS), renderer)
        for integration, result in sources.items()
    ]
    renderer.resolve()
    lines = [f"Caller context from {len(sources)} source(s):"]
    if not sources:
        lines.append("- no integrations are configured for this tenant")
    for source in shown:
        lines.extend(_source_lines(source, renderer))
    return "\n".join(lines)
