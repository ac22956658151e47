"""Written forms of every identifier type, and same-shape look-alikes that must stay unmasked.

``valid(kind, rng)`` returns an identifier as people write it (spaced, dashed,
unspaced, in either case), with the context words it needs to be found in the
default policy (none for a card or a conventionally grouped NHS number; "IRD"
for an unspaced IRD number). ``invalid(kind, rng)`` returns the same shape
with its check failing (a broken check digit, an unallocated prefix), or for a
driver licence, which has no check, the same shape without a licence word.
Values come from ``vectors``, which computes check digits from the published
algorithms, independently of the engine.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from sdk._redaction import IdentifierType
from tests.redaction import vectors as v

T = IdentifierType

NBSP = "\u00a0"
SPACES = (
    NBSP,
    "\u2009",
    "\u202f",
    "\u2007",
    "\u3000",
)  # no-break, thin, narrow no-break, figure, ideographic
DASHES = (
    "\u2010",
    "\u2011",
    "\u2012",
    "\u2013",
    "\u2014",
    "\u2212",
    "\ufe63",
    "\uff0d",
)  # hyphens, en, em, minus
_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


@dataclass(frozen=True)
class Sample:
    """An identifier as written, and the words before it that its sentence needs (may be empty)."""

    context: str
    written: str


def full_width(value: str) -> str:
    """``value`` in full-width forms (U+FF01-FF5E), what CJK input methods type."""
    return value.translate(_FULL_WIDTH)


def _not_also(value: str, *rivals: str) -> bool:
    checks = {"ird": v.ird_ok, "tfn": v.tfn_ok, "nhs": v.nhs_ok, "medicare": v.medicare_ok, "abn": v.abn_ok}
    return not any(checks[name](value) for name in rivals)


def _fails_digit_checks(digits: str) -> bool:
    checks = (v.luhn_ok, v.ird_ok, v.tfn_ok, v.abn_ok, v.nhs_ok, v.medicare_ok)
    return not any(check(digits) for check in checks)


def _broken(kind: IdentifierType, make: Callable[[], str]) -> str:
    """A value of ``kind``'s shape that fails every digit check (so no rival type takes it either)."""
    while True:
        bad = v.broken(kind, make())
        if _fails_digit_checks(bad):
            return bad


def _ird(rng: random.Random) -> str:
    while True:
        value = v.ird(rng)
        if _not_also(value, "tfn"):
            return value


def _tfn(rng: random.Random) -> str:
    while True:
        value = v.tfn(rng)
        if _not_also(value, "ird"):
            return value


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


_PHONE_REGIONS = ("NZ", "AU", "GB", "IE", "US", "DE", "FR")


def _phone(rng: random.Random) -> str:
    region = rng.choice(_PHONE_REGIONS)
    kind = rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    while True:
        national = str(example.national_number)
        number = phonenumbers.parse(f"+{example.country_code}{national[:-3]}{_digits(rng, 3)}")
        if phonenumbers.is_valid_number(number):
            break
    forms = [PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164]
    if region in ("NZ", "AU", "GB", "IE"):
        forms.append(PhoneNumberFormat.NATIONAL)
    written = phonenumbers.format_number(number, rng.choice(forms))
    return written.replace("(", "").replace(")", "")  # "(09) 379 0000" writes its own bracket


def _invalid_phone(rng: random.Random) -> str:
    """An international-looking number that is invalid, with no valid number at its start either."""
    while True:
        country = rng.choice(["64", "61", "44", "353", "49", "33"])
        rest = _digits(rng, rng.randint(7, 10))
        number = country + rest
        valid = False
        for size in range(6, len(number) + 1):
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse("+" + number[:size]))
            except phonenumbers.NumberParseException:
                continue
            if valid:
                break
        if not valid and _fails_digit_checks(number) and _fails_digit_checks(rest):
            return f"+{country} {rest[:3]} {rest[3:6]} {rest[6:]}"


def _sep(rng: random.Random) -> str:
    return rng.choice(" -")


def valid(kind: IdentifierType, rng: random.Random) -> Sample:
    """A valid identifier of ``kind`` in one of its written forms, found by the default policy."""
    pick = rng.random()
    if kind is T.CARD:
        prefix, length = rng.choice([(p, n) for _, p, n in v.CARD_PREFIXES])
        number = v.card(rng, prefix, length)
        if pick < 0.3:
            return Sample(rng.choice(["", "card"]), number)
        sizes = (4, 6, 5) if length == 15 else (4, 4, 4, 4, 4)
        return Sample("", v.group(number, sizes, _sep(rng)))
    if kind is T.IBAN:
        number = v.iban(rng, rng.choice([country for country, _ in v.IBAN_SHAPES]))
        written = v.group(number, (4,) * 9) if pick < 0.5 else number
        return Sample("", written.lower() if rng.random() < 0.3 else written)
    if kind is T.EMAIL:
        name = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
        return Sample("", f"{name}.{rng.randint(1, 99)}@example.co.nz")
    if kind is T.PHONE:
        return Sample("", _phone(rng))
    if kind is T.NZ_IRD:
        number = _ird(rng)
        if pick < 0.4:
            sizes = (2, 3, 3) if len(number) == 8 else (3, 3, 3)
            return Sample("", v.group(number, sizes, _sep(rng)))
        if pick < 0.6 and len(number) == 8:
            return Sample("IRD", v.group("0" + number, (3, 3, 3), _sep(rng)))
        return Sample(rng.choice(["IRD", "IRD number", "GST no", "inland revenue number"]), number)
    if kind is T.NZ_NHI:
        value = v.nhi_new(rng) if pick < 0.5 else v.nhi_old(rng)
        if rng.random() < 0.3:
            return Sample(rng.choice(["NHI", "national health index"]), value.lower())
        return Sample("", value)
    if kind is T.NZ_DRIVER_LICENCE:
        value = v.driver_licence(rng)
        context = rng.choice(["driver licence", "DL", "drivers license", "licence no", "driving lic"])
        return Sample(context, value if pick < 0.8 else value.lower())
    if kind is T.AU_TFN:
        number = _tfn(rng)
        if pick < 0.5:
            return Sample("", v.group(number, (3, 3, 3), _sep(rng)))
        return Sample(rng.choice(["TFN", "tax file number"]), number)
    if kind is T.AU_ABN:
        number = v.abn(rng)
        return Sample("", v.group(number, (2, 3, 3, 3)) if pick < 0.6 else number)
    if kind is T.AU_MEDICARE:
        while True:  # one 11-digit Medicare number in 89 is also a valid ABN, which outranks it
            number = v.medicare(rng, irn=rng.random() < 0.4)
            if _not_also(number, "abn"):
                break
        if pick < 0.6:
            return Sample("", v.group(number, (4, 5, 1, 1) if len(number) == 11 else (4, 5, 1)))
        return Sample("Medicare", number)
    if kind is T.AU_IHI:
        number = v.ihi(rng)
        return Sample("", v.group(number, (4, 4, 4, 4)) if pick < 0.6 else number)
    if kind is T.US_SSN:
        number = v.ssn(rng)
        if pick < 0.6:
            return Sample("", v.group(number, (3, 2, 4), "-"))
        return Sample(rng.choice(["SSN", "social security number"]), number)
    if kind is T.UK_NHS:
        while True:
            number = v.nhs(rng)
            if _not_also(number, "medicare"):
                break
        if pick < 0.6:
            return Sample("", v.group(number, (3, 3, 4)))
        return Sample("NHS number", number)
    if kind is T.UK_NINO:
        value = v.nino(rng)
        if pick < 0.3:
            return Sample("national insurance", value.lower())
        if pick < 0.6:
            return Sample("", f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8]}")
        return Sample("", value)
    raise AssertionError(kind)  # pragma: no cover


def invalid(kind: IdentifierType, rng: random.Random) -> Sample | None:
    """A look-alike of ``kind`` that the default policy must leave alone (None for email)."""
    if kind is T.CARD:
        prefix, length = rng.choice([(p, n) for _, p, n in v.CARD_PREFIXES if n == 16])
        bad = _broken(T.CARD, lambda: v.card(rng, prefix, length))
        return Sample("card", rng.choice([bad, v.group(bad, (4, 4, 4, 4), _sep(rng))]))
    if kind is T.IBAN:
        number = v.iban(rng, rng.choice(["GB", "DE", "NL", "FR", "IE"]))
        bad = number[:2] + f"{(int(number[2:4]) + rng.randint(1, 50)) % 100:02d}" + number[4:]
        return Sample("IBAN", rng.choice([bad, v.group(bad, (4,) * 9)]))
    if kind is T.EMAIL:
        return None
    if kind is T.PHONE:
        return Sample("call", _invalid_phone(rng))
    if kind is T.NZ_IRD:
        bad = _broken(T.NZ_IRD, lambda: v.ird(rng).zfill(9))
        return Sample("IRD", rng.choice([bad, v.group(bad, (3, 3, 3), _sep(rng))]))
    if kind is T.NZ_NHI:
        value = v.nhi_new(rng) if rng.random() < 0.5 else v.nhi_old(rng)
        return Sample("NHI", v.broken(T.NZ_NHI, value))
    if kind is T.NZ_DRIVER_LICENCE:
        value = v.driver_licence(rng)
        while value[:2].upper() == "DL":
            # "DL" is the licence's own context word: DL123456 reads as "driver licence 123456".
            value = v.driver_licence(rng)
        return Sample(rng.choice(["booking reference", "flight", "seat"]), value)
    if kind is T.AU_TFN:
        bad = _broken(T.AU_TFN, lambda: v.tfn(rng))
        return Sample("TFN", rng.choice([bad, v.group(bad, (3, 3, 3), _sep(rng))]))
    if kind is T.AU_ABN:
        bad = _broken(T.AU_ABN, lambda: v.abn(rng))
        return Sample("ABN", rng.choice([bad, v.group(bad, (2, 3, 3, 3))]))
    if kind is T.AU_MEDICARE:
        bad = _broken(T.AU_MEDICARE, lambda: v.medicare(rng))
        return Sample("Medicare", rng.choice([bad, v.group(bad, (4, 5, 1))]))
    if kind is T.AU_IHI:
        bad = _broken(T.AU_IHI, lambda: v.ihi(rng))
        return Sample("IHI", rng.choice([bad, v.group(bad, (4, 4, 4, 4))]))
    if kind is T.US_SSN:
        bad = (
            rng.choice(["000", "666", f"9{_digits(rng, 2)}"])
            + f"{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        )
        if rng.random() < 0.3:
            bad = f"{rng.randint(1, 665):03d}00{rng.randint(1, 9999):04d}"
        return Sample("SSN", v.group(bad, (3, 2, 4), "-"))
    if kind is T.UK_NHS:
        bad = _broken(T.UK_NHS, lambda: v.nhs(rng))
        return Sample("NHS number", rng.choice([bad, v.group(bad, (3, 3, 4))]))
    if kind is T.UK_NINO:
        value = v.nino(rng)
        return Sample("NI number", rng.choice(["QQ", "DA", "GB", "NK", "TN", "ZZ", "FO"]) + value[2:])
    raise AssertionError(kind)  # pragma: no cover
