"""What an operation could not read: the notes a tolerant read leaves, and the field paths they name.

A list or a search skips a record it cannot read (:func:`sdk._parsing.parse_each`), a record keeps
going without a secondary field it cannot read (:func:`sdk._parsing.optional`), and a page walk
that loops may return what it gathered (:mod:`sdk._pagination`). Each leaves a note on the running
operation, here: how many records were skipped, the field paths that could not be read, whether
the result is truncated. Dispatch puts them in the audit record and hands them to the customer
context fan-out, and caches them with the result so a cache hit reports them too.

Closed vocabulary only: counts, a flag, and field paths written in the connector's code (a key
looked up, a name given to :func:`unreadable`, a shared model's field), each checked to have the
shape of a field name, so a value can never ride along.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from sdk._errors import VendorPayloadError
from sdk._http._running import running_call

__all__ = [
    "FIELD_NAME",
    "MAX_FIELD_PATHS",
    "ReadNotes",
    "field_path",
    "names_a_field",
    "note_truncated",
    "read_notes",
    "unreadable",
]

MAX_FIELD_PATHS = 8
"""Distinct field paths kept per operation: enough to say why, bounded whatever the vendor sends."""

FIELD_NAME = re.compile(r"[A-Za-z_$@][A-Za-z0-9_$@.-]{0,63}")
"""The shape of a field name. A name of another shape is not put in a path: it could be data."""


class _UnreadableField(VendorPayloadError, ValueError):
    """A value the parser was told the name of could not be read (private: reported by its base).

    Also a ValueError, what the helpers raised before they named fields: code that catches that
    (a lenient read, an ``is it an id?`` probe) keeps working.
    """

    def __init__(self, field: str, problem: str = "could not be read") -> None:
        self.field = field
        super().__init__(f"the vendor's {field} {problem}")


def unreadable(field: str, problem: str = "could not be read") -> VendorPayloadError:
    """The error to raise for a field whose value cannot be read: ``raise unreadable("currency")``.

    ``field`` is the field's name (or a dotted path, ``"items.price"``) as written in the parser,
    never a value: it lands in audit records and error messages. ``problem`` (fixed text from the
    parser's code, never a value) says what is wrong with it.
    """
    return _UnreadableField(field if FIELD_NAME.fullmatch(field) else "?", problem)


def names_a_field(exc: BaseException) -> bool:
    """True for the error :func:`unreadable` made: its message is generic, its field path is the news."""
    return isinstance(exc, _UnreadableField)


def _loc_path(loc: tuple[int | str, ...]) -> str:
    return ".".join("[]" if isinstance(part, int) else part for part in loc if isinstance(part, int | str))


def field_path(exc: BaseException, what: str = "") -> str:
    """The field path a parse failure names, prefixed with ``what`` (the record's kind); never a value.

    A field named by :func:`unreadable`, a missing key (``item["id"]``: keys in parsers are
    literals) and the first location of a pydantic error (the shared models' field names) give a
    path; other failures name the record only. An empty result means nothing more is known.
    """
    field: str | None = None
    if isinstance(exc, _UnreadableField):
        field = exc.field
    elif isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        if errors:
            field = _loc_path(errors[0]["loc"]) or None
    elif isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        field = exc.args[0]
    if field is not None and not FIELD_NAME.fullmatch(field.replace("[]", "_")):
        field = None
    if field is None:
        return what
    return f"{what}.{field}" if what else field


class ReadNotes:
    """What one operation could not read: records skipped, field paths, a walk cut short.

    Created on the first note (an operation that reads everything allocates nothing), kept on the
    running operation's context, and read by dispatch into the audit record. Closed vocabulary
    only: counts, field paths from the parser's code, a flag.
    """

    __slots__ = ("fields", "records_skipped", "truncated")

    def __init__(self) -> None:
        self.records_skipped = 0
        self.fields: list[str] = []
        self.truncated = False

    def skipped(self, path: str) -> None:
        """One record was left out because the value at ``path`` could not be read."""
        self.records_skipped += 1
        self.field(path)

    def field(self, path: str) -> None:
        """The value at ``path`` could not be read (its record was skipped, or kept without it)."""
        if path and path not in self.fields and len(self.fields) < MAX_FIELD_PATHS:
            self.fields.append(path)

    def merge(self, other: ReadNotes) -> None:
        """Add ``other``'s notes to these (a step's notes into its source's)."""
        self.records_skipped += other.records_skipped
        for path in other.fields:
            self.field(path)
        self.truncated = self.truncated or other.truncated

    def __bool__(self) -> bool:
        return bool(self.records_skipped or self.fields or self.truncated)

    # A result read with notes is cached with them in front, so a cache hit reports them too:
    # NUL, the notes as JSON, NUL, then the result's JSON (which never starts with NUL).

    def pack(self, payload: bytes) -> bytes:
        """``payload`` with these notes in front (unchanged when there is nothing to note)."""
        if not self:
            return payload
        head = json.dumps([self.records_skipped, self.fields, self.truncated], separators=(",", ":"))
        return _NOTED + head.encode() + _NOTED + payload

    @staticmethod
    def packed(notes: ReadNotes | None, payload: bytes) -> bytes:
        """``payload`` with ``notes`` in front, if there are any."""
        return payload if notes is None else notes.pack(payload)

    def audit_fields(self) -> dict[str, object]:
        """These notes as the audit record's fields."""
        return {
            "records_skipped": self.records_skipped,
            "skipped_fields": tuple(self.fields),
            "truncated": self.truncated,
        }

    @staticmethod
    def unpack(packed: bytes) -> tuple[ReadNotes | None, bytes]:
        """The notes :meth:`pack` put in front of a payload (None if none), and the payload."""
        if not packed.startswith(_NOTED):
            return None, packed
        head, _, payload = packed[1:].partition(_NOTED)
        skipped, fields, truncated = json.loads(head)
        notes = ReadNotes()
        notes.records_skipped, notes.truncated = int(skipped), bool(truncated)
        for path in fields:
            notes.field(str(path))
        return notes, payload


_NOTED = b"\x00"


def read_notes() -> ReadNotes | None:
    """The running operation's notes (created on first use), or None outside an operation.

    The context is dispatch's (a layer above); it offers ``read_notes()``. Looked up only when
    something is noted, so reading a clean payload costs nothing.
    """
    holder = getattr(running_call(), "read_notes", None)
    return holder() if callable(holder) else None


def note_truncated() -> None:
    """Note that the running operation returns fewer records than the vendor holds (a walk cut short)."""
    notes = read_notes()
    if notes is not None:
        notes.truncated = True
