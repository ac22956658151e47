"""The scan: every validated candidate in a text, overlaps left for the engine to settle.

One regex pass finds the digit chains; each chain is checked as digit
identifiers (``_digits``, planned once per chain shape by ``_runs``) and,
when a short word of letters sits right before it, as a lettered one
(``_lettered``). Email addresses are found from each ``@``. Apart from the
sentence ends that context words need (found only as far as a question
reaches, ``_context``), nothing else reads the whole text and the validators
run only on candidates (``docs/benchmarks/redaction.md`` has the timings).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Final

from sdk._redaction._context import EMAIL_RE, ContextReader
from sdk._redaction._digits import CHAIN_RE, PhoneKey, digit_candidates
from sdk._redaction._lettered import lettered_candidates
from sdk._redaction._phones import DEFAULT_NATIONAL_REGIONS, PhoneMatch
from sdk._redaction._scoring import SCORE_STRUCTURAL, Candidate
from sdk._redaction._types import IdentifierType

__all__ = ["scan"]

_ANY_DIGIT_RE: Final = re.compile(r"\d", re.ASCII)
_ASCII_LETTERS: Final = frozenset(string.ascii_letters)
_MIN_CHARS: Final = 7  # the shortest phone number has seven digits
_EMAIL_LOCAL: Final = frozenset("._%+'-")
_MAX_LOCAL: Final = 64


def scan(
    text: str,
    regions: tuple[str, ...] = DEFAULT_NATIONAL_REGIONS,
    strict: frozenset[IdentifierType] = frozenset(),
) -> list[Candidate]:
    """Return every validated candidate in ``text``; overlaps are left for the caller to resolve.

    ``text`` is already folded (``_fold``); ``strict`` types are read as named by every sentence.
    """
    found: list[Candidate] = []
    if "@" in text:
        found.extend(_emails(text))
    if _ANY_DIGIT_RE.search(text) is None:
        return found
    context = ContextReader(text, strict)
    memo: dict[PhoneKey, PhoneMatch | None] = {}
    for chain in CHAIN_RE.finditer(text):
        at = chain.start()
        # Two or three letters ending at the chain (or one space or dash before it)? The
        # ASCII letters that a lettered identifier starts with first, then as many letters
        # of any script as would make a longer word.
        end = at - 1 if at > 0 and text[at - 1] in " -" else at
        if (
            end >= 2
            and text[end - 1] in _ASCII_LETTERS
            and text[end - 2] in _ASCII_LETTERS
            and (end < 4 or not (text[end - 3].isalpha() and text[end - 4].isalpha()))
        ):
            lettered_candidates(text, at, context, found)
        if chain.end() - at >= _MIN_CHARS:
            digit_candidates(text, chain, context, regions, found, memo)
    return found


def _emails(text: str) -> Iterator[Candidate]:
    at = text.find("@")
    while at != -1:
        start = at
        while (
            start > 0
            and at - start < _MAX_LOCAL
            and (text[start - 1].isalnum() or text[start - 1] in _EMAIL_LOCAL)
        ):
            start -= 1
        while start < at and text[start] in "'.":
            start += 1  # an opening quote, not the address: "'jane@example.com'"
        match = EMAIL_RE.match(text, start)
        if match is not None and match.start() < at < match.end():
            yield Candidate(IdentifierType.EMAIL, match.start(), match.end(), SCORE_STRUCTURAL)
            at = text.find("@", match.end())
        else:
            at = text.find("@", at + 1)
