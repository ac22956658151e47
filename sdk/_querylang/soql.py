"""Salesforce SOQL string literals and SOSL ``FIND`` search terms.

Following Salesforce's *SOQL and SOSL Reference*:

* SOQL, "Quoted String Escape Sequences": inside ``'...'`` a backslash starts
  ``\\n \\r \\t \\b \\f \\" \\' \\\\``; ``\\%`` and ``\\_`` are allowed *only*
  in ``LIKE`` patterns (anywhere else a backslash before them is an error), so
  ``%`` and ``_`` stay as they are in ``=`` literals and are escaped only by
  :func:`like_literal`.
* SOSL, "FIND {SearchQuery}": ``? & | ! { } [ ] ( ) ^ ~ * : \\ " ' + -`` are
  reserved and must be escaped with a backslash, even inside a quoted phrase;
  ``AND``, ``OR`` and ``AND NOT`` between words are operators, so a term with
  spaces or an operator word is sent as a quoted phrase. Control characters
  have no escape in SOSL and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, NewType

from sdk._errors import UsageError
from sdk._querylang._text import check_value

__all__ = [
    "FindClause",
    "FindTerm",
    "SoqlLiteral",
    "find_any",
    "find_term",
    "like_literal",
    "literal",
]

SoqlLiteral = NewType("SoqlLiteral", str)
"""A quoted SOQL string literal, quotes included."""
FindTerm = NewType("FindTerm", str)
"""One SOSL search term: bare word or quoted phrase, reserved characters escaped."""
FindClause = NewType("FindClause", str)
"""The ``{...}`` of a SOSL ``FIND``, braces included."""

_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_SOQL_SYNTAX = frozenset("'\"\\")
_LIKE_SYNTAX = _SOQL_SYNTAX | frozenset("%_")
_SOSL_RESERVED = frozenset("?&|!{}[]()^~*:\\\"'+-")
_SOSL_OPERATORS = frozenset({"AND", "OR", "NOT"})
_SOSL_BARE = re.compile(r"[A-Za-z0-9]+")
_LIKE_MATCH = {"exact": ("", ""), "starts_with": ("", "%"), "ends_with": ("%", ""), "contains": ("%", "%")}


def literal(value: str, *, argument: str | None = None) -> SoqlLiteral:
    """Return ``value`` as one SOQL string literal for ``=``, ``!=`` or ``IN``, quotes included."""
    text = check_value(
        value, language="SOQL", argument=argument, escapable=_SOQL_ESCAPES, syntax=_SOQL_SYNTAX
    )
    return SoqlLiteral("'" + "".join(_SOQL_ESCAPES.get(char, char) for char in text) + "'")


def like_literal(
    value: str,
    *,
    match: Literal["exact", "starts_with", "ends_with", "contains"] = "exact",
    argument: str | None = None,
) -> SoqlLiteral:
    """Return a ``LIKE`` pattern literal in which every ``%`` and ``_`` of ``value`` matches itself.

    ``match`` adds the connector's own ``%`` wildcards around the escaped value.
    """
    text = check_value(
        value, language="SOQL", argument=argument, escapable=_SOQL_ESCAPES, syntax=_LIKE_SYNTAX
    )
    before, after = _LIKE_MATCH[match]
    body = "".join("\\" + char if char in "%_" else _SOQL_ESCAPES.get(char, char) for char in text)
    return SoqlLiteral(f"'{before}{body}{after}'")


def find_term(value: str, *, argument: str | None = None) -> FindTerm:
    """Return ``value`` as one SOSL search term for the ``{...}`` of a ``FIND``.

    A single ASCII word or number that is not an operator goes bare (Salesforce
    then indexes it as typed); anything else becomes a quoted phrase, so its
    spaces and words cannot be read as operators. Every reserved character is
    escaped in both forms.
    """
    text = check_value(value, language="SOSL", argument=argument, syntax=_SOSL_RESERVED)
    if _SOSL_BARE.fullmatch(text) and text.upper() not in _SOSL_OPERATORS:
        return FindTerm(text)
    escaped = "".join("\\" + char if char in _SOSL_RESERVED else char for char in text)
    return FindTerm(f'"{escaped}"')


def find_any(terms: Iterable[FindTerm]) -> FindClause:
    """Return ``{t1 OR t2 ...}``: a search for any of ``terms`` (at least one)."""
    parts = list(terms)
    if not parts:
        raise UsageError("a SOSL FIND needs at least one search term")
    return FindClause("{" + " OR ".join(parts) + "}")
