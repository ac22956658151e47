"""The customer context as a language model reads it: per source its status and its redacted records.

Rendered straight from the source results and the shared models. The text
form asks the renderer only for the fields it reads out, so a field nobody
reads is never redacted; each field it shows renders exactly as it does in the
JSON form, under the tenant's policy (S6).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

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

_PERSON = ("name", "email", "phone")
_ACCOUNT = ("name", "domain", "industry", "phone")
_TICKET = ("id", "status", "priority", "subject", "updated_at", "created_at", "comments")
_CUSTOMER = ("name", "email", "phone", "card_last4", "delinquent")
_INVOICE = ("number", "id", "status", "amount_due", "total", "due_date")
_SUBSCRIPTION = ("plan_name", "id", "status", "amount", "current_period_end", "cancel_at_period_end")

View = dict[str, JsonValue]


def _trim_ticket(ticket: Ticket, policy: LLMPolicy) -> Ticket:
    """The newest comments the model is shown: dropped internal ones do not take a public one's place."""
    comments: tuple[TicketComment, ...] = ticket.comments
    if policy.internal_notes == "drop":
        comments = tuple(comment for comment in comments if not comment.is_internal())
    if len(comments) > COMMENTS_SHOWN:
        comments = comments[-COMMENTS_SHOWN:]
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
    renderer = LLMRenderer(policy)
    empty = SourceRecords()
    return {
        "sources": {
            integration: _source_view(result, records.get(integration, empty), renderer)
            for integration, result in sources.items()
        }
    }


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


def _ticket_lines(tickets: Sequence[Ticket], renderer: LLMRenderer) -> Iterator[str]:
    shown = [
        (ticket, view)
        for ticket in tickets
        if (view := renderer.record(_trim_ticket(ticket, renderer.policy), _TICKET)) is not None
    ]
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


def _invoice_line(invoice: View) -> str:
    line = (
        f"  - invoice {invoice.get('number') or invoice.get('id', '?')}: {invoice.get('status', 'unknown')}"
    )
    if "amount_due" in invoice:
        line += f", {inline(invoice['amount_due'])} owing"
        if "total" in invoice:
            line += f" of {inline(invoice['total'])}"
    elif "total" in invoice:
        line += f", total {inline(invoice['total'])}"
    if "due_date" in invoice:
        line += f", due {invoice['due_date']}"
    return line


def _subscription_line(subscription: View) -> str:
    line = f"  - subscription {subscription.get('plan_name') or subscription.get('id', '?')}: "
    line += str(subscription.get("status", "unknown"))
    if "amount" in subscription:
        line += f", {inline(subscription['amount'])}"
    if "current_period_end" in subscription:
        line += f", period ends {str(subscription['current_period_end'])[:10]}"
    if subscription.get("cancel_at_period_end") is True:
        line += ", cancels at period end"
    return line


def _billing_lines(records: SourceRecords, renderer: LLMRenderer) -> Iterator[str]:
    customer = None if records.customer is None else renderer.record(records.customer, _CUSTOMER)
    if customer is not None:
        line = "  customer: " + _fields(customer, "name", "email", "phone", "card_last4")
        if customer.get("delinquent") is True:
            line += "; delinquent"
        yield line
    balance = _balance(records, renderer)
    if balance is not None and records.balance is not None:
        yield "  " + _balance_text(balance, records.balance.amount_minor)
    yield from (_invoice_line(view) for view in _records(renderer, records.invoices, _INVOICE))
    yield from (_subscription_line(view) for view in _records(renderer, records.subscriptions, _SUBSCRIPTION))


def _source_lines(result: SourceResult, records: SourceRecords, renderer: LLMRenderer) -> Iterator[str]:
    name = result.integration
    if result.connector != name:
        name += f" ({result.connector})"
    yield f"{_CATEGORY_LABEL[result.category]} {name}: {_status_phrase(result)}"
    candidates = records.contact_candidates or records.customer_candidates
    if result.status is SourceStatus.AMBIGUOUS:
        for candidate in _records(renderer, candidates, (*_PERSON, "id")):
            yield "  candidate: " + _fields(candidate, *_PERSON, "id")
    for label, record, fields in (
        ("contact", records.contact, _PERSON),
        ("account", records.account, _ACCOUNT),
    ):
        shown = None if record is None else renderer.record(record, fields)
        if shown is not None:
            yield f"  {label}: " + _fields(shown, *fields)
    yield from _ticket_lines(records.tickets, renderer)
    yield from _billing_lines(records, renderer)


def context_text(
    sources: Mapping[str, SourceResult], records: Mapping[str, SourceRecords], policy: LLMPolicy
) -> str:
    """The text form of a customer context: a status line per source, a few lines of records under it.

    Every status is said in words ("not found", "ambiguous: 2 candidates",
    "timed out"), so a model never mistakes a source that did not answer for
    a caller who has nothing there.
    """
    renderer = LLMRenderer(policy)
    empty = SourceRecords()
    lines = [f"Caller context from {len(sources)} source(s):"]
    if not sources:
        lines.append("- no integrations are configured for this tenant")
    for integration, result in sources.items():
        lines.extend(_source_lines(result, records.get(integration, empty), renderer))
    return "\n".join(lines)
