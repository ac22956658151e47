"""``nexora-connect doctor``: check one tenant's setup end to end, one line per check, each with a fix.

The checks themselves are in :mod:`sdk._cli._checks`; this module is the
command around them and the report for people or for scripts. Its help and
options are declared in :mod:`sdk._cli._tree.doctor`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence

from sdk._cli._base import EXIT_CHECK_FAILED, EXIT_OK, one_line
from sdk._cli._checks import Check, Status, diagnose
from sdk._cli._output import Output
from sdk._cli._run import Interrupts, run_async

__all__ = ["run"]


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
