"""TLS to Vault with a CA the test generates, and mutual TLS, against real ``bao server`` TLS listeners.

The dev server keeps its plain loopback listener (for arranging state) and
serves two more from a config file: one with a server certificate, one that
also requires a client certificate signed by the test's CA. Both read paths
(aiohttp on the loop, hvac on threads) and hvac's writes must use the settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac
import pytest

from sdk._cli._check import Status
from sdk._cli._checks_vault import vault_health as _vault_health
from sdk._errors import VaultError
from tests.vault.pki import ThrowawayCA
from tests.vault.support import make_secret, new_id, write_secret
from vault import ApiKeyCredential, CredentialStore, OpenBaoDevServer, TokenAuth, VaultSettings
from vault.devserver import _free_port_pair

pytestmark = pytest.mark.vault

_LISTENER = """\
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_cert_file = "{cert}"
  tls_key_file = "{key}"
  tls_min_version = "tls12"
{extra}}}
"""


@dataclass
class TlsVault:
    server: OpenBaoDevServer
    root: Any
    ca: ThrowawayCA
    tls_address: str
    mtls_address: str
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def tls_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsVault]:
    directory = tmp_path_factory.mktemp("tls")
    ca = ThrowawayCA(directory / "ca")
    cert, key = ca.issue("127.0.0.1", server=True)
    client_cert, client_key = ca.issue("voice-agent", server=False)
    ports: list[int] = []
    while len(ports) < 2:  # each listener takes its port and the next (its cluster port)
        port = _free_port_pair()
        if all(abs(port - taken) > 1 for taken in ports):
            ports.append(port)
    mtls = f'  tls_require_and_verify_client_cert = true\n  tls_client_ca_file = "{ca.ca_file}"\n'
    config = directory / "listeners.hcl"
    config.write_text(
        _LISTENER.format(port=ports[0], cert=cert, key=key, extra="")
        + _LISTENER.format(port=ports[1], cert=cert, key=key, extra=mtls)
    )
    with OpenBaoDevServer(config_files=[str(config)]) as server:
        root = hvac.Client(url=server.address, token=server.root_token, timeout=5)
        root.session.trust_env = False
        yield TlsVault(
            server=server,
            root=root,
            ca=ca,
            tls_address=f"https://127.0.0.1:{ports[0]}",
            mtls_address=f"https://127.0.0.1:{ports[1]}",
            client_cert=client_cert,
            client_key=client_key,
        )
        root.adapter.close()


@pytest.fixture
def token(tls_vault: TlsVault, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NEXORA_VAULT_TOKEN", tls_vault.server.root_token)
    return tls_vault.server.root_token


async def _round_trip(settings: VaultSettings, root: Any, *, async_reads: bool) -> None:
    """Read a planted key (the read path) and write a new version (hvac), through ``settings``."""
    tenant = new_id()
    key = make_secret()
    write_secret(root, settings, tenant, "crm", {"type": "api_key", "api_key": key})
    async with CredentialStore(async_reads=async_reads, renew_tokens=False) as store:
        store.register_tenant(tenant, settings=settings, region="nz")
        lease = await store.get(tenant, "crm")
        assert lease.credential.api_key.get_secret_value() == key  # type: ignore[union-attr]
        new = make_secret()
        version = await store.put(tenant, "crm", ApiKeyCredential(api_key=new), cas=1)  # type: ignore[arg-type]
        assert version == 2
        assert (await store.get(tenant, "crm")).credential.api_key.get_secret_value() == new  # type: ignore[union-attr]


@pytest.mark.parametrize("async_reads", [True, False])
async def test_tls_with_the_tenants_ca_bundle(tls_vault: TlsVault, token: str, async_reads: bool) -> None:
    settings = VaultSettings(address=tls_vault.tls_address, ca_cert=str(tls_vault.ca.ca_file))
    await _round_trip(settings, tls_vault.root, async_reads=async_reads)


@pytest.mark.parametrize("async_reads", [True, False])
async def test_mutual_tls_with_a_client_certificate(
    tls_vault: TlsVault, token: str, async_reads: bool
) -> None:
    settings = VaultSettings(
        address=tls_vault.mtls_address,
        ca_cert=str(tls_vault.ca.ca_file),
        client_cert=str(tls_vault.client_cert),
        client_key=str(tls_vault.client_key),
    )
    await _round_trip(settings, tls_vault.root, async_reads=async_reads)
    # One file holding both certificate and key works too, as with requests.
    both = tls_vault.client_cert.with_name("both.pem")
    both.write_bytes(tls_vault.client_cert.read_bytes() + tls_vault.client_key.read_bytes())
    combined = settings.model_copy(update={"client_cert": str(both), "client_key": None})
    await _round_trip(combined, tls_vault.root, async_reads=async_reads)


async def _refused(settings: VaultSettings, *, async_reads: bool) -> VaultError:
    async with CredentialStore(async_reads=async_reads, renew_tokens=False) as store:
        store.register_tenant("acme", settings=settings, region="nz")
        with pytest.raises(VaultError) as caught:
            await store.get("acme", "crm")
    return caught.value


@pytest.mark.parametrize("async_reads", [True, False])
async def test_what_tls_must_refuse(
    tls_vault: TlsVault, token: str, tmp_path: Path, async_reads: bool
) -> None:
    stranger = ThrowawayCA(tmp_path / "stranger", name="stranger CA")
    stranger_cert, stranger_key = stranger.issue("intruder", server=False)
    cases = {
        # The public roots do not include the test's CA.
        "default roots": VaultSettings(address=tls_vault.tls_address),
        "another CA": VaultSettings(address=tls_vault.tls_address, ca_cert=str(stranger.ca_file)),
        "no client certificate": VaultSettings(
            address=tls_vault.mtls_address, ca_cert=str(tls_vault.ca.ca_file)
        ),
        "a client certificate of another CA": VaultSettings(
            address=tls_vault.mtls_address,
            ca_cert=str(tls_vault.ca.ca_file),
            client_cert=str(stranger_cert),
            client_key=str(stranger_key),
        ),
        "an unreadable CA bundle": VaultSettings(
            address=tls_vault.tls_address, ca_cert=str(tmp_path / "missing.pem")
        ),
        "a key that is not the certificate's": VaultSettings(
            address=tls_vault.mtls_address,
            ca_cert=str(tls_vault.ca.ca_file),
            client_cert=str(tls_vault.client_cert),
            client_key=str(stranger_key),
        ),
    }
    for case, settings in cases.items():
        error = await _refused(settings, async_reads=async_reads)
        message = str(error)
        assert "TLS" in message or "denied" in message or "connect" in message, case
        assert token not in message
        assert "PRIVATE KEY" not in message
        assert error.__cause__ is None


@pytest.mark.parametrize("client_cert", [True, False])
async def test_doctor_checks_health_over_mutual_tls(tls_vault: TlsVault, client_cert: bool) -> None:
    settings = VaultSettings(
        address=tls_vault.mtls_address,
        ca_cert=str(tls_vault.ca.ca_file),
        client_cert=str(tls_vault.client_cert) if client_cert else None,
        client_key=str(tls_vault.client_key) if client_cert else None,
        auth=TokenAuth(),
    )
    check = await _vault_health(settings, "acme")
    assert check.status is (Status.OK if client_cert else Status.FAIL), check


def test_tls_settings_that_contradict_each_other_are_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="client_key needs client_cert"):
        VaultSettings(address="https://vault.example", client_key="/k.pem")
    with pytest.raises(ValidationError, match="either ca_cert or verify"):
        VaultSettings(address="https://vault.example", ca_cert="/ca.pem", verify=False)
    settings = VaultSettings(address="https://vault.example", ca_cert="/ca.pem", client_cert="/c.pem")
    assert settings.tls_verify == "/ca.pem"
    assert settings.tls_client_cert == "/c.pem"
