"""Jira Query Language (JQL) string literals and the clauses built from them.

In JQL's grammar a quoted string is ``"`` followed by any characters but
``"``, ``\\``, CR and LF, or an escape ``\\" \\' \\\\ \\t \\n \\r \\uXXXX``, and
a closing ``"``. Inside quotes the reserved words (``AND``, ``OR``, ``ORDER``,
``EMPTY``...) and reserved characters (``( ) , = ! ~ < >`` ...) are plain
text, so every value is always sent quoted, with ``"`` and ``\\`` escaped and
CR, LF and tab written as escapes. Other control characters are refused.

These literals are for the equality operators (``=``, ``!=``, ``in``,
``not in``). The text-search operator ``~`` reads its string as a Lucene
query with a second layer of syntax, and is deliberately not offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NewType

from sdk._errors import UsageError
from sdk._querylang._text import check_field, check_value

__all__ = [
    "MAX_LIST",
    "JqlClause",
    "JqlList",
    "JqlQuery",
    "JqlString",
    "all_of",
    "clause",
    "string",
    "string_list",
]

LANGUAGE = "JQL"
MAX_LIST = 50
"""Most values one ``in (...)`` list may hold here."""

JqlString = NewType("JqlString", str)
"""One double-quoted JQL string literal."""
JqlList = NewType("JqlList", str)
"""A parenthesised list of JQL string literals, for ``in`` and ``not in``."""
JqlClause = NewType("JqlClause", str)
"""One ``field operator operand`` clause."""
JqlQuery = NewType("JqlQuery", str)
"""Clauses joined by ``AND``, without ``ORDER BY``."""

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SYNTAX = frozenset("\"'\\")


def string(value: str, *, argument: str | None = None) -> JqlString:
    """Return ``value`` as one double-quoted JQL string literal."""
    text = check_value(value, language=LANGUAGE, argument=argument, escapable=_ESCAPES, syntax=_SYNTAX)
    return JqlString('"' + "".join(_ESCAPES.get(char, char) for char in text) + '"')


def string_list(values: Iterable[str], *, argument: str | None = None) -> JqlList:
    """Return ``("a", "b")``: a list operand of one to :data:`MAX_LIST` string literals."""
    literals = [string(value, argument=argument) for value in values]
    if not 1 <= len(literals) <= MAX_LIST:
        raise UsageError(f"a JQL list operand holds between 1 and {MAX_LIST} values")
    return JqlList("(" + ", ".join(literals) + ")")


def clause(
    field: str, operator: Literal["=", "!=", "in", "not in"], operand: JqlString | JqlList
) -> JqlClause:
    """Return ``field operator operand``; the operand must come from :func:`string` or :func:`string_list`."""
    is_list = operand.startswith("(")
    if operator not in ("=", "!=", "in", "not in") or is_list != (operator in ("in", "not in")):
        raise UsageError("a JQL clause pairs = and != with a string, in and not in with a list")
    return JqlClause(f"{check_field(field, LANGUAGE)} {operator} {operand}")


def all_of(clauses: Iterable[JqlClause]) -> JqlQuery:
    """Return ``c1 AND c2 ...`` (at least one clause)."""
    parts = list(clauses)
    if not parts:
        raise UsageError("a JQL query needs at least one clause")
    return JqlQuery(" AND ".join(parts))
