"""``nexora-connect keys``: secrets from stdin only, each step reported, Vault's failures told apart.

Vault is the session's real OpenBao, HubSpot a respx router that accepts only the
keys it is told (tests/keys/support.py). Every key is a canary, searched for in
everything the command printed.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import hvac.exceptions
import pytest

from sdk.cli import main
from tests.cli.conftest import Setup, assert_absent
from tests.keys.support import KeyCheckingHubSpot
from tests.vault.namespaces import make_tenant_namespace
from tests.vault.support import make_secret
from vault import OpenBaoDevServer, credential_path

pytestmark = pytest.mark.vault

CRM = {"crm": {"connector": "hubspot"}}
CLI = str(Path(sys.executable).parent / "nexora-connect")


@pytest.fixture
def hubspot(vendors: Callable[[httpx.AsyncBaseTransport], None]) -> KeyCheckingHubSpot:
    vendor = KeyCheckingHubSpot()
    vendors(vendor.transport())
    return vendor


@pytest.fixture
def admin(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tenant's admin token in $NEXORA_VAULT_TOKEN; returns the argv prefix for the tenant's crm key."""
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", setup.token(write=True))
    return ["--config", setup.config(CRM), "--tenant", setup.tenant, "--integration", "crm"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_put_reads_the_key_from_stdin_and_never_prints_it(
    setup: Setup, admin: list[str], stdin: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    key = make_secret()
    stdin(key + "\n")
    code, out, err = run(["keys", "put", *admin], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"put {setup.tenant}/crm",
        "  wrote v1 (the first version)",
        "result: v1 is current",
    ]
    assert setup.current("crm") == (1, {"type": "api_key", "api_key": key})
    assert_absent(out + err, key)

    second = make_secret()
    stdin(second)
    code, out, err = run(["keys", "put", *admin, "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["steps"] == [{"action": "write", "ok": True, "version": 2, "cas": 1}]
    assert report["current_version"] == 2
    assert_absent(out + err, key, second)


def test_rotate_reports_each_step_and_the_new_key_is_current(
    setup: Setup,
    admin: list[str],
    hubspot: KeyCheckingHubSpot,
    stdin: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = make_secret(), make_secret()
    setup.store("crm", {"type": "api_key", "api_key": old})
    hubspot.accepted = {old, new}
    stdin(new + "\n")
    code, out, err = run(["keys", "rotate", *admin], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [
        f"rotate {setup.tenant}/crm",
        "  wrote v2 (check-and-set on v1)",
        "  verified v2 against the vendor: ok",
    ]
    assert lines[-1].startswith("result: ")
    assert setup.current("crm") == (2, {"type": "api_key", "api_key": new})
    assert hubspot.keys_seen[new] == 1
    assert_absent(out + err, old, new)


def test_rotate_rolls_back_a_key_the_vendor_rejects_and_exits_3(
    setup: Setup,
    admin: list[str],
    hubspot: KeyCheckingHubSpot,
    stdin: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, rejected = make_secret(), make_secret()
    setup.store("crm", {"type": "api_key", "api_key": old})
    hubspot.accepted = {old}
    stdin(rejected)
    code, out, err = run(["keys", "rotate", *admin, "--json"], capsys)
    assert code == 3
    report = json.loads(out)
    assert report["outcome"] == "rolled_back"
    assert [(s["action"], s["ok"], s.get("version")) for s in report["steps"]] == [
        ("write", True, 2),
        ("verify", False, 2),
        ("rollback", True, 3),
        ("verify", True, 3),
    ]
    assert setup.current("crm") == (3, {"type": "api_key", "api_key": old})
    assert err.startswith("nexora-connect: error: VendorAuthError: ")
    assert err.count("\n") == 1
    assert_absent(out + err, old, rejected)


def test_versions_prints_metadata_only(
    setup: Setup, admin: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    keys = [make_secret() for _ in range(3)]
    for key in keys:
        setup.store("crm", {"type": "api_key", "api_key": key})
    code, out, err = run(["keys", "versions", *admin], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{setup.tenant}/crm"
    assert lines[1].split() == ["VERSION", "CREATED", "STATE", "CURRENT"]
    assert [line.split()[0] for line in lines[2:]] == ["v1", "v2", "v3"]
    assert lines[-1].split()[2:] == ["readable", "current"]
    code, out, _ = run(["keys", "versions", *admin, "--json"], capsys)
    document = json.loads(out)
    assert document["current_version"] == 3
    assert [v["version"] for v in document["versions"]] == [1, 2, 3]
    assert_absent(out, *keys)


def test_rollback_and_verify(
    setup: Setup, admin: list[str], hubspot: KeyCheckingHubSpot, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = make_secret(), make_secret()
    setup.store("crm", {"type": "api_key", "api_key": good})
    setup.store("crm", {"type": "api_key", "api_key": bad})
    hubspot.accepted = {good}

    code, out, err = run(["keys", "verify", *admin], capsys)
    assert code == 3
    assert "verification of v2 failed: VendorAuthError" in out
    assert err.startswith("nexora-connect: error: VendorAuthError:")

    code, out, err = run(["keys", "rollback", *admin, "--to", "1"], capsys)
    assert (code, err) == (0, "")
    assert "restored the value of v1 as v3" in out
    assert setup.current("crm") == (3, {"type": "api_key", "api_key": good})

    code, out, err = run(["keys", "verify", *admin, "--json"], capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["outcome"] == "ok"

    code, out, err = run(["keys", "rollback", *admin, "--to", "9"], capsys)
    assert code == 1
    assert "CredentialNotFoundError" in err
    assert "readable versions: v1, v2, v3" in err
    assert_absent(out + err, good, bad)


def test_a_token_without_the_write_policy_is_denied_and_nothing_is_written(
    setup: Setup,
    monkeypatch: pytest.MonkeyPatch,
    stdin: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = make_secret()
    setup.store("crm", {"type": "api_key", "api_key": old})
    reader = setup.token(write=False)
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", reader)
    key = make_secret()
    stdin(key)
    code, out, err = run(
        ["keys", "put", "--config", setup.config(CRM), "--tenant", setup.tenant, "--integration", "crm"],
        capsys,
    )
    assert code == 1
    assert out == ""
    assert err.startswith("nexora-connect: error: VaultPermissionError: ")
    assert "denied writing" in err
    assert "write=True" in err
    assert err.count("\n") == 1
    assert setup.current("crm") == (1, {"type": "api_key", "api_key": old})
    assert_absent(out + err, key, old, reader)


def test_a_vault_that_is_down_is_said_to_be_down(
    setup: Setup,
    monkeypatch: pytest.MonkeyPatch,
    stdin: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", "unused")
    key = make_secret()
    stdin(key)
    config = setup.config(CRM, vault={"address": address})
    code, out, err = run(
        ["keys", "put", "--config", config, "--tenant", setup.tenant, "--integration", "crm"], capsys
    )
    assert code == 1
    assert err.startswith("nexora-connect: error: VaultUnavailableError: could not connect to Vault at ")
    assert_absent(out + err, key)


def test_a_sealed_vault_is_said_to_be_sealed(
    setup: Setup,
    admin: list[str],
    openbao: OpenBaoDevServer,
    vault_root: Any,
    stdin: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = make_secret()
    stdin(key)
    vault_root.sys.seal()
    try:
        code, out, err = run(["keys", "put", *admin], capsys)
    finally:
        vault_root.sys.submit_unseal_key(openbao.unseal_key)
    for _ in range(100):  # the active node needs a moment after unsealing
        if not vault_root.sys.read_health_status(method="GET").get("standby", True):
            break
        time.sleep(0.05)
    assert code == 1
    assert err.startswith("nexora-connect: error: VaultSealedError: ")
    assert "unseal it" in err
    assert_absent(out + err, key)


@pytest.mark.parametrize(
    ("given", "complaint"),
    [("", "no secret was given"), ("  {key}\n", "whitespace"), ("{key}\x1b[2J", "control or invisible")],
    ids=["empty", "padded", "escape"],
)
def test_bad_input_is_a_usage_error_that_does_not_repeat_it(
    given: str,
    complaint: str,
    setup: Setup,
    admin: list[str],
    stdin: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = make_secret()
    stdin(given.format(key=key))
    code, out, err = run(["keys", "put", *admin], capsys)
    assert code == 2
    assert complaint in err
    assert_absent(out + err, key)


@pytest.mark.usefixtures("no_stdin")
def test_what_can_be_checked_without_the_secret_fails_before_reading_it(
    setup: Setup, admin: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = admin[1]
    code, _, err = run(
        ["keys", "put", "--config", config, "--tenant", setup.tenant, "--integration", "crm2"], capsys
    )
    assert code == 4
    assert "UnknownIntegrationError" in err
    assert "configured: crm" in err
    code, _, err = run(["keys", "put", *admin, "--type", "basic", "--username", "ops"], capsys)
    assert code == 2
    assert "accepts credentials of type api_key, oauth2_refresh, not 'basic'" in err
    code, _, err = run(
        ["keys", "put", "--config", config, "--tenant", "../etc", "--integration", "crm"], capsys
    )
    assert code == 2
    assert "InvalidIdentifierError" in err
    code, _, err = run(
        ["keys", "put", "--config", str(setup.tmp / "missing.toml"), "--tenant", "a", "--integration", "b"],
        capsys,
    )
    assert code == 4
    assert "does not exist" in err


def test_a_whole_credential_as_json(
    setup: Setup, admin: list[str], stdin: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    secret, refresh = make_secret(), make_secret()
    document = {
        "type": "oauth2_refresh",
        "client_id": "nexora-app",
        "client_secret": secret,
        "refresh_token": refresh,
    }
    stdin(json.dumps(document, indent=2) + "\n")
    code, out, err = run(["keys", "put", *admin, "--type", "oauth2_refresh"], capsys)
    assert (code, err) == (0, "")
    assert setup.current("crm")[1] == document
    stdin(json.dumps({**document, "type": "api_key"}))
    code, out2, err = run(["keys", "put", *admin, "--type", "oauth2_refresh"], capsys)
    assert code == 2
    assert_absent(out + out2 + err, secret, refresh)


def test_the_report_at_a_terminal_marks_each_step(
    setup: Setup,
    admin: list[str],
    hubspot: KeyCheckingHubSpot,
    stdin: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sdk._cli import _output

    monkeypatch.setattr(_output, "is_terminal", lambda stream: stream is not None)
    old, new = make_secret(), make_secret()
    setup.store("crm", {"type": "api_key", "api_key": old})
    hubspot.accepted = {old}
    stdin(new)
    code, out, err = run(["keys", "rotate", *admin], capsys)
    assert code == 3
    assert "✓ wrote v2" in out
    assert "✗ verification of v2 failed" in out
    assert "✓ rolled back" in out
    assert_absent(out + err, old, new)


def _drain(master: int, until: float) -> bytes:
    seen = b""
    while time.monotonic() < until and select.select([master], [], [], 0.1)[0]:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed its side
            break
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_at_a_terminal_the_key_is_typed_at_a_hidden_prompt(setup: Setup, admin: list[str]) -> None:
    """The installed command in a real pseudo-terminal: the prompt appears, what is typed does not."""
    key = make_secret()
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            [CLI, "keys", "put", *admin],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=slave,
            env={**os.environ, "TERM": "xterm"},
        )
        os.close(slave)
        screen = b""
        deadline = time.monotonic() + 20
        while b"(input hidden)" not in screen and time.monotonic() < deadline:
            screen += _drain(master, time.monotonic() + 0.2)
        assert b"API key for " in screen
        os.write(master, key.encode() + b"\n")
        out, _ = process.communicate(timeout=30)
        screen += _drain(master, time.monotonic() + 0.5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert process.returncode == 0, screen
    assert key.encode() not in screen  # not echoed by the terminal, not repeated by the command
    assert key.encode() not in out
    assert b"wrote v1" in out
    assert setup.current("crm") == (1, {"type": "api_key", "api_key": key})


@pytest.mark.parametrize("signals", [1, 2], ids=["one-signal-waits", "second-signal-aborts"])
def test_sigterm_during_a_rotation_lets_the_vault_writes_finish(
    signals: int,
    setup: Setup,
    admin: list[str],
    hubspot: KeyCheckingHubSpot,
    stdin: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = make_secret(), make_secret()
    setup.store("crm", {"type": "api_key", "api_key": old})
    hubspot.accepted = {old, new}
    sent: list[int] = []

    def terminate(request: httpx.Request) -> None:
        if not sent:  # at the verification of the new key, after it was written
            for _ in range(signals):
                os.kill(os.getpid(), signal.SIGTERM)
            sent.append(signals)

    hubspot.on_request = terminate
    stdin(new)
    code, out, err = run(["keys", "rotate", *admin], capsys)
    assert sent == [signals]
    assert "SIGTERM received: finishing the Vault writes in progress" in err
    if signals == 1:
        assert code == 0  # the rotation ran to its end; its own result stands
        assert "verified v2 against the vendor: ok" in out
    else:
        assert code == 130
        assert "aborted during a key operation: check the state with 'keys versions'" in err
    assert setup.current("crm")[1]["api_key"] == new
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert_absent(out + err, old, new)


def test_keys_work_inside_the_tenants_namespace(
    setup: Setup,
    openbao: OpenBaoDevServer,
    vault_root: Any,
    stdin: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    space = make_tenant_namespace(openbao)
    space.tenant = setup.tenant
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", space.token(write=True))
    argv = [
        "--config",
        setup.config(CRM, vault={"namespace": space.name}),
        "--tenant",
        setup.tenant,
        "--integration",
        "crm",
    ]
    key = make_secret()
    stdin(key + "\n")
    code, out, err = run(["keys", "put", *argv], capsys)
    assert (code, err) == (0, "")
    path = credential_path(space.settings, setup.tenant, "crm")
    inside = space.admin.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    assert inside["data"]["data"]["api_key"] == key
    with pytest.raises(hvac.exceptions.InvalidPath):  # nothing at the root namespace's same path
        vault_root.secrets.kv.v2.read_secret_version(
            path=path, mount_point="secret", raise_on_deleted_version=True
        )
    code, out, err = run(["keys", "versions", *argv, "--json"], capsys)
    assert code == 0
    assert [item["version"] for item in json.loads(out)["versions"]] == [1]
    # The same token against the root namespace is refused: it belongs to the tenant's namespace.
    root_config = setup.config(CRM, name="root.toml")
    code, out, err = run(
        ["keys", "versions", "--config", root_config, "--tenant", setup.tenant, "--integration", "crm"],
        capsys,
    )
    assert code != 0
    assert_absent(out + err, key)
    space.admin.adapter.close()
