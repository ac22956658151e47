"""The compiled phone rules answer exactly as libphonenumber does, for every region and calling code.

``sdk._redaction._phone_rules`` stands in for ``is_valid_number_for_region``,
``is_valid_number`` and the grouping of ``format_number(..., NATIONAL)`` on
the engine's hot path. It must never reject a number libphonenumber accepts
(a phone number left in the text) nor accept one it rejects (an order number
masked), nor read a grouping as the country's when it is not. These tests compare the two on
numbers built from every region's example numbers (valid ones, one digit
changed, one digit more or fewer) and on random digit strings of every
length, across all of libphonenumber's regions and non-geographic codes.
"""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from sdk._redaction._phone_rules import national_grouping, valid_for_region, valid_international

_TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]
_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _near(national: str, rng: random.Random) -> list[str]:
    """``national``, and numbers one edit away from it (a digit changed, added or dropped)."""
    out = [national]
    for _ in range(6):
        at = rng.randrange(len(national))
        out.append(national[:at] + rng.choice("0123456789") + national[at + 1 :])
    out.append(national + rng.choice("0123456789"))
    out.append(national[:-1])
    out.append(national[:-3] + "".join(rng.choice("0123456789") for _ in range(3)))
    return [number for number in out if number and number[0] != "0"]


def _examples(region: str) -> list[str]:
    """The national significant numbers of ``region``'s examples, those without a leading zero.

    (The engine never builds a number with an Italian leading zero: those are parsed.)
    """
    found = [phonenumbers.example_number_for_type(region, kind) for kind in _TYPES]
    nationals = [phonenumbers.national_significant_number(number) for number in found if number is not None]
    return [national for national in nationals if national[0] != "0"]


def _agree(country_code: int, national: str, region: str | None) -> None:
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    assert valid_international(country_code, national) == phonenumbers.is_valid_number(number), (
        country_code,
        national,
    )
    written = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    assert national_grouping(country_code, national) == tuple(
        len(run) for run in re.findall(r"\d+", written)
    ), (
        country_code,
        national,
    )
    if region is not None:
        assert valid_for_region(national, region) == phonenumbers.is_valid_number_for_region(
            number, region
        ), (
            region,
            national,
        )


@pytest.mark.parametrize("region", _REGIONS)
def test_every_region_agrees_with_libphonenumber_near_its_examples(region: str) -> None:
    rng = random.Random(region)
    metadata = PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    assert metadata.country_code is not None
    examples = _examples(region)
    checked = 0
    for example in examples:
        for national in _near(example, rng):
            _agree(metadata.country_code, national, region)
            checked += 1
    # Random digit strings of every length a national number may have.
    for length in range(1, 18):
        for _ in range(4):
            national = str(rng.randint(10 ** (length - 1), 10**length - 1))
            _agree(metadata.country_code, national, region)
            checked += 1
    assert checked >= 68
    # The examples themselves are valid: the comparison above is not between two "no"s only.
    assert all(valid_for_region(example, region) for example in examples)


def test_non_geographic_codes_agree_with_libphonenumber() -> None:
    rng = random.Random(800)
    codes = [code for code in _CALLING_CODES if phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code] == ("001",)]
    assert codes, "libphonenumber lists non-geographic calling codes (+800, +870, +882...)"
    valid = 0
    for code in codes:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        nationals = _near(str(example.national_number), rng) if example is not None else []
        nationals += [str(rng.randint(10**4, 10**12)) for _ in range(10)]
        for national in nationals:
            _agree(code, national, None)
            number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
            valid += phonenumbers.is_valid_number(number)
    assert valid > 0


def test_a_region_is_never_valid_for_another_calling_code() -> None:
    assert valid_for_region("211234567", "NZ")  # 021 123 4567, an NZ mobile
    assert not valid_international(61, "211234567") or phonenumbers.is_valid_number(
        phonenumbers.PhoneNumber(country_code=61, national_number=211234567)
    )
    assert not valid_for_region("211234567", "ZZ")
    assert not valid_international(999, "211234567")


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(_CALLING_CODES),
    st.integers(min_value=1, max_value=10**15),
)
def test_any_calling_code_and_number_agree_with_libphonenumber(country_code: int, national: int) -> None:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
    region = regions[0] if regions[0] != "001" else None
    _agree(country_code, str(national), region)


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from([1, 7, 44, 47, 61, 212, 262, 290, 358, 590, 599]), st.data())
def test_shared_calling_codes_pick_the_region_libphonenumber_picks(
    country_code: int, data: st.DataObject
) -> None:
    """+1, +44, +61...: the region is chosen by leading digits or number type before validating."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
    region = data.draw(st.sampled_from(regions))
    examples = _examples(region)
    if examples:
        base = data.draw(st.sampled_from(examples))
        tail = data.draw(st.integers(min_value=0, max_value=min(4, len(base) - 1)))
        digits = data.draw(st.text(alphabet="0123456789", min_size=tail, max_size=tail))
        national = base[: len(base) - tail] + digits
    else:
        national = str(data.draw(st.integers(min_value=10**6, max_value=10**11)))
    _agree(country_code, national, region)
