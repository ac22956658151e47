"""Stripe search: whatever the values, the sent query reads back as exactly the intended clauses.

The reader below follows Stripe's documented syntax (``field:'value'`` clauses, quotes escaped
with a backslash, clauses joined by one kind of ``AND``/``OR``) and is strict: any other escape,
an unterminated literal or a stray character after a clause is an error.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.billing.stripe import _query as stripe_query
from sdk import InvalidArgumentsError, UsageError
from sdk._querylang import stripe_search
from tests.querylang.hostile import hostile_text, printable_text, refused

_FIELD = re.compile(r"[a-z_][a-z0-9_]*")
SYNTAX = "'\"\\:"


def read_query(query: str) -> tuple[str | None, list[tuple[str, str]]]:
    """Return the joining operator (None for one clause) and the (field, value) clauses."""
    clauses: list[tuple[str, str]] = []
    joiners: set[str] = set()
    i = 0
    while True:
        field = _FIELD.match(query, i)
        assert field is not None, f"no field at {i}"
        i = field.end()
        assert query[i : i + 2] == ":'", f"no :' at {i}"
        i += 2
        value: list[str] = []
        while True:
            assert i < len(query), "unterminated literal"
            char = query[i]
            if char == "'":
                i += 1
                break
            if char == "\\":
                following = query[i + 1 : i + 2]
                assert following in ("'", "\\"), "an escape Stripe does not document"
                value.append(following)
                i += 2
                continue
            value.append(char)
            i += 1
        clauses.append((field.group(), "".join(value)))
        if i == len(query):
            break
        joiner = re.compile(r" (OR|AND) ").match(query, i)
        assert joiner is not None, f"clauses must be joined by ' OR ' or ' AND ', at {i}"
        joiners.add(joiner.group(1))
        i = joiner.end()
    assert len(joiners) <= 1, "Stripe does not allow AND and OR in one query"
    return (joiners.pop() if joiners else None), clauses


@given(
    st.lists(st.tuples(st.sampled_from(["email", "phone", "name"]), hostile_text), min_size=1, max_size=10),
    st.booleans(),
)
def test_any_values_read_back_as_exactly_their_clauses(pairs: list[tuple[str, str]], any_: bool) -> None:
    try:
        clauses = [stripe_search.clause(field, value) for field, value in pairs]
    except InvalidArgumentsError:
        assert any(refused(value, syntax=SYNTAX) for _, value in pairs)
        return
    assert not any(refused(value, syntax=SYNTAX) for _, value in pairs)
    query = stripe_search.any_of(clauses) if any_ else stripe_search.all_of(clauses)
    joiner, read = read_query(query)
    assert read == pairs
    assert joiner == (None if len(pairs) == 1 else "OR" if any_ else "AND")
    # A vendor that normalised the query before parsing would still read the same clauses.
    _, normalised = read_query(unicodedata.normalize("NFKC", query))
    assert normalised == [(f, unicodedata.normalize("NFKC", v)) for f, v in pairs]


@given(printable_text)
def test_printable_text_is_refused_only_for_syntax_confusables(value: str) -> None:
    try:
        quoted = stripe_search.quote(value)
    except InvalidArgumentsError:
        assert refused(value, syntax=SYNTAX)
        return
    assert read_query("f:" + quoted) == (None, [("f", value)])


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("' OR email:'x", r"email:'\' OR email:\'x'"),
        ("trail\\", r"email:'trail\\'"),
        ("a\\' OR -email:'b", r"email:'a\\\' OR -email:\'b'"),
        ("o'brien@example.com", r"email:'o\'brien@example.com'"),
    ],
)
def test_documented_escapes(value: str, sent: str) -> None:
    assert stripe_search.clause("email", value) == sent


@pytest.mark.parametrize("field", ["", "email:'x' OR email", "metadata['k']", "1email", "e mail", "émail"])
def test_a_field_that_is_not_a_fixed_identifier_is_a_usage_error(field: str) -> None:
    with pytest.raises(UsageError, match="field"):
        stripe_search.clause(field, "x")


def test_between_one_and_ten_clauses() -> None:
    one = stripe_search.clause("email", "a@b.c")
    with pytest.raises(UsageError, match="10"):
        stripe_search.any_of([])
    with pytest.raises(UsageError, match="10"):
        stripe_search.all_of([one] * 11)
    assert read_query(stripe_search.any_of([one] * 10)) == ("OR", [("email", "a@b.c")] * 10)


@given(hostile_text, st.from_regex(r"\+64(21|22|27|9)[0-9]{7}", fullmatch=True))
def test_the_find_customers_query_is_its_template(email: str, e164: str) -> None:
    if refused(email, syntax=SYNTAX):
        with pytest.raises(InvalidArgumentsError, match=r"^email "):
            stripe_query.customers_query(email, e164)
        return
    query = stripe_query.customers_query(email, e164)
    variants = stripe_query.phone_variants(e164)
    assert read_query(query) == ("OR", [("email", email), *(("phone", v) for v in variants)])


@pytest.mark.parametrize(
    "raw",
    ["email:'a' OR email:'b'", "email:'a'b'", "email:'a\\'", "email:x", "email:'a\x00'", "-email:'a'", ""],
)
def test_or_query_joins_only_well_formed_clauses(raw: str) -> None:
    with pytest.raises(UsageError):
        stripe_query.or_query([raw])
    assert stripe_query.or_query([stripe_query.clause("email", "a'b")]) == "email:'a\\'b'"
