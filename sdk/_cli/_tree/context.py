"""``nexora-connect context``: its help and options; the command is :mod:`sdk._cli._context`."""

from __future__ import annotations

from typing import Any

from sdk._cli._base import CommandDoc, add_command, lazy, positive_float

__all__ = ["register"]

CONTEXT = CommandDoc(
    path=("context",),
    summary="fetch a caller's context and print it redacted, as a language model would see it",
    description=(
        "Open a conversation for TENANT, fetch the caller's context from all of the tenant's "
        "integrations at once within --budget seconds, print the redacted rendering a language model "
        "would be handed, and each source's status (ok, not_found, ambiguous, timed_out, denied, "
        "failed, unsupported) with its latency. Then hang up: everything fetched is wiped.\n\n"
        "Raw records are never printed, only the tenant's redacted view. The lookup is a real one: "
        "it reads the tenant's keys from Vault, calls the vendors, and leaves audit records.\n\n"
        "Note that command-line arguments are visible to other users of this machine (ps); the caller's "
        "phone number or email is customer data, so run this where that is acceptable."
    ),
    examples=(
        (
            "nexora-connect context --config nexora.toml --tenant acme --phone '+64 21 555 0100'",
            "the redacted context and a table of sources",
        ),
        (
            "nexora-connect context --config nexora.toml --tenant acme --email a@example.com --json",
            "the same as JSON: {complete, sources, context}",
        ),
    ),
    exit_codes={
        0: "every source answered (found the caller, found nothing, or found several candidates)",
        1: "a source timed out, was denied or failed (the partial context is still printed), or Vault failed",
        2: "usage error, or a phone number or email that is not one",
        4: None,
        130: "interrupted by Ctrl-C or SIGTERM; the conversation was wiped first",
    },
)


def register(commands: Any) -> None:
    parser = add_command(commands, CONTEXT, lazy("sdk._cli._context"))
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="the Nexora Connect configuration (TOML)"
    )
    parser.add_argument("--tenant", required=True, metavar="TENANT", help="the tenant whose systems to ask")
    parser.add_argument(
        "--phone", metavar="NUMBER", help="the caller's phone number (national or international form)"
    )
    parser.add_argument("--email", metavar="ADDRESS", help="the caller's email address")
    parser.add_argument(
        "--budget",
        type=positive_float,
        default=0.4,
        metavar="SECONDS",
        help="the latency budget for the whole fetch (default: 0.4, what a caller tolerates)",
    )
    parser.add_argument(
        "--conversation-id",
        metavar="ID",
        help="the conversation id to use in audit records (default: cli-<random>)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
