"""Property tests for the parse helpers and setting types every connector shares (sdk/_parsing.py).

Each helper either returns a value of the documented shape or raises one of the exceptions
dispatch turns into a VendorPayloadError (TypeError, ValueError, KeyError) — never anything
else, never a half-read value, and never a message that quotes what the vendor sent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from sdk import InvalidArgumentsError, Money, VendorPayloadError
from sdk._parsing import (
    DNS_LABEL,
    Subdomain,
    check_record_id,
    cursor,
    field_text,
    integer,
    money,
    obj,
    object_list,
    record_id,
    text,
    timestamp,
)

PAYLOAD_ERRORS = (TypeError, ValueError, KeyError)
"""What dispatch reports as a VendorPayloadError (with VendorPayloadError itself)."""

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
NOT_A_MAPPING = JSON.filter(lambda value: not isinstance(value, dict))

# Unix seconds datetime can represent on every platform (years 1970 to 9999).
EPOCH_SECONDS = st.integers(min_value=0, max_value=253_402_300_799)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def canary() -> str:
    return "CANARY-" + "7f3a9c"


# --- objects and lists ---------------------------------------------------------------------------


@given(st.dictionaries(st.text(max_size=10), JSON, max_size=5))
def test_obj_returns_a_mapping_unchanged(value: dict[str, Any]) -> None:
    assert obj(value) is value


@given(NOT_A_MAPPING)
def test_obj_refuses_everything_that_is_not_an_object(value: object) -> None:
    with pytest.raises(TypeError):
        obj(value)


@given(st.lists(st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3), max_size=6))
def test_object_list_keeps_every_object_in_order(items: list[dict[str, Any]]) -> None:
    assert object_list({"data": items}, "data") == items


@given(st.lists(JSON, min_size=1, max_size=6))
def test_object_list_refuses_a_page_with_any_item_that_is_not_an_object(items: list[object]) -> None:
    assume(any(not isinstance(item, dict) for item in items))
    with pytest.raises(TypeError):
        object_list({"data": items}, "data")


@given(NOT_A_MAPPING.filter(lambda value: not isinstance(value, list)))
def test_object_list_refuses_a_list_that_is_not_a_list(value: object) -> None:
    with pytest.raises(TypeError):
        object_list({"data": value}, "data")


def test_a_page_without_its_list_is_an_error_not_an_empty_page() -> None:
    with pytest.raises(KeyError):
        object_list({"list": []}, "data")


# --- scalars -------------------------------------------------------------------------------------


@given(JSON)
def test_text_and_cursor_return_a_non_empty_string_or_none(value: object) -> None:
    for read in (text, cursor):
        found = read(value)
        if isinstance(value, str) and value:
            assert found == value
        else:
            assert found is None


@pytest.mark.parametrize("empty", ["", None])
def test_empty_text_is_absent_so_nothing_empty_is_ever_read_out(empty: str | None) -> None:
    assert text(empty) is None
    assert cursor(empty) is None


@given(st.one_of(st.integers(), st.text(min_size=1, max_size=40)))
def test_record_id_reads_strings_and_integers_as_text(value: int | str) -> None:
    assume(not isinstance(value, bool))
    found = record_id(value)
    assert found == str(value)
    assert found != ""


@given(JSON)
def test_record_id_refuses_everything_else(value: object) -> None:
    assume(isinstance(value, bool) or not isinstance(value, int | str) or value == "")
    with pytest.raises(ValueError, match="record id"):
        record_id(value)


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_field_text_reads_text_and_numbers_stripped(value: str | int | float) -> None:
    assume(not isinstance(value, bool))
    found = field_text({"Name": value}, "Name", where="Vendor's field")
    expected = str(value).strip()
    assert found == (expected or None)


@given(st.one_of(st.booleans(), st.lists(st.text(), max_size=2), st.dictionaries(st.text(), st.text())))
def test_field_text_names_the_field_never_the_value(value: object) -> None:
    planted = {"secret": canary()} if isinstance(value, dict) else value
    with pytest.raises(VendorPayloadError) as caught:
        field_text({"Phone": planted}, "Phone", where="Vendor's field")
    assert str(caught.value).startswith("Vendor's field Phone is not text")
    assert canary() not in str(caught.value)


def test_field_text_of_a_missing_field_is_absent() -> None:
    assert field_text({}, "Email", where="Vendor's field") is None


@given(st.integers())
def test_integer_keeps_integers(value: int) -> None:
    assert integer(value) == value


@given(st.one_of(st.booleans(), st.floats(), st.text(max_size=10), st.lists(st.integers(), max_size=2)))
def test_integer_refuses_what_could_be_another_unit(value: object) -> None:
    # "89.00" or 89.0 may be major units: guessing would misstate what a caller owes.
    with pytest.raises(TypeError):
        integer(value)


@given(st.integers(), st.from_regex(r"[A-Za-z]{3}", fullmatch=True))
def test_money_is_minor_units_and_upper_case_currency(amount: int, currency: str) -> None:
    assert money(amount, currency) == Money(amount_minor=amount, currency=currency.upper())


@given(st.one_of(st.none(), st.integers()), st.one_of(st.none(), st.just("")))
def test_money_without_an_amount_or_a_currency_is_absent(amount: int | None, currency: str | None) -> None:
    assert money(amount, currency) is None
    assert money(None, "nzd") is None


def test_money_in_major_units_is_a_wrong_shape() -> None:
    with pytest.raises(TypeError):
        money("89.00", "nzd")


# --- times ---------------------------------------------------------------------------------------


@given(EPOCH_SECONDS)
def test_unix_seconds_round_trip_as_aware_utc(seconds: int) -> None:
    found = timestamp(seconds, unit="s")
    assert found is not None
    assert found.tzinfo is not None
    assert found == EPOCH + timedelta(seconds=seconds)


@given(st.integers(min_value=0, max_value=253_402_300_799_999))
def test_unix_milliseconds_are_read_exactly(millis: int) -> None:
    found = timestamp(millis, unit="ms")
    assert found is not None
    assert (found - EPOCH) // timedelta(milliseconds=1) == millis
    assert found.microsecond % 1000 == 0


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none()))
def test_iso_8601_round_trips_and_a_time_without_offset_is_utc(moment: datetime) -> None:
    assert timestamp(moment.isoformat()) == moment.replace(tzinfo=UTC)
    aware = moment.replace(tzinfo=UTC)
    assert timestamp(aware.isoformat().replace("+00:00", "Z")) == aware


@pytest.mark.parametrize(
    ("value", "offset"),
    [("2024-06-01T22:41:00.000+1200", 12), ("2024-03-04T21:10:00.000+0000", 0), ("2024-03-01T08:00:00Z", 0)],
)
def test_the_formats_vendors_send_keep_their_offset(value: str, offset: int) -> None:
    found = timestamp(value)
    assert found is not None
    assert found.utcoffset() == timedelta(hours=offset)


@given(st.one_of(st.integers(max_value=-(10**12)), st.integers(min_value=10**13)))
def test_a_unix_time_out_of_range_is_a_value_error_or_none_when_lenient(seconds: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        timestamp(seconds, unit="s")
    assert timestamp(seconds, unit="s", lenient=True) is None


@given(EPOCH_SECONDS)
def test_a_unix_time_where_iso_8601_is_documented_is_a_wrong_shape(seconds: int) -> None:
    with pytest.raises(TypeError):
        timestamp(seconds)
    with pytest.raises(TypeError):
        timestamp(str(seconds) + "x", unit="s")


@given(JSON, st.sampled_from(["iso", "s", "ms"]))
def test_a_lenient_read_never_raises_and_a_strict_one_raises_only_payload_errors(
    value: object, unit: str
) -> None:
    lenient = timestamp(value, unit=unit, lenient=True)  # type: ignore[arg-type]
    assert lenient is None or lenient.tzinfo is not None
    try:
        strict = timestamp(value, unit=unit)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        assert lenient is None
    else:
        assert strict == lenient


@pytest.mark.parametrize("absent", [None, ""])
def test_an_absent_time_is_none_in_every_unit(absent: object) -> None:
    for unit in ("iso", "s", "ms"):
        assert timestamp(absent, unit=unit) is None  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_unreadable_time_text_is_a_value_error_that_does_not_quote_it(value: str) -> None:
    planted = value + canary()
    with pytest.raises(ValueError, match="not an ISO 8601 date and time") as caught:
        timestamp(planted)
    assert canary() not in str(caught.value)
    assert caught.value.__context__ is None or canary() not in str(caught.value.__context__)


# --- settings ------------------------------------------------------------------------------------

SUBDOMAIN: TypeAdapter[str] = TypeAdapter(Subdomain)


@given(st.text(max_size=70))
def test_a_subdomain_is_exactly_one_dns_label(value: str) -> None:
    try:
        SUBDOMAIN.validate_python(value)
    except ValidationError:
        assert not re.fullmatch(DNS_LABEL, value)
    else:
        assert re.fullmatch(DNS_LABEL, value)


@given(st.text(max_size=70))
def test_no_accepted_subdomain_can_move_the_base_url_to_another_host(value: str) -> None:
    try:
        site = SUBDOMAIN.validate_python(value)
    except ValidationError:
        return
    url = httpx.URL(f"https://{site}.vendor.example/api")
    assert url.host == f"{site}.vendor.example"
    assert url.path == "/api"


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "-acme",
        "acme-",
        "ACME",
        "acme.evil.example",
        "evil.example#",
        "a@evil",
        "a/b",
        "a:1",
        "a" * 64,
        "acme ",
    ],
)
def test_hostile_subdomains_are_refused_without_quoting_them(hostile: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SUBDOMAIN.validate_python(hostile)
    assert all("input" not in error for error in caught.value.errors(include_input=False))


# --- arguments -----------------------------------------------------------------------------------


@given(st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True))
def test_check_record_id_returns_plain_ids_unchanged(value: str) -> None:
    assert check_record_id(value, operation="list_invoices", argument="customer_id") == value


@pytest.mark.parametrize(
    "hostile", ["", ".", "..", "%2e%2e", "%2E.", "a/b", "a%2Fb", "a\\b", "a\x00b", "\u2024\u2024", "x" * 2000]
)
def test_check_record_id_refuses_what_a_path_would_refuse_without_quoting_it(hostile: str) -> None:
    with pytest.raises(InvalidArgumentsError) as caught:
        check_record_id(hostile, operation="list_invoices", argument="customer_id")
    message = str(caught.value)
    assert message.startswith("invalid arguments for list_invoices: customer_id:")
    if len(hostile) > 2:
        assert hostile not in message


@given(st.text(max_size=30))
def test_check_record_id_either_returns_the_value_or_raises_invalid_arguments(value: str) -> None:
    try:
        found = check_record_id(value, operation="op", argument="id")
    except InvalidArgumentsError:
        return
    assert found == value
    assert value.strip() not in ("", ".", "..")
    assert "/" not in value
    assert "\\" not in value
