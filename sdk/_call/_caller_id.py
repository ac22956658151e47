"""Caller ID as telephony hands it over: ``tel:`` and ``sip:`` URIs, numbers, or withheld.

What reaches ``conv.customer_context(phone=...)`` is rarely a clean number. A SIP
trunk or a CPaaS webhook passes the ``From`` header's URI (``sip:+6421...@carrier;
user=phone``, ``"Aroha" <sips:021...@pbx>``), a ``tel:`` URI (RFC 3966, possibly a
local number with its ``phone-context``), a national or E.164 number, or nothing
at all because the caller withheld it: ``anonymous`` (RFC 3323's
``sip:anonymous@anonymous.invalid``), ``unknown``, ``restricted``, ``private``,
``unavailable`` or an empty string. A withheld caller is a normal call, not an
error: the context says "unidentified" and the agent asks who is calling.

:func:`read_caller_id` turns the text into what to look up: the number's text
(in the form libphonenumber reads) and, when a ``tel:`` URI names the country in
its ``phone-context``, the region to read a local number in. Extensions and URI
parameters are dropped (an extension is not the caller's number); the host of a
SIP URI is never used. Nothing here echoes the value in an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import phonenumbers

from sdk._connector import normalise_phone
from sdk._errors import InvalidArgumentsError

__all__ = ["WITHHELD", "CallerId", "caller_identity", "read_caller_id"]

MAX_CALLER_ID = 256
"""Longest caller ID text read: a From header URI with parameters fits; anything longer is refused."""

WITHHELD = frozenset(
    {
        "anonymous",
        "unknown",
        "restricted",
        "private",
        "unavailable",
        "withheld",
        "blocked",
        "anonymous.invalid",
    }
)
"""What carriers and SIP stacks put where a withheld number would be (compared case-insensitively)."""

_NAME_ADDR = re.compile(r'^\s*(?:"[^"]*"|[^<"]*)\s*<([^>]*)>')
_SCHEME = re.compile(r"^(tel|sips?):", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-.()\u00a0]")
_DIALLED = re.compile(r"^\+?[0-9]{1,20}$")


@dataclass(frozen=True, slots=True)
class CallerId:
    """A caller ID read: withheld, or a number to look up (and the region a local one is in)."""

    number: str | None
    """Digits with an optional leading ``+``; None when the caller withheld their number."""
    region: str | None = None
    """ISO region a ``tel:`` URI's ``phone-context`` gave the local number, else None (the tenant's)."""

    @property
    def withheld(self) -> bool:
        return self.number is None


def _withheld(text: str) -> bool:
    return text == "" or text.casefold() in WITHHELD


def _context_region(parameters: list[str]) -> str | None:
    """The region of ``;phone-context=+64`` (a global number prefix); a domain context names none."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().casefold() == "phone-context":
            digits = _SEPARATORS.sub("", unquote(value))
            if digits.startswith("+") and digits[1:].isdigit() and 1 <= len(digits) - 1 <= 3:
                region = phonenumbers.region_code_for_country_code(int(digits[1:]))
                return None if region == phonenumbers.UNKNOWN_REGION else region
    return None


def read_caller_id(raw: str) -> CallerId | None:
    """Read a caller ID; None when it is neither withheld nor a number (the caller's error says so).

    Withheld: empty or blank text, one of :data:`WITHHELD`, or a URI whose user part is one (or
    empty). A number: ``+`` and digits after the scheme, display name, URI parameters and visual
    separators are taken off; whether it is a possible number is for libphonenumber to say.
    """
    if len(raw) > MAX_CALLER_ID:
        return None
    text = raw.strip()
    if _withheld(text):
        return CallerId(None)
    framed = _NAME_ADDR.match(text)
    if framed is not None:
        text = framed.group(1).strip()
    region: str | None = None
    scheme = _SCHEME.match(text)
    if scheme is not None:
        rest = text[scheme.end() :].lstrip("/")
        if scheme.group(1).casefold() == "tel":
            number, *parameters = rest.split(";")
            region = _context_region(parameters)
        else:
            # sip:user[:password]@host;params?headers — only the user part can hold a number.
            user = rest.partition("@")[0] if "@" in rest else rest
            number = user.partition(";")[0].partition(":")[0].partition("?")[0]
        text = unquote(number).strip()
        if _withheld(text):
            return CallerId(None)
    digits = _SEPARATORS.sub("", text)
    if not _DIALLED.fullmatch(digits):
        return None
    return CallerId(digits, region)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def caller_identity(phone: object, email: object, *, region: str) -> dict[str, str]:
    """What ``customer_context`` looks the caller up by: ``phone`` in E.164 and/or ``email``.

    Validated once, so one bad value fails the call instead of every source. A withheld caller ID
    adds nothing: an empty identity means the caller is unidentified. ``region`` is the tenant's,
    for a number without a country code. Errors never repeat the value.
    """
    if phone is None and email is None:
        raise InvalidArgumentsError("customer_context: pass the caller's phone or email (or both)")
    identity: dict[str, str] = {}
    if phone is not None:
        caller = read_caller_id(phone) if isinstance(phone, str) else None
        e164 = None
        if caller is not None and caller.number is not None:
            e164 = normalise_phone(caller.number, caller.region or region)
        if caller is None or (caller.number is not None and e164 is None):
            raise InvalidArgumentsError(
                f"customer_context: phone is not a phone number in the tenant's default region ({region}) "
                "or in international form such as +64 21 555 0100, nor a tel: or sip: URI of one, nor a "
                "withheld caller ID"
            )
        if e164 is not None:
            # E.164 for every source: the same caller typed two ways shares one set of cache entries.
            identity["phone"] = e164
    if email is not None:
        if not isinstance(email, str) or not 3 <= len(email) <= 254 or not _EMAIL.fullmatch(email):
            raise InvalidArgumentsError("customer_context: email is not an email address")
        identity["email"] = email
    return identity
