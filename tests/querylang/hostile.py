"""Hostile text for the query-language property tests, and an independent refusal oracle.

The oracle is written from Unicode categories, not from the code under test: a value must be
refused exactly when it is not text a literal can carry (blank, overlong, a control/format/
separator/unassigned/private-use/surrogate character the language has no escape for, or a
character that turns into the language's syntax under NFKC).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from hypothesis import strategies as st

MAX = 256

PIECES = [
    "'",
    '"',
    "\\",
    "\\'",
    '\\"',
    "\\\\",
    " OR ",
    " AND ",
    " AND NOT ",
    " or ",
    "ORDER BY created",
    "NOT",
    "OR",
    "EMPTY",
    "null",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ":",
    "*",
    "?",
    "%",
    "_",
    "-",
    "+",
    "&",
    "=",
    "!=",
    "<",
    ">",
    "~",
    "!",
    "|",
    "^",
    ",",
    ";",
    "#",
    " ",
    "\n",
    "\r",
    "\t",
    "\b",
    "\f",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\u00a0",
    "\u200b",
    "\u202e",
    "\u2028",
    "\ufeff",
    "\ud800",
    "\uff02",  # fullwidth quotation mark: '"' after NFKC
    "\uff07",  # fullwidth apostrophe
    "\uff3c",  # fullwidth reverse solidus
    "\uff0a",  # fullwidth asterisk
    "\uff05",  # fullwidth percent
    "\ufe56",  # small question mark
    "\u02bc",  # modifier letter apostrophe (no NFKC mapping: stays a letter)
    "\u2019",  # right single quotation mark
    "\u0430",  # Cyrillic a
    "\u0338",  # combining long solidus overlay
    "\u00e9",
    "アロハ",
    "email:",
    "requester:",
    "status<solved",
    "type:user",
    "project = X",
    "reporter in (",
    "@example.com",
    "Aroha",
]

hostile_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), min_size=0, max_size=10).map(
    "".join
)
"""Text made of syntax pieces, keywords, controls, confusables and arbitrary characters."""

printable_text = hostile_text.filter(lambda t: t.strip() != "" and all(c.isprintable() for c in t))
"""Hostile text that every language should accept (no controls, not blank); may still hold confusables."""

_INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")


def refused(text: str, *, escapable: Collection[str] = "", syntax: Collection[str] = "") -> bool:
    """Whether a value must be refused (see the module docstring)."""
    if len(text) > MAX or text.strip() == "":
        return True
    for char in text:
        if char == " " or char in escapable:
            continue
        if unicodedata.category(char) in _INVISIBLE:
            return True
        if ord(char) > 127 and set(unicodedata.normalize("NFKC", char)) & set(syntax):
            return True
    return False
