"""Map Jira Service Management and Jira search payloads onto the shared ticketing models.

Unknown fields are ignored and unknown statuses and priorities become ``unknown``; a record
without an id raises (the SDK reports a VendorPayloadError).

Statuses are workflow-specific in Jira: the names JSM's default workflows use are mapped by name,
anything else by its status category (``new``, ``indeterminate``, ``done``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sdk import Ticket, TicketComment, TicketPriority, TicketStatus
from sdk.parsing import obj, object_list, record_id, text, timestamp

__all__ = [
    "comment",
    "issue",
    "request",
    "status",
    "ticket_sort_key",
    "values",
]

_STATUS_BY_NAME = {
    "open": TicketStatus.OPEN,
    "waiting for support": TicketStatus.OPEN,
    "in progress": TicketStatus.OPEN,
    "work in progress": TicketStatus.OPEN,
    "escalated": TicketStatus.OPEN,
    "reopened": TicketStatus.OPEN,
    "waiting for customer": TicketStatus.PENDING,
    "pending": TicketStatus.PENDING,
    "waiting for approval": TicketStatus.PENDING,
    "on hold": TicketStatus.ON_HOLD,
    "awaiting implementation": TicketStatus.ON_HOLD,
    "resolved": TicketStatus.SOLVED,
    "done": TicketStatus.SOLVED,
    "completed": TicketStatus.SOLVED,
    "closed": TicketStatus.CLOSED,
    "canceled": TicketStatus.CLOSED,
    "cancelled": TicketStatus.CLOSED,
    "declined": TicketStatus.CLOSED,
}
_STATUS_BY_CATEGORY = {
    "new": TicketStatus.NEW,
    "indeterminate": TicketStatus.OPEN,
    "done": TicketStatus.SOLVED,
}
_PRIORITY = {
    "highest": TicketPriority.URGENT,
    "blocker": TicketPriority.URGENT,
    "critical": TicketPriority.URGENT,
    "high": TicketPriority.HIGH,
    "major": TicketPriority.HIGH,
    "medium": TicketPriority.NORMAL,
    "low": TicketPriority.LOW,
    "lowest": TicketPriority.LOW,
    "minor": TicketPriority.LOW,
    "trivial": TicketPriority.LOW,
}


def values(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The items of a Service Management page (``{"values": [...], "isLastPage": ...}``)."""
    return object_list(page, "values")


def _iso(value: object) -> datetime | None:
    """Jira's ``2024-06-01T22:41:00.000+1200``; a missing or unreadable one is None."""
    return timestamp(value, lenient=True)


def _date(value: object) -> datetime | None:
    """A Service Management DateDTO: ``epochMillis`` when present, else ``iso8601``."""
    if not isinstance(value, Mapping):
        return None
    millis = value.get("epochMillis")
    if isinstance(millis, int) and not isinstance(millis, bool):
        return timestamp(millis, unit="ms", lenient=True)
    return _iso(value.get("iso8601"))


def status(name: object, category: object) -> TicketStatus:
    """Map a Jira status by its name, else by its category."""
    if isinstance(name, str) and name.strip().casefold() in _STATUS_BY_NAME:
        return _STATUS_BY_NAME[name.strip().casefold()]
    if isinstance(category, str):
        return _STATUS_BY_CATEGORY.get(category.casefold(), TicketStatus.UNKNOWN)
    return TicketStatus.UNKNOWN


def _priority(value: object) -> TicketPriority:
    name = value.get("name") if isinstance(value, Mapping) else None
    if not isinstance(name, str):
        return TicketPriority.UNKNOWN
    return _PRIORITY.get(name.strip().casefold(), TicketPriority.UNKNOWN)


def _account_id(user: object) -> str | None:
    return text(user.get("accountId")) if isinstance(user, Mapping) else None


def issue(item: Mapping[str, Any], source: str) -> Ticket:
    """An issue of a JQL search (``fields`` limited to summary, status, priority, dates, reporter)."""
    fields = obj(item["fields"])
    state = fields.get("status")
    category = state.get("statusCategory") if isinstance(state, Mapping) else None
    return Ticket(
        id=record_id(item.get("key")),
        source=source,
        subject=text(fields.get("summary")),
        status=status(
            state.get("name") if isinstance(state, Mapping) else None,
            category.get("key") if isinstance(category, Mapping) else None,
        ),
        priority=_priority(fields.get("priority")),
        requester_id=_account_id(fields.get("reporter")),
        created_at=_iso(fields.get("created")),
        updated_at=_iso(fields.get("updated")),
    )


def _field_values(item: Mapping[str, Any]) -> dict[str, Any]:
    found = item.get("requestFieldValues") or []
    if not isinstance(found, list):
        raise TypeError("requestFieldValues must be a list")
    return {
        entry["fieldId"]: entry.get("value")
        for entry in found
        if isinstance(entry, Mapping) and isinstance(entry.get("fieldId"), str)
    }


def request(item: Mapping[str, Any], source: str, comments: Iterable[TicketComment] = ()) -> Ticket:
    """A customer request (getCustomerRequestByIdOrKey, createCustomerRequest)."""
    fields = _field_values(item)
    current = item.get("currentStatus")
    return Ticket(
        id=record_id(item.get("issueKey")),
        source=source,
        subject=text(fields.get("summary")),
        status=status(
            current.get("status") if isinstance(current, Mapping) else None,
            current.get("statusCategory") if isinstance(current, Mapping) else None,
        ),
        # Only when the request type's form has the priority field; else unknown.
        priority=_priority(fields.get("priority")),
        requester_id=_account_id(item.get("reporter")),
        created_at=_date(item.get("createdDate")),
        comments=tuple(comments),
    )


def comment(item: Mapping[str, Any]) -> TicketComment:
    """A request comment; one whose visibility is not stated is internal, never read out as public."""
    return TicketComment(
        id=record_id(item.get("id")),
        body=text(item.get("body")) or "",
        public=item.get("public") is True,
        author_id=_account_id(item.get("author")),
        created_at=_date(item.get("created")),
    )


def ticket_sort_key(item: Ticket) -> tuple[int, float]:
    """Open requests first, then newest first within each group."""
    created = item.created_at.timestamp() if item.created_at is not None else float("-inf")
    return (0 if item.status.is_open else 1, -created)
