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
from sdk._redaction._digits import CHAIN_RE, Dialable, PhoneKey, digit_candidates, phone_candidates
from sdk._redaction._lettered import lettered_candidates
from sdk._redaction._phones import DEFAULT_NATIONAL_REGIONS, PhoneMatch
from sdk._redaction._scoring import SCORE_STRUCTURAL, Candidate
from sdk._redaction._types import IdentifierType

__all__ = ["PutOff", "scan"]

_ANY_DIGIT_RE: Final = re.compile(r"\d", re.ASCII)
_ASCII_LETTERS: Final = frozenset(string.ascii_letters)
_MIN_CHARS: Final = 7  # the shortest phone number has seven digits
_EMAIL_LOCAL: Final = frozenset("._%+'-")
_MAX_LOCAL: Final = 64


class PutOff:
    """Email addresses and phone numbers a scan left to be found only where they can matter.

    A policy that keeps both (the default) writes a text as it was unless some
    other identifier is there, so the scan finds those first, and the phone
    checks (most of a short field's cost) run only for a text that holds one
    (see ``_engine``), and there only for the chains that can touch one.
    """

    __slots__ = ("chains", "context", "emails", "memo", "regions", "text")

    def __init__(
        self,
        text: str,
        emails: bool,
        chains: list[Dialable],
        context: ContextReader | None,
        regions: tuple[str, ...],
        memo: dict[PhoneKey, PhoneMatch | None],
    ) -> None:
        self.text = text
        self.emails = emails
        self.chains = chains
        self.context = context
        self.regions = regions
        self.memo = memo

    def finish(self, found: list[Candidate], kept: frozenset[IdentifierType]) -> list[Candidate]:
        """``found`` and what was put off, less what cannot change a text kept types aside.

        Overlaps are settled by what overlaps (a candidate's span, or the
        neighbour groups it needs claimed): candidates that no chain of
        overlapping spans joins to one of a type outside ``kept`` are
        settled, and written, without regard to it. So ``found`` (with every
        email address added) is cut into such groups, a put-off chain
        standing for the phone numbers inside its span, and only the groups
        holding a type outside ``kept`` are returned, their chains' phone
        numbers validated: exactly the findings outside ``kept`` the whole
        scan would have settled on.
        """
        text = self.text
        if self.emails and "@" in text:
            found = [*found, *_emails(text)]
        chains = self.chains
        count = len(found)
        spans: list[tuple[int, int, int]] = []  # (start, end, index): candidates, then chains
        for index, candidate in enumerate(found):
            start, end = candidate.start, candidate.end
            for low, high in candidate.neighbours:
                start, end = min(start, low), max(end, high)
            spans.append((start, end, index))
        spans.extend((chain[0], chain[1], count + k) for k, chain in enumerate(chains))
        spans.sort()
        wanted: list[int] = []
        group: list[int] = []
        reach, seeded = -1, False
        for start, end, index in spans:
            if start >= reach:  # overlaps nothing before it: a group of its own begins
                if seeded:
                    wanted += group
                group, reach, seeded = [], end, False
            elif end > reach:
                reach = end
            group.append(index)
            if index < count and found[index].kind not in kept:
                seeded = True
        if seeded:
            wanted += group
        wanted.sort()
        result = [found[index] for index in wanted if index < count]
        if self.context is not None and wanted and wanted[-1] >= count:
            mine = [chains[index - count] for index in wanted if index >= count]
            phone_candidates(mine, self.context, self.regions, result, self.memo)
        return result


def scan(
    text: str,
    regions: tuple[str, ...] = DEFAULT_NATIONAL_REGIONS,
    strict: frozenset[IdentifierType] = frozenset(),
    keep_emails: bool = False,
    keep_phones: bool = False,
) -> tuple[list[Candidate], PutOff | None]:
    """Return every validated candidate in ``text``; overlaps are left for the caller to resolve.

    ``text`` is already folded (``_fold``); ``strict`` types are read as named
    by every sentence. ``keep_emails``, ``keep_phones``: the policy keeps
    those, and the scan leaves them for a :class:`PutOff`, returned if it
    left anything (else the candidates are all there are).
    """
    found: list[Candidate] = []
    emails_later = keep_emails and "@" in text
    if "@" in text and not keep_emails:
        found.extend(_emails(text))
    if _ANY_DIGIT_RE.search(text) is None:
        return found, (PutOff(text, True, [], None, regions, {}) if emails_later else None)
    context = ContextReader(text, strict)
    memo: dict[PhoneKey, PhoneMatch | None] = {}
    later: list[Dialable] | None = [] if keep_phones else None
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
            digit_candidates(text, chain, context, regions, found, memo, later)
    if emails_later or later:
        return found, PutOff(text, emails_later, later or [], context, regions, memo)
    return found, None


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
