"""Stripe Search queries for this connector, built on :mod:`sdk.querylang.stripe_search`.

The quoting rules live in the SDK's escaping layer (one per query language);
this module keeps the names the connector calls and the Stripe-specific
knowledge of how phone numbers are stored. Whatever the caller said stays one
value of one clause: ``' OR email:'x`` searches for that literal text, and a
value the layer cannot carry (control characters, blank, overlong) is an
InvalidArgumentsError before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from sdk import UsageError
from sdk.querylang import stripe_search

__all__ = ["clause", "customers_query", "or_query", "phone_variants", "quote"]

_ONE_CLAUSE = re.compile(r"[a-z][a-z0-9_]*:'(?:[^'\\]|\\['\\])*'")


def quote(value: str) -> str:
    """Return ``value`` as a single-quoted Stripe search string literal."""
    return stripe_search.quote(value)


def clause(field: str, value: str) -> stripe_search.Clause:
    """Return an exact-match clause ``field:'value'`` (``field`` is ours, never the caller's)."""
    return stripe_search.clause(field, value, argument=field)


def or_query(clauses: Iterable[str]) -> stripe_search.Query:
    """Return the clauses joined by ``OR`` (one to ten, Stripe's limit).

    Takes plain strings for callers that keep a ``list[str]``, and so checks
    each is exactly one clause as :func:`clause` writes it; prefer
    :func:`customers_query`, whose clauses are typed.
    """
    checked: list[stripe_search.Clause] = []
    for one in clauses:
        if not (_ONE_CLAUSE.fullmatch(one) and one.isprintable()):
            raise UsageError("or_query joins clauses made by clause(), nothing else")
        checked.append(stripe_search.Clause(one))
    return stripe_search.any_of(checked)


def customers_query(email: str | None, e164: str | None) -> stripe_search.Query:
    """The ``find_customers`` search: the email, and every stored form of the phone number, ORed."""
    clauses: list[stripe_search.Clause] = []
    if email is not None:
        clauses.append(clause("email", email))
    if e164 is not None:
        clauses.extend(clause("phone", variant) for variant in phone_variants(e164))
    return or_query(clauses)


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
