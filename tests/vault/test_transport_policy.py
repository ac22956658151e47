"""Plain HTTP only to loopback unless visibly opted in, and the Vault token never in a repr (S3)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sdk._config import NexoraConfig
from sdk._errors import ConfigurationError
from sdk.testing import make_canary
from tests.vault.support import make_secret, new_id, tenant_policy, write_secret
from vault import CredentialStore, OpenBaoDevServer, TokenAuth, VaultClient, VaultSettings, credential_path

LOOPBACK = [
    "http://127.0.0.1:8200",
    "http://127.42.0.9",
    "http://localhost:8200",
    "http://LOCALHOST.",
    "http://[::1]:8200",
]
# Names that merely look local resolve wherever DNS says; 0.0.0.0 and private ranges are networks.
NOT_LOOPBACK = [
    "http://vault.example:8200",
    "http://10.0.0.7:8200",
    "http://0.0.0.0:8200",
    "http://127.0.0.1.nip.io",
    "http://localhost.evil.example",
    "http://[::ffff:10.0.0.1]",
    "http://[fe80::1]",
]


@pytest.mark.parametrize("address", LOOPBACK)
def test_plain_http_to_loopback_is_allowed(address: str) -> None:
    assert VaultSettings(address=address).address.startswith("http://")


@pytest.mark.parametrize("address", NOT_LOOPBACK)
def test_plain_http_elsewhere_is_refused_without_the_opt_in(address: str) -> None:
    with pytest.raises(ValidationError) as caught:
        VaultSettings(address=address)
    (error,) = caught.value.errors(include_input=False)
    assert error["loc"] == ("address",)
    assert "allow_plain_http = true" in error["msg"]
    assert "https://" in error["msg"]
    # The opt-in works, and https never needs it.
    assert VaultSettings(address=address, allow_plain_http=True).allow_plain_http is True
    assert VaultSettings(address=address.replace("http://", "https://", 1)).address.startswith("https://")


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"vault": {"address": "http://vault.internal:8200"}, "tenants": {"acme": {}}}, "vault.address"),
        (
            {
                "vault": {"address": "https://vault.example"},
                "tenants": {"acme": {"vault": {"address": "http://10.1.2.3:8200", "region": "nz"}}},
            },
            "tenants.acme.vault.address",
        ),
    ],
)
def test_the_configuration_error_names_the_key_and_the_opt_in(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        NexoraConfig.parse(data)
    message = str(caught.value)
    assert f"{key}:" in message
    assert "allow_plain_http = true" in message
    assert "vault.internal" not in message
    assert "10.1.2.3" not in message


def test_the_opt_in_in_a_configuration_file() -> None:
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://vault.internal:8200", "allow_plain_http": True},
            "tenants": {"acme": {}},
        }
    )
    assert config.vault_for("acme").allow_plain_http is True


def test_a_non_boolean_opt_in_is_no_opt_in() -> None:
    with pytest.raises(ValidationError) as caught:
        VaultSettings(address="http://vault.example", allow_plain_http="maybe")  # type: ignore[arg-type]
    assert {error["loc"] for error in caught.value.errors()} == {("allow_plain_http",), ("address",)}


# --- the token is held as a secret ------------------------------------------------------------------


def _held_state(*objects: object) -> list[str]:
    """Every repr and str a debugger, log line or error reporter could show of these objects' state."""
    texts: list[str] = []
    for item in objects:
        texts += [repr(item), str(item)]
        state = getattr(item, "__dict__", {})
        texts.append(repr(state))
        for name, value in state.items():
            if name == "_hvac":
                continue  # hvac's own client holds a plain copy to send; it is not ours to mask
            texts += [repr(value), str(value)]
            if isinstance(value, dict):
                texts += [repr(key) for key in value] + [repr(v) for v in value.values()]
    return texts


@pytest.mark.vault
async def test_the_vault_token_is_never_in_a_repr(
    openbao: OpenBaoDevServer,
    vault_root: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = VaultSettings(address=openbao.address)
    tenant = new_id()
    key = make_secret()
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": key})
    policy = tenant_policy(vault_root, settings, tenant)
    # A token whose id is a canary, so that any copy of it is recognisable.
    given = make_canary("hvs")
    vault_root.auth.token.create(id=given, policies=[policy], ttl="10m")
    from_env = make_canary("hvs")
    vault_root.auth.token.create(id=from_env, policies=[policy], ttl="10m")
    monkeypatch.setenv("NEXORA_TEST_VAULT_TOKEN", from_env)
    from_file = make_canary("hvs")
    vault_root.auth.token.create(id=from_file, policies=[policy], ttl="10m")
    token_file = tmp_path / "token"
    token_file.write_text(from_file + "\n", encoding="utf-8")
    env_settings = VaultSettings(address=openbao.address, auth=TokenAuth(token_env="NEXORA_TEST_VAULT_TOKEN"))
    file_settings = VaultSettings(address=openbao.address, auth=TokenAuth(token_file=str(token_file)))

    texts: list[str] = []
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region="nz", token=given)
        lease = await store.get(tenant, "crm")
        assert lease.credential.api_key.get_secret_value() == key  # type: ignore[union-attr]
        texts += _held_state(store, store.vault_client(tenant))
        for other in (env_settings, file_settings):
            client = VaultClient(other, renew_tokens=False)
            try:
                data, _ = await client.read_secret(
                    credential_path(other, tenant, "crm"), tenant=tenant, integration="crm"
                )
                assert data["api_key"] == key
                texts += _held_state(client)
            finally:
                await client.close()
    texts.append(caplog.text)
    assert caplog.records
    assert os.environ["NEXORA_TEST_VAULT_TOKEN"] == from_env  # the env var itself is the operator's
    for text in texts:
        for canary in (given, from_env, from_file):
            assert canary not in text
