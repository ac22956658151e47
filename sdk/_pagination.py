"""Cursor pagination that always ends.

Vendors page with cursors (HubSpot ``after``, Zendesk ``after_cursor``,
Stripe ``starting_after``/``next_page``). A vendor bug that hands back the
same cursor twice would loop forever; here it raises instead, and the total
number of pages is bounded so one call cannot pull a whole CRM.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sdk._errors import VendorPayloadError

__all__ = ["paginate"]

T = TypeVar("T")
Cursor = TypeVar("Cursor")


async def paginate(
    fetch_page: Callable[[Cursor | None], Awaitable[tuple[Sequence[T], Cursor | None]]],
    *,
    max_items: int,
    max_pages: int = 10,
) -> list[T]:
    """Collect items page by page until there is no next cursor or ``max_items`` is reached.

    ``fetch_page(cursor)`` returns one page's items and the next cursor
    (None on the last page); it is called with None first.
    """
    items: list[T] = []
    seen: set[object] = set()
    cursor: Cursor | None = None
    for _ in range(max_pages):
        page, next_cursor = await fetch_page(cursor)
        items.extend(page)
        if len(items) >= max_items or next_cursor is None:
            return items[:max_items]
        if next_cursor in seen or next_cursor == cursor:
            raise VendorPayloadError("the vendor returned a pagination cursor it had already returned")
        seen.add(next_cursor)
        cursor = next_cursor
    return items[:max_items]
