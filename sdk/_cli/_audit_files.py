"""Reading the audit trail's files for ``audit tail``: where they are, their last lines, new lines.

The daily JSON Lines files the audit sink writes (``<prefix>-YYYY-MM-DD.jsonl``
under each region's location, see :mod:`sdk._audit`) are read without opening
a sink, which would create directories and delete expired files: reading the
trail must change nothing. Files are read backwards from their end, so the
last records of a large day cost a few blocks, not the whole file. Only the
record fields this SDK defines are kept, so a tampered line cannot smuggle
anything else onto the screen.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sdk._audit import AuditRecord, _Location
from sdk._cli._base import EXIT_CONFIG, CliError
from sdk._config import load_config

__all__ = [
    "Counts",
    "Follower",
    "RecordFilter",
    "last_records",
    "find_locations",
    "location_files",
    "sort_key",
]

_FIELDS = tuple(AuditRecord.model_fields)
_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RecordFilter:
    tenant: str | None
    region: str | None
    default_region: str

    def wants(self, record: dict[str, Any]) -> bool:
        if self.tenant is not None and record.get("tenant") != self.tenant:
            return False
        return self.region is None or (record.get("region") or self.default_region) == self.region


def find_locations(args: argparse.Namespace) -> tuple[list[_Location], RecordFilter]:
    if args.dir is not None:
        return [parse_location(Path(args.dir))], RecordFilter(args.tenant, args.region, "nz")
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
    unique = list(dict.fromkeys(parse_location(Path(place)) for place in chosen))
    return unique, RecordFilter(args.tenant, args.region, audit.default_region)


def parse_location(path: Path) -> _Location:
    location = _Location.parse(path.expanduser())
    if not location.directory.is_dir():
        raise CliError(f"audit location {location.directory} does not exist or is not a directory")
    return location


def location_files(location: _Location) -> list[Path]:
    try:
        return [file for _, file in sorted(location.files())]
    except OSError as exc:
        raise CliError(f"cannot read audit location {location.directory}: {exc.strerror}") from None


# --- reading -------------------------------------------------------------------------------------


def parse_record(line: bytes) -> dict[str, Any] | None:
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


def reverse_lines(path: Path, end: int) -> Iterator[bytes]:
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
class Counts:
    malformed: int = 0


@dataclass(slots=True)
class Follower:
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

    def read_new(self, files: Sequence[Path], counts: Counts) -> list[dict[str, Any]]:
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
                    record = parse_record(line)
                    if record is None:
                        counts.malformed += 1
                    else:
                        records.append(record)
            self.offsets[file] = (stat.st_ino, offset + complete)
        for gone in set(self.offsets) - set(files):
            del self.offsets[gone]
        return records


def last_records(
    files: Sequence[Path], sizes: dict[Path, int], wanted: int, keep: RecordFilter, counts: Counts
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if wanted == 0:
        return found
    for file in reversed(files):
        if file not in sizes:
            continue
        for line in reverse_lines(file, sizes[file]):
            record = parse_record(line)
            if record is None:
                counts.malformed += 1
            elif keep.wants(record):
                found.append(record)
                if len(found) == wanted:
                    return found[::-1]
    return found[::-1]


def sort_key(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["at"])
