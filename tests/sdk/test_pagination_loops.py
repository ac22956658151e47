"""Pagination (issue 12): a looping walk stops and says where; offset pages never repeat a record.

The pager is driven the way connectors drive it, inside a running operation's context, with
cursors and pages shaped like the vendors': Stripe's ``next_page`` tokens, Jira Service
Management's ``start`` offsets over comments that shift when one is added while paging.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk import VendorPayloadError
from sdk._context import CallContext, _running
from sdk._scopes import Grant
from sdk.authoring import paginate
from tests.sdk.fakes import ToyCRM


def _ctx(*, accepts_partial: bool = False, operation: str = "get_contact") -> CallContext:
    return CallContext(
        tenant="acme",
        integration="crm",
        connector="toy",
        operation=ToyCRM.operations[operation],
        grant=Grant.read_only(),
        accepts_partial=accepts_partial,
    )


def _pages(pages: Sequence[tuple[list[Any], Any]]) -> Any:
    served: list[Any] = []

    async def fetch(cursor: Any) -> tuple[list[Any], Any]:
        served.append(cursor)
        return pages[min(len(served) - 1, len(pages) - 1)]

    fetch.served = served  # type: ignore[attr-defined]
    return fetch


async def test_a_repeated_cursor_is_an_error_naming_page_and_request_never_the_cursor() -> None:
    token = "page_" + secrets.token_hex(8)  # a Stripe next_page token: vendor data, never echoed
    fetch = _pages([(["cus_1"], token), (["cus_2"], token)])
    with _running(_ctx()), pytest.raises(VendorPayloadError) as caught:
        await paginate(fetch, max_items=30)
    assert "page 2" in str(caught.value)
    assert "cursor" in str(caught.value)
    assert (caught.value.method, caught.value.path) == ("GET", "/contacts/{contact_id}")
    assert token not in str(caught.value)
    assert fetch.served == [None, token]


async def test_a_search_for_the_caller_keeps_what_it_gathered_when_the_caller_sees_the_flag() -> None:
    fetch = _pages([(["cus_1", "cus_2"], "p2"), (["cus_3"], "p2")])
    ctx = _ctx(accepts_partial=True)
    with _running(ctx):
        found = await paginate(fetch, max_items=30, partial=True)
    assert found == ["cus_1", "cus_2", "cus_3"]
    assert ctx.notes is not None
    assert ctx.notes.truncated


async def test_partial_is_refused_where_the_bare_result_could_not_say_it_is_incomplete() -> None:
    fetch = _pages([(["cus_1"], "p2"), (["cus_2"], "p2")])
    ctx = _ctx(accepts_partial=False)
    with _running(ctx), pytest.raises(VendorPayloadError, match="cursor"):
        await paginate(fetch, max_items=30, partial=True)
    assert ctx.notes is None


async def test_a_loop_before_anything_arrived_is_an_error_even_when_partial() -> None:
    fetch = _pages([([], "same"), ([], "same")])
    with _running(_ctx(accepts_partial=True)), pytest.raises(VendorPayloadError):
        await paginate(fetch, max_items=30, partial=True)


async def test_offset_pages_drop_a_record_served_twice() -> None:
    """JSM ``start`` offsets: a comment added while paging shifts the next page by one."""
    first = [{"id": "10001"}, {"id": "10002"}]
    shifted = [{"id": "10002"}, {"id": "10003"}]
    fetch = _pages([(first, "2"), (shifted, None)])
    with _running(_ctx()):
        found = await paginate(fetch, max_items=50, key=lambda item: item["id"])
    assert [item["id"] for item in found] == ["10001", "10002", "10003"]


async def test_an_offset_that_serves_the_same_page_again_is_a_loop() -> None:
    same = [{"id": "10001"}, {"id": "10002"}]
    fetch = _pages([(same, "2"), (same, "4"), (same, "6")])
    with _running(_ctx()), pytest.raises(VendorPayloadError, match=r"page 2.*already served"):
        await paginate(fetch, max_items=50, key=lambda item: item["id"])
    assert fetch.served == [None, "2"]
    ctx = _ctx(accepts_partial=True)
    with _running(ctx):
        found = await paginate(
            _pages([(same, "2"), (same, "4")]), max_items=50, key=lambda i: i["id"], partial=True
        )
    assert found == same
    assert ctx.notes is not None
    assert ctx.notes.truncated


async def test_the_walk_is_bounded_whatever_the_vendor_sends() -> None:
    async def endless(cursor: Any) -> tuple[list[int], int]:
        number = 0 if cursor is None else cursor
        return [number], number + 1

    with _running(_ctx()):
        found = await paginate(endless, max_items=1000, max_pages=7)
    assert found == list(range(7))


@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=30), max_size=6, unique=True), min_size=1, max_size=8
    )
)
def test_with_a_key_no_record_is_ever_returned_twice(pages: list[list[int]]) -> None:
    served = [(page, str(n + 1) if n + 1 < len(pages) else None) for n, page in enumerate(pages)]
    fetch = _pages(served)

    async def walk() -> list[int]:
        with _running(_ctx(accepts_partial=True)):
            return await paginate(fetch, max_items=1000, max_pages=20, key=lambda x: x, partial=True)

    try:
        found = asyncio.run(walk())
    except VendorPayloadError:
        return  # a page of nothing new before anything arrived
    assert len(found) == len(set(found))
    expected: list[int] = []
    for page, _ in served[: len(fetch.served)]:
        expected += [x for x in page if x not in expected]
    assert found == expected
