"""Rate limits are honoured before the 429: the vendor's headers pace later calls per tenant and integration.

The pacer is tested on a fake clock (no real waiting); the runtime tests use generous wall-clock
bounds only. The vendor is hostile here: counts that are negative, huge or not numbers, resets in
the past or centuries away, hooks that raise; and two tenants on one vendor must never pace each
other (S2).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from sdk import NexoraConnect, VendorRateLimitError
from sdk._http import Pacer, RateLimitState, VendorHttp, parse_reset, standard_rate_limit_state
from sdk._http._pacing import DEFAULT_WINDOW, MAX_PACE
from sdk.authoring import Connector, RetryPolicy
from tests.sdk.fakes import contact_json

WALL = 1_900_000_000.0
"""A fixed wall clock for Unix and ISO resets: 2030-03-17T17:46:40Z."""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(clock: FakeClock) -> Pacer:
    return Pacer(clock=clock, sleep=clock.sleep)


def headers_state(**headers: str) -> RateLimitState | None:
    return standard_rate_limit_state(httpx.Headers(headers), wall_clock=lambda: WALL)


# --- reading the headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"RateLimit": '"default";r=0;t=30'}, RateLimitState(0, 30.0)),
        ({"RateLimit": '"sec";r=9;t=1, "day";r=2;t=500'}, RateLimitState(2, 500.0)),
        ({"RateLimit": "limit=100, remaining=0, reset=5"}, RateLimitState(0, 5.0)),
        ({"ratelimit-remaining": "699", "ratelimit-reset": "41"}, RateLimitState(699, 41.0)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2.5"}, RateLimitState(0, 2.5)),
        ({"X-RateLimit-Remaining": "3"}, RateLimitState(3, None)),
        # Atlassian: an ISO 8601 reset; others: a Unix time.
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2030-03-17T17:47Z"}, RateLimitState(0, 20.0)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(WALL) + 12)}, RateLimitState(0, 12.0)),
        # Lies and garbage: a count that is not plain digits says nothing; a bad reset is "unknown".
        ({"X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "5"}, None),
        ({"X-RateLimit-Remaining": "1e3"}, None),
        ({"X-RateLimit-Remaining": "ten"}, None),
        ({"X-RateLimit-Remaining": "nan"}, None),
        ({"X-RateLimit-Remaining": "9" * 40}, None),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-30"}, RateLimitState(0, None)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "soon"}, RateLimitState(0, None)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "inf"}, RateLimitState(0, None)),
        # A reset in the past: the window has already reset.
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2001-09-09T01:46:40Z"}, RateLimitState(0, 0.0)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(WALL) - 600)}, RateLimitState(0, 0.0)),
        ({"RateLimit": '"x";r=-4;t=2'}, None),
        ({"RateLimit": "x" * 2000}, None),
        ({}, None),
    ],
)
def test_headers_are_read_in_every_dialect_and_lies_say_nothing(
    headers: dict[str, str], expected: RateLimitState | None
) -> None:
    assert headers_state(**headers) == expected


@pytest.mark.parametrize("reset", ["99999999999", "9999-12-31T23:59Z", "31536000"])
async def test_a_reset_in_the_far_future_is_read_but_capped_by_the_pacer(reset: str) -> None:
    assert parse_reset("9999-12-31T23:59Z", wall_clock=lambda: WALL) == pytest.approx(
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC).timestamp() - WALL
    )
    clock = FakeClock()
    paced = pacer(clock)
    paced.observe(headers_state(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))
    with pytest.raises(VendorRateLimitError) as info:
        await paced.admit(clock.now + MAX_PACE, method="GET", path="/x")
    assert info.value.retry_after == MAX_PACE
    assert clock.slept == []
    await paced.admit(None, method="GET", path="/x")  # without a deadline: held for the cap, no longer
    assert clock.slept == [MAX_PACE]


@pytest.mark.parametrize(
    ("remaining", "reset_after"),
    [(-1, None), (True, None), (1.5, None), (0, -1.0), (0, math.nan), (0, math.inf), (0, True)],
)
def test_a_state_cannot_be_built_from_nonsense(remaining: Any, reset_after: Any) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimitState(remaining, reset_after)


# --- the pacer, on a fake clock -----------------------------------------------------------------


async def test_an_exhausted_window_is_waited_out_when_the_deadline_allows() -> None:
    clock = FakeClock()
    paced = pacer(clock)
    paced.observe(RateLimitState(0, 2.0))
    await paced.admit(clock.now + 5.0, method="GET", path="/x")
    assert clock.slept == [2.0]
    assert paced.remaining is None  # the window reset; nothing is assumed about the next one


async def test_a_reset_after_the_deadline_fails_at_once_without_waiting() -> None:
    clock = FakeClock()
    paced = pacer(clock)
    paced.observe(RateLimitState(0, 2.0))
    with pytest.raises(VendorRateLimitError) as info:
        await paced.admit(clock.now + 1.5, method="GET", path="/contacts/{contact_id}")
    assert clock.slept == []
    assert info.value.retry_after == pytest.approx(2.0)
    assert "not sent" in str(info.value)
    assert "GET /contacts/{contact_id}" in str(info.value)


async def test_requests_sent_since_the_last_answer_are_counted() -> None:
    clock = FakeClock()
    paced = pacer(clock)
    paced.observe(RateLimitState(2, 10.0))
    await paced.admit(None, method="GET", path="/x")
    await paced.admit(None, method="GET", path="/x")
    assert clock.slept == []
    with pytest.raises(VendorRateLimitError):
        await paced.admit(clock.now + 1.0, method="GET", path="/x")


async def test_a_late_answer_cannot_hand_back_requests_already_spent() -> None:
    clock = FakeClock()
    paced = pacer(clock)
    paced.observe(RateLimitState(0, 5.0))
    paced.observe(RateLimitState(40, 5.0))  # an answer to a request sent before the window ran out
    assert paced.remaining == 0


async def test_a_window_without_a_reset_is_short() -> None:
    clock = FakeClock()
    paced = pacer(clock)
    paced.observe(RateLimitState(0, None))
    await paced.admit(None, method="GET", path="/x")
    assert clock.slept == [DEFAULT_WINDOW]


@pytest.mark.parametrize("reset_after", [0.0, None])
async def test_a_vendor_that_says_nothing_or_a_past_reset_holds_nothing_back(
    reset_after: float | None,
) -> None:
    clock = FakeClock()
    paced = pacer(clock)
    paced.observe(None)
    await paced.admit(clock.now + 0.01, method="GET", path="/x")
    if reset_after == 0.0:
        paced.observe(RateLimitState(0, reset_after))
        await paced.admit(clock.now + 0.01, method="GET", path="/x")
    assert clock.slept == []


@pytest.mark.parametrize(("asked", "held"), [(-5.0, 0.0), (3.0, 3.0), (1e12, MAX_PACE), (math.inf, MAX_PACE)])
async def test_a_429_holds_the_integration_for_its_retry_after_within_the_cap(
    asked: float, held: float
) -> None:
    clock = FakeClock()
    paced = pacer(clock)
    paced.back_off(asked)
    await paced.admit(None, method="GET", path="/x")
    assert sum(clock.slept) == pytest.approx(held)


# --- in the HTTP layer: one pacer per VendorHttp, hooks distrusted ------------------------------


class _Hooks:
    def __init__(self, state: Any) -> None:
        self.state = state

    def request_id(self, response: httpx.Response) -> str | None:
        return None

    def error_code(self, response: httpx.Response) -> str | None:
        return None

    def retry_after(self, response: httpx.Response) -> float | None:
        return None

    def rate_limit_state(self, response: httpx.Response) -> RateLimitState | None:
        if isinstance(self.state, Exception):
            raise self.state
        return self.state  # type: ignore[no-any-return]


def _vendor_http(hooks: _Hooks, handler: Any, clock: FakeClock) -> VendorHttp:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return VendorHttp(
        client=client,
        base_url="https://vendor.test",
        auth=httpx.Auth(),
        hooks=hooks,
        retry_policy=RetryPolicy(),
        pacer=pacer(clock),
    )


@pytest.mark.parametrize("state", [ValueError("hostile header"), "0", 0, {"remaining": 0}, object()])
async def test_a_hook_that_raises_or_answers_nonsense_neither_fails_the_request_nor_paces(state: Any) -> None:
    clock = FakeClock()
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json={})

    http = _vendor_http(_Hooks(state), handler, clock)
    for _ in range(3):
        response = await http.request("GET", "/x")
        assert response.status_code == 200
    assert len(sent) == 3
    assert clock.slept == []


async def test_the_http_layer_waits_out_an_exhausted_window_before_sending() -> None:
    clock = FakeClock()
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        return httpx.Response(200, json={})

    http = _vendor_http(_Hooks(RateLimitState(0, 30.0)), handler, clock)
    await http.request("GET", "/x")
    await http.request("GET", "/x")
    assert clock.slept == [30.0]
    assert sent == [1000.0, 1030.0]


# --- through the runtime: per tenant and integration --------------------------------------------


def exhausted(reset: str) -> httpx.Response:
    return httpx.Response(
        200, json=contact_json(), headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    )


async def _get(nc: NexoraConnect, tenant: str, integration: str, contact_id: str, budget: float) -> Any:
    async with nc.conversation(tenant=tenant, conversation_id=f"pace-{tenant}-{contact_id}") as conv:
        return await conv._call(
            integration, "get_contact", {"contact_id": contact_id}, deadline=time.monotonic() + budget
        )


async def test_an_exhausted_tenant_is_refused_unsent_and_other_tenants_are_not_paced(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    first = router.get("/contacts/c-1").mock(return_value=exhausted("30"))
    second = router.get("/contacts/c-2").mock(return_value=httpx.Response(200, json=contact_json(id="c-2")))
    await _get(nc, "acme", "crm", "c-1", budget=2.0)
    started = time.monotonic()
    with pytest.raises(VendorRateLimitError) as info:
        await _get(nc, "acme", "crm", "c-2", budget=2.0)
    assert time.monotonic() - started < 1.0, "refused at once, not after waiting"
    assert second.call_count == 0, "a request the vendor would refuse was sent"
    assert info.value.retry_after is not None
    assert 25 < info.value.retry_after <= 30
    # Another tenant on the same vendor, and another integration of the same tenant: not paced.
    started = time.monotonic()
    assert (await _get(nc, "globex", "crm", "c-2", budget=2.0)).id == "c-2"
    assert (await _get(nc, "acme", "crm-rw", "c-2", budget=2.0)).id == "c-2"
    assert time.monotonic() - started < 1.0
    assert second.call_count == 2
    assert first.call_count == 1


async def test_a_short_reset_is_waited_out_within_the_deadline(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get("/contacts/c-1").mock(return_value=exhausted("0.2"))
    second = router.get("/contacts/c-2").mock(return_value=httpx.Response(200, json=contact_json(id="c-2")))
    await _get(nc, "acme", "crm", "c-1", budget=2.0)
    started = time.monotonic()
    assert (await _get(nc, "acme", "crm", "c-2", budget=2.0)).id == "c-2"
    took = time.monotonic() - started
    assert 0.1 <= took < 1.5
    assert second.call_count == 1


async def test_a_429_retry_after_paces_the_next_call_and_an_unkeyed_write(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.post("/notes").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "20"}, json={}),
            httpx.Response(200, json={"id": "n-2"}),
        ]
    )
    async with nc.conversation(tenant="acme", conversation_id="pace-429") as conv:
        with pytest.raises(VendorRateLimitError):
            await conv._call(
                "crm-rw", "create_note", {"contact_id": "c-1", "body": "a"}, deadline=time.monotonic() + 2
            )
        with pytest.raises(VendorRateLimitError) as info:
            await conv._call(
                "crm-rw", "create_note", {"contact_id": "c-1", "body": "b"}, deadline=time.monotonic() + 2
            )
    assert "not sent" in str(info.value)
    assert router.routes[0].call_count == 1


def test_the_default_hook_reads_the_standard_headers() -> None:
    response = httpx.Response(200, headers={"RateLimit": '"default";r=4;t=9'})
    assert Connector.rate_limit_state(object.__new__(Connector), response) == RateLimitState(4, 9.0)


# --- the shipped connectors' hooks --------------------------------------------------------------


def _hook(cls: type[Connector], **headers: str) -> RateLimitState | None:
    return cls.rate_limit_state(object.__new__(cls), httpx.Response(200, headers=headers))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-HubSpot-RateLimit-Remaining": "41", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
            RateLimitState(41, 10.0),
        ),
        (
            {
                "X-HubSpot-RateLimit-Remaining": "41",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Secondly-Remaining": "0",
            },
            RateLimitState(0, 1.0),
        ),
        (
            {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "-5"},
            RateLimitState(0, None),
        ),
        ({"X-HubSpot-RateLimit-Remaining": "zero", "X-HubSpot-RateLimit-Secondly-Remaining": "-1"}, None),
        ({"X-HubSpot-RateLimit-Daily-Remaining": "0"}, None),  # daily: not paced
    ],
)
def test_hubspot_paces_by_the_tighter_of_its_windows(
    headers: dict[str, str], expected: RateLimitState | None
) -> None:
    from connectors.crm.hubspot import HubSpotConnector

    assert _hook(HubSpotConnector, **headers) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-Rate-Limit-Remaining": "699", "ratelimit-remaining": "699", "ratelimit-reset": "41"},
            RateLimitState(699, 41.0),
        ),
        ({"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "0"}, RateLimitState(0, 60.0)),
        ({"X-Rate-Limit-Remaining": "lots"}, None),
        ({"zendesk-ratelimit-tickets-index": "total=100; remaining=0; resets=41"}, None),
    ],
)
def test_zendesk_paces_by_the_account_allowance(
    headers: dict[str, str], expected: RateLimitState | None
) -> None:
    from connectors.ticketing.zendesk import ZendeskConnector

    assert _hook(ZendeskConnector, **headers) == expected


def test_vendors_without_per_window_headers_are_not_paced() -> None:
    from connectors.billing.chargebee import ChargebeeConnector
    from connectors.billing.stripe import StripeConnector
    from connectors.crm.salesforce import SalesforceConnector
    from connectors.ticketing.jsm import JSMConnector

    assert _hook(SalesforceConnector, **{"Sforce-Limit-Info": "api-usage=100000/100000"}) is None
    assert _hook(StripeConnector, **{"Request-Id": "req_1"}) is None
    assert _hook(ChargebeeConnector) is None
    assert _hook(
        JSMConnector, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2001-09-09T01:46Z"}
    ) == (RateLimitState(0, 0.0))


def test_repeated_ratelimit_fields_are_read_as_one_list() -> None:
    headers = httpx.Headers([("RateLimit", '"sec";r=5;t=1'), ("ratelimit", '"min";r=0;t=40')])
    assert standard_rate_limit_state(headers) == RateLimitState(0, 40.0)
    assert standard_rate_limit_state({"X-RATELIMIT-REMAINING": "2"}) == RateLimitState(2, None)
