"""SOQL literals and SOSL terms: the sent query tokenizes to exactly the intended structure.

The tokenizers follow Salesforce's *SOQL and SOSL Reference*: SOQL's "Quoted String Escape
Sequences" (``\\%`` and ``\\_`` valid only in LIKE literals) and SOSL's "FIND {SearchQuery}"
(reserved characters must be backslash-escaped, also inside quoted phrases; AND, OR and NOT
between words are operators). They are strict: anything Salesforce would reject raises.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk import InvalidArgumentsError, UsageError
from sdk._querylang import soql
from tests.querylang.hostile import hostile_text, refused

SOQL_ESCAPABLE = "\n\r\t\b\f"
SOQL_SYNTAX = "'\"\\"
LIKE_SYNTAX = SOQL_SYNTAX + "%_"
SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")

# --- a SOQL tokenizer ---------------------------------------------------------------------------

_DECODE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|[0-9]+|!=|<=|>=|[=<>(),]")


def soql_tokens(query: str) -> list[tuple[str, str]]:
    """Tokens ``("word", text)`` and ``("string", value)``; in a string after LIKE, ``\\%`` stays ``\\%``."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(query):
        if query[i] == " ":
            i += 1
            continue
        if query[i] == "'":
            like = bool(tokens) and tokens[-1] == ("word", "LIKE")
            value: list[str] = []
            i += 1
            while True:
                assert i < len(query), "unterminated literal"
                char = query[i]
                if char == "'":
                    i += 1
                    break
                if char == "\\":
                    following = query[i + 1 : i + 2]
                    if following in _DECODE:
                        value.append(_DECODE[following])
                    elif like and following in ("%", "_"):
                        value.append("\\" + following)
                    else:
                        raise AssertionError("invalid escape")
                    i += 2
                    continue
                value.append(char)
                i += 1
            tokens.append(("string", "".join(value)))
            continue
        match = _WORD.match(query, i)
        assert match is not None, f"unexpected character at {i}"
        tokens.append(("word", match.group()))
        i = match.end()
    return tokens


def _words(text: str) -> list[tuple[str, str]]:
    return [("word", word) for word in text.split()]


@given(hostile_text, hostile_text)
def test_any_text_is_one_equals_literal_and_one_like_literal(email: str, name: str) -> None:
    try:
        email_literal = soql.literal(email)
    except InvalidArgumentsError:
        assert refused(email, escapable=SOQL_ESCAPABLE, syntax=SOQL_SYNTAX)
        return
    try:
        name_literal = soql.like_literal(name, match="starts_with")
    except InvalidArgumentsError:
        assert refused(name, escapable=SOQL_ESCAPABLE, syntax=LIKE_SYNTAX)
        return
    assert not refused(email, escapable=SOQL_ESCAPABLE, syntax=SOQL_SYNTAX)
    assert not refused(name, escapable=SOQL_ESCAPABLE, syntax=LIKE_SYNTAX)
    query = f"SELECT Id FROM Contact WHERE Email = {email_literal} OR Name LIKE {name_literal} LIMIT 5"  # noqa: S608
    tokens = soql_tokens(query)
    assert tokens == [
        *_words("SELECT Id FROM Contact WHERE Email ="),
        ("string", email),
        *_words("OR Name LIKE"),
        ("string", re.sub(r"([%_])", r"\\\1", name) + "%"),
        *_words("LIMIT 5"),
    ]
    like_value = tokens[-3][1]
    assert not re.search(r"(?<!\\)[%_](?!$)", like_value), "a caller's wildcard was left active"
    normalised = soql_tokens(unicodedata.normalize("NFKC", query))
    assert [kind for kind, _ in normalised] == [kind for kind, _ in tokens]


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ("exact", r"'a\%b\_'"),
        ("starts_with", r"'a\%b\_%'"),
        ("ends_with", r"'%a\%b\_'"),
        ("contains", r"'%a\%b\_%'"),
    ],
)
def test_like_wildcards_are_the_connectors_only(match: str, expected: str) -> None:
    assert soql.like_literal("a%b_", match=match) == expected  # type: ignore[arg-type]


def test_equals_literals_keep_wildcards_as_they_are() -> None:
    # Outside LIKE, \% and \_ are errors in SOQL.
    assert soql.literal("%@_") == "'%@_'"


# --- a SOSL FIND tokenizer ----------------------------------------------------------------------


def sosl_find(query: str) -> tuple[list[tuple[str, str]], str]:
    """Read ``FIND {...}``; return its tokens (``("term", text)``/``("op", word)``) and the rest."""
    assert query.startswith("FIND {")
    i = len("FIND {")
    tokens: list[tuple[str, str]] = []
    while True:
        while query[i] == " ":
            i += 1
        if query[i] == "}":
            return tokens, query[i + 1 :]
        phrase = query[i] == '"'
        if phrase:
            i += 1
        text: list[str] = []
        raw: list[str] = []
        while True:
            assert i < len(query), "unterminated search query"
            char = query[i]
            if char == "\\":
                following = query[i + 1]
                assert following in SOSL_RESERVED, "escape of a character that is not reserved"
                text.append(following)
                i += 2
                continue
            if phrase and char == '"':
                i += 1
                break
            if not phrase and char in " }":
                break
            assert char not in SOSL_RESERVED, f"unescaped reserved character at {i}"
            text.append(char)
            raw.append(char)
            i += 1
        word = "".join(text)
        if not phrase and word.upper() in ("AND", "OR", "NOT") and "".join(raw) == word:
            tokens.append(("op", word.upper()))
        else:
            tokens.append(("term", word))


@given(st.lists(hostile_text, min_size=1, max_size=4))
def test_any_texts_are_exactly_their_sosl_terms_joined_by_or(values: list[str]) -> None:
    try:
        terms = [soql.find_term(value) for value in values]
    except InvalidArgumentsError:
        assert any(refused(value, syntax=SOSL_RESERVED) for value in values)
        return
    assert not any(refused(value, syntax=SOSL_RESERVED) for value in values)
    query = f"FIND {soql.find_any(terms)} IN ALL FIELDS RETURNING Contact(Id)"
    tokens, rest = sosl_find(query)
    expected: list[tuple[str, str]] = []
    for value in values:
        expected += [("op", "OR"), ("term", value)] if expected else [("term", value)]
    assert tokens == expected
    assert rest == " IN ALL FIELDS RETURNING Contact(Id)"


@pytest.mark.parametrize(
    ("value", "term"),
    [
        ("0215550100", "0215550100"),
        ("OR", '"OR"'),
        ("not", '"not"'),
        ("a OR b", '"a OR b"'),
        ("} IN ALL FIELDS RETURNING User(Id)", r'"\} IN ALL FIELDS RETURNING User\(Id\)"'),
        ("+64-21", r'"\+64\-21"'),
        ('x" OR "y', r'"x\" OR \"y"'),
        ("*", r'"\*"'),
    ],
)
def test_sosl_terms(value: str, term: str) -> None:
    assert soql.find_term(value) == term


def test_a_find_needs_a_term() -> None:
    with pytest.raises(UsageError):
        soql.find_any([])
