"""``nexora-connect audit tail``: the last audit records, and new ones as they are written.

The command and how records are printed (a table, or a stream of fixed-width
lines when following); its help and options are declared in
:mod:`sdk._cli._tree.audit`; finding and reading the daily files, without
opening a sink, is :mod:`sdk._cli._audit_files`.

Records hold no customer data and no secret by construction (S7); only the
record fields this SDK defines are shown, so a line that was tampered with
cannot smuggle anything else onto the screen.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from sdk._cli._audit_files import Counts, Follower, find_locations, last_records, location_files, sort_key
from sdk._cli._base import EXIT_INTERRUPTED, EXIT_OK, clean, print_note
from sdk._cli._output import Cell, Output, cell_text

__all__ = ["run"]

_COLUMNS = (
    "TIME",
    "TENANT",
    "INTEGRATION",
    "OPERATION",
    "SCOPE",
    "DECISION",
    "OUTCOME",
    "HTTP",
    "MS",
    "VER",
    "CONVERSATION",
    "REGION",
)
_NARROW = ("TIME", "TENANT", "INTEGRATION", "OPERATION", "DECISION", "OUTCOME", "MS")
"""The columns a Rich table keeps on a terminal narrower than :data:`_WIDE_TERMINAL`."""
_WIDE_TERMINAL = 150


def _row(record: dict[str, Any]) -> list[Cell]:
    at = sort_key(record)
    latency = record.get("latency_ms")
    version = record.get("credential_version")
    status = record.get("http_status")
    decision = str(record.get("decision", ""))
    outcome = str(record.get("outcome", ""))
    return [
        at.isoformat(timespec="milliseconds"),
        str(record.get("tenant", "")),
        str(record.get("integration", "")),
        str(record.get("operation", "")),
        str(record.get("scope", "")),
        (decision, "red" if decision == "denied" else "green"),
        (outcome, "" if outcome in ("ok", "cached") else "red"),
        "" if status is None else str(status),
        "" if not isinstance(latency, int | float) else f"{latency:.1f}",
        "" if version is None else f"v{version}",
        str(record.get("conversation_id") or ""),
        str(record.get("region") or ""),
    ]


_STREAM_WIDTHS = (23, 10, 11, 16, 16, 8, 10, 4, 7, 4, 14)
"""Column widths of --follow output, fixed so that lines printed minutes apart still line up."""


def _stream_line(cells: Sequence[str]) -> str:
    padded = [clean(c, newlines=False).ljust(w) for c, w in zip(cells[:-1], _STREAM_WIDTHS, strict=True)]
    return "  ".join([*padded, clean(cells[-1], newlines=False)]).rstrip()


def _print(output: Output, records: Sequence[dict[str, Any]], *, header: bool, follow: bool) -> None:
    if output.json_mode:
        for record in records:
            output.json(record, lines=True)
    elif not follow:
        if records and output.rich:
            # A person reads this: times without the date noise, and only what fits the terminal.
            keep = _COLUMNS if output.console().width >= _WIDE_TERMINAL else _NARROW
            index = [_COLUMNS.index(name) for name in keep]
            rows = []
            for record in records:
                row = _row(record)
                row[0] = sort_key(record).strftime("%m-%d %H:%M:%S")
                rows.append([row[i] for i in index])
            output.table(list(keep), rows, no_wrap=True)
        elif records:
            output.table(_COLUMNS, [_row(record) for record in records])
    else:
        # Streaming: one line per record as it arrives, under a header printed once.
        if header:
            output.out.write(_stream_line(_COLUMNS) + "\n")
        for record in records:
            output.out.write(_stream_line([cell_text(cell) for cell in _row(record)]) + "\n")
    output.flush()


def run(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)
    locations, keep = find_locations(args)
    counts = Counts()
    follower = Follower()
    records: list[dict[str, Any]] = []
    for location in locations:
        files = location_files(location)
        sizes = follower.snapshot(files)
        records += last_records(files, sizes, args.lines, keep, counts)
    records.sort(key=sort_key)
    records = records[-args.lines :] if args.lines else []
    if not records and not args.follow and not output.json_mode:
        where = ", ".join(str(location.directory) for location in locations)
        print_note(f"no audit records{' match' if keep.tenant or keep.region else ''} in {where}")
    _print(output, records, header=True, follow=args.follow)
    if not args.follow:
        _report_malformed(counts)
        return EXIT_OK
    from sdk._cli._run import sigterm_interrupts

    try:
        with sigterm_interrupts():
            while True:
                _sleep(args.interval)
                fresh: list[dict[str, Any]] = []
                for location in locations:
                    fresh += [r for r in follower.read_new(location_files(location), counts) if keep.wants(r)]
                if fresh:
                    fresh.sort(key=sort_key)
                    _print(output, fresh, header=False, follow=True)
    except KeyboardInterrupt:
        _report_malformed(counts)
        return EXIT_INTERRUPTED


def _report_malformed(counts: Counts) -> None:
    if counts.malformed:
        # The lines themselves are not shown: they are not records this SDK wrote.
        print_note(f"skipped {counts.malformed} line(s) that are not audit records")


_sleep = time.sleep
"""How --follow waits between polls (tests replace it to drive the loop)."""
