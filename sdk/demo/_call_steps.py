"""The demo's call: the caller's context, what the model is given, a refused write and a granted one.

Each step checks what it claims to show (a redacted card and IRD number, a
write the grant refuses, one it allows) and raises :class:`DemoError` if not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sdk import (
    AuditDecision,
    Contact,
    Conversation,
    CustomerContext,
    Invoice,
    InvoiceStatus,
    MemoryAuditSink,
    Money,
    NexoraConnect,
    ScopeDeniedError,
    SourceStatus,
    Subscription,
    Ticket,
)
from sdk.demo._dataset import CALLER, CARD_LIKE, IRD_LIKE
from sdk.demo._hubspot import HubSpotSandbox
from sdk.demo._report import Reporter
from sdk.demo._scene import (
    CONTEXT_BUDGET,
    TENANT,
    DemoError,
)
from sdk.demo._zendesk import ZendeskSandbox

__all__ = ["CallSteps", "Context", "money"]


def money(value: Money | None) -> str:
    if value is None:
        return "-"
    return f"{value.currency} {value.amount_minor / 100:,.2f}"


class CallSteps:
    """The demo's in-call steps; mixed into the run, whose reporter and summary they use."""

    report: Reporter
    summary: dict[str, Any]

    async def _fetch_context(self, conv: Conversation) -> tuple[Context, CustomerContext]:
        r = self.report
        r.step(
            f"Call from {CALLER.phone_international}: fetching the caller's context from 3 sources at once"
            f" (conv.customer_context, budget {CONTEXT_BUDGET:g} s)"
        )
        ctx = await conv.customer_context(phone=CALLER.phone_international, budget=CONTEXT_BUDGET)
        not_ok = {name: str(s.status) for name, s in ctx.sources.items() if s.status is not SourceStatus.OK}
        if not_ok:
            raise DemoError(f"the caller's context is incomplete: {not_ok}")
        contact, account, customer = ctx.contact, ctx.account, ctx.billing_customer
        tickets, invoices, subscriptions = ctx.tickets, ctx.invoices, ctx.subscriptions
        if contact is None or customer is None or not tickets:
            raise DemoError("the caller was not found in every source")
        open_tickets = [t for t in tickets if t.status.is_open]
        if not open_tickets:
            raise DemoError("the caller has no open ticket")
        ticket = open_tickets[0]  # the newest open one, fetched in full (with its comments)
        sources: dict[str, dict[str, Any]] = {
            name: {
                "connector": s.connector,
                "status": str(s.status),
                "calls": len(s.steps),
                "ms": round(s.latency_ms, 1),
            }
            for name, s in ctx.sources.items()
        }
        overdue = [i for i in invoices if i.status is InvoiceStatus.OVERDUE]
        balance = ctx.balance
        status = {name: str(s.status) for name, s in ctx.sources.items()}
        r.line(
            f"crm        {status['crm']:<3} {contact.name} (contact {contact.id}) at "
            f"{account.name if account else '-'}, {(account.industry if account else None) or '-'}"
        )
        r.line(
            f"ticketing  {status['ticketing']:<3} {len(tickets)} tickets, {len(open_tickets)} open; "
            f"newest open #{ticket.id} {ticket.subject!r} ({ticket.status}, {ticket.priority}), "
            f"{len(ticket.comments)} comments"
        )
        r.line(
            f"billing    {status['billing']:<3} balance owed {money(balance)}; "
            f"{describe_invoices(list(invoices))}"
        )
        r.line(f"               {describe_subscriptions(list(subscriptions))}")
        slowest = max(float(s["ms"]) for s in sources.values())
        total = sum(float(s["ms"]) for s in sources.values())
        calls = sum(int(s["calls"]) for s in sources.values())
        r.line(
            f"{calls} calls, all sources at once: {ctx.elapsed_ms:.0f} ms wall time (budget "
            f"{ctx.budget_ms:.0f} ms); slowest source {slowest:.0f} ms, sources added up {total:.0f} ms"
        )
        self.summary["context"] = {
            "sources": sources,
            "wall_ms": round(ctx.elapsed_ms, 1),
            "budget_ms": ctx.budget_ms,
            "complete": ctx.complete,
            "contact_found": True,
            "account_found": account is not None,
            "tickets": len(tickets),
            "open_tickets": len(open_tickets),
            "comments_on_open_ticket": len(ticket.comments),
            "invoices": len(invoices),
            "overdue_invoices": len(overdue),
            "subscriptions": len(subscriptions),
            "balance": balance.model_dump() if balance is not None else None,
        }
        return Context(contact=contact, open_ticket=ticket), ctx

    # --- the call: what the language model is given -----------------------------------

    def _llm_view(self, ctx: CustomerContext) -> None:
        r = self.report
        r.step("What the language model sees: ctx.for_llm(format='text'), redacted by the tenant's policy")
        text = ctx.for_llm(format="text")
        checks = redaction_checks(text)
        # Checked before anything is printed: a leak must stop the demo, not scroll past.
        if not all(checks.values()):
            failed = ", ".join(name for name, ok in checks.items() if not ok)
            raise DemoError(f"the text for the language model is not redacted as promised ({failed})")
        r.lines(f"  | {line}" for line in text.splitlines())
        r.line(
            f"the card number in ticket #{ticket_with_card(text)} shows only its last four "
            f"({_CARD_MARKER}) and the IRD number is masked ({_IRD_MARKER}); "
            "checked: neither number's digits appear in this text"
        )
        self.summary["llm_text"] = checks

    def _tools(self, conv: Conversation, nc: NexoraConnect) -> list[str]:
        r = self.report
        r.step("Tools offered to the model: conv.tools('openai'), exactly the operations the tenant granted")
        definitions = conv.tools("openai")
        names = [str(d["function"]["name"]) for d in definitions]
        bindings = nc.integrations(TENANT)
        writes: dict[str, bool] = {}
        ungranted: list[str] = []
        for name in names:
            integration, _, operation = name.partition("__")
            binding = bindings[integration]
            spec = type(binding.connector).operations[operation]
            writes[name] = spec.is_write
            if spec.is_write and not binding.grant.allows(spec.scope):
                ungranted.append(name)
        for integration in bindings:
            listed = [
                f"{n} ({'WRITE' if writes[n] else 'read'})" for n in names if n.startswith(f"{integration}__")
            ]
            r.line(f"{integration:<10} " + ", ".join(listed))
        refused, granted = "crm__create_note", "ticketing__add_comment"
        if ungranted or refused in names or granted not in names or not writes.get(granted):
            raise DemoError("the tools offered do not match the tenant's grants")
        r.line(
            f"{len(names)} tools, {sum(writes.values())} of them a write; {refused} "
            f"(notes:write, not granted) is not offered, {granted} (comments:write, granted) is"
        )
        self.summary["tools_offered"] = names
        self.summary["ungranted_write_offered"] = bool(ungranted) or refused in names
        return names

    async def _invoke(self, conv: Conversation, zendesk: ZendeskSandbox, ticket: Ticket) -> None:
        r = self.report
        tool = "ticketing__get_ticket"
        arguments = {"ticket_id": ticket.id}
        mark = zendesk.mark()
        result = await conv.invoke(tool, arguments)
        if not result.ok or not isinstance(result.content, dict):
            raise DemoError(f"the model's {tool} call did not return a ticket")
        text = result.as_json()
        checks = redaction_checks(text)
        if not all(checks.values()):
            raise DemoError(f"the result of {tool} handed to the model is not redacted")
        content = result.content
        comments = content.get("comments")
        reached = len(zendesk.requests_since(mark))
        r.line(
            f"the model calls {tool}({json.dumps(arguments)}) -> ok: ticket #{content.get('id')} "
            f"{content.get('subject')!r}, {len(comments) if isinstance(comments, list) else 0} comments, "
            f"{len(text)} chars of redacted JSON ({_CARD_MARKER}, {_IRD_MARKER}); "
            f"{'served from the conversation cache' if reached == 0 else f'{reached} Zendesk request(s)'}"
        )
        self.summary["tool_invocation"] = {
            "tool": tool,
            "ok": result.ok,
            "vendor_requests": reached,
            "redacted": all(checks.values()),
        }

    # --- the call: a refused write and a granted one ----------------------------------

    async def _refused_write(
        self, conv: Conversation, crm: HubSpotSandbox, audit: MemoryAuditSink, contact: Contact
    ) -> None:
        r = self.report
        r.step("The agent tries to write a call note to the CRM, which the tenant granted read-only")
        mark = crm.mark()
        try:
            await conv.call(
                "crm", "create_note", contact_id=contact.id, body="Caller rang about invoice KPL-0042."
            )
        except ScopeDeniedError as exc:
            denied = exc
        else:
            raise DemoError("create_note on a read-only integration was not refused")
        reached = crm.requests_since(mark)
        record = audit.records[-1]
        if reached or record.decision is not AuditDecision.DENIED:
            raise DemoError("the refused write reached the vendor or was not audited as denied")
        r.line(f"ScopeDeniedError: {denied}")
        r.line(
            f"requests that reached HubSpot for it: {len(reached)}; writes HubSpot has ever received: "
            f"{len(crm.writes)}; audit: {record.decision} {record.scope}"
        )
        self.summary["scope_denial"] = {
            "integration": "crm",
            "operation": "create_note",
            "scope": denied.scope,
            "error": type(denied).__name__,
            "vendor_requests": len(reached),
            "vendor_writes_total": len(crm.writes),
            "audit_decision": str(record.decision),
        }

    async def _granted_write(self, conv: Conversation, zendesk: ZendeskSandbox, ticket: Ticket) -> None:
        r = self.report
        r.step(f"The agent adds an internal note to ticket #{ticket.id} (granted: comments:write)")
        mark = zendesk.mark()
        updated: Ticket = await conv.call(
            "ticketing",
            "add_comment",
            ticket_id=ticket.id,
            body="Voice agent: caller confirmed the double charge on KPL-0042; call back after 5pm.",
            public=False,
        )
        writes = [req for req in zendesk.requests_since(mark) if req.write]
        if len(writes) != 1 or writes[0].status != 200:
            raise DemoError("the granted write did not reach the vendor exactly once")
        public = [c.public for c in updated.comments]
        r.line(f"Zendesk recorded 1 write: {writes[0].method} {writes[0].path} -> {writes[0].status}")
        r.line(f"new comment is internal (public={public[-1] if public else '?'})")
        self.summary["granted_write"] = {
            "integration": "ticketing",
            "operation": "add_comment",
            "scope": "comments:write",
            "performed": True,
            "vendor_writes": len(writes),
            "public": public[-1] if public else None,
        }


@dataclass(frozen=True, slots=True)
class Context:
    """What the context fetch found that later steps use: the caller and their open ticket."""

    contact: Contact
    open_ticket: Ticket


_CARD_MARKER = f"[card ending {CARD_LIKE[-4:]}]"
_IRD_MARKER = "[redacted NZ IRD number]"


def redaction_checks(text: str) -> dict[str, bool]:
    """What the demo promises about the text handed to a model, each as one boolean."""

    def digits(value: str) -> str:
        return "".join(c for c in value if c.isdigit())

    return {
        "card_last4_shown": _CARD_MARKER in text,
        "card_digits_absent": CARD_LIKE not in text and digits(CARD_LIKE) not in text,
        "ird_masked": _IRD_MARKER in text,
        "ird_digits_absent": IRD_LIKE not in text and digits(IRD_LIKE) not in text,
    }


def ticket_with_card(text: str) -> str:
    """The ticket number whose comment carried the card, as the text shows it (for the narration)."""
    ticket = "?"
    for line in text.splitlines():
        found = re.match(r"\s*- #(\S+) ", line)
        if found:
            ticket = found.group(1)
        if _CARD_MARKER in line:
            return ticket
    return ticket


def describe_invoices(invoices: list[Invoice]) -> str:
    parts = [
        f"{i.number or i.id} {i.status} {money(i.amount_due)} due"
        if i.status in (InvoiceStatus.OPEN, InvoiceStatus.OVERDUE)
        else f"{i.number or i.id} {i.status} ({money(i.total)})"
        for i in invoices
    ]
    return f"{len(invoices)} invoices: " + ", ".join(parts)


def describe_subscriptions(subscriptions: list[Subscription]) -> str:
    parts = [f"{s.plan_name or s.id} ({s.status}, {money(s.amount)}/period)" for s in subscriptions]
    return f"{len(subscriptions)} subscription: " + ", ".join(parts) if parts else "no subscription"
