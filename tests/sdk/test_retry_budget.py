"""A retryable attempt gets at most a share of the time left: a hung first attempt leaves time for the retry.

The share is part of :class:`sdk.authoring.RetryPolicy` (``attempt_budget``), composed like
tenacity's strategies. What must hold whatever the strategy: an attempt never runs past the
deadline; an attempt that will not be followed by another (a write without an idempotency key, the
last attempt) gets all the time left; a retryable one is never cut below the floor the deadline
allows. The end-to-end proof over a real hanging socket is
``tests/reliability/test_loopback_chaos.py::test_a_read_whose_first_attempt_hangs_is_served_by_the_retry``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest
import respx

from sdk import NexoraConnect
from sdk._retry import ATTEMPT_FLOOR, attempt_budget_base, attempt_seconds, attempt_share, attempt_whole
from sdk.authoring import RetryPolicy
from tests.sdk.fakes import contact_json

REMAINING = [0.0001, 0.05, 0.3, 0.75, ATTEMPT_FLOOR, 1.5, 2.0, 3.7, 10.0, 1e6]


@pytest.mark.parametrize("remaining", REMAINING)
@pytest.mark.parametrize("attempt", [1, 2, 3, 4])
@pytest.mark.parametrize("retryable", [True, False])
def test_an_attempt_never_outlives_the_deadline_and_is_never_cut_below_the_floor(
    remaining: float, attempt: int, retryable: bool
) -> None:
    policy = RetryPolicy()
    timeout = policy.attempt_timeout(remaining, attempt=attempt, retryable=retryable)
    assert 0 < timeout <= remaining
    assert timeout >= min(remaining, ATTEMPT_FLOOR)
    if retryable and attempt < policy.max_attempts:
        assert timeout <= max(remaining / 2, ATTEMPT_FLOOR)
    else:
        assert timeout == remaining


def test_the_default_share_is_half_of_what_is_left_floored() -> None:
    policy = RetryPolicy()
    assert policy.attempt_timeout(4.0, attempt=1, retryable=True) == 2.0
    assert policy.attempt_timeout(1.5, attempt=1, retryable=True) == ATTEMPT_FLOOR
    assert policy.attempt_timeout(0.4, attempt=1, retryable=True) == 0.4
    # The last attempt and a request that is never retried keep everything.
    assert policy.attempt_timeout(4.0, attempt=3, retryable=True) == 4.0
    assert policy.attempt_timeout(4.0, attempt=1, retryable=False) == 4.0


def test_strategies_compose_like_tenacitys() -> None:
    larger = attempt_share(0.25) | attempt_seconds(2.0)
    smaller = attempt_share(0.5) & attempt_seconds(0.3)
    assert larger(4.0) == 2.0
    assert larger(40.0) == 10.0
    assert smaller(4.0) == 0.3
    assert smaller(0.2) == 0.1
    assert attempt_whole()(7.5) == 7.5
    three = attempt_share(0.1) | attempt_seconds(0.5) | attempt_seconds(0.7)
    assert three(1.0) == 0.7
    whole = RetryPolicy(attempt_budget=attempt_whole())
    assert whole.attempt_timeout(4.0, attempt=1, retryable=True) == 4.0
    slow_vendor = RetryPolicy(attempt_budget=attempt_share(0.5) | attempt_seconds(2.5))
    assert slow_vendor.attempt_timeout(3.0, attempt=1, retryable=True) == 2.5


class _Lying(attempt_budget_base):
    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, remaining: float) -> float:
        return self.value


@pytest.mark.parametrize("value", [math.nan, -1.0, 0.0, math.inf, -math.inf, 1e300])
def test_a_strategy_answering_nonsense_cannot_push_an_attempt_past_the_deadline(value: float) -> None:
    policy = RetryPolicy(attempt_budget=_Lying(value))
    timeout = policy.attempt_timeout(2.0, attempt=1, retryable=True)
    assert timeout == 2.0


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.01, math.nan, math.inf])
def test_a_share_must_be_a_fraction(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        attempt_share(fraction)


@pytest.mark.parametrize("seconds", [0.0, -1.0, math.nan, math.inf])
def test_a_fixed_budget_must_be_positive_seconds(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        attempt_seconds(seconds)


def _recording(timeouts: list[float], responses: list[httpx.Response]) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        return responses.pop(0)

    return answer


async def test_each_retryable_attempt_is_sent_with_its_share_and_the_last_with_everything(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    timeouts: list[float] = []
    answers = [httpx.Response(503), httpx.Response(503), httpx.Response(200, json=contact_json())]
    route = router.get("/contacts/c-1").mock(side_effect=_recording(timeouts, answers))
    budget = 4.0
    async with nc.conversation(tenant="acme", conversation_id="budget-1") as conv:
        contact = await conv._call(
            "crm", "get_contact", {"contact_id": "c-1"}, deadline=time.monotonic() + budget
        )
    assert contact.id == "c-1"
    assert route.call_count == 3
    first, second, last = timeouts
    assert ATTEMPT_FLOOR <= first <= budget / 2
    assert ATTEMPT_FLOOR <= second <= budget / 2
    # The last attempt gets what is left: more than any share, and never more than the budget.
    assert max(first, second) < last <= budget


async def test_a_write_without_an_idempotency_key_keeps_the_whole_budget(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    timeouts: list[float] = []
    route = router.post("/notes").mock(
        side_effect=_recording(timeouts, [httpx.Response(200, json={"id": "n-1"})])
    )
    budget = 4.0
    async with nc.conversation(tenant="acme", conversation_id="budget-2") as conv:
        await conv._call(
            "crm-rw", "create_note", {"contact_id": "c-1", "body": "hi"}, deadline=time.monotonic() + budget
        )
    assert route.call_count == 1
    assert budget / 2 < timeouts[0] <= budget
