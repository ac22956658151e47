"""What a detector reports, and how sure each kind of evidence makes it.

How sure a finding is decides overlaps (one span, one type), as a score:

=====  =====================================================================
score  when
=====  =====================================================================
100    email address; IBAN (mod 97 plus the country's registered shape)
95     phone number in international form (``+64 ...``, ``0064 ...``)
90     AU IHI (800360 prefix and Luhn) in its usual grouping or unspaced
85     card (network prefix, length, Luhn) in its usual grouping or unspaced
80     AU ABN (mod 89) as ``51 824 753 556`` or unspaced
75     NZ NHI and UK NI number written in capitals
70     any identifier whose sentence names it ("my TFN is ...")
65     national phone number in its country's grouping, or with ``(area)``
55     card, IHI or ABN in an unusual grouping
50     IRD, TFN, SSN, NHS or Medicare in its conventional grouping
48     a type the tenant's policy is strict on, outside its conventional
       grouping, in a sentence that does not name it: below every structural
       evidence of another type (a phone number in its own grouping or an
       oddly grouped card stays one), above a bare phone number (an unspaced
       ``049091850`` is an IRD number to a strict policy)
45     other valid phone numbers: unspaced, coarser than usual (``021 1234567``),
       North American without brackets, or in any grouping when the sentence
       says "call", "phone", "mobile"...
=====  =====================================================================

Weak identifiers (a mod-11 check, or none for the SSN and the driver
licence) are not taken at all when bare and unnamed: one random nine-digit
number in eleven passes the IRD check. A North American grouping scores below
a UK NHS number in its own 3-3-4 grouping because a third of NHS numbers are
also dialable US numbers and masking a phone number is the safer mistake.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, NamedTuple

from sdk._redaction._types import IdentifierType

__all__ = [
    "SCORE_CAPITALS",
    "SCORE_INTL_PHONE",
    "SCORE_NAMED",
    "SCORE_NATIONAL_PHONE",
    "SCORE_OTHER_PHONE",
    "SCORE_STRONG",
    "SCORE_STRONG_ODD_GROUPING",
    "SCORE_STRICT",
    "SCORE_STRUCTURAL",
    "SCORE_WEAK_CONVENTIONAL",
    "Candidate",
]

_T = IdentifierType

SCORE_STRUCTURAL: Final = 100
SCORE_INTL_PHONE: Final = 95
SCORE_STRONG: Final = MappingProxyType({_T.AU_IHI: 90, _T.CARD: 85, _T.AU_ABN: 80})
SCORE_CAPITALS: Final = 75
SCORE_NAMED: Final = 70
SCORE_NATIONAL_PHONE: Final = 65
SCORE_STRONG_ODD_GROUPING: Final = 55
SCORE_WEAK_CONVENTIONAL: Final = 50
SCORE_STRICT: Final = 48
SCORE_OTHER_PHONE: Final = 45


class Candidate(NamedTuple):
    """A validated identifier with how sure the engine is of its type.

    A named tuple rather than a frozen dataclass: a number-dense text makes
    dozens, and a frozen dataclass sets each field through ``object.__setattr__``.
    """

    kind: IdentifierType
    start: int
    end: int
    score: int
    neighbours: tuple[tuple[int, int], ...] = ()
    """Digit groups joined to this run the way its own groups are joined.

    The run counts only if each of them is claimed by another finding (see
    ``_runs._neighbours``); otherwise it is a slice of some longer number.
    """
    void: bool = False
    """The span has an identifier's exact shape but fails its check (an IBAN with
    wrong check digits): it claims the span, so that no digit run inside it is
    taken for something else, and is then dropped."""
