"""Short fields as a renderer hands them to redaction, and policies to redact them under.

``field(rng)`` makes one string of the kinds a rendered record holds: E.164,
international and national phone numbers of every region libphonenumber
knows (valid, and with their last digits changed), email addresses (some
with an identifier in the local part), ids of letters and digits, numbers of
every length, lettered identifiers, and two or three of these next to each
other, so that a kept phone number or address overlaps or neighbours
something a policy masks. ``policy(rng)`` picks keep, mask or last4 per
type (keep most often for phone and email, as tenants do), a strict set
and phone regions. Values come from ``vectors`` and ``forms``, which compute
check digits independently of the engine.
"""

from __future__ import annotations

import random
import string
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from sdk._redaction import IdentifierType, RedactionAction, RedactionPolicy
from sdk._redaction._types import CONTEXT_DEPENDENT
from tests.redaction import forms
from tests.redaction import vectors as v

__all__ = ["REGIONS", "batch", "email", "field", "identifier", "phone", "policy", "record_id"]

T = IdentifierType
_ACTIONS = tuple(RedactionAction)
_ALNUM = string.ascii_letters + string.digits
REGIONS = ("NZ", "AU", "GB", "IE", "US", "DE", "FR", "IT", "JP", "IN", "BR", "ZA", "AT", "CH", "SG", "HK")
_TYPES = (
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.VOIP,
)
_FORMATS = (
    PhoneNumberFormat.E164,
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
)
_JOINS = ("", " ", "  ", "-", " - ", ", ", ". ", ":", "/", "@", "\n", "(", ") ", " +", ".")
_WORDS = ("", "", "", "IRD", "TFN", "NHS", "SSN", "Medicare", "NHI", "licence", "call", "ph", "order", "ABN")


@cache
def _examples() -> tuple[phonenumbers.PhoneNumber, ...]:
    """Example numbers of every supported region, of each of a few types (shipped metadata only)."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.append(example)
    return tuple(found)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def phone(rng: random.Random) -> str:
    """A phone number of any region in one of its written forms; one in three no longer valid."""
    example = rng.choice(_examples())
    national = str(example.national_number)
    if rng.random() < 0.6:
        keep = max(1, len(national) - rng.randint(1, 4))
        national = national[:keep] + _digits(rng, len(national) - keep)
    if rng.random() < 0.15:
        national += _digits(rng, 1)  # one digit too many
    number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(national))
    written = phonenumbers.format_number(number, rng.choice(_FORMATS))
    if rng.random() < 0.1:
        written = "00" + written.lstrip("+")
    return written


def email(rng: random.Random) -> str:
    local = rng.choice(
        [
            "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 8))),
            f"aroha.{rng.randint(0, 10 ** rng.randint(1, 9))}",
            v.card(rng),
            v.ird(rng),
            "+64" + _digits(rng, 9),
            "o'brien",
            f"in_{_digits(rng, 6)}",
        ]
    )
    domain = rng.choice(["example.test", "example.co.nz", "ex-ample.com", "x.io", "example.c"])
    return f"{local}@{domain}"


def identifier(rng: random.Random) -> str:
    """An identifier of any type, or a look-alike failing its check, with or without its words."""
    kind = rng.choice(list(IdentifierType))
    made = forms.valid(kind, rng) if rng.random() < 0.6 else forms.invalid(kind, rng)
    if made is None:
        return email(rng)
    return f"{made.context} {made.written}".strip() if rng.random() < 0.5 else made.written


def record_id(rng: random.Random) -> str:
    """Ids as vendors write them: digits, prefixes, hyphenated hex, letters and digits mixed."""
    return rng.choice(
        [
            str(rng.randint(0, 10 ** rng.randint(1, 19))),
            rng.choice(["in_", "sub_", "cus_", "ch_"]) + "".join(rng.choices(_ALNUM, k=14)),
            "-".join(
                "".join(rng.choices("0123456789ABCDEF", k=size))
                for size in rng.choice([(8, 4), (8, 4, 4, 4, 12)])
            ),
            "".join(rng.choices(string.ascii_uppercase, k=rng.randint(1, 4)))
            + rng.choice(["", " ", "-"])
            + _digits(rng, rng.randint(1, 9))
            + "".join(rng.choices(string.ascii_letters, k=rng.randint(0, 2))),
            f"Fibre {rng.randint(1, 1000)}",
            " ".join(_digits(rng, rng.randint(1, 4)) for _ in range(rng.randint(2, 7))),
        ]
    )


def _piece(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.35:
        return phone(rng)
    if pick < 0.5:
        return email(rng)
    if pick < 0.75:
        return identifier(rng)
    return record_id(rng)


def field(rng: random.Random) -> str:
    """One short field: usually one piece, sometimes two or three joined, sometimes with a word."""
    count = rng.choice((1, 1, 1, 2, 2, 3))
    pieces = [_piece(rng) for _ in range(count)]
    text = "".join(piece + rng.choice(_JOINS) for piece in pieces[:-1]) + pieces[-1]
    word = rng.choice(_WORDS)
    return f"{word} {text}" if word else text


def policy(rng: random.Random) -> RedactionPolicy:
    """Any policy: each type kept, masked or shown by its last four, phone and email kept most often."""
    actions = {kind: rng.choice(_ACTIONS) for kind in IdentifierType}
    for kind in (T.PHONE, T.EMAIL):
        if rng.random() < 0.6:
            actions[kind] = RedactionAction.KEEP
    if rng.random() < 0.3:  # the tenant default and its near neighbours
        actions = {kind: RedactionAction.MASK for kind in IdentifierType}
        actions[T.PHONE] = actions[T.EMAIL] = RedactionAction.KEEP
    strict = frozenset(kind for kind in CONTEXT_DEPENDENT if rng.random() < 0.3)
    regions = tuple(rng.sample(REGIONS, rng.randint(0, 4)))
    return RedactionPolicy(identifiers=actions, strict=strict, phone_regions=regions)


def batch(rng: random.Random) -> list[str]:
    """A rendering's strings: fields, some repeated, some without digits."""
    texts = [field(rng) for _ in range(rng.randint(1, 12))]
    texts += rng.sample(texts, rng.randint(0, len(texts)))
    texts.append(rng.choice(["Aroha Ngata", "Change of address", "", "Kiwi Plumbing Ltd"]))
    rng.shuffle(texts)
    return texts
