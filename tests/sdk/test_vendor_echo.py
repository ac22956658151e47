"""S3: nothing a vendor echoes is trusted to be clean — request ids and error codes included.

A vendor (or a proxy in front of it) may put what it was sent into its
request-id header or error body. The HTTP layer keeps such a value only if it
is a short token of a safe alphabet that contains nothing the request
presented: not the credential, not a path segment, not a query or body value.
"""

from __future__ import annotations

import base64

import httpx
import pytest
import respx

from sdk import MemoryAuditSink, NexoraConnect, UnknownOperationError, VendorNotFoundError
from sdk.testing import make_canary


async def _request_id_after(
    nc: NexoraConnect, router: respx.MockRouter, request_id: str, contact_id: str = "c-1"
) -> str | None:
    router.get(f"/contacts/{contact_id}").respond(404, headers={"x-request-id": request_id}, json={})
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorNotFoundError) as caught:
            await conv.call("crm", "get_contact", contact_id=contact_id)
    return caught.value.request_id


async def test_a_plain_request_id_is_kept(nc: NexoraConnect, router: respx.MockRouter) -> None:
    assert await _request_id_after(nc, router, "req_9f8e7d6c5b4a") == "req_9f8e7d6c5b4a"


async def test_a_request_id_echoing_the_key_is_dropped(
    nc: NexoraConnect, router: respx.MockRouter, canary_key: str
) -> None:
    assert await _request_id_after(nc, router, f"req-{canary_key}") is None
    assert await _request_id_after(nc, router, canary_key.upper()) is None


async def test_a_request_id_echoing_an_argument_is_dropped(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    contact_id = make_canary("contact")
    assert await _request_id_after(nc, router, f"x{contact_id}", contact_id=contact_id) is None


@pytest.mark.parametrize(
    "hostile",
    ["id with spaces", "a" * 200, "req\r\nX-Evil: 1", "<script>", "req;drop", "", "req/../x", "-leading"],
)
async def test_a_request_id_outside_the_safe_alphabet_is_dropped(
    nc: NexoraConnect, router: respx.MockRouter, hostile: str
) -> None:
    # httpx itself refuses CR/LF in a header value; the echo arrives with them folded to a space.
    assert await _request_id_after(nc, router, hostile.replace("\r\n", " ")) is None


async def test_basic_credentials_are_decoded_before_the_echo_check() -> None:
    from sdk._http import _presented_values

    password = make_canary("basic-password")
    token = base64.b64encode(f"agent@example.test:{password}".encode()).decode()
    request = httpx.Request("GET", "https://v.test/x", headers={"Authorization": f"Basic {token}"})
    assert password.casefold() in _presented_values(request, None)


async def test_an_unknown_operation_is_refused_audited_and_not_echoed(
    nc: NexoraConnect, audit: MemoryAuditSink
) -> None:
    hostile = "drop_everything__" + make_canary("op")
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(UnknownOperationError) as caught:
            await conv.call("crm", hostile)
    assert hostile not in str(caught.value)
    record = audit.records[-1]
    assert (record.operation, record.decision.value, record.outcome) == (
        "(unknown)",
        "denied",
        "UnknownOperationError",
    )
    assert hostile not in record.model_dump_json()
