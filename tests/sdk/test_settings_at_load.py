"""Connector settings are validated when the configuration loads, not at the first call.

A typo in ``[tenants.<t>.integrations.<i>.settings]`` must stop the agent at start-up with the
key's full path, never repeating the value (it can be anything an operator pasted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sdk import ConfigurationError, NexoraConfig, NexoraConnect
from sdk.testing import MemoryCredentialSource, make_canary

VAULT = 'address = "http://127.0.0.1:9"'


def _toml(tmp_path: Path, settings: dict[str, str], *, connector: str = "zendesk") -> Path:
    lines = [f'{key} = "{value}"' for key, value in settings.items()]
    text = "\n".join(
        [
            "[vault]",
            VAULT,
            "[tenants.acme.integrations.helpdesk]",
            f'connector = "{connector}"',
            "[tenants.acme.integrations.helpdesk.settings]",
            *lines,
            "",
        ]
    )
    path = tmp_path / "nexora.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _config(tenants: dict[str, Any]) -> NexoraConfig:
    return NexoraConfig.parse({"vault": {"address": "http://127.0.0.1:9"}, "tenants": tenants})


def test_a_misspelt_setting_fails_from_config_naming_the_key_and_not_the_value(tmp_path: Path) -> None:
    canary = make_canary("acme")
    path = _toml(tmp_path, {"subdoamin": canary})
    with pytest.raises(ConfigurationError) as caught:
        NexoraConnect.from_config(path, credential_store=MemoryCredentialSource())
    message = str(caught.value)
    assert "tenants.acme.integrations.helpdesk.settings.subdoamin" in message
    assert "tenants.acme.integrations.helpdesk.settings.subdomain" in message  # the one still missing
    assert canary not in message
    assert canary not in repr(caught.value)
    # The pydantic error quotes the input: it must not ride along as the cause or context.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


@pytest.mark.parametrize("value", ["Acme Corp", "acme.evil.test", "acme/../x", "acme\nHost: evil"])
def test_a_bad_setting_value_fails_the_constructor_without_echoing_it(value: str) -> None:
    canary = make_canary("v")
    config = _config(
        {
            "acme": {
                "integrations": {
                    "helpdesk": {"connector": "zendesk", "settings": {"subdomain": value + canary}}
                }
            }
        }
    )
    with pytest.raises(ConfigurationError) as caught:
        NexoraConnect(config, credential_store=MemoryCredentialSource())
    message = str(caught.value)
    assert "tenants.acme.integrations.helpdesk.settings.subdomain" in message
    assert canary not in message
    assert value not in message


def test_every_tenant_is_checked_not_only_the_first() -> None:
    good = {"helpdesk": {"connector": "zendesk", "settings": {"subdomain": "acme"}}}
    bad = {"helpdesk": {"connector": "zendesk", "settings": {"subdomain": "globex", "region": "eu"}}}
    config = _config({"acme": {"integrations": good}, "globex": {"integrations": bad}})
    with pytest.raises(
        ConfigurationError, match=r"tenants\.globex\.integrations\.helpdesk\.settings\.region"
    ):
        NexoraConnect(config, credential_store=MemoryCredentialSource())


def test_a_connector_without_settings_refuses_any() -> None:
    config = _config(
        {"acme": {"integrations": {"crm": {"connector": "hubspot", "settings": {"portal": "1"}}}}}
    )
    with pytest.raises(ConfigurationError, match=r"tenants\.acme\.integrations\.crm\.settings\.portal"):
        NexoraConnect(config, credential_store=MemoryCredentialSource())


async def test_valid_settings_load_once_and_reach_the_connector(tmp_path: Path) -> None:
    path = _toml(tmp_path, {"subdomain": "acme"})
    async with NexoraConnect.from_config(path, credential_store=MemoryCredentialSource()) as nc:
        binding = nc.binding("acme", "helpdesk")
        settings = binding.connector.settings
        assert type(settings).__name__ == "ZendeskSettings"
        assert settings.model_dump() == {"subdomain": "acme"}
        # The object validated at construction is the one the connector gets: validated once.
        assert settings is nc._settings[("acme", "helpdesk")]
