"""``nexora-connect connectors``: its help and options; the command is :mod:`sdk._cli._connectors`."""

from __future__ import annotations

from typing import Any

from sdk._cli._base import CommandDoc, add_command, lazy

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
    listing = add_command(sub, LIST, lazy("sdk._cli._connectors"))
    listing.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
