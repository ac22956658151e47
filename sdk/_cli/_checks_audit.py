"""The doctor's check of the audit trail: opened exactly as the runtime opens it, from the configuration.

The trail is not rebuilt here: a :class:`~sdk.NexoraConnect` is built for the
configuration and its own ``audit_sink`` is examined, so the doctor sees the
residency refusals and location errors a voice agent would meet. That runtime
reads no credential (it is given a source that is never asked) and is closed
at once; the runtime that runs the remaining checks opens its own trail.
"""

from __future__ import annotations

import os

from sdk._audit import JsonLinesAuditSink
from sdk._cli._base import one_line
from sdk._cli._check import Check, Status
from sdk._config import NexoraConfig
from sdk._errors import ConfigurationError, CredentialNotFoundError, ResidencyError
from sdk._registry import ConnectorRegistry
from sdk._runtime import NexoraConnect
from vault._credentials import CredentialLease

__all__ = ["audit_check"]

_NOT_WRITTEN = " (doctor's own verify calls below are not written to the trail)"


class _NoCredentials:
    """The credential source of a runtime built only to open the audit trail: nothing asks it.

    Giving the runtime a source of its own keeps it from registering the
    tenant's Vault, whose problems the vault and residency checks report.
    """

    async def get(self, tenant: str, integration: str, *, fresh: bool = False) -> CredentialLease:
        raise CredentialNotFoundError("the doctor's audit check reads no credential")

    def invalidate(self, tenant: str, integration: str) -> None:
        return None


async def audit_check(config: NexoraConfig, tenant: str, region: str, registry: ConnectorRegistry) -> Check:
    """Check where ``tenant``'s audit records go, with the trail the runtime opens for ``config``."""
    audit = config.audit
    fix = "set audit.sink = 'jsonl' with audit.path or audit.locations"
    if audit.sink == "none":
        return Check("audit", Status.WARN, "audit.sink = 'none': operations leave no audit record", fix)
    if audit.sink == "memory":
        return Check(
            "audit", Status.WARN, "audit.sink = 'memory': records are lost when the process ends", fix
        )
    try:
        runtime = NexoraConnect(config, credential_store=_NoCredentials(), registry=registry)
    except ResidencyError as exc:
        return Check(
            "audit",
            Status.FAIL,
            str(exc) + _NOT_WRITTEN,
            f"add audit.locations.{region}, or set cross_region = true for the tenant",
        )
    except ConfigurationError as exc:
        return Check("audit", Status.FAIL, one_line(str(exc)) + _NOT_WRITTEN, "correct the [audit] section")
    except OSError as exc:
        return Check(
            "audit",
            Status.FAIL,
            f"cannot create the audit location {exc.filename}: {exc.strerror}" + _NOT_WRITTEN,
            "create it, writable by the user the agent runs as",
        )
    try:
        return _location_check(runtime, region, audit.retention_days)
    finally:
        await runtime.aclose()


def _location_check(runtime: NexoraConnect, region: str, retention_days: int) -> Check:
    sink = runtime.audit_sink
    if not isinstance(sink, JsonLinesAuditSink):  # pragma: no cover - audit.sink = 'jsonl' builds one
        return Check("audit", Status.OK, f"records go to a {type(sink).__name__}")
    location = sink.locations.get(region) or sink.locations[sink.default_region]
    if not os.access(location, os.W_OK | os.X_OK):
        return Check(
            "audit",
            Status.FAIL,
            f"the audit location {location} is not writable by this user, so records would be dropped",
            "make it writable by the user the agent runs as",
        )
    return Check(
        "audit", Status.OK, f"records of region {region!r} go to {location} (kept {retention_days} days)"
    )
