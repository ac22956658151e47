"""Salesforce's query templates on their own: the SOQL and SOSL this connector sends, ids, payloads.

The injection tests read the queries back with a small reference reader written from Salesforce's
*SOQL and SOSL Reference* ("Quoted String Escape Sequences"), not with the code under test: a query
is safe if the reader finds exactly one literal where the template has its slot, ending where the
template says, and holding exactly the input. The escaping layer itself (SOQL literals, LIKE
patterns, SOSL terms and phrases) is property-tested in ``tests/querylang/test_soql.py``.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.crm.salesforce import _parse, _query
from sdk import InvalidArgumentsError, VendorPayloadError
from sdk._querylang import soql
from sdk.authoring import normalise_phone
from tests.connectors import salesforce_cases as sf
from tests.querylang.hostile import hostile_text, refused

# --- reference readers -------------------------------------------------------------------------------

_SOQL_DECODE = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


def read_soql_literal(text: str, start: int, *, like: bool = False) -> tuple[str, int]:
    """Read the SOQL string literal opening at ``text[start]``; return its value and the index after it.

    A backslash may only start one of the documented sequences (``\\%`` and ``\\_`` only in LIKE);
    anything else is the error Salesforce reports, raised here as ValueError.
    """
    assert text[start] == "'"
    value: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "'":
            return "".join(value), i + 1
        if char == "\\":
            following = text[i + 1 : i + 2]
            if following in _SOQL_DECODE:
                value.append(_SOQL_DECODE[following])
            elif like and following in ("%", "_"):
                value.append("\\" + following)  # a literal wildcard, kept marked as such
            else:
                raise ValueError(f"invalid escape \\{following}")
            i += 2
            continue
        value.append(char)
        i += 1
    raise ValueError("unterminated literal")


# --- SOQL -------------------------------------------------------------------------------------------

PREFIX = f"SELECT {', '.join(_query.CONTACT_FIELDS)} FROM Contact WHERE Email = "  # noqa: S608 - expected text
SUFFIX = " ORDER BY LastModifiedDate DESC LIMIT 10"

INJECTIONS = [
    "aroha.ngata@example.co.nz",
    "o'brien@example.com",
    "x' OR Email != '",
    "x@y.z' OR Name LIKE '%",
    "a\\'@example.com",
    "a\\\\' OR Id != null) --@example.com",
    "a\\@example.com",
    "\\",
    "'",
    "''",
    "a@b' LIMIT 1 OFFSET 0 --",
    "a@b'; DELETE FROM Contact WHERE Id != '",
    "%@%",
    "_@_",
    "*@*",
    "{x}@b.c",
    "a@b} IN ALL FIELDS RETURNING User(Id, Email)",
    'a"@b.c',
    "アロハ@例え.jp",
    "ñandú@ejemplo.es",
    "a\u202e@b.c",  # right-to-left override: invisible, refused
    "a\x00@b.c",
    "a\u2028@b.c",
]


@pytest.mark.parametrize("email", INJECTIONS)
def test_no_email_changes_the_soql_query(email: str) -> None:
    if any(not char.isprintable() for char in email):  # only invisible characters are refused
        with pytest.raises(InvalidArgumentsError) as info:
            _query.contacts_by_email(email, 10)
        assert email not in str(info.value)
        return
    query = _query.contacts_by_email(email, 10)
    assert query.startswith(PREFIX)
    value, end = read_soql_literal(query, len(PREFIX))
    assert value == email
    assert query[end:] == SUFFIX


@given(hostile_text)
def test_no_hostile_text_changes_the_soql_query(email: str) -> None:
    try:
        query = _query.contacts_by_email(email, 10)
    except InvalidArgumentsError:
        assert refused(email, escapable="\n\r\t\b\f", syntax="'\"\\")
        return
    value, end = read_soql_literal(query, len(PREFIX))
    assert (query[: len(PREFIX)], value, query[end:]) == (PREFIX, email, SUFFIX)


@given(st.text(max_size=60))
def test_any_text_is_one_soql_literal_holding_exactly_that_text(text: str) -> None:
    try:
        literal = soql.literal(text)
    except ValueError:
        assert refused(text, escapable="\n\r\t\b\f", syntax="'\"\\")
        return
    value, end = read_soql_literal(literal, 0)
    assert (value, end) == (text, len(literal))


@given(st.text(alphabet=st.sampled_from("ab%_\\'\"x"), min_size=1, max_size=30))
def test_like_literals_escape_wildcards_and_equals_literals_must_not(text: str) -> None:
    like = soql.like_literal(text)
    value, end = read_soql_literal(like, 0, like=True)
    assert end == len(like)
    assert re.sub(r"\\([%_])", r"\1", value) == text
    assert not re.search(r"(?<!\\)[%_]", value), "an unescaped wildcard in a LIKE literal"
    # Outside LIKE, \% and \_ are errors: '=' literals keep wildcards as they are.
    plain = soql.literal(text)
    assert read_soql_literal(plain, 0) == (text, len(plain))


# --- SOSL -------------------------------------------------------------------------------------------

SOSL = re.compile(
    r"FIND \{(?P<terms>\d+(?: OR \d+)*)\} IN PHONE FIELDS RETURNING Contact\("
    + re.escape(", ".join(_query.CONTACT_FIELDS))
    + r" ORDER BY LastModifiedDate DESC LIMIT 20\)"
)


@pytest.mark.parametrize(
    ("e164", "terms"),
    [
        ("+64215550100", ["64215550100", "0215550100", "215550100"]),
        ("+16175550100", ["16175550100", "6175550100"]),
        ("+390612345678", ["390612345678", "0612345678"]),  # Italy keeps its leading zero
    ],
)
def test_a_phone_search_is_the_fixed_template_with_digits_only(e164: str, terms: list[str]) -> None:
    sosl = _query.contacts_by_phone(e164, 20)
    match = SOSL.fullmatch(sosl)
    assert match is not None
    assert match["terms"].split(" OR ") == terms


# --- ids -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("documented", ["001D000000IqhSLIAZ", "001D000000IomazIAB", "003RO0000035WQgYAM"])
def test_suffixes_of_ids_from_salesforces_documentation(documented: str) -> None:
    assert _query.id_suffix(documented[:15]) == documented[15:]


@pytest.mark.parametrize(
    ("value", "sobject"),
    [
        ("0035g00000ArohaAAB", "Contact"),
        ("0035g00000Aroha", "Contact"),
        ("0035g00000Arohaaab", "Contact"),  # the suffix is case-insensitive: that is its purpose
        ("001D000000IqhSLIAZ", "Account"),
    ],
)
def test_valid_ids(value: str, sobject: str) -> None:
    assert _query.record_id(value, sobject) == value


@pytest.mark.parametrize(
    ("value", "sobject"),
    [
        ("001D000000IqhSLIAZ", "Contact"),  # an Account id
        ("0035g00000ArohaAAC", "Contact"),  # wrong suffix
        ("0035g00000arohaAAB", "Contact"),  # case changed after the suffix was made
        ("0035g00000Aroh", "Contact"),
        ("0035g00000ArohaAA", "Contact"),
        ("0035g00000ArohaAABX", "Contact"),
        ("0035g00000Aroh/", "Contact"),
        ("003/../../limits", "Contact"),
        ("0035g00000Aroh%2F", "Contact"),
        ("0035g00000Aroh\u0430", "Contact"),  # Cyrillic a
        ("", "Contact"),
    ],
)
def test_invalid_ids(value: str, sobject: str) -> None:
    with pytest.raises(ValueError, match="Salesforce"):
        _query.record_id(value, sobject)


_alnum = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@given(st.text(alphabet=_alnum, min_size=12, max_size=12), st.integers(min_value=3, max_value=14))
def test_an_id_with_its_suffix_validates_and_a_case_flip_does_not(body: str, position: int) -> None:
    id15 = "003" + body
    full = id15 + _query.id_suffix(id15)
    assert _query.record_id(full, "Contact") == full
    flipped = id15[:position] + id15[position].swapcase() + id15[position + 1 :]
    if flipped != id15:
        with pytest.raises(ValueError, match="do not match"):
            _query.record_id(flipped + full[15:], "Contact")


# --- payloads --------------------------------------------------------------------------------------


def test_contact_record_maps_onto_the_shared_model() -> None:
    contact = _parse.contact_from(sf.fixture("contact"), source="salesforce", region="NZ")
    assert contact.id == sf.AROHA
    assert contact.name == "Aroha Ngata"
    assert contact.email == "aroha.ngata@example.co.nz"
    assert contact.phone == "+6495550123"
    assert contact.account_id == sf.KAURI
    assert contact.created_at == datetime(2024, 3, 4, 21, 10, 0, 123000, tzinfo=UTC)
    assert contact.updated_at == datetime(2025, 1, 20, 2, 45, 11, 4000, tzinfo=UTC)
    assert _parse.contact_phones(sf.fixture("contact"), "NZ") == ["+6495550123", "+64215550100"]


def test_account_record_maps_onto_the_shared_model() -> None:
    account = _parse.account_from(sf.fixture("account"), source="salesforce", region="NZ")
    assert (account.id, account.name, account.industry) == (sf.KAURI, "Kauri Plumbing Ltd", "Construction")
    assert account.domain == "kauriplumbing.example.co.nz"
    assert account.phone == "+6495550150"


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("acme.example.com", "acme.example.com"),
        ("http://WWW.Acme.Example.com:8080/x?y", "acme.example.com"),
        ("not a website", None),
        ("https://", None),
        ("javascript:alert(1)", None),
    ],
)
def test_account_domain_from_the_free_text_website(website: str, domain: str | None) -> None:
    record = {**sf.fixture("account"), "Website": website}
    assert _parse.account_from(record, source="s", region="NZ").domain == domain


@pytest.mark.parametrize(
    "following",
    [
        sf.LOCATOR,
        "/services/data/v60.0/query/01gRO0000016PIAYA2-500",
    ],
)
def test_next_records_url_is_followed_when_it_is_a_query_locator(following: str) -> None:
    assert _parse.next_records_path({"done": False, "nextRecordsUrl": following, "records": []}) == following


@pytest.mark.parametrize(
    "following",
    [
        "https://evil.example/services/data/v60.0/query/01gD0000002HU6KIAW-2000",
        "//evil.example/services/data/v60.0/query/01gD0000002HU6KIAW-2000",
        "/services/data/v60.0/sobjects/User",
        "/services/data/v59.0/query/01gD0000002HU6KIAW-2000",
        "/services/data/v60.0/query/../sobjects/Contact/0035g00000ArohaAAB",
        "/services/data/v60.0/query/01gD0000002HU6KIAW-2000?q=SELECT+Id+FROM+User",
        "/services/data/v60.0/query/01gD0000002HU6KIAW-2000#x",
        "/services/data/v60.0/query/01gD%2F..%2Fsobjects",
        "/services/data/v60.0/query/",
        "/services/data/v60.0/query/01gD0000002HU6KIAW-2000/",
        12,
    ],
)
def test_a_next_records_url_that_is_not_a_query_locator_is_refused(following: Any) -> None:
    with pytest.raises(VendorPayloadError, match="nextRecordsUrl"):
        _parse.next_records_path({"done": False, "nextRecordsUrl": following, "records": []})


def test_a_done_result_has_no_next_batch_even_with_a_locator() -> None:
    assert _parse.next_records_path({"done": True, "nextRecordsUrl": sf.LOCATOR}) is None
    assert _parse.next_records_path({"done": True}) is None


@pytest.mark.parametrize(
    ("data", "what"),
    [
        ({}, "records"),
        ({"records": {}}, "records"),
        ({"records": [{"Name": "x"}]}, "Id"),
        ({"records": [{"Id": "../../x"}]}, "Id"),
        ([], "records"),
        (None, "records"),
    ],
)
def test_a_query_result_of_the_wrong_shape_is_a_payload_error(data: Any, what: str) -> None:
    with pytest.raises(VendorPayloadError, match=what):
        _parse.query_records(data, "contact query result")


def test_an_old_style_search_array_is_a_payload_error() -> None:
    with pytest.raises(VendorPayloadError, match="searchRecords"):
        _parse.search_records(sf.fixture("search_contacts_by_phone")["searchRecords"], "search")


def test_task_input_is_a_completed_call() -> None:
    now = datetime(2025, 5, 6, 23, 30, tzinfo=UTC)
    assert _parse.task_input(sf.AROHA, "Asked about INV-12", status="Completed", now=now) == {
        "WhoId": sf.AROHA,
        "Subject": "Call",
        "Description": "Asked about INV-12",
        "Status": "Completed",
        "TaskSubtype": "Call",
        "ActivityDate": "2025-05-06",
    }


@pytest.mark.parametrize(
    "data",
    [
        {"id": sf.TASK, "success": False, "errors": []},
        {"id": "../x", "success": True, "errors": []},
        {"success": True},
        [],
        None,
    ],
)
def test_a_create_answer_without_a_created_id_is_a_payload_error(data: Any) -> None:
    with pytest.raises(VendorPayloadError, match="Task"):
        _parse.created_id(data, "Task")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (sf.fixture("error_invalid_session"), "INVALID_SESSION_ID"),
        (sf.fixture("error_restricted_picklist"), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        ([{"errorCode": "not a code: O'Brien", "message": "x"}], None),
        ({"errorCode": "NOT_FOUND"}, None),  # not the documented array
        ([], None),
        ("NOT_FOUND", None),
    ],
)
def test_error_code_is_the_first_error_code_of_the_array(body: Any, code: str | None) -> None:
    assert _parse.error_code(httpx.Response(400, content=json.dumps(body).encode())) == code


@given(st.text(max_size=32))
def test_whatever_a_caller_says_the_phone_search_is_the_fixed_template(text: str) -> None:
    e164 = normalise_phone(text, "NZ")
    if e164 is not None:
        assert SOSL.fullmatch(_query.contacts_by_phone(e164, 20)) is not None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
_record_fields = st.fixed_dictionaries(
    {"Id": st.sampled_from([sf.AROHA, "x", 5, None])},
    optional={
        name: _json | st.text(max_size=30) for name in (*_query.CONTACT_FIELDS[1:], "Website", "Industry")
    },
)


@given(
    st.one_of(
        _json,
        st.fixed_dictionaries(
            {"records": st.lists(_record_fields, max_size=3)},
            optional={"done": _json, "nextRecordsUrl": _json},
        ),
    )
)
def test_any_json_is_parsed_or_refused_with_a_payload_error(data: Any) -> None:
    """Whatever Salesforce answers, parsing gives a model or a VendorPayloadError, nothing else."""
    for parse in (
        lambda: [_parse.contact_from(r, source="s", region="NZ") for r in _parse.query_records(data, "q")],
        lambda: [_parse.account_from(r, source="s", region="NZ") for r in _parse.query_records(data, "q")],
        lambda: _parse.search_records(data, "s"),
        lambda: _parse.next_records_path(data),
        lambda: _parse.created_id(data, "Task"),
    ):
        with contextlib.suppress(VendorPayloadError):
            parse()
    assert _parse.error_code(httpx.Response(400, content=json.dumps(data).encode())) in (None, *_codes(data))


def _codes(data: Any) -> list[str]:
    first = data[0] if isinstance(data, list) and data else None
    code = first.get("errorCode") if isinstance(first, dict) else None
    return [code] if isinstance(code, str) else []
