"""The Zendesk search queries this connector sends, built on :mod:`sdk.querylang.zendesk_search`.

Two searches carry outside values: the caller's tickets by requester (the
caller's email, or a user id read from Zendesk and checked by
``record_id``), and users by the digits of the caller's phone number.
Each is a fixed template; the value is one bare word or one quoted phrase of
one term, or an InvalidArgumentsError before anything is sent.
"""

from __future__ import annotations

from typing import NamedTuple

import phonenumbers

from sdk.querylang import zendesk_search

__all__ = ["RequesterSearch", "requester_search", "users_by_phone"]


class RequesterSearch(NamedTuple):
    """The two searches for one requester's tickets."""

    newest: zendesk_search.ZendeskQuery
    """``type:ticket requester:<value>``, sent sorted newest first."""
    still_open: zendesk_search.ZendeskQuery
    """The same restricted to ``status<solved``, sent when the first has a second page."""


def requester_search(requester: str, *, argument: str = "email") -> RequesterSearch:
    """The ticket searches for ``requester`` (an email or a Zendesk user id); call before sending anything."""
    base = (
        zendesk_search.term("type", "ticket"),
        zendesk_search.term("requester", requester, argument=argument),
    )
    still_open = zendesk_search.term("status", "solved", operator="<")
    return RequesterSearch(zendesk_search.all_of(base), zendesk_search.all_of((*base, still_open)))


def users_by_phone(e164: str) -> zendesk_search.ZendeskQuery:
    """``phone:*<national significant number>``: users whose stored number ends in the caller's digits.

    Zendesk matches the digits of stored numbers, and the leading wildcard
    covers a country code or trunk prefix; callers keep only users whose stored
    number reads as ``e164``.
    """
    national = phonenumbers.national_significant_number(phonenumbers.parse(e164))
    return zendesk_search.all_of((zendesk_search.ends_with("phone", national, argument="phone"),))
