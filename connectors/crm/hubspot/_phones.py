"""HubSpot's phone numbers: the caller's number for a search, and a contact's numbers in E.164.

Split from :mod:`._parse` (one job each): reading a contact's numbers is the
costly part of parsing one (libphonenumber), so it is kept to one parse per
distinct number of a contact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from sdk.authoring import normalise_phone
from sdk.parsing import field_text

__all__ = ["CallerPhone", "caller_phone", "contact_phones"]


def _text(properties: Mapping[str, Any], name: str) -> str | None:
    """A property as stripped text; None when unset, empty or null (HubSpot sends all three)."""
    return field_text(properties, name, where="HubSpot's property")


# --- phone numbers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerPhone:
    """A caller's number in the two forms a HubSpot search needs."""

    e164: str
    national: str
    """National significant number: digits only, no country code, no trunk prefix."""


def caller_phone(number: str, region: str) -> CallerPhone | None:
    """Read the caller's number in the tenant's default region; None if it is not a phone number."""
    e164 = normalise_phone(number, region)
    if e164 is None:
        return None
    parsed = phonenumbers.parse(e164, None)
    return CallerPhone(e164=e164, national=phonenumbers.national_significant_number(parsed))


def _explicitly_international(raw: str) -> bool:
    return raw.lstrip().startswith(("+", "00"))


# Punctuation libphonenumber ignores: a number that is only digits and these reads as its digits do.
_PUNCTUATION = re.compile(r"[ \-.()]")
_DIGITS = re.compile(r"\+?\d+")


def _normalised(number: str, region: str, seen: dict[str, str | None]) -> str | None:
    """``normalise_phone``, once per number of one contact: the typed ``+64 9 555 0123`` and
    HubSpot's calculated ``+6495550123`` are the same digits and need one parse, not two.
    ``seen`` lives for one contact's parse only; nothing is kept beyond it."""
    key = _PUNCTUATION.sub("", number)
    if not _DIGITS.fullmatch(key):
        return normalise_phone(number, region)
    if key not in seen:
        seen[key] = normalise_phone(key, region)
    return seen[key]


def _e164_forms(
    properties: Mapping[str, Any],
    raw_name: str,
    calculated_name: str,
    region: str,
    seen: dict[str, str | None],
) -> list[str]:
    """The E.164 readings of one stored number, most trustworthy first.

    A number typed with its country code is read as typed. Otherwise HubSpot's calculated
    value wins (it was made with the contact's country, which this SDK does not know); the
    number is read in the tenant's default region only when HubSpot has no such value.
    """
    raw = _text(properties, raw_name)
    calculated = _text(properties, calculated_name)
    readings: list[str | None] = []
    if raw is not None and _explicitly_international(raw):
        readings.append(_normalised(raw, region, seen))
    if calculated is not None:
        readings.append(_normalised(calculated, region, seen))
    if raw is not None and not any(readings):
        readings.append(_normalised(raw, region, seen))
    unique: list[str] = []
    for reading in readings:
        if reading is not None and reading not in unique:
            unique.append(reading)
    return unique


def contact_phones(properties: Mapping[str, Any], region: str) -> list[str]:
    seen: dict[str, str | None] = {}
    return _e164_forms(properties, "phone", "hs_calculated_phone_number", region, seen) + _e164_forms(
        properties, "mobilephone", "hs_calculated_mobile_number", region, seen
    )
