"""``nexora-connect connectors list``: what is installed, and what each connector may be granted."""

from __future__ import annotations

import argparse
from typing import Any

from sdk._cli._base import EXIT_FAILURE, EXIT_OK, CommandDoc, add_command, print_error
from sdk._cli._output import Cell, Output
from sdk._errors import NexoraError
from sdk._registry import ConnectorInfo, default_registry

__all__ = ["register"]

GROUP = CommandDoc(
    path=("connectors",),
    summary="inspect the installed connectors",
    description="Inspect the connectors installed in this Python environment (entry points in the "
    "'nexora_connect.connectors' group).",
    exit_codes={0: None, 1: None, 2: None},
)

LIST = CommandDoc(
    path=("connectors", "list"),
    summary="list installed connectors with their category, operations and scopes",
    description=(
        "List every installed connector: its category, each operation it implements and the scope that "
        "operation needs. A tenant grants an integration every read scope ('read-only') or, in addition, "
        "the write scopes it names ('scoped-write'); this list says which write scopes exist to name.\n\n"
        "A connector that is installed but cannot be loaded is reported on stderr and makes the command "
        "fail, after the others have been listed."
    ),
    examples=(
        ("nexora-connect connectors list", "a table: connector, category, operation, scope"),
        (
            "nexora-connect connectors list --json | jq '.connectors[].name'",
            "the names of the installed connectors",
        ),
    ),
    exit_codes={0: None, 1: "a connector is installed but cannot be loaded", 2: None},
)


def register(commands: Any) -> None:
    group = add_command(commands, GROUP)
    sub = group.add_subparsers(dest="connectors_command", metavar="COMMAND", required=True)
    listing = add_command(sub, LIST, run)
    listing.add_argument("--json", action="store_true", help="print one JSON document instead of a table")


def run(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)
    registry = default_registry()
    infos: list[ConnectorInfo] = []
    broken: list[str] = []
    for name in registry.names():
        try:
            infos.append(registry.describe(name))
        except NexoraError as exc:
            # One broken plugin must not hide the others; it is reported and fails the command.
            broken.append(str(exc))
    if output.json_mode:
        output.json({"connectors": [_document(info) for info in infos]})
    elif not infos:
        output.line("no connectors are installed")
    else:
        rows: list[list[Cell]] = []
        for info in infos:
            for index, (operation, scope) in enumerate(sorted(info.operations.items())):
                first = index == 0
                style = "yellow" if scope.endswith(":write") else ""
                rows.append(
                    [
                        (info.name, "bold") if first else "",
                        info.category if first else "",
                        operation,
                        (scope, style),
                    ]
                )
        output.table(["CONNECTOR", "CATEGORY", "OPERATION", "SCOPE"], rows)
    for problem in broken:
        print_error(problem)
    return EXIT_FAILURE if broken else EXIT_OK


def _document(info: ConnectorInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "display_name": info.display_name,
        "category": info.category,
        "operations": [
            {"name": operation, "scope": scope, "access": scope.rpartition(":")[2]}
            for operation, scope in sorted(info.operations.items())
        ],
        "source": info.source,
    }
