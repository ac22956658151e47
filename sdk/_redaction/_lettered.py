"""Identifiers that start with letters: NZ NHI, UK NI number, NZ driver licence and IBAN.

Each of them has its letters directly (or after one space or dash) before its
first digits, so rather than scanning the text again the engine looks just
before each digit chain for a two- or three-letter word and tries these
shapes there.
"""

from __future__ import annotations

import re
import string
from functools import cache
from typing import Final

from sdk._redaction import _checks
from sdk._redaction._context import ContextReader
from sdk._redaction._digits import is_word_char
from sdk._redaction._scoring import SCORE_CAPITALS, SCORE_NAMED, SCORE_STRICT, SCORE_STRUCTURAL, Candidate
from sdk._redaction._types import IdentifierType

__all__ = ["lettered_candidates"]

_T = IdentifierType
_ASCII_LETTERS: Final = frozenset(string.ascii_letters)

_SHAPES_RE: Final = re.compile(
    r"(?:(?P<nino>[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d])"
    r"|(?P<dl>[A-Za-z]{2}[ -]?\d{6})"
    r"|(?P<nhi>[A-Za-z]{3} ?\d{2}(?:\d{2}|[A-Za-z]{2})))\b",
    re.ASCII,
)


def lettered_candidates(text: str, digits_at: int, context: ContextReader, found: list[Candidate]) -> None:
    """Append to ``found`` the candidates whose letters end just before ``digits_at`` (a digit chain)."""
    letters_end = digits_at
    if letters_end > 0 and text[letters_end - 1] in " -":
        letters_end -= 1
    start = letters_end
    while start > 0 and letters_end - start < 4 and text[start - 1] in _ASCII_LETTERS:
        start -= 1
    if not 2 <= letters_end - start <= 3 or (start > 0 and is_word_char(text[start - 1])):
        return
    match = _SHAPES_RE.match(text, start)
    if match is not None:
        _shaped(match, context, found)
    if letters_end == digits_at and letters_end - start == 2:
        _iban(text, start, found)


def _shaped(match: re.Match[str], context: ContextReader, found: list[Candidate]) -> None:
    value = match.group()
    compact = value.replace(" ", "").replace("-", "")
    start, end = match.span()
    capitals = compact.upper() == compact
    if match.group("nino") is not None:
        kind = _T.UK_NINO
        if not _checks.is_nino(compact):
            return
        conventional = capitals
    elif match.group("dl") is not None:
        kind = _T.NZ_DRIVER_LICENCE
        conventional = False  # no check digit: only ever taken when the sentence says so
    else:
        kind = _T.NZ_NHI
        if not _checks.is_nhi(compact):
            return
        conventional = capitals and compact == value
    if conventional:
        found.append(Candidate(kind, start, end, SCORE_CAPITALS))
    elif kind in context.said_at(start):
        found.append(Candidate(kind, start, end, SCORE_NAMED))
    elif kind in context.always and (kind is not _T.NZ_NHI or compact == value):
        # A strict policy's guess, but not a spaced NHI shape: "the 12th" passes mod 23 one time in 23.
        found.append(Candidate(kind, start, end, SCORE_STRICT))


def _iban(text: str, start: int, found: list[Candidate]) -> None:
    """An IBAN from its country code at ``start``: exactly the registered length, unspaced or in fours."""
    length = _checks.iban_length(text[start : start + 2])
    if length is None:
        return
    match = _iban_shape(length).match(text, start)
    if match is None:
        return
    end = match.end()
    if end < len(text) and text[end].isalnum():
        return
    compact = match.group().replace(" ", "").replace("-", "")
    found.append(Candidate(_T.IBAN, start, end, SCORE_STRUCTURAL, void=not _checks.is_iban(compact.upper())))


@cache  # keyed by a registered IBAN length: a few dozen at most
def _iban_shape(length: int) -> re.Pattern[str]:
    """``length`` ASCII letters and digits, with one space or dash allowed between groups of four.

    Printed IBANs are spaced in fours, never inside a group.
    """
    fours, rest = divmod(length, 4)
    pattern = "[A-Za-z0-9]{4}" + "(?:[ -]?[A-Za-z0-9]{4})" * (fours - 1)
    if rest:
        pattern += f"[ -]?[A-Za-z0-9]{{{rest}}}"
    return re.compile(pattern)
