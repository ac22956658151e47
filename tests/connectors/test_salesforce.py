"""The Salesforce connector end to end: runtime, scope checks, instance URLs, queries, errors.

A respx Salesforce plays both the login server (token requests) and the org's instance (API
requests). Request and response shapes follow the REST API Developer Guide pages named in
``fixtures/salesforce/README.md``; the JWT and refresh-token flows are tested in
``test_salesforce_oauth.py``, the query builders on their own in ``test_salesforce_query.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.crm.salesforce import SalesforceConnector
from sdk import (
    Account,
    ConfigurationError,
    Contact,
    InvalidArgumentsError,
    MemoryAuditSink,
    NexoraConnect,
    Note,
    ScopeDeniedError,
    VendorAuthError,
    VendorError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
)
from sdk.authoring import endpoints
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import salesforce_cases as sf
from tests.connectors.path_id_attacks import PATH_ID_ATTACKS, echoes
from tests.connectors.test_salesforce_query import PREFIX, SOSL, SUFFIX, read_soql_literal

AROHA = Contact(
    id=sf.AROHA,
    source=sf.READ,
    name="Aroha Ngata",
    email="aroha.ngata@example.co.nz",
    phone="+6495550123",
    account_id=sf.KAURI,
    created_at=datetime(2024, 3, 4, 21, 10, 0, 123000, tzinfo=UTC),
    updated_at=datetime(2025, 1, 20, 2, 45, 11, 4000, tzinfo=UTC),
)
NOW = datetime(2025, 5, 6, 23, 30, tzinfo=UTC)


class FixedClockSalesforce(SalesforceConnector):
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with sf.salesforce() as mock:
        yield mock


@pytest.fixture
def access() -> str:
    return make_canary("access")


@pytest.fixture
def token_route(router: respx.MockRouter, access: str) -> respx.Route:
    return router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer(access))


@pytest.fixture
def credentials() -> MemoryCredentialSource:
    source = MemoryCredentialSource()
    for integration in (sf.READ, sf.WRITE):
        source.put("acme", integration, sf.jwt_credential())
    return source


async def call(nc: NexoraConnect, integration: str, operation_name: str, **arguments: Any) -> Any:
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        return await conv.call(integration, operation_name, **arguments)


def sent_q(route: respx.Route, index: int = 0) -> str:
    return str(route.calls[index].request.url.params["q"])


# --- registration and reads ------------------------------------------------------------------------


def test_registers_as_a_crm_connector_with_the_standard_scopes() -> None:
    info = sf.registry().describe("salesforce")
    assert info.category == "crm"
    assert info.operations == {
        "find_contacts": "contacts:read",
        "get_contact": "contacts:read",
        "get_account": "accounts:read",
        "create_note": "notes:write",
    }
    assert {t.model_fields["type"].default for t in SalesforceConnector.credential_types} == {
        "oauth2_jwt",
        "oauth2_refresh",
    }


async def test_find_by_email_queries_the_instance_with_the_token(
    router: respx.MockRouter, token_route: respx.Route, access: str, credentials: MemoryCredentialSource
) -> None:
    query = router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.fixture("query_contacts_by_email"))
    async with sf.runtime(router, credentials) as nc:
        assert await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL) == [AROHA]
    sent = query.calls[0].request
    assert sent.url.host == "acme.my.salesforce.com"
    assert sent.headers["host"] == "acme.my.salesforce.com"
    assert sent.headers["authorization"] == f"Bearer {access}"
    assert sent_q(query) == PREFIX + "'aroha.ngata@example.co.nz'" + SUFFIX
    assert token_route.call_count == 1


async def test_find_by_email_follows_next_records_url(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    first = router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.fixture("query_contacts_page1"))
    second = router.get(sf.INSTANCE + sf.LOCATOR).respond(200, json=sf.fixture("query_contacts_page2"))
    async with sf.runtime(router, credentials) as nc:
        found = await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert [c.id for c in found] == [sf.AROHA, sf.HEMI]  # Hemi's address differs only in case
    assert found[1].phone == "+6495550199"
    assert first.call_count == second.call_count == 1
    assert not second.calls[0].request.url.query  # "these requests ... don't include any parameters"


async def test_a_next_records_url_to_another_resource_is_not_followed(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    page = sf.fixture("query_contacts_page1")
    page["nextRecordsUrl"] = "/services/data/v60.0/sobjects/User/0055g00000IntegAAA"
    router.get(sf.INSTANCE + sf.QUERY).respond(200, json=page)
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorPayloadError, match="nextRecordsUrl"):
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert len(router.calls) == 2  # the token and the first page, nothing else


async def test_find_by_phone_searches_phone_fields_and_keeps_only_the_callers_number(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    search = router.get(sf.INSTANCE + sf.SEARCH).respond(200, json=sf.fixture("search_contacts_by_phone"))
    async with sf.runtime(router, credentials) as nc:
        assert await call(nc, sf.READ, "find_contacts", phone="+64 21 555 0100") == [AROHA]
    match = SOSL.fullmatch(sent_q(search))
    assert match is not None
    assert match["terms"] == "64215550100 OR 0215550100 OR 215550100"


async def test_find_by_phone_and_email_merges_without_duplicates(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.fixture("query_contacts_by_email"))
    router.get(sf.INSTANCE + sf.SEARCH).respond(200, json=sf.fixture("search_contacts_by_phone"))
    async with sf.runtime(router, credentials) as nc:
        found = await call(nc, sf.READ, "find_contacts", phone=sf.CALLER_PHONE, email=sf.CALLER_EMAIL)
    assert found == [AROHA]


async def test_a_phone_that_is_no_number_sends_nothing(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    async with sf.runtime(router, credentials) as nc:
        assert await call(nc, sf.READ, "find_contacts", phone="call me maybe") == []
        with pytest.raises(InvalidArgumentsError):
            await call(nc, sf.READ, "find_contacts")
    assert not router.calls


@pytest.mark.parametrize(
    "email",
    [
        "o'brien@example.com",
        "x@y.z'OR(Email!='')OR'1'='1",
        "a\\'@b.c",
        "a\\\\'OR'1'='1@b.c",
        "a@b}{FIND{x}RETURNING(User)",
        "%@%",
        "_@example.com",
        "アロハ@例え.jp",
        'a"@b.c',
    ],
)
async def test_no_email_changes_the_query_sent(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource, email: str
) -> None:
    query = router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.query_result())
    async with sf.runtime(router, credentials) as nc:
        assert await call(nc, sf.READ, "find_contacts", email=email) == []
    q = sent_q(query)
    value, end = read_soql_literal(q, len(PREFIX))
    assert (q[: len(PREFIX)], value, q[end:]) == (PREFIX, email, SUFFIX)


async def test_the_callers_email_and_number_stay_out_of_the_logs(
    router: respx.MockRouter,
    token_route: respx.Route,
    credentials: MemoryCredentialSource,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SOQL and SOSL travel in the query string, which httpx logs at INFO; the SDK strips it."""
    caplog.set_level(logging.DEBUG)
    email = make_canary("caller") + "@example.com"
    query = router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.query_result())
    search = router.get(sf.INSTANCE + sf.SEARCH).respond(200, json={"searchRecords": []})
    async with sf.runtime(router, credentials) as nc:
        assert await call(nc, sf.READ, "find_contacts", email=email, phone="+64 21 555 0177") == []
    assert email in sent_q(query)
    assert "215550177" in sent_q(search)
    assert "acme.my.salesforce.com" in caplog.text  # the request lines were logged, without their queries
    assert email.split("@")[0] not in caplog.text
    assert "215550177" not in caplog.text


async def test_an_email_with_an_invisible_character_is_refused_before_any_request(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(InvalidArgumentsError, match="email"):
            await call(nc, sf.READ, "find_contacts", email="a\u202e@b.c")
    assert not router.calls


@pytest.mark.parametrize(
    "phone",
    [
        "0215550100}RETURNING User(Id)",
        "+64 21 555 0100 OR *",
        "{021} 555-0100",
        "021\\555\\0100",
        "(021) 555 0100 -- ' OR '",
        "021 555 0100 AND NOT x",
    ],
)
async def test_no_phone_changes_the_search_sent(credentials: MemoryCredentialSource, phone: str) -> None:
    # Text that is no phone number sends nothing at all, so no route has to be called.
    with sf.salesforce(assert_all_called=False) as router:
        router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer())
        search = router.get(sf.INSTANCE + sf.SEARCH).respond(200, json={"searchRecords": []})
        async with sf.runtime(router, credentials) as nc:
            assert await call(nc, sf.READ, "find_contacts", phone=phone) == []
    for sent in search.calls:
        assert SOSL.fullmatch(str(sent.request.url.params["q"])) is not None


async def test_get_contact_and_get_account_read_sobject_rows(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    contact = router.get(f"{sf.INSTANCE}{sf.DATA}/sobjects/Contact/{sf.AROHA}").respond(
        200, json=sf.fixture("contact")
    )
    account = router.get(f"{sf.INSTANCE}{sf.DATA}/sobjects/Account/{sf.KAURI}").respond(
        200, json=sf.fixture("account")
    )
    async with sf.runtime(router, credentials) as nc:
        assert await call(nc, sf.READ, "get_contact", contact_id=sf.AROHA) == AROHA
        assert await call(nc, sf.READ, "get_account", account_id=sf.KAURI) == Account(
            id=sf.KAURI,
            source=sf.READ,
            name="Kauri Plumbing Ltd",
            domain="kauriplumbing.example.co.nz",
            phone="+6495550150",
            industry="Construction",
        )
    assert contact.calls[0].request.url.params["fields"] == (
        "Id,FirstName,LastName,Name,Email,Phone,MobilePhone,HomePhone,OtherPhone,AccountId,CreatedDate,"
        "LastModifiedDate"
    )
    assert account.calls[0].request.url.params["fields"] == "Id,Name,Website,Phone,Industry"


@pytest.mark.parametrize(
    ("operation_name", "arguments"),
    [
        ("get_contact", {"contact_id": sf.KAURI}),  # an Account id
        ("get_contact", {"contact_id": "0035g00000ArohaAAC"}),
        ("get_contact", {"contact_id": "003/../../limits"}),
        ("get_contact", {"contact_id": "0035g00000Aroha?q=1"}),
        ("get_account", {"account_id": sf.AROHA}),
        ("create_note", {"contact_id": sf.KAURI, "body": "x"}),
    ],
)
async def test_ids_of_the_wrong_object_or_form_are_refused_before_any_request(
    router: respx.MockRouter,
    credentials: MemoryCredentialSource,
    operation_name: str,
    arguments: dict[str, Any],
) -> None:
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(InvalidArgumentsError):
            await call(nc, sf.WRITE, operation_name, **arguments)
    assert not router.calls
    assert credentials.reads == 0


@pytest.mark.parametrize(
    ("operation_name", "argument", "others"),
    [
        ("get_contact", "contact_id", {}),
        ("get_account", "account_id", {}),
        ("create_note", "contact_id", {"body": "Called back"}),
    ],
)
@pytest.mark.parametrize("value", PATH_ID_ATTACKS)
async def test_a_path_trick_in_any_id_is_refused_before_any_request(
    credentials: MemoryCredentialSource,
    operation_name: str,
    argument: str,
    others: dict[str, str],
    value: str,
) -> None:
    with sf.salesforce(assert_all_called=False) as router:
        router.route().respond(404, json=[])  # answers (and records) any request, token or API
        async with sf.runtime(router, credentials) as nc:
            with pytest.raises(InvalidArgumentsError) as info:
                await call(nc, sf.WRITE, operation_name, **others, **{argument: value})
    assert len(router.calls) == 0
    assert credentials.reads == 0
    assert not echoes(value, str(info.value))


@pytest.mark.parametrize(
    "following",
    [
        "https://attacker.example/services/data/v60.0/query/01gD0000002HU6KIAW-2000",
        "//attacker.example/services/data/v60.0/query/01gD0000002HU6KIAW-2000",
        "/services/data/v60.0/query/01gD0000002HU6KIAW-2000/../../sobjects/User",
        "/services/data/v60.0/query/%2e%2e",
        "/services/data/v60.0/query/..",
        "/services/data/v60.0/query/01gD0000002HU6KIAW-2000?_HttpMethod=DELETE",
        "/services/data/v59.0/query/01gD0000002HU6KIAW-2000",
    ],
)
async def test_a_next_records_url_elsewhere_is_never_followed(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource, following: str
) -> None:
    page = sf.fixture("query_contacts_page1")
    page["nextRecordsUrl"] = following
    router.get(sf.INSTANCE + sf.QUERY).respond(200, json=page)
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorPayloadError, match="nextRecordsUrl"):
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert len(router.calls) == 2  # the token and the first page, nothing else


async def test_the_next_batch_is_asked_of_the_tokens_instance_under_the_declared_path(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.fixture("query_contacts_page1"))
    second = router.get(sf.INSTANCE + sf.LOCATOR).respond(200, json=sf.fixture("query_contacts_page2"))
    async with sf.runtime(router, credentials) as nc:
        await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    sent = second.calls[0].request
    assert (sent.url.scheme, sent.url.host, sent.url.raw_path) == (
        "https",
        "acme.my.salesforce.com",
        b"/services/data/v60.0/query/01gD0000002HU6KIAW-2000",
    )
    spec = SalesforceConnector.operations["find_contacts"]
    assert spec.matching_endpoint("GET", sent.url.raw_path.decode()) == spec.endpoint(
        "GET", f"{sf.DATA}/query/{{locator}}"
    )


def test_every_operation_declares_exactly_its_endpoints() -> None:
    declared = {
        name: sorted(str(e) for e in spec.endpoints) for name, spec in SalesforceConnector.operations.items()
    }
    assert declared == {
        "find_contacts": sorted([f"GET {sf.QUERY}", f"GET {sf.QUERY}/{{locator}}", f"GET {sf.SEARCH}"]),
        "get_contact": [f"GET {sf.DATA}/sobjects/Contact/{{contact_id}}"],
        "get_account": [f"GET {sf.DATA}/sobjects/Account/{{account_id}}"],
        "create_note": [f"POST {sf.DATA}/sobjects/Task"],
    }
    assert [str(e) for e in SalesforceConnector.verify_spec.endpoints] == [f"GET {sf.QUERY}"]


# --- the call note ----------------------------------------------------------------------------------


async def test_create_note_posts_a_completed_call_task(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    task = router.post(f"{sf.INSTANCE}{sf.DATA}/sobjects/Task").respond(201, json=sf.fixture("task_created"))
    body = "Caller asked about invoice INV-12.\nWants a call back."
    async with sf.runtime(router, credentials, connector=FixedClockSalesforce) as nc:
        note = await call(nc, sf.WRITE, "create_note", contact_id=sf.AROHA, body=body)
    assert note == Note(id=sf.TASK, source=sf.WRITE, contact_id=sf.AROHA, body=body, created_at=NOW)
    assert json.loads(task.calls[0].request.content) == {
        "WhoId": sf.AROHA,
        "Subject": "Call",
        "Description": body,
        "Status": "Completed",
        "TaskSubtype": "Call",
        "ActivityDate": "2025-05-06",
    }
    assert task.calls[0].request.headers["content-type"] == "application/json"


async def test_create_note_uses_the_orgs_task_status_and_reports_a_field_error_by_code(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    task = router.post(f"{sf.INSTANCE}{sf.DATA}/sobjects/Task").respond(
        400, json=sf.fixture("error_restricted_picklist")
    )
    async with sf.runtime(router, credentials, settings={"task_status": "Done"}) as nc:
        with pytest.raises(VendorError) as caught:
            await call(nc, sf.WRITE, "create_note", contact_id=sf.AROHA, body="x")
    assert json.loads(task.calls[0].request.content)["Status"] == "Done"
    assert caught.value.vendor_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "Completed" not in str(caught.value)  # the message quotes a value; only the code is read
    assert task.call_count == 1  # a write without an idempotency key is sent once


async def test_a_read_only_grant_never_sends_the_task(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(ScopeDeniedError):
            await call(nc, sf.READ, "create_note", contact_id=sf.AROHA, body="x")
    assert not router.calls


class SneakyWriteSalesforce(SalesforceConnector):
    """A read operation that tries to write: the scope guard must see the retargeted request."""

    @endpoints(f"GET {sf.QUERY}")
    async def find_contacts(self, phone: str | None = None, email: str | None = None) -> list[Contact]:
        await self.http.request("GET", sf.QUERY, params={"q": "SELECT Id FROM Contact LIMIT 1"})
        await self.http.request("POST", f"{sf.DATA}/sobjects/Task", json={"WhoId": sf.AROHA})
        raise AssertionError("the scope guard let a write out of a read operation")


async def test_the_scope_guard_checks_requests_after_they_are_sent_to_the_instance(
    credentials: MemoryCredentialSource,
) -> None:
    with sf.salesforce(assert_all_called=False) as router:
        router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer())
        query = router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.query_result())
        task = router.post(f"{sf.INSTANCE}{sf.DATA}/sobjects/Task").respond(
            201, json=sf.fixture("task_created")
        )
        async with sf.runtime(router, credentials, connector=SneakyWriteSalesforce) as nc:
            with pytest.raises(ScopeDeniedError, match="POST request from find_contacts") as info:
                await call(nc, sf.WRITE, "find_contacts", email=sf.CALLER_EMAIL)
    assert "not one of the operation's declared endpoints" in str(info.value)
    assert query.call_count == 1
    assert query.calls[0].request.url.host == "acme.my.salesforce.com"
    assert task.call_count == 0


async def test_verify_reads_one_contact_id(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    query = router.get(sf.INSTANCE + sf.QUERY).respond(
        200, json=sf.query_result({"attributes": {"type": "Contact"}, "Id": sf.AROHA})
    )
    async with sf.runtime(router, credentials) as nc:
        await nc.verify("acme", sf.READ)
    assert sent_q(query) == "SELECT Id FROM Contact LIMIT 1"


# --- errors -------------------------------------------------------------------------------------------


async def test_not_found_carries_the_error_code_and_nothing_of_the_message(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    canary = make_canary("customer")
    body = [{"errorCode": "NOT_FOUND", "message": f"no row for {canary}"}]
    router.get(f"{sf.INSTANCE}{sf.DATA}/sobjects/Contact/{sf.AROHA}").respond(404, json=body)
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorNotFoundError) as caught:
            await call(nc, sf.READ, "get_contact", contact_id=sf.AROHA)
    assert caught.value.vendor_code == "NOT_FOUND"
    assert caught.value.request_id is None  # Salesforce documents no request id header
    assert caught.value.path == f"{sf.DATA}/sobjects/Contact/{{contact_id}}"  # the template, no id
    assert canary not in str(caught.value)


async def test_an_exhausted_api_allowance_is_a_rate_limit_not_an_auth_failure(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    query = router.get(sf.INSTANCE + sf.QUERY).respond(
        403, json=sf.fixture("error_request_limit"), headers={"Sforce-Limit-Info": "api-usage=15001/15000"}
    )
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorRateLimitError) as caught:
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert caught.value.vendor_code == "REQUEST_LIMIT_EXCEEDED"
    assert caught.value.retry_after is None
    assert query.call_count == 1  # a 403 with an OAuth token is not answered with a new token
    assert token_route.call_count == 1


async def test_a_plain_403_stays_an_auth_error(
    router: respx.MockRouter, token_route: respx.Route, credentials: MemoryCredentialSource
) -> None:
    router.get(sf.INSTANCE + sf.QUERY).respond(
        403,
        json=[{"errorCode": "API_DISABLED_FOR_ORG", "message": "API is not enabled for this Organization"}],
    )
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorAuthError) as caught:
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert not isinstance(caught.value, VendorRateLimitError)
    assert caught.value.vendor_code == "API_DISABLED_FOR_ORG"


async def test_invalid_session_gets_one_new_token_and_the_request_is_sent_once_more(
    router: respx.MockRouter, credentials: MemoryCredentialSource, audit: MemoryAuditSink
) -> None:
    first, second = make_canary("access"), make_canary("access")
    token = router.post(sf.TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=sf.token_answer(first)),
            httpx.Response(200, json=sf.token_answer(second)),
        ]
    )

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == f"Bearer {second}":
            return httpx.Response(200, json=sf.fixture("query_contacts_by_email"))
        return httpx.Response(401, json=sf.fixture("error_invalid_session"))

    query = router.get(sf.INSTANCE + sf.QUERY).mock(side_effect=answer)
    async with sf.runtime(router, credentials, audit=audit) as nc:
        assert await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL) == [AROHA]
        assert await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL) == [AROHA]
    assert token.call_count == 2
    assert query.call_count == 3  # refused once, then the new token is kept for the next call
    text = "".join(r.model_dump_json() for r in audit.records)
    assert first not in text
    assert second not in text


async def test_a_token_that_keeps_being_refused_gives_an_auth_error(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    token = router.post(sf.TOKEN_URL).mock(
        side_effect=lambda request: httpx.Response(200, json=sf.token_answer())
    )
    query = router.get(sf.INSTANCE + sf.QUERY).respond(401, json=sf.fixture("error_invalid_session"))
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorAuthError) as caught:
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert caught.value.vendor_code == "INVALID_SESSION_ID"
    assert (token.call_count, query.call_count) == (2, 2)


# --- the instance URL ---------------------------------------------------------------------------------


async def test_requests_follow_the_instance_url_of_the_current_token(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    """An org moved to another instance: the old token is refused there, the new one names the new host."""
    moved = "https://acme2.my.salesforce.com"
    router.post(sf.TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=sf.token_answer()),
            httpx.Response(200, json=sf.token_answer(instance_url=moved)),
        ]
    )
    old = router.get(sf.INSTANCE + sf.QUERY).respond(401, json=sf.fixture("error_invalid_session"))
    new = router.get(moved + sf.QUERY).respond(200, json=sf.fixture("query_contacts_by_email"))
    async with sf.runtime(router, credentials) as nc:
        assert await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL) == [AROHA]
    assert old.call_count == new.call_count == 1
    assert new.calls[0].request.headers["host"] == "acme2.my.salesforce.com"


FORGED_INSTANCES = [
    "https://evil.example",
    "http://acme.my.salesforce.com",
    "https://acme.my.salesforce.com.evil.example",
    "https://evilsalesforce.com",
    "https://salesforce.com",
    "https://acme.my.salesforce.com@evil.example",
    "https://evil.example#.salesforce.com",
    "https://evil.example?.salesforce.com",
    "https://evil.example\\.salesforce.com",
    "https://acme.my.salesforce.com:8443",
    "https://acme.my.salesforce.com/services/data/v60.0/sobjects",
    "https://acme.my.salesforce.com.",
    "https://ACME.my.salesforce.com",
    "https://acme.my.s\u0430lesforce.com",  # Cyrillic a
    "//evil.example",
    "",
    None,
    ["https://acme.my.salesforce.com"],
    42,
]


@pytest.mark.parametrize("forged", FORGED_INSTANCES)
async def test_a_token_naming_a_host_outside_the_allowed_ones_is_never_used(
    router: respx.MockRouter,
    credentials: MemoryCredentialSource,
    caplog: pytest.LogCaptureFixture,
    forged: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    access = make_canary("access")
    body = sf.token_answer(access)
    if forged is None:
        del body["instance_url"]
    else:
        body["instance_url"] = forged
    token = router.post(sf.TOKEN_URL).respond(200, json=body)
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorPayloadError, match="instance_url") as caught:
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert token.call_count >= 1
    assert all(c.request.url.path == "/services/oauth2/token" for c in router.calls)  # nothing else was sent
    assert access not in str(caught.value)
    assert access not in caplog.text
    if isinstance(forged, str) and forged:
        assert forged not in str(caught.value)


async def test_an_integration_can_pin_its_instance_host(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    other = "https://someone-else.my.salesforce.com"
    router.post(sf.TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=sf.token_answer(instance_url=other)),
            httpx.Response(200, json=sf.token_answer()),
        ]
    )
    query = router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.query_result())
    async with sf.runtime(router, credentials, settings={"instance_hosts": ["acme.my.salesforce.com"]}) as nc:
        with pytest.raises(VendorPayloadError, match=r"acme\.my\.salesforce\.com"):
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
        assert await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL) == []
    assert query.call_count == 1


async def test_a_custom_domain_is_allowed_only_when_listed(
    router: respx.MockRouter, credentials: MemoryCredentialSource
) -> None:
    custom = "https://crm.acme.example"
    router.post(sf.TOKEN_URL).mock(
        side_effect=lambda request: httpx.Response(200, json=sf.token_answer(instance_url=custom))
    )
    query = router.get(custom + sf.QUERY).respond(200, json=sf.query_result())
    async with sf.runtime(
        router, credentials, settings={"instance_hosts": ["*.salesforce.com", "crm.acme.example"]}
    ) as nc:
        assert await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL) == []
    assert query.call_count == 1
    async with sf.runtime(router, credentials) as nc:
        with pytest.raises(VendorPayloadError):
            await call(nc, sf.READ, "find_contacts", email=sf.CALLER_EMAIL)
    assert query.call_count == 1


@pytest.mark.parametrize(
    "settings",
    [
        {"login_url": "http://login.salesforce.com"},
        {"login_url": "https://login.salesforce.com/services"},
        {"login_url": "https://user@login.salesforce.com"},
        {"login_url": "https://login.salesforce.com:99999"},
        {"login_url": "https://login.salesforce.com:8443"},
        {"instance_hosts": ["*"]},
        {"instance_hosts": ["*.com"]},
        {"instance_hosts": ["https://acme.my.salesforce.com"]},
        {"instance_url": "https://acme.my.salesforce.com"},
    ],
)
async def test_bad_settings_are_configuration_errors(
    router: respx.MockRouter, credentials: MemoryCredentialSource, settings: dict[str, Any]
) -> None:
    # Settings are validated when the configuration loads: building the runtime fails already.
    with pytest.raises(ConfigurationError, match="settings"):
        async with sf.runtime(router, credentials, settings=settings):
            pass
    assert not router.calls
