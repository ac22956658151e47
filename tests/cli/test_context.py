"""``nexora-connect context``: the caller's context as a language model would see it, and nothing raw.

Keys live in the session's real OpenBao; HubSpot, Zendesk and Stripe answer from
a respx router with their documented shapes (tests/runtime/support.py). A ticket
comment carries a card number and an NZ IRD number: the output must hold only
their redacted forms.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from sdk import NexoraConnect
from sdk._cli import _run
from sdk.cli import main
from tests.cli.conftest import Setup, assert_absent
from tests.connectors import stripe_cases, zendesk_cases
from tests.runtime.support import BILLING, CARD, CRM, IRD, TICKETS, Vendors, zendesk_comments
from tests.vault.support import make_secret

pytestmark = pytest.mark.vault

CALLER = "+64 21 555 0100"
COMMENT = f"Please charge my card {CARD}; my IRD number is {IRD}. \x1b]0;owned\x07"
INTEGRATIONS: dict[str, dict[str, Any]] = {
    CRM: {"connector": "hubspot"},
    TICKETS: {"connector": "zendesk", "settings": dict(zendesk_cases.SETTINGS)},
    BILLING: {"connector": "stripe"},
}


def _forms(value: str) -> list[str]:
    return [value, re.sub(r"[\s-]", "", value)]


@pytest.fixture
def router(vendors: Callable[[httpx.AsyncBaseTransport], None]) -> respx.MockRouter:
    mock = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    vendors(httpx.MockTransport(mock.async_handler))
    return mock


@pytest.fixture
def keys(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each integration's key stored in Vault, and the tenant's read token in $NEXORA_VAULT_TOKEN."""
    stored = {CRM: make_secret(), TICKETS: make_secret(), BILLING: make_secret()}
    setup.store(CRM, {"type": "api_key", "api_key": stored[CRM]})
    zendesk = zendesk_cases.credential(stored[TICKETS])
    setup.store(TICKETS, {"type": "basic", "username": zendesk.username, "password": stored[TICKETS]})
    setup.store(BILLING, {"type": "api_key", "api_key": stored[BILLING]})
    token = setup.token()
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", token)
    return [*stored.values(), token]


@pytest.fixture
def config(setup: Setup) -> str:
    return setup.config(INTEGRATIONS)


def test_the_context_is_printed_redacted_with_each_source_status(
    setup: Setup, config: str, keys: list[str], router: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    Vendors(router).mount(comments=zendesk_comments(COMMENT))
    code = main(["context", "--config", config, "--tenant", setup.tenant, "--phone", CALLER, "--budget", "5"])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    out = captured.out
    assert out.startswith(f"Context for the language model (redacted), tenant {setup.tenant}:")
    assert "[card ending 1111]" in out
    assert "[redacted NZ IRD number]" in out
    for raw in (*_forms(CARD), *_forms(IRD)):
        assert raw not in out
    assert "\x1b" not in out  # the vendor's escape sequence was neutralised
    table = out.split("\n\n")[-1].splitlines()
    assert table[0].split() == ["SOURCE", "CONNECTOR", "STATUS", "ERROR", "MS", "STEPS"]
    assert [row.split()[:3] for row in table[1:4]] == [
        [CRM, "hubspot", "ok"],
        [TICKETS, "zendesk", "ok"],
        [BILLING, "stripe", "ok"],
    ]
    assert table[-1].startswith("complete: ")
    assert_absent(out, *keys)


def test_json_output_parses_and_holds_only_the_redacted_view(
    setup: Setup, config: str, keys: list[str], router: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    Vendors(router).mount(comments=zendesk_comments(COMMENT))
    code = main(
        [
            "context",
            "--config",
            config,
            "--tenant",
            setup.tenant,
            "--phone",
            CALLER,
            "--budget",
            "5",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    document = json.loads(captured.out)
    assert document["complete"] is True
    assert document["tenant"] == setup.tenant
    assert document["conversation_id"].startswith("cli-")
    assert {name: source["status"] for name, source in document["sources"].items()} == {
        CRM: "ok",
        TICKETS: "ok",
        BILLING: "ok",
    }
    assert "[card ending 1111]" in json.dumps(document["context"])
    for raw in (*_forms(CARD), *_forms(IRD)):
        assert raw not in captured.out
    assert_absent(captured.out + captured.err, *keys)


def test_a_failing_source_gives_a_partial_context_and_exit_1(
    setup: Setup, config: str, keys: list[str], router: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    vendors = Vendors(router).mount()
    vendors.routes["stripe_search"].respond(401, json=stripe_cases.fixture("error_401"))
    code = main(
        [
            "context",
            "--config",
            config,
            "--tenant",
            setup.tenant,
            "--phone",
            CALLER,
            "--budget",
            "5",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    document = json.loads(captured.out)
    assert document["complete"] is False
    assert document["sources"][BILLING]["status"] == "failed"
    assert document["sources"][BILLING]["error"] == "VendorAuthError"
    assert document["sources"][CRM]["status"] == "ok"
    assert_absent(captured.out + captured.err, *keys)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        ([], 2, "give the caller's --phone or --email"),
        (["--phone", "not a number"], 2, "phone is not a phone number"),
        (["--email", "nobody"], 2, "email is not an email address"),
    ],
    ids=["no-identity", "bad-phone", "bad-email"],
)
def test_bad_caller_identities_are_usage_errors_that_do_not_repeat_them(
    argv: list[str],
    code: int,
    message: str,
    setup: Setup,
    config: str,
    keys: list[str],
    router: respx.MockRouter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["context", "--config", config, "--tenant", setup.tenant, *argv]) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    for value in argv[1:]:
        assert value not in err
    assert router.calls.call_count == 0


def test_an_unknown_tenant_is_a_configuration_error(
    setup: Setup, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["context", "--config", config, "--tenant", "globex", "--phone", CALLER]) == 4
    assert "UnknownTenantError" in capsys.readouterr().err


def test_sigterm_wipes_the_conversation_first_and_exits_130(
    setup: Setup,
    config: str,
    keys: list[str],
    router: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGTERM arrives while the vendors are being asked: the conversation is wiped, then the command ends."""
    vendors = Vendors(router).mount()
    watched: list[NexoraConnect] = []
    open_when_signalled: list[int] = []
    open_when_cancelled: list[int] = []
    original_watch = _run.Interrupts.watch

    def watch(self: _run.Interrupts, runtime: NexoraConnect) -> NexoraConnect:
        watched.append(runtime)
        return original_watch(self, runtime)

    async def terminate(request: httpx.Request) -> httpx.Response:
        open_when_signalled.append(watched[0].open_conversations)
        os.kill(os.getpid(), signal.SIGTERM)  # handled by the CLI's loop handler, not by the default action
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            # Cancellation reaches the request only after the handler wiped the conversation.
            open_when_cancelled.append(watched[0].open_conversations)
            raise
        raise AssertionError("the request should have been cancelled")

    monkeypatch.setattr(_run.Interrupts, "watch", watch)
    vendors.routes["hubspot_search"].mock(side_effect=terminate)
    code = main(
        ["context", "--config", config, "--tenant", setup.tenant, "--phone", CALLER, "--budget", "30"]
    )
    captured = capsys.readouterr()
    assert code == 130
    assert open_when_signalled == [1]
    assert open_when_cancelled == [0]
    assert "Context for the language model" not in captured.out
    assert_absent(captured.out + captured.err, *keys)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the CLI put the default back
