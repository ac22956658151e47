"""The MCP server is optional: ``import sdk`` never needs ``mcp``, and its absence is explained."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sdk import Conversation
from sdk.mcp_server import build_server, serve_conversation


def test_importing_the_sdk_and_its_tools_does_not_import_mcp() -> None:
    code = (
        "import sys, sdk, sdk._call, sdk.mcp_server; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mcp'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


async def test_without_mcp_the_error_says_what_to_install_and_the_call_is_still_hung_up(
    read_only: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mcp.server.lowlevel", None)
    with pytest.raises(ImportError, match=r"nexora-connect\[mcp\]"):
        build_server(read_only)
    with pytest.raises(ImportError, match=r"nexora-connect\[mcp\]"):
        await serve_conversation(read_only)
    assert read_only.closed
