"""HubSpot reads a contact's typed and calculated numbers with one parse when they are the same digits.

The reuse rests on one property of libphonenumber: a number made only of digits
and the punctuation it ignores (space, ``-``, ``.``, parentheses) reads exactly
as its bare digits do. Checked here on every region's example numbers, in every
format, with punctuation sprinkled in, read in the tenant's region and in its own.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest

from connectors.crm.hubspot import _phones
from sdk.authoring import normalise_phone

FORMATS = (
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)


def _examples() -> list[tuple[str, str]]:
    rng = random.Random(20261207)
    made: list[tuple[str, str]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for number_format in FORMATS:
                written = phonenumbers.format_number(example, number_format)
                sprinkled = "".join(
                    ch + (rng.choice(" -.()") if rng.random() < 0.25 else "") for ch in written
                )
                made += [(region, written), (region, sprinkled)]
    return made


def test_punctuated_numbers_read_as_their_digits_in_every_region() -> None:
    checked = 0
    for region, written in _examples():
        digits = _phones._PUNCTUATION.sub("", written)
        if not _phones._DIGITS.fullmatch(digits):
            continue
        for reading_region in ("NZ", region):
            assert normalise_phone(written, reading_region) == normalise_phone(digits, reading_region), (
                written
            )
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    "properties",
    [
        {"phone": "+64 9 555 0123", "hs_calculated_phone_number": "+6495550123"},
        {"phone": "+64 9 555 0123", "hs_calculated_phone_number": "+6495550199"},
        {"phone": "09 555 0123", "hs_calculated_phone_number": "+6495550123", "mobilephone": "021 555 0100"},
        {"phone": "+1 (415) 555-2671 ext. 9", "hs_calculated_phone_number": "+14155552671"},
        {"phone": "not a number", "mobilephone": "+64 21 555 0100"},
        {"mobilephone": "+64 21 555 0100", "hs_calculated_mobile_number": "+64215550100"},
    ],
)
def test_reused_readings_are_the_readings_made_one_by_one(properties: dict[str, str]) -> None:
    def one_by_one(raw_name: str, calculated_name: str) -> list[str]:
        raw, calculated = properties.get(raw_name), properties.get(calculated_name)
        readings = []
        if raw is not None and raw.lstrip().startswith(("+", "00")):
            readings.append(normalise_phone(raw, "NZ"))
        if calculated is not None:
            readings.append(normalise_phone(calculated, "NZ"))
        if raw is not None and not any(readings):
            readings.append(normalise_phone(raw, "NZ"))
        return list(dict.fromkeys(r for r in readings if r is not None))

    expected = one_by_one("phone", "hs_calculated_phone_number") + one_by_one(
        "mobilephone", "hs_calculated_mobile_number"
    )
    assert _phones.contact_phones(properties, "NZ") == expected
