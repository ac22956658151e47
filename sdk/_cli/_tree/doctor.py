"""``nexora-connect doctor``: its help and options; the command is :mod:`sdk._cli._doctor`."""

from __future__ import annotations

from typing import Any

from sdk._cli._base import CommandDoc, add_command, lazy, positive_float

__all__ = ["register"]

DOCTOR = CommandDoc(
    path=("doctor",),
    summary="check a tenant's setup end to end: Vault, audit, connectors, keys, grants",
    description=(
        "Check that TENANT's calls can work, one line per check, and say how to fix each failure:\n\n"
        "  config      the configuration file parses and validates\n"
        "  tenant      the tenant is configured, with its region and integrations\n"
        "  residency   the tenant's Vault is in the tenant's region (or cross_region is set)\n"
        "  vault       Vault is reachable at its address, initialised and unsealed\n"
        "  audit       audit records of the tenant's region have a writable location\n"
        "  auth        logging in to Vault works (token or AppRole, as configured)\n"
        "  and for each integration:\n"
        "  connector   its connector is installed and its settings are valid\n"
        "  grant       its write scopes are ones the connector declares\n"
        "  secret      its credential is in Vault and well-formed (type and field names only)\n"
        "  verify      the vendor is reachable and accepts the key (one read-only, audited request)\n\n"
        "A check that cannot run because an earlier one failed is shown as skipped. Nothing is "
        "written to Vault; secrets are read to be checked and never printed."
    ),
    examples=(
        ("nexora-connect doctor --config nexora.toml --tenant acme", "one line per check"),
        (
            "nexora-connect doctor --config nexora.toml --tenant acme --json | jq '.checks[] | "
            'select(.status == "fail")\'',
            "only the failures, as JSON",
        ),
        ("nexora-connect doctor --config nexora.toml --tenant acme --strict", "warnings fail too (for CI)"),
    ),
    exit_codes={
        0: "every check passed (warnings allowed unless --strict)",
        2: None,
        3: "at least one check failed (or warned, with --strict); the configuration being invalid or "
        "naming no such tenant is such a check",
        130: None,
    },
)


def register(commands: Any) -> None:
    parser = add_command(commands, DOCTOR, lazy("sdk._cli._doctor"))
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="the Nexora Connect configuration (TOML)"
    )
    parser.add_argument("--tenant", required=True, metavar="TENANT", help="the tenant to check")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="how long each vendor's verification may take (default: 10)",
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as failures (exit 3)")
    parser.add_argument("--json", action="store_true", help="print the checks as one JSON document")
