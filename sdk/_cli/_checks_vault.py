"""The doctor's checks of the tenant's Vault: residency, health, plain-HTTP opt-ins, logging in.

Health is asked of Vault's unauthenticated endpoint, so a Vault that is down,
sealed or behind the wrong TLS settings is told apart from one that refuses
the tenant's login; logging in asks for metadata only, never a value.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import urllib.parse
from collections.abc import Sequence
from typing import Any

import httpx
import requests.exceptions

from sdk._cli._base import error_name
from sdk._cli._check import Check, Status
from sdk._errors import CredentialNotFoundError, NexoraError, VaultAuthError, VaultPermissionError
from sdk._runtime import NexoraConnect
from vault._kv_reader import load_ssl_context
from vault._settings import JwtAuth, TokenAuth, VaultSettings, is_loopback_host
from vault._store import CredentialStore

__all__ = ["auth_check", "plain_http_check", "residency_check", "vault_health"]


def residency_check(tenant: str, region: str, cross_region: bool, settings: VaultSettings) -> Check:
    where = f"its Vault at {settings.address} is in region {settings.region!r}"
    if settings.region == region:
        return Check("residency", Status.OK, f"tenant {tenant} is in region {region!r} and {where}")
    if cross_region:
        return Check(
            "residency",
            Status.OK,
            f"tenant {tenant} is in region {region!r} and {where}: allowed, as cross_region = true",
        )
    return Check(
        "residency",
        Status.FAIL,
        f"tenant {tenant} is in region {region!r} but {where}, so its credentials would leave the region",
        f"use a Vault in region {region!r} ([tenants.{tenant}.vault]), or set cross_region = true for the "
        "tenant if it has agreed to that",
    )


def plain_http_check(settings: VaultSettings, tenant: str, own: bool) -> Check | None:
    """Make the allow_plain_http opt-in visible: a warning whenever it is set."""
    if not settings.allow_plain_http:
        return None
    section = f"[tenants.{tenant}.vault]" if own else "[vault]"
    fix = f"serve Vault over https:// and remove allow_plain_http from {section}"
    host = urllib.parse.urlsplit(settings.address).hostname or ""
    if settings.address.startswith("https://") or is_loopback_host(host):
        detail = (
            f"allow_plain_http = true in {section}: unused with {settings.address}, but a plain http:// "
            "address elsewhere would be accepted"
        )
    else:
        detail = (
            f"allow_plain_http = true in {section}: the Vault token and every key cross the network to "
            f"{settings.address} unencrypted"
        )
    return Check("vault-transport", Status.WARN, detail, fix)


async def vault_health(settings: VaultSettings, tenant: str) -> Check:
    """Ask Vault's unauthenticated health endpoint whether it is up, initialised and unsealed."""
    address = settings.address
    section = f"[tenants.{tenant}.vault] or [vault]"
    query = "standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200"
    try:
        verify = load_ssl_context(settings.tls_verify, settings.tls_client_cert)
    except requests.exceptions.SSLError as exc:
        return Check(
            "vault",
            Status.FAIL,
            f"{exc} for Vault at {address}",
            f"point 'ca_cert' (and 'client_cert'/'client_key') in {section} at readable PEM files",
        )
    failure: str | None = None
    fix = f"check that Vault is running and that the address in {section} is right"
    try:
        async with httpx.AsyncClient(verify=verify, timeout=settings.timeout, trust_env=False) as client:
            response = await client.get(f"{address}/v1/sys/health?{query}")
    except httpx.TimeoutException:
        failure = f"Vault at {address} did not answer within {settings.timeout:g} s"
    except httpx.ConnectError as exc:
        failure = f"cannot connect to Vault at {address} ({_connect_reason(exc)})"
    except httpx.HTTPError as exc:
        failure = f"the request to Vault at {address} failed ({type(exc).__name__})"
    except ssl.SSLError:
        # Refused after the handshake (TLS 1.3 sends a missing client certificate's alert then),
        # which httpx does not wrap.
        failure = f"TLS with Vault at {address} failed"
        fix = (
            f"check 'ca_cert' in {section}, and 'client_cert'/'client_key' if Vault requires "
            "a client certificate"
        )
    if failure is not None:
        return Check("vault", Status.FAIL, failure, fix)
    data: Any = None
    with contextlib.suppress(ValueError):
        data = response.json()
    if not isinstance(data, dict) or not isinstance(data.get("sealed"), bool):
        return Check(
            "vault",
            Status.FAIL,
            f"{address} answered /v1/sys/health with status {response.status_code}, not as Vault does",
            f"check that the address in {section} points at Vault's API",
        )
    version = data.get("version")
    name = f"Vault {version}" if isinstance(version, str) and len(version) < 40 else "Vault"
    if data.get("initialized") is False:
        return Check(
            "vault",
            Status.FAIL,
            f"{name} at {address} is not initialised",
            "initialise and unseal it (bao operator init)",
        )
    if data["sealed"]:
        return Check(
            "vault",
            Status.FAIL,
            f"{name} at {address} is sealed and serves nothing",
            "unseal it (bao operator unseal, or check its auto-unseal)",
        )
    standby = ", a standby node" if data.get("standby") else ""
    return Check("vault", Status.OK, f"{name} at {address} is reachable, initialised and unsealed{standby}")


def _connect_reason(exc: httpx.ConnectError) -> str:
    """Why a connection failed, from the OS error underneath (never the text of a foreign message)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, ssl.SSLError):
            return "TLS failed: check 'ca_cert' (the CA bundle), and 'client_cert' if Vault requires one"
        if isinstance(seen, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    if "refused" in text or "all connection attempts failed" in text:
        return "connection refused or host unreachable"
    return type(exc).__name__


def _auth_method(settings: VaultSettings) -> str:
    auth = settings.auth
    where = f" in namespace {settings.namespace!r}" if settings.namespace else ""
    if isinstance(auth, TokenAuth):
        source = f"{auth.token_file!r}" if auth.token_file else f"${auth.token_env}"
        return f"a token from {source}{where}"
    if isinstance(auth, JwtAuth):
        return (
            f"a JWT login (role {auth.role!r}, JWT from {auth.token_file!r}) "
            f"at auth/{auth.mount_point}{where}"
        )
    return f"an AppRole login at auth/{auth.mount_point}{where}"


async def auth_check(
    runtime: NexoraConnect, tenant: str, integrations: Sequence[str], settings: VaultSettings
) -> Check:
    """Log in by asking for metadata (never a value) of the first integration's secret."""
    store = runtime.credentials
    if not integrations or not isinstance(store, CredentialStore):
        return Check("auth", Status.SKIP, "skipped: no integration whose secret to look up")
    how = _auth_method(settings)
    try:
        await store.versions(tenant, integrations[0])
    except (CredentialNotFoundError, VaultPermissionError):
        pass  # the token was accepted; whether its policy covers each secret is checked per integration
    except VaultAuthError as exc:
        return Check("auth", Status.FAIL, str(exc), f"give the tenant a valid Vault login ({how})")
    except NexoraError as exc:
        return Check("auth", Status.FAIL, f"{error_name(exc)}: {exc}", "see the vault check above")
    return Check("auth", Status.OK, f"logged in to Vault at {settings.address} with {how}")
