"""Map Zendesk Support payloads onto the shared ticketing models.

Unknown fields are ignored and unknown enum values become ``unknown``;
a record without an id raises (dispatch turns that into VendorPayloadError).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sdk import Ticket, TicketComment, TicketPriority, TicketStatus, coerce_enum

__all__ = ["audit_comments", "comment", "record_id", "ticket", "ticket_sort_key", "timestamp"]

# Zendesk calls the on-hold status "hold"; every other status and priority has the shared name.
_STATUS_ALIASES = {"hold": "on_hold"}


def record_id(value: object) -> str:
    """Return a Zendesk id as text; raise ValueError when it is missing or not an id."""
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise ValueError("missing or malformed record id")
    return str(value)


def _optional_id(value: object) -> str | None:
    return None if value is None else record_id(value)


def timestamp(value: object) -> datetime | None:
    """Read an ISO 8601 time stamp; a missing or unreadable one is None, not an error."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def ticket(item: Mapping[str, Any], source: str, comments: Iterable[TicketComment] = ()) -> Ticket:
    """A ticket object (ShowTicket, CreateTicket, UpdateTicket, or a ticket search result)."""
    status = item.get("status")
    return Ticket(
        id=record_id(item.get("id")),
        source=source,
        subject=_text(item.get("subject")),
        status=coerce_enum(
            TicketStatus, _STATUS_ALIASES.get(status, status) if isinstance(status, str) else None
        ),
        priority=coerce_enum(TicketPriority, item.get("priority")),
        requester_id=_optional_id(item.get("requester_id")),
        created_at=timestamp(item.get("created_at")),
        updated_at=timestamp(item.get("updated_at")),
        comments=tuple(comments),
    )


def _body(item: Mapping[str, Any]) -> str:
    # plain_body is the comment as plain text (no Markdown or HTML), which is what a voice agent
    # should read; it is read-only and some comment types omit it, so fall back to body.
    return _text(item.get("plain_body")) or _text(item.get("body")) or ""


def comment(item: Mapping[str, Any]) -> TicketComment:
    """A comment from ListTicketComments."""
    public = item.get("public")
    return TicketComment(
        id=record_id(item.get("id")),
        body=_body(item),
        # A comment whose visibility is not stated is treated as internal: never read it out as public.
        public=public is True,
        author_id=_optional_id(item.get("author_id")),
        created_at=timestamp(item.get("created_at")),
    )


def audit_comments(audit: object, *, public: bool) -> tuple[TicketComment, ...]:
    """The comments an UpdateTicket audit says were added; malformed events are skipped."""
    if not isinstance(audit, Mapping):
        return ()
    events = audit.get("events")
    if not isinstance(events, list):
        return ()
    found: list[TicketComment] = []
    for event in events:
        if not isinstance(event, Mapping) or event.get("type") != "Comment" or event.get("id") is None:
            continue
        stated = event.get("public")
        found.append(
            TicketComment(
                id=record_id(event.get("id")),
                body=_body(event),
                public=stated if isinstance(stated, bool) else public,
                author_id=_optional_id(event.get("author_id", audit.get("author_id"))),
                created_at=timestamp(event.get("created_at", audit.get("created_at"))),
            )
        )
    return tuple(found)


def ticket_sort_key(item: Ticket) -> tuple[int, float]:
    """Open tickets (new, open, pending, on hold) first, then newest first within each group."""
    created = item.created_at.timestamp() if item.created_at is not None else float("-inf")
    return (0 if item.status.is_open else 1, -created)
