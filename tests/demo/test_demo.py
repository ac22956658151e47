"""The demo, run for real: a local OpenBao, the sandbox vendors, the shipped connectors.

Every claim the demo prints is asserted here from its JSON summary, and the
secrets it generates (vendor keys, the OpenBao root token, the tenant's Vault
token) are captured as they are made and searched for in everything it wrote.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import sdk.demo._scenario as scenario
import sdk.demo._scene as scene
from sdk import NexoraConnect
from sdk.demo import run_demo
from sdk.demo._dataset import CARD_LIKE, IRD_LIKE
from vault import OpenBaoDevServer

CLI = str(Path(sys.executable).parent / "nexora-connect")
KEY_PREFIXES = ("pat-na1-", "zdtok-", "sk_test_")


@dataclass
class DemoRun:
    code: int
    output: str
    logs: str
    secrets: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.output)
        return document


def _record_secrets(patch: pytest.MonkeyPatch, secrets: list[str]) -> None:
    """Capture every secret the demo makes: vendor keys, the root token, the tenant's Vault token."""
    new_key, create_token = scene.new_key, scene.create_tenant_token

    def recording_new_key(prefix: str) -> str:
        secrets.append(new_key(prefix))
        return secrets[-1]

    def recording_create_token(*args: str) -> str:
        secrets.append(create_token(*args))
        return secrets[-1]

    class RecordingServer(OpenBaoDevServer):
        def start(self) -> RecordingServer:
            super().start()
            secrets.append(self.root_token)
            return self

    patch.setattr(scene, "new_key", recording_new_key)
    patch.setattr(scenario, "new_key", recording_new_key)
    patch.setattr(scene, "create_tenant_token", recording_create_token)
    patch.setattr(scenario, "OpenBaoDevServer", RecordingServer)


def _run_in_process(*, json_output: bool) -> DemoRun:
    secrets: list[str] = []
    out = io.StringIO()
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # every library's debug output, to search it for secrets
    try:
        with pytest.MonkeyPatch.context() as patch:
            _record_secrets(patch, secrets)
            code = run_demo(json_output=json_output, out=out)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    return DemoRun(code=code, output=out.getvalue(), logs=logs.getvalue(), secrets=secrets)


@pytest.fixture(scope="module")
def json_run() -> DemoRun:
    return _run_in_process(json_output=True)


@pytest.fixture(scope="module")
def text_run() -> DemoRun:
    return _run_in_process(json_output=False)


def bao_processes(address: str) -> str:
    """``pgrep`` for a bao process listening on this address's port ('' when there is none)."""
    port = address.rsplit(":", 1)[1]
    found = subprocess.run(
        ["pgrep", "-af", f"dev-listen-address=127.0.0.1:{port}"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip()


# --- one call, end to end (in process) ------------------------------------------------------


def test_demo_succeeds_well_within_its_time_budget(json_run: DemoRun) -> None:
    assert json_run.code == 0
    assert json_run.summary["ok"] is True
    assert json_run.summary["elapsed_s"] < 30


def test_context_comes_from_all_three_sources(json_run: DemoRun) -> None:
    context = json_run.summary["context"]
    assert {name: source["status"] for name, source in context["sources"].items()} == {
        "crm": "ok",
        "ticketing": "ok",
        "billing": "ok",
    }
    assert {source["connector"] for source in context["sources"].values()} == {"hubspot", "zendesk", "stripe"}
    assert context["contact_found"]
    assert context["account_found"]
    assert (context["tickets"], context["open_tickets"], context["comments_on_open_ticket"]) == (3, 2, 3)
    assert (context["invoices"], context["overdue_invoices"], context["subscriptions"]) == (2, 1, 1)
    assert context["balance"] == {"amount_minor": 2500, "currency": "NZD"}


def test_refused_write_never_reaches_the_vendor(json_run: DemoRun) -> None:
    denial = json_run.summary["scope_denial"]
    assert denial["error"] == "ScopeDeniedError"
    assert denial["scope"] == "notes:write"
    assert denial["vendor_requests"] == 0
    assert denial["vendor_writes_total"] == 0
    denied = [r for r in json_run.summary["audit"] if r["decision"] == "denied"]
    assert [(r["operation"], r["outcome"], r["http_status"]) for r in denied] == [
        ("create_note", "ScopeDeniedError", None)
    ]


def test_granted_write_is_performed_once(json_run: DemoRun) -> None:
    write = json_run.summary["granted_write"]
    assert write["performed"] is True
    assert write["vendor_writes"] == 1
    assert write["public"] is False
    audited = [r for r in json_run.summary["audit"] if r["operation"] == "add_comment"]
    assert [(r["decision"], r["outcome"], r["http_status"]) for r in audited] == [("allowed", "ok", 200)]


def test_rotation_mid_call_fails_no_call(json_run: DemoRun) -> None:
    rotation = json_run.summary["rotation"]
    assert rotation["failed_calls"] == 0
    assert rotation["new_version"] == rotation["old_version"] + 1
    # The SDK still held the old key (reuse allowed), got a 401, re-read Vault and resent.
    assert rotation["vendor_statuses"] == [401, 200]
    assert rotation["reread_on_401"] is True
    assert rotation["credential_versions"][-1] == rotation["new_version"]
    assert set(rotation["credential_versions"][:-1]) == {rotation["old_version"]}
    allowed = [r for r in json_run.summary["audit"] if r["decision"] == "allowed"]
    assert {r["outcome"] for r in allowed} <= {"ok", "cached"}


def test_hangup_wipes_the_cache_and_closes_the_conversation(json_run: DemoRun) -> None:
    hangup = json_run.summary["hangup"]
    assert hangup["cached_records_before"] > 0
    assert hangup["cached_records_after"] == 0
    assert hangup["closed_error"] == "ConversationClosedError"
    assert hangup["open_conversations"] == 0


def test_every_operation_is_audited_with_its_credential_version(json_run: DemoRun) -> None:
    audit = json_run.summary["audit"]
    # 8 context calls, the model's get_ticket (cached), the refused and granted writes, the rotation read.
    assert len(audit) == 12
    for record in audit:
        if record["decision"] == "allowed" and record["outcome"] == "ok":
            assert record["credential_version"] in (1, 2)
            assert record["http_status"] == 200
        assert record["latency_ms"] >= 0
    cached = [r for r in audit if r["outcome"] == "cached"]
    assert [(r["operation"], r["http_status"], r["credential_version"]) for r in cached] == [
        ("get_ticket", None, None)
    ]


# --- what the language model is given -------------------------------------------------------

CARD_DIGITS = re.sub(r"\D", "", CARD_LIKE)
IRD_DIGITS = re.sub(r"\D", "", IRD_LIKE)


def test_context_is_one_customer_context_call_within_budget(json_run: DemoRun) -> None:
    context = json_run.summary["context"]
    assert context["complete"] is True
    assert context["wall_ms"] <= context["budget_ms"]
    assert {name: source["calls"] for name, source in context["sources"].items()} == {
        "crm": 3,
        "ticketing": 2,
        "billing": 3,
    }
    # All at once: the wall time is about the slowest source, not the sum.
    assert context["wall_ms"] < sum(source["ms"] for source in context["sources"].values())


def test_llm_text_is_redacted(json_run: DemoRun) -> None:
    assert json_run.summary["llm_text"] == {
        "card_last4_shown": True,
        "card_digits_absent": True,
        "ird_masked": True,
        "ird_digits_absent": True,
    }


def test_printed_llm_text_shows_card_last_four_and_masks_the_ird(text_run: DemoRun) -> None:
    seen = text_run.output.split("What the language model sees", 1)[1].split("Tools offered to the model", 1)[
        0
    ]
    assert "[card ending 4242]" in seen
    assert "[redacted NZ IRD number]" in seen
    assert "Caller context from 3 source(s):" in seen
    # Without spaces and hyphens too, so that a number printed with other separators is caught.
    squeezed = re.sub(r"[\s-]", "", text_run.output)
    for raw in (CARD_LIKE, CARD_DIGITS, IRD_LIKE, IRD_DIGITS):
        assert raw not in text_run.output
    for raw in (CARD_DIGITS, IRD_DIGITS):
        assert raw not in squeezed


def test_tools_offered_are_exactly_the_granted_operations(json_run: DemoRun) -> None:
    offered = json_run.summary["tools_offered"]
    assert json_run.summary["ungranted_write_offered"] is False
    assert "ticketing__add_comment" in offered
    assert not [name for name in offered if "create_note" in name]
    assert set(offered) == {
        "crm__find_contacts",
        "crm__get_contact",
        "crm__get_account",
        "ticketing__list_tickets",
        "ticketing__get_ticket",
        "ticketing__add_comment",
        "billing__find_customers",
        "billing__get_balance",
        "billing__list_invoices",
        "billing__list_subscriptions",
    }


def test_model_tool_call_returns_a_redacted_result(json_run: DemoRun, text_run: DemoRun) -> None:
    assert json_run.summary["tool_invocation"] == {
        "tool": "ticketing__get_ticket",
        "ok": True,
        "vendor_requests": 0,  # the context fetch already read it: served from the conversation cache
        "redacted": True,
    }
    tools_step = text_run.output.split("Tools offered to the model", 1)[1].split("\n[", 1)[0]
    assert "ticketing__add_comment (WRITE)" in tools_step
    assert "crm__create_note (notes:write, not granted) is not offered" in tools_step
    assert "crm__create_note (read)" not in tools_step
    assert "crm__create_note (WRITE)" not in tools_step
    assert "ticketing__get_ticket" in tools_step
    assert "-> ok: ticket #4102" in tools_step


def test_no_secret_is_printed_or_logged(json_run: DemoRun, text_run: DemoRun) -> None:
    for run in (json_run, text_run):
        # Three vendor keys, the rotated key, the other tenant's key, the root and tenant tokens.
        assert len(run.secrets) == 7
        for secret in run.secrets:
            assert secret not in run.output
            assert secret not in run.logs
        for prefix in KEY_PREFIXES:
            assert prefix not in run.output
        # The caller's synthetic card and IRD numbers are never printed either.
        assert CARD_LIKE not in run.output
        assert IRD_LIKE not in run.output


def test_everything_is_stopped_afterwards(json_run: DemoRun) -> None:
    assert json_run.summary["cleanup"] == {"sandboxes_stopped": True, "openbao_stopped": True}
    assert bao_processes(json_run.summary["vault"]["address"]) == ""
    assert not [t for t in threading.enumerate() if t.name.startswith("sandbox-")]


def test_text_mode_prints_numbered_steps(text_run: DemoRun) -> None:
    assert text_run.code == 0
    steps = re.findall(r"^\[(\d+)\] ", text_run.output, flags=re.MULTILINE)
    assert steps == [str(n) for n in range(1, 15)]
    for claim in (
        "ScopeDeniedError",
        "requests that reached HubSpot for it: 0",
        "Zendesk recorded 1 write: PUT /api/v2/tickets/4102 -> 200",
        "failed calls: 0",
        "0 after",
        "ConversationClosedError",
        "Demo finished in",
    ):
        assert claim in text_run.output
    address = re.search(r"OpenBao listening at (\S+);", text_run.output)
    assert address is not None
    assert bao_processes(address.group(1)) == ""


# --- interruption -------------------------------------------------------------------------


def test_sigterm_mid_call_wipes_conversations_and_stops_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    wipes: list[tuple[str, int]] = []
    original_wipe = NexoraConnect.wipe_all

    def recording_wipe(self: NexoraConnect, reason: str = "shut down") -> int:
        wipes.append((reason, original_wipe(self, reason)))
        return wipes[-1][1]

    async def terminated_during_call(self: Any, *args: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(10)  # cancelled by the handler long before this ends

    monkeypatch.setattr(NexoraConnect, "wipe_all", recording_wipe)
    monkeypatch.setattr(scenario._Demo, "_refused_write", terminated_during_call)
    before = signal.getsignal(signal.SIGTERM)
    out = io.StringIO()

    code = run_demo(json_output=True, out=out)

    summary = json.loads(out.getvalue())
    assert code == 130
    assert summary["interrupted"] == "SIGTERM"
    assert wipes[0] == ("SIGTERM received", 1)  # the open call was wiped by the handler itself
    assert bao_processes(summary["vault"]["address"]) == ""
    assert signal.getsignal(signal.SIGTERM) == before


# --- the command line, as a user runs it --------------------------------------------------


@pytest.fixture
def clean_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose HOME and TMPDIR are empty directories, to see what a run leaves behind."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    yield {**os.environ, "HOME": str(home), "TMPDIR": str(tmp)}
    assert list(home.iterdir()) == []
    assert list(tmp.iterdir()) == []


def test_cli_demo_json(clean_env: dict[str, str]) -> None:
    done = subprocess.run([CLI, "demo", "--json"], capture_output=True, text=True, env=clean_env, timeout=60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] is True
    assert summary["scope_denial"]["vendor_requests"] == 0
    assert summary["rotation"]["failed_calls"] == 0
    assert summary["hangup"]["cached_records_after"] == 0
    for prefix in KEY_PREFIXES:
        assert prefix not in done.stdout + done.stderr
    assert bao_processes(summary["vault"]["address"]) == ""


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_demo_interrupted_leaves_nothing_behind(sent: signal.Signals, clean_env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [CLI, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env
    )
    address = None
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        found = re.search(r"OpenBao listening at (\S+);", line)
        if found:
            address = found.group(1)
            process.send_signal(sent)
            break
    rest, errors = process.communicate(timeout=30)
    assert address is not None, "".join(seen) + errors
    assert process.returncode == 130, errors
    assert "Interrupted" in rest
    assert bao_processes(address) == ""
