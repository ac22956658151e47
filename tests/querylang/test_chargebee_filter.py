"""Chargebee filters: whatever the values, the sent URL carries exactly the intended parameters.

The filters go through httpx exactly as the SDK's transport sends them; the raw query string is
then split by hand on ``&`` and ``=`` and percent-decoded, so a value that added a parameter,
changed an operator or an element of a list would show up as a different reading.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk import InvalidArgumentsError, UsageError
from sdk._querylang import chargebee_filter
from tests.querylang.hostile import hostile_text, refused

LIST_UNSAFE = '",[]\\'


def sent_pairs(params: dict[str, str]) -> list[tuple[str, str]]:
    request = httpx.Request(
        "GET", "https://acme.chargebee.com/api/v2/customers", params={**params, "limit": "10"}
    )
    raw = request.url.query.decode("ascii")
    pairs = []
    for part in raw.split("&"):
        name, sep, value = part.partition("=")
        assert sep == "=", "a parameter without a value"
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def read_list(text: str) -> list[str]:
    """``["a","b"]`` read without a JSON parser: elements between quotes, separated by commas."""
    assert text.startswith('["')
    assert text.endswith('"]')
    return re.split(r'","', text[2:-2])


@given(hostile_text, hostile_text)
def test_any_values_are_exactly_their_two_filters(email: str, company: str) -> None:
    try:
        params = chargebee_filter.merge(
            chargebee_filter.params("email", "is", email),
            chargebee_filter.params("company", "starts_with", company),
        )
    except InvalidArgumentsError:
        assert refused(email) or refused(company)
        return
    assert not refused(email)
    assert not refused(company)
    assert sent_pairs(params) == [("email[is]", email), ("company[starts_with]", company), ("limit", "10")]


@given(st.lists(hostile_text, min_size=1, max_size=5))
def test_any_values_are_exactly_the_elements_of_one_list_filter(ids: list[str]) -> None:
    try:
        params = chargebee_filter.params_in("id", ids)
    except InvalidArgumentsError:
        assert any(refused(v, syntax=LIST_UNSAFE) or set(v) & set(LIST_UNSAFE) for v in ids)
        return
    pairs = sent_pairs(params)
    assert [name for name, _ in pairs] == ["id[in]", "limit"]
    assert read_list(pairs[0][1]) == ids
    assert json.loads(pairs[0][1]) == ids  # and read as JSON, the same list


@pytest.mark.parametrize("value", ["a&email[is_not]=b", "x=y", "#frag", "a%26b", "[is]", "+ +"])
def test_url_syntax_in_a_value_stays_in_the_value(value: str) -> None:
    assert sent_pairs(chargebee_filter.params("email", "is", value))[0] == ("email[is]", value)


def test_fields_operators_and_duplicates_are_the_connectors_choice() -> None:
    with pytest.raises(UsageError):
        chargebee_filter.params("email[is_not]", "is", "x")
    with pytest.raises(UsageError):
        chargebee_filter.params("email", "is]&x[is", "x")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        chargebee_filter.params_in("id", [])
    one = chargebee_filter.params("email", "is", "a@b.c")
    with pytest.raises(UsageError, match="same parameter"):
        chargebee_filter.merge(one, chargebee_filter.params("email", "is", "c@d.e"))
    assert chargebee_filter.presence("phone", True) == {"phone[is_present]": "true"}
