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

from sdk._audit import MemoryAuditSink
from sdk._cli import _run
from sdk._cli._base import one_line
from sdk._cli._check import Check, Status
from sdk._cli._checks_audit import audit_check
from sdk._cli._checks_integration import connector_check, grant_check, secret_and_verify
from sdk._cli._checks_vault import auth_check, plain_http_check, residency_check, vault_health
from sdk._cli._run import Interrupts
from sdk._config import IntegrationConfig, load_config
from sdk._connector import Connector
from sdk._errors import ConfigurationError
from sdk._ids import validate_id
from sdk._registry import ConnectorRegistry, default_registry
from sdk._runtime import NexoraConnect

__all__ = ["Check", "Status", "diagnose"]


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
    residency = residency_check(tenant, tenant_config.region, tenant_config.cross_region, settings)
    checks.append(residency)
    vault = await vault_health(settings, tenant)
    checks.append(vault)
    plain = plain_http_check(settings, tenant, tenant_config.vault is not None)
    if plain is not None:
        checks.append(plain)

    options = _run.runtime_options()  # looked up at call time: tests replace it
    registry: ConnectorRegistry = options.get("registry") or default_registry()
    per_integration: dict[str, list[Check]] = {}
    bindable: dict[str, IntegrationConfig] = {}
    classes: dict[str, type[Connector]] = {}
    for integration, integration_config in integrations.items():
        found = connector_check(tenant, integration, integration_config, registry)
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
            per_integration[integration].append(
                grant_check(tenant, integration, integration_config, found[1])
            )

    # The runtime is built for this tenant alone, with the integrations that can be bound: other
    # tenants' problems and this tenant's missing connectors must not stop the remaining checks.
    reduced = config.model_copy(
        update={"tenants": {tenant: tenant_config.model_copy(update={"integrations": bindable})}}
    )
    audit = await audit_check(reduced, tenant, tenant_config.region, registry)
    checks.append(audit)
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
        if audit.status is Status.FAIL:
            kwargs.setdefault("audit_sink", MemoryAuditSink())  # the trail cannot be opened; see above
        async with NexoraConnect(reduced, **kwargs) as runtime:
            if interrupts is not None:
                interrupts.watch(runtime)
            auth = await auth_check(runtime, tenant, list(classes), settings)
            checks.append(auth)
            jobs = [
                secret_and_verify(
                    runtime, config_path, tenant, integration, classes[integration], auth, budget
                )
                for integration in classes
            ]
            for integration, found_checks in zip(classes, await asyncio.gather(*jobs), strict=True):
                per_integration[integration] += found_checks
    for found_checks in per_integration.values():
        checks += found_checks
    return checks


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
