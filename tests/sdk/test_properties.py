"""Property tests for the pure logic: id validation, scope checks, Retry-After parsing, paths."""

from __future__ import annotations

import email.utils
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sdk import ConfigurationError, Grant, InvalidIdentifierError, Scope
from sdk._ids import validate_conversation_id, validate_id
from sdk._operations import PathPattern
from sdk.authoring import parse_retry_after

VALID_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


@given(st.text(max_size=80))
def test_validate_id_accepts_exactly_the_documented_alphabet(value: str) -> None:
    if VALID_ID.fullmatch(value):
        assert validate_id(value, kind="tenant id") == value
    else:
        with pytest.raises(InvalidIdentifierError):
            validate_id(value, kind="tenant id")


@given(st.from_regex(VALID_ID, fullmatch=True))
def test_valid_ids_cannot_change_a_path(value: str) -> None:
    assert "/" not in value
    assert "." not in value
    assert "%" not in value
    assert value.strip() == value


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "..",
        "../globex",
        "acme/../globex",
        "acme/",
        "%2e%2e",
        "ACME",
        "acme\n",
        " acme",
        "acmé",
        "a" * 64,
        "acme\x00",
        "-acme",
        "_acme",
        "acme.prod",
    ],
)
def test_path_tricks_and_odd_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdentifierError) as info:
        validate_id(bad, kind="tenant id")
    if bad:
        assert bad not in str(info.value), "the error must not echo the id back (it may be attacker-chosen)"


@given(st.one_of(st.integers(), st.none(), st.binary(), st.lists(st.text())))
def test_non_string_ids_are_refused(value: object) -> None:
    with pytest.raises(InvalidIdentifierError):
        validate_id(value, kind="integration id")
    with pytest.raises(InvalidIdentifierError):
        validate_conversation_id(value)


resources = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
scopes = st.builds(lambda r, a: Scope.parse(f"{r}:{a}"), resources, st.sampled_from(["read", "write"]))


@given(scopes)
def test_read_only_grant_allows_every_read_and_no_write(scope: Scope) -> None:
    assert Grant.read_only().allows(scope) is (not scope.is_write)


@given(st.sets(resources, max_size=5), scopes)
def test_scoped_write_allows_exactly_the_listed_writes(granted: set[str], scope: Scope) -> None:
    grant = Grant.scoped_write(*(f"{r}:write" for r in granted))
    if scope.is_write:
        assert grant.allows(scope) is (scope.resource in granted)
    else:
        assert grant.allows(scope)


@given(st.text(max_size=40))
def test_scope_parse_refuses_anything_but_resource_colon_access(text: str) -> None:
    if re.fullmatch(r"[a-z][a-z0-9_]{0,39}:(read|write)", text):
        assert str(Scope.parse(text)) == text
    else:
        with pytest.raises(ConfigurationError):
            Scope.parse(text)


def test_grant_rejects_contradictions() -> None:
    with pytest.raises(ConfigurationError, match="read-only"):
        Grant("read-only", frozenset({Scope.parse("notes:write")}))
    with pytest.raises(ConfigurationError, match="read scope"):
        Grant.scoped_write("contacts:read")


@given(st.floats(min_value=0, max_value=300, allow_nan=False))
def test_retry_after_seconds_round_trip(seconds: float) -> None:
    parsed = parse_retry_after(repr(seconds))
    assert parsed == pytest.approx(seconds)


@given(st.integers(min_value=-10_000, max_value=10_000_000))
def test_retry_after_is_clamped_to_zero_and_five_minutes(seconds: int) -> None:
    parsed = parse_retry_after(str(seconds))
    assert parsed is not None
    assert 0.0 <= parsed <= 300.0


@given(st.integers(min_value=0, max_value=299))
def test_retry_after_http_date(offset: int) -> None:
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + offset, usegmt=True)
    assert parse_retry_after(header, now=lambda: now) == pytest.approx(offset, abs=1)


@given(st.text(max_size=30))
def test_retry_after_never_raises(text: str) -> None:
    parsed = parse_retry_after(text)
    assert parsed is None or 0.0 <= parsed <= 300.0


def test_retry_after_absent_or_garbage() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None


@given(st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True), st.text(max_size=20))
def test_read_over_post_pattern_matches_one_segment_only(segment: str, suffix: str) -> None:
    pattern = PathPattern.compile("/crm/v3/objects/{object}/search")
    assert pattern.matches(f"/crm/v3/objects/{segment}/search")
    assume(suffix)
    assert not pattern.matches(f"/crm/v3/objects/{segment}/search{'/' + suffix}")
    assert not pattern.matches(f"/crm/v3/objects/{segment}/x/search")


def test_sensitivity_marks_are_found_inside_optional_fields() -> None:
    from sdk import BillingCustomer, Contact, Sensitive, Ticket, sensitivity_of

    assert sensitivity_of(Contact, "name") is Sensitive.PII
    assert sensitivity_of(Contact, "email") is Sensitive.PII
    assert sensitivity_of(Ticket, "subject") is Sensitive.PII
    assert sensitivity_of(BillingCustomer, "card_last4") is Sensitive.PCI
    assert sensitivity_of(Contact, "id") is None
