"""A scriptable stand-in for Vault's HTTP API, for the answers a real server will not give on cue.

It runs on the test's event loop (aiohttp.web on 127.0.0.1), so both read paths
can talk to it: the on-loop aiohttp read, and hvac on worker threads. It
records every request (method, path, query, headers, client port) and serves
just enough of the API for a client: KV v2 reads and writes, token self-lookup,
AppRole login, revoke-self, plus ``/elsewhere``, where a redirect points and
which nobody may ever reach.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import ipaddress
import json
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from sdk.testing import make_canary

Answer = Callable[["Seen"], web.StreamResponse | Awaitable[web.StreamResponse]]


@dataclasses.dataclass(frozen=True, slots=True)
class Seen:
    """One request the fake server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    port: int

    @property
    def token(self) -> str | None:
        return self.headers.get("X-Vault-Token")


def vault_json(body: object, status: int = 200) -> web.Response:
    """A JSON answer typed exactly as Vault types it (hvac reads ``errors`` only from those)."""
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def secret_body(data: dict[str, object], version: int = 1) -> dict[str, object]:
    """What Vault answers for a KV v2 read."""
    return {
        "request_id": "r",
        "data": {
            "data": data,
            "metadata": {"version": version, "created_time": "2024-05-01T00:00:00Z", "deletion_time": ""},
        },
    }


class FakeVault:
    """One fake Vault server; set ``read`` to script what KV reads answer."""

    def __init__(self) -> None:
        self.secret = make_canary("fake-vault-secret")
        self.requests: list[Seen] = []
        self.valid_tokens: set[str] = set()
        self.issued_tokens: list[str] = []
        self.token_ttl = 0  # what lookup-self says; 0: never expires
        self.login_ttl = 600
        self.denied = False  # a valid token whose policy does not cover the path
        self.redirect_writes = False
        self.read: Answer = self._default_read
        self.address = ""
        self._runner: web.AppRunner | None = None

    # --- what the server answers ---------------------------------------------------------------

    def _default_read(self, seen: Seen) -> web.StreamResponse:
        if seen.token not in self.valid_tokens or self.denied:
            return vault_json({"errors": ["1 error occurred:\n\t* permission denied\n\n"]}, status=403)
        return vault_json(secret_body({"type": "api_key", "api_key": self.secret}))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen = Seen(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers=dict(request.headers),
            port=int(peer[1]) if peer else 0,
        )
        self.requests.append(seen)
        path = request.path
        if path.startswith("/v1/secret/data/"):
            if request.method == "GET":
                answer = self.read(seen)
                return await answer if inspect.isawaitable(answer) else answer
            if self.redirect_writes:
                return web.Response(status=307, headers={"Location": "/elsewhere" + path})
            return vault_json({"data": {"version": 2}})
        if path == "/v1/auth/token/lookup-self":
            if seen.token not in self.valid_tokens:
                return vault_json({"errors": ["permission denied"]}, status=403)
            return vault_json(
                {"data": {"ttl": self.token_ttl, "creation_ttl": self.token_ttl, "renewable": False}}
            )
        if path.startswith("/v1/auth/approle/login"):
            token = make_canary("fake-vault-token")
            self.valid_tokens.add(token)
            self.issued_tokens.append(token)
            return vault_json(
                {"auth": {"client_token": token, "lease_duration": self.login_ttl, "renewable": True}}
            )
        if path == "/v1/auth/token/revoke-self":
            self.valid_tokens.discard(seen.token or "")
            return web.Response(status=204)
        if path.startswith("/elsewhere"):
            # What a followed redirect would find: a perfectly good answer, which must never be read.
            return vault_json(secret_body({"type": "api_key", "api_key": "followed"}, version=99))
        return vault_json({"errors": []}, status=404)

    # --- what tests look at ----------------------------------------------------------------------

    def reads(self) -> list[Seen]:
        return [
            seen for seen in self.requests if seen.method == "GET" and seen.path.startswith("/v1/secret/")
        ]

    def hits(self, prefix: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path.startswith(prefix)]

    def new_token(self) -> str:
        token = make_canary("fake-vault-token")
        self.valid_tokens.add(token)
        return token

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, tls: ssl.SSLContext | None = None) -> FakeVault:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.address = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """Write a throwaway CA and a server certificate for 127.0.0.1 signed by it; return (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nexora test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths
