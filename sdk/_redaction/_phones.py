"""Phone numbers, judged by Google's libphonenumber data (the ``phonenumbers`` package).

``PhoneNumberMatcher`` is not used: it re-scans the whole text once per
region and costs about 0.9 ms per 2 KB for a single region, more than the
whole redaction budget. Instead the engine's one digit scan hands over
candidate runs, and only runs that look dialable are parsed:

* ``+CC ...`` or ``00CC ...``: international form, valid in any country (this
  is how EU numbers are recognised by default);
* a leading trunk ``0``: national form for the configured regions (NZ, AU, GB
  and IE by default; national EU forms such as German ones accept most
  0-prefixed digit strings, so they are opt-in per policy);
* ten digits starting 2-9, or eleven starting 1: North American form.

``phonenumbers.parse`` costs 20-140 us, so it is avoided where possible: a
national or international number is stripped of its prefix, checked against
the region's possible lengths and general pattern (about a microsecond, and
most candidates stop there) and only then validated against the region's
number types. International and North American numbers are recognised in
every policy; so the default regions are about trunk-0 national forms only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, NamedTuple

import phonenumbers
from phonenumbers import NumberParseException

from sdk._redaction._phone_rules import national_grouping, valid_for_region, valid_international

__all__ = ["DEFAULT_NATIONAL_REGIONS", "NANP_CUTS", "PhoneMatch", "boundaries", "match_phone"]

DEFAULT_NATIONAL_REGIONS: Final = ("NZ", "AU", "GB", "IE")
_NANP: Final = ("US",)
NANP_CUTS: Final = frozenset({3, 6})
"""Where libphonenumber's national format cuts every valid North American number: (201) 555-0123.

A run read as North American is conventional only if its own cuts are among
these, so any other grouping can be ruled out without validating it
(``tests/redaction/test_fast_paths.py`` holds this to the metadata)."""


class PhoneMatch(NamedTuple):
    """A valid number, and how closely it was written in its country's own digit grouping.

    ``exact``: the groups are the ones libphonenumber formats (``021 123 4567``).
    ``conventional``: the groups are those or coarser (``021 1234567``, ``0211234567``);
    a grouping that splits inside a conventional group (``2024-05-15 10``) is neither.
    """

    international: bool
    exact: bool
    conventional: bool
    north_american: bool


def match_phone(
    digits: str,
    groups: tuple[int, ...],
    *,
    plus: bool,
    paren: bool = False,
    regions: tuple[str, ...] = DEFAULT_NATIONAL_REGIONS,
) -> PhoneMatch | None:
    """Return a match if ``digits`` (grouped as ``groups``) is a valid phone number, else None.

    ``plus``: a "+" precedes the digits; a leading 00 is read as the same prefix.
    """
    if plus or (digits.startswith("00") and len(digits) > 9):
        if not _international(digits if plus else digits[2:]):
            return None
        return PhoneMatch(international=True, exact=True, conventional=True, north_american=False)
    if digits[0] == "0":
        tries = regions
    elif (len(digits) == 10 and digits[0] != "1") or (len(digits) == 11 and digits[0] == "1"):
        tries = _NANP
    elif paren:
        tries = (*regions, *_NANP)
    else:
        return None
    # A number can be valid in two regions ("02 1234 5595": a Sydney landline, and an NZ
    # mobile grouped 021 234 5595); the region whose grouping it is written in wins.
    best: PhoneMatch | None = None
    for region in tries:
        parsed = _national(digits, region)
        if parsed is None:
            continue
        if len(groups) == 1:  # unspaced: coarser than any grouping, and no need to format
            return PhoneMatch(
                international=False, exact=False, conventional=True, north_american=region in _NANP
            )
        # The groups of format_number(parsed, NATIONAL), without its per-call metadata lookups.
        expected = national_grouping(*parsed)
        match = PhoneMatch(
            international=False,
            exact=expected == groups,
            conventional=boundaries(groups) <= boundaries(expected),
            north_american=region in _NANP,
        )
        if match.exact:
            return match
        if best is None or (match.conventional and not best.conventional):
            best = match
    return best


def boundaries(groups: tuple[int, ...]) -> set[int]:
    """The offsets at which ``groups`` cut the digits: (3, 3, 4) cuts at 3 and 6."""
    cuts, position = set(), 0
    for size in groups[:-1]:
        position += size
        cuts.add(position)
    return cuts


class _Region:
    """What is needed to rule out most digit strings for a region without parsing them."""

    __slots__ = ("country_code", "lengths", "trunk")

    def __init__(self, region: str) -> None:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None or metadata.general_desc is None:
            raise ValueError(f"no phone metadata for {region}")
        self.country_code = metadata.country_code
        self.trunk = metadata.national_prefix or ""
        self.lengths = frozenset(metadata.general_desc.possible_length or ())


@lru_cache(maxsize=64)
def _region(region: str) -> _Region:
    return _Region(region)


def _national(digits: str, region: str) -> tuple[int, str] | None:
    """Validate a number written in ``region``'s national form: its calling code and national number.

    ``phonenumbers.parse`` costs 20-140 us; stripping the trunk prefix and
    checking the region's possible lengths and general pattern first rules
    out most candidates in about a microsecond, and a number that passes is
    validated against the region's number types without building a
    ``PhoneNumber`` (only its calling code and national number are needed).
    """
    info = _region(region)
    trunk = info.trunk
    if region in _NANP and len(digits) == 10:
        significant = digits
    elif len(trunk) == 1:
        if not digits.startswith(trunk):
            return None  # national numbers there are written with the trunk prefix
        significant = digits[1:]
    else:
        # No single-digit trunk prefix (Italy, Spain...): let it parse.
        parsed = _parse(digits, region)
        if parsed is None:
            return None
        return parsed.country_code or 0, phonenumbers.national_significant_number(parsed)
    if significant.startswith("0") or len(significant) not in info.lengths:
        return None
    if not valid_for_region(significant, region):  # the general pattern first, then the types
        return None
    return info.country_code or 0, significant  # no leading 0: as national_significant_number writes it


def _international(digits: str) -> bool:
    """Validate the digits after a ``+``: a country code (prefix-free, 1-3 digits), then the number."""
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            significant = digits[size:]
            if not significant or significant.startswith("0"):
                # Italian numbers keep their 0, and "+64 (0)21 ..." carries a stray trunk 0.
                return _parse("+" + digits, None) is not None
            return valid_international(country_code, significant)
    return False


def _parse(number: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None
