"""SOQL and SOSL that no input can change, and Salesforce record ids.

Every query here is a fixed template with one slot for caller input, and the
slot is filled by an escaper that follows Salesforce's *SOQL and SOSL
Reference*:

* SOQL, "Quoted String Escape Sequences": inside a ``'...'`` literal a
  backslash starts ``\\n \\r \\t \\b \\f \\" \\' \\\\``; ``\\%`` and ``\\_`` are
  allowed *only* in ``LIKE`` patterns (anywhere else a backslash is an error),
  so ``%`` and ``_`` stay literal in ``=`` comparisons and are escaped only for
  ``LIKE``.
* SOSL, "FIND ... Reserved Characters": ``? & | ! { } [ ] ( ) ^ ~ * : \\ " ' + -``
  are escaped with a backslash inside the ``{...}`` search term.

Characters neither language can carry safely (other control and invisible
characters, lone surrogates) are refused rather than passed through: none of
them can be part of an email address or a phone number.
"""

from __future__ import annotations

import re

import phonenumbers

__all__ = [
    "ACCOUNT_FIELDS",
    "API_VERSION",
    "CONTACT_FIELDS",
    "DATA_PATH",
    "KEY_PREFIXES",
    "contacts_by_email",
    "contacts_by_phone",
    "id_suffix",
    "phone_search_terms",
    "record_id",
    "soql_string",
    "sosl_term",
]

API_VERSION = "v60.0"
"""REST API version every request names (Spring '24).

Pinned so that the shapes this connector parses cannot change under it: a
Salesforce release adds behaviour only to its new version, and keeps each
version for years (versions 21.0 to 30.0 were retired in Summer '25, more than
ten years after release). 60.0 has everything used here; move deliberately,
re-checking the fixtures against that version's REST API Developer Guide."""

DATA_PATH = f"/services/data/{API_VERSION}"

CONTACT_FIELDS: tuple[str, ...] = (
    "Id",
    "FirstName",
    "LastName",
    "Name",
    "Email",
    "Phone",
    "MobilePhone",
    "HomePhone",
    "OtherPhone",
    "AccountId",
    "CreatedDate",
    "LastModifiedDate",
)
ACCOUNT_FIELDS: tuple[str, ...] = ("Id", "Name", "Website", "Phone", "Industry")

KEY_PREFIXES = {"Contact": "003", "Account": "001", "Task": "00T"}
"""The first three characters of every id of these standard objects."""

# --- string literals and search terms ----------------------------------------------------------

_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_SOSL_RESERVED = frozenset("?&|!{}[]()^~*:\\\"'+-")


def _check_carriable(value: str, what: str) -> None:
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise ValueError(f"{what} contains an unpaired surrogate")
        if not char.isprintable() and char not in _SOQL_ESCAPES and char != " ":
            raise ValueError(f"{what} contains a control or invisible character")


def soql_string(value: str, *, like: bool = False) -> str:
    """Return ``value`` as one SOQL string literal, quotes included.

    With ``like=True`` the ``LIKE`` wildcards ``%`` and ``_`` are escaped too,
    so that they match themselves. Raises ValueError for characters a literal
    cannot carry (see the module docstring).
    """
    _check_carriable(value, "the text")
    out: list[str] = ["'"]
    for char in value:
        escaped = _SOQL_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif like and char in "%_":
            out.append("\\" + char)
        else:
            out.append(char)
    out.append("'")
    return "".join(out)


def sosl_term(value: str) -> str:
    """Return ``value`` escaped for the ``{...}`` of a SOSL ``FIND``: every reserved character literal."""
    if any(char in "\r\n\t\b\f" for char in value):
        raise ValueError("the search text contains a control character")
    _check_carriable(value, "the search text")
    return "".join("\\" + char if char in _SOSL_RESERVED else char for char in value)


# --- the queries -----------------------------------------------------------------------------------

_FIELDS = ", ".join(CONTACT_FIELDS)


def contacts_by_email(email: str, limit: int) -> str:
    """SOQL for the contacts whose Email equals ``email`` (Salesforce compares case-insensitively)."""
    literal = soql_string(email)
    # The one input is a literal made by soql_string, which escapes every quote and backslash.
    select = f"SELECT {_FIELDS} FROM Contact WHERE Email = {literal} "  # noqa: S608
    return select + f"ORDER BY LastModifiedDate DESC LIMIT {int(limit)}"


def phone_search_terms(e164: str) -> tuple[str, ...]:
    """The digit strings a caller's number may be stored as: international, national, significant.

    Salesforce indexes phone fields without their formatting (its own samples
    search ``4155551212`` for ``(415) 555-1212``), but keeps whatever prefix was
    typed: ``+64 21 555 0100``, ``021 555 0100`` and ``21 555 0100`` are three
    different digit strings. Each is searched; results are then compared on
    their E.164 reading, so a wider search never widens what is returned.
    """
    parsed = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms = (
        e164.lstrip("+"),
        "".join(char for char in national if char.isdigit()),
        phonenumbers.national_significant_number(parsed),
    )
    unique: list[str] = []
    for form in forms:
        if form.isascii() and form.isdigit() and len(form) >= 2 and form not in unique:
            unique.append(form)
    return tuple(unique)


def contacts_by_phone(e164: str, limit: int) -> str:
    """SOSL for the contacts with any phone field holding one of the caller's number's forms."""
    terms = " OR ".join(sosl_term(term) for term in phone_search_terms(e164))
    return (
        f"FIND {{{terms}}} IN PHONE FIELDS RETURNING Contact({_FIELDS} "
        f"ORDER BY LastModifiedDate DESC LIMIT {int(limit)})"
    )


# --- record ids ----------------------------------------------------------------------------------

_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id_suffix(id15: str) -> str:
    """The three characters Salesforce appends to a 15-character id to make it case-insensitive.

    Each encodes, for five characters of the id, which of them are upper-case letters.
    """
    suffix = []
    for start in (0, 5, 10):
        bits = sum(1 << i for i, char in enumerate(id15[start : start + 5]) if "A" <= char <= "Z")
        suffix.append(_SUFFIX_CHARS[bits])
    return "".join(suffix)


def record_id(value: str, sobject: str) -> str:
    """Return ``value`` if it is an id of ``sobject`` (15 or 18 characters), else raise ValueError.

    The key prefix must be the object's (an Account id is no Contact id), and an
    18-character id's suffix must match its first 15 characters.
    """
    if not _ID.fullmatch(value):
        raise ValueError(f"must be a Salesforce {sobject} id (15 or 18 letters and digits)")
    prefix = KEY_PREFIXES[sobject]
    if not value.startswith(prefix):
        raise ValueError(f"must be a Salesforce {sobject} id, which starts with {prefix}")
    if len(value) == 18 and value[15:].upper() != id_suffix(value[:15]):
        raise ValueError("is an 18-character Salesforce id whose last three characters do not match")
    return value
