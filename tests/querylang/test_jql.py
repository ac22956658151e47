"""JQL: whatever the values, the sent query tokenizes to exactly the intended clauses.

The tokenizer follows JQL's grammar: a quoted string is ``"`` or ``'`` then characters other
than that quote, a backslash, CR or LF, or one of the escapes ``\\" \\' \\\\ \\t \\n \\r \\uXXXX``,
then the same quote; outside strings, ``( ) ,`` and the operators are punctuation and other
runs of characters are words (so a reserved word outside quotes shows up as a word token).
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.ticketing.jsm import _query as jsm_query
from sdk import InvalidArgumentsError, UsageError
from sdk._querylang import jql
from tests.querylang.hostile import hostile_text, refused

ESCAPABLE = "\n\r\t"
SYNTAX = "\"'\\"
_DECODE = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_PUNCT = re.compile(r"!=|<=|>=|!~|[=<>~(),]")
_WORD = re.compile(r"[^\s\"'()=,<>!~]+")

Token = tuple[str, str]


def jql_tokens(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char == " ":
            i += 1
            continue
        if char in "\"'":
            quote = char
            value: list[str] = []
            i += 1
            while True:
                assert i < len(query), "unterminated string"
                char = query[i]
                if char == quote:
                    i += 1
                    break
                assert char not in "\r\n", "raw line break in a string"
                if char == "\\":
                    following = query[i + 1 : i + 2]
                    if following == "u":
                        value.append(chr(int(query[i + 2 : i + 6], 16)))
                        i += 6
                        continue
                    assert following in _DECODE, "invalid escape"
                    value.append(_DECODE[following])
                    i += 2
                    continue
                value.append(char)
                i += 1
            tokens.append(("string", "".join(value)))
            continue
        match = _PUNCT.match(query, i) or _WORD.match(query, i)
        assert match is not None, f"unexpected character at {i}"
        tokens.append(("word", match.group()))
        i = match.end()
    return tokens


def words(text: str) -> list[Token]:
    return [("word", w) for w in text.split()]


@given(hostile_text, st.lists(hostile_text, min_size=1, max_size=4))
def test_any_values_are_exactly_one_string_each(project: str, reporters: list[str]) -> None:
    values = [project, *reporters]
    try:
        query = jql.all_of(
            [
                jql.clause("project", "=", jql.string(project)),
                jql.clause("reporter", "in", jql.string_list(reporters)),
            ]
        )
    except InvalidArgumentsError:
        assert any(refused(v, escapable=ESCAPABLE, syntax=SYNTAX) for v in values)
        return
    assert not any(refused(v, escapable=ESCAPABLE, syntax=SYNTAX) for v in values)
    listed: list[Token] = []
    for reporter in reporters:
        listed += [("word", ","), ("string", reporter)] if listed else [("string", reporter)]
    expected = [
        *words("project ="),
        ("string", project),
        *words("AND reporter in ("),
        *listed,
        ("word", ")"),
    ]
    assert jql_tokens(query) == expected
    normalised = jql_tokens(unicodedata.normalize("NFKC", query))
    assert [kind for kind, _ in normalised] == [kind for kind, _ in expected]


@given(hostile_text, st.lists(hostile_text, min_size=1, max_size=3))
def test_the_jsm_reporter_search_is_its_template(project: str, account_ids: list[str]) -> None:
    values = [project, *account_ids]
    try:
        search = jsm_query.reporter_search(project, account_ids)
    except InvalidArgumentsError:
        assert any(refused(v, escapable=ESCAPABLE, syntax=SYNTAX) for v in values)
        return
    listed: list[Token] = []
    for account in account_ids:
        listed += [("word", ","), ("string", account)] if listed else [("string", account)]
    scope = [*words("project ="), ("string", project), *words("AND reporter in ("), *listed, ("word", ")")]
    order = words("ORDER BY created DESC")
    assert jql_tokens(search.newest) == [*scope, *order]
    open_only = [*words("AND statusCategory !="), ("string", "Done")]
    assert jql_tokens(search.still_open) == [*scope, *open_only, *order]


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ('x" OR project != "y', r'"x\" OR project != \"y"'),
        ("trail\\", r'"trail\\"'),
        ("line\nbreak", r'"line\nbreak"'),
        ("EMPTY", '"EMPTY"'),
        ("o'brien", '"o\'brien"'),
    ],
)
def test_strings(value: str, literal: str) -> None:
    assert jql.string(value) == literal


def test_operators_pair_with_their_operand_kind() -> None:
    one = jql.string("a")
    many = jql.string_list(["a", "b"])
    assert jql.clause("status", "!=", one) == 'status != "a"'
    assert jql.clause("reporter", "not in", many) == 'reporter not in ("a", "b")'
    with pytest.raises(UsageError):
        jql.clause("reporter", "in", one)
    with pytest.raises(UsageError):
        jql.clause("reporter", "=", many)
    with pytest.raises(UsageError):
        jql.clause("summary", "~", one)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        jql.clause('project = "X" OR project', "=", one)
    with pytest.raises(UsageError):
        jql.string_list([])
    with pytest.raises(UsageError):
        jql.all_of([])


def test_the_customer_search_text_is_checked() -> None:
    assert jsm_query.customer_search_text("aroha@example.co.nz") == "aroha@example.co.nz"
    with pytest.raises(InvalidArgumentsError, match="email"):
        jsm_query.customer_search_text("a\x00@b.c")
