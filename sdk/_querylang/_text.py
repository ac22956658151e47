"""What every query-language value must be before any escaper touches it.

A value a caller steered (an email, a name, a phone number) is refused when no
escaping can make it one literal of the vendor's language for certain:

* not text at all, blank (a blank value narrows nothing: several vendors read
  ``Email = ''`` or ``requester:""`` as "no condition"), or longer than
  :data:`MAX_VALUE_LENGTH`;
* a control, format or otherwise invisible character (NUL, bidi overrides,
  zero-width joiners, line separators, lone surrogates) unless the language has
  a documented escape for it;
* a character that *becomes* syntax of the language under Unicode
  compatibility normalisation (U+FF02 FULLWIDTH QUOTATION MARK is ``"`` after NFKC),
  in case the vendor normalises before it parses.

Refusals raise :class:`~sdk.InvalidArgumentsError`; the message names the
argument and the rule, never the value (promise S3).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from sdk._errors import InvalidArgumentsError, UsageError

__all__ = ["MAX_VALUE_LENGTH", "check_field", "check_value", "refuse"]

MAX_VALUE_LENGTH = 256
"""Longest value any escaper accepts: an email address is at most 254 characters."""

_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def refuse(argument: str | None, problem: str) -> InvalidArgumentsError:
    """The error for a refused value: ``"<argument> <problem>"``, or just the problem.

    Without an argument name the message reads on after a caller's own prefix
    (``f"email {exc}"`` gives "email contains a control character ...").
    """
    return InvalidArgumentsError(f"{argument} {problem}" if argument else problem)


def check_value(
    value: object,
    *,
    language: str,
    argument: str | None,
    escapable: Collection[str] = (),
    syntax: Collection[str] = (),
) -> str:
    """Return ``value`` if ``language`` can carry it as one literal, else raise InvalidArgumentsError.

    ``escapable`` are the non-printable characters the language has an escape
    for (SOQL's ``\\n``); ``syntax`` are its special characters, which the
    escaper handles itself but which must not appear *by normalisation* of
    another character.
    """
    if not isinstance(value, str):
        raise refuse(argument, f"must be text to go into a {language} query")
    if len(value) > MAX_VALUE_LENGTH:
        raise refuse(
            argument, f"is longer than the {MAX_VALUE_LENGTH} characters a {language} value may hold"
        )
    if not value.strip():
        raise refuse(argument, f"is blank, and a blank {language} value would not narrow the search")
    for char in value:
        if char == " " or char in escapable:
            continue
        if not char.isprintable():
            raise refuse(
                argument, f"contains a control or invisible character, which {language} cannot carry"
            )
        if not char.isascii():
            normalised = unicodedata.normalize("NFKC", char)
            if normalised != char and any(part in syntax for part in normalised):
                raise refuse(
                    argument,
                    f"contains a character that reads as {language} syntax once Unicode-normalised",
                )
    return value


def check_field(field: str, language: str) -> str:
    """Return ``field`` if it is a plain identifier; field names come from code, never from callers."""
    if not (isinstance(field, str) and _FIELD.fullmatch(field)):
        raise UsageError(f"a {language} field name must be a fixed identifier chosen by the connector")
    return field
