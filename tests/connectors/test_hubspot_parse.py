"""HubSpot's payload rules on their own: phone forms, search bodies, notes, error codes, back-off."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.crm.hubspot import _parse
from sdk import VendorPayloadError


def response(status: int = 429, body: Any = None, **headers: str) -> httpx.Response:
    content = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return httpx.Response(
        status, content=content, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


# --- phone numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region", "e164", "national"),
    [
        ("021 555 0100", "NZ", "+64215550100", "215550100"),
        ("+64 21 555 0100", "US", "+64215550100", "215550100"),
        ("(617) 555-0100", "US", "+16175550100", "6175550100"),
        ("0412 345 678", "AU", "+61412345678", "412345678"),
        ("06 1234 5678", "IT", "+390612345678", "0612345678"),  # Italy keeps its leading zero
    ],
)
def test_caller_phone_forms(typed: str, region: str, e164: str, national: str) -> None:
    assert _parse.caller_phone(typed, region) == _parse.CallerPhone(e164=e164, national=national)


@pytest.mark.parametrize("typed", ["n/a", "123", "call me maybe"])
def test_caller_phone_rejects_what_is_not_a_number(typed: str) -> None:
    assert _parse.caller_phone(typed, "NZ") is None


@given(st.text(max_size=40), st.sampled_from(["NZ", "AU", "US", "GB", "DE"]))
def test_caller_phone_never_raises_and_its_forms_agree(typed: str, region: str) -> None:
    found = _parse.caller_phone(typed, region)
    if found is not None:
        assert found.e164.startswith("+")
        assert found.e164.endswith(found.national)
        assert found.national.isdigit()


def test_search_body_shape() -> None:
    caller = _parse.caller_phone("021 555 0100", "NZ")
    body = _parse.search_body(email="a@example.com", phone=caller, after=None, limit=10)
    assert body["after"] == "0"
    assert body["sorts"] == []
    assert len(body["filterGroups"]) == 5
    assert all(len(group["filters"]) == 1 for group in body["filterGroups"])
    assert _parse.search_body(email=None, phone=caller, after="20", limit=10)["after"] == "20"


def test_a_contact_matches_on_any_of_its_numbers_but_not_on_another_countrys() -> None:
    caller = _parse.caller_phone("021 555 0100", "NZ")
    hit = {"id": "1", "properties": {"mobilephone": "021-555-0100"}}
    assert _parse.contact_matches(hit, email=None, phone=caller, region="NZ")
    australian = {
        "id": "2",
        "properties": {"phone": "02 1555 0100", "hs_calculated_phone_number": "+61215550100"},
    }
    assert not _parse.contact_matches(australian, email=None, phone=caller, region="NZ")
    # An explicit country code wins over a calculated value that disagrees.
    explicit = {"id": "3", "properties": {"phone": "+64 21 555 0100", "hs_calculated_phone_number": "+1555"}}
    assert _parse.contact_matches(explicit, email=None, phone=caller, region="NZ")


def test_email_match_is_exact_apart_from_case_and_spaces() -> None:
    hit = {"id": "1", "properties": {"email": " Aroha@Example.com "}}
    assert _parse.contact_matches(hit, email="aroha@example.com", phone=None, region="NZ")
    assert not _parse.contact_matches(hit, email="aroha@example.co", phone=None, region="NZ")


# --- payload access ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"results": []}, None),
        ({"results": [], "paging": {}}, None),
        ({"results": [], "paging": {"next": {"after": "25"}}}, "25"),
        ({"results": [], "paging": {"next": {"after": 25}}}, "25"),
    ],
)
def test_search_cursor(data: dict[str, Any], expected: str | None) -> None:
    assert _parse.search_cursor(data) == expected


@pytest.mark.parametrize("after", ["", ["x"], {"a": 1}])
def test_a_malformed_cursor_is_a_payload_error(after: Any) -> None:
    with pytest.raises(VendorPayloadError):
        _parse.search_cursor({"paging": {"next": {"after": after}}})


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "x",
        {"results": {}},
        {"results": [1]},
        {"results": [{"id": None}]},
        {"results": [{"id": True}]},
    ],
)
def test_records_refuse_other_shapes(data: Any) -> None:
    with pytest.raises(VendorPayloadError):
        _parse.records(data, "search result")


# --- notes -------------------------------------------------------------------------------------


def test_note_body_is_escaped_html_with_line_breaks() -> None:
    assert _parse.note_body_html("a < b & c\r\nd\re\n") == "a &lt; b &amp; c<br>d<br>e<br>"
    assert _parse.note_body_html('"quoted"') == '"quoted"'


def test_note_timestamp_is_utc_milliseconds() -> None:
    auckland = timezone(timedelta(hours=13))
    payload = _parse.note_input("51", "x", now=datetime(2025, 3, 2, 3, 2, 3, 987654, tzinfo=auckland))
    assert payload["properties"]["hs_timestamp"] == "2025-03-01T14:02:03.987Z"
    assert payload["associations"][0]["types"] == [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}
    ]


def test_note_created_at_falls_back_to_hs_timestamp() -> None:
    note = _parse.note_from(
        {"id": "1", "properties": {"hs_timestamp": "2025-03-01T14:02:03.000Z"}},
        source="s",
        contact_id="5",
        body="b",
    )
    assert note.created_at == datetime(2025, 3, 1, 14, 2, 3, tzinfo=UTC)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"category": "OBJECT_NOT_FOUND", "message": "Contact jane@example.com not found"},
            "OBJECT_NOT_FOUND",
        ),
        ({"errorType": "RATE_LIMIT", "policyName": "DAILY"}, "RATE_LIMIT:DAILY"),
        ({"category": "RATE_LIMITS", "errorType": "RATE_LIMIT"}, "RATE_LIMITS"),
        ({"category": "Property values were not valid: jane@example.com"}, None),
        ({"message": "only a message"}, None),
        ({"category": 7}, None),
        (["not", "an", "object"], None),
        (b"<html>Bad gateway</html>", None),
        (b"{truncated", None),
    ],
)
def test_error_code_is_an_enumeration_token_never_the_message(body: Any, code: str | None) -> None:
    assert _parse.error_code(response(400, body)) == code


def test_correlation_id_must_look_like_one() -> None:
    good = "aeb5f871-7f07-4993-9211-075dc63e7cbf"
    assert _parse.correlation_id(response(404, {"correlationId": good})) == good
    assert _parse.correlation_id(response(404, {"correlationId": "jane@example.com"})) is None
    assert _parse.correlation_id(response(404, None)) is None


# --- back-off ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "wait"),
    [
        ({"Retry-After": "2"}, None, 2.0),
        ({"Retry-After": "0"}, {"policyName": "DAILY"}, 0.0),
        (
            {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
            None,
            10.0,
        ),
        (
            {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "1000"},
            None,
            1.0,
        ),
        (
            {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "600000"},
            None,
            10.0,
        ),
        (
            {"X-HubSpot-RateLimit-Remaining": "41", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
            None,
            1.0,
        ),
        ({"X-HubSpot-RateLimit-Daily-Remaining": "0"}, None, None),
        ({}, {"errorType": "RATE_LIMIT", "policyName": "DAILY"}, None),
        ({}, {"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}, 1.0),
        ({}, None, 1.0),
        (
            {"X-HubSpot-RateLimit-Remaining": "zero", "X-HubSpot-RateLimit-Interval-Milliseconds": "-5"},
            None,
            1.0,
        ),
    ],
)
def test_rate_limit_wait(headers: dict[str, str], body: Any, wait: float | None) -> None:
    assert _parse.rate_limit_wait(httpx.Response(429, json=body, headers=headers)) == wait


_header_values = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-5, 10**9).map(str), st.floats().map(str)
)


@given(
    retry_after=_header_values,
    remaining=_header_values,
    interval=_header_values,
    daily=_header_values,
    policy=st.one_of(
        st.none(), st.sampled_from(["DAILY", "SECONDLY", "TEN_SECONDLY_ROLLING"]), st.text(max_size=8)
    ),
)
def test_rate_limit_wait_is_bounded(
    retry_after: str | None,
    remaining: str | None,
    interval: str | None,
    daily: str | None,
    policy: str | None,
) -> None:
    named = {
        "Retry-After": retry_after,
        "X-HubSpot-RateLimit-Remaining": remaining,
        "X-HubSpot-RateLimit-Interval-Milliseconds": interval,
        "X-HubSpot-RateLimit-Daily-Remaining": daily,
    }
    headers = {k: v for k, v in named.items() if v is not None and v.isprintable() and v.isascii()}
    wait = _parse.rate_limit_wait(httpx.Response(429, json={"policyName": policy}, headers=headers))
    if wait is not None:
        limit = 300.0 if "Retry-After" in headers else _parse.MAX_RATE_LIMIT_WAIT
        assert 0.0 <= wait <= limit
