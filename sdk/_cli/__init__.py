"""The ``nexora-connect`` command line: one module per command group, assembled here.

Built on the standard library's argparse; Rich is used for tables and
spinners when a person is watching (see :mod:`sdk._cli._output`). Every
command is a function of its parsed arguments returning an exit code; the
exit codes and what each means are defined once, in :mod:`sdk._cli._base`.
The tree of commands is declared in :mod:`sdk._cli._tree`, which imports no
command's implementation: ``--help`` stays fast, and a command loads only what
it uses when it runs.

How errors end a command: an SDK error is printed as one line on stderr
(``nexora-connect: error: ClassName: message``) and mapped to an exit code by
what the operator should do next; SDK messages never hold a secret or
customer data (promise S3). Anything else is a bug: only its class name is
printed, because its message could quote data. There is never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import sdk
from sdk._cli._base import (
    EXIT_CHECK_FAILED,
    EXIT_CODES,
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    Parser,
    error_name,
    formatter,
    print_error,
)
from sdk._cli._tree import REGISTER
from sdk._errors import ConfigurationError, InvalidArgumentsError, InvalidIdentifierError, NexoraError

__all__ = [
    "EXIT_CHECK_FAILED",
    "EXIT_CODES",
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]


def _epilog() -> str:
    examples = (
        ("nexora-connect demo", "run one simulated call end to end, on this machine only"),
        ("nexora-connect connectors list", "list installed connectors, their operations and scopes"),
        ("nexora-connect doctor --config nexora.toml --tenant acme", "check a tenant's setup end to end"),
        (
            "nexora-connect keys rotate --config nexora.toml --tenant acme --integration crm",
            "rotate a key safely",
        ),
        ("nexora-connect COMMAND --help", "the manual of one command"),
    )
    lines = ["examples:"]
    for command, what in examples:
        lines += [f"  {command}", f"      {what}"]
    lines += ["", "exit codes (each command's --help says which it uses):"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES.items()]
    lines += ["", "Documentation: docs/cli.md. Output is plain text when piped; most commands take --json."]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree (also used to generate docs/cli.md)."""
    parser = Parser(
        prog="nexora-connect",
        description=(
            "Nexora Connect lets voice AI agents read a caller's context from a business's CRM, ticketing "
            "and billing systems safely. This command runs the demo and lets an operator inspect "
            "connectors, check a tenant's setup, fetch a redacted context, read the audit trail, manage "
            "keys, scaffold a connector and serve tools over MCP."
        ),
        epilog=_epilog(),
        formatter_class=formatter(),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {sdk.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for register in REGISTER:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (see ``nexora-connect --help``)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except CliError as exc:
        print_error(str(exc))
        return exc.code
    except (InvalidArgumentsError, InvalidIdentifierError) as exc:
        print_error(f"{error_name(exc)}: {exc}")
        return EXIT_USAGE
    except ConfigurationError as exc:
        print_error(f"{error_name(exc)}: {exc}")
        return EXIT_CONFIG
    except NexoraError as exc:
        print_error(f"{error_name(exc)}: {exc}")
        return EXIT_FAILURE
    except ImportError as exc:  # an optional dependency (mcp, copier): its message says what to install
        print_error(str(exc) if "install" in str(exc) else f"a required package is missing ({exc.name})")
        return EXIT_FAILURE
    except OSError as exc:
        # File errors name the file and the reason; nothing else of an OSError is shown.
        where = f": {exc.filename}" if exc.filename else ""
        print_error(f"{exc.strerror or type(exc).__name__}{where}")
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - a bug must end in one line, not a traceback
        # The class name only: the message of an unexpected error could quote a secret or a record.
        print_error(f"unexpected {type(exc).__name__}; this is a bug in nexora-connect, please report it")
        return EXIT_FAILURE
    sys.stdout.flush()
    return code
