"""``nexora-connect connectors list``: what is installed, and what each connector may be granted.

Its help and options are declared in :mod:`sdk._cli._tree.connectors`; this
module, which loads the connector registry, is imported only when it runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from sdk._cli._base import EXIT_FAILURE, EXIT_OK, print_error
from sdk._cli._output import Cell, Output
from sdk._errors import NexoraError
from sdk._registry import ConnectorInfo, default_registry

__all__ = ["run"]


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
