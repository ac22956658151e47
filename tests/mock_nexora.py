"""A NexoraConnect over respx for tests that need more than :func:`sdk.testing.mock_runtime`.

``mock_runtime`` builds one integration of one connector; the vendor suites also run a read-only
integration beside a scoped-write one, and the tools and policy suites run three connectors under
several tenants. The pieces every such runtime is made of (a lenient respx vendor, a credential
store, a one-connector config, a registry, the runtime itself) live here once, so each suite says
only what is particular to it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import respx

from sdk import AuditSink, NexoraConfig, NexoraConnect
from sdk._auth import CredentialSource
from sdk._call import tool_name
from sdk.authoring import Connector, ConnectorRegistry
from sdk.testing import MemoryCredentialSource
from vault import Credential

VAULT = {"address": "http://127.0.0.1:9"}
"""A Vault address nothing listens on: these runtimes read credentials from memory only."""


def vendor_router(base_url: str = "") -> respx.MockRouter:
    """A respx vendor that refuses unmocked requests but does not demand every route be called.

    Without ``base_url`` its routes match any host, so a catch-all added last sees every request.
    """
    return respx.MockRouter(base_url=base_url, assert_all_called=False, assert_all_mocked=True)


def stored(credential: Credential, *integrations: str, tenant: str = "acme") -> MemoryCredentialSource:
    """A credential store in which each of ``integrations`` of ``tenant`` holds ``credential``."""
    source = MemoryCredentialSource()
    for integration in integrations:
        source.put(tenant, integration, credential)
    return source


def grant(write_scopes: Sequence[str] = ()) -> dict[str, Any]:
    """The grant part of an integration entry: scoped-write with ``write_scopes``, else none."""
    return {"grant": "scoped-write", "write_scopes": list(write_scopes)} if write_scopes else {}


def one_connector_config(
    connector: str,
    grants: Mapping[str, Sequence[str]],
    *,
    tenant: str = "acme",
    settings: Mapping[str, Any] | None = None,
    phone_region: str | None = None,
) -> NexoraConfig:
    """One tenant whose integrations all use ``connector``: ``grants`` maps each id to its writes."""
    integrations = {
        integration: {"connector": connector, "settings": dict(settings or {}), **grant(writes)}
        for integration, writes in grants.items()
    }
    entry: dict[str, Any] = {"integrations": integrations}
    if phone_region is not None:
        entry["phone_region"] = phone_region
    return NexoraConfig.parse({"vault": VAULT, "tenants": {tenant: entry}})


def registry_of(*connectors: type[Connector], **named: type[Connector]) -> ConnectorRegistry:
    """A registry of exactly these connectors (``named`` registers a stand-in under a real name)."""
    registry = ConnectorRegistry(discover=False)
    for connector in connectors:
        registry.register(connector)
    for name, connector in named.items():
        registry.register(connector, name=name)
    return registry


def runtime_on(
    router: respx.MockRouter,
    config: NexoraConfig,
    registry: ConnectorRegistry,
    credentials: CredentialSource,
    *,
    audit: AuditSink | None = None,
) -> NexoraConnect:
    """A runtime whose vendor requests all go to ``router`` and whose keys come from memory."""
    return NexoraConnect(
        config,
        transport=httpx.MockTransport(router.async_handler),
        audit_sink=audit,
        registry=registry,
        credential_store=credentials,
    )


async def call_once(nc: NexoraConnect, integration: str, operation: str, /, **arguments: Any) -> Any:
    """``operation`` called directly, in a conversation of its own for tenant ``acme``."""
    async with nc.conversation(tenant="acme", conversation_id="call-" + secrets.token_hex(4)) as conv:
        return await conv.call(integration, operation, **arguments)


async def invoke_once(nc: NexoraConnect, integration: str, operation: str, /, **arguments: Any) -> Any:
    """``operation`` called as the model calls it (a tool), in a conversation of its own."""
    async with nc.conversation(tenant="acme", conversation_id="call-" + secrets.token_hex(4)) as conv:
        return await conv.invoke(tool_name(integration, operation), arguments)
