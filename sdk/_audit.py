"""Audit records: one per operation, allowed or denied, with no data in them (S7).

A record has only closed-vocabulary fields: ids that the configuration
defines, the operation and scope names, the decision, the outcome (an error
class name, never its message), the HTTP status, the latency, the Vault
version of the credential used, and what a tolerant read left out (a count,
field paths written in the connector's code, a truncation flag). There is no free-text field, so there is no
place for customer data or a secret to land.

The file sink keeps each record in its tenant's region (S8), one file per UTC
day, for a bounded retention (90 days by default, as the product promises).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from sdk._errors import ConfigurationError, ResidencyError, UsageError

__all__ = [
    "AuditDecision",
    "AuditRecord",
    "AuditSink",
    "JsonLinesAuditSink",
    "MemoryAuditSink",
    "NullAuditSink",
]


class AuditDecision(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class AuditRecord(BaseModel):
    """Who did what, under which scope, with what result; nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant: str
    integration: str
    connector: str
    operation: str
    scope: str
    decision: AuditDecision
    outcome: str = Field(
        description=(
            "'ok', 'cached', 'shared' (the result of an identical read in flight in the same "
            "conversation), 'cancelled', or the name of the error's nearest public class "
            "(an SDK error, or a connector bug's exception class); never a message."
        )
    )
    http_status: int | None = None
    latency_ms: float
    records_skipped: int = 0  # records a list or search left out as unreadable (the rest were returned)
    skipped_fields: tuple[str, ...] = ()  # field paths not read (customer.currency), never values
    truncated: bool = False  # fewer records than the vendor holds: a page walk stopped at a loop
    credential_version: int | None = None
    conversation_id: str | None = None
    region: str | None = None


class AuditSink(Protocol):
    """Where audit records go. ``emit`` must not block for long: it runs on the call path."""

    def emit(self, record: AuditRecord) -> None: ...


class NullAuditSink:
    """Discards records (for benchmarks of the SDK without audit I/O)."""

    def emit(self, record: AuditRecord) -> None:
        return None


class MemoryAuditSink:
    """Keeps the newest ``max_records`` records in memory; for tests, the demo and a first look.

    Bounded so that a long-running agent left on the default configuration does
    not grow without limit; configure ``audit.sink = "jsonl"`` in production.
    """

    def __init__(self, max_records: int = 10_000) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.max_records = max_records
        self.records: list[AuditRecord] = []

    def emit(self, record: AuditRecord) -> None:
        self.records.append(record)
        if len(self.records) > self.max_records:
            del self.records[: len(self.records) - self.max_records]

    def __iter__(self) -> Iterator[AuditRecord]:
        return iter(self.records)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class JsonLinesAuditSink:
    """Writes one JSON object per line, one file per UTC day, under the location of the record's region.

    **Placement (S8).** ``locations`` maps a region (``"nz"``, ``"au"``, ...) to
    a directory; a record goes under the location of its ``region`` (a record
    without one belongs to ``default_region``). A tenant named in
    ``cross_region`` (a set of tenant ids, or a predicate on the tenant id)
    whose region has no location has its records written under the default
    region's location instead. ``JsonLinesAuditSink(path)`` is the one-location
    form: ``path`` is the default region's location.

    A location is a directory, where files are named ``audit-YYYY-MM-DD.jsonl``;
    or a ``*.jsonl`` file path, whose name gives the prefix:
    ``/var/log/nexora/trail.jsonl`` writes ``/var/log/nexora/trail-YYYY-MM-DD.jsonl``.
    A file holds the records emitted during that UTC day.

    **Retention.** At construction and at each change of day, this sink's
    files older than ``retention_days`` are deleted: a file whose whole day
    ended at least ``retention_days`` days ago. Only names of this sink's own
    pattern are considered; anything else in the directory is left alone. The
    deletion at a change of day runs on a background thread, so the emit that
    crosses midnight does not wait for a directory scan.

    **When a record cannot be written, the call goes on.** The record is
    emitted after the operation has run, so raising would turn a completed
    operation into a failure without undoing anything, and it would end a
    caller's conversation over a disk or configuration fault. Instead the
    record is dropped, and the drop is made loud: a warning on the
    ``nexora.audit`` logger (with the region and the error class, no record
    content; repeated drops are logged at counts 1, 2, 4, 8, ...), the
    :attr:`dropped` counter, and ``on_drop(record, error)`` for alerting. A
    record whose region has no location is such a drop (with a
    :class:`~sdk._errors.ResidencyError` as the error): it is never written
    elsewhere. A deployment should not get that far: :meth:`check_residency`
    raises :class:`~sdk._errors.ResidencyError` for a tenant whose records
    would have no place, and the runtime calls it for every tenant at startup.

    **Concurrency and cost.** Each record is one ``write(2)`` on a file opened
    with ``O_APPEND``, under a lock: lines never interleave across threads,
    tasks or processes sharing the file, and nothing is held in a user-space
    buffer, so a crash of the process loses no emitted record. The write goes
    to the page cache (no ``fsync``) and costs microseconds (measured in
    ``tests/benchmarks/test_telemetry_overhead.py``).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        locations: Mapping[str, str | Path] | None = None,
        default_region: str = "nz",
        retention_days: int = 90,
        cross_region: AbstractSet[str] | Callable[[str], bool] = frozenset(),
        on_drop: Callable[[AuditRecord, Exception], None] | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """Open the sink and delete its expired files.

        ``clock`` returns the current time as an aware datetime (tests pass a fake one).
        """
        if (path is None) == (locations is None):
            raise ConfigurationError(
                "JsonLinesAuditSink needs exactly one of: a path, or locations by region"
            )
        where = {default_region: path} if path is not None else dict(locations or {})
        if default_region not in where:
            raise ConfigurationError(
                f"audit locations have no entry for the default region {default_region!r} "
                f"(configured: {', '.join(sorted(where)) or 'none'}); add one, or set another default_region"
            )
        if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 1:
            raise ConfigurationError(
                f"audit retention_days must be a whole number of days >= 1, not {retention_days!r}"
            )
        self.retention_days = retention_days
        self.default_region = default_region
        self._locations = {region: _Location.parse(Path(value)) for region, value in where.items()}
        self._cross_region = cross_region if callable(cross_region) else frozenset(cross_region).__contains__
        self._on_drop = on_drop
        self._clock = clock
        self._lock = threading.Lock()
        self._prune_lock = threading.Lock()
        self._open: dict[_Location, int] = {}
        self._torn: set[_Location] = set()
        self._drops: Counter[tuple[str, str]] = Counter()
        self._pruners: list[threading.Thread] = []
        self._closed = False
        for location in set(self._locations.values()):
            location.directory.mkdir(parents=True, exist_ok=True, mode=0o750)
        self._day = self._today()
        self.prune()

    @property
    def locations(self) -> dict[str, Path]:
        """The directory each region's records go to."""
        return {region: location.directory for region, location in self._locations.items()}

    @property
    def dropped(self) -> int:
        """How many records could not be written since this sink was opened."""
        with self._lock:
            return sum(self._drops.values())

    def check_residency(self, tenant: str, region: str) -> None:
        """Raise :class:`~sdk._errors.ResidencyError` if this tenant's records would have nowhere to go."""
        if region in self._locations or self._cross_region(tenant):
            return
        raise ResidencyError(
            f"audit records of tenant {tenant!r} must stay in its region {region!r}, which has no audit "
            f"location (configured: {', '.join(sorted(self._locations))}); add audit.locations.{region}, "
            f"or set cross_region = true for this tenant to write them under the "
            f"{self.default_region!r} location"
        )

    def emit(self, record: AuditRecord) -> None:
        region = record.region or self.default_region
        location = self._locations.get(region)
        if location is None:
            if not self._cross_region(record.tenant):
                self._drop(record, ResidencyError(f"no audit location for region {region!r}"))
                return
            location = self._locations[self.default_region]
        data = (record.model_dump_json() + "\n").encode()
        try:
            with self._lock:
                if self._closed:
                    raise UsageError("the audit sink is closed")
                today = self._today()
                if today != self._day:
                    self._rotate(today)
                fd = self._open.get(location)
                if fd is None:
                    fd = self._open[location] = _open_append(location.file(today))
                if location in self._torn:
                    # A failed write may have left half a line: end it, so this record stays parseable.
                    data = b"\n" + data
                try:
                    _write_all(fd, data)
                except OSError:
                    self._torn.add(location)
                    raise
                self._torn.discard(location)
        except (OSError, UsageError) as exc:
            self._drop(record, exc)

    def prune(self) -> list[Path]:
        """Delete this sink's files older than the retention now; return what was deleted."""
        cutoff = self._today() - timedelta(days=self.retention_days)
        deleted: list[Path] = []
        with self._prune_lock:
            for location in set(self._locations.values()):
                for day, file in location.files():
                    if day >= cutoff:
                        continue
                    try:
                        file.unlink()
                    except FileNotFoundError:  # another process sharing the directory got there first
                        continue
                    except OSError as exc:
                        _log.warning("could not delete an expired audit file (%s)", type(exc).__name__)
                        continue
                    deleted.append(file)
        return deleted

    def files(self, region: str | None = None) -> list[Path]:
        """This sink's files, oldest day first: of one region's location, or of every location."""
        if region is None:
            chosen = set(self._locations.values())
        else:
            chosen = {self._locations[region]} if region in self._locations else set()
        return [file for _, file in sorted(entry for location in chosen for entry in location.files())]

    def close(self) -> None:
        """Close the open files and wait for a retention pass in progress."""
        with self._lock:
            self._closed = True
            self._close_files()
            pruners, self._pruners = self._pruners, []
        for thread in pruners:
            thread.join(timeout=_PRUNE_JOIN_TIMEOUT)

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def _rotate(self, today: date) -> None:
        # Called with the lock held: the next write to each location opens the new day's file.
        self._close_files()
        self._torn.clear()
        self._day = today
        self._pruners = [thread for thread in self._pruners if thread.is_alive()]
        thread = threading.Thread(target=self._prune_quietly, name="nexora-audit-retention", daemon=True)
        self._pruners.append(thread)
        thread.start()

    def _prune_quietly(self) -> None:
        try:
            self.prune()
        except OSError as exc:
            _log.warning(
                "audit retention pass failed (%s); it runs again at the next change of day",
                type(exc).__name__,
            )

    def _close_files(self) -> None:
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()

    def _drop(self, record: AuditRecord, error: Exception) -> None:
        key = (record.region or self.default_region, type(error).__name__)
        with self._lock:
            self._drops[key] += 1
            count = self._drops[key]
        if count & (count - 1) == 0:  # 1, 2, 4, 8, ...: loud at first, bounded when it persists
            _log.warning(
                "audit record dropped (%d so far for region %r, %s): this region's audit trail is "
                "incomplete; check the audit locations for the region and the disk",
                count,
                key[0],
                key[1],
            )
        if self._on_drop is not None:
            try:
                self._on_drop(record, error)
            except Exception:  # noqa: BLE001 - an alerting hook must not fail the call being audited
                _log.warning("the audit on_drop hook raised; the drop is still counted")


_log = logging.getLogger("nexora.audit")

_PRUNE_JOIN_TIMEOUT: Final = 10.0
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_OPEN_FLAGS: Final = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
)


@dataclass(frozen=True, slots=True)
class _Location:
    """A directory and the file-name prefix of this sink's daily files in it."""

    directory: Path
    prefix: str

    @classmethod
    def parse(cls, path: Path) -> _Location:
        directory, prefix = (path.parent, path.stem) if path.suffix == ".jsonl" else (path, "audit")
        if not _PREFIX.fullmatch(prefix):
            raise ConfigurationError(
                f"audit file name {path.name!r} must be letters, digits, '_', '.' or '-' before '.jsonl'"
            )
        return cls(directory, prefix)

    def file(self, day: date) -> Path:
        return self.directory / f"{self.prefix}-{day.isoformat()}.jsonl"

    def files(self) -> list[tuple[date, Path]]:
        """This location's daily files (regular files named by its pattern only), with their day."""
        pattern = re.compile(re.escape(self.prefix) + r"-(\d{4}-\d{2}-\d{2})\.jsonl")
        found: list[tuple[date, Path]] = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                match = pattern.fullmatch(entry.name)
                if match is None or not entry.is_file(follow_symlinks=False):
                    continue
                try:
                    day = date.fromisoformat(match.group(1))
                except ValueError:  # e.g. audit-2026-02-30.jsonl: not a name this sink writes
                    continue
                found.append((day, Path(entry.path)))
        return found


def _open_append(path: Path) -> int:
    # O_APPEND makes each write(2) land whole at the end, also with other processes on the same file.
    return os.open(path, _OPEN_FLAGS, 0o640)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
