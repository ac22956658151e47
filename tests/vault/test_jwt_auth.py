"""Workload identity: logging in with a JWT against OpenBao's real ``jwt`` auth method.

The test is its own identity provider: it generates an RSA key pair, gives
OpenBao the public key (``jwt_validation_pubkeys``, as for a Kubernetes
cluster's service-account issuer) and signs service-account-shaped JWTs
with the private key into a file, as the kubelet projects them into a pod.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sdk._errors import VaultAuthError, VaultPermissionError
from tests.vault.support import make_secret, new_id, tenant_policy, write_secret
from tests.vault.test_renewal import eventually
from vault import CredentialStore, JwtAuth, OpenBaoDevServer, VaultSettings

pytestmark = pytest.mark.vault

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "nexora-vault"
SUBJECT = "system:serviceaccount:voice:agent"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Issuer:
    """A signing key the test owns, and the OpenBao jwt mount and role that trust it."""

    key: rsa.RSAPrivateKey
    mount: str
    role: str
    tenant: str
    token_file: Path

    def sign(self, *, lifetime: float = 600, subject: str = SUBJECT, audience: str = AUDIENCE) -> str:
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": "test"}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": [audience],
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + int(lifetime),
            "kubernetes.io": {"namespace": "voice", "serviceaccount": {"name": "agent"}},
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def project(self, **kwargs: Any) -> str:
        """Write a fresh JWT into the token file, as the kubelet rotates a projected token."""
        jwt = self.sign(**kwargs)
        self.token_file.write_text(jwt, encoding="utf-8")
        return jwt

    def settings(self, address: str) -> VaultSettings:
        return VaultSettings(
            address=address,
            auth=JwtAuth(role=self.role, token_file=str(self.token_file), mount_point=self.mount),
        )


def make_issuer(root: Any, openbao: OpenBaoDevServer, tmp_path: Path, *, ttl: str, max_ttl: str) -> Issuer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    mount = new_id("jwt")
    root.sys.enable_auth_method(method_type="jwt", path=mount)
    root.auth.jwt.configure(jwt_validation_pubkeys=[public], bound_issuer=ISSUER, path=mount)
    tenant = new_id()
    plain = VaultSettings(address=openbao.address)
    root.auth.jwt.create_role(
        name="voice-agent",
        role_type="jwt",
        allowed_redirect_uris=[],
        user_claim="sub",
        bound_audiences=[AUDIENCE],
        bound_subject=SUBJECT,
        token_policies=[tenant_policy(root, plain, tenant)],
        token_ttl=ttl,
        token_max_ttl=max_ttl,
        path=mount,
    )
    return Issuer(key=key, mount=mount, role="voice-agent", tenant=tenant, token_file=tmp_path / "token")


@pytest.fixture
def issuer(vault_root: Any, openbao: OpenBaoDevServer, tmp_path: Path) -> Iterator[Issuer]:
    made = make_issuer(vault_root, openbao, tmp_path, ttl="10m", max_ttl="20m")
    yield made
    vault_root.sys.disable_auth_method(path=made.mount)


async def test_a_workload_logs_in_with_its_jwt_and_reads_its_tenants_keys(
    issuer: Issuer, openbao: OpenBaoDevServer, vault_root: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = issuer.settings(openbao.address)
    key = make_secret()
    write_secret(vault_root, settings, issuer.tenant, "crm", {"type": "api_key", "api_key": key})
    other = new_id()
    write_secret(vault_root, settings, other, "crm", {"type": "api_key", "api_key": make_secret()})
    jwt = issuer.project()
    async with CredentialStore() as store:
        store.register_tenant(issuer.tenant, settings=settings, region="nz")
        store.register_tenant(other, settings=settings, region="nz")
        lease = await store.get(issuer.tenant, "crm")
        assert lease.credential.api_key.get_secret_value() == key  # type: ignore[union-attr]
        client = store.vault_client(issuer.tenant)
        assert client.logins == 1
        assert client.token_expires_in is not None  # a lease to renew, as for AppRole
        # The JWT login carries the role's policy only: another tenant's key is refused.
        with pytest.raises(VaultPermissionError):
            await store.get(other, "crm")
        texts = [repr(client), repr(vars(client)), repr(store)]
    assert jwt not in caplog.text
    for text in texts:
        assert jwt not in text


async def test_the_jwt_file_is_read_again_at_each_login(
    issuer: Issuer, openbao: OpenBaoDevServer, vault_root: Any
) -> None:
    settings = issuer.settings(openbao.address)
    key = make_secret()
    write_secret(vault_root, settings, issuer.tenant, "crm", {"type": "api_key", "api_key": key})
    issuer.project()
    async with CredentialStore() as store:
        store.register_tenant(issuer.tenant, settings=settings, region="nz")
        await store.get(issuer.tenant, "crm")
        client = store.vault_client(issuer.tenant)

        def revoke_current() -> None:
            token = client._login.current_token
            assert token is not None
            vault_root.auth.token.revoke(token.get_secret_value())

        # The kubelet has rotated the file to a JWT for a subject the role does not accept; once
        # the Vault token is gone, the next login reads the file and is refused, saying what to check.
        rejected = issuer.project(subject="system:serviceaccount:voice:intruder")
        revoke_current()
        with pytest.raises(VaultAuthError) as caught:
            await store.get(issuer.tenant, "crm")
        message = str(caught.value)
        assert "JWT login" in message
        assert str(issuer.token_file) in message
        assert f"role {issuer.role!r}" in message
        assert rejected not in message
        assert caught.value.__cause__ is None

        # A good JWT in the file again: the next read logs in with it, without a restart.
        issuer.project()
        lease = await store.get(issuer.tenant, "crm")
        assert lease.credential.api_key.get_secret_value() == key  # type: ignore[union-attr]
        assert client.logins >= 2

        # An expired JWT is refused the same way (OpenBao checks exp, not just the signature).
        issuer.project(lifetime=-120)
        revoke_current()
        with pytest.raises(VaultAuthError):
            await store.get(issuer.tenant, "crm")


async def test_a_missing_jwt_file_says_which_file(openbao: OpenBaoDevServer, tmp_path: Path) -> None:
    settings = VaultSettings(
        address=openbao.address, auth=JwtAuth(role="r", token_file=str(tmp_path / "nowhere"))
    )
    async with CredentialStore() as store:
        store.register_tenant("acme", settings=settings, region="nz")
        with pytest.raises(VaultAuthError, match="nowhere"):
            await store.get("acme", "crm")


async def test_jwt_tokens_are_renewed_and_replaced_by_a_new_login(
    vault_root: Any, openbao: OpenBaoDevServer, tmp_path: Path
) -> None:
    # 5 s / 10 s, as the AppRole renewal test: the renewer must win its race on a loaded machine.
    made = make_issuer(vault_root, openbao, tmp_path, ttl="5s", max_ttl="10s")
    try:
        settings = made.settings(openbao.address)
        key = make_secret()
        write_secret(vault_root, settings, made.tenant, "crm", {"type": "api_key", "api_key": key})
        made.project()
        async with CredentialStore() as store:
            store.register_tenant(made.tenant, settings=settings, region="nz")
            client = store.vault_client(made.tenant)
            rotated = False

            async def read_and_check() -> bool:
                nonlocal rotated
                lease = await store.get(made.tenant, "crm")  # any failure fails the test
                assert lease.credential.api_key.get_secret_value() == key  # type: ignore[union-attr]
                if client.renewals >= 1 and not rotated:
                    made.project()  # the kubelet rotates the projected token meanwhile
                    rotated = True
                return client.logins >= 2 and client.renewals >= 1

            await eventually(read_and_check, within=30.0, every=0.2)
    finally:
        vault_root.sys.disable_auth_method(path=made.mount)
