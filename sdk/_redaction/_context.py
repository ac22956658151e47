"""Context words: the text's own say on what a weakly checked number is.

A mod-11 check passes for about one random number in eleven, and a US SSN has
no check digit at all, so a bare nine- or ten-digit number cannot be told from
an order or ticket number by arithmetic alone. Such numbers are taken as
identifiers only when written in their conventional grouping (``123-45-6789``)
or when the same sentence names them ("my TFN is 123456782").

The sentence, not a window of characters, is the unit: masking changes the
length of the text, and a character window would make a second pass over
redacted text see different context than the first. A label stays with its
value: a dot after "No", "Lic", "Ref"... and a line break after a colon end
no sentence ("IRD no. 49091850"; "Driver licence:" with the number on the
next line). A tenant's strict policy makes every sentence count as naming its
types. Our own replacement markers and email addresses are blanked before the words are searched, so
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

__all__ = ["EMAIL_RE", "MARKER_RE", "ContextReader", "Sentence"]

EMAIL_RE: Final = re.compile(
    r"(?<![\w.+%-])[\w+%-][\w.+%'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}(?![\w-])"
)
"""An email address as people type them; deliberately looser than RFC 5322.

It does not start with an apostrophe or a dot: ``'jane@example.com'`` is an
address in quotes (``o'brien@example.com`` keeps its apostrophe)."""

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
        **dict.fromkeys(
            ("licence", "licences", "license", "licenses", "lic", "dl", "dln", "driver", "drivers",
             "driving"),
            _T.NZ_DRIVER_LICENCE,
        ),
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
# The words of an ASCII sentence without a regex: each byte that is not a letter becomes a
# space and each capital its small letter, then ``bytes.split`` cuts the words out (C speed;
# a quarter of what ``lower`` and ``findall`` cost). Non-ASCII text keeps the regex: its
# ``lower`` can turn a non-ASCII letter into an ASCII one (the Kelvin sign into "k").
_LETTERS_ONLY: Final = bytes(
    code + 32 if 65 <= code <= 90 else code if 97 <= code <= 122 else 32 for code in range(256)
)
_BYTE_WORD_KINDS: Final = MappingProxyType({word.encode(): kind for word, kind in _WORD_KINDS.items()})
_BYTE_CONTEXT_WORDS: Final = frozenset(_BYTE_WORD_KINDS)
_BYTE_PAIR_KINDS: Final = MappingProxyType(
    {(first.encode(), second.encode()): kind for (first, second), kind in _PAIR_KINDS.items()}
)
_BYTE_PAIR_FIRSTS: Final = frozenset(first for first, _ in _BYTE_PAIR_KINDS)


def _any_case(word: str) -> str:
    """``word`` as a pattern in any case ("[nN][oO]"): cheaper than compiling with IGNORECASE."""
    return "".join(f"[{char}{char.upper()}]" for char in word)


def _not_after(words: tuple[str, ...]) -> str:
    """Look-behinds that fail after any of ``words`` and a dot, one per word length (fixed width)."""
    lengths = sorted({len(word) for word in words})
    return "".join(
        r"(?<!\b(?:" + "|".join(_any_case(word) for word in words if len(word) == n) + r")\.)"
        for n in lengths
    )


# Abbreviations that stand before a number: "IRD no. 49091850", "Lic. AB123456" are one sentence.
_ABBREVIATIONS: Final = ("no", "nos", "nr", "num", "ref", "lic", "tel", "ph", "mob", "acct", "reg")
# A sentence ends at . ! ? followed by white space (not after an abbreviation above), or at a
# line break, except one right after a colon: "Driver licence:\nAB123456" is a label and its value.
# One character set first, then the conditions as look-behinds: the regex engine skips ahead to
# the set's characters, which makes this pass half as long as the plain "[.!?][ \t\r\n]|\n" was.
_SENTENCE_END: Final = re.compile(
    r"[.!?\n](?:(?<=\.)"
    + _not_after(_ABBREVIATIONS)
    + r"[ \t\r\n]|(?<=[!?])[ \t\r\n]|(?<=\n)(?<!:\n)(?<!: \n)(?<!:\r\n)(?<!: \r\n))"
)


class ContextReader:
    """Answers "does this candidate's sentence name its type?" for one text, caching per sentence.

    ``always`` are the types a strict policy takes without context words: every
    sentence counts as naming them.
    """

    __slots__ = ("_always", "_cache", "_ends", "_text")

    def __init__(self, text: str, always: frozenset[IdentifierType] = frozenset()) -> None:
        self._text = text
        self._always = always
        self._ends: list[int] | None = None
        # Per sentence: the types its words name, and those plus the strict ones.
        self._cache: dict[int, tuple[frozenset[IdentifierType], frozenset[IdentifierType]]] = {}

    @property
    def always(self) -> frozenset[IdentifierType]:
        """The types every sentence counts as naming (a strict policy's)."""
        return self._always

    def named_at(self, position: int) -> frozenset[IdentifierType]:
        """Return the types that the sentence holding ``position`` names, or that are strict."""
        return self._sentence(position)[1]

    def said_at(self, position: int) -> frozenset[IdentifierType]:
        """Return the types that the words of the sentence holding ``position`` name."""
        return self._sentence(position)[0]

    def _sentence(self, position: int) -> tuple[frozenset[IdentifierType], frozenset[IdentifierType]]:
        if self._ends is None:
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
        said = _named_by_words(sentence)
        result = (said, said | self._always if self._always else said)
        self._cache[index] = result
        return result


class Sentence:
    """The context of one chain's sentence, read from the :class:`ContextReader` on first use."""

    __slots__ = ("_at", "_named", "_reader", "_said")

    def __init__(self, reader: ContextReader, at: int) -> None:
        self._reader, self._at = reader, at
        self._said: frozenset[IdentifierType] | None = None
        self._named: frozenset[IdentifierType] | None = None

    @property
    def said(self) -> frozenset[IdentifierType]:
        """The types the sentence's words name."""
        if self._said is None:
            self._said = self._reader.said_at(self._at)
        return self._said

    @property
    def named(self) -> frozenset[IdentifierType]:
        """Those plus a strict policy's types."""
        if self._named is None:
            self._named = self._reader.named_at(self._at)
        return self._named


def _named_by_words(sentence: str) -> frozenset[IdentifierType]:
    """The types the words of ``sentence`` (markers and email addresses blanked) name."""
    if sentence.isascii():
        words = sentence.encode("ascii").translate(_LETTERS_ONLY).split()
        if _BYTE_CONTEXT_WORDS.isdisjoint(words) and _BYTE_PAIR_FIRSTS.isdisjoint(words):
            return _NOTHING
        named = {_BYTE_WORD_KINDS[word] for word in _BYTE_CONTEXT_WORDS.intersection(words)}
        if not _BYTE_PAIR_FIRSTS.isdisjoint(words):
            named.update(
                _BYTE_PAIR_KINDS[pair] for pair in itertools.pairwise(words) if pair in _BYTE_PAIR_KINDS
            )
        return frozenset(named)
    text_words = _WORD_RE.findall(sentence.lower())
    named = {_WORD_KINDS[word] for word in _CONTEXT_WORDS.intersection(text_words)}
    if not _PAIR_FIRSTS.isdisjoint(text_words):
        named.update(_PAIR_KINDS[pair] for pair in itertools.pairwise(text_words) if pair in _PAIR_KINDS)
    return frozenset(named)


_NOTHING: Final[frozenset[IdentifierType]] = frozenset()
