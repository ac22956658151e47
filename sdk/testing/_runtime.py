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
from sdk.testing._credentials import MemoryCredentialSource, WritableMemoryCredentialSource
from vault._credentials import Credential

__all__ = ["mock_runtime"]


@contextlib.asynccontextmanager
async def mock_runtime(
    connector: type[Connector],
    router: respx.MockRouter,
    credential: Credential | MemoryCredentialSource | WritableMemoryCredentialSource,
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
    scoped-write (read-only otherwise). ``credential`` is stored as version 1 of a
    :class:`WritableMemoryCredentialSource`, or pass a source you prepared (rotations, read
    counters, OAuth write-backs). Nothing reaches
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
    source: MemoryCredentialSource | WritableMemoryCredentialSource
    if isinstance(credential, (MemoryCredentialSource, WritableMemoryCredentialSource)):
        source = credential
    else:
        # Writable, so that an OAuth refresh-token credential can have its rotated token written back.
        source = WritableMemoryCredentialSource()
        source.seed(tenant, integration_id, credential)
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
