"""The ``nexora-connect`` command line: listing connectors, usage errors, versions, error reporting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sdk
import sdk.demo
from sdk import ConfigurationError
from sdk.cli import main
from sdk.demo import DemoError

CLI = str(Path(sys.executable).parent / "nexora-connect")


def test_connectors_list_json_names_categories_and_scopes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "list", "--json"]) == 0
    listed = {c["name"]: c for c in json.loads(capsys.readouterr().out)["connectors"]}
    assert {
        name: c["category"] for name, c in listed.items() if name in ("hubspot", "zendesk", "stripe")
    } == {
        "hubspot": "crm",
        "zendesk": "ticketing",
        "stripe": "billing",
    }
    scopes = {name: {op["name"]: op["scope"] for op in c["operations"]} for name, c in listed.items()}
    assert scopes["hubspot"] == {
        "find_contacts": "contacts:read",
        "get_contact": "contacts:read",
        "get_account": "accounts:read",
        "create_note": "notes:write",
    }
    assert scopes["zendesk"]["add_comment"] == "comments:write"
    assert scopes["zendesk"]["list_tickets"] == "tickets:read"
    assert scopes["stripe"]["list_invoices"] == "invoices:read"
    assert scopes["stripe"]["resend_invoice"] == "invoices:write"
    for connector in listed.values():
        for op in connector["operations"]:
            assert op["access"] == op["scope"].split(":")[1]


def test_connectors_list_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["CONNECTOR", "CATEGORY", "OPERATION", "SCOPE"]
    assert any(
        line.split()[:4] == ["zendesk", "ticketing", "add_comment", "comments:write"]
        for line in out.splitlines()
    )


def test_a_broken_connector_is_reported_and_fails_the_listing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import EntryPoint

    registry = sdk.ConnectorRegistry()
    registry._entry_points["broken"] = EntryPoint(
        "broken", "acme_connector:AcmeConnector", "nexora_connect.connectors"
    )
    monkeypatch.setattr("sdk.cli.default_registry", lambda: registry)
    assert main(["connectors", "list", "--json"]) == 1
    captured = capsys.readouterr()
    assert {c["name"] for c in json.loads(captured.out)["connectors"]} == {
        "hubspot",
        "stripe",
        "zendesk",
        "jsm",
        "chargebee",
    }
    assert captured.err.count("\n") == 1
    assert "'broken' is installed but cannot be loaded" in captured.err


@pytest.mark.parametrize(
    "argv",
    [[], ["bogus"], ["demo", "--bogus"], ["connectors"], ["connectors", "remove"], ["--json"]],
    ids=[
        "nothing",
        "unknown-command",
        "unknown-option",
        "no-subcommand",
        "unknown-subcommand",
        "stray-option",
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: nexora-connect" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nexora-connect {sdk.__version__}"


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for code, meaning in (("0", "success"), ("1", "failure"), ("2", "usage"), ("130", "interrupted")):
        assert any(line.split()[:2] == [code, meaning] for line in out.splitlines()), (code, out)


def test_sdk_error_is_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_demo(**kwargs: object) -> int:
        raise ConfigurationError("the OpenBao binary 'bao' is missing;\n  install it with pip")

    monkeypatch.setattr(sdk.demo, "run_demo", failing_demo)
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    prefix = "nexora-connect: error: ConfigurationError: "
    assert err == prefix + "the OpenBao binary 'bao' is missing; install it with pip\n"


def test_demo_failure_and_interrupt_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failed(**kwargs: object) -> int:
        raise DemoError("1 calls failed")

    def interrupted(**kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(sdk.demo, "run_demo", failed)
    assert main(["demo"]) == 1
    assert capsys.readouterr().err == "nexora-connect: error: the demo failed: 1 calls failed\n"
    monkeypatch.setattr(sdk.demo, "run_demo", interrupted)
    assert main(["demo", "--json"]) == 130


def test_installed_script(tmp_path: Path) -> None:
    version = subprocess.run([CLI, "--version"], capture_output=True, text=True, check=False, timeout=30)
    usage = subprocess.run([CLI, "connectors"], capture_output=True, text=True, check=False, timeout=30)
    assert (version.returncode, version.stdout.strip()) == (0, f"nexora-connect {sdk.__version__}")
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr
