"""Xero's ``where`` filter: ``Field=="value"`` comparisons joined by ``AND`` (promise S2).

Xero filters list endpoints with a .NET Dynamic LINQ expression in the ``where`` query parameter
(https://developer.xero.com/documentation/api/accounting/requests-and-responses, "Retrieving
filtered results"): ``EmailAddress=="a@example.com"``, ``Type=="ACCREC"``,
``Contact.ContactID==Guid("...")``, ``IsCustomer==true``.

Xero does not document how a ``"`` inside a string literal is escaped, and the two Dynamic LINQ
dialects disagree (the original doubles it, ``""``; System.Linq.Dynamic.Core also reads
backslash escapes, so a value ending in ``\\`` would swallow the closing quote). Whichever parser
Xero runs, a literal holding neither ``"`` nor ``\\`` reads back the same, so those two characters
are refused rather than escaped: no real email address or invoice reference a caller gives needs
them. Everything else :func:`sdk.querylang.check_value` accepts is carried as written.

Ids go in only as ``Guid("<canonical UUID>")``: anything that is not a UUID is refused before it
reaches the expression. Field names and constants come from the connector, never from a caller.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import NewType

from sdk import InvalidArgumentsError, UsageError
from sdk.querylang import check_value

__all__ = ["Clause", "Where", "all_of", "equals", "equals_constant", "equals_guid", "string"]

LANGUAGE = "Xero where"
Clause = NewType("Clause", str)
"""One ``Field==value`` comparison made by this module."""
Where = NewType("Where", str)
"""A whole filter made by :func:`all_of`."""

_FIELD = re.compile(r"[A-Z][A-Za-z0-9]{0,63}(\.[A-Z][A-Za-z0-9]{0,63})?")
_CONSTANT = re.compile(r"true|false|[A-Z][A-Z0-9_]{0,31}")
_UNESCAPABLE = frozenset('"\\')
MAX_CLAUSES = 8


def string(value: str, *, argument: str | None = None) -> str:
    """Return ``value`` as one double-quoted literal, or raise InvalidArgumentsError (see above)."""
    text = check_value(value, language=LANGUAGE, argument=argument, syntax=_UNESCAPABLE)
    if any(char in _UNESCAPABLE for char in text):
        problem = 'contains " or \\, which a Xero filter cannot carry for certain'
        raise InvalidArgumentsError(f"{argument} {problem}" if argument else problem)
    return f'"{text}"'


def _field(name: str) -> str:
    if not _FIELD.fullmatch(name):
        raise UsageError("a Xero where field must be a fixed PascalCase name chosen by the connector")
    return name


def equals(field: str, value: str, *, argument: str | None = None) -> Clause:
    """``Field=="value"`` for a caller's text."""
    return Clause(f"{_field(field)}=={string(value, argument=argument)}")


def equals_guid(field: str, value: str, *, argument: str | None = None) -> Clause:
    """``Field==Guid("...")`` for a record id, which must be a UUID."""
    try:
        parsed = uuid.UUID(value) if isinstance(value, str) and len(value) == 36 else None
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value.lower():
        problem = "must be a Xero id (a UUID such as 8138a266-fb42-49b2-a104-014b7045753d)"
        raise InvalidArgumentsError(f"{argument} {problem}" if argument else problem)
    return Clause(f'{_field(field)}==Guid("{parsed}")')


def equals_constant(field: str, constant: str) -> Clause:
    """``Field==CONSTANT`` (``true``, ``false``) or ``Field=="CONSTANT"`` for an enum the connector names."""
    if not _CONSTANT.fullmatch(constant):
        raise UsageError("a Xero where constant must be true, false or an upper-case enum name")
    literal = constant if constant in ("true", "false") else f'"{constant}"'
    return Clause(f"{_field(field)}=={literal}")


def all_of(clauses: Iterable[Clause]) -> Where:
    """All of ``clauses`` (one to eight), joined with `` AND ``."""
    parts = list(clauses)
    if not 1 <= len(parts) <= MAX_CLAUSES:
        raise UsageError(f"a Xero where filter has between 1 and {MAX_CLAUSES} clauses")
    return Where(" AND ".join(parts))
