"""Check-digit and structure validators, one per identifier type.

Where a maintained library implements a check it is the reference:
``python-stdnum`` for IBAN (the SWIFT registry's per-country structure,
read from stdnum here; its ISO 7064 mod 97-10 is one translation and one
modulo here, ``tests/redaction/test_fast_paths.py`` holding the whole check
equal to stdnum's ``is_valid``), and for Luhn, NZ IRD, AU TFN, AU ABN and
UK NHS, whose weighted sums are computed here from tables because they run on
every digit run of a text (``tests/redaction/test_fast_checks.py`` holds each
equal to stdnum's); ``python-nhi`` for the NZ NHI (both the old mod-11 and
the current mod-23 rule of HISO 10046:2025). Hand-written here, because
neither library has them: payment card network prefixes and lengths, AU
Medicare, AU IHI's prefix (its check is Luhn) and the UK National Insurance
number's prefix rules; and the US SSN's allocation rules, which stdnum has
but only behind an input-cleaning entry point too slow for every nine-digit
run (``tests/redaction/test_checks.py`` holds the two to agreement).

Every function takes the compact form (separators already removed) and
returns a bool; none raises."""

from __future__ import annotations

import re
import string
from functools import cache
from types import MappingProxyType
from typing import Final

import nhi as _nhi
from stdnum import iban as _iban
from stdnum import numdb as _numdb

__all__ = [
    "MIN_CARD_DIGITS",
    "card_network",
    "iban_length",
    "is_abn",
    "is_card",
    "is_iban",
    "is_ihi",
    "is_ird",
    "is_medicare",
    "is_nhi",
    "is_nhs",
    "is_nino",
    "is_ssn",
    "is_tfn",
    "luhn_ok",
]


# The engine hands over compact ASCII digit strings, at a rate of a hundred runs per
# number-dense text, so the libraries' arithmetic is not called there: their ``is_valid``
# first re-cleans the input (ten times the check itself), and even their bare checksums
# (``sum(w * int(n) for ...)``: 3-7 us) cost more than the whole run should. The same
# sums are computed here from tables, a few C-level operations each, and
# ``tests/redaction/test_fast_checks.py`` holds every one of them equal to the library's
# (each table exhaustively, each check on arbitrary digit strings).

# Each digit doubled, its digits summed: 0 2 4 6 8 1 3 5 7 9 (always one digit).
_LUHN_DOUBLED: Final = bytes.maketrans(b"0123456789", b"0246813579")


def luhn_ok(digits: str) -> bool:
    """Luhn, as stdnum's ``luhn.checksum(digits) == 0``, summed as bytes (an ASCII digit is 48 plus it)."""
    code = digits.encode("ascii")
    return (sum(code[-1::-2]) + sum(code[-2::-2].translate(_LUHN_DOUBLED)) - 48 * len(code)) % 10 == 0


_TRIPLES: Final = tuple(f"{n:03d}" for n in range(1000))


def _table(weights: tuple[int, ...]) -> dict[str, int]:
    """The weighted sum of every string of ``len(weights)`` (at most three) digits."""
    size = len(weights)
    first, second, third = ([weight * value for value in range(10)] for weight in (0,) * (3 - size) + weights)
    keys = _TRIPLES if size == 3 else tuple(f"{n:0{size}d}" for n in range(10**size))
    values = [x + y + z for x in first for y in second for z in third][: 10**size]
    return dict(zip(keys, values, strict=True))


def _tables(weights: tuple[int, ...]) -> tuple[dict[str, int], ...]:
    """Tables for ``weights`` in threes from the left (the last may be shorter)."""
    return tuple(_table(weights[at : at + 3]) for at in range(0, len(weights), 3))


# stdnum's weights, cut in threes: au.tfn (nine digits; eight take the first eight weights),
# nz.ird (primary, secondary, on the first eight digits zero-filled), au.abn (on the nine
# digits after the check digits), gb.nhs (one to ten, from the right); Medicare is ours.
_TFN9: Final = _tables((1, 4, 3, 7, 5, 8, 6, 9, 10))
_TFN8: Final = _tables((1, 4, 3, 7, 5, 8, 6, 9))
_IRD_PRIMARY: Final = _tables((3, 2, 7, 6, 5, 4, 3, 2))
_IRD_SECONDARY: Final = _tables((7, 4, 3, 2, 5, 2, 7, 6))
_ABN: Final = _tables((3, 5, 7, 9, 11, 13, 15, 17, 19))
_NHS: Final = _tables((10, 9, 8, 7, 6, 5, 4, 3, 2, 1))
_MEDICARE: Final = _tables((1, 3, 7, 9, 1, 3, 7, 9))


_MAESTRO: Final = frozenset({5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763})


def card_network(digits: str) -> str | None:
    """Name the card network whose issuer prefixes and lengths ``digits`` fits, if any.

    The table follows the networks' published IIN ranges; it decides only
    whether a Luhn-valid run of digits is shaped like a real card, so that a
    16-digit order number starting with 1 or 9 is not taken for one.
    """
    n = len(digits)
    if not 12 <= n <= 19:
        return None
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if n == 16 and (51 <= p2 <= 55 or 2221 <= p4 <= 2720):
        return "mastercard"
    if n == 15 and p2 in (34, 37):
        return "amex"
    if 16 <= n <= 19 and 2200 <= p4 <= 2204:
        return "mir"
    if 16 <= n <= 19 and (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925):
        return "discover"
    if 16 <= n <= 19 and 3528 <= p4 <= 3589:
        return "jcb"
    if 14 <= n <= 19 and (300 <= p3 <= 305 or p4 == 3095 or p2 in (36, 38, 39)):
        return "diners"
    if 16 <= n <= 19 and p2 in (62, 81):
        return "unionpay"
    if n == 16 and (p2 in (60, 82) or p3 == 508):
        return "rupay"
    if n == 16 and p4 == 9792:
        return "troy"
    # Maestro: its issuer ranges, not the "50, 56-69" folklore, which would make one
    # in ten 13-19 digit numbers starting with 6 a card. Issued from 12 digits, but
    # 12-digit cards are out of circulation and 12 is the commonest order-number length.
    if n >= 13 and (p4 in _MAESTRO or p6 in (676770, 676774)):
        return "maestro"
    return None


MIN_CARD_DIGITS: Final = 13
"""The fewest digits ``card_network`` names a network for (Maestro's 12-digit cards are retired)."""
_CARD_FIRST_DIGITS: Final = frozenset("2345689")  # the first digits of every range above


def is_card(digits: str) -> bool:
    return (
        12 <= len(digits) <= 19
        and digits[0] in _CARD_FIRST_DIGITS
        and luhn_ok(digits)
        and card_network(digits) is not None
    )


def is_ihi(digits: str) -> bool:
    """AU Individual Healthcare Identifier: 16 digits, prefix 800360, Luhn."""
    return len(digits) == 16 and digits.startswith("800360") and luhn_ok(digits)


def is_ird(digits: str) -> bool:
    """NZ IRD number: mod 11 with the primary and, when that gives 10, the secondary weights.

    stdnum's ``calc_check_digit(digits[:-1]) == digits[-1]``: the digits before the check
    digit, zero-filled to eight; a check of 10 under both weight sets matches no digit.
    """
    if len(digits) not in (8, 9) or not 10_000_000 < int(digits) < 150_000_000:
        return False
    body = digits[:-1].zfill(8)
    a, b, c = _IRD_PRIMARY
    check = -(a[body[:3]] + b[body[3:6]] + c[body[6:]]) % 11
    if check == 10:
        a, b, c = _IRD_SECONDARY
        check = -(a[body[:3]] + b[body[3:6]] + c[body[6:]]) % 11
    return check < 10 and digits[-1] == _DIGIT[check]


_DIGIT: Final = "0123456789"


def is_tfn(digits: str) -> bool:
    """AU TFN: stdnum's ``au.tfn.checksum(digits) == 0`` (eight digits take the first eight weights)."""
    n = len(digits)
    if n == 9:
        a, b, c = _TFN9
    elif n == 8:
        a, b, c = _TFN8
    else:
        return False
    return (a[digits[:3]] + b[digits[3:6]] + c[digits[6:]]) % 11 == 0


def is_abn(digits: str) -> bool:
    """AU ABN: stdnum's ``au.abn.calc_check_digits(digits[2:]) == digits[:2]`` (mod 89, 11-99)."""
    if len(digits) != 11:
        return False
    a, b, c = _ABN
    weighted = -(a[digits[2:5]] + b[digits[5:8]] + c[digits[8:]])
    return digits[:2] == str(11 + (weighted - 1) % 89)


_SSN_MISUSED: Final = frozenset({"078051120", "457555462", "219099999"})


def is_ssn(digits: str) -> bool:
    """US SSN: no area 000, 666 or 9xx, no group 00, no serial 0000, none of the famous misuses.

    The SSN has no check digit; these are the SSA's allocation rules, the same
    as stdnum's ``us.ssn``. They are written out because stdnum has no entry
    point that skips re-cleaning the input (10 us, on every nine-digit run);
    a test holds the two to agreement.
    """
    if len(digits) != 9 or digits[0] == "9" or digits[:3] in ("000", "666"):
        return False
    return digits[3:5] != "00" and digits[5:] != "0000" and digits not in _SSN_MISUSED


def is_nhs(digits: str) -> bool:
    """UK NHS number: stdnum's ``gb.nhs.checksum(digits) == 0`` (weights ten to one, mod 11)."""
    if len(digits) != 10:
        return False
    a, b, c, d = _NHS
    return (a[digits[:3]] + b[digits[3:6]] + c[digits[6:9]] + d[digits[9:]]) % 11 == 0


def is_medicare(digits: str) -> bool:
    """AU Medicare card number: 10 digits, or 11 with the individual reference number.

    The first digit is 2-6, the ninth is the weighted sum of the first eight
    mod 10, the tenth is the card's issue number; an eleventh digit is the
    person's position on the card (1-9). No library implements this.
    """
    n = len(digits)
    if n not in (10, 11) or digits[0] not in "23456":
        return False
    if n == 11 and digits[10] == "0":
        return False
    a, b, c = _MEDICARE
    return (a[digits[:3]] + b[digits[3:6]] + c[digits[6:8]]) % 10 == int(digits[8])


def iban_length(country: str) -> int | None:
    """Return the IBAN length the SWIFT registry (as shipped in stdnum) gives ``country``."""
    registered = _iban_registry(country.upper())
    return registered[0] if registered is not None else None


_IBAN_DB: Final = _numdb.get("iban")
# stdnum's mod 97-10 checksum reads each letter as its base-36 value (A is 10): one translation.
_BASE36: Final = str.maketrans({letter: str(int(letter, 36)) for letter in string.ascii_letters})


@cache  # keyed by two letters in capitals: at most 676 entries, so no eviction to thrash on
def _iban_registry(country: str) -> tuple[int, re.Pattern[str]] | None:
    """``country``'s IBAN length and account-part structure, compiled as stdnum's validation does."""
    info = _IBAN_DB.info(country)
    structure = info[0][1].get("bban") if info else None
    if not structure:
        return None
    length = 4 + sum(int(count) for count in re.findall(r"(\d+)!", structure))
    return length, _iban._struct_to_re(structure)


def is_iban(compact: str) -> bool:
    """IBAN: mod 97-10 and the country's registered structure, as stdnum's ``is_valid`` checks them.

    National checks beyond the registry (``check_country``) are skipped: a
    number that passes mod 97 in the registered shape is an account number for
    redaction purposes, whatever a bank's internal check says. The registry's
    structure is compiled once per country rather than on every call (that
    lookup was four fifths of ``is_valid``'s 28 us), and mod 97 reads the
    letters as base-36 values in one translation rather than one ``int`` per
    character; a test holds this to ``is_valid`` on generated numbers.
    """
    if len(compact) < 5 or not compact.isascii() or not compact.isalnum():
        return False
    if int((compact[4:] + compact[:4]).translate(_BASE36)) % 97 != 1:
        return False  # the cheap part first; most non-IBANs stop here
    registered = _iban_registry(compact[:2])
    return registered is not None and registered[1].match(compact[4:]) is not None


# python-nhi's character values: digits as themselves, letters A-Z without I and O as 1-24.
_NHI_LETTERS: Final = MappingProxyType(
    {letter: ord(letter) - 64 - (letter > "I") - (letter > "O") for letter in "ABCDEFGHJKLMNPQRSTUVWXYZ"}
)
_NHI_DIGITS: Final = MappingProxyType({digit: int(digit) for digit in string.digits})


def is_nhi(compact: str) -> bool:
    """NZ NHI, old (AAANNNC, mod 11) or new (AAANNAX, mod 23) format.

    Test values (starting with Z) are accepted: they are format-valid, and
    masking them costs nothing while letting test data exercise the path.
    python-nhi's ``is_nhi`` is the reference; for ASCII (all the engine hands
    over) its sums are computed here from tables, a quarter of its cost on a
    path every lettered chain of a text takes (``tests/redaction/test_nhi_check.py``
    holds the two equal).
    """
    if not compact.isascii():
        return bool(_nhi.is_nhi(compact, allow_test_values=True))
    if len(compact) != 7:
        return False
    value = compact.upper()
    letters, digits = _NHI_LETTERS, _NHI_DIGITS
    first, second, third, fourth, fifth, sixth, check = tuple(value)
    if not (first in letters and second in letters and third in letters):
        return False
    if not (fourth in digits and fifth in digits):
        return False
    total = 7 * letters[first] + 6 * letters[second] + 5 * letters[third]
    total += 4 * digits[fourth] + 3 * digits[fifth]
    if sixth in letters and check in letters:  # new format: mod 23, the check a letter
        return 23 - (total + 2 * letters[sixth]) % 23 == letters[check]
    if sixth in digits and check in digits:  # old format: mod 11, a remainder of 0 never valid
        remainder = (total + 2 * digits[sixth]) % 11
        return remainder != 0 and (11 - remainder) % 10 == digits[check]
    return False


_NINO_BAD_PREFIXES: Final = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def is_nino(compact: str) -> bool:
    """UK National Insurance number: two letters, six digits, suffix A-D, HMRC's prefix rules.

    The first letter is never D, F, I, Q, U or V; the second never D, F, I,
    O, Q, U or V; and the prefixes BG, GB, KN, NK, NT, TN and ZZ are not
    allocated. No library implements this.
    """
    value = compact.upper()
    if len(value) != 9 or not (value[:2].isalpha() and value[2:8].isdigit()):
        return False
    if value[8] not in "ABCD" or value[0] in "DFIQUV" or value[1] in "DFIOQUV":
        return False
    return value[:2] not in _NINO_BAD_PREFIXES
