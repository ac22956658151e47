"""A runtime for one connector against a respx router: what connector tests build again and again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import respx

from sdk._audit import AuditSink
from sdk._config import NexoraConfig
from sdk._connector import Connector
from sdk._registry import ConnectorRegistry
from sdk._runtime import NexoraConnect
from sdk.testing._credentials import MemoryCredentialSource
from vault._credentials import Credential

__all__ = ["mock_runtime"]


@contextlib.asynccontextmanager
async def mock_runtime(
    connector: type[Connector],
    router: respx.MockRouter,
    credential: Credential | MemoryCredentialSource,
    *,
    tenant: str = "acme",
    integration: str | None = None,
    settings: Mapping[str, Any] | None = None,
    write_scopes: Sequence[str] = (),
    audit_sink: AuditSink | None = None,
    phone_region: str = "NZ",
) -> AsyncIterator[NexoraConnect]:
    """Yield a NexoraConnect whose only integration is ``connector``, answered by ``router``.

    The integration id defaults to the connector's name; ``write_scopes`` makes the grant
    scoped-write (read-only otherwise). ``credential`` is stored as version 1, or pass a
    :class:`MemoryCredentialSource` you prepared (rotations, read counters). Nothing reaches
    the network or a Vault.
    """
    integration_id = integration or connector.name
    grant: dict[str, Any] = (
        {"grant": "scoped-write", "write_scopes": list(write_scopes)}
        if write_scopes
        else {"grant": "read-only"}
    )
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                tenant: {
                    "phone_region": phone_region,
                    "integrations": {
                        integration_id: {
                            "connector": connector.name,
                            "settings": dict(settings or {}),
                            **grant,
                        }
                    },
                }
            },
        }
    )
    if isinstance(credential, MemoryCredentialSource):
        source = credential
    else:
        source = MemoryCredentialSource()
        source.put(tenant, integration_id, credential)
    registry = ConnectorRegistry(discover=False)
    registry.register(connector)
    async with NexoraConnect(
        config,
        transport=httpx.MockTransport(router.async_handler),
        audit_sink=audit_sink,
        registry=registry,
        credential_store=source,
    ) as runtime:
        yield runtime
