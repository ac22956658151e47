"""Dispatch end to end through the runtime with a toy connector and a respx vendor.

Covers: results and caching, the two scope checks (S1), credential re-read on
401 (S4), retries and deadlines, payload errors, and what audit records hold.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from sdk import (
    AuditDecision,
    Contact,
    DeadlineExceededError,
    InvalidArgumentsError,
    MemoryAuditSink,
    NexoraConnect,
    ScopeDeniedError,
    UnknownIntegrationError,
    UnknownOperationError,
    UnknownTenantError,
    VendorAuthError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from tests.sdk.fakes import FakeCredentialSource, contact_json, make_secret


async def test_read_returns_shared_model_with_e164_phone(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.post("/contacts/search").respond(json={"results": [contact_json()]})
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        contacts = await conv.call("crm", "find_contacts", phone="021 555 0100")
    assert contacts == [
        Contact(id="c-1", source="crm", name="Aroha Test", email="aroha@example.test", phone="+64215550100")
    ]


async def test_second_identical_read_is_served_from_cache(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    route = router.get("/contacts/c-1").respond(json=contact_json())
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        first = await conv.call("crm", "get_contact", contact_id="c-1")
        second = await conv.call("crm", "get_contact", contact_id="c-1")
        assert conv.cached_records == 1
    assert first == second
    assert route.call_count == 1
    assert [r.outcome for r in audit.records] == ["ok", "cached"]


async def test_audit_record_has_decision_status_latency_and_credential_version(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    router.get("/contacts/c-1").respond(json=contact_json())
    async with nc.conversation(tenant="acme", conversation_id="call-9") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
    (record,) = audit.records
    assert record.tenant == "acme"
    assert record.integration == "crm"
    assert record.connector == "toy"
    assert record.operation == "get_contact"
    assert record.scope == "contacts:read"
    assert record.decision is AuditDecision.ALLOWED
    assert record.outcome == "ok"
    assert record.http_status == 200
    assert record.credential_version == 1
    assert record.conversation_id == "call-9"
    assert record.latency_ms >= 0


# --- S1: scope enforcement ------------------------------------------------------


async def test_write_under_read_only_grant_is_refused_before_any_request(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink, credentials: FakeCredentialSource
) -> None:
    route = router.post("/notes").respond(json={"id": "n-1"})
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(ScopeDeniedError, match="notes:write") as info:
            await conv.call("crm", "create_note", contact_id="c-1", body="caller wants a refund")
    assert info.value.scope == "notes:write"
    assert route.call_count == 0
    assert len(router.calls) == 0
    assert credentials.reads == 0, "a denied operation must not even read the key"
    (record,) = audit.records
    assert record.decision is AuditDecision.DENIED
    assert record.outcome == "ScopeDeniedError"


async def test_granted_write_is_sent_and_clears_the_integration_cache(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    contact_route = router.get("/contacts/c-1").respond(json=contact_json())
    router.post("/notes").respond(json={"id": "n-1"})
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        await conv.call("crm-rw", "get_contact", contact_id="c-1")
        note = await conv.call("crm-rw", "create_note", contact_id="c-1", body="called about invoice")
        assert conv.cached_records == 0
        await conv.call("crm-rw", "get_contact", contact_id="c-1")
    assert note.id == "n-1"
    assert contact_route.call_count == 2


@pytest.mark.parametrize("operation", ["get_contact", "get_account"])
async def test_http_layer_refuses_mutation_from_a_read_operation(
    nc: NexoraConnect, router: respx.MockRouter, operation: str
) -> None:
    router.route().respond(200, json={})
    argument = {"get_contact": {"contact_id": "c-1"}, "get_account": {"account_id": "a-1"}}[operation]
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(ScopeDeniedError, match="refused"):
            await conv.call("sneaky", operation, **argument)
    assert len(router.calls) == 0


async def test_request_outside_an_operation_is_refused(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.route().respond(200, json={})
    connector = nc._binding("acme", "crm").connector
    for method in ("GET", "POST", "DELETE"):
        with pytest.raises(ScopeDeniedError, match="dispatched operation"):
            await connector.http.request(method, "/contacts/c-1")
    assert len(router.calls) == 0


async def test_unknown_tenant_integration_and_operation(nc: NexoraConnect) -> None:
    with pytest.raises(UnknownTenantError):
        nc.conversation(tenant="initech", conversation_id="call-1")
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(UnknownIntegrationError, match="crm, crm-rw, sneaky"):
            await conv.call("billing", "find_customers")
        with pytest.raises(UnknownOperationError, match="available"):
            await conv.call("crm", "delete_everything")


async def test_invalid_arguments_name_the_field_not_the_value(nc: NexoraConnect) -> None:
    secret_value = "caller-typed-" + make_secret()
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(InvalidArgumentsError) as info:
            await conv.call("crm", "get_contact", contact_id="a/../b" + secret_value)
        with pytest.raises(InvalidArgumentsError, match="extra: Extra inputs are not permitted"):
            await conv.call("crm", "get_contact", contact_id="c-1", extra=secret_value)
    assert "contact_id" in str(info.value)
    assert secret_value not in str(info.value)
    assert info.value.__context__ is None


# --- S4: credential re-read on a vendor 401 --------------------------------------


async def test_vendor_401_causes_one_fresh_read_and_one_resend(
    nc: NexoraConnect, router: respx.MockRouter, credentials: FakeCredentialSource, audit: MemoryAuditSink
) -> None:
    rotated = make_secret()
    credentials.set("acme", "crm", rotated)  # version 2 in Vault; the vendor already refuses version 1
    credentials.lagging = True  # ...but the first read still hands out version 1

    def only_current_key(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == f"Bearer {rotated}":
            return httpx.Response(200, json=contact_json())
        return httpx.Response(401, json={"message": "invalid key"})

    route = router.get("/contacts/c-1").mock(side_effect=only_current_key)
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        contact = await conv.call("crm", "get_contact", contact_id="c-1")
    assert contact.id == "c-1"
    assert route.call_count == 2
    assert (credentials.reads, credentials.fresh_reads, credentials.invalidations) == (2, 1, 1)
    assert audit.records[-1].credential_version == 2


async def test_401_after_fresh_read_raises_vendor_auth_error_after_exactly_one_resend(
    nc: NexoraConnect, router: respx.MockRouter, credentials: FakeCredentialSource, canary_key: str
) -> None:
    route = router.get("/contacts/c-1").respond(
        401, json={"message": "nope"}, headers={"x-request-id": "r-42"}
    )
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorAuthError) as info:
            await conv.call("crm", "get_contact", contact_id="c-1")
    assert route.call_count == 2
    assert credentials.reads == 2
    assert credentials.fresh_reads == 1
    assert credentials.invalidations == 1
    assert "r-42" in str(info.value)
    assert canary_key not in str(info.value)


# --- retries and deadlines --------------------------------------------------------


async def test_429_with_retry_after_is_honoured_then_succeeds(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get("/contacts/c-1").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, json=contact_json()),
        ]
    )
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        contact = await conv.call("crm", "get_contact", contact_id="c-1")
    assert contact.id == "c-1"
    assert route.call_count == 2


async def test_read_is_retried_on_5xx(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.get("/contacts/c-1").mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json=contact_json())]
    )
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
    assert route.call_count == 3


async def test_write_without_idempotency_key_is_not_retried(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post("/notes").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"id": "n"})]
    )
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorServerError):
            await conv.call("crm-rw", "create_note", contact_id="c-1", body="hello")
    assert route.call_count == 1


async def test_retry_after_beyond_the_deadline_gives_up_at_once(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get("/contacts/c-1").respond(429, headers={"Retry-After": "30"})
    binding = nc._binding("acme", "crm")
    import time

    from sdk._dispatch import dispatch

    with pytest.raises(VendorRateLimitError) as info:
        await dispatch(
            binding,
            binding.spec("get_contact"),
            {"contact_id": "c-1"},
            audit=nc.audit_sink,
            conversation_id=None,
            deadline=time.monotonic() + 0.5,
        )
    assert info.value.retry_after == 30
    assert route.call_count == 1


async def test_slow_vendor_hits_the_deadline(nc: NexoraConnect, router: respx.MockRouter) -> None:
    import asyncio
    import time

    from sdk._dispatch import dispatch

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=contact_json())

    router.get("/contacts/c-1").mock(side_effect=slow)
    binding = nc._binding("acme", "crm")
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        await dispatch(
            binding,
            binding.spec("get_contact"),
            {"contact_id": "c-1"},
            audit=nc.audit_sink,
            conversation_id=None,
            deadline=time.monotonic() + 0.1,
        )
    assert time.monotonic() - started < 2.0


# --- malformed payloads ----------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b'{"id": "c-1", "name": "Aroha'),  # truncated
        httpx.Response(200, content=b"<html>gateway</html>"),  # not JSON
        httpx.Response(200, json={"name": "no id here"}),  # wrong shape
        httpx.Response(200, json=["a", "list"]),  # wrong type
        httpx.Response(200, json={"id": None}),  # null id
        httpx.Response(200, content=b"x" * (5 * 1024 * 1024)),  # oversized
    ],
    ids=["truncated", "not-json", "missing-field", "list", "null-id", "oversized"],
)
async def test_malformed_payloads_raise_vendor_payload_error(
    nc: NexoraConnect, router: respx.MockRouter, response: httpx.Response
) -> None:
    router.get("/contacts/c-1").mock(return_value=response)
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorPayloadError) as info:
            await conv.call("crm", "get_contact", contact_id="c-1")
    assert "Aroha" not in str(info.value)
    assert info.value.__context__ is None, "the original error can hold the payload; it must not ride along"


async def test_shared_client_never_carries_one_tenants_cookie_to_another(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    seen_cookies: list[str | None] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen_cookies.append(request.headers.get("cookie"))
        return httpx.Response(
            200, json=contact_json(), headers={"set-cookie": "session=acme-session; Path=/"}
        )

    router.get("/contacts/c-1").mock(side_effect=vendor)
    async with nc.conversation(tenant="acme", conversation_id="call-a") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
    async with nc.conversation(tenant="globex", conversation_id="call-b") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
    assert seen_cookies == [None, None]


async def test_verify_is_a_read_only_audited_operation(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    route = router.get("/me").respond(json={"ok": True})
    await nc.verify("acme", "crm-rw")
    assert route.call_count == 1
    (record,) = audit.records
    assert (record.operation, record.scope, record.outcome) == ("verify", "credentials:read", "ok")
    assert record.credential_version == 1


# --- S2: tenant isolation ---------------------------------------------------------


async def test_each_tenants_conversation_uses_only_its_own_key(
    nc: NexoraConnect, router: respx.MockRouter, credentials: FakeCredentialSource, canary_key: str
) -> None:
    seen: list[str] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json=contact_json())

    router.get("/contacts/c-1").mock(side_effect=vendor)
    async with nc.conversation(tenant="globex", conversation_id="call-g") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
    async with nc.conversation(tenant="acme", conversation_id="call-a") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
    globex_key = credentials.keys[("globex", "crm")][-1]
    assert seen == [f"Bearer {globex_key}", f"Bearer {canary_key}"]


@pytest.mark.parametrize("integration", ["../globex/crm", "crm/../../globex", "CRM", "crm\n", "", "crm-rw/x"])
async def test_integration_ids_with_path_tricks_are_refused(nc: NexoraConnect, integration: str) -> None:
    from sdk import InvalidIdentifierError

    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises((InvalidIdentifierError, UnknownIntegrationError)):
            await conv.call(integration, "get_contact", contact_id="c-1")


async def test_a_tenant_cannot_reach_an_integration_only_another_tenant_has(nc: NexoraConnect) -> None:
    async with nc.conversation(tenant="globex", conversation_id="call-g") as conv:
        with pytest.raises(UnknownIntegrationError):
            await conv.call("crm-rw", "create_note", contact_id="c-1", body="x")


async def test_an_ungranted_write_is_denied_before_its_arguments_are_looked_at(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink
) -> None:
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(ScopeDeniedError):
            await conv.call("crm", "create_note", nonsense=make_secret())
    (record,) = audit.records
    assert record.decision is AuditDecision.DENIED
    assert len(router.calls) == 0
