"""The records the Zendesk sandbox starts with: the demo caller's three tickets, and who is who.

An agent (the voice agent's API user), the caller as an end user, and a
look-alike whose phone number ends in the same digits; three tickets of the
caller (one open with the card and IRD numbers in its first comment, one
pending, one solved) and their comments, public and internal. The shapes are
the Support API v2's; times are relative to the sandbox's
:class:`~sdk.demo._dataset.Clock`. The ``make_*`` builders also shape the
records the sandbox creates while serving.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sdk.demo._dataset import CALLER, SENSITIVE_COMMENT, Clock

__all__ = [
    "AGENT_ID",
    "OPEN_TICKET_ID",
    "ORGANIZATION_ID",
    "REQUESTER_ID",
    "make_comment",
    "make_ticket",
    "make_user",
    "seed_comments",
    "seed_tickets",
    "seed_users",
]

AGENT_ID = 900001
REQUESTER_ID = 39001
ORGANIZATION_ID = 360100
OPEN_TICKET_ID = "4102"


def seed_users(clock: Clock, agent_email: str) -> dict[int, dict[str, Any]]:
    """The agent ``agent_email``, the caller and the caller's look-alike, by id."""
    return {
        AGENT_ID: make_user(clock, AGENT_ID, "Nexora Voice Agent", agent_email, None, "agent"),
        REQUESTER_ID: make_user(
            clock, REQUESTER_ID, CALLER.name, CALLER.email, CALLER.phone_international, "end-user"
        ),
        # Ends in the same digits: the connector's phone:* search finds it and must drop it.
        39002: make_user(
            clock, 39002, "Pat Other", "pat.other@wattle.example", "+61 2 1555 0100", "end-user"
        ),
    }


def seed_tickets(clock: Clock) -> dict[int, dict[str, Any]]:
    """The caller's three tickets, by id."""
    first = make_ticket(clock, 4102, "Invoice KPL-0042 charged twice", "open", "high", -3, "problem")
    first["description"] = SENSITIVE_COMMENT
    second = make_ticket(
        clock, 4095, "Fibre connection drops every evening", "pending", "normal", -10, "incident"
    )
    third = make_ticket(clock, 3987, "Static IP request", "solved", "low", -90, "question")
    return {4102: first, 4095: second, 3987: third}


def seed_comments(clock: Clock, event_ids: Iterator[int]) -> dict[int, list[dict[str, Any]]]:
    """The comments of each ticket, oldest first, numbered from ``event_ids``."""
    return {
        4102: [
            make_comment(clock, next(event_ids), REQUESTER_ID, SENSITIVE_COMMENT, public=True, days=-3),
            make_comment(
                clock,
                next(event_ids),
                AGENT_ID,
                "Thanks Aroha, we are checking this with billing.",
                public=True,
                days=-2.9,
            ),
            make_comment(
                clock,
                next(event_ids),
                AGENT_ID,
                "Second charge not visible in Stripe yet.",
                public=False,
                days=-2.5,
            ),
        ],
        4095: [
            make_comment(
                clock,
                next(event_ids),
                REQUESTER_ID,
                "The fibre drops out most evenings around 7pm.",
                public=True,
                days=-10,
            ),
            make_comment(
                clock,
                next(event_ids),
                AGENT_ID,
                "Line test booked; waiting on the customer.",
                public=True,
                days=-8,
            ),
        ],
        3987: [
            make_comment(
                clock,
                next(event_ids),
                REQUESTER_ID,
                "Could we get a static IP address?",
                public=True,
                days=-90,
            )
        ],
    }


def make_user(
    clock: Clock, user_id: int, name: str, email: str, phone: str | None, role: str
) -> dict[str, Any]:
    return {
        "id": user_id,
        "name": name,
        "email": email,
        "phone": phone,
        "role": role,
        "organization_id": ORGANIZATION_ID if role == "end-user" else None,
        "active": True,
        "verified": True,
        "locale": "en-NZ",
        "time_zone": "Auckland",
        "created_at": clock.iso(-800),
        "updated_at": clock.iso(-20),
    }


def make_ticket(
    clock: Clock, ticket_id: int, subject: str, status: str, priority: str, created: float, kind: str
) -> dict[str, Any]:
    return {
        "id": ticket_id,
        "external_id": None,
        "type": kind,
        "subject": subject,
        "raw_subject": subject,
        "description": "",
        "priority": priority,
        "status": status,
        "recipient": None,
        "requester_id": REQUESTER_ID,
        "submitter_id": REQUESTER_ID,
        "assignee_id": AGENT_ID,
        "organization_id": ORGANIZATION_ID,
        "group_id": 5100,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": [],
        "custom_fields": [],
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": clock.iso(created),
        "updated_at": clock.iso(created / 4),
        "allow_channelback": False,
        "allow_attachments": True,
    }


def make_comment(
    clock: Clock, comment_id: int, author: int, body: str, *, public: bool, days: float
) -> dict[str, Any]:
    return {
        "id": comment_id,
        "type": "Comment",
        "author_id": author,
        "body": body,
        "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
        "plain_body": body,
        "public": public,
        "attachments": [],
        "audit_id": comment_id + 1,
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": clock.iso(days),
        "metadata": {"system": {}, "custom": {}},
    }
