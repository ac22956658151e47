"""Map Zendesk Support payloads onto the shared ticketing models.

Unknown fields are ignored and unknown enum values become ``unknown``;
a record without an id raises (dispatch turns that into VendorPayloadError).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sdk import Ticket, TicketComment, TicketPriority, TicketStatus
from sdk.authoring import coerce_enum
from sdk.parsing import record_id, text, timestamp

__all__ = ["audit_comments", "comment", "ticket", "ticket_sort_key"]

# Zendesk calls the on-hold status "hold"; every other status and priority has the shared name.
_STATUS_ALIASES = {"hold": "on_hold"}


def _optional_id(value: object) -> str | None:
    return None if value is None else record_id(value)


def _time(value: object) -> datetime | None:
    # Lenient: a ticket with an unreadable time stamp is still worth reading to the caller.
    return timestamp(value, lenient=True)


def ticket(item: Mapping[str, Any], source: str, comments: Iterable[TicketComment] = ()) -> Ticket:
    """A ticket object (ShowTicket, CreateTicket, UpdateTicket, or a ticket search result)."""
    status = item.get("status")
    return Ticket(
        id=record_id(item.get("id")),
        source=source,
        subject=text(item.get("subject")),
        status=coerce_enum(
            TicketStatus, _STATUS_ALIASES.get(status, status) if isinstance(status, str) else None
        ),
        priority=coerce_enum(TicketPriority, item.get("priority")),
        requester_id=_optional_id(item.get("requester_id")),
        created_at=_time(item.get("created_at")),
        updated_at=_time(item.get("updated_at")),
        comments=tuple(comments),
    )


def _body(item: Mapping[str, Any]) -> str:
    # plain_body is the comment as plain text (no Markdown or HTML), which is what a voice agent
    # should read; it is read-only and some comment types omit it, so fall back to body.
    return text(item.get("plain_body")) or text(item.get("body")) or ""


def comment(item: Mapping[str, Any]) -> TicketComment:
    """A comment from ListTicketComments."""
    public = item.get("public")
    return TicketComment(
        id=record_id(item.get("id")),
        body=_body(item),
        # A comment whose visibility is not stated is treated as internal: never read it out as public.
        public=public is True,
        author_id=_optional_id(item.get("author_id")),
        created_at=_time(item.get("created_at")),
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
                created_at=_time(event.get("created_at", audit.get("created_at"))),
            )
        )
    return tuple(found)


def ticket_sort_key(item: Ticket) -> tuple[int, float]:
    """Open tickets (new, open, pending, on hold) first, then newest first within each group."""
    created = item.created_at.timestamp() if item.created_at is not None else float("-inf")
    return (0 if item.status.is_open else 1, -created)
