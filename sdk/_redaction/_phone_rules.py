"""libphonenumber's validity and formatting rules, compiled once per region: its answers at regex speed.

``phonenumbers.is_valid_number_for_region`` costs 10-30 us a call: it walks up
to eleven number-type descriptions (premium rate, toll free... fixed line,
mobile), looking each pattern up in a cache and matching it in two steps.
The engine asks it for every dialable-looking run, which made phone
validation a fifth of a number-dense text's budget. Here the same
descriptions are read once per region (lazily, on first use) and, per
number length, the patterns of the types allowing that length are joined
into one alternation: validity is then the general pattern's fullmatch and
that alternation's. These are libphonenumber's rules as its
``_number_type_helper`` applies them, not an approximation of them.

Likewise the digit grouping of a number's national format, which decides
how sure a national number written in some grouping is: ``format_number``
costs about 10 us, most of it looking up and compiling its region's formats
again on every call; here they are compiled once per calling code and
applied as libphonenumber applies them. ``tests/redaction/test_phone_rules.py``
holds both equal to phonenumbers on generated numbers of every region and
calling code.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

import phonenumbers
from phonenumbers import PhoneMetadata

__all__ = ["national_grouping", "valid_for_region", "valid_international"]

_NON_GEO: Final = "001"
_RUNS: Final = re.compile(r"\d+")
# libphonenumber's own "first group" marker in a format rule, which a national prefix rule replaces.
_FIRST_GROUP: Final = re.compile(r"(\\\d)")


class _Rules:
    """One region's (or non-geographic calling code's) validity, per national number length."""

    __slots__ = ("_by_length", "leading")

    def __init__(self, metadata: PhoneMetadata) -> None:
        # libphonenumber checks the general description, then each type in this order; a
        # number is valid if any type matches. Mobile is checked only when its pattern is
        # not the fixed line's (then a number the fixed-line pattern rejects stays invalid,
        # whatever mobile's possible lengths say).
        kinds = [
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
            metadata.fixed_line,
        ]
        if not metadata.same_mobile_and_fixed_line_pattern:
            kinds.append(metadata.mobile)
        general = metadata.general_desc
        self._by_length: dict[int, tuple[re.Pattern[str], re.Pattern[str]]] = {}
        self.leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
        if general is None or not general.national_number_pattern:
            return
        general_re = re.compile(general.national_number_pattern)
        # National significant numbers have at most 17 digits (ITU E.164 allows 15 in all).
        for length in range(1, 18):
            if general.possible_length and length not in general.possible_length:
                continue
            patterns = [
                desc.national_number_pattern
                for desc in kinds
                if desc is not None
                and desc.national_number_pattern
                and (not desc.possible_length or length in desc.possible_length)
            ]
            if patterns:
                either = re.compile("|".join(f"(?:{pattern})" for pattern in patterns))
                self._by_length[length] = (general_re, either)

    def valid(self, national: str) -> bool:
        """Whether ``national`` (a national significant number) is of one of the region's number types."""
        patterns = self._by_length.get(len(national))
        return (
            patterns is not None
            and patterns[0].fullmatch(national) is not None
            and patterns[1].fullmatch(national) is not None
        )


@cache  # keyed by region code: a few hundred at most, built from shipped metadata only
def _rules(region: str) -> _Rules | None:
    metadata = PhoneMetadata.metadata_for_region(region, None)
    return None if metadata is None else _Rules(metadata)


@cache  # keyed by calling code: a few hundred at most
def _non_geo_rules(country_code: int) -> _Rules | None:
    metadata = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    return None if metadata is None else _Rules(metadata)


def valid_for_region(national: str, region: str) -> bool:
    """``is_valid_number_for_region`` for a number of ``region``'s own calling code.

    ``national`` is the national significant number without leading zeros (a
    ``PhoneNumber`` built from it carries no Italian leading zero).
    """
    rules = _rules(region)
    return rules is not None and rules.valid(national)


@cache
def _calling_code(region: str) -> int | None:
    metadata = PhoneMetadata.metadata_for_region(region, None)
    return None if metadata is None else metadata.country_code


def valid_international(country_code: int, national: str) -> bool:
    """``is_valid_number`` for ``+<country_code><national>``, ``national`` without leading zeros.

    As libphonenumber does: the region is the calling code's only one, or the
    first of its regions whose leading digits (or, lacking those, number
    types) the number fits; then the number must be valid for that region.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return False
    region: str | None = regions[0] if len(regions) == 1 else None
    if region is None:
        for candidate in regions:
            rules = _rules(candidate.upper())
            if rules is None:
                continue
            if rules.leading is not None:
                if rules.leading.match(national) is not None:
                    region = candidate
                    break
            elif rules.valid(national):
                region = candidate
                break
        if region is None:
            return False
    if region == _NON_GEO:
        non_geo = _non_geo_rules(country_code)
        return non_geo is not None and non_geo.valid(national)
    if _calling_code(region.upper()) != country_code:
        return False
    rules = _rules(region.upper())
    return rules is not None and rules.valid(national)


_Format = tuple[re.Pattern[str] | None, re.Pattern[str], str]


@cache  # keyed by calling code: a few hundred at most
def _formats(country_code: int) -> tuple[_Format, ...] | None:
    """The national formats ``format_number`` uses for ``country_code``: its main region's.

    Each is (last leading-digits pattern, number pattern, replacement with the
    national prefix rule applied to the first group), as libphonenumber's
    ``_format_nsn_using_pattern`` builds it for the national format.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
    main = regions[0].upper()
    if main == _NON_GEO:
        metadata = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    else:
        metadata = PhoneMetadata.metadata_for_region(main, None)
    if metadata is None:
        return None
    formats: list[_Format] = []
    for number_format in metadata.number_format:
        leading = number_format.leading_digits_pattern
        replacement = number_format.format or ""
        prefix_rule = number_format.national_prefix_formatting_rule
        if prefix_rule:
            replacement = _FIRST_GROUP.sub(prefix_rule, replacement, count=1)
        formats.append(
            (
                re.compile(leading[-1]) if leading else None,
                re.compile(number_format.pattern or ""),
                replacement,
            )
        )
    return tuple(formats)


def national_grouping(country_code: int, national: str) -> tuple[int, ...]:
    """The digit groups of ``format_number(number, NATIONAL)`` (trunk prefix included) for the number.

    ``national`` is its national significant number; the number has no extension.
    """
    formats = _formats(country_code)
    written = national
    if formats is not None:
        for leading, pattern, replacement in formats:
            if (leading is None or leading.match(national) is not None) and pattern.fullmatch(national):
                written = pattern.sub(replacement, national)
                break
    return tuple(len(run) for run in _RUNS.findall(written))
