"""HubSpot payloads in and out: search bodies, record mapping, error bodies, back-off.

Pure functions of dicts, strings and headers, so each rule is tested on its own.
Shapes follow HubSpot's CRM v3 objects API (``SimplePublicObject``,
``PublicObjectSearchRequest``, the ``Error`` body) and its rate-limit headers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.crm.hubspot._phones import CallerPhone, caller_phone, contact_phones
from sdk import Account, Contact, Note, VendorPayloadError
from sdk.authoring import normalise_phone, parse_retry_after
from sdk.parsing import code_token, field_text, parse_each, record_id, response_json, timestamp

__all__ = [
    "ACCOUNT_PROPERTIES",
    "CONTACT_PROPERTIES",
    "NOTE_TO_CONTACT",
    "CallerPhone",
    "account_from",
    "caller_phone",
    "contact_from",
    "contact_matches",
    "correlation_id",
    "error_code",
    "note_body_html",
    "note_from",
    "note_input",
    "rate_limit_wait",
    "record",
    "records",
    "search_body",
    "search_cursor",
]

CONTACT_PROPERTIES: tuple[str, ...] = (
    "firstname",
    "lastname",
    "email",
    "phone",
    "mobilephone",
    # HubSpot's own E.164 reading of phone/mobilephone, made with the contact's country.
    "hs_calculated_phone_number",
    "hs_calculated_mobile_number",
    "associatedcompanyid",
    "createdate",
    "lastmodifieddate",
)
ACCOUNT_PROPERTIES: tuple[str, ...] = ("name", "domain", "phone", "industry")

NOTE_TO_CONTACT = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}
"""HubSpot's default association type from a note to a contact."""

# Properties HubSpot fills from phone/mobilephone with every formatting character and the
# country code removed: the national significant number, which is what its own UI searches.
_SEARCHABLE_PHONE = "hs_searchable_calculated_phone_number"
_SEARCHABLE_MOBILE = "hs_searchable_calculated_mobile_number"


# --- payload access ------------------------------------------------------------------------------


def record(data: Any, what: str) -> Mapping[str, Any]:
    """Return ``data`` as a HubSpot object (a JSON object with an ``id``), or raise."""
    if not isinstance(data, Mapping) or not _is_id(data.get("id")):
        raise VendorPayloadError(f"HubSpot's {what} is not an object with an id")
    return data


def _is_id(value: Any) -> bool:
    try:
        record_id(value)
    except ValueError:
        return False
    return True


def results(data: Any, what: str) -> list[Any]:
    """The ``results`` list of a HubSpot collection response, items unread; raise if there is none."""
    found = data.get("results") if isinstance(data, Mapping) else None
    if not isinstance(found, list):
        raise VendorPayloadError(f"HubSpot's {what} has no list of results")
    return found


def records(data: Any, what: str) -> list[Mapping[str, Any]]:
    """The ``results`` of a collection response that are objects with an id; the others are skipped.

    Skips are noted (see :func:`sdk.parsing.parse_each`); a list none of which is readable raises.
    """
    return parse_each(results(data, what), lambda item: record(item, what), what="result")


def _properties(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    found = obj.get("properties")
    if found is None:
        return {}
    if not isinstance(found, Mapping):
        raise VendorPayloadError("HubSpot's record has properties that are not an object")
    return found


def _text(properties: Mapping[str, Any], name: str) -> str | None:
    """A property as stripped text; None when unset, empty or null (HubSpot sends all three)."""
    return field_text(properties, name, where="HubSpot's property")


def search_cursor(data: Any) -> str | None:
    """Return ``paging.next.after`` of a collection response, or None on the last page."""
    paging = data.get("paging") if isinstance(data, Mapping) else None
    following = paging.get("next") if isinstance(paging, Mapping) else None
    after = following.get("after") if isinstance(following, Mapping) else None
    if after is None:
        return None
    if not isinstance(after, str | int) or str(after) == "":
        raise VendorPayloadError("HubSpot's paging cursor is not a string")
    return str(after)


# --- search --------------------------------------------------------------------------------------


def _equals(name: str, value: str) -> dict[str, Any]:
    return {"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}


def search_body(
    *, email: str | None, phone: CallerPhone | None, after: str | None, limit: int
) -> dict[str, Any]:
    """Build a ``PublicObjectSearchRequest`` for contacts matching the email or the phone.

    Filter groups are OR'ed; HubSpot allows five, and this uses at most five: the email, the
    caller's national number against both searchable phone properties (this finds numbers
    however they were typed, as long as HubSpot could read them), and the E.164 form against
    the raw ``phone`` and ``mobilephone`` text (for numbers stored verbatim in E.164).
    The phone groups can match the same national number in another country; callers filter
    the results with :func:`contact_matches`.

    ``sorts`` and ``after`` are required by HubSpot's schema. ``sorts`` is left empty: the
    schema types its items as strings while the live API reads ``{propertyName, direction}``
    objects, and only an empty list satisfies both.
    """
    groups: list[dict[str, Any]] = []
    if email is not None:
        groups.append(_equals("email", email))
    if phone is not None:
        groups.append(_equals(_SEARCHABLE_PHONE, phone.national))
        groups.append(_equals(_SEARCHABLE_MOBILE, phone.national))
        groups.append(_equals("phone", phone.e164))
        groups.append(_equals("mobilephone", phone.e164))
    return {
        "filterGroups": groups,
        "properties": list(CONTACT_PROPERTIES),
        "sorts": [],
        "limit": limit,
        "after": after or "0",
    }


def contact_matches(
    obj: Mapping[str, Any], *, email: str | None, phone: CallerPhone | None, region: str
) -> bool:
    """Return True if a search hit really has the caller's email address or phone number."""
    properties = _properties(obj)
    if email is not None:
        stored = _text(properties, "email")
        if stored is not None and stored.casefold() == email.strip().casefold():
            return True
    return phone is not None and phone.e164 in contact_phones(properties, region)


# --- records -------------------------------------------------------------------------------------


def _company_associations(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The ids of the primary associated company and of the first associated company."""
    associations = obj.get("associations")
    companies = associations.get("companies") if isinstance(associations, Mapping) else None
    results = companies.get("results") if isinstance(companies, Mapping) else None
    if not isinstance(results, list):
        return None, None
    primary = first = None
    for item in results:
        if not isinstance(item, Mapping) or not _is_id(item.get("id")):
            continue
        first = first or str(item["id"])
        if primary is None and item.get("type") == "contact_to_company":  # HubSpot's primary label
            primary = str(item["id"])
    return primary, first


def _account_id(obj: Mapping[str, Any], properties: Mapping[str, Any]) -> str | None:
    """The contact's company: the primary association, else ``associatedcompanyid``, else any."""
    primary, first = _company_associations(obj)
    return primary or _text(properties, "associatedcompanyid") or first


def contact_from(obj: Mapping[str, Any], *, source: str, region: str) -> Contact:
    """Map a HubSpot contact onto the shared Contact model."""
    properties = _properties(obj)
    name = " ".join(part for part in (_text(properties, "firstname"), _text(properties, "lastname")) if part)
    phones = contact_phones(properties, region)
    return Contact(
        id=str(obj["id"]),
        source=source,
        name=name or None,
        email=_text(properties, "email"),
        phone=phones[0] if phones else None,
        account_id=_account_id(obj, properties),
        created_at=timestamp(obj.get("createdAt")),
        updated_at=timestamp(obj.get("updatedAt")),
    )


def account_from(obj: Mapping[str, Any], *, source: str, region: str) -> Account:
    """Map a HubSpot company onto the shared Account model."""
    properties = _properties(obj)
    phone = _text(properties, "phone")
    return Account(
        id=str(obj["id"]),
        source=source,
        name=_text(properties, "name"),
        domain=_text(properties, "domain"),
        phone=normalise_phone(phone, region) if phone else None,
        industry=_text(properties, "industry"),
    )


# --- notes ---------------------------------------------------------------------------------------


def note_body_html(body: str) -> str:
    """HubSpot renders ``hs_note_body`` as HTML: escape the text and keep its line breaks."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def note_input(contact_id: str, body: str, *, now: datetime) -> dict[str, Any]:
    """Build a ``SimplePublicObjectInputForCreate`` for a note on one contact."""
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "properties": {"hs_note_body": note_body_html(body), "hs_timestamp": stamp},
        "associations": [{"to": {"id": contact_id}, "types": [dict(NOTE_TO_CONTACT)]}],
    }


def note_from(obj: Mapping[str, Any], *, source: str, contact_id: str, body: str) -> Note:
    """Map the created note; the body is the text written, not HubSpot's HTML of it."""
    properties = _properties(obj)
    created = timestamp(obj.get("createdAt")) or timestamp(_text(properties, "hs_timestamp"))
    return Note(id=str(obj["id"]), source=source, contact_id=contact_id, body=body, created_at=created)


# --- errors and back-off -------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def _error_body(response: httpx.Response) -> Mapping[str, Any] | None:
    body = response_json(response)
    return body if isinstance(body, Mapping) else None


def _token(value: Any) -> str | None:
    return code_token(value, _CODE)


def error_code(response: httpx.Response) -> str | None:
    """HubSpot's error ``category`` (older rate-limit bodies: ``errorType``), with the limit hit.

    Only enumeration-like tokens are returned; the ``message`` is never read, since HubSpot
    quotes property values in it.
    """
    body = _error_body(response)
    if body is None:
        return None
    code = _token(body.get("category")) or _token(body.get("errorType"))
    policy = _token(body.get("policyName"))
    if code is not None and policy is not None:
        # ':' not '/': the SDK keeps a vendor code only if it is a plain token without separators.
        return f"{code}:{policy}"
    return code or policy


def correlation_id(response: httpx.Response) -> str | None:
    """The ``correlationId`` of a HubSpot error body, when it looks like one."""
    body = _error_body(response)
    value = body.get("correlationId") if body is not None else None
    return value if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9-]{1,64}", value) else None


MAX_RATE_LIMIT_WAIT = 10.0
"""Longest wait derived from HubSpot's burst headers (its burst windows are ten seconds at most).

A ``Retry-After`` header is honoured as sent; the SDK's retry policy caps it and never sleeps
past the caller's deadline."""
SEARCH_RATE_LIMIT_WAIT = 1.0
"""Wait after a 429 that the burst headers do not explain: the search endpoints' per-second limit."""


def _number(headers: httpx.Headers, name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 and number == number else None


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds to wait after a HubSpot 429, or None when waiting within a call cannot help.

    ``Retry-After`` wins when present. Otherwise: an exhausted daily limit (body policy
    ``DAILY`` or ``X-HubSpot-RateLimit-Daily-Remaining: 0``) resets at midnight in the
    account's time zone, so there is nothing sensible to wait for (None). An exhausted burst
    window (``X-HubSpot-RateLimit-Remaining: 0``) frees up within
    ``X-HubSpot-RateLimit-Interval-Milliseconds``; that interval, at most ten seconds, is the
    wait. A 429 the burst headers do not explain (they show requests left, or are absent as on
    search endpoints, which have their own per-second limit) waits one second.
    """
    header = parse_retry_after(response.headers.get("retry-after"))
    if header is not None:
        return header
    body = _error_body(response) or {}
    policy = _token(body.get("policyName"))
    daily_left = _number(response.headers, "x-hubspot-ratelimit-daily-remaining")
    if (policy or "").upper() == "DAILY" or daily_left == 0:
        return None
    remaining = _number(response.headers, "x-hubspot-ratelimit-remaining")
    interval_ms = _number(response.headers, "x-hubspot-ratelimit-interval-milliseconds")
    if remaining == 0 and interval_ms is not None:
        return min(interval_ms / 1000.0, MAX_RATE_LIMIT_WAIT)
    return SEARCH_RATE_LIMIT_WAIT
