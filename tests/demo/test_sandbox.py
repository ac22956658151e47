"""The sandbox vendor APIs: key checks, revocation, the request log, vendor shapes, clean shutdown."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from sdk import UsageError
from sdk.demo import HubSpotSandbox, SandboxServer, StripeSandbox, ZendeskSandbox

GOOD = "good-key-for-tests"
OTHER = "other-key-for-tests"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def hubspot() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox() as sandbox:
        sandbox.accept_keys(GOOD)
        yield sandbox


@pytest.fixture
def zendesk() -> Iterator[ZendeskSandbox]:
    with ZendeskSandbox() as sandbox:
        sandbox.accept_keys(GOOD)
        yield sandbox


@pytest.fixture
def stripe() -> Iterator[StripeSandbox]:
    with StripeSandbox() as sandbox:
        sandbox.accept_keys(GOOD)
        yield sandbox


def client(sandbox: SandboxServer) -> httpx.Client:
    return httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=5)


# --- keys ----------------------------------------------------------------------------


def test_unknown_key_gets_the_vendors_401(hubspot: HubSpotSandbox) -> None:
    with client(hubspot) as http:
        response = http.get("/crm/v3/objects/contacts/1501", headers=bearer("not-a-key"))
        missing = http.get("/crm/v3/objects/contacts/1501")
    assert response.status_code == 401
    assert response.json()["category"] == "INVALID_AUTHENTICATION"
    assert "x-hubspot-correlation-id" in response.headers
    assert missing.status_code == 401
    assert [(r.status, r.authorised) for r in hubspot.requests] == [(401, False), (401, False)]


def test_accepted_key_gets_the_record(hubspot: HubSpotSandbox) -> None:
    with client(hubspot) as http:
        response = http.get(
            "/crm/v3/objects/contacts/1501",
            params=[("properties", "mobilephone"), ("associations", "companies")],
            headers=bearer(GOOD),
        )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "1501"
    assert body["properties"]["mobilephone"] == "021 555 0100"
    assert body["associations"]["companies"]["results"][0] == {"id": "8801", "type": "contact_to_company"}


def test_revoke_stops_a_key_and_leaves_the_others(hubspot: HubSpotSandbox) -> None:
    hubspot.accept_keys(OTHER)
    with client(hubspot) as http:
        assert http.get("/crm/v3/objects/contacts", headers=bearer(GOOD)).status_code == 200
        hubspot.revoke(GOOD)
        assert http.get("/crm/v3/objects/contacts", headers=bearer(GOOD)).status_code == 401
        assert http.get("/crm/v3/objects/contacts", headers=bearer(OTHER)).status_code == 200
        hubspot.revoke("never-accepted")  # revoking an unknown key is harmless
    assert [r.authorised for r in hubspot.requests] == [True, False, True]


def test_zendesk_takes_only_api_token_basic_auth(zendesk: ZendeskSandbox) -> None:
    with client(zendesk) as http:
        token = http.get("/api/v2/users/me", headers=basic("agent@demo.example/token", GOOD))
        password = http.get("/api/v2/users/me", headers=basic("agent@demo.example", GOOD))
        as_bearer = http.get("/api/v2/users/me", headers=bearer(GOOD))
    assert token.status_code == 200
    assert token.json()["user"]["role"] == "agent"
    assert password.status_code == 401
    assert password.json() == {"error": "Couldn't authenticate you"}
    assert as_bearer.status_code == 401


def test_stripe_takes_bearer_or_basic(stripe: StripeSandbox) -> None:
    with client(stripe) as http:
        assert http.get("/v1/customers", headers=bearer(GOOD)).status_code == 200
        assert http.get("/v1/customers", headers=basic(GOOD, "")).status_code == 200
        refused = http.get("/v1/customers", headers=bearer(OTHER))
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "invalid_request_error"
    assert refused.headers["request-id"].startswith("req_")


# --- the request log -------------------------------------------------------------------


def test_log_tells_writes_from_reads_including_search_over_post(hubspot: HubSpotSandbox) -> None:
    with client(hubspot) as http:
        search = {
            "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "x@y.z"}]}]
        }
        http.post("/crm/v3/objects/contacts/search", json=search, headers=bearer(GOOD))
        mark = hubspot.mark()
        note = {
            "properties": {"hs_note_body": "hi", "hs_timestamp": "2025-01-01T00:00:00Z"},
            "associations": [],
        }
        created = http.post("/crm/v3/objects/notes", json=note, headers=bearer(GOOD))
        refused = http.post("/crm/v3/objects/notes", json=note, headers=bearer("stolen"))
    assert created.status_code == 201
    assert refused.status_code == 401
    assert [(r.method, r.path, r.write) for r in hubspot.requests] == [
        ("POST", "/crm/v3/objects/contacts/search", False),
        ("POST", "/crm/v3/objects/notes", True),
        ("POST", "/crm/v3/objects/notes", True),
    ]
    assert len(hubspot.requests_since(mark)) == 2
    assert [w.status for w in hubspot.writes] == [201, 401]
    assert len(hubspot.notes) == 1  # the refused write changed nothing
    assert hubspot.requests[1].body == note


def test_log_never_holds_a_key(stripe: StripeSandbox) -> None:
    with client(stripe) as http:
        http.get("/v1/customers", params={"email": "a@b.example"}, headers=bearer(GOOD))
    assert GOOD not in repr(stripe.requests)
    assert stripe.requests[0].query == (("email", "a@b.example"),)


def test_clear_log(hubspot: HubSpotSandbox) -> None:
    with client(hubspot) as http:
        http.get("/crm/v3/objects/contacts", headers=bearer(GOOD))
    hubspot.clear_log()
    assert hubspot.requests == ()
    assert hubspot.mark() == 0


def test_unknown_path_and_wrong_method(zendesk: ZendeskSandbox) -> None:
    with client(zendesk) as http:
        unknown = http.get("/api/v2/groups", headers=basic("a@b.example/token", GOOD))
        wrong = http.delete("/api/v2/tickets/4102", headers=basic("a@b.example/token", GOOD))
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "RecordNotFound"
    assert wrong.status_code == 405
    assert [r.write for r in zendesk.requests] == [False, True]


# --- vendor behaviour the connectors rely on -----------------------------------------------


def test_hubspot_search_matches_filter_groups(hubspot: HubSpotSandbox) -> None:
    national = {
        "propertyName": "hs_searchable_calculated_mobile_number",
        "operator": "EQ",
        "value": "215550100",
    }
    landline = {
        "propertyName": "hs_searchable_calculated_phone_number",
        "operator": "EQ",
        "value": "215550100",
    }
    body = {
        "filterGroups": [{"filters": [national]}, {"filters": [landline]}],
        "properties": ["email"],
        "limit": 1,
    }
    with client(hubspot) as http:
        first = http.post("/crm/v3/objects/contacts/search", json=body, headers=bearer(GOOD)).json()
        second = http.post(
            "/crm/v3/objects/contacts/search", json={**body, "after": "1"}, headers=bearer(GOOD)
        ).json()
    # The caller (NZ mobile) and the AU look-alike landline share the national digits.
    assert first["total"] == 2
    assert first["paging"]["next"]["after"] == "1"
    assert "paging" not in second
    assert {first["results"][0]["id"], second["results"][0]["id"]} == {"1501", "1502"}


def test_zendesk_comment_is_added_and_listed(zendesk: ZendeskSandbox) -> None:
    auth = basic("a@b.example/token", GOOD)
    with client(zendesk) as http:
        updated = http.put(
            "/api/v2/tickets/4102",
            json={"ticket": {"comment": {"body": "note", "public": False}}},
            headers=auth,
        )
        comments = http.get(
            "/api/v2/tickets/4102/comments", params={"page[size]": 2, "sort": "-created_at"}, headers=auth
        ).json()
    assert updated.status_code == 200
    event = updated.json()["audit"]["events"][0]
    assert (event["type"], event["public"], event["plain_body"]) == ("Comment", False, "note")
    assert comments["comments"][0]["plain_body"] == "note"
    assert comments["meta"]["has_more"] is True


def test_zendesk_search_by_requester_and_status(zendesk: ZendeskSandbox) -> None:
    auth = basic("a@b.example/token", GOOD)
    with client(zendesk) as http:
        every = http.get(
            "/api/v2/search", params={"query": "type:ticket requester:39001"}, headers=auth
        ).json()
        unsolved = http.get(
            "/api/v2/search", params={"query": "type:ticket requester:39001 status<solved"}, headers=auth
        ).json()
    assert every["count"] == 3
    assert {t["status"] for t in unsolved["results"]} == {"open", "pending"}


def test_stripe_search_and_idempotent_send(stripe: StripeSandbox) -> None:
    with client(stripe) as http:
        found = http.get(
            "/v1/customers/search",
            params={"query": "phone:'+64215550100' OR phone:'021 555 0100'"},
            headers=bearer(GOOD),
        ).json()
        bad = http.get("/v1/customers/search", params={"query": "phone:unquoted"}, headers=bearer(GOOD))
        headers = {**bearer(GOOD), "Idempotency-Key": "k-1"}
        first = http.post("/v1/invoices/in_DemoOverdue0042/send", headers=headers)
        again = http.post("/v1/invoices/in_DemoOverdue0042/send", headers=headers)
        paid = http.post("/v1/invoices/in_DemoPaid000041/send", headers=bearer(GOOD))
    assert [c["id"] for c in found["data"]] == ["cus_DemoAroha0001"]
    assert bad.status_code == 400
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert stripe.sent_invoices == ["in_DemoOverdue0042"]  # sent once despite the retry
    assert paid.status_code == 400
    assert len(stripe.writes) == 3


# --- lifecycle -------------------------------------------------------------------------


def _sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sandbox-")]


def test_stop_closes_the_port_and_joins_threads() -> None:
    sandbox = HubSpotSandbox().start()
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    # A kept-alive connection left open by a client must not hold up the shutdown.
    http = httpx.Client(base_url=sandbox.base_url, trust_env=False)
    try:
        assert http.get("/crm/v3/objects/contacts").status_code == 401
        started = time.monotonic()
        sandbox.stop()
        assert time.monotonic() - started < 2
    finally:
        http.close()
    sandbox.stop()  # idempotent
    assert not sandbox.running
    assert _sandbox_threads() == []
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_misuse_is_a_usage_error() -> None:
    sandbox = StripeSandbox()
    with pytest.raises(UsageError):
        _ = sandbox.base_url
    with sandbox, pytest.raises(UsageError):
        sandbox.start()
