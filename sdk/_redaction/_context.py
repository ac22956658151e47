"""Context words: the text's own say on what a weakly checked number is.

A mod-11 check passes for about one random number in eleven, and a US SSN has
no check digit at all, so a bare nine- or ten-digit number cannot be told from
an order or ticket number by arithmetic alone. Such numbers are taken as
identifiers only when written in their conventional grouping (``123-45-6789``)
or when the same sentence names them ("my TFN is 123456782").

The sentence, not a window of characters, is the unit: masking changes the
length of the text, and a character window would make a second pass over
redacted text see different context than the first. Our own replacement
markers and email addresses are blanked before the words are searched, so
``[redacted UK NHS number]`` or ``nhs.help@example.org`` never vouch for a
neighbouring number.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from types import MappingProxyType
from typing import Final

from sdk._redaction._types import IdentifierType

__all__ = ["EMAIL_RE", "MARKER_RE", "ContextReader"]

EMAIL_RE: Final = re.compile(
    r"(?<![\w.+%'-])[\w.+%'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}(?![\w-])"
)
"""An email address as people type them; deliberately looser than RFC 5322."""

MARKER_RE: Final = re.compile(r"\[(?:redacted [^\[\]\n]{1,40}|[^\[\]\n]{1,40} ending [0-9A-Za-z.@-]{1,4})\]")
"""What :func:`redact` writes in place of an identifier."""

_T = IdentifierType
# Context words, matched as whole words in any case; pairs are adjacent words.
_WORD_KINDS: Final = MappingProxyType(
    {
        **dict.fromkeys(("ird", "gst"), _T.NZ_IRD),
        "tfn": _T.AU_TFN,
        "ssn": _T.US_SSN,
        **dict.fromkeys(("nhs", "chi"), _T.UK_NHS),
        "medicare": _T.AU_MEDICARE,
        "abn": _T.AU_ABN,
        "ihi": _T.AU_IHI,
        "nhi": _T.NZ_NHI,
        **dict.fromkeys(("licence", "license", "dl", "driver", "drivers", "driving"), _T.NZ_DRIVER_LICENCE),
        "nino": _T.UK_NINO,
        **dict.fromkeys(
            ("phone", "ph", "tel", "telephone", "mobile", "mob", "cell", "call", "ring", "landline", "text",
             "sms", "whatsapp", "fax"),
            _T.PHONE,
        ),
    }
)  # fmt: skip
_PAIR_KINDS: Final = MappingProxyType(
    {
        ("inland", "revenue"): _T.NZ_IRD,
        ("tax", "file"): _T.AU_TFN,
        ("social", "security"): _T.US_SSN,
        ("business", "number"): _T.AU_ABN,
        ("health", "identifier"): _T.AU_IHI,
        ("healthcare", "identifier"): _T.AU_IHI,
        ("health", "index"): _T.NZ_NHI,
        ("national", "insurance"): _T.UK_NINO,
        ("ni", "number"): _T.UK_NINO,
        ("ni", "no"): _T.UK_NINO,
    }
)
_WORD_RE: Final = re.compile(r"[a-z]+")
_CONTEXT_WORDS: Final = frozenset(_WORD_KINDS)
_PAIR_FIRSTS: Final = frozenset(first for first, _ in _PAIR_KINDS)
_SENTENCE_END: Final = re.compile(r"[.!?][ \t\r\n]|\n")


class ContextReader:
    """Answers "does this candidate's sentence name its type?" for one text, caching per sentence."""

    __slots__ = ("_cache", "_ends", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._ends: list[int] | None = None
        self._cache: dict[int, frozenset[IdentifierType]] = {}

    def names(self, kind: IdentifierType, start: int, end: int) -> bool:
        """Return whether the sentence holding ``text[start:end]`` has a context word for ``kind``.

        The sentence is the one ``start`` falls in; a candidate never spans a
        sentence end, because digit runs and words stop at ". " and newlines.
        """
        return kind in self.named_at(start)

    def named_at(self, position: int) -> frozenset[IdentifierType]:
        """Return the types that the sentence holding ``position`` names."""
        if self._ends is None:
            # A sentence ends at a newline, or at . ! ? followed by white space.
            self._ends = [match.end() for match in _SENTENCE_END.finditer(self._text)]
        index = bisect_right(self._ends, position)
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        left = self._ends[index - 1] if index else 0
        right = self._ends[index] if index < len(self._ends) else len(self._text)
        sentence = self._text[left:right]
        if "@" in sentence:
            sentence = EMAIL_RE.sub(" ", sentence)
        if "[" in sentence:
            sentence = MARKER_RE.sub(" ", sentence)
        words = _WORD_RE.findall(sentence.lower())
        named = {_WORD_KINDS[word] for word in _CONTEXT_WORDS.intersection(words)}
        if not _PAIR_FIRSTS.isdisjoint(words):
            named.update(_PAIR_KINDS[pair] for pair in itertools.pairwise(words) if pair in _PAIR_KINDS)
        result = frozenset(named)
        self._cache[index] = result
        return result
