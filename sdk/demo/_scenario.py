"""The demo: one simulated phone call, end to end, on embedded defaults.

It starts a throwaway OpenBao dev server and three sandbox vendor APIs on
loopback, seeds a demo tenant's keys into Vault, and runs a call through the
public SDK exactly as a voice agent would: a concurrent context fetch, a write
the tenant did not grant, one it did, a key rotation mid-call, and the hangup.
Every claim the narration makes is checked against what actually happened
(the sandboxes' request logs, the audit records); a claim that does not hold
raises :class:`DemoError`.

Keys are generated here, written to Vault and handed to the sandboxes; they
are never printed, logged or written to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import hvac
from pydantic import SecretStr

from sdk import (
    AuditDecision,
    Contact,
    Conversation,
    ConversationClosedError,
    CustomerContext,
    Invoice,
    InvoiceStatus,
    MemoryAuditSink,
    Money,
    NexoraConfig,
    NexoraConnect,
    ScopeDeniedError,
    SourceStatus,
    Subscription,
    Ticket,
    VaultPermissionError,
)
from sdk.demo._dataset import CALLER, CARD_LIKE, IRD_LIKE, Clock
from sdk.demo._hubspot import HubSpotSandbox
from sdk.demo._report import Reporter, audit_row, format_audit
from sdk.demo._sandbox import SandboxServer
from sdk.demo._stripe import StripeSandbox
from sdk.demo._zendesk import ZendeskSandbox
from vault import (
    ApiKeyCredential,
    BasicCredential,
    Credential,
    CredentialStore,
    OpenBaoDevServer,
    VaultSettings,
    credential_path,
    tenant_policy_hcl,
)

__all__ = ["DemoError", "run_demo"]

TENANT = "demo-tenant"
OTHER_TENANT = "other-tenant"
CONVERSATION_ID = "demo-call-0001"
ZENDESK_AGENT = "voice-agent@demo-isp.example"
MAX_STALENESS = 30.0
"""Seconds the SDK may reuse a key it read (the default is 0: read Vault on every call).

The demo allows reuse so that the rotation step shows the other half of S4: a
reused key the vendor rejects is dropped, Vault is read again and the request
is resent, without the call failing."""

CONTEXT_BUDGET = 1.5
"""Seconds ``conv.customer_context`` may take. A voice agent would give it about 0.4 s; the demo
allows more so that a loaded machine (the first Vault reads included) still completes every source."""


class DemoError(Exception):
    """A step of the demo did not show what it claims to show."""


def _new_key(prefix: str) -> str:
    """Return a fresh random key; each vendor's prefix makes a leaked one easy to spot."""
    return prefix + secrets.token_urlsafe(24)


@dataclass(slots=True)
class _Sandboxes:
    crm: HubSpotSandbox
    ticketing: ZendeskSandbox
    billing: StripeSandbox

    def all(self) -> dict[str, SandboxServer]:
        return {"crm": self.crm, "ticketing": self.ticketing, "billing": self.billing}


def _money(value: Money | None) -> str:
    if value is None:
        return "-"
    return f"{value.currency} {value.amount_minor / 100:,.2f}"


class _Demo:
    """One run of the demo; ``runtime`` is exposed so that a SIGTERM handler can wipe it."""

    def __init__(self, reporter: Reporter) -> None:
        self.report = reporter
        self.runtime: NexoraConnect | None = None
        self.summary: dict[str, Any] = {"ok": False, "tenant": TENANT, "conversation_id": CONVERSATION_ID}
        self.terminated = False

    # --- the whole run ---------------------------------------------------------------

    async def main(self) -> int:
        """Run the demo; return 0, or 130 when SIGTERM cut it short (after cleaning up)."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        restore = _on_sigterm(loop, lambda: self._terminate(task))
        try:
            await self.run()
            return 0
        except asyncio.CancelledError:
            if not self.terminated:
                raise
            self.summary["interrupted"] = "SIGTERM"
            return 130
        finally:
            restore()

    def _terminate(self, task: asyncio.Task[Any]) -> None:
        # Wipe first, synchronously: whatever happens to the cleanup below, no caller data outlives
        # the signal. A second SIGTERM must not cancel the cleanup the first one started.
        if self.terminated:
            return
        self.terminated = True
        if self.runtime is not None:
            self.runtime.wipe_all("SIGTERM received")
        task.cancel()

    async def run(self) -> None:
        started = time.perf_counter()
        r = self.report
        r.title("Nexora Connect demo: one phone call, end to end, on this machine only")
        bao = OpenBaoDevServer()
        clock = Clock()
        sandboxes = _Sandboxes(
            crm=HubSpotSandbox(clock),
            ticketing=ZendeskSandbox(clock, agent_email=ZENDESK_AGENT),
            billing=StripeSandbox(clock),
        )
        async with contextlib.AsyncExitStack() as stack:
            # Registered before starting, so that every started piece is stopped on any exit.
            stack.callback(bao.stop)
            settings = self._start_vault(bao)
            admin = CredentialStore()
            stack.push_async_callback(admin.aclose)
            keys = await self._seed_keys(admin, settings, bao.root_token)
            tenant_token = await self._tenant_token(bao, settings)
            for sandbox in sandboxes.all().values():
                stack.callback(sandbox.stop)
            self._start_sandboxes(sandboxes, keys)
            audit = MemoryAuditSink()
            nc = self._runtime(settings, sandboxes, audit, tenant_token)
            stack.push_async_callback(nc.aclose)
            self.runtime = nc

            conv = nc.conversation(tenant=TENANT, conversation_id=CONVERSATION_ID)
            stack.push_async_callback(conv.hangup)
            context, ctx = await self._fetch_context(conv)
            self._llm_view(ctx)
            self._tools(conv, nc)
            await self._invoke(conv, sandboxes.ticketing, context.open_ticket)
            await self._refused_write(conv, sandboxes.crm, audit, context.contact)
            await self._granted_write(conv, sandboxes.ticketing, context.open_ticket)
            await self._rotate(conv, admin, sandboxes.crm, audit, keys["crm"])
            await self._hang_up(conv, nc, context.contact)
            self._audit_trail(audit)
            r.step("Stopping everything")
        self.summary["cleanup"] = {
            "sandboxes_stopped": not any(s.running for s in sandboxes.all().values()),
            "openbao_stopped": not bao.running,
        }
        r.line(
            "sandboxes stopped, OpenBao dev server stopped (it kept everything in memory; no file written)"
        )
        elapsed = time.perf_counter() - started
        self.summary["elapsed_s"] = round(elapsed, 3)
        self.summary["ok"] = True
        r.line()
        r.title(f"Demo finished in {elapsed:.2f} s")

    # --- setting the scene: Vault, keys, sandboxes, the runtime -------------------------

    def _start_vault(self, bao: OpenBaoDevServer) -> VaultSettings:
        self.report.step("Starting a local OpenBao dev server (in memory, loopback only)")
        bao.start()
        self.report.line(f"OpenBao listening at {bao.address}; its root token never leaves this process")
        self.summary["vault"] = {"address": bao.address}
        return VaultSettings(address=bao.address, region="nz")

    async def _seed_keys(
        self, admin: CredentialStore, settings: VaultSettings, root_token: str
    ) -> dict[str, str]:
        r = self.report
        r.step(f"Seeding tenant {TENANT}'s vendor keys into Vault (KV v2, random keys, never shown)")
        for tenant in (TENANT, OTHER_TENANT):
            admin.register_tenant(tenant, settings=settings, region="nz", token=root_token)
        keys = {"crm": _new_key("pat-na1-"), "ticketing": _new_key("zdtok-"), "billing": _new_key("sk_test_")}
        credentials: dict[str, Credential] = {
            "crm": ApiKeyCredential(api_key=SecretStr(keys["crm"])),
            "ticketing": BasicCredential(
                username=f"{ZENDESK_AGENT}/token", password=SecretStr(keys["ticketing"])
            ),
            "billing": ApiKeyCredential(api_key=SecretStr(keys["billing"])),
        }
        versions = await asyncio.gather(
            *(admin.put(TENANT, integration, cred, cas=0) for integration, cred in credentials.items())
        )
        for (integration, cred), version in zip(credentials.items(), versions, strict=True):
            path = f"{settings.mount}/{credential_path(settings, TENANT, integration)}"
            r.line(f"{integration:<10} {cred.type:<8} -> {path}  (version {version})")
        # Another tenant on the same Vault, to show that the demo tenant's token cannot reach it.
        await admin.put(OTHER_TENANT, "crm", ApiKeyCredential(api_key=SecretStr(_new_key("pat-na1-"))), cas=0)
        r.line(
            f"crm        api_key  -> {settings.mount}/{credential_path(settings, OTHER_TENANT, 'crm')}"
            "  (another tenant)"
        )
        return keys

    async def _tenant_token(self, bao: OpenBaoDevServer, settings: VaultSettings) -> str:
        r = self.report
        r.step(f"Giving the SDK a Vault token that can read tenant {TENANT}'s keys and nothing else")
        policy_name = f"nexora-{TENANT}"
        policy = tenant_policy_hcl(TENANT, settings)
        token = await asyncio.to_thread(
            _create_tenant_token, bao.address, bao.root_token, policy_name, policy
        )
        for capabilities, path in _policy_rules(policy):
            r.line(f"policy {policy_name}: {capabilities} on {path}")
        # Prove the fence with the SDK's own store: the tenant's token on the other tenant's path.
        probe = CredentialStore()
        try:
            probe.register_tenant(OTHER_TENANT, settings=settings, region="nz", token=token)
            await probe.get(OTHER_TENANT, "crm")
        except VaultPermissionError:
            r.line(f"reading {OTHER_TENANT}'s key with this token -> VaultPermissionError (denied by policy)")
        else:
            raise DemoError("the tenant-scoped Vault token could read another tenant's key")
        finally:
            await probe.aclose()
        self.summary["vault"].update(policy=policy_name, other_tenant_read="VaultPermissionError")
        return token

    def _start_sandboxes(self, sandboxes: _Sandboxes, keys: dict[str, str]) -> None:
        r = self.report
        r.step("Starting sandbox vendor APIs on loopback HTTP (each accepts only the key in Vault)")
        for integration, sandbox in sandboxes.all().items():
            sandbox.start()
            sandbox.accept_keys(keys[integration])
            r.line(f"{sandbox.vendor:<8} {sandbox.base_url}")

    def _runtime(
        self, settings: VaultSettings, sandboxes: _Sandboxes, audit: MemoryAuditSink, tenant_token: str
    ) -> NexoraConnect:
        r = self.report
        r.step(
            "Configuring Nexora Connect for the tenant (region nz) and loading connectors via entry points"
        )
        config = NexoraConfig.parse(
            {
                "vault": settings.model_dump(),
                "max_staleness": MAX_STALENESS,
                "tenants": {
                    TENANT: {
                        "region": "nz",
                        "integrations": {
                            "crm": {
                                "connector": "hubspot",
                                "grant": "read-only",
                                "base_url": sandboxes.crm.base_url,
                            },
                            "ticketing": {
                                "connector": "zendesk",
                                "grant": "scoped-write",
                                "write_scopes": ["comments:write"],
                                "base_url": sandboxes.ticketing.base_url,
                                "settings": {"subdomain": "demo-isp"},
                            },
                            "billing": {
                                "connector": "stripe",
                                "grant": "read-only",
                                "base_url": sandboxes.billing.base_url,
                            },
                        },
                    }
                },
            },
            source="demo configuration",
        )
        nc = NexoraConnect(config, audit_sink=audit, vault_tokens={TENANT: tenant_token})
        integrations: dict[str, Any] = {}
        for integration, binding in nc.integrations(TENANT).items():
            name = type(binding.connector).name
            scopes = sorted(str(s) for s in binding.grant.write_scopes)
            grant = binding.grant.mode + (f" ({', '.join(scopes)})" if scopes else "")
            source = nc.registry.describe(name).source
            r.line(f"{integration:<10} {name:<8} grant: {grant:<30} from entry point {source}")
            integrations[integration] = {
                "connector": name,
                "grant": binding.grant.mode,
                "write_scopes": scopes,
            }
        r.line(f"keys are read from Vault at call time; a read key may be reused for {MAX_STALENESS:g} s")
        self.summary["integrations"] = integrations
        return nc

    # --- the call: the caller's context ---------------------------------------------

    async def _fetch_context(self, conv: Conversation) -> tuple[_Context, CustomerContext]:
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
            f"billing    {status['billing']:<3} balance owed {_money(balance)}; "
            f"{_describe_invoices(list(invoices))}"
        )
        r.line(f"               {_describe_subscriptions(list(subscriptions))}")
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
        return _Context(contact=contact, open_ticket=ticket), ctx

    # --- the call: what the language model is given -----------------------------------

    def _llm_view(self, ctx: CustomerContext) -> None:
        r = self.report
        r.step("What the language model sees: ctx.for_llm(format='text'), redacted by the tenant's policy")
        text = ctx.for_llm(format="text")
        checks = _redaction_checks(text)
        # Checked before anything is printed: a leak must stop the demo, not scroll past.
        if not all(checks.values()):
            failed = ", ".join(name for name, ok in checks.items() if not ok)
            raise DemoError(f"the text for the language model is not redacted as promised ({failed})")
        r.lines(f"  | {line}" for line in text.splitlines())
        r.line(
            f"the card number in ticket #{_ticket_with_card(text)} shows only its last four "
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
        checks = _redaction_checks(text)
        if not all(checks.values()):
            raise DemoError(f"the result of {tool} handed to the model is not redacted")
        content = result.content
        reached = len(zendesk.requests_since(mark))
        r.line(
            f"the model calls {tool}({json.dumps(arguments)}) -> ok: ticket #{content.get('id')} "
            f"{content.get('subject')!r}, {len(content.get('comments') or [])} comments, "
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

    # --- the call: a key rotation -----------------------------------------------------

    async def _rotate(
        self,
        conv: Conversation,
        admin: CredentialStore,
        crm: HubSpotSandbox,
        audit: MemoryAuditSink,
        old_key: str,
    ) -> None:
        r = self.report
        r.step("Mid-call, the tenant rotates the CRM key: new Vault version, old key revoked at HubSpot")
        current = max(info.version for info in await admin.versions(TENANT, "crm"))
        new_key = _new_key("pat-na1-")
        new_version = await admin.put(
            TENANT, "crm", ApiKeyCredential(api_key=SecretStr(new_key)), cas=current
        )
        crm.accept_keys(new_key)
        crm.revoke(old_key)
        r.line(
            f"Vault: crm key version {current} -> {new_version} (check-and-set on {current}); "
            f"HubSpot: v{current} revoked"
        )
        mark, records_before = crm.mark(), len(audit.records)
        contacts: list[Contact] = await conv.call("crm", "find_contacts", email=CALLER.email)
        statuses = [req.status for req in crm.requests_since(mark)]
        record = audit.records[-1]
        if not contacts or record.outcome != "ok" or record.credential_version != new_version:
            raise DemoError("the call after the rotation did not succeed with the new key")
        failed = [
            rec
            for rec in audit.records
            if rec.decision is AuditDecision.ALLOWED and rec.outcome not in ("ok", "cached")
        ]
        if failed:
            raise DemoError(f"{len(failed)} calls failed")
        reread = 401 in statuses
        if reread:
            r.line(
                f"next CRM call: HubSpot answered {' then '.join(map(str, statuses))}: "
                "the SDK dropped the reused "
                f"v{current} key, read v{new_version} from Vault and resent"
            )
        else:
            r.line(f"next CRM call read v{new_version} from Vault directly: HubSpot answered {statuses}")
        versions = [
            rec.credential_version
            for rec in audit.records
            if rec.integration == "crm" and rec.credential_version is not None
        ]
        r.line(
            f"failed calls: {len(failed)}; crm credential versions in the audit records: "
            + ", ".join(f"v{v}" for v in versions)
        )
        self.summary["rotation"] = {
            "integration": "crm",
            "old_version": current,
            "new_version": new_version,
            "vendor_statuses": statuses,
            "reread_on_401": reread,
            "failed_calls": len(failed),
            "credential_versions": versions,
            "audit_records_during_rotation": len(audit.records) - records_before,
        }

    # --- the end of the call: hangup and the audit trail -------------------------------

    async def _hang_up(self, conv: Conversation, nc: NexoraConnect, contact: Contact) -> None:
        r = self.report
        r.step("The caller hangs up")
        before = conv.cached_records
        await conv.hangup()
        after = conv.cached_records
        if after != 0 or nc.open_conversations != 0:
            raise DemoError("the conversation cache was not wiped at hangup")
        r.line(f"conversation cache: {before} records before hangup, {after} after")
        try:
            await conv.call("crm", "get_contact", contact_id=contact.id)
        except ConversationClosedError as exc:
            closed = exc
        else:
            raise DemoError("a call after hangup did not raise ConversationClosedError")
        r.line(f"a further call -> ConversationClosedError: {closed}")
        self.summary["hangup"] = {
            "cached_records_before": before,
            "cached_records_after": after,
            "closed_error": type(closed).__name__,
            "open_conversations": nc.open_conversations,
        }

    def _audit_trail(self, audit: MemoryAuditSink) -> None:
        r = self.report
        r.step(f"The audit trail ({len(audit.records)} records; no customer data, no secrets)")
        r.lines(format_audit(audit.records))
        self.summary["audit"] = [audit_row(record) for record in audit.records]


@dataclass(frozen=True, slots=True)
class _Context:
    contact: Contact
    open_ticket: Ticket


_CARD_MARKER = f"[card ending {CARD_LIKE[-4:]}]"
_IRD_MARKER = "[redacted NZ IRD number]"


def _redaction_checks(text: str) -> dict[str, bool]:
    """What the demo promises about the text handed to a model, each as one boolean."""

    def digits(value: str) -> str:
        return "".join(c for c in value if c.isdigit())

    return {
        "card_last4_shown": _CARD_MARKER in text,
        "card_digits_absent": CARD_LIKE not in text and digits(CARD_LIKE) not in text,
        "ird_masked": _IRD_MARKER in text,
        "ird_digits_absent": IRD_LIKE not in text and digits(IRD_LIKE) not in text,
    }


def _ticket_with_card(text: str) -> str:
    """The ticket number whose comment carried the card, as the text shows it (for the narration)."""
    ticket = "?"
    for line in text.splitlines():
        found = re.match(r"\s*- #(\S+) ", line)
        if found:
            ticket = found.group(1)
        if _CARD_MARKER in line:
            return ticket
    return ticket


def _describe_invoices(invoices: list[Invoice]) -> str:
    parts = [
        f"{i.number or i.id} {i.status} {_money(i.amount_due)} due"
        if i.status in (InvoiceStatus.OPEN, InvoiceStatus.OVERDUE)
        else f"{i.number or i.id} {i.status} ({_money(i.total)})"
        for i in invoices
    ]
    return f"{len(invoices)} invoices: " + ", ".join(parts)


def _describe_subscriptions(subscriptions: list[Subscription]) -> str:
    parts = [f"{s.plan_name or s.id} ({s.status}, {_money(s.amount)}/period)" for s in subscriptions]
    return f"{len(subscriptions)} subscription: " + ", ".join(parts) if parts else "no subscription"


def _policy_rules(policy: str) -> list[tuple[str, str]]:
    """``(capabilities, path)`` of each rule of an HCL policy, for display."""
    rules = re.findall(r'path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]', policy)
    return [(", ".join(c.strip().strip('"') for c in caps.split(",")), path) for path, caps in rules]


def _create_tenant_token(address: str, root_token: str, policy_name: str, policy: str) -> str:
    """Write the tenant policy and return a short-lived token holding only it (and Vault's default)."""
    client = hvac.Client(url=address, token=root_token, timeout=5)
    client.session.trust_env = False
    try:
        client.sys.create_or_update_policy(name=policy_name, policy=policy)
        created = client.auth.token.create(
            policies=[policy_name], ttl="15m", renewable=False, display_name="nexora-demo"
        )
        token = created["auth"]["client_token"]
    finally:
        client.adapter.close()
    if not isinstance(token, str) or not token:
        raise DemoError("OpenBao did not return a token")
    return token


def _on_sigterm(loop: asyncio.AbstractEventLoop, handler: Callable[[], None]) -> Callable[[], None]:
    """Run ``handler`` on SIGTERM while the demo runs; return what undoes that.

    Only possible from the main thread on a Unix event loop; elsewhere SIGTERM
    keeps its previous meaning.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    try:
        loop.add_signal_handler(signal.SIGTERM, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        return lambda: None

    def restore() -> None:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)

    return restore


def run_demo(*, json_output: bool = False, out: TextIO | None = None) -> int:
    """Run the whole demo and return the process exit code (0 ok, 130 interrupted).

    Prints numbered steps to ``out`` (default: ``sys.stdout`` at call time) as
    they happen, or with ``json_output`` one JSON summary at the end. Ctrl-C
    and SIGTERM stop it cleanly: conversations are wiped, the sandboxes and
    OpenBao are stopped. A step that does not show what it should raises
    :class:`DemoError`; an SDK failure raises its :class:`~sdk.NexoraError`.
    """
    reporter = Reporter(out if out is not None else sys.stdout, json_output=json_output)
    demo = _Demo(reporter)
    try:
        code = asyncio.run(demo.main())
    except KeyboardInterrupt:
        demo.summary["interrupted"] = "SIGINT"
        code = 130
    if code == 130:
        reporter.line()
        reporter.title(
            f"Interrupted ({demo.summary['interrupted']}): conversations wiped, sandboxes and OpenBao stopped"
        )
    reporter.summary(demo.summary)
    return code
