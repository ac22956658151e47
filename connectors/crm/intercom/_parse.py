"""Map Intercom (API 2.14) payloads onto the shared models.

Times are Unix seconds. Note bodies and message subjects are HTML
(``"<p>Hello</p>"``); they are reduced to plain text, because a voice agent reads
them aloud. Unknown fields are ignored; a record without an id raises (the SDK
reports a VendorPayloadError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from sdk import Account, Contact, Note, Ticket, TicketPriority, TicketStatus
from sdk.parsing import cursor, obj, object_list, record_id, text, timestamp

__all__ = ["account", "contact", "conversation", "note", "page", "plain_text"]

PhoneNormaliser = Callable[[str | None], str | None]

_STATES = {"open": TicketStatus.OPEN, "snoozed": TicketStatus.ON_HOLD, "closed": TicketStatus.CLOSED}
_PRIORITIES = {"priority": TicketPriority.HIGH, "not_priority": TicketPriority.NORMAL}


def page(data: object, key: str) -> tuple[list[Mapping[str, Any]], str | None]:
    """One page of a search: the items under ``key`` and ``pages.next.starting_after`` (None on the last)."""
    body = obj(data)
    pages = body.get("pages")
    following = pages.get("next") if isinstance(pages, Mapping) else None
    after = following.get("starting_after") if isinstance(following, Mapping) else None
    return object_list(body, key), cursor(after)


def _time(value: object) -> datetime | None:
    return timestamp(value, unit="s", lenient=True)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li"):
            self.parts.append(" ")


def plain_text(value: object) -> str | None:
    """Intercom's HTML as one line of plain text; None when absent or empty."""
    raw = text(value)
    if raw is None:
        return None
    parser = _Text()
    parser.feed(raw)
    parser.close()
    return " ".join("".join(parser.parts).split()) or None


def _first_company(item: Mapping[str, Any]) -> str | None:
    companies = item.get("companies")
    data = companies.get("data") if isinstance(companies, Mapping) else None
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return text(data[0].get("id"))
    return None


def contact(item: Mapping[str, Any], source: str, phone_e164: PhoneNormaliser) -> Contact:
    """A contact (search result or ``GET /contacts/{id}``); the account is its first company."""
    return Contact(
        id=record_id(item.get("id")),
        source=source,
        name=text(item.get("name")),
        email=text(item.get("email")),
        phone=phone_e164(text(item.get("phone"))),
        account_id=_first_company(item),
        created_at=_time(item.get("created_at")),
        updated_at=_time(item.get("updated_at")),
    )


def account(item: Mapping[str, Any], source: str) -> Account:
    """A company; Intercom keeps no phone number on companies, and ``website`` is a URL, not a domain."""
    return Account(
        id=record_id(item.get("id")),
        source=source,
        name=text(item.get("name")),
        domain=text(item.get("website")),
        industry=text(item.get("industry")),
    )


def note(item: Mapping[str, Any], source: str) -> Note:
    """The note ``POST /contacts/{id}/notes`` answers with."""
    about = item.get("contact")
    return Note(
        id=record_id(item.get("id")),
        source=source,
        contact_id=text(about.get("id")) if isinstance(about, Mapping) else None,
        body=plain_text(item.get("body")) or "",
        created_at=_time(item.get("created_at")),
    )


def _first_participant(item: Mapping[str, Any]) -> str | None:
    contacts = item.get("contacts")
    listed = contacts.get("contacts") if isinstance(contacts, Mapping) else None
    if isinstance(listed, list) and listed and isinstance(listed[0], Mapping):
        return text(listed[0].get("id"))
    return None


def conversation(item: Mapping[str, Any], source: str) -> Ticket:
    """A conversation list item as a Ticket: title (else the first message's subject), state, priority.

    The requester is the conversation's first contact as Intercom lists it, not the id searched for.
    """
    first = item.get("source")
    subject = text(item.get("title")) or (
        plain_text(first.get("subject")) if isinstance(first, Mapping) else None
    )
    return Ticket(
        id=record_id(item.get("id")),
        source=source,
        subject=subject,
        status=_STATES.get(str(item.get("state")), TicketStatus.UNKNOWN),
        priority=_PRIORITIES.get(str(item.get("priority")), TicketPriority.UNKNOWN),
        requester_id=_first_participant(item),
        created_at=_time(item.get("created_at")),
        updated_at=_time(item.get("updated_at")),
    )
