"""``nexora-connect mcp``: serve one conversation's scoped tools to an MCP client over stdio."""

from __future__ import annotations

import argparse
from typing import Any

from sdk._cli._base import CommandDoc, add_command, positive_float
from sdk._cli._run import sigterm_interrupts

__all__ = ["register"]

MCP = CommandDoc(
    path=("mcp",),
    summary="serve one conversation's tools over MCP on stdin/stdout",
    description=(
        "Open one conversation for TENANT and serve its tools to a Model Context Protocol client over "
        "stdio: exactly the operations the tenant granted, each call scope-checked, audited, cached in "
        "the conversation and redacted. The conversation is hung up, and everything it fetched wiped, "
        "when the client closes the session, at --max-lifetime, or on SIGTERM.\n\n"
        "Standard output carries MCP messages only; errors and logs go to standard error. MCP clients "
        "start this command themselves (see the example). Needs the 'mcp' package: pip install "
        "'nexora-connect[mcp]'."
    ),
    examples=(
        (
            "nexora-connect mcp --config nexora.toml --tenant acme --conversation-id call-42",
            "serve the tools of conversation call-42 of tenant acme",
        ),
        (
            '{"command": "nexora-connect", "args": ["mcp", "--config", "/etc/nexora.toml", "--tenant", '
            '"acme", "--conversation-id", "call-42"]}',
            "the same as an MCP client's server entry",
        ),
    ),
    exit_codes={
        0: "the client closed the session; the conversation was hung up",
        1: "the server failed, or the 'mcp' package is missing",
        2: None,
        4: None,
        130: "stopped by Ctrl-C or SIGTERM; the conversation was hung up",
    },
)


def register(commands: Any) -> None:
    parser = add_command(commands, MCP, run)
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="the Nexora Connect configuration (TOML)"
    )
    parser.add_argument("--tenant", required=True, metavar="TENANT", help="the tenant whose tools to serve")
    parser.add_argument(
        "--conversation-id",
        required=True,
        metavar="ID",
        help="the call's id (e.g. the voice platform's call id)",
    )
    parser.add_argument(
        "--max-lifetime",
        type=positive_float,
        metavar="SECONDS",
        help="wipe the conversation after this long even if the client stays (default: the configuration's)",
    )


def run(args: argparse.Namespace) -> int:
    from sdk.mcp_server import run_stdio

    with sigterm_interrupts():
        run_stdio(args.config, args.tenant, args.conversation_id, max_lifetime=args.max_lifetime)
    return 0
