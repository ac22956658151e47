"""Runs of digit groups: cards, IHI, ABN, TFN, IRD, SSN, NHS, Medicare and phone numbers.

One regex pass finds chains of digit groups joined by a space, a dot or a
dash ("4242 4242 4242 4242", "+64 21 123 4567", "(09) 379 0000"). Every
contiguous sub-run of a chain's groups is checked, so "IRD 49-091-850 4242
4242 4242 4242" yields both numbers although one space separates them; runs
are checked only for the types of their length, and only those that pass a
check become candidates (scores in ``_scoring``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Final

from sdk._redaction import _checks
from sdk._redaction._context import ContextReader, Sentence
from sdk._redaction._phones import NANP_CUTS, PhoneMatch, boundaries, match_phone
from sdk._redaction._scoring import (
    SCORE_INTL_PHONE,
    SCORE_NAMED,
    SCORE_NATIONAL_PHONE,
    SCORE_OTHER_PHONE,
    SCORE_STRICT,
    SCORE_STRONG,
    SCORE_STRONG_ODD_GROUPING,
    SCORE_WEAK_CONVENTIONAL,
    Candidate,
)
from sdk._redaction._types import IdentifierType

__all__ = ["CHAIN_RE", "PhoneKey", "digit_candidates", "is_word_char"]

_T = IdentifierType

# One space, a dot, or a dash with optional spaces around it. Not ". ": that ends a sentence.
# (The text is folded first, so Unicode dashes and spaces arrive here as "-" and " ".)
_SEP: Final = r"(?: ?- ?|\.| )"
# Starting with a character set lets the regex engine skip ahead to candidates; that
# the chain stands alone as a word is checked afterwards (see ``_trimmed``).
_GROUP: Final = r"\(?\d+(?:\)\d*)?"  # 021, (09), (0)21
CHAIN_RE: Final = re.compile(
    rf"[+(\d](?:(?<=\+)\(?\d|(?<=\()\d|(?<=\d))\d*(?:\)\d*)?(?:{_SEP}{_GROUP})*", re.ASCII
)
_DIGITS_RE: Final = re.compile(r"\d+", re.ASCII)
_PLAIN_SEPS: Final = frozenset({" ", "-", " - "})

_Check = Callable[[str], bool]
PhoneKey = tuple[str, tuple[int, ...], bool, bool]
"""A run as ``match_phone`` judges it: digits, grouping, after "+", after "(" (regions are per scan)."""
_STRONG: Final = frozenset({_T.AU_IHI, _T.CARD, _T.AU_ABN})
_WEAK_GROUPINGS: Final = MappingProxyType(
    {
        _T.US_SSN: frozenset({(3, 2, 4)}),
        _T.UK_NHS: frozenset({(3, 3, 4)}),
        _T.AU_MEDICARE: frozenset({(4, 5, 1), (4, 5, 1, 1), (4, 5, 2)}),
        _T.AU_TFN: frozenset({(3, 3, 3), (3, 3, 2)}),
        _T.NZ_IRD: frozenset({(2, 3, 3), (3, 3, 3)}),
    }
)
_STRONG_GROUPINGS: Final = MappingProxyType({_T.AU_ABN: (2, 3, 3, 3), _T.AU_IHI: (4, 4, 4, 4)})
# What a run of one length is checked for: type, check, score if strong (else 0), weak groupings, is NHS.
_Spec = tuple[IdentifierType, _Check, int, frozenset[tuple[int, ...]], bool]


def _specs(*checks: tuple[IdentifierType, _Check]) -> tuple[_Spec, ...]:
    return tuple(
        (
            kind,
            check,
            SCORE_STRONG[kind] if kind in _STRONG else 0,
            _WEAK_GROUPINGS.get(kind, frozenset()),
            kind is _T.UK_NHS,
        )
        for kind, check in checks
    )


# Checks by number of digits, surest first: a run is checked only for the types of its length.
_BY_LENGTH: Final[MappingProxyType[int, tuple[_Spec, ...]]] = MappingProxyType(
    {
        8: _specs((_T.AU_TFN, _checks.is_tfn), (_T.NZ_IRD, _checks.is_ird)),
        9: _specs((_T.US_SSN, _checks.is_ssn), (_T.AU_TFN, _checks.is_tfn), (_T.NZ_IRD, _checks.is_ird)),
        10: _specs((_T.UK_NHS, _checks.is_nhs), (_T.AU_MEDICARE, _checks.is_medicare)),
        11: _specs((_T.AU_ABN, _checks.is_abn), (_T.AU_MEDICARE, _checks.is_medicare)),
        **{n: _specs((_T.CARD, _checks.is_card)) for n in range(12, 20) if n != 16},
        16: _specs((_T.AU_IHI, _checks.is_ihi), (_T.CARD, _checks.is_card)),
    }
)
_MIN_DIGITS: Final = 7  # the shortest phone number; identifiers start at eight
_MAX_DIGITS: Final = 19  # the longest card
_MAX_PHONE_DIGITS: Final = 15  # E.164
# No number is written in more than seven groups ("+33 6 12 34 56 78" has six); the cap
# keeps a 100 KB table of single digits from costing seconds.
_MAX_GROUPS: Final = 7


def is_word_char(char: str) -> bool:
    """Return whether ``char`` is what ASCII regexes call ``\\w``."""
    return char.isascii() and (char.isalnum() or char == "_")


class _Chain:
    """One chain's digit groups and what lies between them, shared by all of its runs."""

    __slots__ = ("plain_seps", "seps", "sizes", "spans")

    def __init__(self, spans: list[tuple[int, int]], seps: list[str]) -> None:
        self.spans, self.seps = spans, seps
        self.sizes = tuple(end - start for start, end in spans)
        self.plain_seps = [sep in _PLAIN_SEPS for sep in seps]

    def neighbours(self, i: int, j: int) -> tuple[tuple[int, int], ...]:
        """Groups joined to groups ``i`` to ``j`` the way those are joined to each other.

        A run cut out of a longer, uniformly separated chain ("54 011 524 494"
        holds "011 524 494") is not written in its own grouping, unless the
        groups it is joined to belong to another identifier ("021 123 4567 772
        104 318" is a phone number and a TFN). Which they do is settled with the
        overlaps; asking then, rather than dropping the run now, keeps a second
        pass over the redacted text, where the neighbour is a marker, in
        agreement with the first.
        """
        seps = self.seps
        inner = set(seps[i:j])
        found = []
        if i > 0 and seps[i - 1] in inner:
            found.append(self.spans[i - 1])
        if j + 1 < len(self.spans) and seps[j] in inner:
            found.append(self.spans[j + 1])
        return tuple(found)


def digit_candidates(
    text: str,
    chain: re.Match[str],
    context: ContextReader,
    regions: tuple[str, ...],
    found: list[Candidate],
    memo: dict[PhoneKey, PhoneMatch | None],
) -> None:
    """Append to ``found`` the candidates in one chain found by :data:`CHAIN_RE`.

    Every contiguous run of up to seven of the chain's groups, seven to
    nineteen digits long, is checked for the identifier types of its length
    and, if dialable, as a phone number. (One flat loop, appending rather than
    yielding, with no object per run: at a hundred runs per number-dense text
    the bookkeeping cost more than the checks.) The sentence's context words
    are read only for a run that needs them: most runs are ruled out first by
    their length, their grouping or a check digit, which costs less than
    reading the sentence.
    """
    spans = _trimmed(text, chain)
    if not spans or spans[-1][1] - spans[0][0] < _MIN_DIGITS:
        return
    count = len(spans)
    words = [text[start:end] for start, end in spans]
    shape = _Chain(spans, [text[spans[k][1] : spans[k + 1][0]] for k in range(count - 1)])
    sizes, plain_seps = shape.sizes, shape.plain_seps
    sentence = Sentence(context, spans[0][0])  # a chain never crosses a sentence end
    plus = spans[0][0] > 0 and text[spans[0][0] - 1] == "+"
    size_of_text = len(text)
    international_until = -1
    for i in range(count):
        start = spans[i][0]
        # "(09) 379 0000": an area code in brackets, part of the number. A bracket that opens
        # before the number and closes after it ("(021 123 4567)") only wraps it, like a quote.
        first_end = spans[i][1]
        paren = (
            start > 0
            and text[start - 1] == "("
            and first_end < size_of_text
            and text[first_end] == ")"
            and i + 1 < count
        )
        marked = (plus and i == 0) or paren or words[i][0] == "0"
        any_run = False
        dialable: list[tuple[int, str, tuple[int, ...]]] = []
        digits = ""
        plain = True
        for j in range(i, min(count, i + _MAX_GROUPS)):
            digits += words[j]
            size = len(digits)
            if size > _MAX_DIGITS:
                break
            if j > i and not plain_seps[j - 1]:
                plain = False
            if size < _MIN_DIGITS:
                continue
            any_run = True
            groups = sizes[i : j + 1]
            # Dialable shapes only: international, bracketed, trunk 0, or North American.
            if size <= _MAX_PHONE_DIGITS and (
                marked or (size == 10 and digits[0] != "1") or (size == 11 and digits[0] == "1")
            ):
                dialable.append((j, digits, groups))
            specs = _BY_LENGTH.get(size)
            if specs is not None:
                _identifiers(sentence, shape, i, j, digits, plain, groups, specs, found)
        if not any_run or start < international_until or not dialable:
            continue
        # After an invalid "+..." start, a national number further along stands only if
        # the group before it belongs to another finding: the rest of "+1 011-856-6795"
        # is not "011 856 6795". (After a valid one, the chain reads as if it began anew,
        # as it does in a second pass once the international number is masked.)
        after = spans[i - 1] if plus and i > 0 and international_until < 0 else None
        # Likewise "00" is an international prefix mid-chain only if the group before it
        # is someone else's ("3437 0053 2279 297" is a card, not +53 ...).
        lead = spans[i - 1] if i > 0 else None
        phone_end = _phones(
            text,
            sentence,
            shape,
            i,
            dialable,
            found,
            plus=plus and i == 0,
            paren=paren,
            marked=marked,
            lead=lead,
            after=after,
            regions=regions,
            memo=memo,
        )
        if phone_end is not None:
            international_until = max(international_until, phone_end)


def _unclosed(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` opens more brackets than it closes."""
    return text.count("(", start, end) > text.count(")", start, end)


def _trimmed(text: str, chain: re.Match[str]) -> list[tuple[int, int]]:
    """The chain's digit groups, without a first or last one glued to a word ("ID123", "42nd")."""
    spans = [match.span() for match in _DIGITS_RE.finditer(text, chain.start(), chain.end())]
    # Only the character touching the digits counts, so that a second pass, where a
    # word before "(" or "+" may have become a marker, reads the chain the same way.
    if spans and spans[0][0] > 0 and is_word_char(text[spans[0][0] - 1]):
        spans.pop(0)
    if spans and spans[-1][1] < len(text) and is_word_char(text[spans[-1][1]]):
        spans.pop()
    return spans


def _strong_conventional(kind: IdentifierType, groups: tuple[int, ...]) -> bool:
    if len(groups) == 1:
        return True
    expected = _STRONG_GROUPINGS.get(kind)
    if expected is not None:
        return groups == expected
    # Cards: fours with a shorter tail (4-4-4-4, 4-4-4-4-3, 4-4-4-1), or Amex/Diners 4-6-5 and 4-6-4.
    return all(size == 4 for size in groups[:-1]) or groups in ((4, 6, 5), (4, 6, 4))


def _identifiers(
    sentence: Sentence,
    shape: _Chain,
    i: int,
    j: int,
    digits: str,
    plain: bool,
    groups: tuple[int, ...],
    specs: tuple[_Spec, ...],
    found: list[Candidate],
) -> None:
    """Append the identifiers groups ``i`` to ``j`` (``digits``) pass the checks of.

    ``sentence.named``: the types its sentence names, plus a strict policy's;
    ``sentence.said``: those its words name. A strict policy's types are taken
    without the words in any grouping, but below every structural evidence of
    another type (``_scoring``), so strict only adds to what is masked; and
    unlike a context word, the policy does not vouch for a run cut out of a
    longer, uniformly grouped number ("123 456 789 012" holds no SSN).
    """
    start, end = shape.spans[i][0], shape.spans[j][1]
    for kind, check, strong, weak_groupings, nhs in specs:
        if strong:
            if not check(digits):
                continue
            if plain and _strong_conventional(kind, groups):
                score = strong
            elif kind in sentence.named:
                score = SCORE_NAMED
            else:
                score = SCORE_STRONG_ODD_GROUPING
            found.append(Candidate(kind, start, end, score))
            continue
        # A weak type counts only if its sentence names it (or a strict policy does) or it is
        # conventionally grouped; each way it must pass its check. Cheapest first: grouping,
        # check, sentence. NHS numbers are allocated from 3xx: a 3-3-4 run with a leading 0 is
        # a phone number far more often than a Scottish CHI number.
        if plain and groups in weak_groupings and not (nhs and digits[0] == "0"):
            if check(digits):
                if kind in sentence.said:
                    found.append(Candidate(kind, start, end, SCORE_NAMED))
                else:  # taken without context words already; strict changes nothing here
                    found.append(Candidate(kind, start, end, SCORE_WEAK_CONVENTIONAL, shape.neighbours(i, j)))
        elif kind in sentence.named and check(digits):
            if kind in sentence.said:
                found.append(Candidate(kind, start, end, SCORE_NAMED))
            else:  # strict, in no grouping of its own
                found.append(Candidate(kind, start, end, SCORE_STRICT, shape.neighbours(i, j)))


def _phones(
    text: str,
    sentence: Sentence,
    shape: _Chain,
    i: int,
    dialable: list[tuple[int, str, tuple[int, ...]]],
    found: list[Candidate],
    *,
    plus: bool,
    paren: bool,
    marked: bool,
    lead: tuple[int, int] | None,
    after: tuple[int, int] | None,
    regions: tuple[str, ...],
    memo: dict[PhoneKey, PhoneMatch | None],
) -> int | None:
    """Append every valid phone number among the ``dialable`` runs from group ``i``, longest first.

    Shorter ones are appended too: if the longest loses its span to an identifier,
    a shorter one may still stand, and a second pass would find it. Returns the
    end of a valid international number, if one was found. ``marked``: the run
    starts after "+", inside brackets or with a trunk 0.
    """
    start = shape.spans[i][0]
    for j, digits, groups in reversed(dialable):  # n <= 15 and international, (area), trunk 0 or NANP
        if not marked and _T.PHONE not in sentence.named:
            if len(groups) == 1:
                continue  # a bare North American-length run needs "call", "phone"... to be a phone number
            if not boundaries(groups) <= NANP_CUTS:
                # It could only be taken in the North American grouping (3-3-4) or a
                # coarser one: rule out the others before libphonenumber is asked.
                continue
        # A caller's number stands on many records of one context, and validating it costs
        # 10-40 us: within one scan (a text, or a batch of them) each shape is judged once.
        # Never across scans: customer data outlives no conversation (S5), not even here.
        key = (digits, groups, plus, paren)
        if key in memo:
            match = memo[key]
        else:
            match = memo[key] = match_phone(digits, groups, plus=plus, paren=paren, regions=regions)
        if match is None:
            continue
        end = shape.spans[j][1]
        span_start = start - 1 if (plus or paren) else start
        if end < len(text) and text[end] == ")" and _unclosed(text, span_start, end):
            end += 1
        if match.international:
            score = SCORE_INTL_PHONE
        elif paren or (match.exact and not match.north_american):
            score = SCORE_NATIONAL_PHONE
        elif (match.conventional and not (match.north_american and len(groups) == 1)) or (
            _T.PHONE in sentence.named
        ):
            # A bare ten-digit number is as likely an order number as a North American
            # phone, and "2024-05-15 10" splits inside every real grouping: both need
            # the sentence to say "call" or "phone".
            score = SCORE_OTHER_PHONE
        else:
            continue
        # Like a weak identifier, a national number cut out of a longer, uniformly
        # separated chain stands only if its neighbours are someone else's.
        neighbours: tuple[tuple[int, int], ...]
        if match.international:
            neighbours = (lead,) if lead is not None and not plus else ()
        else:
            neighbours = shape.neighbours(i, j)
            if after is not None and after not in neighbours:
                neighbours = (after, *neighbours)
        found.append(Candidate(_T.PHONE, span_start, end, score, neighbours))
        if match.international and not neighbours:
            return end  # a shorter run inside a valid international number is never a number of its own
    return None
