"""``nexora-connect audit tail``: its help and options; the command is :mod:`sdk._cli._audit_tail`."""

from __future__ import annotations

from typing import Any

from sdk._cli._base import CommandDoc, add_command, lazy, non_negative_int, positive_float

__all__ = ["REGIONS", "register"]

REGIONS = ("au", "eu", "nz", "uk", "us")
"""vault's ``REGIONS``, sorted: written out because importing vault would load its client and
pydantic for every ``--help`` (tests/cli/test_lazy_imports.py checks that the two agree)."""

AUDIT = CommandDoc(
    path=("audit",),
    summary="read the audit trail",
    description="Read the audit trail the JSON Lines audit sink writes (audit.sink = 'jsonl').",
    exit_codes={0: None, 1: None, 2: None, 4: None},
)

TAIL = CommandDoc(
    path=("audit", "tail"),
    summary="print the last audit records; --follow for new ones as they are written",
    description=(
        "Print the last N audit records, oldest first: time, tenant, integration, operation, scope, "
        "decision (allowed or denied), outcome (ok, cached, or the error class), HTTP status, latency, "
        "the Vault version of the credential used, the conversation and the region. Records hold no "
        "customer data and no secret.\n\n"
        "With --config, the files are found where the configuration's [audit] section puts them (every "
        "region's location, or only --region's). With --dir, they are read from one location: a "
        "directory of audit-YYYY-MM-DD.jsonl files, or a '*.jsonl' path whose name gives the prefix, "
        "as in the configuration. Reading changes nothing: no directory is created, no file deleted.\n\n"
        "--follow keeps printing records as they are written, across the change of day, until Ctrl-C "
        "or SIGTERM."
    ),
    examples=(
        ("nexora-connect audit tail --config nexora.toml", "the last 20 records of every region"),
        (
            "nexora-connect audit tail --config nexora.toml --region au -n 100 --tenant acme",
            "the last 100 records of tenant acme in the au location",
        ),
        (
            "nexora-connect audit tail --dir /var/log/nexora --follow --json "
            "| jq 'select(.decision == \"denied\")'",
            "watch denials as they happen",
        ),
    ),
    exit_codes={
        0: None,
        1: "an audit location cannot be read",
        2: None,
        4: "the configuration is invalid or has no file-based audit trail",
        130: "--follow stopped by Ctrl-C or SIGTERM (its normal end)",
    },
)


def register(commands: Any) -> None:
    group = add_command(commands, AUDIT)
    sub = group.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    tail = add_command(sub, TAIL, lazy("sdk._cli._audit_tail"))
    where = tail.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--config", metavar="FILE", help="find the files where this configuration's [audit] puts them"
    )
    where.add_argument("--dir", metavar="PATH", help="read one location: a directory, or a '*.jsonl' path")
    tail.add_argument(
        "--region",
        choices=REGIONS,
        metavar="REGION",
        help="only records of this region (nz, au, us, uk, eu)",
    )
    tail.add_argument("--tenant", metavar="TENANT", help="only records of this tenant")
    tail.add_argument(
        "-n",
        "--lines",
        type=non_negative_int,
        default=20,
        metavar="N",
        help="how many records to print (default: 20; 0 with --follow: only new ones)",
    )
    tail.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new records until interrupted"
    )
    tail.add_argument(
        "--interval",
        type=positive_float,
        default=1.0,
        metavar="SECONDS",
        help="with --follow, how often to look for new records (default: 1)",
    )
    tail.add_argument("--json", action="store_true", help="print JSON Lines (one record per line) instead")
