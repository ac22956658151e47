"""The doctor's checks of one integration: its connector, its grant, its secret and the vendor's verdict.

The secret check shows the credential's type and field names, never a value,
and drops it at once; the verify check is a real, read-only, audited call.
"""

from __future__ import annotations

import shlex
import time

from pydantic import ValidationError

from sdk._cli._base import error_name
from sdk._cli._check import Check, Status
from sdk._config import IntegrationConfig
from sdk._connector import Connector
from sdk._errors import (
    ConfigurationError,
    CredentialNotFoundError,
    DeadlineExceededError,
    MalformedCredentialError,
    NexoraError,
    VaultPermissionError,
    VendorAuthError,
    VendorConnectionError,
    VendorTimeoutError,
)
from sdk._registry import ConnectorRegistry
from sdk._runtime import NexoraConnect
from sdk._validation import validation_problems
from vault._paths import credential_path

__all__ = ["connector_check", "grant_check", "secret_and_verify"]


def connector_check(
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
        problems = validation_problems(exc, prefix="settings")
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


def grant_check(tenant: str, integration: str, config: IntegrationConfig, cls: type[Connector]) -> Check:
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


async def secret_and_verify(
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
