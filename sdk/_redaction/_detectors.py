"""The scan: every validated candidate in a text, overlaps left for the engine to settle.

One regex pass finds the digit chains; each chain is checked as digit
identifiers (``_digits``) and, when a short word of letters sits right before
it, as a lettered one (``_lettered``). Email addresses are found from each
``@``. Nothing else reads the whole text and the validators run only on
candidates, which keeps a number-dense 2 KB text near half a millisecond
(``docs/benchmarks/redaction.md``).
"""

from __future__ import annotations

import re
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
        if _lettered_before(text, at):
            lettered_candidates(text, at, context, found)
        if chain.end() - at >= _MIN_CHARS:
            digit_candidates(text, chain, context, regions, found, memo)
    return found


def _lettered_before(text: str, at: int) -> bool:
    """Whether two or three letters end at ``at`` (or one space or dash before it)."""
    end = at - 1 if at > 0 and text[at - 1] in " -" else at
    if end < 2 or not (text[end - 1].isalpha() and text[end - 2].isalpha()):
        return False
    return end < 4 or not (text[end - 3].isalpha() and text[end - 4].isalpha())


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
