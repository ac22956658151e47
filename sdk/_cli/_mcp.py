"""``nexora-connect mcp``: serve one conversation's scoped tools to an MCP client, over stdio or HTTP."""

from __future__ import annotations

import argparse
from typing import Any

from sdk._cli._base import EXIT_USAGE, CliError, CommandDoc, add_command, positive_float
from sdk._cli._run import sigterm_interrupts
from sdk._errors import UsageError

__all__ = ["register"]

_DEFAULT_PORT = 8931  # sdk.mcp_server.DEFAULT_PORT; not imported, so --help never imports the server

MCP = CommandDoc(
    path=("mcp",),
    summary="serve one conversation's tools over MCP (stdio, or Streamable HTTP)",
    description=(
        "Open one conversation for TENANT and serve its tools to a Model Context Protocol client: exactly "
        "the operations the tenant granted, each call scope-checked, audited, cached in the conversation "
        "and redacted. The conversation is hung up, and everything it fetched wiped, when the client "
        "ends the session, at --max-lifetime, or on SIGTERM.\n\n"
        "With --transport stdio (the default), standard output carries MCP messages only; errors and logs "
        "go to standard error, and MCP clients start this command themselves (see the example).\n\n"
        "With --transport http, it serves Streamable HTTP at http://HOST:PORT/mcp for a hosted voice "
        "platform. The first MCP session is bound to the conversation and any other session is refused; "
        "the server stops when the conversation ends. It listens on 127.0.0.1 unless --host says "
        "otherwise, and any address other than loopback needs TLS (--tls-cert and --tls-key) and a bearer "
        "token of at least 32 characters, read from an environment variable (--token-env) or a file only "
        "its owner can read (--token-file), never from the command line. Needs the 'mcp' package: pip "
        "install 'nexora-connect[mcp]'."
    ),
    examples=(
        (
            "nexora-connect mcp --config nexora.toml --tenant acme --conversation-id call-42",
            "serve the tools of conversation call-42 of tenant acme over stdio",
        ),
        (
            '{"command": "nexora-connect", "args": ["mcp", "--config", "/etc/nexora.toml", "--tenant", '
            '"acme", "--conversation-id", "call-42"]}',
            "the same as an MCP client's server entry",
        ),
        (
            "NEXORA_MCP_TOKEN=... nexora-connect mcp --config nexora.toml --tenant acme --conversation-id "
            "call-42 --transport http --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --token-env "
            "NEXORA_MCP_TOKEN",
            "serve it over HTTPS to a hosted voice platform, which sends Authorization: Bearer <token>",
        ),
    ),
    exit_codes={
        0: "the client closed the session; the conversation was hung up",
        1: "the server failed, or the 'mcp' package is missing",
        2: "a usage error, or --host is not loopback and TLS or the token is missing",
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
    http = parser.add_argument_group("HTTP transport")
    http.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio for a client that starts this command, http for a hosted platform (default: stdio)",
    )
    http.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="the address to listen on (default: 127.0.0.1); any other than loopback needs TLS and a token",
    )
    http.add_argument(
        "--port",
        type=_port,
        default=_DEFAULT_PORT,
        metavar="PORT",
        help=f"the port (default: {_DEFAULT_PORT})",
    )
    http.add_argument(
        "--path", default="/mcp", metavar="PATH", help="the URL path of the MCP endpoint (default: /mcp)"
    )
    http.add_argument(
        "--tls-cert", metavar="FILE", help="the TLS certificate chain (PEM) to serve HTTPS with"
    )
    http.add_argument("--tls-key", metavar="FILE", help="the TLS certificate's private key (PEM)")
    token = http.add_mutually_exclusive_group()
    token.add_argument(
        "--token-env",
        metavar="NAME",
        help="the environment variable holding the bearer token clients must send",
    )
    token.add_argument(
        "--token-file",
        metavar="FILE",
        help="a file holding the bearer token, readable by its owner only (chmod 600)",
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return value


def _http_only(args: argparse.Namespace) -> list[str]:
    given = {
        "--host": args.host != "127.0.0.1",
        "--port": args.port != _DEFAULT_PORT,
        "--path": args.path != "/mcp",
        "--tls-cert": args.tls_cert is not None,
        "--tls-key": args.tls_key is not None,
        "--token-env": args.token_env is not None,
        "--token-file": args.token_file is not None,
    }
    return [flag for flag, used in given.items() if used]


def run(args: argparse.Namespace) -> int:
    if args.transport == "stdio":
        stray = _http_only(args)
        if stray:
            raise CliError(f"{', '.join(stray)} only apply with --transport http.", EXIT_USAGE)
        from sdk.mcp_server import run_stdio

        with sigterm_interrupts():
            run_stdio(args.config, args.tenant, args.conversation_id, max_lifetime=args.max_lifetime)
        return 0

    from sdk.mcp_server import load_token, run_http

    if not args.path.startswith("/") or any(char.isspace() for char in args.path):
        raise CliError("--path must start with '/' and contain no spaces.", EXIT_USAGE)
    try:
        token = load_token(env=args.token_env, file=args.token_file)
        with sigterm_interrupts():
            run_http(
                args.config,
                args.tenant,
                args.conversation_id,
                max_lifetime=args.max_lifetime,
                host=args.host,
                port=args.port,
                path=args.path,
                token=token,
                certfile=args.tls_cert,
                keyfile=args.tls_key,
            )
    except UsageError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    return 0
