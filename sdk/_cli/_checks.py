"""The doctor's checks: each one a function returning one :class:`Check`, in the order a call needs them.

The checks follow the path a call takes: the configuration, the tenant, data
residency, the tenant's Vault (reachable, unsealed), the audit trail, logging
in to Vault, and then for each integration its connector, its grant, its
secret (present and well-formed; its type and field names are shown, never a
value) and the vendor's verdict on it (``verify()``). A check that cannot run
because an earlier one failed is reported as skipped, with the reason, so the
operator sees what was *not* checked.

Doctor keeps going past failures: a connector that is not installed does not
stop the other integrations from being checked (the runtime it builds holds
only the tenant under examination and the integrations that can be bound).
Its ``verify()`` calls are real, read-only, audited operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import socket
import ssl
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import requests.exceptions
from pydantic import ValidationError

from sdk._audit import AuditSink, JsonLinesAuditSink, MemoryAuditSink, NullAuditSink
from sdk._cli import _run
from sdk._cli._base import (
    error_name,
    one_line,
)
from sdk._cli._run import Interrupts
from sdk._config import IntegrationConfig, NexoraConfig, load_config
from sdk._connector import Connector
from sdk._errors import (
    ConfigurationError,
    CredentialNotFoundError,
    DeadlineExceededError,
    MalformedCredentialError,
    NexoraError,
    ResidencyError,
    VaultAuthError,
    VaultPermissionError,
    VendorAuthError,
    VendorConnectionError,
    VendorTimeoutError,
)
from sdk._ids import validate_id
from sdk._registry import ConnectorRegistry, default_registry
from sdk._runtime import NexoraConnect
from vault._kv_reader import load_ssl_context
from vault._paths import credential_path
from vault._settings import JwtAuth, TokenAuth, VaultSettings, is_loopback_host
from vault._store import CredentialStore

__all__ = ["Check", "Status", "diagnose"]


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report; ``fix`` says what to do when it is not ok."""

    name: str
    status: Status
    detail: str
    fix: str | None = None
    integration: str | None = None

    @property
    def label(self) -> str:
        return f"{self.integration}/{self.name}" if self.integration else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "integration": self.integration,
            "status": str(self.status),
            "detail": self.detail,
            "fix": self.fix,
        }


async def diagnose(
    config_path: str, tenant: str, *, budget: float, interrupts: Interrupts | None = None
) -> list[Check]:
    """Run every check for ``tenant`` and return them in report order."""
    checks: list[Check] = []
    try:
        config = load_config(config_path)
    except ConfigurationError as exc:
        checks.append(
            Check("config", Status.FAIL, one_line(str(exc)), "correct the file: each problem names its key")
        )
        return checks
    checks.append(
        Check("config", Status.OK, f"{config_path} is valid ({_count(len(config.tenants), 'tenant')})")
    )
    try:
        validate_id(tenant, kind="tenant id")
    except ConfigurationError as exc:
        checks.append(
            Check("tenant", Status.FAIL, str(exc), "give the tenant id as the configuration spells it")
        )
        return checks
    tenant_config = config.tenants.get(tenant)
    if tenant_config is None:
        known = ", ".join(sorted(config.tenants)) or "none"
        checks.append(
            Check(
                "tenant",
                Status.FAIL,
                f"tenant {tenant!r} is not in {config_path} (configured: {known})",
                f"check the spelling, or add a [tenants.{tenant}] section",
            )
        )
        return checks
    integrations = tenant_config.integrations
    names = ", ".join(integrations) or "none"
    if integrations:
        checks.append(
            Check(
                "tenant",
                Status.OK,
                f"{tenant}: region {tenant_config.region}, "
                f"{_count(len(integrations), 'integration')} ({names})",
            )
        )
    else:
        checks.append(
            Check(
                "tenant",
                Status.WARN,
                f"{tenant}: region {tenant_config.region}, no integrations, so calls have nothing to ask",
                f"add [tenants.{tenant}.integrations.<id>] with a connector "
                "(see 'nexora-connect connectors list')",
            )
        )
    settings = config.vault_for(tenant)
    residency = _residency(tenant, tenant_config.region, tenant_config.cross_region, settings)
    checks.append(residency)
    vault = await _vault_health(settings, tenant)
    checks.append(vault)
    plain = _plain_http_opt_in(settings, tenant, tenant_config.vault is not None)
    if plain is not None:
        checks.append(plain)

    options = _run.runtime_options()  # looked up at call time: tests replace it
    registry: ConnectorRegistry = options.get("registry") or default_registry()
    per_integration: dict[str, list[Check]] = {}
    bindable: dict[str, IntegrationConfig] = {}
    classes: dict[str, type[Connector]] = {}
    for integration, integration_config in integrations.items():
        found = _connector(tenant, integration, integration_config, registry)
        per_integration[integration] = [found[0]]
        if getattr(integration_config, "allow_plain_http", False) is True:
            per_integration[integration].append(
                Check(
                    "transport",
                    Status.WARN,
                    "allow_plain_http = true: requests to this vendor may go over plain HTTP, where "
                    "the key and the caller's data can be read and changed on the way",
                    f"use an https:// base_url and remove allow_plain_http from "
                    f"[tenants.{tenant}.integrations.{integration}]",
                    integration,
                )
            )
        if found[1] is not None:
            classes[integration] = found[1]
            bindable[integration] = integration_config
            per_integration[integration].append(_grant(tenant, integration, integration_config, found[1]))

    # The runtime is built for this tenant alone, with the integrations that can be bound: other
    # tenants' problems and this tenant's missing connectors must not stop the remaining checks.
    reduced = config.model_copy(
        update={"tenants": {tenant: tenant_config.model_copy(update={"integrations": bindable})}}
    )
    audit, sink = _audit(reduced, tenant, tenant_config.region)
    checks.append(audit)
    if "audit_sink" in options and hasattr(sink, "close"):
        sink.close()  # the caller's sink (a test's) is used instead
    blocked = None
    if residency.status is Status.FAIL:
        blocked = "the tenant's Vault is outside its region, so the SDK refuses to use it"
    elif vault.status is Status.FAIL:
        blocked = "Vault is not reachable or not unsealed"
    if blocked is not None:
        checks.append(Check("auth", Status.SKIP, f"skipped: {blocked}"))
        for integration in classes:
            for name in ("secret", "verify"):
                per_integration[integration].append(
                    Check(name, Status.SKIP, f"skipped: {blocked}", integration=integration)
                )
    else:
        kwargs = {**options}
        kwargs.setdefault("audit_sink", sink)
        async with NexoraConnect(reduced, **kwargs) as runtime:
            if interrupts is not None:
                interrupts.watch(runtime)
            auth = await _auth(runtime, tenant, list(classes), settings)
            checks.append(auth)
            jobs = [
                _secret_and_verify(
                    runtime, config_path, tenant, integration, classes[integration], auth, budget
                )
                for integration in classes
            ]
            for integration, found_checks in zip(classes, await asyncio.gather(*jobs), strict=True):
                per_integration[integration] += found_checks
    if blocked is not None and "audit_sink" not in options and hasattr(sink, "close"):
        sink.close()  # no runtime was built to own and close it
    for found_checks in per_integration.values():
        checks += found_checks
    return checks


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _residency(tenant: str, region: str, cross_region: bool, settings: VaultSettings) -> Check:
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


def _plain_http_opt_in(settings: VaultSettings, tenant: str, own: bool) -> Check | None:
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


async def _vault_health(settings: VaultSettings, tenant: str) -> Check:
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


def _audit(config: NexoraConfig, tenant: str, region: str) -> tuple[Check, AuditSink]:
    """Check (and open, as the runtime would) where the tenant's audit records go."""
    audit = config.audit
    fix = "set audit.sink = 'jsonl' with audit.path or audit.locations"
    if audit.sink == "none":
        return (
            Check("audit", Status.WARN, "audit.sink = 'none': operations leave no audit record", fix),
            NullAuditSink(),
        )
    if audit.sink == "memory":
        return (
            Check("audit", Status.WARN, "audit.sink = 'memory': records are lost when the process ends", fix),
            MemoryAuditSink(),
        )
    sink: JsonLinesAuditSink | None = None
    problem: Check | None = None
    try:
        sink = JsonLinesAuditSink(
            audit.path,
            locations={str(r): place for r, place in audit.locations.items()} or None,
            default_region=audit.default_region,
            retention_days=audit.retention_days,
            cross_region={t for t, tc in config.tenants.items() if tc.cross_region},
        )
        sink.check_residency(tenant, region)
    except ResidencyError as exc:
        problem = Check(
            "audit",
            Status.FAIL,
            str(exc),
            f"add audit.locations.{region}, or set cross_region = true for the tenant",
        )
    except ConfigurationError as exc:
        problem = Check("audit", Status.FAIL, one_line(str(exc)), "correct the [audit] section")
    except OSError as exc:
        problem = Check(
            "audit",
            Status.FAIL,
            f"cannot create the audit location {exc.filename}: {exc.strerror}",
            "create it, writable by the user the agent runs as",
        )
    if problem is not None or sink is None:
        if sink is not None:
            sink.close()
        note = " (doctor's own verify calls below are not written to the trail)"
        assert problem is not None
        return Check(problem.name, problem.status, problem.detail + note, problem.fix), MemoryAuditSink()
    location = sink.locations.get(region) or sink.locations[sink.default_region]
    if not os.access(location, os.W_OK | os.X_OK):
        sink.close()
        return (
            Check(
                "audit",
                Status.FAIL,
                f"the audit location {location} is not writable by this user, so records would be dropped",
                "make it writable by the user the agent runs as",
            ),
            MemoryAuditSink(),
        )
    return (
        Check(
            "audit",
            Status.OK,
            f"records of region {region!r} go to {location} (kept {audit.retention_days} days)",
        ),
        sink,
    )


def _connector(
    tenant: str, integration: str, config: IntegrationConfig, registry: ConnectorRegistry
) -> tuple[Check, type[Connector] | None]:
    try:
        cls = registry.load(config.connector)
    except NexoraError as exc:
        return (
            Check(
                "connector",
                Status.FAIL,
                str(exc),
                f"install the package that provides connector {config.connector!r}, or correct "
                f"tenants.{tenant}.integrations.{integration}.connector",
                integration,
            ),
            None,
        )
    problems: list[str] | None = None
    try:
        cls.Settings.model_validate(config.settings)
    except ValidationError as exc:
        problems = [
            f"settings.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        ]
    if problems:
        return (
            Check(
                "connector",
                Status.FAIL,
                f"{cls.name} is installed but the integration's settings are invalid: " + "; ".join(problems),
                f"correct [tenants.{tenant}.integrations.{integration}.settings]",
                integration,
            ),
            None,
        )
    return Check(
        "connector", Status.OK, f"{cls.name} ({cls.category}) is installed", integration=integration
    ), cls


def _grant(tenant: str, integration: str, config: IntegrationConfig, cls: type[Connector]) -> Check:
    declared = {
        str(spec.scope): name for name, spec in sorted(cls.implemented_operations().items()) if spec.is_write
    }
    grant = config.to_grant()
    granted = sorted(str(scope) for scope in grant.write_scopes)
    unknown = [scope for scope in granted if scope not in declared]
    key = f"tenants.{tenant}.integrations.{integration}.write_scopes"
    if unknown:
        return Check(
            "grant",
            Status.WARN,
            f"grants {', '.join(unknown)}, which {cls.name} does not declare (no operation uses it)",
            f"remove {'it' if len(unknown) == 1 else 'them'} from {key} "
            "(see 'nexora-connect connectors list')",
            integration,
        )
    if grant.mode == "scoped-write" and not granted:
        return Check(
            "grant",
            Status.WARN,
            "scoped-write without write_scopes allows no write at all",
            f"list the writes to allow in {key}, or use grant = 'read-only'",
            integration,
        )
    if grant.mode == "read-only":
        offered = f"; {cls.name} also offers {', '.join(declared)}, not granted" if declared else ""
        return Check("grant", Status.OK, f"read-only: reads only{offered}", integration=integration)
    writes = ", ".join(f"{scope} ({declared[scope]})" for scope in granted)
    return Check("grant", Status.OK, f"scoped-write: reads, and {writes}", integration=integration)


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


async def _auth(
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


async def _secret_and_verify(
    runtime: NexoraConnect,
    config_path: str,
    tenant: str,
    integration: str,
    cls: type[Connector],
    auth: Check,
    budget: float,
) -> list[Check]:
    command = f"--config {shlex.quote(config_path)} --tenant {tenant} --integration {integration}"
    if auth.status is not Status.OK:
        reason = "skipped: logging in to Vault failed" if auth.status is Status.FAIL else auth.detail
        return [
            Check("secret", Status.SKIP, reason, integration=integration),
            Check("verify", Status.SKIP, reason, integration=integration),
        ]
    secret = await _secret(runtime, tenant, integration, cls, command)
    if secret.status is not Status.OK:
        return [secret, Check("verify", Status.SKIP, "skipped: no usable secret", integration=integration)]
    return [secret, await _verify(runtime, tenant, integration, cls, command, budget)]


async def _secret(
    runtime: NexoraConnect, tenant: str, integration: str, cls: type[Connector], command: str
) -> Check:
    settings = runtime.config.vault_for(tenant)
    path = f"{settings.mount}/data/{credential_path(settings, tenant, integration)}"
    if settings.namespace:
        path = f"{settings.namespace}/{path}"
    put = f"nexora-connect keys put {command}"
    try:
        lease = await runtime.credentials.get(tenant, integration, fresh=True)
    except CredentialNotFoundError:
        return Check(
            "secret", Status.FAIL, f"no credential is stored at {path}", f"store one: {put}", integration
        )
    except MalformedCredentialError as exc:
        return Check("secret", Status.FAIL, str(exc), f"write a corrected one: {put}", integration)
    except VaultPermissionError as exc:
        return Check(
            "secret",
            Status.FAIL,
            str(exc),
            "give the tenant's Vault token the policy of vault.tenant_policy_hcl(tenant, settings)",
            integration,
        )
    except NexoraError as exc:
        return Check(
            "secret",
            Status.FAIL,
            f"{error_name(exc)}: {exc}",
            "see the vault and auth checks",
            integration,
        )
    credential = lease.credential
    fields = sorted(
        name for name in type(credential).model_fields if name != "type" and getattr(credential, name)
    )
    kind, version = credential.type, lease.version
    del lease, credential  # nothing of the secret outlives the check
    accepted = [str(model.model_fields["type"].default) for model in cls.credential_types]
    if kind not in accepted:
        return Check(
            "secret",
            Status.FAIL,
            f"v{version} at {path} is of type {kind!r}, but {cls.name} accepts {', '.join(accepted)}",
            f"store a {accepted[0]} credential: {put} --type {accepted[0]}",
            integration,
        )
    return Check(
        "secret",
        Status.OK,
        f"v{version} at {path}: type {kind}, fields {', '.join(fields)}",
        integration=integration,
    )


async def _verify(
    runtime: NexoraConnect, tenant: str, integration: str, cls: type[Connector], command: str, budget: float
) -> Check:
    if cls.verify is Connector.verify:
        return Check(
            "verify",
            Status.WARN,
            f"{cls.name} cannot verify a key (it does not implement verify())",
            "try a real lookup instead: nexora-connect context "
            f"{command.rsplit(' --integration', 1)[0]} --phone ...",
            integration,
        )
    rotate = f"rotate to a working key: nexora-connect keys rotate {command}"
    started = time.monotonic()

    def check(detail: str, fix: str) -> Check:
        return Check("verify", Status.FAIL, detail, fix, integration)

    try:
        await runtime.verify(tenant, integration, budget=budget)
    except VendorAuthError as exc:
        return check(f"the vendor rejected the key: {exc}", rotate)
    except (VendorConnectionError, VendorTimeoutError, DeadlineExceededError) as exc:
        return check(
            f"the vendor could not be reached: {error_name(exc)}: {exc}",
            "check network access to the vendor (or the integration's base_url), or raise --timeout",
        )
    except ConfigurationError as exc:
        return check(str(exc), f"correct [tenants.{tenant}.integrations.{integration}]")
    except NexoraError as exc:
        return check(f"{error_name(exc)}: {exc}", f"check the vendor's status; if it is the key, {rotate}")
    elapsed = (time.monotonic() - started) * 1000
    return Check(
        "verify", Status.OK, f"the vendor accepted the key ({elapsed:.0f} ms)", integration=integration
    )
