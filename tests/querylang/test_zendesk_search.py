"""Zendesk search: whatever the values, the sent query reads back as exactly the intended terms.

The reader follows Zendesk's search reference: terms are separated by whitespace outside
double quotes; a term is an optional ``-`` (negation), a field, an operator (``:`` ``<`` ``>``
``<=`` ``>=``) and a value, bare or a ``"phrase"`` (no escape character is documented); ``*`` is a
wildcard. The reader also flags what would widen a term: a wildcard, or a phrase with no letter
or digit (the analyser drops it).
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.ticketing.zendesk import _query as zendesk_query
from sdk import InvalidArgumentsError, UsageError
from sdk._querylang import zendesk_search
from tests.querylang.hostile import hostile_text, refused


class Term(NamedTuple):
    field: str
    operator: str
    value: str
    negated: bool = False
    wildcard: bool = False


_HEAD = re.compile(r"(-?)([A-Za-z_][A-Za-z0-9_]*)(<=|>=|:|<|>)")


def read_terms(query: str) -> list[Term]:
    terms: list[Term] = []
    i = 0
    while i < len(query):
        if query[i].isspace():
            i += 1
            continue
        head = _HEAD.match(query, i)
        assert head is not None, f"a bare word, not a field term, at {i}"
        i = head.end()
        if query[i : i + 1] == '"':
            end = query.find('"', i + 1)
            assert end != -1, "unterminated phrase"
            value = query[i + 1 : end]
            assert any(c.isalnum() for c in value), "a phrase the analyser would drop"
            assert "\\" not in value, "a backslash inside a phrase"
            i = end + 1
            assert i == len(query) or query[i] == " ", "a phrase must end its term"
        else:
            end = i
            while end < len(query) and not query[end].isspace():
                end += 1
            value = query[i:end]
            assert value, "an empty value"
            assert not set(value) & set('"()\\'), "quote, parenthesis or backslash in a bare value"
            i = end
        terms.append(
            Term(head.group(2), head.group(3), value, head.group(1) == "-", "*" in value or "?" in value)
        )
    return terms


def _refused(value: str) -> bool:
    bare = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]*", value) is not None
    quotable = not set(value) & set('"\\*?') and any(c.isalnum() for c in value)
    return refused(value, syntax='"\\*?') or not (bare or quotable)


@given(st.lists(hostile_text, min_size=1, max_size=3))
def test_any_values_read_back_as_exactly_their_terms(values: list[str]) -> None:
    try:
        terms = [zendesk_search.term("requester", value) for value in values]
    except InvalidArgumentsError:
        assert any(_refused(value) for value in values)
        return
    assert not any(_refused(value) for value in values)
    query = zendesk_search.all_of([zendesk_search.term("type", "ticket"), *terms])
    read = read_terms(query)
    assert read == [Term("type", ":", "ticket"), *(Term("requester", ":", v) for v in values)]
    normalised = read_terms(unicodedata.normalize("NFKC", query))
    assert [(t.field, t.operator, t.negated, t.wildcard) for t in normalised] == [
        (t.field, t.operator, t.negated, t.wildcard) for t in read
    ]


@given(hostile_text)
def test_the_ticket_searches_are_their_templates(email: str) -> None:
    if _refused(email):
        with pytest.raises(InvalidArgumentsError, match=r"^email "):
            zendesk_query.requester_search(email)
        return
    search = zendesk_query.requester_search(email)
    base = [Term("type", ":", "ticket"), Term("requester", ":", email)]
    assert read_terms(search.newest) == base
    assert read_terms(search.still_open) == [*base, Term("status", "<", "solved")]


@given(st.from_regex(r"\+64[2-9][0-9]{7,9}", fullmatch=True))
def test_the_phone_search_is_one_suffix_wildcard_on_digits(e164: str) -> None:
    (term,) = read_terms(zendesk_query.users_by_phone(e164))
    assert (term.field, term.operator, term.wildcard, term.negated) == ("phone", ":", True, False)
    assert term.value.startswith("*")
    assert term.value[1:].isdigit()
    assert e164.endswith(term.value[1:])


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("aroha@example.co.nz", "requester:aroha@example.co.nz"),
        ("amy moore", 'requester:"amy moore"'),
        ("x status:open", 'requester:"x status:open"'),
        ("-x", 'requester:"-x"'),
        ("o'brien@example.com", 'requester:"o\'brien@example.com"'),
    ],
)
def test_bare_and_phrase_values(value: str, sent: str) -> None:
    assert zendesk_search.term("requester", value) == sent


@pytest.mark.parametrize("value", ['a" type:user "b', "a*", "*", "a?", "x\\", "...", "- -", "a\uff02b"])
def test_values_a_phrase_cannot_hold_are_refused(value: str) -> None:
    with pytest.raises(InvalidArgumentsError, match="email"):
        zendesk_search.term("requester", value, argument="email")


def test_comparisons_and_suffixes_take_bare_values_only() -> None:
    assert zendesk_search.term("status", "solved", operator="<") == "status<solved"
    with pytest.raises(InvalidArgumentsError):
        zendesk_search.term("status", "solved x", operator="<")
    with pytest.raises(InvalidArgumentsError):
        zendesk_search.ends_with("phone", "12 34")
    with pytest.raises(UsageError):
        zendesk_search.term("status", "x", operator="~")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        zendesk_search.term("requester:x type", "x")
    with pytest.raises(UsageError):
        zendesk_search.all_of([])
