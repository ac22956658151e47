"""``nc.tools(tenant, ...)``: the definitions before any call, identical to a call's, and inert."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from connectors.billing.stripe import StripeConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import (
    InvalidIdentifierError,
    MemoryAuditSink,
    NexoraConnect,
    ScopeDeniedError,
    UnknownTenantError,
    UsageError,
)
from sdk._call import FORMATS
from sdk.authoring import ConnectorRegistry
from sdk.testing import make_canary
from tests.tools.conftest import (
    GRANTED_WRITES,
    MASKING,
    READ_ONLY,
    READS,
    SCOPED,
    UNGRANTED_WRITES,
    tools_config,
)


class NoCredentials:
    """A credential source that fails the test if anything asks it for a key."""

    def __init__(self) -> None:
        self.asked = 0

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> Any:
        self.asked += 1
        raise AssertionError("listing tools must not read a credential")

    def invalidate(self, tenant: str, integration: str) -> None:
        self.asked += 1


@pytest.fixture
async def inert() -> AsyncIterator[tuple[NexoraConnect, respx.MockRouter, NoCredentials, MemoryAuditSink]]:
    registry = ConnectorRegistry(discover=False)
    for connector in (HubSpotConnector, ZendeskConnector, StripeConnector):
        registry.register(connector)
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    credentials = NoCredentials()
    audit = MemoryAuditSink()
    async with NexoraConnect(
        tools_config(),
        transport=httpx.MockTransport(router.async_handler),
        audit_sink=audit,
        registry=registry,
        credential_store=credentials,
    ) as nc:
        yield nc, router, credentials, audit


def names(definitions: list[dict[str, Any]]) -> set[str]:
    return {d["function"]["name"] if "function" in d else d["name"] for d in definitions}


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
async def test_before_any_call_the_definitions_equal_a_calls(
    inert: tuple[NexoraConnect, respx.MockRouter, NoCredentials, MemoryAuditSink], fmt: Any, strict: bool
) -> None:
    nc, router, credentials, audit = inert
    before = {tenant: nc.tools(tenant, fmt, strict=strict) for tenant in (READ_ONLY, SCOPED, MASKING)}
    assert nc.open_conversations == 0
    assert names(before[READ_ONLY]) == READS
    assert names(before[SCOPED]) == READS | GRANTED_WRITES
    assert not names(before[SCOPED]) & UNGRANTED_WRITES
    for tenant, definitions in before.items():
        async with nc.conversation(tenant=tenant, conversation_id=f"call-{tenant}") as conv:
            assert conv.tools(fmt, strict=strict) == definitions
    # Listing touched nothing: no key read, no request, nothing to audit.
    assert credentials.asked == 0
    assert len(router.calls) == 0
    assert audit.records == []


async def test_listing_is_a_fresh_copy_each_time(
    inert: tuple[NexoraConnect, respx.MockRouter, NoCredentials, MemoryAuditSink],
) -> None:
    nc = inert[0]
    first = nc.tools(SCOPED, "anthropic")
    canary = make_canary("tampered")
    first[0]["input_schema"]["properties"].clear()
    first[0]["description"] = canary
    again = nc.tools(SCOPED, "anthropic")
    assert again[0]["input_schema"]["properties"]
    assert canary not in json.dumps(again)


async def test_a_definition_listed_before_the_call_still_cannot_run_an_ungranted_write(
    inert: tuple[NexoraConnect, respx.MockRouter, NoCredentials, MemoryAuditSink],
) -> None:
    """Registering tools at start-up grants nothing: invoke checks the grant again in the call."""
    nc, router, _, _ = inert
    listed = names(nc.tools(READ_ONLY, "responses"))
    assert "crm__create_note" not in listed
    async with nc.conversation(tenant=READ_ONLY, conversation_id="call-forged") as conv:
        with pytest.raises(ScopeDeniedError):
            await conv.invoke("crm__create_note", {"contact_id": "51", "body": "hello there"})
    assert len(router.calls) == 0


async def test_unknown_and_hostile_tenants_are_refused_without_echoing_them(
    inert: tuple[NexoraConnect, respx.MockRouter, NoCredentials, MemoryAuditSink],
) -> None:
    nc = inert[0]
    with pytest.raises(UnknownTenantError):
        nc.tools("tenant-nobody-7")
    for hostile in ("../tenant-rw-7", "tenant-rw-7\nX-Injected: 1", "", "a" * 300):
        with pytest.raises(InvalidIdentifierError) as caught:
            nc.tools(hostile)
        if len(hostile) > 3:
            assert hostile not in str(caught.value)
    with pytest.raises(UsageError) as wrong:
        nc.tools(SCOPED, "claude")  # type: ignore[arg-type]
    assert "'anthropic'" in str(wrong.value)


async def test_after_close_listing_says_so_in_a_sentence(
    inert: tuple[NexoraConnect, respx.MockRouter, NoCredentials, MemoryAuditSink],
) -> None:
    nc = inert[0]
    await nc.aclose()
    with pytest.raises(UsageError) as caught:
        nc.tools(SCOPED)
    message = str(caught.value)
    assert message[0].isupper()
    assert message.endswith(".")
