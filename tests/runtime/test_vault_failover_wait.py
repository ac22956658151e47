"""``vault_failover_wait``: validated like every other key, and handed to the runtime's own Vault store."""

from __future__ import annotations

import math
from typing import Any

import pytest

import sdk._runtime
from sdk import ConfigurationError, NexoraConfig, NexoraConnect
from tests.runtime.support import registry

BASE: dict[str, Any] = {"vault": {"address": "http://127.0.0.1:9"}, "tenants": {"acme": {}}}


def test_the_default_waits_for_nothing() -> None:
    assert NexoraConfig.parse(BASE).vault_failover_wait == 0.0
    description = NexoraConfig.model_fields["vault_failover_wait"].description or ""
    assert "HA Vault" in description
    assert "deadline" in description


@pytest.mark.parametrize("hostile", [-0.5, 60.01, 1e308, math.inf, math.nan, "soon-7f3a", [1]])
def test_out_of_range_or_non_numbers_are_refused_by_key_without_the_value(hostile: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        NexoraConfig.parse({**BASE, "vault_failover_wait": hostile})
    message = str(caught.value)
    assert "vault_failover_wait:" in message
    assert str(hostile) not in message.partition("vault_failover_wait:")[2]
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


async def test_the_runtime_hands_it_to_its_credential_store(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, float] = {}
    real = sdk._runtime.CredentialStore

    def spy(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(sdk._runtime, "CredentialStore", spy)
    config = NexoraConfig.parse({**BASE, "vault_failover_wait": 7.5, "max_staleness": 2.0})
    async with NexoraConnect(config, registry=registry()):
        pass
    assert seen == {"max_staleness": 2.0, "failover_wait": 7.5}
