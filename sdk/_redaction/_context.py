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
from collections.abc import Iterator
from functools import cache
from types import MappingProxyType
from typing import Final

from sdk._redaction._types import IdentifierType

__all__ = ["EMAIL_RE", "MARKER_RE", "ContextReader"]

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


_SHORT: Final = 160  # characters: a record's field rather than a ticket's body


class ContextReader:
    """Answers "does this candidate's sentence name its type?" for one text, caching per sentence.

    ``always`` are the types a strict policy takes without context words: every
    sentence counts as naming them. The first question finds sentence ends only
    as far as its own sentence; if that sentence names nothing, the whole
    text's words are looked at once, and if none of them names a type no
    sentence is read again (most ticket text names nothing). Otherwise the
    next question finds the rest of the ends in one pass.
    """

    __slots__ = (
        "_always",
        "_cache",
        "_ends",
        "_first",
        "_high",
        "_last",
        "_letters",
        "_low",
        "_more",
        "_plain",
        "_text",
    )

    def __init__(self, text: str, always: frozenset[IdentifierType] = frozenset()) -> None:
        self._text = text
        self._always = always
        self._ends: list[int] = []
        self._more: Iterator[re.Match[str]] | None = None  # the ends not found yet
        self._first = True
        # An ASCII text's letters in small case, everything else a space (see ``_LETTERS_ONLY``).
        self._letters: bytes | None = None
        self._plain = False  # an ASCII text without "@" or "[": no sentence has anything to blank
        # Per sentence: the types its words name, and those plus the strict ones; and the
        # last sentence answered, [low, high), which the next question is most often about.
        self._cache: dict[int, tuple[frozenset[IdentifierType], frozenset[IdentifierType]]] = {}
        self._low = self._high = -1
        self._last: tuple[frozenset[IdentifierType], frozenset[IdentifierType]] = (_NOTHING, _NOTHING)

    @property
    def always(self) -> frozenset[IdentifierType]:
        """The types every sentence counts as naming (a strict policy's)."""
        return self._always

    def named_at(self, position: int) -> frozenset[IdentifierType]:
        """Return the types that the sentence holding ``position`` names, or that are strict."""
        return self.sentence_at(position)[1]

    def said_at(self, position: int) -> frozenset[IdentifierType]:
        """Return the types that the words of the sentence holding ``position`` name."""
        return self.sentence_at(position)[0]

    def sentence_at(self, position: int) -> tuple[frozenset[IdentifierType], frozenset[IdentifierType]]:
        """Return :meth:`said_at` and :meth:`named_at` for ``position`` at once."""
        if self._low <= position < self._high:
            return self._last
        if self._first:
            return self._first_sentence(position)
        ends = self._ends
        if self._more is not None:
            ends += [match.end() for match in self._more]
            self._more = None
        index = bisect_right(ends, position)
        low = ends[index - 1] if index else 0
        high = ends[index] if index < len(ends) else len(self._text)
        cached = self._cache.get(index)
        if cached is None:
            letters, text = self._letters, self._text
            if letters is not None and (
                self._plain or (text.find("@", low, high) < 0 and text.find("[", low, high) < 0)
            ):  # the common case, inline: an ASCII sentence with nothing to blank
                said = _named_by_byte_words(letters[low:high].split())
                cached = (said, said | self._always) if self._always else (said, said)
            else:
                cached = self._read(low, high)
            self._cache[index] = cached
        self._low, self._high, self._last = low, high, cached
        return cached

    def _first_sentence(self, position: int) -> tuple[frozenset[IdentifierType], frozenset[IdentifierType]]:
        self._first = False
        text = self._text
        if text.isascii():
            self._letters = letters = text.encode("ascii").translate(_LETTERS_ONLY)
            self._plain = "@" not in text and "[" not in text
            if self._plain and len(text) <= _SHORT and _named_by_byte_words(letters.split()) is _NOTHING:
                # Nothing to blank, so each sentence's words are some of the text's: none names
                # anything either. Looked at first in a short text (a field holding a number);
                # in a long one, only if its first sentence names nothing (below).
                result = (_NOTHING, _NOTHING | self._always) if self._always else (_NOTHING, _NOTHING)
                self._low, self._high, self._last = 0, len(text) + 1, result
                return result
        ends = self._ends
        self._more = more = _SENTENCE_END.finditer(text)
        for match in more:
            ends.append(match.end())
            if ends[-1] > position:
                break
        else:
            self._more = None  # the position is in the last sentence: every end is found
        index = len(ends) - 1 if self._more is not None else len(ends)
        low = ends[index - 1] if index else 0
        high = ends[index] if index < len(ends) else len(text)
        result = self._read(low, high)
        if (
            result[0] is _NOTHING
            and self._letters is not None
            and _named_by_byte_words(self._letters.split()) is _NOTHING
        ):
            # No sentence names anything: one look at all of the text's words costs less than
            # reading its sentences one by one. Blanking email addresses and markers only
            # removes words, and no sentence end cuts one, so no sentence names what the
            # whole text does not hold.
            self._low, self._high, self._last = 0, len(text) + 1, result
            return result
        self._cache[index] = result
        self._low, self._high, self._last = low, high, result
        return result

    def _read(self, left: int, right: int) -> tuple[frozenset[IdentifierType], frozenset[IdentifierType]]:
        """The (said, named) types of the sentence ``text[left:right]``."""
        letters = self._letters
        text = self._text
        if letters is not None and (
            self._plain or (text.find("@", left, right) < 0 and text.find("[", left, right) < 0)
        ):
            said = _named_by_byte_words(letters[left:right].split())
        else:
            sentence = text[left:right]
            if "@" in sentence:
                sentence = EMAIL_RE.sub(" ", sentence)
            if "[" in sentence:
                sentence = MARKER_RE.sub(" ", sentence)
            said = _named_by_words(sentence)
        return said, said | self._always if self._always else said


def _named_by_words(sentence: str) -> frozenset[IdentifierType]:
    """The types the words of ``sentence`` (markers and email addresses blanked) name."""
    if sentence.isascii():
        return _named_by_byte_words(sentence.encode("ascii").translate(_LETTERS_ONLY).split())
    text_words = _WORD_RE.findall(sentence.lower())
    named = {_WORD_KINDS[word] for word in _CONTEXT_WORDS.intersection(text_words)}
    if not _PAIR_FIRSTS.isdisjoint(text_words):
        named.update(_PAIR_KINDS[pair] for pair in itertools.pairwise(text_words) if pair in _PAIR_KINDS)
    return frozenset(named)


def _named_by_byte_words(words: list[bytes]) -> frozenset[IdentifierType]:
    """The types ``words`` (an ASCII text's, through ``_LETTERS_ONLY``, split) name; ``_NOTHING`` if none."""
    if _BYTE_PAIR_FIRSTS.isdisjoint(words):
        if _BYTE_CONTEXT_WORDS.isdisjoint(words):
            return _NOTHING
        return _kinds_of(_BYTE_CONTEXT_WORDS.intersection(words))
    named = set(_kinds_of(_BYTE_CONTEXT_WORDS.intersection(words)))
    named.update(_BYTE_PAIR_KINDS[pair] for pair in itertools.pairwise(words) if pair in _BYTE_PAIR_KINDS)
    return frozenset(named)


@cache  # keyed by a set of context words: a few dozen sets in practice, never a text's other words
def _kinds_of(words: frozenset[bytes]) -> frozenset[IdentifierType]:
    return frozenset(_BYTE_WORD_KINDS[word] for word in words)


_NOTHING: Final[frozenset[IdentifierType]] = frozenset()
