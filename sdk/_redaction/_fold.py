"""The text as the detectors read it: Unicode look-alikes of digits, letters, dashes and spaces as ASCII.

People (and the programs that copy text into tickets) write identifiers with
more than ASCII: word processors turn ``-`` into an en or em dash, French
typography puts a narrow no-break space between digit groups, and CJK input
methods type full-width forms (U+FF14 U+FF12 for "42"). The detectors are
written for ASCII, so each such character is replaced by its ASCII self
before they run. The replacement is one code point for one, so every offset a
detector reports is an offset into the original text, and the text around an
identifier is kept as written.

Folded: the full-width forms block (U+FF01-FF5E: digits, letters and
punctuation), Unicode spaces (no-break, thin, narrow no-break, figure,
ideographic, zero-width), hyphens, dashes and minus signs, and the soft hyphen.
Digits of other scripts (Arabic-Indic, Devanagari...) are not: no supported
identifier is written with them.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

__all__ = ["fold"]

_FULL_WIDTH: Final = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
# No-break, the en quad to hair spaces (thin, figure...), zero-width, narrow no-break, ideographic.
_SPACES: Final = "\u00a0" + "".join(map(chr, range(0x2000, 0x200C))) + "\u202f\u205f\u2060\u3000\ufeff"
_DASHES: Final = "\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
_TABLE: Final = MappingProxyType(
    {**_FULL_WIDTH, **dict.fromkeys(_SPACES, " "), **dict.fromkeys(_DASHES, "-")}
)
_FOLD_RE: Final = re.compile("[\uff01-\uff5e" + re.escape(_SPACES + _DASHES) + "]")


def fold(text: str) -> str:
    """Return ``text`` with each foldable character replaced by its ASCII self (same length).

    ASCII text, nearly all of it, is returned as is after one constant-time
    check; other text costs one regex search, and a substitution only when
    something is there to fold.
    """
    if text.isascii() or _FOLD_RE.search(text) is None:
        return text
    return _FOLD_RE.sub(_swap, text)


def _swap(match: re.Match[str]) -> str:
    return _TABLE[match.group()]
