"""``nexora-connect doctor``: one line per check, a fix for each failure, exit 3 when anything fails.

Against the session's real OpenBao; HubSpot is a respx router that accepts only
the keys it is told. Secrets are canaries, and never appear in the report.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sdk.cli import main
from tests.cli.conftest import Setup, assert_absent
from tests.keys.support import KeyCheckingHubSpot
from tests.vault.namespaces import make_tenant_namespace
from tests.vault.support import make_secret
from vault import OpenBaoDevServer

pytestmark = pytest.mark.vault


@pytest.fixture
def hubspot(vendors: Callable[[httpx.AsyncBaseTransport], None]) -> KeyCheckingHubSpot:
    vendor = KeyCheckingHubSpot()
    vendors(vendor.transport())
    return vendor


@pytest.fixture
def reader(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> str:
    """The tenant's read-only token, as a voice agent would hold it, in $NEXORA_VAULT_TOKEN."""
    token = setup.token()
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", token)
    return token


def doctor(
    config: str, tenant: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--config", config, "--tenant", tenant, "--json", *extra])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, json.loads(captured.out)


def by_label(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        (f"{c['integration']}/{c['check']}" if c["integration"] else c["check"]): c for c in report["checks"]
    }


def test_a_healthy_tenant_passes_every_check(
    setup: Setup, reader: str, hubspot: KeyCheckingHubSpot, capsys: pytest.CaptureFixture[str]
) -> None:
    key = make_secret()
    setup.store("crm", {"type": "api_key", "api_key": key})
    hubspot.accepted = {key}
    config = setup.config(
        {"crm": {"connector": "hubspot", "grant": "scoped-write", "write_scopes": ["notes:write"]}}
    )

    code, report = doctor(config, setup.tenant, capsys)

    assert code == 0
    assert report["ok"] is True
    checks = by_label(report)
    assert list(checks) == [
        "config",
        "tenant",
        "residency",
        "vault",
        "audit",
        "auth",
        "crm/connector",
        "crm/grant",
        "crm/secret",
        "crm/verify",
    ]
    assert {c["status"] for c in report["checks"]} == {"ok"}
    assert "type api_key, fields api_key" in checks["crm/secret"]["detail"]
    assert "notes:write (create_note)" in checks["crm/grant"]["detail"]
    assert "unsealed" in checks["vault"]["detail"]
    assert hubspot.keys_seen[key] == 1  # verify() really asked the vendor

    # The same, for people: one line per check, nothing else but the summary.
    assert main(["doctor", "--config", config, "--tenant", setup.tenant]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(checks) + 1
    assert all(line.startswith("ok    ") for line in lines[:-1])
    assert lines[-1] == f"doctor: tenant {setup.tenant}: 10 ok, 0 warning(s), 0 failed, 0 skipped"
    assert_absent("\n".join(lines) + json.dumps(report), key, reader)


def test_each_failure_has_a_fix_and_the_exit_code_is_3(
    setup: Setup,
    reader: str,
    hubspot: KeyCheckingHubSpot,
    vault_root: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good, rejected = make_secret(), make_secret()
    setup.store("good", {"type": "api_key", "api_key": good})
    setup.store("rejected", {"type": "api_key", "api_key": rejected})
    setup.store("malformed", {"type": "api_key", "token": rejected})  # api_key missing
    setup.store("wrongtype", {"type": "basic", "username": "ops", "password": rejected})
    hubspot.accepted = {good}
    config = setup.config(
        {
            "good": {"connector": "hubspot", "grant": "scoped-write", "write_scopes": ["invoices:write"]},
            "rejected": {"connector": "hubspot"},
            "malformed": {"connector": "hubspot"},
            "wrongtype": {"connector": "hubspot"},
            "missing": {"connector": "hubspot"},
            "gone": {"connector": "salesforce_classic"},
        }
    )

    code, report = doctor(config, setup.tenant, capsys)

    assert code == 3
    assert report["ok"] is False
    checks = by_label(report)
    status = {label: c["status"] for label, c in checks.items()}
    assert status["auth"] == "ok"
    assert status["good/grant"] == "warn"
    assert "invoices:write" in checks["good/grant"]["detail"]
    assert "remove it from" in checks["good/grant"]["fix"]
    assert (status["good/secret"], status["good/verify"]) == ("ok", "ok")
    assert (status["rejected/secret"], status["rejected/verify"]) == ("ok", "fail")
    assert "rejected the key" in checks["rejected/verify"]["detail"]
    assert "keys rotate" in checks["rejected/verify"]["fix"]
    assert (status["malformed/secret"], status["malformed/verify"]) == ("fail", "skip")
    assert "api_key" in checks["malformed/secret"]["detail"]
    assert (status["wrongtype/secret"], status["wrongtype/verify"]) == ("fail", "skip")
    assert "accepts api_key, oauth2_refresh" in checks["wrongtype/secret"]["detail"]
    assert (status["missing/secret"], status["missing/verify"]) == ("fail", "skip")
    assert (
        f"keys put --config {config} --tenant {setup.tenant} --integration missing"
        in checks["missing/secret"]["fix"]
    )
    # A connector that is not installed is reported, and the other integrations are still checked.
    assert status["gone/connector"] == "fail"
    assert "gone/secret" not in checks
    for check in report["checks"]:
        if check["status"] in ("fail", "warn"):
            assert check["fix"], check
    assert report["counts"] == {
        "ok": sum(1 for c in report["checks"] if c["status"] == "ok"),
        "warn": 1,
        "fail": 5,
        "skip": 3,
    }
    assert_absent(json.dumps(report), good, rejected, reader)

    # People see one line per check; a failure's fix is on its own line.
    assert main(["doctor", "--config", config, "--tenant", setup.tenant]) == 3
    out = capsys.readouterr().out
    missing = next(line for line in out.splitlines() if line.startswith("FAIL  missing/secret: "))
    assert " -- fix: store one: nexora-connect keys put " in missing
    assert_absent(out, good, rejected)


def test_strict_turns_warnings_into_failures(
    setup: Setup, reader: str, hubspot: KeyCheckingHubSpot, capsys: pytest.CaptureFixture[str]
) -> None:
    key = make_secret()
    setup.store("crm", {"type": "api_key", "api_key": key})
    hubspot.accepted = {key}
    config = setup.config({"crm": {"connector": "hubspot", "grant": "scoped-write"}})
    code, report = doctor(config, setup.tenant, capsys)
    assert code == 0
    assert by_label(report)["crm/grant"]["status"] == "warn"
    code, report = doctor(config, setup.tenant, capsys, "--strict")
    assert code == 3
    assert report["ok"] is False


def test_a_vault_that_is_down_skips_what_needs_it(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", "unused")
    config = setup.config({"crm": {"connector": "hubspot"}}, vault={"address": address})
    code, report = doctor(config, setup.tenant, capsys)
    assert code == 3
    checks = by_label(report)
    assert checks["vault"]["status"] == "fail"
    assert f"cannot connect to Vault at {address} (connection refused" in checks["vault"]["detail"]
    assert "address" in checks["vault"]["fix"]
    assert [checks[name]["status"] for name in ("auth", "crm/secret", "crm/verify")] == ["skip"] * 3
    assert checks["crm/connector"]["status"] == "ok"  # what does not need Vault is still checked


def test_a_sealed_vault_is_reported_as_sealed(
    setup: Setup, reader: str, openbao: OpenBaoDevServer, vault_root: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup.config({"crm": {"connector": "hubspot"}})
    vault_root.sys.seal()
    try:
        code, report = doctor(config, setup.tenant, capsys)
    finally:
        vault_root.sys.submit_unseal_key(openbao.unseal_key)
    for _ in range(100):  # the active node needs a moment after unsealing
        if not vault_root.sys.read_health_status(method="GET").get("standby", True):
            break
        time.sleep(0.05)
    assert code == 3
    vault = by_label(report)["vault"]
    assert vault["status"] == "fail"
    assert "is sealed" in vault["detail"]
    assert "unseal" in vault["fix"]


def test_a_bad_token_fails_the_auth_check(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = make_secret()
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", bogus)
    config = setup.config({"crm": {"connector": "hubspot"}})
    code, report = doctor(config, setup.tenant, capsys)
    assert code == 3
    checks = by_label(report)
    assert checks["auth"]["status"] == "fail"
    assert "$NEXORA_VAULT_TOKEN" in checks["auth"]["fix"]
    assert checks["crm/secret"]["status"] == "skip"
    assert_absent(json.dumps(report), bogus)


def test_residency_and_a_missing_audit_location(
    setup: Setup, reader: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup.config(
        {"crm": {"connector": "hubspot"}},
        tenant={"region": "au"},
        audit={"sink": "jsonl", "locations": {"nz": str(setup.tmp / "nz")}, "default_region": "nz"},
    )
    code, report = doctor(config, setup.tenant, capsys)
    assert code == 3
    checks = by_label(report)
    assert checks["residency"]["status"] == "fail"
    assert "cross_region = true" in checks["residency"]["fix"]
    assert checks["audit"]["status"] == "fail"
    assert "audit.locations.au" in checks["audit"]["fix"]
    assert checks["crm/secret"]["status"] == "skip"
    assert "outside its region" in checks["crm/secret"]["detail"]


@pytest.mark.parametrize(
    ("content", "tenant", "expected"),
    [
        ("this is [not toml", "acme", "config"),
        ('[vault]\naddress = "ftp://vault"\n', "acme", "config"),
        ('[vault]\naddress = "http://127.0.0.1:8200"\n[tenants.acme]\n', "globex", "tenant"),
        ('[vault]\naddress = "http://127.0.0.1:8200"\n[tenants.acme]\n', "../acme", "tenant"),
    ],
    ids=["not-toml", "invalid", "unknown-tenant", "malformed-tenant"],
)
def test_configuration_problems_are_failed_checks(
    content: str, tenant: str, expected: str, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup.tmp / "broken.toml"
    path.write_text(content)
    code, report = doctor(str(path), tenant, capsys)
    assert code == 3
    last = report["checks"][-1]
    assert (last["check"], last["status"]) == (expected, "fail")
    assert last["fix"]


def test_at_a_terminal_each_check_is_marked(
    setup: Setup,
    reader: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sdk._cli import _output

    monkeypatch.setattr(_output, "is_terminal", lambda stream: True)
    config = setup.config({"crm": {"connector": "hubspot"}})
    assert main(["doctor", "--config", config, "--tenant", setup.tenant]) == 3
    out = capsys.readouterr().out
    assert "✓ config" in out
    assert "✗ crm/secret" in out
    assert "fix: store one" in out


def test_the_plain_http_opt_ins_are_reported_as_warnings(
    setup: Setup, reader: str, hubspot: KeyCheckingHubSpot, capsys: pytest.CaptureFixture[str]
) -> None:
    key = make_secret()
    setup.store("crm", {"type": "api_key", "api_key": key})
    hubspot.accepted = {key}
    config = setup.config(
        {"crm": {"connector": "hubspot", "allow_plain_http": True}}, vault={"allow_plain_http": True}
    )
    code, report = doctor(config, setup.tenant, capsys)
    assert code == 0  # a warning, not a failure
    checks = by_label(report)
    labels = list(checks)
    assert labels.index("vault-transport") == labels.index("vault") + 1
    vault = checks["vault-transport"]
    assert vault["status"] == "warn"
    assert "allow_plain_http = true in [vault]" in vault["detail"]
    assert "remove allow_plain_http from [vault]" in vault["fix"]
    crm = checks["crm/transport"]
    assert crm["status"] == "warn"
    assert f"[tenants.{setup.tenant}.integrations.crm]" in crm["fix"]
    assert checks["crm/verify"]["status"] == "ok"  # the rest still runs
    code, report = doctor(config, setup.tenant, capsys, "--strict")
    assert code == 3
    assert_absent(json.dumps(report), key, reader)


def test_no_opt_in_no_transport_line(setup: Setup, reader: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = setup.config({"crm": {"connector": "hubspot"}})
    _, report = doctor(config, setup.tenant, capsys)
    assert not [check for check in report["checks"] if check["check"] in {"vault-transport", "transport"}]


def test_a_tenant_in_its_own_namespace(
    setup: Setup,
    openbao: OpenBaoDevServer,
    hubspot: KeyCheckingHubSpot,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    space = make_tenant_namespace(openbao)
    space.tenant = setup.tenant
    key = make_secret()
    space.write("crm", {"type": "api_key", "api_key": key})
    hubspot.accepted = {key}
    token = space.token()
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", token)
    config = setup.config({"crm": {"connector": "hubspot"}}, vault={"namespace": space.name})
    code, report = doctor(config, setup.tenant, capsys)
    checks = by_label(report)
    assert code == 0, report
    assert f"in namespace {space.name!r}" in checks["auth"]["detail"]
    assert checks["crm/secret"]["detail"].startswith(f"v1 at {space.name}/secret/data/")
    assert checks["crm/verify"]["status"] == "ok"
    # Without the namespace, the same token is denied the secret: nothing at the root leaks through.
    config = setup.config({"crm": {"connector": "hubspot"}}, name="root.toml")
    code, report = doctor(config, setup.tenant, capsys)
    assert code == 3
    assert by_label(report)["crm/secret"]["status"] == "fail"
    assert_absent(json.dumps(report), key, token)
    space.admin.adapter.close()
