"""``nexora-connect doctor``: check one tenant's setup end to end, one line per check, each with a fix.

The checks themselves are in :mod:`sdk._cli._checks`; this module is the
command around them: its options, and the report for people or for scripts.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sdk._cli._base import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    CommandDoc,
    add_command,
    one_line,
    positive_float,
)
from sdk._cli._checks import Check, Status, diagnose
from sdk._cli._output import Output
from sdk._cli._run import Interrupts, run_async

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
    parser = add_command(commands, DOCTOR, run)
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


def run(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)

    async def body(interrupts: Interrupts) -> int:
        with output.progress(f"checking tenant {args.tenant}"):
            checks = await diagnose(args.config, args.tenant, budget=args.timeout, interrupts=interrupts)
        return _report(output, args, checks)

    return run_async(body)


# --- the report ----------------------------------------------------------------------------------

_MARKS = {
    Status.OK: ("ok", "✓", "green"),
    Status.WARN: ("WARN", "!", "yellow"),
    Status.FAIL: ("FAIL", "✗", "red"),
    Status.SKIP: ("skip", "-", "dim"),
}


def _report(output: Output, args: argparse.Namespace, checks: Sequence[Check]) -> int:
    counts = Counter(check.status for check in checks)
    failed = counts[Status.FAIL] + (counts[Status.WARN] if args.strict else 0)
    if output.json_mode:
        output.json(
            {
                "ok": not failed,
                "tenant": args.tenant,
                "config": args.config,
                "counts": {str(status): counts[status] for status in Status},
                "checks": [check.to_dict() for check in checks],
            }
        )
        return EXIT_CHECK_FAILED if failed else EXIT_OK
    for check in checks:
        word, mark, style = _MARKS[check.status]
        fix = f" -- fix: {check.fix}" if check.fix and check.status in (Status.FAIL, Status.WARN) else ""
        if output.rich:
            from rich.text import Text

            line = Text.assemble(
                (f"{mark} ", style),
                (check.label, "bold"),
                "  ",
                one_line(check.detail),
                (fix.replace(" -- ", "\n    "), "yellow"),
            )
            output.console().print(line)
        else:
            output.line(one_line(f"{word:<4}  {check.label}: {check.detail}{fix}"))
    summary = (
        f"{counts[Status.OK]} ok, {counts[Status.WARN]} warning(s), {counts[Status.FAIL]} failed, "
        f"{counts[Status.SKIP]} skipped"
    )
    output.line(f"doctor: tenant {args.tenant}: {summary}", style="bold red" if failed else "bold green")
    return EXIT_CHECK_FAILED if failed else EXIT_OK
