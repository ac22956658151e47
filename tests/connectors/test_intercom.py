"""Behaviour of the Intercom connector beyond the kit: the search query object, exact matching,
conversations, notes, errors and the region setting.

The runtime registers the connector explicitly (``sdk.testing.mock_runtime``), so these tests do not
depend on the package's entry point.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import respx

from connectors.crm.intercom import IntercomConnector
from sdk import (
    ConfigurationError,
    Contact,
    InvalidArgumentsError,
    TicketPriority,
    TicketStatus,
    VendorError,
    VendorNotFoundError,
)
from sdk.testing import make_canary, mock_runtime
from tests.connectors import intercom_cases as ic

TENANT = "acme"


def _router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_called=False, assert_all_mocked=True)


async def _call(
    router: respx.MockRouter,
    operation: str,
    *,
    secret: str = "test-token",  # noqa: S107 - a test token, not a secret
    settings: dict[str, Any] | None = None,
    **arguments: Any,
) -> Any:
    async with (
        mock_runtime(
            IntercomConnector,
            router,
            ic.credential(secret),
            tenant=TENANT,
            settings=settings if settings is not None else ic.SETTINGS,
            write_scopes=["notes:write"],
        ) as nc,
        nc.conversation(tenant=TENANT, conversation_id="test-call") as conv,
    ):
        return await conv.call("intercom", operation, **arguments)


def _query(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


# --- find_contacts: the query object ------------------------------------------------------------


async def test_find_by_phone_sends_the_token_version_and_both_phone_forms_as_json() -> None:
    router = _router()
    route = ic.contacts_route(router, "Aroha Ngata")

    found = await _call(router, "find_contacts", phone=ic.CALLER_PHONE, secret="tok-123")

    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["Intercom-Version"] == "2.14"
    assert _query(route) == {
        "query": {
            "operator": "OR",
            "value": [
                {"field": "phone", "operator": "=", "value": ic.CALLER_E164},
                {"field": "phone", "operator": "=", "value": ic.CALLER_PHONE},
            ],
        },
        "pagination": {"per_page": 25},
    }
    assert [(c.id, c.phone, c.account_id) for c in found] == [(ic.CONTACT_ID, ic.CALLER_E164, ic.COMPANY_ID)]
    assert isinstance(found[0], Contact)


HOSTILE_EMAILS = [
    'a"}],"operator":"OR","value":[{"field":"id","operator":"!=","value":"x@example.test',
    "x@example.test'OR'1'='1",
    "o'brien\\x@example.test",
    "*@example.test",
    "a%22@example.test",
    '{"$ne":null}@example.test',
]


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
async def test_a_hostile_email_stays_one_json_value(email: str) -> None:
    router = _router()
    route = ic.contacts_route(router, "Aroha Ngata")

    found = await _call(router, "find_contacts", email=email)

    assert _query(route)["query"] == {
        "operator": "OR",
        "value": [{"field": "email", "operator": "=", "value": email}],
    }
    assert found == []  # the fixture's contact has another email: not returned


@pytest.mark.parametrize(
    "email", ["a\u200b@example.test", "a\u202e@example.test", "a\x00b@example.test", "a\ufeff@example.test"]
)
async def test_invisible_characters_are_refused_before_anything_is_sent(email: str) -> None:
    router = _router()
    route = ic.contacts_route(router, "Aroha Ngata")

    with pytest.raises(InvalidArgumentsError) as caught:
        await _call(router, "find_contacts", email=email)

    assert route.call_count == 0
    assert email not in str(caught.value)


async def test_near_misses_are_dropped_and_email_matches_case_insensitively() -> None:
    router = _router()
    body = ic.fixture("contacts")
    exact = body["data"][0]
    exact["email"] = "Aroha@Example.TEST"
    near = {
        **json.loads(json.dumps(exact)),
        "id": "65f0c0ffee00000000a00002",
        "email": "aroha@example.test.evil",
    }
    other_phone = {
        **json.loads(json.dumps(exact)),
        "id": "65f0c0ffee00000000a00003",
        "email": "x@example.test",
        "phone": "+64 21 555 0101",
    }
    body["data"] = [near, exact, other_phone]
    router.post(ic.CONTACT_SEARCH).respond(200, json=body)

    found = await _call(router, "find_contacts", email=ic.CALLER_EMAIL)

    assert [c.id for c in found] == [ic.CONTACT_ID]


async def test_search_pages_follow_starting_after_in_the_body() -> None:
    router = _router()
    route = ic.contact_pages_route(router, ["cursor-2", None])

    found = await _call(router, "find_contacts", email=ic.CALLER_EMAIL)

    assert len(found) == 2
    assert "starting_after" not in _query(route, 0)["pagination"]
    assert _query(route, 1)["pagination"] == {"per_page": 25, "starting_after": "cursor-2"}


async def test_neither_phone_nor_email_is_an_argument_error() -> None:
    router = _router()
    with pytest.raises(InvalidArgumentsError):
        await _call(router, "find_contacts")
    assert not router.calls


# --- list_conversations ---------------------------------------------------------------------------


async def test_conversations_are_searched_by_contact_and_recency_and_returned_newest_first() -> None:
    router = _router()
    body = ic.fixture("conversations")
    template = body["conversations"][0]
    states = [
        ("open", "priority", 1_700_000_100),
        ("snoozed", "not_priority", 1_700_000_300),
        ("closed", "not_priority", 1_700_000_200),
        ("archived?", "urgent?", 1_700_000_000),
    ]
    body["conversations"] = [
        {**json.loads(json.dumps(template)), "id": f"90000{n}", "state": s, "priority": p, "updated_at": t}
        for n, (s, p, t) in enumerate(states)
    ]
    route = router.post(ic.CONVERSATION_SEARCH).respond(200, json=body)
    before = int(time.time())

    found = await _call(router, "list_conversations", contact_id=ic.CONTACT_ID, limit=3)

    query = _query(route)["query"]
    assert query["operator"] == "AND"
    contact_filter, recency = query["value"]
    assert contact_filter == {"field": "contact_ids", "operator": "=", "value": ic.CONTACT_ID}
    assert recency["field"] == "updated_at"
    assert recency["operator"] == ">"
    assert before - 91 * 86_400 < recency["value"] <= int(time.time()) - 89 * 86_400
    assert [t.id for t in found] == ["900001", "900002", "900000"]
    assert [t.status for t in found] == [TicketStatus.ON_HOLD, TicketStatus.CLOSED, TicketStatus.OPEN]
    assert [t.priority for t in found] == [TicketPriority.NORMAL, TicketPriority.NORMAL, TicketPriority.HIGH]
    assert {t.requester_id for t in found} == {ic.CONTACT_ID}


async def test_a_conversation_without_title_uses_its_subject_as_text() -> None:
    router = _router()
    body = ic.fixture("conversations")
    body["conversations"][0]["title"] = None
    body["conversations"][0]["source"]["subject"] = "<b>Refund</b> &amp; invoice"
    router.post(ic.CONVERSATION_SEARCH).respond(200, json=body)

    (found,) = await _call(router, "list_conversations", contact_id=ic.CONTACT_ID)

    assert found.subject == "Refund & invoice"


# --- create_note ----------------------------------------------------------------------------------


async def test_a_note_is_posted_once_as_json_without_an_idempotency_key() -> None:
    router = _router()
    route = ic.note_route(router, "an invoice")

    note = await _call(router, "create_note", contact_id=ic.CONTACT_ID, body="Caller asked <b>why</b>")

    request = route.calls.last.request
    assert json.loads(request.content) == {"body": "Caller asked <b>why</b>"}
    assert not any(name.lower().startswith("idempotency") for name in request.headers)
    assert (note.id, note.contact_id, note.body) == ("7001", ic.CONTACT_ID, "Called about an invoice")
    assert note.is_internal()


async def test_a_failed_note_is_not_retried() -> None:
    router = _router()
    route = router.post(ic.NOTES).respond(
        503, json={"type": "error.list", "errors": [{"code": "server_error"}]}
    )

    with pytest.raises(VendorError):
        await _call(router, "create_note", contact_id=ic.CONTACT_ID, body="Called.")

    assert route.call_count == 1


# --- errors ---------------------------------------------------------------------------------------


async def test_a_vendor_error_keeps_code_and_body_request_id_but_never_the_message() -> None:
    router = _router()
    canary = make_canary("customer")
    body = ic.fixture("not_found")
    body["errors"][0]["message"] = f"User {canary} Not Found"
    router.get(ic.CONTACT).respond(404, json=body)

    with pytest.raises(VendorNotFoundError) as caught:
        await _call(router, "get_contact", contact_id=ic.CONTACT_ID)

    assert caught.value.vendor_code == "not_found"
    assert caught.value.request_id == body["request_id"]
    assert canary not in str(caught.value)


async def test_an_error_code_that_is_not_a_token_is_dropped() -> None:
    router = _router()
    canary = make_canary("customer")
    router.get(ic.CONTACT).respond(
        404, json={"type": "error.list", "request_id": f"{canary} x", "errors": [{"code": f"{canary} Smith"}]}
    )

    with pytest.raises(VendorNotFoundError) as caught:
        await _call(router, "get_contact", contact_id=ic.CONTACT_ID)

    assert caught.value.vendor_code is None
    assert caught.value.request_id is None
    assert canary not in str(caught.value)


# --- get_account, verify, settings ----------------------------------------------------------------


async def test_get_account_reads_the_company() -> None:
    router = _router()
    body = ic.fixture("company")
    body.update(website="https://kauri.example", industry="Hospitality")
    router.get(ic.COMPANY).respond(200, json=body)

    account = await _call(router, "get_account", account_id=ic.COMPANY_ID)

    assert (account.id, account.name, account.domain, account.industry, account.phone) == (
        ic.COMPANY_ID,
        "Kauri Cafe Ltd",
        "https://kauri.example",
        "Hospitality",
        None,
    )


@pytest.mark.parametrize(
    ("region", "host"),
    [("us", "api.intercom.io"), ("eu", "api.eu.intercom.io"), ("au", "api.au.intercom.io")],
)
async def test_the_region_setting_picks_the_api_host(region: str, host: str) -> None:
    router = _router()
    route = router.get(f"https://{host}/contacts/{ic.CONTACT_ID}").respond(200, json=ic.fixture("contact"))

    await _call(router, "get_contact", contact_id=ic.CONTACT_ID, settings={"region": region})

    assert route.call_count == 1


async def test_verify_reads_me() -> None:
    router = _router()
    route = router.get(ic.ME).respond(200, json=ic.fixture("me"))
    async with mock_runtime(IntercomConnector, router, ic.credential("tok"), tenant=TENANT) as nc:
        await nc.verify(TENANT, "intercom")
    assert route.call_count == 1


@pytest.mark.parametrize(
    "settings", [{"regoin": "eu"}, {"region": "apac"}, {"region": "eu", "base": "https://evil.example"}]
)
async def test_a_settings_typo_is_a_configuration_error_naming_the_key_not_a_call_failure(
    settings: dict[str, Any],
) -> None:
    router = _router()
    # Settings are validated when the configuration loads: building the runtime fails already.
    with pytest.raises(ConfigurationError) as caught:
        async with mock_runtime(
            IntercomConnector, router, ic.credential("tok"), tenant=TENANT, settings=settings
        ):
            pass
    assert "tenants.acme.integrations.intercom.settings" in str(caught.value)
    assert "evil.example" not in str(caught.value)
    assert not router.calls
