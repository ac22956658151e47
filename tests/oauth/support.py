"""A strict OAuth vendor for tests, a writable in-memory credential source, and Vault helpers.

:class:`TokenVendor` behaves like the vendors this code must survive: every refresh
rotates the refresh token (single use), and presenting a refresh token that was
already spent revokes the whole token family, every access token included (the
"refresh token reuse detection" of the OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
It can answer in-process (an httpx transport) or over loopback HTTP (for tests
that run several processes).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
from pydantic import SecretStr

from sdk import VaultConflictError
from sdk.testing import make_canary
from vault import Credential, CredentialLease, OAuth2RefreshCredential, VaultSettings, tenant_policy_hcl

TOKEN_PATH = "/oauth/token"
RESOURCE_PATH = "/api/me"


def new_id(prefix: str = "t") -> str:
    return f"{prefix}{secrets.token_hex(5)}"


@dataclasses.dataclass
class _Family:
    current: str | None
    revoked: bool = False
    access: set[str] = dataclasses.field(default_factory=set)


class TokenVendor:
    """An OAuth 2.0 authorisation server with single-use refresh tokens and family revocation.

    ``rotate=False`` makes it keep refresh tokens (it then omits ``refresh_token``
    from answers, as RFC 6749 §6 allows). ``delay`` is how long each token request
    takes, to keep a refresh in flight while others pile up. All counters are
    safe to read from another thread once requests have stopped.
    """

    def __init__(
        self,
        *,
        client_id: str = "nexora-test-client",
        client_secret: str | None = None,
        rotate: bool = True,
        expires_in: int | None = 1800,
        delay: float = 0.0,
        error_body: dict[str, Any] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or make_canary("client-secret")
        self.rotate = rotate
        self.expires_in = expires_in
        self.delay = delay
        self.error_body = error_body or {"error": "invalid_grant"}
        self._lock = threading.Lock()
        self._families: dict[str, _Family] = {}  # refresh token (current or spent) -> family
        self._access: dict[str, _Family | None] = {}
        self.requests = 0
        self.refreshes = 0
        self.client_grants = 0
        self.reuses = 0
        """Spent refresh tokens presented again: each revoked a family. Must stay 0."""
        self.rejected = 0
        self.spent: list[str] = []
        self.issued_access: list[str] = []
        self.issued_refresh: list[str] = []
        self.forms: list[dict[str, str]] = []

    # --- state -----------------------------------------------------------------------------

    def new_family(self) -> str:
        """Return the refresh token of a fresh grant, as the tenant's consent would produce."""
        token = make_canary("refresh")
        with self._lock:
            self._families[token] = _Family(current=token)
            self.issued_refresh.append(token)
        return token

    def current(self, refresh_token: str) -> str | None:
        """The refresh token currently valid in ``refresh_token``'s family (None if revoked)."""
        with self._lock:
            family = self._families[refresh_token]
            return None if family.revoked else family.current

    def revoked(self, refresh_token: str) -> bool:
        with self._lock:
            return self._families[refresh_token].revoked

    def revoke_access(self, access_token: str) -> None:
        """Make one access token invalid (as if it expired early at the vendor)."""
        with self._lock:
            self._access.pop(access_token, None)

    # --- the endpoints ---------------------------------------------------------------------

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            self.forms.append(dict(form))
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if authorization and authorization.startswith("Basic "):
                raw = base64.b64decode(authorization[6:]).decode()
                client_id, _, client_secret = raw.partition(":")
            if client_id != self.client_id or client_secret != self.client_secret:
                return 401, {"error": "invalid_client"}
            grant = form.get("grant_type")
            if grant == "client_credentials":
                self.client_grants += 1
                return 200, self._answer(None, None)
            if grant != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}
            presented = form.get("refresh_token", "")
            family = self._families.get(presented)
            if family is None or family.revoked:
                self.rejected += 1
                return 400, dict(self.error_body)
            if presented != family.current:
                # Reuse of a spent refresh token: somebody has a copy. Revoke everything.
                self.reuses += 1
                self.rejected += 1
                family.revoked = True
                for access in family.access:
                    self._access.pop(access, None)
                return 400, dict(self.error_body)
            self.refreshes += 1
            rotated = None
            if self.rotate:
                rotated = make_canary("refresh")
                self.spent.append(presented)
                self.issued_refresh.append(rotated)
                family.current = rotated
                self._families[rotated] = family
            return 200, self._answer(family, rotated)

    def _answer(self, family: _Family | None, rotated: str | None) -> dict[str, Any]:
        access = make_canary("access")
        self.issued_access.append(access)
        self._access[access] = family
        if family is not None:
            family.access.add(access)
        body: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if rotated is not None:
            body["refresh_token"] = rotated
        return body

    def resource(self, authorization: str | None) -> int:
        with self._lock:
            if not authorization or not authorization.startswith("Bearer "):
                return 401
            token = authorization[7:]
            if token not in self._access:
                return 401
            family = self._access[token]
            return 401 if family is not None and family.revoked else 200

    # --- wiring ----------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that serves the vendor in this process."""

        async def handle(request: httpx.Request) -> httpx.Response:
            if self.delay:
                await asyncio.sleep(self.delay)
            return self.respond(request.method, request.url.path, request.headers, request.content)

        return httpx.MockTransport(handle)

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> httpx.Response:
        authorization = headers.get("authorization")
        if method == "POST" and path == TOKEN_PATH:
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            status, answer = self.token(form, authorization)
            return httpx.Response(status, json=answer)
        if method == "GET" and path == RESOURCE_PATH:
            status = self.resource(authorization)
            return httpx.Response(status, json={"ok": status == 200})
        return httpx.Response(404, json={"error": "not_found"})


class VendorServer:
    """Serve a :class:`TokenVendor` on a loopback port from a thread (for multi-process tests)."""

    def __init__(self, vendor: TokenVendor) -> None:
        self.vendor = vendor
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if outer.vendor.delay:
                    time.sleep(outer.vendor.delay)
                answer = outer.vendor.respond(self.command, self.path, self.headers, body)
                content = answer.content
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # request lines would land in the test log; they carry nothing useful here

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="token-vendor", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> VendorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# --- a credential source that can be written, with check-and-set ------------------------------


class MemorySource:
    """Versions of credentials in memory with Vault's check-and-set rules; counts reads and writes."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], list[Credential]] = {}
        self.reads = 0
        self.writes = 0
        self.fail_writes = 0
        """How many of the next writes fail as if Vault were down."""

    def seed(self, tenant: str, integration: str, credential: Credential) -> int:
        stored = self.versions.setdefault((tenant, integration), [])
        stored.append(credential)
        return len(stored)

    def latest(self, tenant: str, integration: str) -> Credential:
        return self.versions[(tenant, integration)][-1]

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        self.reads += 1
        stored = self.versions[(tenant, integration)]
        return CredentialLease(
            credential=stored[-1],
            version=len(stored),
            tenant=tenant,
            integration=integration,
            path=f"memory/{tenant}/{integration}",
        )

    def invalidate(self, tenant: str, integration: str) -> None:
        pass

    async def put(self, tenant: str, integration: str, credential: Credential, *, cas: int | None) -> int:
        from sdk import VaultUnavailableError

        if self.fail_writes:
            self.fail_writes -= 1
            raise VaultUnavailableError("could not connect to Vault (simulated)")
        stored = self.versions.setdefault((tenant, integration), [])
        if cas is not None and cas != len(stored):
            raise VaultConflictError(f"check-and-set lost: current version is {len(stored)}, not {cas}")
        stored.append(credential)
        self.writes += 1
        return len(stored)


def refresh_credential(vendor: TokenVendor, refresh_token: str, **extra: Any) -> OAuth2RefreshCredential:
    return OAuth2RefreshCredential(
        type="oauth2_refresh",
        client_id=vendor.client_id,
        client_secret=SecretStr(vendor.client_secret),
        refresh_token=SecretStr(refresh_token),
        **extra,
    )


# --- Vault ---------------------------------------------------------------------------------------


def writer_token(root: Any, settings: VaultSettings, tenant: str) -> str:
    """A token holding only the tenant's *write* policy: what a refreshing process runs with."""
    name = f"nexora-oauth-{tenant}"
    root.sys.create_or_update_policy(name=name, policy=tenant_policy_hcl(tenant, settings, write=True))
    return str(root.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"])


def all_versions(root: Any, settings: VaultSettings, path: str) -> Iterator[dict[str, Any]]:
    """Every readable version's data at ``path``, read with the root token."""
    meta = root.secrets.kv.v2.read_secret_metadata(path=path, mount_point=settings.mount)
    for number in sorted(int(n) for n in meta["data"]["versions"]):
        answer = root.secrets.kv.v2.read_secret_version(
            path=path, version=number, mount_point=settings.mount, raise_on_deleted_version=True
        )
        yield dict(answer["data"]["data"])


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
