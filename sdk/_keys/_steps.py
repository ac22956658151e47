"""The steps every key operation is made of: check the target, write, restore, verify, audit.

:class:`~sdk.admin.TenantKeys` strings these together into put, rotate, rollback and
verify; each step records itself in the operation's :class:`KeyRun`, so the
report says what was done even when a later step fails. Every Vault write
leaves an audit record (S7), and errors kept in a report lose their traceback
(S3).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Awaitable
from typing import Any

from sdk._audit import AuditDecision, AuditRecord
from sdk._connector import Connector
from sdk._dispatch import IntegrationBinding
from sdk._errors import (
    ConfigurationError,
    CredentialNotFoundError,
    InvalidArgumentsError,
    NexoraError,
    UnknownIntegrationError,
    VaultConflictError,
    error_kind,
)
from sdk._ids import validate_id
from sdk._keys._reports import KeyAction, KeyOutcome, KeyReport, KeyStep
from sdk._runtime import NexoraConnect
from vault._client import SecretVersionInfo
from vault._credentials import Credential
from vault._store import CredentialStore

__all__ = [
    "WRITE_SCOPE",
    "KeyRun",
    "KeySteps",
    "KeyTarget",
    "check_version",
    "detached",
    "failed_step",
    "integration_binding",
    "version_state",
]

WRITE_SCOPE = "credentials:write"
"""The scope named in the audit records of key writes (they are not connector operations)."""


@dataclasses.dataclass(frozen=True, slots=True)
class KeyTarget:
    """The integration a key operation works on, checked before anything reaches Vault."""

    tenant: str
    integration: str
    connector: type[Connector]
    region: str


def integration_binding(runtime: NexoraConnect, tenant: str, integration: str) -> IntegrationBinding:
    """The runtime's own binding of ``integration`` (unknown tenants and integrations are refused)."""
    bindings = runtime.integrations(tenant)
    found = bindings.get(integration)
    if found is None:
        known = ", ".join(sorted(bindings)) or "none"
        raise UnknownIntegrationError(
            f"tenant {tenant!r} has no integration {integration!r} (configured: {known})"
        )
    return found


class KeySteps:
    """The steps of key operations on one runtime's tenants, written through ``store``."""

    def __init__(self, runtime: NexoraConnect, store: CredentialStore, *, verify_budget: float) -> None:
        self._runtime = runtime
        self._store = store
        self._verify_budget = verify_budget

    def target(
        self,
        tenant: str,
        integration: str,
        credential: Credential | None = None,
        *,
        needs_verify: bool = False,
    ) -> KeyTarget:
        """Check ids, configuration, connector and credential type before anything reaches Vault."""
        tenant = validate_id(tenant, kind="tenant id")
        integration = validate_id(integration, kind="integration id")
        binding = integration_binding(self._runtime, tenant, integration)
        connector = type(binding.connector)
        if needs_verify and connector.verify is Connector.verify:
            raise ConfigurationError(
                f"connector {connector.name!r} of integration {integration!r} cannot verify a key (it does "
                "not implement verify()), so keys cannot be rotated or rolled back safely; use put instead"
            )
        if credential is not None and not isinstance(credential, connector.credential_types):
            accepted = ", ".join(sorted(t.model_fields["type"].default for t in connector.credential_types))
            raise InvalidArgumentsError(
                f"integration {integration!r} of tenant {tenant!r} uses connector {connector.name!r}, which "
                f"accepts credentials of type {accepted}; got type {credential.type!r}"
            )
        return KeyTarget(tenant, integration, connector, binding.region)

    async def versions(self, target: KeyTarget, *, missing_hint: str) -> list[SecretVersionInfo]:
        infos: list[SecretVersionInfo] = []
        with contextlib.suppress(CredentialNotFoundError):  # replaced by a message that says what to do
            infos = await self._store.versions(target.tenant, target.integration)
        if not infos:
            raise CredentialNotFoundError(
                f"no credential is stored for tenant {target.tenant!r}, integration {target.integration!r}; "
                f"{missing_hint}"
            )
        return infos

    async def current_or_zero(self, target: KeyTarget) -> int:
        try:
            infos = await self._store.versions(target.tenant, target.integration)
        except CredentialNotFoundError:
            return 0
        return max((info.version for info in infos), default=0)

    async def write(self, run: KeyRun, credential: Credential, *, cas: int) -> int:
        tenant, integration = run.target.tenant, run.target.integration
        version = await self._audited(run, self._store.put(tenant, integration, credential, cas=cas))
        run.steps.append(KeyStep(KeyAction.WRITE, ok=True, version=version, cas=cas))
        return version

    async def restore(self, run: KeyRun, action: KeyAction, source: int, *, cas: int) -> int:
        tenant, integration = run.target.tenant, run.target.integration
        try:
            version = await self._audited(run, self._store.restore(tenant, integration, source, cas=cas))
        except NexoraError as exc:
            run.steps.append(failed_step(action, exc, source_version=source, cas=cas))
            raise
        run.steps.append(KeyStep(action, ok=True, version=version, cas=cas, source_version=source))
        return version

    async def _audited(self, run: KeyRun, write: Awaitable[int]) -> int:
        """Run a Vault write and leave an audit record of it, as every operation does (S7)."""
        started = time.monotonic()
        outcome, version = "ok", None
        try:
            version = await write
            return version
        except NexoraError as exc:
            outcome = error_kind(exc)
            raise
        finally:
            self._runtime.audit_sink.emit(
                AuditRecord(
                    tenant=run.target.tenant,
                    integration=run.target.integration,
                    connector=run.target.connector.name,
                    operation=f"keys.{run.operation}",
                    scope=WRITE_SCOPE,
                    decision=AuditDecision.ALLOWED,
                    outcome=outcome,
                    latency_ms=round((time.monotonic() - started) * 1000, 3),
                    credential_version=version,
                    region=run.target.region,
                )
            )

    async def verify(self, run: KeyRun, version: int) -> NexoraError | None:
        """Verify the current key (expected to be ``version``); return what failed it, if anything."""
        tenant, integration = run.target.tenant, run.target.integration
        # A copy reused under max_staleness may predate the write just made.
        self._runtime.credentials.invalidate(tenant, integration)
        try:
            await self._runtime.verify(tenant, integration, budget=self._verify_budget)
        except NexoraError as exc:
            run.steps.append(failed_step(KeyAction.VERIFY, exc, version=version))
            return detached(exc)
        run.steps.append(KeyStep(KeyAction.VERIFY, ok=True, version=version))
        return None

    async def intervened(self, run: KeyRun, written: int) -> int | None:
        """Return the version someone else wrote after ``written``, if any: the verify may have used it."""
        try:
            infos = await self._store.versions(run.target.tenant, run.target.integration)
        except NexoraError:
            return None  # the key was verified; this check is a courtesy that Vault could not answer
        latest = max((info.version for info in infos), default=written)
        if latest == written:
            return None
        run.steps.append(
            KeyStep(
                KeyAction.CHECK,
                ok=False,
                version=latest,
                error=VaultConflictError.__name__,
                message=f"v{latest} was written by someone else after v{written}, so the verification may "
                "have tested their key rather than this one",
            )
        )
        return latest


@dataclasses.dataclass(slots=True)
class KeyRun:
    """The steps of one operation so far, and how to end it with a report."""

    operation: str
    target: KeyTarget
    steps: list[KeyStep] = dataclasses.field(default_factory=list)

    def end(
        self, outcome: KeyOutcome, current: int | None, summary: str, failure: NexoraError | None = None
    ) -> KeyReport:
        return KeyReport(
            operation=self.operation,
            tenant=self.target.tenant,
            integration=self.target.integration,
            outcome=outcome,
            current_version=current,
            steps=tuple(self.steps),
            summary=summary,
            failure=None if failure is None else detached(failure),
        )


def failed_step(action: KeyAction, exc: NexoraError, **fields: Any) -> KeyStep:
    return KeyStep(action, ok=False, error=error_kind(exc), message=str(exc), **fields)


def detached(exc: NexoraError) -> NexoraError:
    """Drop the traceback and chain of an error kept in a report.

    Their frames hold the request that carried the key (an Authorization
    header); a report is kept and printed long after, and error reporters that
    capture frame locals would ship those (S3). The message is all it needs.
    """
    exc.__traceback__ = None
    exc.__cause__ = None
    exc.__context__ = None
    exc.__suppress_context__ = True
    return exc


def version_state(info: SecretVersionInfo) -> str:
    return "destroyed" if info.destroyed else "deleted" if info.deletion_time is not None else "readable"


def check_version(value: object, *, allow_zero: bool = False) -> int:
    lowest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise InvalidArgumentsError(
            f"a version must be an integer of at least {lowest} (a KV v2 version number, see 'keys versions')"
        )
    return value
