"""Which runs of a digit chain are checked for what: worked out once per chain shape.

A chain's runs are the contiguous sub-runs of its groups that are seven to
nineteen digits long and span at most seven groups; which identifier types a
run is checked for, whether it is written in a type's conventional grouping,
which of its neighbour groups it needs claimed by others, whether it is
dialable and where a phone number there would stand (brackets included) all
follow from the chain's shape alone: its text with every digit written "d"
(``dddd-dddd-dddd-dddd``, ``(dd) ddd dddd``), and whether its first or last
group is glued to a word. Shapes repeat, so the answer is worked out once per
shape and the per-chain work left is taking the digits and running the
checks (``_digits``).

A shape holds separators (spaces, dashes, dots, brackets, "+") and no digit,
so the cache keeps nothing of any text's content (S5); it is bounded in
entries and in the length of a shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from types import MappingProxyType
from typing import Final, NamedTuple

from sdk._redaction import _checks
from sdk._redaction._phones import NANP_CUTS, boundaries
from sdk._redaction._scoring import SCORE_STRONG
from sdk._redaction._types import IdentifierType

__all__ = [
    "MIN_DIGITS",
    "PLANS",
    "NHS_CONVENTIONAL",
    "STRONG_ODD",
    "STRONG_USUAL",
    "WEAK_CONVENTIONAL",
    "WEAK_NAMED",
    "Check",
    "Dial",
    "Plan",
    "Start",
    "plan",
]

_T = IdentifierType
_PLAIN_SEPS: Final = frozenset({" ", "-", " - "})
_GROUP_RE: Final = re.compile("d+")
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
_Validator = Callable[[str], bool]
# Checks by number of digits, surest first: a run is checked only for the types of its length.
# Cards start at thirteen: no network issues twelve-digit cards any more (``card_network``
# names none), and twelve is the commonest order-number length.
_BY_LENGTH: Final[MappingProxyType[int, tuple[tuple[IdentifierType, _Validator], ...]]] = MappingProxyType(
    {
        8: ((_T.AU_TFN, _checks.is_tfn), (_T.NZ_IRD, _checks.is_ird)),
        9: ((_T.US_SSN, _checks.is_ssn), (_T.AU_TFN, _checks.is_tfn), (_T.NZ_IRD, _checks.is_ird)),
        10: ((_T.UK_NHS, _checks.is_nhs), (_T.AU_MEDICARE, _checks.is_medicare)),
        11: ((_T.AU_ABN, _checks.is_abn), (_T.AU_MEDICARE, _checks.is_medicare)),
        **{n: ((_T.CARD, _checks.is_card),) for n in range(_checks.MIN_CARD_DIGITS, 20) if n != 16},
        16: ((_T.AU_IHI, _checks.is_ihi), (_T.CARD, _checks.is_card)),
    }
)
MIN_DIGITS: Final = 7  # the shortest phone number; identifiers start at eight
_MAX_DIGITS: Final = 19  # the longest card
_MAX_PHONE_DIGITS: Final = 15  # E.164
# No number is written in more than seven groups ("+33 6 12 34 56 78" has six); the cap
# keeps a 100 KB table of single digits from costing seconds.
_MAX_GROUPS: Final = 7
# Longer shapes are worked out each time rather than kept (a table of digits is one long
# chain, and its shape would be a cache entry of its own).
_MAX_CACHED_CHARS: Final = 64
_MAX_CACHED_SHAPES: Final = 4096

# How a run is judged for one type (see ``_digits``): a strong type (IHI, card, ABN) in its usual
# grouping or not; a weak one in its conventional grouping (an NHS one apart: it is not one with a
# leading 0), or in another, which only a sentence naming the type (or a strict policy) vouches for.
STRONG_USUAL: Final = 0
STRONG_ODD: Final = 1
WEAK_CONVENTIONAL: Final = 2
NHS_CONVENTIONAL: Final = 3
WEAK_NAMED: Final = 4

Entry = tuple[IdentifierType, _Validator, int, int]
"""A type a run is checked for: type, check, how it is judged, score if strong (else 0)."""
Span = tuple[int, int]
Check = tuple[int, int, int, int, tuple[Entry, ...], tuple[Span, ...]]
"""A run checked for identifiers: its span, its digits' span in the chain's digits, entries and
neighbour groups (spans relative to the chain's start)."""
Dial = tuple[int, tuple[int, ...], bool, bool, int, int, tuple[Span, ...]]
"""A dialable run: end of its digits, groups, one group only, cut only where North America cuts,
the span a phone number there takes (brackets included), neighbour groups."""
Start = tuple[int, int, int, bool, bool, Span | None, tuple[Dial, ...], tuple[Dial, ...], tuple[Dial, ...]]
"""The dialable runs from one group: its start, its first digit's offset among the chain's digits,
its index, after "+", an area code in brackets, the group before it, then the runs longest first
when the run is marked (+, (area) or trunk 0), when its first digit is 1, and otherwise."""


class Plan(NamedTuple):
    """A chain shape's runs: those checked for identifiers, and the dialable ones by starting group."""

    checks: tuple[Check, ...]
    starts: tuple[Start, ...]
    plus: bool
    """The chain starts with "+"."""


_EMPTY: Final = Plan((), (), False)
PLANS: dict[tuple[str, bool, bool], Plan] = {}
"""Plans by (shape, first group glued, last group glued): read directly on the hot path."""


def plan(shape: str, trim_first: bool, trim_last: bool, digits: str) -> Plan:
    """The runs of a chain of ``shape`` (its text, each digit written "d") and ``digits``.

    ``trim_first``, ``trim_last``: its first or last group is glued to a word
    ("ID123", "42nd") and is no part of a number. A shape too long to keep
    (a table of digits) is planned for its own digits: only the dialable runs
    its first digits make dialable are worked out, as a shape's plan is used
    once there.
    """
    key = (shape, trim_first, trim_last)
    found = PLANS.get(key)
    if found is None:
        if len(shape) > _MAX_CACHED_CHARS:
            return _build(shape, trim_first, trim_last, digits)
        found = _build(shape, trim_first, trim_last, None)
        if len(PLANS) >= _MAX_CACHED_SHAPES:
            PLANS.clear()
        PLANS[key] = found
    return found


def _build(shape: str, trim_first: bool, trim_last: bool, digits: str | None) -> Plan:
    spans = [match.span() for match in _GROUP_RE.finditer(shape)]
    skipped = 0  # digits of a first group glued to a word: they stay among the chain's digits
    if trim_first and spans:
        skipped = spans[0][1] - spans[0][0]
        spans = spans[1:]
    if spans and trim_last:
        spans = spans[:-1]
    if not spans or spans[-1][1] - spans[0][0] < MIN_DIGITS:
        return _EMPTY
    count = len(spans)
    sizes = tuple(end - start for start, end in spans)
    offsets = [skipped]  # where each group's digits start among the chain's digits
    for size in sizes:
        offsets.append(offsets[-1] + size)
    seps = tuple(shape[spans[k][1] : spans[k + 1][0]] for k in range(count - 1))
    plus = spans[0][0] > 0 and shape[spans[0][0] - 1] == "+"
    checks: list[Check] = []
    starts: list[Start] = []
    for i in range(count):
        offset = offsets[i]
        last = min(count, i + _MAX_GROUPS)
        if offsets[last] - offset < MIN_DIGITS:
            continue  # no run from here is long enough
        start, first_end = spans[i]
        # "(09) 379 0000": an area code in brackets, part of the number. A bracket that opens
        # before the number and closes after it ("(021 123 4567)") only wraps it, like a quote.
        paren = i + 1 < count and start > 0 and shape[start - 1] == "(" and shape[first_end] == ")"
        plus_here = plus and i == 0
        span_start = start - 1 if (plus_here or paren) else start
        # With the digits known, only the runs that the first digit makes dialable.
        lead = digits[offset] if digits is not None and not (plus_here or paren) else None
        marked: list[Dial] = []  # the dialable runs, shortest first
        one: list[Dial] = []
        other: list[Dial] = []
        plain = True
        for j in range(i, last):
            size = offsets[j + 1] - offset
            if size > _MAX_DIGITS:
                break
            if plain and j > i and seps[j - 1] not in _PLAIN_SEPS:
                plain = False
            if size < MIN_DIGITS:
                continue
            groups = sizes[i : j + 1]
            neighbours = _neighbours(spans, seps, i, j)
            end = spans[j][1]
            if size <= _MAX_PHONE_DIGITS and (
                lead is None or lead == "0" or size == (11 if lead == "1" else 10)
            ):
                # A closing bracket the number opened is part of it: "(021 123 4567)" is not.
                closed = shape[end : end + 1] == ")" and _unclosed(shape, span_start, end)
                dial = (
                    offset + size,
                    groups,
                    j == i,
                    _nanp_cuts(groups),
                    span_start,
                    end + closed,
                    neighbours,
                )
                marked.append(dial)
                if size == 11:
                    one.append(dial)
                elif size == 10:
                    other.append(dial)
            specs = _BY_LENGTH.get(size)
            if specs is not None:
                entries = tuple([_entry(kind, check, plain, groups) for kind, check in specs])
                checks.append((start, end, offset, offset + size, entries, neighbours))
        if marked:
            marked.reverse()  # longest first
            one.reverse()
            other.reverse()
            before = spans[i - 1] if i > 0 else None
            starts.append(
                (start, offset, i, plus_here, paren, before, tuple(marked), tuple(one), tuple(other))
            )
    return Plan(tuple(checks), tuple(starts), plus)


@cache  # keyed by group sizes (never digits): a few hundred tuples at most
def _nanp_cuts(groups: tuple[int, ...]) -> bool:
    """Whether ``groups`` cut the digits only where North America's grouping does (or nowhere)."""
    return boundaries(groups) <= NANP_CUTS


def _unclosed(shape: str, start: int, end: int) -> bool:
    """Whether ``shape[start:end]`` opens more brackets than it closes."""
    return shape.count("(", start, end) > shape.count(")", start, end)


def _entry(kind: IdentifierType, check: _Validator, plain: bool, groups: tuple[int, ...]) -> Entry:
    if kind in _STRONG:
        usual = plain and _strong_conventional(kind, groups)
        return (kind, check, STRONG_USUAL if usual else STRONG_ODD, SCORE_STRONG[kind])
    if not (plain and groups in _WEAK_GROUPINGS[kind]):
        return (kind, check, WEAK_NAMED, 0)
    return (kind, check, NHS_CONVENTIONAL if kind is _T.UK_NHS else WEAK_CONVENTIONAL, 0)


def _strong_conventional(kind: IdentifierType, groups: tuple[int, ...]) -> bool:
    if len(groups) == 1:
        return True
    expected = _STRONG_GROUPINGS.get(kind)
    if expected is not None:
        return groups == expected
    # Cards: fours with a shorter tail (4-4-4-4, 4-4-4-4-3, 4-4-4-1), or Amex/Diners 4-6-5 and 4-6-4.
    return all(size == 4 for size in groups[:-1]) or groups in ((4, 6, 5), (4, 6, 4))


def _neighbours(spans: list[Span], seps: tuple[str, ...], i: int, j: int) -> tuple[Span, ...]:
    """Groups joined to groups ``i`` to ``j`` the way those are joined to each other.

    A run cut out of a longer, uniformly separated chain ("54 011 524 494"
    holds "011 524 494") is not written in its own grouping, unless the
    groups it is joined to belong to another identifier ("021 123 4567 772
    104 318" is a phone number and a TFN). Which they do is settled with the
    overlaps; asking then, rather than dropping the run now, keeps a second
    pass over the redacted text, where the neighbour is a marker, in
    agreement with the first.
    """
    if i == j:
        return ()  # one group: no separator of its own to be joined by
    inner = seps[i:j]
    before = i > 0 and seps[i - 1] in inner
    after = j + 1 < len(spans) and seps[j] in inner
    if before and after:
        return (spans[i - 1], spans[j + 1])
    if before:
        return (spans[i - 1],)
    if after:
        return (spans[j + 1],)
    return ()
