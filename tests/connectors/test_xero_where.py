"""Xero's ``where`` filter: whatever the values, the sent filter reads back as exactly the intended clauses.

The reader below is strict and independent of ``_where``: ``Field==literal`` clauses joined by
`` AND ``, where a literal is ``"text"`` with no ``"`` or ``\\`` inside (so both Dynamic LINQ
dialects read it the same), ``Guid("<uuid>")``, ``true`` or ``false``. Anything else is an error.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.billing.xero import _where as where
from sdk import InvalidArgumentsError, UsageError
from tests.querylang.hostile import hostile_text, printable_text, refused

SYNTAX = '"\\'
_CLAUSE = re.compile(
    r"(?P<field>[A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)?)=="
    r'(?:"(?P<text>[^"\\]*)"|Guid\("(?P<guid>[0-9a-f-]{36})"\)|(?P<bool>true|false))'
)


def must_refuse(value: str) -> bool:
    return refused(value, syntax=SYNTAX) or '"' in value or "\\" in value


def read_where(filter_: str) -> list[tuple[str, str]]:
    """The (field, value) clauses of a filter; Guid values as ``guid:<id>``, booleans as ``bool:<v>``."""
    clauses: list[tuple[str, str]] = []
    i = 0
    while True:
        found = _CLAUSE.match(filter_, i)
        assert found is not None, f"no clause at {i}"
        if found["text"] is not None:
            value = found["text"]
        elif found["guid"] is not None:
            value = "guid:" + str(uuid.UUID(found["guid"]))
        else:
            value = "bool:" + found["bool"]
        clauses.append((found["field"], value))
        i = found.end()
        if i == len(filter_):
            return clauses
        assert filter_.startswith(" AND ", i), f"clauses must be joined by ' AND ', at {i}"
        i += len(" AND ")


@given(
    st.lists(
        st.tuples(st.sampled_from(["EmailAddress", "Name", "Contact.Name"]), hostile_text),
        min_size=1,
        max_size=8,
    )
)
def test_any_values_read_back_as_exactly_their_clauses(pairs: list[tuple[str, str]]) -> None:
    if any(must_refuse(value) for _, value in pairs):
        with pytest.raises(InvalidArgumentsError, match=r"^email "):  # names the argument, not the value
            [where.equals(field, value, argument="email") for field, value in pairs]
        return
    clauses = [where.equals(field, value, argument="email") for field, value in pairs]
    filter_ = where.all_of(clauses)
    assert read_where(filter_) == pairs
    # A vendor that normalised the filter before parsing would still read the same clauses.
    assert read_where(unicodedata.normalize("NFKC", filter_)) == [
        (field, unicodedata.normalize("NFKC", value)) for field, value in pairs
    ]


@given(printable_text)
def test_printable_text_is_refused_only_for_quotes_backslashes_and_their_confusables(value: str) -> None:
    try:
        literal = where.string(value)
    except InvalidArgumentsError:
        assert must_refuse(value)
        return
    assert read_where("EmailAddress==" + literal) == [("EmailAddress", value)]


@given(st.uuids(), hostile_text)
def test_only_canonical_uuids_become_guids(value: uuid.UUID, junk: str) -> None:
    clause = where.equals_guid("Contact.ContactID", str(value))
    assert read_where(where.all_of([clause, where.equals_constant("IsCustomer", "true")])) == [
        ("Contact.ContactID", f"guid:{value}"),
        ("IsCustomer", "bool:true"),
    ]
    # Upper case is the same id (Xero writes ids in lower case): accepted, and sent canonical.
    assert where.equals_guid("ContactID", str(value).upper()) == f'ContactID==Guid("{value}")'
    for bad in (
        junk,
        str(value) + junk if junk else "x",
        "{" + str(value) + "}",
        str(value).replace("-", ""),
    ):
        if bad == str(value):
            continue
        with pytest.raises(InvalidArgumentsError, match=r"^customer_id must be a Xero id"):
            where.equals_guid("ContactID", bad, argument="customer_id")


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("kat.warren@clampett.com", 'EmailAddress=="kat.warren@clampett.com"'),
        ("o'brien@example.com", 'EmailAddress=="o\'brien@example.com"'),
        ("a@b.c OR Name!=x", 'EmailAddress=="a@b.c OR Name!=x"'),
    ],
)
def test_documented_shapes(value: str, sent: str) -> None:
    assert where.all_of([where.equals("EmailAddress", value)]) == sent


@pytest.mark.parametrize("value", ['a" OR Name!="', "trail\\", 'x\\"', "\uff02x", "", " ", "a\x00b"])
def test_values_that_could_end_the_literal_are_refused(value: str) -> None:
    with pytest.raises(InvalidArgumentsError):
        where.equals("EmailAddress", value, argument="email")


@pytest.mark.parametrize("field", ["", "emailAddress", "Email Address", 'Name=="x" OR Name', "A.B.C", "Élan"])
def test_a_field_that_is_not_a_fixed_name_is_a_usage_error(field: str) -> None:
    with pytest.raises(UsageError, match="field"):
        where.equals(field, "x")


@pytest.mark.parametrize("constant", ["", "True", "accrec", 'ACCREC" OR "1', "1=1"])
def test_constants_come_from_a_fixed_alphabet(constant: str) -> None:
    with pytest.raises(UsageError, match="constant"):
        where.equals_constant("Type", constant)


def test_between_one_and_eight_clauses() -> None:
    one = where.equals_constant("Type", "ACCREC")
    assert where.equals_constant("Type", "ACCREC") == 'Type=="ACCREC"'
    with pytest.raises(UsageError, match="8"):
        where.all_of([])
    with pytest.raises(UsageError, match="8"):
        where.all_of([one] * 9)
    assert read_where(where.all_of([one] * 8)) == [("Type", "ACCREC")] * 8
