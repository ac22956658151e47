"""The HubSpot connector end to end: runtime, scope checks, credentials, respx-mocked HubSpot.

Request shapes are asserted here; their validity under HubSpot's own specs is asserted by
``test_hubspot_contract.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    Account,
    AuditDecision,
    Contact,
    InvalidArgumentsError,
    MemoryAuditSink,
    NexoraConnect,
    Note,
    ReauthorizationRequiredError,
    ScopeDeniedError,
    VendorAuthError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk.authoring import RetryPolicy, default_registry, endpoints
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import hubspot_cases as hs
from tests.connectors.path_id_attacks import PATH_ID_ATTACKS, catch_all_router, echoes
from tests.oauth.support import MemorySource
from vault import OAuth2RefreshCredential

CONTACT_51 = Contact(
    id="51",
    source=hs.READ,
    name="Aroha Ngata",
    email="aroha.ngata@example.co.nz",
    phone="+6495550123",
    account_id="9001",
    created_at=datetime(2024, 3, 4, 21, 10, 0, 123000, tzinfo=UTC),
    updated_at=datetime(2025, 1, 20, 2, 45, 11, 4000, tzinfo=UTC),
)


@pytest.fixture
def credentials(canary_key: str) -> MemoryCredentialSource:
    return hs.credentials(canary_key)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    mock = respx.MockRouter(base_url=hs.BASE, assert_all_called=True, assert_all_mocked=True)
    yield mock
    mock.assert_all_called()


@pytest.fixture
async def nc(
    router: respx.MockRouter, credentials: MemoryCredentialSource, audit: MemoryAuditSink
) -> AsyncIterator[NexoraConnect]:
    async with hs.runtime(router, credentials, audit=audit) as runtime:
        yield runtime


async def call(nc: NexoraConnect, integration: str, operation: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        return await conv.call(integration, operation, **arguments)


def sent_json(route: respx.Route, index: int = 0) -> Any:
    return json.loads(route.calls[index].request.content)


def filters(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (f["propertyName"], f["operator"], f["value"])
        for group in body["filterGroups"]
        for f in group["filters"]
    ]


# --- registration ------------------------------------------------------------------------------


def test_registered_under_its_entry_point() -> None:
    assert default_registry().load("hubspot") is HubSpotConnector
    info = default_registry().describe("hubspot")
    assert info.category == "crm"
    assert info.operations == {
        "find_contacts": "contacts:read",
        "get_contact": "contacts:read",
        "get_account": "accounts:read",
        "create_note": "notes:write",
    }


@pytest.mark.parametrize("case", hs.cases(), ids=lambda case: case.id)
async def test_scripted_case(case: hs.Case) -> None:
    """The cases the contract test validates also run here, with or without HubSpot's specs."""
    await hs.run_and_check(case, make_canary("secret"))


# --- find_contacts -----------------------------------------------------------------------------


async def test_find_by_email_sends_a_declared_search_read(
    nc: NexoraConnect, router: respx.MockRouter, canary_key: str
) -> None:
    route = router.post(hs.SEARCH).respond(200, json=hs.search_response(hs.search_hit()))
    contacts = await call(nc, hs.READ, "find_contacts", email="aroha.ngata@example.co.nz")
    assert contacts == [CONTACT_51]
    request = route.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {canary_key}"
    body = sent_json(route)
    assert filters(body) == [("email", "EQ", "aroha.ngata@example.co.nz")]
    assert body["sorts"] == []
    assert body["after"] == "0"
    assert body["limit"] == HubSpotConnector.search_page_size
    assert {"firstname", "lastname", "email", "phone", "mobilephone", "associatedcompanyid"} <= set(
        body["properties"]
    )


async def test_find_by_phone_searches_national_digits_and_e164_and_drops_other_countries(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post(hs.SEARCH).mock(
        side_effect=[
            httpx.Response(200, json=hs.fixture("search_page1")),
            httpx.Response(200, json=hs.fixture("search_page2")),
        ]
    )
    contacts = await call(nc, hs.READ, "find_contacts", phone="021 555 0100")
    # 77 is stored as an Australian number with the same national digits: not the caller.
    assert [c.id for c in contacts] == ["51", "88"]
    assert contacts[1].phone == "+64215550100"
    first, second = sent_json(route, 0), sent_json(route, 1)
    assert filters(first) == [
        ("hs_searchable_calculated_phone_number", "EQ", "215550100"),
        ("hs_searchable_calculated_mobile_number", "EQ", "215550100"),
        ("phone", "EQ", "+64215550100"),
        ("mobilephone", "EQ", "+64215550100"),
    ]
    assert (first["after"], second["after"]) == ("0", "2")


async def test_phone_and_email_together_use_five_filter_groups(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post(hs.SEARCH).respond(200, json=hs.search_response())
    assert await call(nc, hs.READ, "find_contacts", phone="+64 21 555 0100", email="a@example.com") == []
    body = sent_json(route)
    assert len(body["filterGroups"]) == 5  # HubSpot's maximum
    assert body["filterGroups"][0]["filters"][0]["propertyName"] == "email"


async def test_phone_is_read_in_the_tenant_region(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    route = router.post(hs.SEARCH).respond(
        200, json=hs.search_response(hs.contact_hit("5", phone="(617) 555-0100", email="b@example.com"))
    )
    async with hs.runtime(router, credentials, phone_region="US") as nc:
        contacts = await call(nc, hs.READ, "find_contacts", phone="617-555-0100")
    assert [c.phone for c in contacts] == ["+16175550100"]
    assert ("hs_searchable_calculated_phone_number", "EQ", "6175550100") in filters(sent_json(route))


async def test_email_match_ignores_case(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.post(hs.SEARCH).respond(
        200, json=hs.search_response(hs.contact_hit("9", email="Aroha@Example.COM"))
    )
    contacts = await call(nc, hs.READ, "find_contacts", email="aroha@example.com")
    assert [c.id for c in contacts] == ["9"]


async def test_unparseable_phone_alone_finds_nothing_without_a_request(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    assert await call(nc, hs.READ, "find_contacts", phone="not a number") == []
    assert len(router.calls) == 0


async def test_unparseable_phone_with_email_searches_by_email_only(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post(hs.SEARCH).respond(200, json=hs.search_response())
    await call(nc, hs.READ, "find_contacts", phone="n/a", email="a@example.com")
    assert filters(sent_json(route)) == [("email", "EQ", "a@example.com")]


async def test_find_without_phone_or_email_is_a_usage_error(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    with pytest.raises(InvalidArgumentsError, match="phone number, an email address"):
        await call(nc, hs.READ, "find_contacts")
    assert len(router.calls) == 0


async def test_paging_stops_at_max_contacts(nc: NexoraConnect, router: respx.MockRouter) -> None:
    page = [hs.contact_hit(str(i), email="same@example.com") for i in range(1, 11)]
    route = router.post(hs.SEARCH).respond(200, json=hs.search_response(*page, after="10"))
    contacts = await call(nc, hs.READ, "find_contacts", email="same@example.com")
    assert len(contacts) == HubSpotConnector.max_contacts
    assert route.call_count == 1


async def test_a_repeated_cursor_is_a_payload_error(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.post(hs.SEARCH).respond(200, json=hs.search_response(after="7"))
    with pytest.raises(VendorPayloadError, match="cursor"):
        await call(nc, hs.READ, "find_contacts", email="a@example.com")


async def test_a_hit_on_two_pages_is_returned_once(nc: NexoraConnect, router: respx.MockRouter) -> None:
    hit = hs.contact_hit("3", email="a@example.com")
    router.post(hs.SEARCH).mock(
        side_effect=[
            httpx.Response(200, json=hs.search_response(hit, after="1")),
            httpx.Response(200, json=hs.search_response(hit)),
        ]
    )
    contacts = await call(nc, hs.READ, "find_contacts", email="a@example.com")
    assert [c.id for c in contacts] == ["3"]


# --- get_contact / get_account -----------------------------------------------------------------


async def test_get_contact_asks_for_mapped_properties_and_company_associations(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get("/crm/v3/objects/contacts/51").respond(200, json=hs.fixture("contact"))
    contact = await call(nc, hs.READ, "get_contact", contact_id="51")
    assert contact == CONTACT_51
    params = route.calls[0].request.url.params
    assert params.get_list("associations") == ["companies"]
    assert {"firstname", "lastname", "email", "phone", "mobilephone", "associatedcompanyid"} <= set(
        params.get_list("properties")
    )


@pytest.mark.parametrize(
    ("associations", "associatedcompanyid", "expected"),
    [
        ([("9002", "contact_to_company_unlabeled"), ("9001", "contact_to_company")], None, "9001"),
        ([("9002", "contact_to_company_unlabeled")], "9001", "9001"),
        ([("9002", "contact_to_company_unlabeled")], None, "9002"),
        ([], "9001", "9001"),
        (None, None, None),
    ],
)
async def test_account_id_prefers_the_primary_company(
    nc: NexoraConnect,
    router: respx.MockRouter,
    associations: list[tuple[str, str]] | None,
    associatedcompanyid: str | None,
    expected: str | None,
) -> None:
    payload = hs.fixture("contact")
    payload["properties"].pop("associatedcompanyid")
    if associatedcompanyid is not None:
        payload["properties"]["associatedcompanyid"] = associatedcompanyid
    if associations is None:
        payload.pop("associations")
    else:
        payload["associations"]["companies"]["results"] = [{"id": i, "type": t} for i, t in associations]
    router.get("/crm/v3/objects/contacts/51").respond(200, json=payload)
    contact = await call(nc, hs.READ, "get_contact", contact_id="51")
    assert contact.account_id == expected


async def test_unset_properties_arrive_as_null_and_map_to_none(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    payload = {
        "id": "60",
        "properties": {"firstname": None, "lastname": "", "email": None, "phone": None, "mobilephone": " "},
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z",
        "archived": False,
    }
    router.get("/crm/v3/objects/contacts/60").respond(200, json=payload)
    contact = await call(nc, hs.READ, "get_contact", contact_id="60")
    assert (contact.name, contact.email, contact.phone, contact.account_id) == (None, None, None, None)


async def test_phone_typed_without_country_code_uses_hubspots_calculated_number(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    payload = hs.fixture("contact")
    payload["properties"].update(phone="0412 345 678", hs_calculated_phone_number="+61412345678")
    router.get("/crm/v3/objects/contacts/51").respond(200, json=payload)
    contact = await call(nc, hs.READ, "get_contact", contact_id="51")
    assert contact.phone == "+61412345678"


@pytest.mark.parametrize("contact_id", ["abc", "12a", "١٢"])
async def test_non_numeric_ids_are_refused_before_any_request(
    nc: NexoraConnect, router: respx.MockRouter, contact_id: str
) -> None:
    with pytest.raises(InvalidArgumentsError, match="contact_id must be a HubSpot record id"):
        await call(nc, hs.READ, "get_contact", contact_id=contact_id)
    assert len(router.calls) == 0


ID_ARGUMENTS = [
    pytest.param(hs.READ, "get_contact", "contact_id", {}, id="get_contact"),
    pytest.param(hs.READ, "get_account", "account_id", {}, id="get_account"),
    pytest.param(hs.WRITE, "create_note", "contact_id", {"body": "Called back"}, id="create_note"),
]


@pytest.mark.parametrize(("integration", "operation", "argument", "others"), ID_ARGUMENTS)
@pytest.mark.parametrize("value", PATH_ID_ATTACKS)
async def test_a_path_trick_in_any_id_is_refused_before_any_request(
    credentials: MemoryCredentialSource,
    integration: str,
    operation: str,
    argument: str,
    others: dict[str, str],
    value: str,
) -> None:
    router = catch_all_router()
    async with hs.runtime(router, credentials) as nc:
        with pytest.raises(InvalidArgumentsError) as info:
            await call(nc, integration, operation, **others, **{argument: value})
    assert len(router.calls) == 0
    assert not echoes(value, str(info.value))


def test_every_operation_declares_exactly_its_endpoints() -> None:
    declared = {
        name: sorted(str(e) for e in spec.endpoints) for name, spec in HubSpotConnector.operations.items()
    }
    assert declared == {
        "find_contacts": ["POST /crm/v3/objects/contacts/search"],
        "get_contact": ["GET /crm/v3/objects/contacts/{contact_id}"],
        "get_account": ["GET /crm/v3/objects/companies/{account_id}"],
        "create_note": ["POST /crm/v3/objects/notes"],
    }
    assert [str(e) for e in HubSpotConnector.verify_spec.endpoints] == ["GET /crm/v3/objects/contacts"]


async def test_get_account(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get("/crm/v3/objects/companies/9001").respond(200, json=hs.fixture("company"))
    account = await call(nc, hs.READ, "get_account", account_id="9001")
    assert account == Account(
        id="9001",
        source=hs.READ,
        name="Kiwi Plumbing Ltd",
        domain="kiwi-plumbing.example.co.nz",
        phone="+6495550199",
        industry="CONSTRUCTION",
    )
    assert set(route.calls[0].request.url.params.get_list("properties")) == {
        "name",
        "domain",
        "phone",
        "industry",
    }


# --- create_note -------------------------------------------------------------------------------


class FixedClockHubSpot(HubSpotConnector):
    def now(self) -> datetime:
        return datetime(2025, 3, 1, 14, 2, 3, tzinfo=UTC)


async def test_note_under_read_only_grant_is_refused_before_any_request(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource, audit: MemoryAuditSink
) -> None:
    with pytest.raises(ScopeDeniedError, match="notes:write"):
        await call(nc, hs.READ, "create_note", contact_id="51", body="Caller wants a refund")
    assert len(router.calls) == 0
    assert credentials.reads == 0
    assert audit.records[-1].decision is AuditDecision.DENIED


async def test_note_is_html_escaped_timestamped_and_associated_to_the_contact(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    route = router.post("/crm/v3/objects/notes").respond(201, json=hs.fixture("note_created"))
    text = "Caller asked about invoice INV-12.\nWants a call back <after 5pm>."
    async with hs.runtime(router, credentials, connector=FixedClockHubSpot) as nc:
        note = await call(nc, hs.WRITE, "create_note", contact_id="51", body=text)
    assert note == Note(
        id="4401",
        source=hs.WRITE,
        contact_id="51",
        body=text,
        created_at=datetime(2025, 3, 1, 1, 2, 3, 456000, tzinfo=UTC),
    )
    assert sent_json(route) == {
        "properties": {
            "hs_note_body": "Caller asked about invoice INV-12.<br>Wants a call back &lt;after 5pm&gt;.",
            "hs_timestamp": "2025-03-01T14:02:03.000Z",
        },
        "associations": [
            {
                "to": {"id": "51"},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
            }
        ],
    }


async def test_note_is_not_resent_after_a_server_error(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.post("/crm/v3/objects/notes").respond(502)
    with pytest.raises(VendorServerError):
        await call(nc, hs.WRITE, "create_note", contact_id="51", body="Call summary")
    assert route.call_count == 1  # HubSpot has no idempotency key: a resend could write it twice


# --- verify ------------------------------------------------------------------------------------


async def test_verify_reads_one_contact(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get("/crm/v3/objects/contacts").respond(200, json={"results": []})
    await nc.verify("acme", hs.READ)
    assert route.calls[0].request.url.params["limit"] == "1"


async def test_verify_with_a_rejected_token_raises_auth_error(
    nc: NexoraConnect, router: respx.MockRouter, canary_key: str
) -> None:
    router.get("/crm/v3/objects/contacts").respond(401, json=hs.fixture("error_unauthorized"))
    with pytest.raises(VendorAuthError) as info:
        await nc.verify("acme", hs.READ)
    assert info.value.vendor_code == "INVALID_AUTHENTICATION"
    assert canary_key not in str(info.value)


# --- errors ------------------------------------------------------------------------------------


async def test_not_found_carries_category_and_correlation_id_but_not_the_message(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get("/crm/v3/objects/contacts/52").respond(404, json=hs.fixture("error_not_found"))
    with pytest.raises(VendorNotFoundError) as info:
        await call(nc, hs.READ, "get_contact", contact_id="52")
    error = info.value
    assert error.vendor_code == "OBJECT_NOT_FOUND"
    assert error.request_id == "5a8f1c2e-7d3b-4e6f-9a01-23456789abcd"
    assert error.path == "/crm/v3/objects/contacts/{contact_id}"  # the declared template, no id
    assert "usually numeric" not in str(error)
    assert "/52" not in str(error)


async def test_correlation_header_is_the_request_id(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get("/crm/v3/objects/companies/1").respond(
        404, json=hs.fixture("error_not_found"), headers={"X-HubSpot-Correlation-Id": "from-header-1"}
    )
    with pytest.raises(VendorNotFoundError) as info:
        await call(nc, hs.READ, "get_account", account_id="1")
    assert info.value.request_id == "from-header-1"


async def test_401_rereads_the_key_once_then_fails_without_leaking_it(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource, canary_key: str
) -> None:
    route = router.get("/crm/v3/objects/contacts/51").respond(401, json=hs.fixture("error_unauthorized"))
    with pytest.raises(VendorAuthError) as info:
        await call(nc, hs.READ, "get_contact", contact_id="51")
    assert route.call_count == 2
    assert credentials.fresh_reads == 1
    assert canary_key not in str(info.value)
    assert canary_key not in repr(info.value.__context__)
    assert info.value.__cause__ is None


async def test_rotated_key_is_picked_up_after_a_401(
    nc: NexoraConnect, router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    new_key = make_canary("secret")
    credentials.put("acme", hs.READ, hs.credential(new_key))
    credentials.lagging = True  # a stale reused copy still holds the old key
    router.get("/crm/v3/objects/contacts/51").mock(
        side_effect=lambda request: httpx.Response(
            200 if request.headers["Authorization"] == f"Bearer {new_key}" else 401,
            json=hs.fixture("contact") if request.headers["Authorization"] == f"Bearer {new_key}" else {},
        )
    )
    contact = await call(nc, hs.READ, "get_contact", contact_id="51")
    assert contact.id == "51"


class NoRetryHubSpot(HubSpotConnector):
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy(max_attempts=1)


@pytest.mark.parametrize(
    ("headers", "body", "wait", "code"),
    [
        (
            {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Remaining": "0"},
            "error_rate_limited",
            10.0,
            "RATE_LIMITS:TEN_SECONDLY_ROLLING",
        ),
        ({"Retry-After": "3"}, "error_rate_limited", 3.0, "RATE_LIMITS:TEN_SECONDLY_ROLLING"),
        ({}, None, 1.0, None),
        ({"X-HubSpot-RateLimit-Daily-Remaining": "0"}, None, None, None),
    ],
)
async def test_rate_limit_error_says_how_long_to_wait(
    router: respx.MockRouter,
    credentials: MemoryCredentialSource,
    headers: dict[str, str],
    body: str | None,
    wait: float | None,
    code: str | None,
) -> None:
    router.get("/crm/v3/objects/contacts/51").respond(
        429, json=hs.fixture(body) if body else None, headers=headers
    )
    async with hs.runtime(router, credentials, connector=NoRetryHubSpot) as nc:
        with pytest.raises(VendorRateLimitError) as info:
            await call(nc, hs.READ, "get_contact", contact_id="51")
    assert info.value.retry_after == wait
    assert info.value.vendor_code == code


async def test_search_is_retried_after_a_rate_limit(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.post(hs.SEARCH).mock(
        side_effect=[
            httpx.Response(429, json=hs.fixture("error_rate_limited"), headers={"Retry-After": "0"}),
            httpx.Response(200, json=hs.search_response(hs.search_hit())),
        ]
    )
    contacts = await call(nc, hs.READ, "find_contacts", email="aroha.ngata@example.co.nz")
    assert [c.id for c in contacts] == ["51"]
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("operation", "arguments", "method", "path", "payload"),
    [
        ("find_contacts", {"email": "a@example.com"}, "POST", hs.SEARCH, {"results": "nope"}),
        ("find_contacts", {"email": "a@example.com"}, "POST", hs.SEARCH, {"results": [{"no": "id"}]}),
        ("get_contact", {"contact_id": "51"}, "GET", "/crm/v3/objects/contacts/51", []),
        (
            "get_contact",
            {"contact_id": "51"},
            "GET",
            "/crm/v3/objects/contacts/51",
            {"id": "51", "properties": {}, "createdAt": "yesterday"},
        ),
        (
            "get_account",
            {"account_id": "9"},
            "GET",
            "/crm/v3/objects/companies/9",
            {"id": "9", "properties": 4},
        ),
        (
            "get_account",
            {"account_id": "9"},
            "GET",
            "/crm/v3/objects/companies/9",
            {"id": "9", "properties": {"name": {"first": "Kiwi"}}},
        ),
    ],
)
async def test_malformed_payloads_are_payload_errors(
    nc: NexoraConnect,
    router: respx.MockRouter,
    operation: str,
    arguments: dict[str, Any],
    method: str,
    path: str,
    payload: Any,
) -> None:
    router.route(method=method, path=path).respond(200, json=payload)
    with pytest.raises(VendorPayloadError):
        await call(nc, hs.READ, operation, **arguments)


async def test_audit_records_hold_no_customer_data(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink, canary_key: str
) -> None:
    router.post(hs.SEARCH).respond(200, json=hs.fixture("search_page2"))
    await call(nc, hs.READ, "find_contacts", phone="021 555 0100", email="aroha.ngata@example.co.nz")
    (record,) = audit.records
    text = record.model_dump_json()
    for secret_or_pii in ("215550100", "aroha", "Hemi", canary_key):
        assert secret_or_pii not in text
    assert record.http_status == 200


# --- OAuth: a public app's refresh token instead of a private-app token -------------------------
#
# Token endpoint shapes from HubSpot's OAuth v1 reference ("Refresh an access token",
# POST /oauth/v1/token, application/x-www-form-urlencoded: grant_type, client_id, client_secret,
# refresh_token; answer: access_token, refresh_token, token_type, expires_in) and the error body
# HubSpot sends for a dead refresh token ({"status": "BAD_REFRESH_TOKEN", "message": ...}).

TOKEN = "/oauth/v1/token"
APP_ID = "5e1d2c3b-hubspot-test-app"


def oauth_credential(refresh: str, secret: str) -> OAuth2RefreshCredential:
    return OAuth2RefreshCredential(
        type="oauth2_refresh",
        client_id=APP_ID,
        client_secret=SecretStr(secret),
        refresh_token=SecretStr(refresh),
    )


def token_answer(access: str, refresh: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": access, "token_type": "bearer", "expires_in": 1800}
    if refresh is not None:
        body["refresh_token"] = refresh
    return body


@pytest.fixture
def oauth_router() -> Iterator[respx.MockRouter]:
    """One strict HubSpot for both clients: the vendor client (as its transport) and the token
    client, which has no transport of its own to replace and so is reached by patching httpx."""
    with respx.mock(base_url=hs.BASE, assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def oauth_source() -> tuple[MemorySource, str, str]:
    refresh, secret = make_canary("refresh"), make_canary("client-secret")
    source = MemorySource()
    for integration in (hs.READ, hs.WRITE):
        source.seed("acme", integration, oauth_credential(refresh, secret))
    return source, refresh, secret


async def test_oauth_refresh_request_is_hubspots_form_and_the_access_token_is_the_bearer(
    oauth_router: respx.MockRouter, oauth_source: tuple[MemorySource, str, str], audit: MemoryAuditSink
) -> None:
    source, refresh, secret = oauth_source
    access, rotated = make_canary("access"), make_canary("refresh")
    token_route = oauth_router.post(TOKEN).respond(200, json=token_answer(access, rotated))
    search = oauth_router.post(hs.SEARCH).respond(200, json=hs.search_response(hs.search_hit()))
    async with hs.runtime(oauth_router, source, audit=audit) as nc:  # type: ignore[arg-type]
        for _ in range(3):
            assert await call(nc, hs.READ, "find_contacts", email="aroha.ngata@example.co.nz") == [CONTACT_51]
    assert token_route.call_count == 1  # held in memory for its 30 minutes, not refreshed per call
    sent = token_route.calls[0].request
    assert str(sent.url) == "https://api.hubapi.com/oauth/v1/token"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in sent.headers  # the client authenticates in the form, as HubSpot wants
    assert parse_qs(sent.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [refresh],
        "client_id": [APP_ID],
        "client_secret": [secret],
    }
    assert all(call.request.headers["Authorization"] == f"Bearer {access}" for call in search.calls)
    # HubSpot's new refresh token went back to the credential store, with check-and-set.
    stored = source.latest("acme", hs.READ)
    assert isinstance(stored, OAuth2RefreshCredential)
    assert stored.refresh_token.get_secret_value() == rotated
    assert len(source.versions[("acme", hs.READ)]) == 2
    assert [record.credential_version for record in audit.records] == [1, 2, 2]
    text = "".join(record.model_dump_json() for record in audit.records)
    for secret_value in (access, refresh, rotated, secret):
        assert secret_value not in text


async def test_oauth_with_an_unchanged_refresh_token_writes_nothing_back(
    oauth_router: respx.MockRouter, oauth_source: tuple[MemorySource, str, str]
) -> None:
    source, refresh, _ = oauth_source
    oauth_router.post(TOKEN).respond(200, json=token_answer(make_canary("access"), refresh))
    oauth_router.get("/crm/v3/objects/contacts/51").respond(200, json=hs.fixture("contact"))
    async with hs.runtime(oauth_router, source) as nc:  # type: ignore[arg-type]
        await call(nc, hs.READ, "get_contact", contact_id="51")
    assert source.writes == 0


async def test_oauth_a_401_gets_a_new_access_token_once(
    oauth_router: respx.MockRouter, oauth_source: tuple[MemorySource, str, str]
) -> None:
    source, _, _ = oauth_source
    first, second = make_canary("access"), make_canary("access")
    token_route = oauth_router.post(TOKEN).mock(
        side_effect=[
            httpx.Response(200, json=token_answer(first, make_canary("refresh"))),
            httpx.Response(200, json=token_answer(second, make_canary("refresh"))),
        ]
    )
    # httpx resends the same request object, so the header is recorded as it is sent.
    bearers: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bearers.append(request.headers["Authorization"])
        if len(bearers) == 1:
            return httpx.Response(401, json=hs.fixture("error_unauthorized"))
        return httpx.Response(200, json=hs.fixture("contact"))

    oauth_router.get("/crm/v3/objects/contacts/51").mock(side_effect=answer)
    async with hs.runtime(oauth_router, source) as nc:  # type: ignore[arg-type]
        assert (await call(nc, hs.READ, "get_contact", contact_id="51")).id == "51"
    assert token_route.call_count == 2
    assert bearers == [f"Bearer {first}", f"Bearer {second}"]
    assert len(source.versions[("acme", hs.READ)]) == 3  # both rotations saved, in order


async def test_oauth_bad_refresh_token_asks_the_tenant_to_authorise_again(
    oauth_router: respx.MockRouter, oauth_source: tuple[MemorySource, str, str], audit: MemoryAuditSink
) -> None:
    source, refresh, secret = oauth_source
    oauth_router.post(TOKEN).respond(
        400,
        json={
            "status": "BAD_REFRESH_TOKEN",
            "message": "missing or invalid refresh token",
            "correlationId": "0b4e6b3c-5c1a-4f7e-9a55-1d2c3b4a5f60",
        },
    )
    async with hs.runtime(oauth_router, source, audit=audit) as nc:  # type: ignore[arg-type]
        with pytest.raises(ReauthorizationRequiredError) as caught:
            await call(nc, hs.READ, "get_contact", contact_id="51")
    message = str(caught.value)
    assert "tenant 'acme'" in message
    assert f"integration '{hs.READ}'" in message
    for secret_value in (refresh, secret):
        assert secret_value not in message
        assert secret_value not in audit.records[-1].model_dump_json()
    assert source.writes == 0


async def test_the_scope_guard_still_refuses_a_token_endpoint_post_from_connector_code(
    oauth_router: respx.MockRouter, oauth_source: tuple[MemorySource, str, str]
) -> None:
    """The token request bypasses the guard by using its own client; the vendor client does not."""

    class TokenGrabbingHubSpot(HubSpotConnector):
        @endpoints("GET /crm/v3/objects/contacts/{contact_id}")  # still only contacts:read
        async def get_contact(self, contact_id: str) -> Contact:
            await self.http.request("POST", TOKEN, data={"grant_type": "refresh_token"})
            raise AssertionError("the scope guard let a POST to the token endpoint through")

    source, _, _ = oauth_source
    token_route = oauth_router.post(TOKEN).respond(200, json=token_answer(make_canary("access"), None))
    async with hs.runtime(oauth_router, source, connector=TokenGrabbingHubSpot) as nc:  # type: ignore[arg-type]
        with pytest.raises(ScopeDeniedError, match="POST request from get_contact") as info:
            await call(nc, hs.READ, "get_contact", contact_id="51")
    assert "not one of the operation's declared endpoints" in str(info.value)
    # Exactly one token request reached HubSpot: the SDK's own refresh, made before the guard refused.
    assert token_route.call_count == 1


async def test_api_key_and_oauth_integrations_live_side_by_side(
    oauth_router: respx.MockRouter, oauth_source: tuple[MemorySource, str, str], canary_key: str
) -> None:
    source, _, _ = oauth_source
    source.seed("acme", hs.WRITE, hs.credential(canary_key))  # the read-write integration uses a key
    access = make_canary("access")
    oauth_router.post(TOKEN).respond(200, json=token_answer(access, None))
    bearers: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bearers.append(request.headers["Authorization"])
        return httpx.Response(200, json=hs.fixture("contact"))

    oauth_router.get("/crm/v3/objects/contacts/51").mock(side_effect=answer)
    async with hs.runtime(oauth_router, source) as nc:  # type: ignore[arg-type]
        await call(nc, hs.READ, "get_contact", contact_id="51")
        await call(nc, hs.WRITE, "get_contact", contact_id="51")
    assert bearers == [f"Bearer {access}", f"Bearer {canary_key}"]
