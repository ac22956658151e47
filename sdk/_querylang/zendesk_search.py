"""Zendesk Support search syntax: ``field:value`` terms separated by spaces.

Zendesk's search reference documents ``:`` ``<`` ``>`` ``<=`` ``>=`` as
operators, a leading ``-`` as negation, ``*`` as a wildcard and double quotes
for an exact phrase (``requester:"amy moore"``). It documents no escape
character, so what a phrase cannot hold is refused rather than escaped:

* a value made only of ASCII letters, digits and ``. _ @ + -`` (not starting
  with a punctuation mark) is sent bare: ``requester:amy@example.com``;
* anything else is sent as a quoted phrase, and is refused if it contains
  ``"`` (ends the phrase), ``\\`` (an escape in the underlying engine), ``*``
  or ``?`` (wildcards), or no letter or digit at all (a phrase of punctuation
  is dropped by the analyser, and the term with it, widening the search).

A value stays inside its own term: one term can never become two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, NewType

from sdk._errors import UsageError
from sdk._querylang._text import check_field, check_value, refuse

__all__ = ["ZendeskQuery", "ZendeskTerm", "all_of", "ends_with", "term"]

LANGUAGE = "Zendesk search"

ZendeskTerm = NewType("ZendeskTerm", str)
"""One ``field<op>value`` term."""
ZendeskQuery = NewType("ZendeskQuery", str)
"""Terms joined by spaces."""

_BARE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")
_UNQUOTABLE = frozenset('"\\*?')
_OPERATORS = (":", "<", ">", "<=", ">=")


def _value(value: str, argument: str | None, *, bare_only: bool) -> str:
    text = check_value(value, language=LANGUAGE, argument=argument, syntax=_UNQUOTABLE)
    if _BARE.fullmatch(text):
        return text
    if bare_only:
        raise refuse(argument, "may hold only letters, digits and . _ @ + - here")
    if any(char in _UNQUOTABLE for char in text):
        raise refuse(argument, 'contains a character Zendesk search cannot match literally (" \\ * or ?)')
    if not any(char.isalnum() for char in text):
        raise refuse(argument, "has no letter or digit to search for")
    return f'"{text}"'


def term(
    field: str,
    value: str,
    *,
    operator: Literal[":", "<", ">", "<=", ">="] = ":",
    argument: str | None = None,
) -> ZendeskTerm:
    """Return ``field:value`` (or another operator), the value bare or as a quoted phrase.

    The comparison operators take bare values only (``status<solved``).
    """
    if operator not in _OPERATORS:
        raise UsageError("a Zendesk search operator is one of : < > <= >=")
    text = _value(value, argument, bare_only=operator != ":")
    return ZendeskTerm(f"{check_field(field, LANGUAGE)}{operator}{text}")


def ends_with(field: str, value: str, *, argument: str | None = None) -> ZendeskTerm:
    """Return ``field:*value``: the connector's own leading wildcard before a bare value."""
    return ZendeskTerm(f"{check_field(field, LANGUAGE)}:*{_value(value, argument, bare_only=True)}")


def all_of(terms: Iterable[ZendeskTerm]) -> ZendeskQuery:
    """Return the terms joined by spaces (at least one); terms on different fields must all match."""
    parts = list(terms)
    if not parts:
        raise UsageError("a Zendesk search query needs at least one term")
    return ZendeskQuery(" ".join(parts))
