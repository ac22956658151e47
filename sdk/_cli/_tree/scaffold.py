"""``nexora-connect new-connector``: its help and options; the command is :mod:`sdk._cli._scaffold`."""

from __future__ import annotations

from typing import Any

from sdk._cli._base import CommandDoc, add_command, lazy

__all__ = ["CATEGORIES", "register"]

CATEGORIES = ("crm", "ticketing", "billing")
"""The values of ``sdk.authoring.Category``, in order: written out because importing it would load
pydantic for every ``--help`` (tests/cli/test_lazy_imports.py checks that the two agree)."""


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
    parser = add_command(commands, NEW_CONNECTOR, lazy("sdk._cli._scaffold"))
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
    parser.add_argument(
        "--spec",
        metavar="PATH",
        help="the vendor's OpenAPI document: also generate a contract test checking requests against it",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
