"""Chargebee: every request is a declared endpoint, and no customer id can leave its customer (S1).

The regression this pins: a tool call with ``customer_id=".."`` once turned
``/api/v1/customers/../invoices`` into ``/api/v1/invoices`` (every customer's
invoices). Each hostile id must now be refused with InvalidArgumentsError
before anything reaches the transport, through a direct call and through a
tool call alike; safe-but-odd ids must stay one segment under the customer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from connectors.billing.chargebee import ChargebeeConnector
from sdk import InvalidArgumentsError, NexoraConnect, VendorNotFoundError
from sdk.testing import make_canary
from tests.connectors import chargebee_cases
from tests.connectors.chargebee_cases import (
    BASE,
    CUSTOMER,
    CUSTOMER_ID,
    INVOICES,
    SUBSCRIPTIONS,
    credential,
    fixture,
)
from tests.mock_nexora import call_once, invoke_once, vendor_router

INTEGRATION = "billing"
HOST = httpx.URL(BASE).host

HOSTILE_IDS = [
    pytest.param("..", id="dotdot"),
    pytest.param("%2e%2e", id="pct-dotdot"),
    pytest.param("%2E%2E", id="pct-DOTDOT"),
    pytest.param("%252e%252e", id="double-pct-dotdot"),
    pytest.param(".", id="dot"),
    pytest.param("", id="empty"),
    pytest.param("a/b", id="slash"),
    pytest.param("../invoices", id="dotdot-invoices"),
    pytest.param("%2F", id="pct-slash"),
    pytest.param("\x00", id="nul"),
    pytest.param("a\x00b", id="inner-nul"),
    pytest.param("a\r\nX-Injected: 1", id="crlf"),
    pytest.param("\uff0e\uff0e", id="fullwidth-dotdot"),
    pytest.param("\uff0e", id="fullwidth-dot"),
    pytest.param("\u2024\u2024", id="one-dot-leaders"),
    pytest.param("\ufeff..", id="bom-dotdot"),
]
ID_OPERATIONS = ["get_balance", "list_invoices", "list_subscriptions"]
ENDPOINTS = {
    "find_customers": {"GET /api/v1/customers"},
    "get_balance": {"GET /api/v1/customers/{customer_id}", "GET /api/v1/customers/{customer_id}/invoices"},
    "list_invoices": {"GET /api/v1/customers/{customer_id}/invoices"},
    "list_subscriptions": {"GET /api/v1/customers/{customer_id}/subscriptions"},
}


@pytest.fixture
def router() -> respx.MockRouter:
    # No base URL: the catch-all sees a request to any host or path, not only the site's.
    # The escaped path of the regression answers like Chargebee would: with every invoice.
    router = vendor_router()
    router.get(f"{BASE}/api/v1/invoices").respond(200, json=fixture("invoices"))
    return router


def catch_all(router: respx.MockRouter) -> respx.Route:
    """Answer every other request (any host, any path), after the test's own routes."""
    return router.route().respond(200, json=fixture("customer") | {"list": []})


@pytest.fixture
async def nc(router: respx.MockRouter) -> AsyncIterator[NexoraConnect]:
    async with chargebee_cases.runtime(router, credential(make_canary("key"))) as runtime:
        yield runtime


async def call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await call_once(nc, INTEGRATION, operation, **arguments)


async def invoke(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await invoke_once(nc, INTEGRATION, operation, **arguments)


def sent_paths(router: respx.MockRouter) -> list[str]:
    return [call.request.url.raw_path.decode("ascii").partition("?")[0] for call in router.calls]


def test_every_operation_and_verify_declare_exactly_their_endpoints() -> None:
    declared = {
        name: {str(endpoint) for endpoint in spec.endpoints}
        for name, spec in ChargebeeConnector.implemented_operations().items()
    }
    assert declared == ENDPOINTS
    assert {str(e) for e in ChargebeeConnector.verify_spec.endpoints} == {"GET /api/v1/customers"}


@pytest.mark.parametrize("operation", ID_OPERATIONS)
@pytest.mark.parametrize("customer_id", HOSTILE_IDS)
async def test_a_hostile_customer_id_is_refused_before_any_request(
    nc: NexoraConnect, router: respx.MockRouter, operation: str, customer_id: str
) -> None:
    catch_all(router)
    with pytest.raises(InvalidArgumentsError, match="customer_id"):
        await call(nc, operation, customer_id=customer_id)
    with pytest.raises(InvalidArgumentsError, match="customer_id"):
        await invoke(nc, operation, customer_id=customer_id)
    assert router.calls.call_count == 0


@pytest.mark.parametrize("operation", ID_OPERATIONS)
async def test_dotdot_never_reads_every_customers_invoices(
    nc: NexoraConnect, router: respx.MockRouter, operation: str
) -> None:
    """The regression: ``..`` must not reach ``/api/v1/invoices`` (nor any path outside a customer)."""
    every_invoice = router.routes[0]
    catch_all(router)
    for hostile in ("..", "%2e%2e", "\uff0e\uff0e", "../invoices"):
        with pytest.raises(InvalidArgumentsError):
            await call(nc, operation, customer_id=hostile)
    assert every_invoice.call_count == 0
    assert "/api/v1/invoices" not in sent_paths(router)
    assert sent_paths(router) == []


async def test_the_error_names_the_argument_but_never_echoes_the_value(nc: NexoraConnect) -> None:
    canary = make_canary("cust")
    for hostile in (f"{canary}\x00", f"{canary}/..", f"..\\{canary}"):
        with pytest.raises(InvalidArgumentsError) as caught:
            await call(nc, "get_balance", customer_id=hostile)
        assert canary not in str(caught.value)
        assert canary not in repr(caught.value)


@pytest.mark.parametrize("odd_id", ["..a", "a..", "cb.01", "..;", "a;b", "\u0101roha", "a&_x=1"])
async def test_an_odd_but_plain_id_stays_one_segment_under_the_customer(
    nc: NexoraConnect, router: respx.MockRouter, odd_id: str
) -> None:
    catch_all(router)
    await call(nc, "get_balance", customer_id=odd_id)
    await call(nc, "list_invoices", customer_id=odd_id)
    await call(nc, "list_subscriptions", customer_id=odd_id)
    paths = sent_paths(router)
    assert len(paths) == 4
    for path in paths:
        segments = path.split("/")
        assert segments[:4] == ["", "api", "v1", "customers"], path
        assert httpx.URL("https://x" + path).path.split("/")[4] == odd_id  # one segment, decoded back
        assert len(segments) in (5, 6)
        assert segments[5:] in ([], ["invoices"], ["subscriptions"])


async def test_next_offset_travels_as_a_query_value_and_never_moves_the_path(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    hostile_offset = "https://evil.example/api/v1/invoices?x=../../invoices"
    first = fixture("subscriptions") | {"next_offset": hostile_offset}
    second = fixture("subscriptions")
    for entry in second["list"]:
        entry["subscription"]["id"] += "_next"  # the next page holds other subscriptions
    route = router.get(SUBSCRIPTIONS).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    catch_all(router)
    found = await call(nc, "list_subscriptions", customer_id=CUSTOMER_ID, limit=4)
    assert len(found) == 4
    assert route.calls[1].request.url.params["offset"] == hostile_offset
    assert {call.request.url.host for call in router.calls} == {HOST}
    assert set(sent_paths(router)) == {f"/api/v1/customers/{CUSTOMER_ID}/subscriptions"}


async def test_only_the_customers_own_paths_are_read(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get(CUSTOMER).respond(200, json=fixture("customer"))
    router.get(INVOICES).respond(200, json=fixture("invoices"))
    catch_all(router)
    await call(nc, "get_balance", customer_id=CUSTOMER_ID)
    assert sorted(sent_paths(router)) == [
        f"/api/v1/customers/{CUSTOMER_ID}",
        f"/api/v1/customers/{CUSTOMER_ID}/invoices",
    ]


async def test_a_vendor_404_for_a_plain_id_is_still_not_found(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/api/v1/customers/nobody").respond(404, json=fixture("error_404"))
    router.get(f"{BASE}/api/v1/customers/nobody/invoices").respond(404, json=fixture("error_404"))
    catch_all(router)
    with pytest.raises(VendorNotFoundError):
        await call(nc, "get_balance", customer_id="nobody")
