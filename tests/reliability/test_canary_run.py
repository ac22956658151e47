"""One whole call with canaries everywhere, then a search of everything it left behind: zero hits (S3, S7).

Canary secrets (one key per vendor, plus the rotated HubSpot key) live in the real OpenBao; canary
customer values are planted in every vendor record, in the caller's email address, in the text
of the writes, and in the vendors' error bodies. The scenario runs the three shipped connectors
through ``NexoraConnect``: context fetch (every read operation), a denied write, granted writes, a
key rotation picked up through a vendor 401, vendor errors quoting customer data, bad arguments,
and the hangup. Then it searches:

* every log record, at DEBUG, from every logger and thread (message and traceback);
* every audit record, in memory and in a JSON-lines file;
* every exception raised: ``str``, ``repr`` and the formatted traceback with its chain;
* the ``repr`` and ``str`` of every SDK object reachable from the runtime and the conversation
  (runtime, conversation, cache, connectors, bindings, HTTP layer, credential store, Vault
  client), and of a credential lease and its credential;
* everything written to stdout and stderr;
* every file this process opened for writing during the run (an audit hook sees every
  ``open``), and every file under the test's ``HOME``, ``TMPDIR`` and temporary directory,
  and every file under the system temp directory modified during the run.

The scenario first proves that each canary really passed through the process (the vendor got
the customer text, the results carry the customer canary), so "zero hits" means something.
"""

from __future__ import annotations

import base64
import gc
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from sdk import (
    AuditRecord,
    ConversationClosedError,
    InvalidArgumentsError,
    InvalidIdentifierError,
    JsonLinesAuditSink,
    MemoryAuditSink,
    NexoraConfig,
    NexoraConnect,
    NexoraError,
    ScopeDeniedError,
    UnknownIntegrationError,
    VendorAuthError,
    VendorError,
    VendorNotFoundError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk.testing import make_canary
from tests.connectors import hubspot_cases, stripe_cases, zendesk_cases
from tests.reliability._support import original_answer, registry
from tests.vault.support import new_id, tenant_token, write_secret
from vault import OpenBaoDevServer, VaultSettings

pytestmark = pytest.mark.vault

# --- watching every file this process writes ------------------------------------------------------

_WRITES: list[str] | None = None
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    # Installed once for the life of the process (audit hooks cannot be removed); it costs one
    # comparison per event while no test is watching.
    if _WRITES is None or event != "open" or len(args) < 3:
        return
    path, mode, flags = args[0], args[1], args[2]
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & _WRITE_FLAGS
    )
    if writing and isinstance(path, str | bytes | os.PathLike):
        _WRITES.append(os.fsdecode(path))


_hook_installed = False


@pytest.fixture
def written_files() -> Iterator[list[str]]:
    """Paths of every file this process opens for writing while the fixture is active."""
    global _WRITES, _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit_hook)
        _hook_installed = True
    _WRITES = []
    try:
        yield _WRITES
    finally:
        _WRITES = None


class _EverySink:
    """Audit records go to memory and to a JSON-lines file, as a deployment's would."""

    def __init__(self, path: Path) -> None:
        self.memory = MemoryAuditSink()
        self.file = JsonLinesAuditSink(path)

    def emit(self, record: AuditRecord) -> None:
        self.memory.emit(record)
        self.file.emit(record)

    def close(self) -> None:
        self.file.close()


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        if record.exc_info:
            self.texts.append("".join(traceback.format_exception(*record.exc_info)))


# --- the vendors -----------------------------------------------------------------------------------

VENDOR_OF_HOST = {
    "api.hubapi.com": "hubspot",
    f"{zendesk_cases.SUBDOMAIN}.zendesk.com": "zendesk",
    "api.stripe.com": "stripe",
}


def _presented_secret(request: httpx.Request) -> str:
    header = str(request.headers.get("authorization", ""))
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ")
    if header.startswith("Basic "):
        return base64.b64decode(header.removeprefix("Basic ")).decode().split(":", 1)[1]
    return ""


class Vendors:
    """HubSpot, Zendesk and Stripe on one respx router; each accepts only its current keys."""

    def __init__(self, customer: str, error_text: str, caller_email: str) -> None:
        self.router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        self.accepted: dict[str, set[str]] = {vendor: set() for vendor in VENDOR_OF_HOST.values()}
        self.bodies: list[bytes] = []
        self.rejected = 0
        error = {"message": f"{error_text} ({caller_email})", "description": error_text}
        r = self.router
        # Failures first: respx answers with the first route that matches.
        r.get(f"{hubspot_cases.BASE}/crm/v3/objects/contacts/52").respond(
            404,
            json={
                **hubspot_cases.fixture("error_not_found"),
                **error,
                "category": caller_email,
                "context": {"email": [caller_email]},
            },
        )
        r.get(f"{hubspot_cases.BASE}/crm/v3/objects/companies/9999").respond(500, json=error)
        r.get(f"{zendesk_cases.TICKETS}/99999").respond(404, json={"error": "RecordNotFound", **error})
        r.get(f"{zendesk_cases.TICKETS}/99999/comments").respond(404, json={"error": "RecordNotFound"})
        r.put(f"{zendesk_cases.TICKETS}/77777").respond(
            422, json={"error": "RecordInvalid", **error, "details": {"base": [{"description": error_text}]}}
        )
        r.get(f"{stripe_cases.BASE}/v1/customers/cus_Missing").respond(
            404, json={"error": {"type": "invalid_request_error", "code": caller_email, **error}}
        )
        r.get(f"{stripe_cases.BASE}/v1/subscriptions", params__contains={"customer": "cus_Busy"}).respond(
            429, headers={"Retry-After": "0"}, json={"error": {"code": "rate_limit", **error}}
        )
        # The happy paths, with ``customer`` planted in a personal field of every record.
        for case in [*hubspot_cases.KIT_CASES, *zendesk_cases.CASES, *stripe_cases.CASES]:
            case.mock(r, customer)
        for route in r.routes:
            route.side_effect = self._guard(original_answer(route), error_text)

    def _guard(self, answer: Any, error_text: str) -> Any:
        def guarded(request: httpx.Request) -> httpx.Response:
            vendor = VENDOR_OF_HOST[request.url.host]
            self.bodies.append(request.content)
            if _presented_secret(request) not in self.accepted[vendor]:
                self.rejected += 1
                return httpx.Response(401, json={"message": f"bad key; {error_text}", "status": "error"})
            response: httpx.Response = answer(request)
            return response

        return guarded


# --- scanning ------------------------------------------------------------------------------------


def _sdk_objects(*roots: object) -> list[object]:
    """Every object of the SDK's own classes reachable from ``roots`` (not through vendor traffic)."""
    found: list[object] = []
    seen: set[int] = set()
    stack = list(roots)
    containers = (dict, list, tuple, set, frozenset)
    while stack and len(seen) < 200_000:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        module = type(obj).__module__.split(".")[0]
        if module in ("sdk", "vault", "connectors"):
            found.append(obj)
        elif not isinstance(obj, containers):
            continue  # httpx clients and transports, respx routers, locks, executors: not ours
        stack.extend(
            ref for ref in gc.get_referents(obj) if not isinstance(ref, str | bytes | int | float | type)
        )
    return found


def _exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


def _scan_files(paths: list[Path], canaries: list[str]) -> list[str]:
    hits: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        hits.extend(f"{path}: {canary}" for canary in canaries if canary.encode() in data)
    return hits


def _files_under(root: Path, *, since: float | None = None, prune: tuple[str, ...] = ()) -> list[Path]:
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if os.path.join(directory, d) not in prune]
        for name in files:
            path = Path(directory, name)
            try:
                stat = path.lstat()
            except OSError:
                continue
            if path.is_symlink() or stat.st_size > 20_000_000:
                continue
            if since is None or stat.st_mtime >= since:
                found.append(path)
    return found


# --- the scenario ------------------------------------------------------------------------------------


async def test_canaries_leave_no_trace(
    openbao: OpenBaoDevServer,
    vault_root: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    written_files: list[str],
) -> None:
    started_wall = time.time() - 1
    system_tmp = Path(tempfile.gettempdir())
    home, tmp, audit_dir = tmp_path / "home", tmp_path / "tmp", tmp_path / "audit"
    for directory in (home, tmp, audit_dir):
        directory.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    caplog.set_level(logging.DEBUG)
    logs = _Everything()
    logging.getLogger().addHandler(logs)

    secrets = {name: make_canary(f"secret-{name}") for name in ("hubspot", "hubspot2", "zendesk", "stripe")}
    customer, error_text = make_canary("customer"), make_canary("customer-error")
    caller_email = f"{make_canary('caller')}@example.test"
    note_text, ticket_text = make_canary("note"), make_canary("ticket")
    canaries = [*secrets.values(), customer, error_text, caller_email, note_text, ticket_text]

    tenant = new_id("canary")
    settings = VaultSettings(address=openbao.address)
    stored: dict[str, dict[str, object]] = {
        "crm": {"type": "api_key", "api_key": secrets["hubspot"]},
        "crm-rw": {"type": "api_key", "api_key": secrets["hubspot"]},
        "desk": {"type": "basic", "username": zendesk_cases.AGENT_EMAIL, "password": secrets["zendesk"]},
        "billing": {"type": "api_key", "api_key": secrets["stripe"]},
    }
    for integration, data in stored.items():
        write_secret(vault_root, settings, tenant, integration, data)
    vendors = Vendors(customer, error_text, caller_email)
    vendors.accepted = {
        "hubspot": {secrets["hubspot"]},
        "zendesk": {secrets["zendesk"]},
        "stripe": {secrets["stripe"]},
    }
    config = NexoraConfig.parse(
        {
            "vault": {"address": openbao.address},
            "max_staleness": 60,  # keys are reused, so that the rotation below arrives as a vendor 401
            "tenants": {
                tenant: {
                    "integrations": {
                        "crm": {"connector": "hubspot"},
                        "crm-rw": {
                            "connector": "hubspot",
                            "grant": "scoped-write",
                            "write_scopes": ["notes:write"],
                        },
                        "desk": {
                            "connector": "zendesk",
                            "settings": zendesk_cases.SETTINGS,
                            "grant": "scoped-write",
                            "write_scopes": ["tickets:write", "comments:write"],
                        },
                        "billing": {
                            "connector": "stripe",
                            "grant": "scoped-write",
                            "write_scopes": ["invoices:write"],
                        },
                    }
                }
            },
        }
    )
    sink = _EverySink(audit_dir / "audit.jsonl")
    errors: list[BaseException] = []
    results: list[Any] = []

    nc = NexoraConnect(
        config,
        transport=httpx.MockTransport(vendors.router.async_handler),
        audit_sink=sink,
        registry=registry(),
        vault_tokens={tenant: tenant_token(vault_root, settings, tenant)},
    )
    conv = nc.conversation(tenant=tenant, conversation_id="CA-canary-call")

    async def expect(error: type[NexoraError], integration: str, op: str, **arguments: Any) -> None:
        with pytest.raises(error) as caught:
            await conv.call(integration, op, **arguments)
        errors.append(caught.value)

    # 1. Context: every read operation of every connector.
    reads: list[tuple[str, str, dict[str, Any]]] = [
        ("crm", "find_contacts", {"email": caller_email}),
        ("crm", "find_contacts", {"phone": hubspot_cases.CALLER_PHONE}),
        ("crm", "get_contact", {"contact_id": "51"}),
        ("crm", "get_account", {"account_id": "9001"}),
        ("desk", "list_tickets", {"email": caller_email}),
        ("desk", "list_tickets", {"phone": zendesk_cases.CALLER_PHONE_NATIONAL}),
        ("desk", "get_ticket", {"ticket_id": zendesk_cases.TICKET_ID}),
        ("billing", "find_customers", {"email": caller_email}),
        ("billing", "get_balance", {"customer_id": stripe_cases.CUSTOMER_ID}),
        ("billing", "list_invoices", {"customer_id": stripe_cases.CUSTOMER_ID, "limit": 5}),
        ("billing", "list_subscriptions", {"customer_id": stripe_cases.CUSTOMER_ID}),
    ]
    for integration, op, arguments in reads:
        results.append(await conv.call(integration, op, **arguments))

    # 2. A write the grant refuses, and writes it allows.
    await expect(ScopeDeniedError, "crm", "create_note", contact_id="51", body=note_text)
    results.append(await conv.call("crm-rw", "create_note", contact_id="51", body=note_text))
    results.append(
        await conv.call(
            "desk", "create_ticket", subject=f"Call {ticket_text}", body=ticket_text, email=caller_email
        )
    )
    results.append(await conv.call("billing", "resend_invoice", invoice_id=stripe_cases.INVOICE_ID))

    # 3. Rotation: a new HubSpot key in Vault; HubSpot stops taking the old one. The reused old key
    #    earns a 401, the SDK reads Vault afresh and resends: no failed call.
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": secrets["hubspot2"]})
    vendors.accepted["hubspot"] = {secrets["hubspot2"]}
    rejected_before = vendors.rejected
    rotated = await conv.call("crm", "find_contacts", email=f"x{caller_email}")
    results.append(rotated)
    assert vendors.rejected == rejected_before + 1, "the rotation was not picked up through a 401"
    assert sink.memory.records[-1].credential_version == 2

    # 4. Vendor errors that quote customer data, bad arguments, unknown ids.
    await expect(VendorNotFoundError, "crm", "get_contact", contact_id="52")
    await expect(VendorServerError, "crm", "get_account", account_id="9999")
    await expect(VendorNotFoundError, "desk", "get_ticket", ticket_id="99999")
    await expect(VendorError, "desk", "add_comment", ticket_id="77777", body=ticket_text)
    await expect(VendorNotFoundError, "billing", "get_balance", customer_id="cus_Missing")
    await expect(VendorRateLimitError, "billing", "list_subscriptions", customer_id="cus_Busy")
    await expect(InvalidArgumentsError, "crm", "find_contacts", email=f"{customer} not an email")
    await expect(InvalidArgumentsError, "billing", "get_balance", customer_id=f"../{customer}")
    await expect(UnknownIntegrationError, "crm2", "get_contact", contact_id="51")
    with pytest.raises(InvalidIdentifierError) as caught_id:
        await conv.call(f"{customer}/..", "get_contact", contact_id="51")
    errors.append(caught_id.value)
    vendors.accepted["stripe"] = set()  # Stripe revokes the key: persistent 401
    await expect(VendorAuthError, "billing", "find_customers", phone="+64 21 555 0100")

    # 5. Hang up; the conversation refuses further use.
    cache = conv._cache
    await conv.hangup()
    await expect(ConversationClosedError, "crm", "find_contacts", email=caller_email)

    # Everything the SDK holds, while it still holds it.
    leases = [await nc.credentials.get(tenant, integration) for integration in stored]
    objects = _sdk_objects(nc, conv, cache, *leases, *(lease.credential for lease in leases))
    object_texts = [text for obj in objects for text in (repr(obj), str(obj))]
    await nc.aclose()
    object_texts += [repr(nc), repr(conv), repr(cache)]
    logging.getLogger().removeHandler(logs)

    # The canaries really went through: otherwise "no hits" would prove nothing.
    assert any(customer in repr(result) for result in results)
    sent = b"".join(vendors.bodies)
    assert note_text.encode() in sent
    assert ticket_text.encode() in sent
    assert len(logs.texts) > 30
    assert any("HTTP Request" in text for text in logs.texts)
    assert any(Path(path).parent == audit_dir for path in written_files), "the write watch saw nothing"
    assert len(objects) > 20

    # The search.
    captured = capfd.readouterr()
    sources: dict[str, list[str]] = {
        "log record": logs.texts + [r.getMessage() for r in caplog.records],
        "audit record": [r.model_dump_json() for r in sink.memory.records],
        "exception": [text for exc in errors for text in _exception_texts(exc)],
        "repr": object_texts,
        "stdout/stderr": [captured.out, captured.err],
    }
    hits = [
        f"{canary[:24]}... in a {where}: {text[:200]!r}"
        for where, texts in sources.items()
        for text in texts
        for canary in canaries
        if canary in text
    ]
    files = sorted(
        {Path(p) for p in written_files}
        | set(_files_under(tmp_path))
        | set(_files_under(system_tmp, since=started_wall, prune=(sys.prefix,)))
    )
    hits += _scan_files(files, canaries)
    assert hits == [], "\n".join(hits[:20])
    assert len(sink.memory.records) >= 25
    trail = "".join(path.read_text() for path in sorted(audit_dir.glob("*.jsonl")))
    assert trail.count("\n") == len(sink.memory.records)
    assert {r.outcome for r in sink.memory.records} >= {
        "ok",
        "ScopeDeniedError",
        "VendorNotFoundError",
        "VendorServerError",
        "VendorRateLimitError",
        "VendorAuthError",
        "InvalidArgumentsError",
    }
