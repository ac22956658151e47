"""Pagination that always ends, says where it stopped, and never returns a record twice.

Vendors page with cursors (HubSpot ``after``, Zendesk ``after_cursor``, Stripe
``starting_after``/``next_page``) or offsets (Jira Service Management ``start``,
Xero ``page``, Chargebee ``next_offset``). A vendor bug that hands back a
cursor it already returned, or an offset that serves pages already served,
would loop forever; here the walk stops instead, and the number of pages is
bounded so one call cannot pull a whole CRM.

Where the walk stops at a loop is decided per operation:

* ``partial=False`` (the default): a :class:`~sdk.VendorPayloadError` naming the
  integration, the operation, the request (method and endpoint template) and
  the page it happened on. For results that are wrong when incomplete (a
  balance summed over invoices).
* ``partial=True``: the records gathered so far are returned, and the running
  operation is flagged truncated (the audit record and the customer context's
  source say so). For searches for a caller and lists read out to them: what
  arrived is worth more than an error. Only when the caller sees the flag: the
  customer-context fan-out does (``SourceResult.truncated``); a bare result of
  ``conv.call`` or a tool call could not say it is incomplete, so there the
  loop is the error all the same. A loop before anything was gathered is the
  error too: an empty answer would read as "nothing found".

``key`` names an item's identity. Given, items already returned are dropped
(offset paging serves a record twice when records are added while it walks),
and a page that brings nothing new yet points to another is a loop, however its
cursor looks. ``fetch_page`` must then return every item it read, not a
filtered subset (a page of non-matches would look like "nothing new").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TypeVar

from sdk._errors import VendorPayloadError
from sdk._http._running import running_call
from sdk._parsing._notes import note_truncated

__all__ = ["paginate"]

T = TypeVar("T")
Cursor = TypeVar("Cursor")


def _loop_error(what: str, page: int) -> VendorPayloadError:
    """The error naming where the walk looped: the request and the page, never a cursor.

    Dispatch adds the integration and the operation to the message as it passes.
    """
    ctx = running_call()
    method = path = None
    if ctx is not None:
        last = getattr(ctx, "last_endpoint", None)
        endpoints = ctx.operation.endpoints
        if isinstance(last, str):
            method, _, path = last.partition(" ")
        elif len(endpoints) == 1:
            method, path = endpoints[0].method, endpoints[0].template
    return VendorPayloadError(
        f"pagination stopped at page {page}: the vendor {what}", method=method, path=path
    )


async def paginate(
    fetch_page: Callable[[Cursor | None], Awaitable[tuple[Sequence[T], Cursor | None]]],
    *,
    max_items: int,
    max_pages: int = 10,
    key: Callable[[T], Hashable] | None = None,
    partial: bool = False,
) -> list[T]:
    """Collect items page by page until there is no next cursor or ``max_items`` is reached.

    ``fetch_page(cursor)`` returns one page's items and the next cursor (None on the last page);
    it is called with None first. See the module docstring for ``key`` and ``partial``.
    """
    items: list[T] = []
    seen_cursors: set[object] = set()
    seen_keys: set[Hashable] = set()
    cursor: Cursor | None = None
    for number in range(1, max_pages + 1):
        page, next_cursor = await fetch_page(cursor)
        if key is None:
            items.extend(page)
        else:
            fresh = 0
            for item in page:
                identity = key(item)
                if identity not in seen_keys:
                    seen_keys.add(identity)
                    items.append(item)
                    fresh += 1
            if page and not fresh and number > 1 and next_cursor is not None:
                # Nothing new and more to come: the offset loops. (A last page of repeats is just
                # de-duplicated: the walk ends there anyway.)
                return _stop(items, partial, "served a page of records it had already served", number)
        if len(items) >= max_items or next_cursor is None:
            return items[:max_items]
        if next_cursor in seen_cursors or next_cursor == cursor:
            return _stop(items, partial, "returned a next-page cursor it had already returned", number)
        seen_cursors.add(next_cursor)
        cursor = next_cursor
    return items[:max_items]


def _stop(items: list[T], partial: bool, what: str, page: int) -> list[T]:
    if partial and items and getattr(running_call(), "accepts_partial", False):
        note_truncated()
        return items
    raise _loop_error(what, page)
