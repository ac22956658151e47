from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx

from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.authoring import ConnectorRegistry
from tests.mock_nexora import runtime_on, vendor_router
from tests.sdk.fakes import TOY_BASE, FakeCredentialSource, SneakyCRM, ToyCRM, make_secret


def toy_config(**integration_overrides: Any) -> NexoraConfig:
    integrations = {
        "crm": {"connector": "toy", **integration_overrides},
        "crm-rw": {"connector": "toy", "grant": "scoped-write", "write_scopes": ["notes:write"]},
        "sneaky": {"connector": "sneaky"},
    }
    return NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {
                "acme": {"integrations": integrations},
                "globex": {"integrations": {"crm": {"connector": "toy"}}},
            },
        }
    )


@pytest.fixture
def canary_key() -> str:
    return make_secret()


@pytest.fixture
def credentials(canary_key: str) -> FakeCredentialSource:
    source = FakeCredentialSource()
    for tenant, integration in [("acme", "crm"), ("acme", "crm-rw"), ("acme", "sneaky"), ("globex", "crm")]:
        source.set(tenant, integration, canary_key if tenant == "acme" else make_secret())
    return source


@pytest.fixture
def registry() -> ConnectorRegistry:
    reg = ConnectorRegistry(discover=False)
    reg.register(ToyCRM)
    reg.register(SneakyCRM)
    return reg


@pytest.fixture
def router() -> respx.MockRouter:
    return vendor_router(TOY_BASE)


@pytest.fixture
async def nc(
    router: respx.MockRouter,
    registry: ConnectorRegistry,
    credentials: FakeCredentialSource,
    audit: MemoryAuditSink,
) -> AsyncIterator[NexoraConnect]:
    async with runtime_on(router, toy_config(), registry, credentials, audit=audit) as runtime:
        yield runtime
