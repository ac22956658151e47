"""Every request the Intercom connector sends, and every fixture it parses, against Intercom's OpenAPI.

The document is the bundled 6-operation subset of Intercom's API 2.14 description
(``tests/fixtures/specs/intercom``, MIT; see its README for the one change). The registered
``"intercom"`` name in ``tests/contracts/openapi_contract.py`` still points at the full shared
YAML, so the subset is loaded here with ``spec_from_document``.

Vendor gaps pinned here: upstream ``createNote`` declares its ``contact_id`` path parameter an
integer, while contact ids are strings in the same document; the subset declares it a string.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import httpx
import pytest
import respx

from connectors.crm.intercom import IntercomConnector
from sdk import VendorError
from sdk.testing import mock_runtime
from tests.connectors import intercom_cases as ic
from tests.contracts.openapi_contract import (
    ContractRecorder,
    VendorSpec,
    assert_request_valid,
    assert_response_valid,
    spec_from_document,
    vendor_specs_dir,
)

EXPECTED_OPERATIONS = {
    "SearchContacts",  # find_contacts
    "ShowContact",  # get_contact
    "RetrieveACompanyById",  # get_account
    "searchConversations",  # list_conversations
    "createNote",  # create_note
    "identifyAdmin",  # verify
}


@cache
def _spec() -> VendorSpec:
    return spec_from_document("intercom-subset", ic.SPEC_PATH, ic.spec_document())


# --- scenarios: drive the connector, then check what crossed the wire -------------------------

Call = Callable[[Any], Awaitable[Any]]


def _op(operation: str, **arguments: Any) -> Call:
    async def call(nc: Any) -> Any:
        async with nc.conversation(tenant="acme", conversation_id="contract-call") as conv:
            return await conv.call("intercom", operation, **arguments)

    return call


async def _verify(nc: Any) -> None:
    await nc.verify("acme", "intercom")


def _kit(index: int) -> Callable[[respx.MockRouter], object]:
    return lambda router: ic.CASES[index].mock(router, "Contract Canary")


def _error(
    method: str, url: str, status: int, body: Callable[[], Any]
) -> Callable[[respx.MockRouter], object]:
    return lambda router: router.route(method=method, url=url).respond(status, json=body())


def _unauthorized() -> Any:
    return ic.example("/contacts/{contact_id}", "get", "401")


SCENARIOS: dict[str, tuple[Callable[[respx.MockRouter], object], Call, type[Exception] | None]] = {
    "find_contacts-email": (_kit(0), _op("find_contacts", email=ic.CALLER_EMAIL), None),
    "find_contacts-phone": (_kit(1), _op("find_contacts", phone=ic.CALLER_PHONE), None),
    "find_contacts-both-two-pages": (
        lambda r: ic.contact_pages_route(r, ["WzE3MTg0MDAwMDAwMDAsIjY1ZjAiXQ==", None]),
        _op("find_contacts", phone=ic.CALLER_PHONE, email="o'brien\\x@example.test"),
        None,
    ),
    "find_contacts-401": (
        _error("POST", ic.CONTACT_SEARCH, 401, lambda: ic.example("/contacts/search", "post", "401")),
        _op("find_contacts", email=ic.CALLER_EMAIL),
        VendorError,
    ),
    "get_contact": (_kit(2), _op("get_contact", contact_id=ic.CONTACT_ID), None),
    "get_contact-401": (
        _error("GET", ic.CONTACT, 401, _unauthorized),
        _op("get_contact", contact_id=ic.CONTACT_ID),
        VendorError,
    ),
    "get_account": (_kit(3), _op("get_account", account_id=ic.COMPANY_ID), None),
    "get_account-404": (
        _error("GET", ic.COMPANY, 404, lambda: ic.example("/companies/{company_id}", "get", "404")),
        _op("get_account", account_id=ic.COMPANY_ID),
        VendorError,
    ),
    "list_conversations": (_kit(4), _op("list_conversations", contact_id=ic.CONTACT_ID, limit=5), None),
    "create_note": (
        _kit(5),
        _op("create_note", contact_id=ic.CONTACT_ID, body="Called about an invoice."),
        None,
    ),
    "create_note-404": (
        _error("POST", ic.NOTES, 404, lambda: ic.fixture("not_found")),
        _op("create_note", contact_id=ic.CONTACT_ID, body="Called."),
        VendorError,
    ),
    "verify": (lambda r: r.get(ic.ME).respond(200, json=ic.fixture("me")), _verify, None),
}


async def _exercise(name: str, recorder: ContractRecorder) -> list[str]:
    mount, call, expect = SCENARIOS[name]
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    mount(router)
    async with mock_runtime(
        IntercomConnector,
        router,
        ic.credential("contract-token"),
        tenant="acme",
        settings=ic.SETTINGS,
        write_scopes=["notes:write"],
    ) as nc:
        if expect is None:
            await call(nc)
        else:
            with pytest.raises(expect):
                await call(nc)
    assert router.calls, f"{name} sent no request"
    return recorder.check(router)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario_traffic_matches_the_intercom_spec(name: str) -> None:
    assert await _exercise(name, ContractRecorder(_spec()))


async def test_every_operation_the_connector_uses_is_exercised_and_valid() -> None:
    recorder = ContractRecorder(_spec())
    for name in SCENARIOS:
        await _exercise(name, recorder)
    assert set(recorder.exercised) == EXPECTED_OPERATIONS


def test_every_declared_endpoint_is_an_operation_of_the_spec() -> None:
    """The connector's declarations and the document name the same method and path template."""
    declared = {
        (e.method, e.template)
        for spec in [*IntercomConnector.implemented_operations().values(), IntercomConnector.verify_spec]
        for e in spec.endpoints
    }
    assert declared == set(_spec().operations.values())


# --- fixtures on their own ---------------------------------------------------------------------

FIXTURES: dict[str, tuple[str, str, int, Any]] = {
    "contacts": (
        "POST",
        ic.CONTACT_SEARCH,
        200,
        {"query": {"field": "email", "operator": "=", "value": "a@b.test"}},
    ),
    "contact": ("GET", ic.CONTACT, 200, None),
    "company": ("GET", ic.COMPANY, 200, None),
    "conversations": (
        "POST",
        ic.CONVERSATION_SEARCH,
        200,
        {"query": {"field": "contact_ids", "operator": "=", "value": ic.CONTACT_ID}},
    ),
    "note_created": ("POST", ic.NOTES, 200, {"body": "Hello"}),
    "me": ("GET", ic.ME, 200, None),
    "not_found": ("POST", ic.NOTES, 404, {"body": "Hello"}),
}


@pytest.mark.parametrize("name", list(FIXTURES))
def test_fixture_is_a_valid_intercom_response(name: str) -> None:
    method, url, status, body = FIXTURES[name]
    request = httpx.Request(
        method, url, headers={"Authorization": "Bearer t", "Intercom-Version": "2.14"}, json=body
    )
    assert_request_valid(_spec(), request)
    assert_response_valid(_spec(), request, httpx.Response(status, json=ic.fixture(name)))


def _keys(node: Any) -> Any:
    """The shape of a JSON value: the keys of every object, recursively (lists by their first item)."""
    if isinstance(node, dict):
        return {key: _keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_keys(node[0])] if node else []
    return type(node).__name__ if node is not None else None


@pytest.mark.parametrize(
    ("name", "path", "method", "status"),
    [
        ("contact", "/contacts/{contact_id}", "get", "200"),
        ("company", "/companies/{company_id}", "get", "200"),
        ("note_created", "/contacts/{contact_id}/notes", "post", "200"),
        ("conversations", "/conversations/search", "post", "200"),
    ],
)
def test_fixture_has_exactly_the_keys_of_the_documented_example(
    name: str, path: str, method: str, status: str
) -> None:
    def keys_only(node: Any) -> Any:
        shape = _keys(node)
        return json.loads(json.dumps(shape, default=str), object_hook=lambda d: sorted(d))

    assert keys_only(ic.fixture(name)) == keys_only(ic.example(path, method, status))


def test_upstream_gaps_the_subset_fixes_are_still_there() -> None:
    """The gaps the subset fixes (README changes 2 and 3); when Intercom corrects one, drop its change."""
    original = vendor_specs_dir() / "intercom" / "api.intercom.io.2.14.yaml"
    if not original.is_file():
        pytest.skip(f"the shared Intercom document is not at {original}")
    spec = VendorSpec.load("intercom")
    parameters = spec.document["paths"]["/contacts/{contact_id}/notes"]["post"]["parameters"]
    (contact_id,) = [p for p in parameters if p["name"] == "contact_id"]
    assert contact_id["schema"] == {"type": "integer"}
    shown = spec.document["paths"]["/contacts/{contact_id}"]["get"]["parameters"]
    assert [p["schema"] for p in shown if p["name"] == "contact_id"] == [{"type": "string"}]
    ai_agent = spec.document["components"]["schemas"]["conversation_list_item"]["properties"]["ai_agent"]
    assert ai_agent == {"$ref": "#/components/schemas/ai_agent", "nullable": True}  # README change 3
    subset = _spec().document["paths"]["/contacts/{contact_id}/notes"]["post"]["parameters"]
    assert [p["schema"] for p in subset if p["name"] == "contact_id"] == [{"type": "string"}]
