"""Salesforce REST payloads in and out: query and search results, records, created ids, errors.

Pure functions of dicts and responses, so each rule is tested on its own. The
shapes are those the REST API Developer Guide documents (the fixtures README
under ``tests/connectors/fixtures/salesforce/`` names the page of each):
records carry an ``attributes`` object and their fields by API name, with
``null`` for empty fields; a query answers ``totalSize``, ``done``,
``records`` and, while there is more, ``nextRecordsUrl``; a SOSL search answers
``searchRecords``; a create answers ``id``, ``success`` and ``errors``; an error
is a JSON *array* of ``{message, errorCode, fields}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.crm.salesforce._query import DATA_PATH
from sdk import Account, Contact, Note, VendorPayloadError
from sdk.authoring import normalise_phone
from sdk.parsing import code_token, field_text, parse_each, response_json, timestamp

__all__ = [
    "PHONE_FIELDS",
    "account_from",
    "contact_from",
    "contact_phones",
    "created_id",
    "email_matches",
    "error_code",
    "next_records_locator",
    "next_records_path",
    "query_records",
    "search_records",
    "task_from",
    "task_input",
]

PHONE_FIELDS: tuple[str, ...] = ("Phone", "MobilePhone", "HomePhone", "OtherPhone")
"""Contact phone fields, in the order the first usable one becomes ``Contact.phone``."""

_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_NEXT_RECORDS = re.compile(re.escape(DATA_PATH) + r"/query/[A-Za-z0-9]{1,64}(?:-[A-Za-z0-9]{1,64}){0,3}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


# --- collections -----------------------------------------------------------------------------------


def _record(item: Any, what: str) -> Mapping[str, Any]:
    if (
        not isinstance(item, Mapping)
        or not isinstance(item.get("Id"), str)
        or not _RECORD_ID.fullmatch(item["Id"])
    ):
        raise VendorPayloadError(f"Salesforce's {what} is not a record with an Id")
    return item


def rows(data: Any, key: str, what: str) -> list[Any]:
    """The items of a result's ``records`` or ``searchRecords`` list, unread; raise if there is none."""
    found = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(found, list):
        raise VendorPayloadError(f"Salesforce's {what} has no list of {key}")
    return found


def contacts(
    items: list[Any], keep: Callable[[Mapping[str, Any]], bool], *, source: str, region: str
) -> list[Contact]:
    """The contacts among ``items`` that ``keep`` accepts; a record that cannot be read is skipped."""

    def read(item: Mapping[str, Any]) -> Contact | None:
        record = _record(item, "contact")
        return contact_from(record, source=source, region=region) if keep(record) else None

    return [contact for contact in parse_each(items, read, what="contact") if contact is not None]


def query_records(data: Any, what: str) -> list[Mapping[str, Any]]:
    """The ``records`` of a SOQL query result, each a record with an ``Id``."""
    records = data.get("records") if isinstance(data, Mapping) else None
    if not isinstance(records, list):
        raise VendorPayloadError(f"Salesforce's {what} has no list of records")
    return [_record(item, what) for item in records]


def search_records(data: Any, what: str) -> list[Mapping[str, Any]]:
    """The ``searchRecords`` of a SOSL search result (an object since API version 37.0)."""
    records = data.get("searchRecords") if isinstance(data, Mapping) else None
    if not isinstance(records, list):
        raise VendorPayloadError(f"Salesforce's {what} has no list of searchRecords")
    return [_record(item, what) for item in records]


def next_records_path(data: Any) -> str | None:
    """The path of the next batch of a query result, or None when ``done``.

    The vendor's ``nextRecordsUrl`` becomes the path of the next request, so it
    must be exactly a query locator of this API version: no other resource, no
    host, no ``..``, query string or fragment.
    """
    if not isinstance(data, Mapping):
        return None
    following = data.get("nextRecordsUrl")
    if data.get("done") is True or following is None:
        return None
    if not isinstance(following, str) or not _NEXT_RECORDS.fullmatch(following):
        raise VendorPayloadError("Salesforce's nextRecordsUrl is not a query locator of this API version")
    return following


def next_records_locator(data: Any) -> str | None:
    """The query locator of the next batch (``01gD0000002HU6KIAW-2000``), or None when ``done``.

    Only the locator of a :func:`next_records_path` is kept: the connector sends it as the one
    ``{locator}`` segment of its declared query path, so the vendor's text can name neither another
    host nor another resource, whatever it says.
    """
    following = next_records_path(data)
    # A checked path ends in ``/query/<locator>``, and a locator holds no '/'.
    return None if following is None else following.rsplit("/", 1)[1]


# --- fields ----------------------------------------------------------------------------------------


def _text(record: Mapping[str, Any], name: str) -> str | None:
    """A field as stripped text; None when null or empty."""
    return field_text(record, name, where="Salesforce's field")


def _timestamp(record: Mapping[str, Any], name: str) -> datetime | None:
    """A dateTime field: Salesforce writes ``2024-03-04T21:10:00.000+0000``."""
    try:
        return timestamp(_text(record, name))
    except ValueError:
        raise VendorPayloadError(f"Salesforce's field {name} is not a date and time") from None


def _reference(record: Mapping[str, Any], name: str) -> str | None:
    value = _text(record, name)
    if value is not None and not _RECORD_ID.fullmatch(value):
        raise VendorPayloadError(f"Salesforce's field {name} is not a record id")
    return value


def contact_phones(record: Mapping[str, Any], region: str) -> list[str]:
    """The contact's numbers in E.164, read in the tenant's default region; unreadable ones skipped."""
    phones: list[str] = []
    for name in PHONE_FIELDS:
        raw = _text(record, name)
        e164 = normalise_phone(raw, region) if raw is not None else None
        if e164 is not None and e164 not in phones:
            phones.append(e164)
    return phones


def email_matches(record: Mapping[str, Any], email: str) -> bool:
    stored = _text(record, "Email")
    return stored is not None and stored.casefold() == email.strip().casefold()


def contact_from(record: Mapping[str, Any], *, source: str, region: str) -> Contact:
    """Map a Contact record onto the shared Contact model."""
    name = _text(record, "Name") or " ".join(
        part for part in (_text(record, "FirstName"), _text(record, "LastName")) if part
    )
    phones = contact_phones(record, region)
    return Contact(
        id=str(record["Id"]),
        source=source,
        name=name or None,
        email=_text(record, "Email"),
        phone=phones[0] if phones else None,
        account_id=_reference(record, "AccountId"),
        created_at=_timestamp(record, "CreatedDate"),
        updated_at=_timestamp(record, "LastModifiedDate"),
    )


def _domain(website: str | None) -> str | None:
    """``https://www.acme.co.nz/about`` -> ``acme.co.nz``; Website is free text, so None if it is no host."""
    if website is None:
        return None
    text = website if "://" in website else "https://" + website
    try:
        host = httpx.URL(text).host
    except httpx.InvalidURL:
        return None
    host = host.removeprefix("www.")
    return host if re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,63}", host) else None


def account_from(record: Mapping[str, Any], *, source: str, region: str) -> Account:
    """Map an Account record onto the shared Account model."""
    phone = _text(record, "Phone")
    return Account(
        id=str(record["Id"]),
        source=source,
        name=_text(record, "Name"),
        domain=_domain(_text(record, "Website")),
        phone=normalise_phone(phone, region) if phone else None,
        industry=_text(record, "Industry"),
    )


# --- call notes (Tasks) --------------------------------------------------------------------------


def task_input(contact_id: str, body: str, *, status: str, now: datetime) -> dict[str, Any]:
    """A completed call Task on the contact: what Salesforce's own "Log a Call" creates."""
    return {
        "WhoId": contact_id,
        "Subject": "Call",
        "Description": body,
        "Status": status,
        "TaskSubtype": "Call",
        "ActivityDate": now.astimezone(UTC).date().isoformat(),
    }


def created_id(data: Any, what: str) -> str:
    """The ``id`` of a successful create (``{"id", "success": true, "errors": []}``)."""
    if (
        not isinstance(data, Mapping)
        or data.get("success") is not True
        or not isinstance(data.get("id"), str)
        or not _RECORD_ID.fullmatch(data["id"])
    ):
        raise VendorPayloadError(f"Salesforce's answer to creating a {what} has no id of a created record")
    return str(data["id"])


def task_from(task_id: str, *, source: str, contact_id: str, body: str, now: datetime) -> Note:
    """The note as written: a create answers only the new id, so the time is when it was sent."""
    return Note(id=task_id, source=source, contact_id=contact_id, body=body, created_at=now)


# --- errors ----------------------------------------------------------------------------------------


def error_code(response: httpx.Response) -> str | None:
    """The first ``errorCode`` of a Salesforce error array, e.g. ``INVALID_SESSION_ID``.

    The ``message`` is never read: Salesforce quotes field values in it.
    """
    body = response_json(response)
    first = body[0] if isinstance(body, list) and body else None
    return code_token(first.get("errorCode"), _CODE) if isinstance(first, Mapping) else None
