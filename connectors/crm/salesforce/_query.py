"""SOQL and SOSL that no input can change, and Salesforce record ids.

Every query here is a fixed template with one slot for caller input, and the
slot is filled by the SDK's escaping layer for Salesforce
(:mod:`sdk.querylang.soql`): SOQL string literals with Salesforce's "Quoted
String Escape Sequences", SOSL search terms with every reserved character
escaped and anything but a plain word sent as a quoted phrase. Values the
layer cannot carry (other control and invisible characters, lone surrogates,
blank or overlong text) are refused with InvalidArgumentsError, a ValueError;
none of them can be part of an email address or a phone number.
"""

from __future__ import annotations

import re

import phonenumbers

from sdk.querylang import soql

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

# --- the queries -----------------------------------------------------------------------------------

_FIELDS = ", ".join(CONTACT_FIELDS)


def contacts_by_email(email: str, limit: int) -> str:
    """SOQL for the contacts whose Email equals ``email`` (Salesforce compares case-insensitively)."""
    literal = soql.literal(email)
    # The one input is a literal made by the SDK's SOQL layer, which escapes every quote and backslash.
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
    terms = soql.find_any(soql.find_term(term) for term in phone_search_terms(e164))
    return (
        f"FIND {terms} IN PHONE FIELDS RETURNING Contact({_FIELDS} "
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
