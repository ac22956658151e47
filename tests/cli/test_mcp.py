"""``nexora-connect mcp``: an MCP server over real stdio, in its own process; stdout carries MCP only."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from sdk.cli import main
from tests.cli.conftest import toml

pytest.importorskip("mcp", reason="the MCP server needs the 'mcp' extra")

CLI = str(Path(sys.executable).parent / "nexora-connect")


def _config(tmp_path: Path) -> str:
    path = tmp_path / "nexora.toml"
    # Listing tools reads nothing from Vault or the vendors, so neither needs to be there.
    path.write_text(
        toml(
            {
                "vault": {"address": "http://127.0.0.1:9"},
                "audit": {"sink": "memory"},
                "tenants": {
                    "acme": {
                        "integrations": {
                            "crm": {
                                "connector": "hubspot",
                                "grant": "scoped-write",
                                "write_scopes": ["notes:write"],
                            }
                        }
                    }
                },
            }
        )
    )
    return str(path)


def _message(payload: dict[str, Any]) -> str:
    return json.dumps({"jsonrpc": "2.0", **payload}) + "\n"


def test_initialize_and_list_tools_over_stdio(tmp_path: Path) -> None:
    """A client's session: initialize, list the tools, close stdin; the server answers and exits 0."""
    process = subprocess.Popen(
        [CLI, "mcp", "--config", _config(tmp_path), "--tenant", "acme", "--conversation-id", "call-1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # a hung server fails the test instead of hanging it
    watchdog.start()
    try:
        assert process.stdin is not None
        assert process.stdout is not None

        def ask(payload: dict[str, Any]) -> dict[str, Any]:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(_message(payload))
            process.stdin.flush()
            if "id" not in payload:
                return {}
            answer: dict[str, Any] = json.loads(process.stdout.readline())  # stdout is JSON-RPC only
            assert answer["id"] == payload["id"]
            return answer

        initialized = ask(
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "cli-test", "version": "0"},
                },
            }
        )
        ask({"method": "notifications/initialized"})
        listed = ask({"id": 2, "method": "tools/list", "params": {}})
        # communicate() closes stdin: the client ends the session and the conversation is hung up.
        rest, err = process.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert rest == ""
    assert initialized["result"]["serverInfo"]["name"] == "nexora-connect"
    tools = {tool["name"] for tool in listed["result"]["tools"]}
    assert any("create_note" in name for name in tools)
    assert any("find_contacts" in name for name in tools)


def test_configuration_errors_end_before_serving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["mcp", "--config", str(tmp_path / "none.toml"), "--tenant", "acme", "--conversation-id", "c"])
        == 4
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "does not exist" in captured.err
    assert main(["mcp", "--config", _config(tmp_path), "--tenant", "globex", "--conversation-id", "c"]) == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "UnknownTenantError" in captured.err


def test_without_mcp_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mcp.server.lowlevel", None)
    assert main(["mcp", "--config", _config(tmp_path), "--tenant", "acme", "--conversation-id", "c"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nexora-connect[mcp]" in captured.err
