"""The HTTP layer: every httpx failure maps to a specific SDK error, and errors carry no secrets."""

from __future__ import annotations

import inspect
import logging

import httpx
import pytest
import respx

from sdk import NexoraConnect, VendorConnectionError, VendorError, VendorTimeoutError
from sdk._context import CallContext, _running
from sdk._http import translate_httpx_error
from tests.sdk.fakes import contact_json

# raise_for_status() is never called by the SDK: statuses are mapped from the response itself.
NOT_RAISED_BY_THE_SDK = {httpx.HTTPStatusError}


def _httpx_errors() -> list[type[Exception]]:
    found = []
    for _, obj in inspect.getmembers(httpx, inspect.isclass):
        if issubclass(obj, httpx.HTTPError) and obj not in NOT_RAISED_BY_THE_SDK:
            found.append(obj)
    return found


@pytest.mark.parametrize("exc_type", _httpx_errors(), ids=lambda t: t.__name__)
def test_every_httpx_error_maps_to_a_specific_sdk_error(exc_type: type[Exception]) -> None:
    if exc_type in (
        httpx.HTTPError,
        httpx.TransportError,
        httpx.RequestError,
        httpx.TimeoutException,
        httpx.NetworkError,
        httpx.ProtocolError,
    ):
        pytest.skip("abstract base; its concrete subclasses are checked")
    request = httpx.Request("GET", "https://vendor.test/contacts/1?email=caller%40example.test")
    exc = (
        exc_type("boom", request=request)
        if "request" in inspect.signature(exc_type).parameters
        else exc_type("boom")
    )
    mapped = translate_httpx_error(exc, method="GET", path="/contacts/1")
    assert type(mapped) is not VendorError, f"{exc_type.__name__} fell through to the generic VendorError"
    assert "caller" not in str(mapped)


async def test_connection_refused_is_retried_even_for_a_write_because_nothing_was_sent(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.post("/notes").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"id": "n"})]
    )
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        note = await conv.call("crm-rw", "create_note", contact_id="c-1", body="hello")
    assert note.id == "n"
    assert route.call_count == 2


async def test_read_timeout_on_a_write_is_not_retried(nc: NexoraConnect, router: respx.MockRouter) -> None:
    route = router.post("/notes").mock(side_effect=httpx.ReadTimeout("slow"))
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorTimeoutError):
            await conv.call("crm-rw", "create_note", contact_id="c-1", body="hello")
    assert route.call_count == 1


async def test_transport_errors_do_not_chain_the_request(
    nc: NexoraConnect, router: respx.MockRouter, canary_key: str
) -> None:
    router.get("/contacts/c-1").mock(side_effect=httpx.RemoteProtocolError("reset"))
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorConnectionError) as info:
            await conv.call("crm", "get_contact", contact_id="c-1")
    assert info.value.__context__ is None
    assert info.value.__cause__ is None
    assert canary_key not in repr(vars(info.value))


async def test_httpx_request_log_lines_show_the_template_not_ids_or_queries(
    nc: NexoraConnect, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    binding = nc._binding("acme", "crm")
    router.get("/contacts/c-1").respond(json=contact_json())
    with _running(
        CallContext(
            tenant="acme",
            integration="crm",
            connector="toy",
            operation=binding.spec("get_contact"),
            grant=binding.grant,
        )
    ):
        await binding.connector.http.request("GET", "/contacts/c-1", params={"email": "caller@example.test"})
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/contacts/{contact_id}" in line for line in lines), lines
    assert not any("caller" in line or "c-1" in line for line in lines), lines


async def test_audit_names_the_public_error_class_not_a_private_refinement(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    from sdk import MemoryAuditSink

    router.get("/contacts/c-1").mock(side_effect=httpx.ConnectError("refused"))
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorConnectionError):
            await conv.call("crm", "get_contact", contact_id="c-1")
    assert isinstance(nc.audit_sink, MemoryAuditSink)
    assert nc.audit_sink.records[-1].outcome == "VendorConnectionError"
