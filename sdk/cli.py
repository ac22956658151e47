"""The ``nexora-connect`` command line: run the demo and list the installed connectors.

Built on the standard library's argparse so that the CLI adds no dependency;
every command is a small function of parsed arguments returning an exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import sdk
from sdk import ConnectorInfo, NexoraError, default_registry

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_EPILOG = f"""\
exit codes:
  {EXIT_OK}    success
  {EXIT_FAILURE}    failure (the error is printed on one line to stderr)
  {EXIT_USAGE}    usage error (unknown command or option)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C or SIGTERM); everything started has been stopped

examples:
  nexora-connect demo               run one simulated call end to end
  nexora-connect demo --json        the same, printing one JSON summary
  nexora-connect connectors list    list installed connectors, their operations and scopes
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nexora-connect",
        description="Nexora Connect: let voice AI agents read a caller's context safely.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {sdk.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="run one simulated call against a local OpenBao and sandbox vendor APIs",
        description=(
            "Start a local OpenBao dev server and sandbox HubSpot, Zendesk and Stripe APIs on loopback, "
            "then run one call: context fetch, a refused write, a granted write, a key rotation and the "
            "wipe on hangup. Nothing leaves this machine and nothing is written to disk."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--json", action="store_true", help="print one machine-readable JSON summary instead")

    connectors = commands.add_parser("connectors", help="inspect the installed connectors")
    connector_commands = connectors.add_subparsers(
        dest="connectors_command", metavar="COMMAND", required=True
    )
    listing = connector_commands.add_parser(
        "list",
        help="list installed connectors with their category, operations and scopes",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (see ``nexora-connect --help``)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command == "demo":
            return _demo(json_output=args.json)
        return _connectors_list(json_output=args.json, out=sys.stdout)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except NexoraError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_FAILURE


def _error(message: str) -> None:
    """Print ``message`` as one line on stderr (multi-line SDK messages are joined)."""
    text = ""
    for part in (line.strip() for line in message.splitlines()):
        if part:
            text += (" " if text.endswith((":", ";", ",")) else "; ") if text else ""
            text += part
    print("nexora-connect: error: " + text, file=sys.stderr)


def _demo(*, json_output: bool) -> int:
    # Imported here: the demo pulls in hvac and the sandboxes, which listing connectors does not need.
    from sdk.demo import DemoError, run_demo

    try:
        return run_demo(json_output=json_output, out=sys.stdout)
    except DemoError as exc:
        _error(f"the demo failed: {exc}")
        return EXIT_FAILURE


def _connectors_list(*, json_output: bool, out: TextIO) -> int:
    registry = default_registry()
    infos: list[ConnectorInfo] = []
    broken: list[str] = []
    for name in registry.names():
        try:
            infos.append(registry.describe(name))
        except NexoraError as exc:
            # One broken plugin must not hide the others; it is reported and fails the command.
            broken.append(str(exc))
    if json_output:
        document: dict[str, Any] = {
            "connectors": [
                {
                    "name": info.name,
                    "display_name": info.display_name,
                    "category": info.category,
                    "operations": [
                        {"name": operation, "scope": scope, "access": scope.rpartition(":")[2]}
                        for operation, scope in sorted(info.operations.items())
                    ],
                    "source": info.source,
                }
                for info in infos
            ]
        }
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(_table(infos))
    for problem in broken:
        _error(problem)
    return EXIT_FAILURE if broken else EXIT_OK


def _table(infos: Sequence[ConnectorInfo]) -> str:
    if not infos:
        return "no connectors are installed\n"
    rows = [("CONNECTOR", "CATEGORY", "OPERATION", "SCOPE")]
    for info in infos:
        for index, (operation, scope) in enumerate(sorted(info.operations.items())):
            first = index == 0
            rows.append((info.name if first else "", info.category if first else "", operation, scope))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
