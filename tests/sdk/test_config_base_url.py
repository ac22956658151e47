"""An integration's base_url is checked when the configuration loads (S3): https, loopback or an opt-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sdk import ConfigurationError, NexoraConfig, load_config
from sdk._config import IntegrationConfig
from sdk.testing import make_canary


def parse(**integration: Any) -> NexoraConfig:
    return NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {"acme": {"integrations": {"crm": {"connector": "toy", **integration}}}},
        }
    )


def test_plain_http_to_a_remote_host_is_refused_at_load_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "nexora.toml"
    path.write_text(
        '[vault]\naddress = "http://127.0.0.1:8200"\n\n'
        '[tenants.acme.integrations.crm]\nconnector = "toy"\nbase_url = "http://crm.internal.example"\n'
    )
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "  tenants.acme.integrations.crm.base_url: the URL uses plain http" in message
    assert "set tenants.acme.integrations.crm.allow_plain_http = true" in message
    assert "crm.internal.example" not in message, "the value is not echoed"


def test_the_opt_in_is_explicit_per_integration_and_visible_on_the_model() -> None:
    config = parse(base_url="http://crm.internal.example:8080/", allow_plain_http=True)
    integration = config.tenants["acme"].integrations["crm"]
    assert integration.allow_plain_http is True
    assert integration.base_url == "http://crm.internal.example:8080"
    assert parse().tenants["acme"].integrations["crm"].allow_plain_http is False, "off unless set"
    description = IntegrationConfig.model_fields["allow_plain_http"].description or ""
    assert "doctor" in description
    assert "opt-in" in description


def test_the_opt_in_must_be_a_real_boolean() -> None:
    with pytest.raises(ConfigurationError, match=r"tenants\.acme\.integrations\.crm\.allow_plain_http"):
        parse(base_url="http://crm.internal.example", allow_plain_http="maybe")


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("https://user:{canary}@crm.example.test", "user name or password"),
        ("https://crm.example.test/api?token={canary}", "query"),
        ("https://crm.example.test/#{canary}", "fragment"),
        ("gopher://crm.example.test/{canary}", "https://"),
        ("https://crm.example.test/../{canary}", "'..'"),
        ("https://crm.example.test.{canary}_x/", "not a DNS name"),
    ],
)
def test_hostile_base_urls_are_refused_even_with_the_opt_in(base_url: str, problem: str) -> None:
    canary = make_canary("base-url")
    with pytest.raises(ConfigurationError) as caught:
        parse(base_url=base_url.format(canary=canary), allow_plain_http=True)
    message = str(caught.value)
    assert "tenants.acme.integrations.crm.base_url: the URL" in message
    assert problem in message
    assert canary not in message


def test_loopback_needs_no_opt_in_and_https_is_normalised() -> None:
    assert parse(base_url="http://127.0.0.1:9/").tenants["acme"].integrations["crm"].base_url == (
        "http://127.0.0.1:9"
    )
    assert parse(base_url="http://[::1]:9").tenants["acme"].integrations["crm"].base_url == "http://[::1]:9"
    assert parse(base_url="HTTPS://CRM.Example.test:443/v1/").tenants["acme"].integrations[
        "crm"
    ].base_url == ("https://crm.example.test/v1")


def test_a_model_built_directly_is_checked_too() -> None:
    """``IntegrationConfig(...)`` outside ``parse`` still refuses (pydantic's own error)."""
    with pytest.raises(ValueError, match="plain http"):
        IntegrationConfig(connector="toy", base_url="http://crm.example.test")
