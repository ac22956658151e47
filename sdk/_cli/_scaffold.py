"""``nexora-connect new-connector``: render a connector package from the template."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from sdk._cli._base import EXIT_USAGE, CliError, CommandDoc, add_command
from sdk._cli._output import Output
from sdk._connector import Category
from sdk._errors import ConfigurationError, UsageError

__all__ = ["register"]

CATEGORIES = tuple(category.value for category in Category)

NEW_CONNECTOR = CommandDoc(
    path=("new-connector",),
    summary="scaffold a new connector package from the template",
    description=(
        "Render an installable connector package for a vendor: the connector module with every "
        "standard operation of its category to fill in, the entry-point registration, fixtures, and "
        "tests that run the connector test kit. Rendered as-is, its tests pass. Every 'TODO(author)' in "
        "it marks vendor-specific work.\n\n"
        "NAME becomes the Python package suffix and the name tenants put in their configuration: "
        "lower-case letters, digits and single underscores, starting with a letter. The destination "
        "must be missing or empty; nothing is ever overwritten.\n\n"
        "Needs copier: pip install 'nexora-connect[scaffold]'."
    ),
    examples=(
        ("nexora-connect new-connector acme_crm --category crm", "render into ./acme_crm"),
        (
            "nexora-connect new-connector acme_desk --category ticketing --dest ~/src/acme-desk "
            "--display-name 'Acme Desk'",
            "choose the folder and the name operators see",
        ),
    ),
    exit_codes={
        0: None,
        1: "the destination is not empty, copier is missing, or writing failed",
        2: "usage error, or a NAME or display name that cannot be used",
        130: None,
    },
)


def register(commands: Any) -> None:
    parser = add_command(commands, NEW_CONNECTOR, run)
    parser.add_argument("name", metavar="NAME", help="the connector's registry name, e.g. acme_crm")
    parser.add_argument(
        "--category", required=True, choices=CATEGORIES, help="which standard operations it implements"
    )
    parser.add_argument("--dest", metavar="DIR", help="where to render it (default: ./NAME)")
    parser.add_argument(
        "--display-name",
        metavar="TEXT",
        help="the vendor's product name as operators see it (default: from NAME)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    # Imported here: it looks for the template and copier, which no other command needs.
    from sdk._scaffold import render_connector

    output = Output(json_mode=args.json)
    destination = Path(args.dest) if args.dest else Path.cwd() / args.name
    try:
        with output.progress(f"rendering connector {args.name} ({args.category})"):
            path = render_connector(
                args.name, args.category, destination, vendor_display_name=args.display_name
            )
    except ConfigurationError as exc:
        # A bad name or display name is a bad argument to this command, not a broken configuration.
        raise CliError(str(exc), EXIT_USAGE) from None
    except UsageError as exc:
        raise CliError(str(exc)) from None
    steps = [f"cd {shlex.quote(str(path))}", "python -m pip install -e '.[test]'", "python -m pytest"]
    if output.json_mode:
        output.json({"name": args.name, "category": args.category, "path": str(path), "next_steps": steps})
        return 0
    output.line(f"Rendered connector {args.name!r} ({args.category}) into {path}")
    output.line("")
    output.line("Next steps:")
    for step in steps:
        output.line(f"  {step}")
    output.line("")
    output.line("Then fill in every TODO(author), and see docs/writing-a-connector.md.")
    return 0
