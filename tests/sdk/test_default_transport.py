"""The SDK's default network transport (aiohttp under httpx) keeps sdk/_http.py's guarantees.

Default suite, not a benchmark: fast, against a real server on loopback (an
asyncio server in this event loop, speaking raw HTTP/1.1 so that nothing
between the SDK and the wire can hide a cookie, a redirect or a resend).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    MemoryAuditSink,
    NexoraConfig,
    NexoraConnect,
    NexoraError,
    ScopeDeniedError,
    VendorConnectionError,
)
from sdk._context import CallContext, _running
from sdk._http import AiohttpTransport, HttpClientPool, default_transport
from sdk.authoring import ConnectorRegistry
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import hubspot_cases as hs


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]


@dataclass
class Loopback:
    """A tiny HTTP/1.1 server; ``answer`` picks the raw response for each request."""

    answer: Callable[[Seen], bytes | None]
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                if int(headers.get("content-length", "0")):
                    await reader.readexactly(int(headers["content-length"]))
                seen = Seen(method, target, headers)
                self.seen.append(seen)
                response = self.answer(seen)
                if response is None:  # drop the connection without answering
                    writer.close()
                    return
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _response(status: int, body: object, *headers: str) -> bytes:
    raw = json.dumps(body).encode()
    head = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(raw)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + raw


class Servers:
    """Loopback servers started by one test, closed after it."""

    def __init__(self) -> None:
        self._servers: list[asyncio.Server] = []

    async def start(self, answer: Callable[[Seen], bytes | None]) -> Loopback:
        found = Loopback(answer)
        server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
        self._servers.append(server)
        found.port = server.sockets[0].getsockname()[1]
        return found

    async def close(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def loopback() -> AsyncIterator[Servers]:
    servers = Servers()
    yield servers
    await servers.close()


def _runtime(base_url: str, key: str) -> NexoraConnect:
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                tenant: {
                    "integrations": {
                        "crm": {"connector": "hubspot", "base_url": base_url},
                        "crm-rw": {
                            "connector": "hubspot",
                            "base_url": base_url,
                            "grant": "scoped-write",
                            "write_scopes": ["notes:write"],
                        },
                    }
                }
                for tenant in ("acme", "globex")
            },
        }
    )
    source = MemoryCredentialSource()
    for tenant in ("acme", "globex"):
        for integration in ("crm", "crm-rw"):
            source.put(tenant, integration, hs.credential(key))
    registry = ConnectorRegistry(discover=False)
    registry.register(HubSpotConnector)
    return NexoraConnect(config, audit_sink=MemoryAuditSink(), registry=registry, credential_store=source)


def test_the_default_transport_is_aiohttp_when_installed() -> None:
    assert isinstance(default_transport(), AiohttpTransport)


def test_without_aiohttp_the_default_is_httpx_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # import aiohttp now raises ImportError
    assert isinstance(default_transport(), httpx.AsyncHTTPTransport)


async def test_a_cookie_set_for_one_tenant_never_reaches_another(loopback: Servers) -> None:
    contact = hs.fixture("contact")
    cookie = make_canary("session")
    server = await loopback.start(
        lambda seen: _response(200, contact, f"Set-Cookie: vendor_session={cookie}; Path=/")
    )
    async with _runtime(f"http://127.0.0.1:{server.port}", make_canary("key")) as nc:
        for tenant in ("acme", "globex", "acme"):
            async with nc.conversation(tenant=tenant, conversation_id=f"call-{len(server.seen)}") as conv:
                await conv.call("crm", "get_contact", contact_id="51")
    assert len(server.seen) == 3
    assert all("cookie" not in seen.headers for seen in server.seen), [s.headers for s in server.seen]


async def test_a_redirect_is_not_followed_and_the_key_goes_nowhere_else(loopback: Servers) -> None:
    elsewhere = await loopback.start(lambda seen: _response(200, hs.fixture("contact")))
    vendor = await loopback.start(
        lambda seen: _response(
            302, {}, f"Location: http://127.0.0.1:{elsewhere.port}/crm/v3/objects/contacts/51"
        )
    )
    runtime = _runtime(f"http://127.0.0.1:{vendor.port}", make_canary("key"))
    async with runtime as nc, nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(NexoraError):  # a 302 with no contact in it, not the other host's answer
            await conv.call("crm", "get_contact", contact_id="51")
    assert len(vendor.seen) == 1
    assert elsewhere.seen == []


async def test_the_scope_guard_refuses_a_write_under_a_read_grant_before_it_is_sent(
    loopback: Servers,
) -> None:
    server = await loopback.start(lambda seen: _response(201, hs.fixture("note_created")))
    async with _runtime(f"http://127.0.0.1:{server.port}", make_canary("key")) as nc:
        binding = nc._binding("acme", "crm")  # read-only grant
        with _running(
            CallContext(
                tenant="acme",
                integration="crm",
                connector="hubspot",
                operation=binding.spec("get_contact"),
                grant=binding.grant,
            )
        ):
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                with pytest.raises(ScopeDeniedError):
                    await binding.connector.http.request(method, "/crm/v3/objects/notes", json={"x": 1})
        # The same write under the integration that was granted notes:write does go out.
        async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
            await conv.call("crm-rw", "create_note", contact_id="51", body="called")
    assert [seen.method for seen in server.seen] == ["POST"]


async def test_a_write_whose_connection_drops_is_sent_once(loopback: Servers) -> None:
    """aiohttp resends PUT/DELETE on a broken connection by itself; the SDK's transport must not."""
    server = await loopback.start(lambda seen: None)
    transport = AiohttpTransport()
    client = httpx.AsyncClient(transport=transport)
    try:
        for method in ("PUT", "DELETE", "POST", "PATCH"):
            before = len(server.seen)
            with pytest.raises(httpx.RemoteProtocolError):
                await client.request(method, f"http://127.0.0.1:{server.port}/objects/1", content=b"{}")
            assert len(server.seen) - before == 1, method
    finally:
        await client.aclose()


async def test_connection_refused_means_not_sent_and_a_dropped_read_is_a_connection_error(
    loopback: Servers, unused_tcp_port: int
) -> None:
    transport = AiohttpTransport()
    client = httpx.AsyncClient(transport=transport)
    try:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{unused_tcp_port}/x")
    finally:
        await client.aclose()
    server = await loopback.start(lambda seen: None)
    runtime = _runtime(f"http://127.0.0.1:{server.port}", make_canary("key"))
    async with runtime as nc, nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(VendorConnectionError) as failure:
            await conv.call("crm", "get_contact", contact_id="51")
    assert failure.value.__context__ is None


async def test_the_path_the_guard_checked_is_the_path_sent(loopback: Servers) -> None:
    server = await loopback.start(lambda seen: _response(200, {}))
    client = httpx.AsyncClient(transport=AiohttpTransport())
    try:
        await client.get(f"http://127.0.0.1:{server.port}/a/%2e%2e/b%2Fc?q=a%2Bb%20c")
    finally:
        await client.aclose()
    assert server.seen[0].target == "/a/%2e%2e/b%2Fc?q=a%2Bb%20c"


async def test_an_injected_transport_still_replaces_the_network() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={})

    pool = HttpClientPool(transport=httpx.MockTransport(handler))
    client = pool.client_for("https://vendor.invalid")
    with pytest.raises(ScopeDeniedError):  # still behind the scope guard, with no operation in progress
        await client.get("https://vendor.invalid/x")
    await pool.aclose()
    assert calls == []


def test_the_clients_hold_no_cookie_store() -> None:
    client = HttpClientPool().client_for("https://vendor.invalid")
    client.cookies = {"a": "b"}
    assert len(client.cookies) == 0
    with pytest.raises(TypeError):
        client.cookies.set("session", "x")
