"""Vault settings refuse what would be ambiguous or unsafe, and name no secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vault import AppRoleAuth, TokenAuth, VaultSettings


def test_defaults() -> None:
    settings = VaultSettings(address="https://vault.example:8200/")
    assert settings.address == "https://vault.example:8200"
    assert settings.mount == "secret"
    assert settings.path_prefix == "nexora"
    assert settings.region == "nz"
    assert settings.auth == TokenAuth()
    assert settings.auth.token_env == "NEXORA_VAULT_TOKEN"


def test_settings_are_hashable_and_equal_by_value() -> None:
    first = VaultSettings(address="http://127.0.0.1:8200", auth={"method": "approle", "role_id": "r"})
    second = VaultSettings(address="http://127.0.0.1:8200", auth=AppRoleAuth(role_id="r"))
    assert first == second
    assert hash(first) == hash(second)
    assert isinstance(first.auth, AppRoleAuth)


@pytest.mark.parametrize(
    "overrides",
    [
        {"address": "vault.example:8200"},
        {"address": "ftp://vault.example"},
        {"address": "https://user:pw@vault.example"},
        {"address": "https://vault.example/v1/secret"},
        {"address": "https://vault.example?x=1"},
        {"address": "https://vault.example:99999"},
        {"timeout": 0},
        {"timeout": -1},
        {"mount": "/secret"},
        {"mount": "sec/../ret"},
        {"path_prefix": "a/../b"},
        {"path_prefix": "a/"},
        {"namespace": "../root"},
        {"region": "NZ"},
        {"region": "mars"},
        {"verify": ""},
        {"token": "hvs.inline"},  # tokens never live in settings
        {"auth": {"method": "token", "token": "hvs.inline"}},
        {"auth": {"method": "token", "token_env": "NOT-A-NAME"}},
        {"auth": {"method": "approle", "role_id": ""}},
        {"auth": {"method": "kerberos"}},
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, object]) -> None:
    values: dict[str, object] = {"address": "https://vault.example:8200", **overrides}
    with pytest.raises(ValidationError):
        VaultSettings(**values)


def test_settings_are_frozen() -> None:
    settings = VaultSettings(address="https://vault.example")
    with pytest.raises(ValidationError):
        settings.region = "au"  # type: ignore[misc]
