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
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from pydantic import SecretStr

from sdk import (
    AuditDecision,
    Contact,
    Conversation,
    ConversationClosedError,
    MemoryAuditSink,
    NexoraConnect,
)
from sdk.demo._call_steps import CallSteps
from sdk.demo._dataset import CALLER, Clock
from sdk.demo._hubspot import HubSpotSandbox
from sdk.demo._report import Reporter, audit_row, format_audit
from sdk.demo._scene import (
    CONVERSATION_ID,
    TENANT,
    ZENDESK_AGENT,
    DemoError,
    Sandboxes,
    SceneSteps,
    new_key,
)
from sdk.demo._stripe import StripeSandbox
from sdk.demo._zendesk import ZendeskSandbox
from vault import (
    ApiKeyCredential,
    CredentialStore,
    OpenBaoDevServer,
)

__all__ = ["DemoError", "run_demo"]


class _Demo(SceneSteps, CallSteps):
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
        sandboxes = Sandboxes(
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
        fresh_key = new_key("pat-na1-")
        new_version = await admin.put(
            TENANT, "crm", ApiKeyCredential(api_key=SecretStr(fresh_key)), cas=current
        )
        crm.accept_keys(fresh_key)
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
