"""Stripe Search query language: ``field:'value'`` clauses joined by ``OR`` or ``AND``.

Stripe's search syntax (https://docs.stripe.com/search#search-query-language)
requires string values in quotes and lets a backslash escape a quote inside
them. A value is wrapped in single quotes with every backslash and single
quote escaped, backslashes first, so an input ending in ``\\`` cannot escape
the closing quote: ``' OR email:'x`` searches for that literal text. Stripe
allows at most ten clauses per query and no mixing of ``AND`` with ``OR``;
:func:`any_of` and :func:`all_of` enforce both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NewType

from sdk._errors import UsageError
from sdk._querylang._text import check_field, check_value

__all__ = ["MAX_CLAUSES", "Clause", "Query", "all_of", "any_of", "clause", "quote"]

LANGUAGE = "Stripe search"
MAX_CLAUSES = 10
"""Stripe refuses a search query of more than ten clauses."""

Clause = NewType("Clause", str)
"""One ``field:'value'`` clause made by :func:`clause`."""
Query = NewType("Query", str)
"""A whole query made by :func:`any_of` or :func:`all_of`."""

_SYNTAX = frozenset("'\"\\:")


def quote(value: str, *, argument: str | None = None) -> str:
    """Return ``value`` as one single-quoted Stripe search string literal."""
    text = check_value(value, language=LANGUAGE, argument=argument, syntax=_SYNTAX)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def clause(field: str, value: str, *, argument: str | None = None) -> Clause:
    """Return the exact-match clause ``field:'value'`` (``field`` is the connector's, never the caller's)."""
    return Clause(f"{check_field(field, LANGUAGE)}:{quote(value, argument=argument)}")


def any_of(clauses: Iterable[Clause]) -> Query:
    """Return a query matching any of ``clauses`` (one to ten)."""
    return _join(clauses, " OR ")


def all_of(clauses: Iterable[Clause]) -> Query:
    """Return a query matching all of ``clauses`` (one to ten)."""
    return _join(clauses, " AND ")


def _join(clauses: Iterable[Clause], operator: str) -> Query:
    parts = list(clauses)
    if not 1 <= len(parts) <= MAX_CLAUSES:
        raise UsageError(f"a Stripe search query has between 1 and {MAX_CLAUSES} clauses")
    return Query(operator.join(parts))
