"""Runs of digit groups: cards, IHI, ABN, TFN, IRD, SSN, NHS, Medicare and phone numbers.

One regex pass finds chains of digit groups joined by a space, a dot or a
dash ("4242 4242 4242 4242", "+64 21 123 4567", "(09) 379 0000"). Every
contiguous sub-run of a chain's groups is checked, so "IRD 49-091-850 4242
4242 4242 4242" yields both numbers although one space separates them; runs
are checked only for the types of their length (worked out once per chain
shape, ``_runs``), and only those that pass a check become candidates
(scores in ``_scoring``).
"""

from __future__ import annotations

import re
from typing import Final

from sdk._redaction._context import ContextReader
from sdk._redaction._phones import PhoneMatch, match_phone
from sdk._redaction._runs import (
    NHS_CONVENTIONAL,
    PLANS,
    STRONG_ODD,
    STRONG_USUAL,
    WEAK_NAMED,
    Check,
    Plan,
    plan,
)
from sdk._redaction._scoring import (
    SCORE_INTL_PHONE,
    SCORE_NAMED,
    SCORE_NATIONAL_PHONE,
    SCORE_OTHER_PHONE,
    SCORE_STRICT,
    SCORE_STRONG_ODD_GROUPING,
    SCORE_WEAK_CONVENTIONAL,
    Candidate,
)
from sdk._redaction._types import IdentifierType

__all__ = ["CHAIN_RE", "Dialable", "PhoneKey", "digit_candidates", "is_word_char", "phone_candidates"]

_PHONE: Final = IdentifierType.PHONE
_NOTHING: Final[frozenset[IdentifierType]] = frozenset()

# One space, a dot, or a dash with optional spaces around it. Not ". ": that ends a sentence.
# (The text is folded first, so Unicode dashes and spaces arrive here as "-" and " ".)
_SEP: Final = r"(?: ?- ?|\.| )"
# Starting with a character set lets the regex engine skip ahead to candidates; that
# the chain stands alone as a word is checked afterwards (see ``_spans``).
_GROUP: Final = r"\(?\d+(?:\)\d*)?"  # 021, (09), (0)21
CHAIN_RE: Final = re.compile(
    rf"[+(\d](?:(?<=\+)\(?\d|(?<=\()\d|(?<=\d))\d*(?:\)\d*)?(?:{_SEP}{_GROUP})*", re.ASCII
)
_ASCII_DIGITS: Final = frozenset("0123456789")
_ASCII_WORD: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# A chain as its shape (each digit "d") and as its digits: what ``_runs`` plans by, and what is checked.
_SHAPE: Final = str.maketrans(dict.fromkeys("0123456789", "d"))
_DIGITS_ONLY: Final = str.maketrans(dict.fromkeys("+() -."))

PhoneKey = tuple[str, tuple[int, ...], bool, bool]
"""A run as ``match_phone`` judges it: digits, grouping, after "+", after "(" (regions are per scan)."""


def is_word_char(char: str) -> bool:
    """Return whether ``char`` is what ASCII regexes call ``\\w``."""
    return char in _ASCII_WORD


def digit_candidates(
    text: str,
    chain: re.Match[str],
    context: ContextReader,
    regions: tuple[str, ...],
    found: list[Candidate],
    memo: dict[PhoneKey, PhoneMatch | None],
    later: list[Dialable] | None = None,
) -> None:
    """Append to ``found`` the candidates in one chain found by :data:`CHAIN_RE`.

    Every contiguous run of up to seven of the chain's groups, seven to
    nineteen digits long, is checked for the identifier types of its length
    and, if dialable, as a phone number. Which runs those are, and where
    each would stand, follows from the chain's shape (``_runs``): here the
    chain is read as its shape and its digits, two C-level translations, and
    what is left is the checks. The sentence's context words are read when a
    run first needs them: a chain of cards in their usual grouping never does.
    With ``later``, a chain's dialable runs are put there instead of
    validated (see :func:`phone_candidates`).
    """
    base, end = chain.span()
    written = chain.group()
    # Only the character touching the digits counts, so that a second pass, where a
    # word before "(" or "+" may have become a marker, reads the chain the same way.
    trim_first = base > 0 and text[base - 1] in _ASCII_WORD and written[0] in _ASCII_DIGITS
    trim_last = end < len(text) and text[end] in _ASCII_WORD and written[-1] in _ASCII_DIGITS
    key = (written.translate(_SHAPE), trim_first, trim_last)
    digits = written.translate(_DIGITS_ONLY)
    runs = PLANS.get(key) or plan(*key, digits)
    # The sentence's words, read when a run first needs them; a chain never crosses a
    # sentence end, so any of its positions is in its sentence.
    sentence: _Sentence = None
    if runs.checks:
        sentence = _identifiers(base, digits, runs.checks, context, found)
    if runs.starts:
        if later is not None:
            later.append((base, end, digits, runs, sentence))
        else:
            _phones(base, digits, runs, context, sentence, regions, found, memo)


_Sentence = tuple[frozenset[IdentifierType], frozenset[IdentifierType]] | None
"""A sentence's (said, named) types once read: see ``ContextReader.sentence_at``."""
Dialable = tuple[int, int, str, Plan, _Sentence]
"""A chain whose phone numbers are not validated yet: its span, digits, plan, sentence if read."""


def phone_candidates(
    chains: list[Dialable],
    context: ContextReader,
    regions: tuple[str, ...],
    found: list[Candidate],
    memo: dict[PhoneKey, PhoneMatch | None],
) -> None:
    """Append the phone numbers of ``chains``, put off by :func:`digit_candidates`, to ``found``.

    Exactly those it would have appended then: a chain's phone numbers
    depend on the chain and its sentence only, never on other candidates.
    """
    for base, _, digits, runs, sentence in chains:
        _phones(base, digits, runs, context, sentence, regions, found, memo)


def _identifiers(
    base: int,
    digits_all: str,
    checks: tuple[Check, ...],
    context: ContextReader,
    found: list[Candidate],
) -> _Sentence:
    """Append the identifiers a chain's runs pass the checks of; return the sentence if it was read.

    ``named``: the types the sentence names, plus a strict policy's; ``said``:
    those its words name. A strict policy's types are taken without the words
    in any grouping, but below every structural evidence of another type
    (``_scoring``), so strict only adds to what is masked; and unlike a
    context word, the policy does not vouch for a run cut out of a longer,
    uniformly grouped number ("123 456 789 012" holds no SSN). The sentence
    is read only when a run needs it: a chain of strong types in their usual
    grouping (most cards) never does.
    """
    sentence: _Sentence = None
    said = named = _NOTHING
    for start_at, end_at, offset, stop, entries, neighbours in checks:
        digits = digits_all[offset:stop]
        for kind, check, how, strong in entries:
            if how == STRONG_USUAL:
                if check(digits):
                    found.append(Candidate(kind, base + start_at, base + end_at, strong))
                continue
            if how == WEAK_NAMED or (how == NHS_CONVENTIONAL and digits[0] == "0"):
                # Only a sentence naming the type (or a strict policy) vouches for this grouping.
                if sentence is None:
                    sentence = said, named = context.sentence_at(base)
                if kind not in named or not check(digits):
                    continue
                if kind in said:
                    found.append(Candidate(kind, base + start_at, base + end_at, SCORE_NAMED))
                else:  # strict, in no grouping of its own
                    around = _at(base, neighbours)
                    found.append(Candidate(kind, base + start_at, base + end_at, SCORE_STRICT, around))
                continue
            if not check(digits):
                continue
            if sentence is None:
                sentence = said, named = context.sentence_at(base)
            if how == STRONG_ODD:
                score = SCORE_NAMED if kind in named else SCORE_STRONG_ODD_GROUPING
                found.append(Candidate(kind, base + start_at, base + end_at, score))
            # A weak type in its conventional grouping: taken without context words already
            # (strict changes nothing here), surer when they are there. NHS numbers are
            # allocated from 3xx: a 3-3-4 run with a leading 0 is a phone number far more
            # often than a Scottish CHI number, and needs the words like any other grouping.
            elif kind in said:
                found.append(Candidate(kind, base + start_at, base + end_at, SCORE_NAMED))
            else:
                around = _at(base, neighbours)
                found.append(Candidate(kind, base + start_at, base + end_at, SCORE_WEAK_CONVENTIONAL, around))
    return sentence


def _at(base: int, spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple([(base + start, base + end) for start, end in spans])


def _phones(
    base: int,
    digits_all: str,
    runs: Plan,
    context: ContextReader,
    sentence: _Sentence,
    regions: tuple[str, ...],
    found: list[Candidate],
    memo: dict[PhoneKey, PhoneMatch | None],
) -> None:
    """Append every valid phone number among a chain's dialable runs, longest first from each group.

    Shorter ones are appended too: if the longest loses its span to an identifier,
    a shorter one may still stand, and a second pass would find it. A valid
    international number ends the search inside it.
    """
    named = sentence[1] if sentence is not None else None
    international_until = -1
    for start, offset, i, plus, paren, before, dial_marked, dial_one, dial_other in runs.starts:
        if start < international_until:
            continue
        lead_digit = digits_all[offset]
        marked = plus or paren or lead_digit == "0"  # after "+", inside brackets or with a trunk 0
        dialable = dial_marked if marked else dial_one if lead_digit == "1" else dial_other
        if not dialable:
            continue
        # After an invalid "+..." start, a national number further along stands only if
        # the group before it belongs to another finding: the rest of "+1 011-856-6795"
        # is not "011 856 6795". (After a valid one, the chain reads as if it began anew,
        # as it does in a second pass once the international number is masked.)
        after = before if runs.plus and i > 0 and international_until < 0 else None
        for stop, groups, single, nanp_cuts, span_start, end, neighbour_spans in dialable:
            # A bare North American-length run needs "call", "phone"... to be a phone number;
            # so does one in a grouping other than North America's (3-3-4) or a coarser one,
            # since only there could it be taken: rule those out before libphonenumber is asked.
            if not marked and (single or not nanp_cuts):
                if named is None:
                    named = context.named_at(base)
                if _PHONE not in named:
                    continue
            digits = digits_all[offset:stop]
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
            if match.international:
                score = SCORE_INTL_PHONE
            elif paren or (match.exact and not match.north_american):
                score = SCORE_NATIONAL_PHONE
            elif (match.conventional and not (match.north_american and single)) or (
                _PHONE in (named if named is not None else context.named_at(base))
            ):
                # A bare ten-digit number is as likely an order number as a North American
                # phone, and "2024-05-15 10" splits inside every real grouping: both need
                # the sentence to say "call" or "phone".
                score = SCORE_OTHER_PHONE
            else:
                continue
            # Like a weak identifier, a national number cut out of a longer, uniformly
            # separated chain stands only if its neighbours are someone else's. Likewise
            # "00" is an international prefix mid-chain only if the group before it is
            # someone else's ("3437 0053 2279 297" is a card, not +53 ...).
            neighbours: tuple[tuple[int, int], ...]
            if match.international:
                neighbours = (before,) if before is not None and not plus else ()
            else:
                neighbours = neighbour_spans
                if after is not None and after not in neighbours:
                    neighbours = (after, *neighbours)
            found.append(Candidate(_PHONE, base + span_start, base + end, score, _at(base, neighbours)))
            if match.international and not neighbours:
                # A shorter run inside a valid international number is never a number of its own.
                international_until = max(international_until, end)
                break
