"""Generated ids never cross a tenant line; generated grants decide exactly which writes run (S1, S2).

Tenant line: hypothesis builds two tenants whose integration ids overlap, gives every
(tenant, integration) its own key, and sends calls whose tenant, conversation and integration ids
are drawn from both tenants' names, from path tricks on them (``../``, ``%2f``, case, look-alike
letters, whitespace, NUL) and from arbitrary text. The vendor knows each key's owner. A call
either reaches exactly its own tenant's integration, with that integration's key, and gets that
owner's record (never another tenant's, even from the cache of a conversation with the same id),
or is refused with a typed error before any key is read or any byte is sent.

Grant line: hypothesis draws a grant (read-only, or scoped-write with any subset of every
connector's write scopes plus scopes no connector has) and runs every operation of every
shipped connector under it. A write runs if and only if its scope is granted; a denied write
sends nothing and reads no key.

HTTP line: a probe connector whose operations send a drawn method to a drawn path. Whatever the
connector code does, a mutating request reaches the transport only under a granted write scope,
or as a POST to a path the read operation declared.

``NEXORA_FUZZ_EXAMPLES`` sets the examples per test (default 100: these are cheap).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    AuditDecision,
    InvalidIdentifierError,
    MemoryAuditSink,
    NexoraConfig,
    NexoraConnect,
    ScopeDeniedError,
    UnknownIntegrationError,
    UnknownTenantError,
)
from sdk.authoring import ConnectorRegistry, CRMConnector, operation
from sdk.testing import MemoryCredentialSource
from tests.connectors import hubspot_cases
from tests.mock_nexora import runtime_on
from tests.reliability._support import INTEGRATION, TARGETS, TENANT, Target, runtime
from vault import ApiKeyCredential, CredentialLease

EXAMPLES = int(os.environ.get("NEXORA_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,12}", fullmatch=True)
CONVERSATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
"""The documented alphabet of conversation ids (see the InvalidIdentifierError message)."""


def tricks(name: str) -> list[str]:
    """Spellings of ``name`` that must never resolve to it (or to anything else)."""
    return [
        name.upper(),
        f"../{name}",
        f"{name}/..",
        f"{name}/",
        f"/{name}",
        f"{name}%2f..",
        f"%2e%2e%2f{name}",
        f" {name}",
        f"{name}\n",
        f"{name}\x00",
        name.replace("a", "\u0430").replace("e", "\u0435").replace("o", "\u043e"),  # Cyrillic look-alikes
        f"{name}.",
        f"{name}?tenant=x",
        f"{name}#",
        name * 6,
        "",
    ]


@dataclass
class RecordingSource(MemoryCredentialSource):
    """A credential source that remembers which (tenant, integration) every read was for."""

    log: list[tuple[str, str]] = field(default_factory=list)

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        self.log.append((tenant, integration))
        return await super().get(tenant, integration, fresh=fresh)


@dataclass(frozen=True)
class World:
    tenants: dict[str, tuple[str, ...]]
    """Tenant id -> its integration ids (HubSpot, read-only)."""

    def config(self) -> NexoraConfig:
        return NexoraConfig.parse(
            {
                "vault": {"address": "http://127.0.0.1:9"},
                "tenants": {
                    tenant: {"integrations": {i: {"connector": "hubspot"} for i in integrations}}
                    for tenant, integrations in self.tenants.items()
                },
            }
        )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Two tenants sharing at least one integration id, each with some of its own."""
    first, second = draw(st.lists(ids, min_size=2, max_size=2, unique=True))
    shared = draw(st.lists(ids, min_size=1, max_size=2, unique=True))
    own = draw(st.lists(ids, min_size=2, max_size=4, unique=True))
    half = len(own) // 2
    return World(
        {
            first: tuple(dict.fromkeys([*shared, *own[:half]])),
            second: tuple(dict.fromkeys([*shared, *own[half:]])),
        }
    )


def _trick(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(tricks(name))


def _names(world: World) -> list[str]:
    return sorted({name for integrations in world.tenants.values() for name in integrations})


@FUZZ
@given(world=worlds(), data=st.data())
async def test_ids_never_cross_a_tenant_line(world: World, data: st.DataObject) -> None:
    keys = {
        (t, i): f"key-{secrets.token_hex(8)}"
        for t, integrations in world.tenants.items()
        for i in integrations
    }
    owner = {key: where for where, key in keys.items()}
    source = RecordingSource()
    for (tenant, integration), key in keys.items():
        source.put(tenant, integration, hubspot_cases.credential(key))
    served: list[tuple[str, str]] = []

    def contact(request: httpx.Request) -> httpx.Response:
        whose = owner[request.headers["Authorization"].removeprefix("Bearer ")]
        served.append(whose)
        body = hubspot_cases.fixture("contact")
        body["properties"]["firstname"] = f"owner-{whose[0]}-{whose[1]}"
        return httpx.Response(200, json=body)

    router = respx.MockRouter(base_url=hubspot_cases.BASE, assert_all_called=False, assert_all_mocked=True)
    router.get("/crm/v3/objects/contacts/51").mock(side_effect=contact)
    registry = ConnectorRegistry(discover=False)
    registry.register(HubSpotConnector)

    tenants = sorted(world.tenants)
    names = _names(world)
    # Mostly real ids, so that calls get through and meet each other; a quarter of tricks and noise.
    real_tenants, real_names = st.sampled_from(tenants), st.sampled_from(names)
    tenant_ids = st.one_of(real_tenants, real_tenants, real_tenants, real_tenants.flatmap(_trick))
    integration_ids = st.one_of(
        real_names, real_names, real_names, real_names.flatmap(_trick), st.text(max_size=12)
    )
    conversation_ids = st.one_of(st.sampled_from(["call-1", "call-2", "CA1234.5:6"]), st.text(max_size=10))
    drawn = data.draw(st.lists(st.tuples(tenant_ids, conversation_ids, integration_ids), max_size=10))
    # Every example starts with both tenants calling the same integration id in a conversation of
    # the same id, so a binding, key or cache shared across tenants shows up in every example.
    shared = sorted(set(world.tenants[tenants[0]]) & set(world.tenants[tenants[1]]))[0]
    calls = [(tenants[0], "call-1", shared), (tenants[1], "call-1", shared), *drawn]

    async with runtime_on(router, world.config(), registry, source, audit=MemoryAuditSink()) as nc:
        conversations: dict[tuple[str, str], Any] = {}
        for tenant, conversation_id, integration in calls:
            reads, requests = len(source.log), len(served)
            opened = (tenant, conversation_id)
            if opened not in conversations:
                opens = tenant in world.tenants and CONVERSATION_ID.fullmatch(conversation_id) is not None
                if not opens:
                    with pytest.raises((InvalidIdentifierError, UnknownTenantError)):
                        nc.conversation(tenant=tenant, conversation_id=conversation_id)
                    assert (source.log[reads:], served[requests:]) == ([], [])
                    continue
                conversations[opened] = nc.conversation(tenant=tenant, conversation_id=conversation_id)
            conv = conversations[opened]
            if integration in world.tenants[tenant]:
                result = await conv.call(integration, "get_contact", contact_id="51")
                assert result.name.startswith(f"owner-{tenant}-{integration} "), (
                    result.name,
                    tenant,
                    integration,
                )
                assert set(source.log[reads:]) <= {(tenant, integration)}
                assert set(served[requests:]) <= {(tenant, integration)}
            else:
                with pytest.raises((InvalidIdentifierError, UnknownIntegrationError)):
                    await conv.call(integration, "get_contact", contact_id="51")
                assert source.log[reads:] == [], "a key was read for a refused integration id"
                assert served[requests:] == [], "a request was sent for a refused integration id"
        for conv in conversations.values():
            await conv.hangup()
    # Every key any request carried belonged to the tenant whose conversation sent it (checked per
    # call above); no key was read for a (tenant, integration) that is not configured.
    assert set(source.log) <= set(keys)


# --- grants against operations --------------------------------------------------------------------

ALL_WRITE_SCOPES = sorted({scope for target in TARGETS for scope in target.write_scopes})
UNKNOWN_WRITE_SCOPES = ["contacts:write", "accounts:write", "refunds:write", "customers:write"]


@FUZZ
@given(
    target=st.sampled_from(TARGETS),
    read_only=st.booleans(),
    scopes=st.sets(st.sampled_from(ALL_WRITE_SCOPES + UNKNOWN_WRITE_SCOPES), max_size=4),
)
async def test_a_write_runs_if_and_only_if_its_scope_is_granted(
    target: Target, read_only: bool, scopes: set[str]
) -> None:
    granted = [] if read_only else sorted(scopes)
    for case in target.cases:
        spec = target.connector.operations[case.operation]
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        case.mock(router, "customer")
        audit = MemoryAuditSink()
        source = RecordingSource()
        source.put(TENANT, INTEGRATION, target.credential(f"key-{secrets.token_hex(6)}"))
        allowed = not spec.is_write or str(spec.scope) in granted
        async with (
            runtime(target, router, write_scopes=granted, audit=audit, credentials=source) as nc,
            nc.conversation(tenant=TENANT, conversation_id="grant") as conv,
        ):
            if allowed:
                await conv.call(INTEGRATION, case.operation, **dict(case.arguments))
                mutating = [c for c in router.calls if c.request.method not in ("GET", "HEAD", "OPTIONS")]
                if spec.is_write:
                    assert mutating, f"{case.label}: granted, but the write never reached the vendor"
            else:
                with pytest.raises(ScopeDeniedError):
                    await conv.call(INTEGRATION, case.operation, **dict(case.arguments))
                assert router.calls.call_count == 0, f"{case.label}: denied, yet a request was sent"
                assert source.log == [], f"{case.label}: denied, yet the key was read"
                assert audit.records[-1].decision is AuditDecision.DENIED


# --- the HTTP layer's own check ------------------------------------------------------------------


class ProbeCRM(CRMConnector):
    """A connector whose operations send whatever request they are told to: buggy on purpose."""

    name: ClassVar[str] = "probe"
    base_url: ClassVar[str] = "https://probe.invalid"

    @operation("contacts:read", reads_over_post=["/search/{term}"], cacheable=False)
    async def probe_read(self, method: str, path: str) -> None:
        await self.http.request(method, path)

    @operation("notes:write")
    async def probe_write(self, method: str, path: str) -> None:
        await self.http.request(method, path)

    async def verify(self) -> None:
        await self.http.request("GET", "/me")


SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"]
methods = st.sampled_from(METHODS).flatmap(lambda m: st.sampled_from([m, m.lower(), m.title()]))
segments = st.sampled_from(["search", "SEARCH", "x", "..", ".", "%2f", "%2e%2e", "a%2Fb", "", "q?x=1", "#"])
paths = st.lists(segments | st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)


def _declared_read_over_post(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "" and parts[1] == "search" and parts[2] != ""


@FUZZ
@given(
    calls=st.lists(
        st.tuples(st.sampled_from(["probe_read", "probe_write"]), methods, paths), min_size=1, max_size=6
    ),
    write_granted=st.booleans(),
)
async def test_mutating_requests_pass_the_transport_only_when_allowed(
    calls: Sequence[tuple[str, str, str]], write_granted: bool
) -> None:
    received: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={})

    grant: dict[str, Any] = (
        {"grant": "scoped-write", "write_scopes": ["notes:write"]}
        if write_granted
        else {"grant": "read-only"}
    )
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {"acme": {"integrations": {"probe": {"connector": "probe", **grant}}}},
        }
    )
    registry = ConnectorRegistry(discover=False)
    registry.register(ProbeCRM)
    source = MemoryCredentialSource()
    source.put("acme", "probe", ApiKeyCredential(api_key=SecretStr(f"key-{secrets.token_hex(6)}")))
    async with (
        NexoraConnect(
            config, transport=httpx.MockTransport(vendor), registry=registry, credential_store=source
        ) as nc,
        nc.conversation(tenant="acme", conversation_id="probe") as conv,
    ):
        for operation_name, method, path in calls:
            before = len(received)
            write = operation_name == "probe_write"
            arguments = {"method": method, "path": path}
            try:
                await conv._call("probe", operation_name, arguments, deadline=time.monotonic() + 5)
            except ScopeDeniedError:
                assert len(received) == before
                continue
            for request in received[before:]:
                sent = request.method
                allowed = (
                    sent in SAFE
                    or (write and write_granted)
                    or (not write and sent == "POST" and _declared_read_over_post(request.url.path))
                )
                assert allowed, (
                    f"{operation_name} sent {sent} {request.url.path} (grant write={write_granted})"
                )
            if method.upper() in SAFE and (not write or write_granted):
                assert len(received) == before + 1, (
                    f"{operation_name} {method} {path} never reached the vendor"
                )
