"""``nexora-connect audit tail``: the last audit records, and new ones as they are written.

Reads the daily JSON Lines files the audit sink writes (``<prefix>-YYYY-MM-DD.jsonl``
under each region's location, see :mod:`sdk._audit`) without opening a sink:
a sink would create directories and delete expired files, and reading the
trail must change nothing. Files are read backwards from their end, so the
last records of a large day cost a few blocks, not the whole file.

Records hold no customer data and no secret by construction (S7); only the
record fields this SDK defines are shown, so a line that was tampered with
cannot smuggle anything else onto the screen.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sdk._audit import AuditRecord, _Location
from sdk._cli._base import (
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CliError,
    CommandDoc,
    add_command,
    clean,
    non_negative_int,
    positive_float,
    print_note,
)
from sdk._cli._output import Cell, Output, cell_text
from sdk._config import load_config
from vault._settings import REGIONS

__all__ = ["register"]

_FIELDS = tuple(AuditRecord.model_fields)
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
_BLOCK = 64 * 1024

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
    tail = add_command(sub, TAIL, run)
    where = tail.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--config", metavar="FILE", help="find the files where this configuration's [audit] puts them"
    )
    where.add_argument("--dir", metavar="PATH", help="read one location: a directory, or a '*.jsonl' path")
    tail.add_argument(
        "--region",
        choices=sorted(REGIONS),
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


# --- where the files are -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Filter:
    tenant: str | None
    region: str | None
    default_region: str

    def wants(self, record: dict[str, Any]) -> bool:
        if self.tenant is not None and record.get("tenant") != self.tenant:
            return False
        return self.region is None or (record.get("region") or self.default_region) == self.region


def _locations(args: argparse.Namespace) -> tuple[list[_Location], _Filter]:
    if args.dir is not None:
        return [_parse_location(Path(args.dir))], _Filter(args.tenant, args.region, "nz")
    config = load_config(args.config)
    audit = config.audit
    if audit.sink != "jsonl":
        raise CliError(
            f"{args.config} keeps no audit trail on disk (audit.sink = {audit.sink!r}); "
            "set audit.sink = 'jsonl' with audit.path or audit.locations",
            EXIT_CONFIG,
        )
    places: dict[str, str] = {str(r): p for r, p in audit.locations.items()} or {
        audit.default_region: str(audit.path)
    }
    chosen = list(places.values())
    if args.region is not None:
        # A region without a location of its own has its (cross-region) records in the default one.
        chosen = [places.get(args.region, places[audit.default_region])]
    unique = list(dict.fromkeys(_parse_location(Path(place)) for place in chosen))
    return unique, _Filter(args.tenant, args.region, audit.default_region)


def _parse_location(path: Path) -> _Location:
    location = _Location.parse(path.expanduser())
    if not location.directory.is_dir():
        raise CliError(f"audit location {location.directory} does not exist or is not a directory")
    return location


def _files(location: _Location) -> list[Path]:
    try:
        return [file for _, file in sorted(location.files())]
    except OSError as exc:
        raise CliError(f"cannot read audit location {location.directory}: {exc.strerror}") from None


# --- reading -------------------------------------------------------------------------------------


def _parse(line: bytes) -> dict[str, Any] | None:
    """The record on ``line`` with only the fields this SDK writes, or None if it is not one."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("at", "tenant", "operation")
    ):
        return None
    try:
        datetime.fromisoformat(data["at"])
    except ValueError:
        return None
    return {name: data[name] for name in _FIELDS if name in data}


def _reverse_lines(path: Path, end: int) -> Iterator[bytes]:
    """The complete lines of ``path`` before byte ``end``, last first."""
    with path.open("rb") as handle:
        position = end
        rest = b""
        while position > 0:
            size = min(_BLOCK, position)
            position -= size
            handle.seek(position)
            chunk = handle.read(size) + rest
            lines = chunk.split(b"\n")
            rest = lines.pop(0)
            for line in reversed(lines):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest


@dataclass(slots=True)
class _Counts:
    malformed: int = 0


@dataclass(slots=True)
class _Follower:
    """Where each file was read up to; only complete lines are consumed."""

    offsets: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """path -> (inode, offset)."""

    def snapshot(self, files: Sequence[Path]) -> dict[Path, int]:
        sizes: dict[Path, int] = {}
        for file in files:
            try:
                stat = file.stat()
            except FileNotFoundError:
                continue
            sizes[file] = stat.st_size
            self.offsets[file] = (stat.st_ino, stat.st_size)
        return sizes

    def read_new(self, files: Sequence[Path], counts: _Counts) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for file in files:
            try:
                with file.open("rb") as handle:
                    stat = os.fstat(handle.fileno())
                    inode, offset = self.offsets.get(file, (stat.st_ino, 0))
                    if inode != stat.st_ino or stat.st_size < offset:
                        offset = 0  # replaced or truncated: read it from the start
                    handle.seek(offset)
                    data = handle.read(max(0, stat.st_size - offset))
            except FileNotFoundError:  # deleted by retention meanwhile
                self.offsets.pop(file, None)
                continue
            complete = data.rfind(b"\n") + 1  # a line still being written waits for the next poll
            for line in data[:complete].split(b"\n"):
                if line.strip():
                    record = _parse(line)
                    if record is None:
                        counts.malformed += 1
                    else:
                        records.append(record)
            self.offsets[file] = (stat.st_ino, offset + complete)
        for gone in set(self.offsets) - set(files):
            del self.offsets[gone]
        return records


def _last(
    files: Sequence[Path], sizes: dict[Path, int], wanted: int, keep: _Filter, counts: _Counts
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if wanted == 0:
        return found
    for file in reversed(files):
        if file not in sizes:
            continue
        for line in _reverse_lines(file, sizes[file]):
            record = _parse(line)
            if record is None:
                counts.malformed += 1
            elif keep.wants(record):
                found.append(record)
                if len(found) == wanted:
                    return found[::-1]
    return found[::-1]


def _sort_key(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["at"])


# --- printing ------------------------------------------------------------------------------------


def _row(record: dict[str, Any]) -> list[Cell]:
    at = _sort_key(record)
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
                row[0] = _sort_key(record).strftime("%m-%d %H:%M:%S")
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
    locations, keep = _locations(args)
    counts = _Counts()
    follower = _Follower()
    records: list[dict[str, Any]] = []
    for location in locations:
        files = _files(location)
        sizes = follower.snapshot(files)
        records += _last(files, sizes, args.lines, keep, counts)
    records.sort(key=_sort_key)
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
                    fresh += [r for r in follower.read_new(_files(location), counts) if keep.wants(r)]
                if fresh:
                    fresh.sort(key=_sort_key)
                    _print(output, fresh, header=False, follow=True)
    except KeyboardInterrupt:
        _report_malformed(counts)
        return EXIT_INTERRUPTED


def _report_malformed(counts: _Counts) -> None:
    if counts.malformed:
        # The lines themselves are not shown: they are not records this SDK wrote.
        print_note(f"skipped {counts.malformed} line(s) that are not audit records")


_sleep = time.sleep
"""How --follow waits between polls (tests replace it to drive the loop)."""
