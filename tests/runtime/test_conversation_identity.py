"""A conversation's tenant and id are fixed when it opens (S2): no tampering reads another tenant's key.

Two tenants, ``acme`` and ``globex``, each with a HubSpot integration named ``crm`` and its own
canary key; ``globex`` also has ``globex-crm``. The vendor answers each key with that tenant's own
record, and every request and every credential read is logged, so a test can say which tenant's key
was used, or that none was.

What Python cannot prevent, and these tests do not pretend to: code in the same process can patch
the ``Conversation`` class itself, or use ``ctypes``. ``object.__setattr__`` goes around the
read-only guard; the identity cross-check then refuses the object before any key is read.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    ConfigurationError,
    MemoryAuditSink,
    NexoraConfig,
    NexoraConnect,
    UnknownIntegrationError,
    UnknownOperationError,
    UsageError,
)
from sdk._cache import ConversationCache
from sdk._call import Conversation
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import hubspot_cases as hubspot
from tests.mock_nexora import registry_of, runtime_on, vendor_router
from vault import CredentialLease

EMAIL = "aroha@example.test"
TENANTS = ("acme", "globex")


@dataclass
class LoggedCredentials(MemoryCredentialSource):
    """Every (tenant, integration) whose key was read, in order."""

    read_log: list[tuple[str, str]] = field(default_factory=list)

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        self.read_log.append((tenant, integration))
        return await super().get(tenant, integration, fresh=fresh)


@dataclass
class World:
    nc: NexoraConnect
    keys: dict[str, str]
    credentials: LoggedCredentials
    presented: list[str] = field(default_factory=list)
    """The tenant whose key each request carried."""

    def tenant_of(self, request: httpx.Request) -> str:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return next((t for t, k in self.keys.items() if k == token), "unknown key")

    def answer(self, request: httpx.Request) -> httpx.Response:
        tenant = self.tenant_of(request)
        self.presented.append(tenant)
        hit = hubspot.contact_hit("51", firstname=f"{tenant}-record", lastname="Test", email=EMAIL)
        return httpx.Response(200, json=hubspot.search_response(hit))

    async def find(self, conv: Conversation, integration: str = "crm") -> Any:
        return await conv.call(integration, "find_contacts", email=EMAIL)


def _config() -> NexoraConfig:
    return NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                "acme": {"integrations": {"crm": {"connector": "hubspot"}}},
                "globex": {
                    "integrations": {"crm": {"connector": "hubspot"}, "globex-crm": {"connector": "hubspot"}}
                },
            },
        }
    )


@pytest.fixture
async def world() -> AsyncIterator[World]:
    keys = {tenant: make_canary(f"{tenant}-key") for tenant in TENANTS}
    credentials = LoggedCredentials()
    credentials.put("acme", "crm", hubspot.credential(keys["acme"]))
    credentials.put("globex", "crm", hubspot.credential(keys["globex"]))
    credentials.put("globex", "globex-crm", hubspot.credential(keys["globex"]))
    router = vendor_router()
    nc = runtime_on(router, _config(), registry_of(HubSpotConnector), credentials, audit=MemoryAuditSink())
    state = World(nc, keys, credentials)
    router.post(hubspot.BASE + hubspot.SEARCH).mock(side_effect=state.answer)
    async with nc:
        yield state


def names(contacts: Any) -> list[str | None]:
    return [c.name for c in contacts]


async def test_the_baseline_each_tenant_reads_with_its_own_key(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    globex = world.nc.conversation(tenant="globex", conversation_id="call-1")
    assert names(await world.find(acme)) == ["acme-record Test"]
    assert names(await world.find(globex)) == ["globex-record Test"]
    # Served from each conversation's own cache the second time: still each tenant's own record.
    assert names(await world.find(acme)) == ["acme-record Test"]
    assert names(await world.find(globex)) == ["globex-record Test"]
    assert world.presented == ["acme", "globex"]
    assert world.credentials.read_log == [("acme", "crm"), ("globex", "crm")]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tenant", "globex"),
        ("conversation_id", "call-2"),
        ("_tenant", "globex"),
        ("_conversation_id", "call-2"),
        ("_cache", None),
        ("_runtime", None),
        ("_state", None),
        ("_on_close", None),
        ("max_lifetime", 1e9),
        ("opened_at", 1e12),
        ("closed", False),
        ("call", None),
        ("_require_open", None),
        ("brand_new_attribute", 1),
        ("__class__", object),
    ],
)
async def test_nothing_on_a_conversation_can_be_assigned_or_deleted(
    world: World, name: str, value: Any
) -> None:
    conv = world.nc.conversation(tenant="acme", conversation_id="call-1")
    globex = world.nc.conversation(tenant="globex", conversation_id="call-1")
    if name in ("_cache", "_runtime", "_state"):
        value = getattr(globex, name) if name != "_runtime" else object()
    with pytest.raises(AttributeError, match=r"fixed when it opens") as caught:
        setattr(conv, name, value)
    assert name in str(caught.value)
    with pytest.raises(AttributeError, match=r"fixed when it opens"):
        delattr(conv, name)
    with pytest.raises(TypeError):
        vars(conv)  # no __dict__ to write around the guard
    assert (conv.tenant, conv.conversation_id) == ("acme", "call-1")
    assert names(await world.find(conv)) == ["acme-record Test"]
    assert world.presented == ["acme"]


async def test_replacing_the_cache_with_another_tenants_is_refused_before_any_read(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    globex = world.nc.conversation(tenant="globex", conversation_id="call-1")
    await world.find(globex)
    object.__setattr__(acme, "_cache", globex._cache)  # goes around __setattr__
    with pytest.raises(UsageError, match="tampered"):
        await world.find(acme)
    with pytest.raises(UsageError, match="tampered"):
        await acme.invoke("crm__find_contacts", {"email": EMAIL})
    with pytest.raises(UsageError, match="tampered"):
        await acme.customer_context(email=EMAIL)
    with pytest.raises(UsageError, match="tampered"):
        acme.tools()
    assert world.presented == ["globex"], "no request left for the tampered conversation"
    assert world.credentials.read_log == [("globex", "crm")]


async def test_a_fresh_cache_of_another_tenant_is_refused_too(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    object.__setattr__(acme, "_cache", ConversationCache("globex"))
    with pytest.raises(UsageError, match="tampered"):
        await world.find(acme)
    # A cache relabelled in place: plain assignment is refused, and one forced around that is caught.
    other = world.nc.conversation(tenant="acme", conversation_id="call-2")
    with pytest.raises(AttributeError, match="fixed"):
        other._cache._tenant = "globex"  # type: ignore[misc]
    object.__setattr__(other._cache, "_tenant", "globex")
    with pytest.raises(UsageError, match="tampered"):
        await world.find(other)
    assert world.presented == []


@pytest.mark.parametrize("slot", ["_tenant", "_conversation_id"])
async def test_rewriting_the_identity_around_the_guard_reads_nothing(world: World, slot: str) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    # Even pointing it at an identity the runtime really has open does not work: that one is another object.
    world.nc.conversation(tenant="globex", conversation_id="call-1")
    object.__setattr__(acme, slot, "globex" if slot == "_tenant" else "call-2")
    with pytest.raises(UsageError, match="tampered"):
        await world.find(acme)
    with pytest.raises(UsageError, match="tampered"):
        await world.find(acme, "globex-crm")
    assert world.presented == []
    assert world.credentials.read_log == []


async def test_swapping_the_runtime_is_refused(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    async with NexoraConnect(
        _config(),
        transport=httpx.MockTransport(lambda r: httpx.Response(500)),
        credential_store=world.credentials,
    ) as other:
        object.__setattr__(acme, "_runtime", other)
        with pytest.raises(UsageError, match="tampered"):
            await world.find(acme)
    assert world.credentials.read_log == []


async def test_a_conversation_built_by_hand_is_not_an_open_conversation(world: World) -> None:
    forged = Conversation(world.nc, tenant="globex", conversation_id="call-9", max_lifetime=60.0)
    with pytest.raises(UsageError, match="tampered"):
        await world.find(forged)
    assert world.presented == []


async def test_another_tenants_integration_name_reaches_nothing_of_theirs(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    with pytest.raises(UnknownIntegrationError) as caught:
        await world.find(acme, "globex-crm")
    assert "tenant 'acme' has no integration 'globex-crm'" in str(caught.value)
    with pytest.raises(UnknownOperationError, match="no such tool"):
        await acme.invoke("globex-crm__find_contacts", {"email": EMAIL})
    # A name both tenants use resolves inside the conversation's own tenant.
    assert names(await world.find(acme, "crm")) == ["acme-record Test"]
    assert world.presented == ["acme"]
    assert ("globex", "globex-crm") not in world.credentials.read_log
    assert all(tenant == "acme" for tenant, _ in world.credentials.read_log)


@pytest.mark.parametrize("hostile", ["../globex/crm", "globex/crm", "crm/../../globex", "CRM", "crm\x00", ""])
async def test_hostile_integration_names_are_refused(world: World, hostile: str) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    with pytest.raises((UnknownIntegrationError, ConfigurationError)):
        await world.find(acme, hostile)
    assert world.presented == []


async def test_a_binding_of_another_tenant_is_refused(world: World) -> None:
    """Defence in depth: even a runtime whose binding table was poisoned does not lend globex's key."""
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    world.nc._bindings[("acme", "crm")] = world.nc._binding("globex", "crm")
    with pytest.raises(UsageError, match="not bound to this conversation's tenant"):
        await world.find(acme)
    assert world.presented == []


async def test_a_closed_conversation_cannot_be_reopened_by_resetting_its_state(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    await world.find(acme)
    await acme.hangup()
    acme._state.closed_reason = None  # the one mutable part: whether and why it closed
    with pytest.raises(UsageError, match="tampered"):
        await world.find(acme)
    assert world.presented == ["acme"]


async def test_a_conversation_cannot_be_copied_or_pickled(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1")
    for clone in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(UsageError, match="cannot be pickled"):
            clone(acme)


async def test_read_only_does_not_change_what_callers_read(world: World) -> None:
    acme = world.nc.conversation(tenant="acme", conversation_id="call-1", max_lifetime=30.0)
    assert (acme.tenant, acme.conversation_id, acme.max_lifetime) == ("acme", "call-1", 30.0)
    assert acme.opened_at > 0
    assert not acme.closed
    assert repr(acme) == "<Conversation tenant='acme' id='call-1' open>"
    await acme.hangup()
    assert acme.closed
    assert repr(acme) == "<Conversation tenant='acme' id='call-1' closed: hung up>"
    assert world.nc.open_conversations == 0


def test_a_cache_cannot_be_relabelled_to_another_tenant() -> None:
    from sdk._cache import ConversationCache

    cache = ConversationCache("acme")
    with pytest.raises(AttributeError, match="fixed"):
        cache._tenant = "globex"  # type: ignore[misc]
    assert cache.tenant == "acme"
