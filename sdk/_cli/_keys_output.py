"""Printing what ``nexora-connect keys`` did: the report of a write or check, or the versions table.

The exit code follows the report's outcome, and a failed outcome ends with a
one-line error naming the error class that decided it.
"""

from __future__ import annotations

from sdk._cli._base import EXIT_CHECK_FAILED, EXIT_FAILURE, EXIT_OK, error_name, print_error
from sdk._cli._output import Cell, Output
from sdk._keys import KeyOutcome, KeyReport, KeyVersions

__all__ = ["print_report", "print_versions"]

_OUTCOME_CODES = {
    KeyOutcome.OK: EXIT_OK,
    KeyOutcome.ROLLED_BACK: EXIT_CHECK_FAILED,
    KeyOutcome.VERIFY_FAILED: EXIT_CHECK_FAILED,
    KeyOutcome.CONFLICT: EXIT_FAILURE,
    KeyOutcome.ROLLBACK_FAILED: EXIT_FAILURE,
}


def print_report(output: Output, report: KeyReport) -> int:
    code = _OUTCOME_CODES.get(report.outcome, EXIT_FAILURE)
    if output.json_mode:
        output.json(report.to_dict())
    elif output.rich:
        output.line(f"{report.operation} {report.tenant}/{report.integration}", style="bold")
        for step in report.steps:
            mark, style = ("✓", "green") if step.ok else ("✗", "red")
            output.line(f"  {mark} {step.describe()}", style=style)
        output.line(f"result: {report.summary}", style="bold green" if report.ok else "bold red")
    else:
        for line in report.lines():
            output.line(line)
    if not report.ok:
        failure = report.failure
        print_error(f"{error_name(failure)}: {failure}" if failure is not None else report.summary)
    return code


def print_versions(output: Output, found: KeyVersions) -> None:
    if output.json_mode:
        output.json(found.to_dict())
        return
    rows: list[list[Cell]] = []
    for version in found.versions:
        state = version.state
        if version.deletion_time is not None and not version.destroyed:
            state = f"deleted {version.deletion_time.isoformat(timespec='seconds')}"
        rows.append(
            [
                f"v{version.version}",
                version.created_time.isoformat(timespec="seconds"),
                (state, "green" if version.state == "readable" else "yellow"),
                ("current", "bold") if version.current else "",
            ]
        )
    output.table(
        ["VERSION", "CREATED", "STATE", "CURRENT"], rows, title=f"{found.tenant}/{found.integration}"
    )
