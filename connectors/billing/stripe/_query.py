"""Building Stripe Search queries that no input can change.

Stripe's search query language (https://stripe.com/docs/search#search-syntax)
requires string values in quotes and lets a backslash escape a quote inside
them. A value is therefore wrapped in single quotes with every backslash and
single quote escaped (backslashes first, so an input ending in ``\\`` cannot
escape the closing quote). Whatever the caller said, it stays one value of one
clause: ``' OR email:'x`` searches for that literal text.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers

__all__ = ["clause", "or_query", "phone_variants"]


def quote(value: str) -> str:
    """Return ``value`` as a single-quoted Stripe search string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def clause(field: str, value: str) -> str:
    """Return an exact-match clause ``field:'value'`` (``field`` is ours, never the caller's)."""
    if not field.isidentifier():
        raise ValueError("a search field is a fixed identifier")
    return f"{field}:{quote(value)}"


def or_query(clauses: Iterable[str]) -> str:
    return " OR ".join(clauses)


def phone_variants(e164: str) -> list[str]:
    """Return the ways a number is commonly stored, E.164 first.

    Stripe's ``phone`` field matches exactly the text the merchant stored, and
    the Dashboard stores what was typed (``021 555 0100``, ``+64 21 555 0100``),
    so the E.164 form alone misses most customers. The variants are produced by
    libphonenumber from the parsed number, so they contain only digits, spaces
    and ``+()-``; they are quoted anyway.
    """
    parsed = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    variants = [
        e164,
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        national,
        "".join(ch for ch in national if ch.isdigit()),
    ]
    return list(dict.fromkeys(v for v in variants if v))
