"""Tenants' keys, administered: store, rotate, list, roll back and verify an integration's credential.

This is everything behind ``nexora-connect keys``; the command line only parses
arguments, reads the secret with :func:`read_secret_from` and prints what comes
back. Each operation returns a report of the steps it took (``to_dict()`` for
``--json``, ``lines()`` for people) and works on the tenant's own Vault, as the
configuration says, through the runtime's :class:`~vault.CredentialStore`.

**Errors.** An operation that fails *before it has written anything* raises the
SDK's typed error (an unknown tenant, a Vault that denies, is sealed or down, a
check-and-set lost to another writer): there is nothing to report but the error.
Once something has been written, the operation always returns its report,
because the caller must learn the state it left behind; ``report.ok`` is false
when it did not end as asked and ``report.raise_for_outcome()`` raises the error
that decided it.

**Rotation** (KV v2 has no rollback of its own; FACTS.md):

1. write the new credential as version N+1 with check-and-set on N, the current
   version, so that two rotations cannot both win;
2. verify it with the connector's ``verify()``, which reads the newest version
   from Vault at call time;
3. if the vendor (or anything else) fails it, read version N and write it back
   as version N+2 with check-and-set on N+1: the previous key is current again,
   and a version someone else wrote meanwhile is never overwritten.

Live calls never fail meanwhile: a call that sent a key the vendor no longer
accepts gets a 401, reads Vault once more and resends (S4, :mod:`sdk._auth`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import sys
import time
from collections.abc import Awaitable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from pydantic import SecretStr, TypeAdapter, ValidationError

from sdk._audit import AuditDecision, AuditRecord
from sdk._config import NexoraConfig, load_config
from sdk._connector import Connector
from sdk._errors import (
    ConfigurationError,
    CredentialNotFoundError,
    InvalidArgumentsError,
    NexoraError,
    UsageError,
    VaultConflictError,
    error_kind,
)
from sdk._ids import validate_id
from sdk._runtime import NexoraConnect
from vault._client import SecretVersionInfo
from vault._credentials import Credential
from vault._store import CredentialStore

__all__ = [
    "KeyAction",
    "KeyOutcome",
    "KeyReport",
    "KeyStep",
    "KeyVersion",
    "KeyVersions",
    "TenantKeys",
    "build_credential",
    "credential_from_json",
    "read_secret_from",
]

WRITE_SCOPE = "credentials:write"
"""The scope named in the audit records of key writes (they are not connector operations)."""


class KeyAction(StrEnum):
    """What one step of a key operation did."""

    WRITE = "write"
    VERIFY = "verify"
    ROLLBACK = "rollback"
    """Automatic, after a rotation failed verification: the previous version made current again."""
    RESTORE = "restore"
    """Asked for (``rollback --to N``): an earlier version made current again."""
    CHECK = "check"
    """After verifying: whether someone else wrote a version meanwhile."""


class KeyOutcome(StrEnum):
    """How a key operation ended."""

    OK = "ok"
    ROLLED_BACK = "rolled_back"
    """The new key failed verification and the previous one is current again."""
    VERIFY_FAILED = "verify_failed"
    """The current key failed verification and nothing was (or could be) rolled back."""
    CONFLICT = "conflict"
    """Another writer changed the credential after this operation wrote; their version was left alone."""
    ROLLBACK_FAILED = "rollback_failed"
    """The new key failed verification and could not be rolled back: it is still current."""


@dataclasses.dataclass(frozen=True, slots=True)
class KeyStep:
    """One step of a key operation, with the error that failed it (its class name and message).

    SDK error messages are written to say what went wrong and what to do, and
    never to hold a secret (S3), so they are safe to print and to log.
    """

    action: KeyAction
    ok: bool
    version: int | None = None
    """The version written, restored or verified."""
    cas: int | None = None
    """The version a write was conditional on (check-and-set; 0: none existed)."""
    source_version: int | None = None
    """The version whose value a rollback or restore copied."""
    error: str | None = None
    message: str | None = None

    def describe(self) -> str:
        """One line for people."""
        v = f"v{self.version}" if self.version is not None else "the new version"
        on = ""
        if self.cas is not None:
            on = f" (check-and-set on v{self.cas})" if self.cas else " (the first version)"
        why = f": {self.error}: {self.message}" if self.error else ""
        src = f"v{self.source_version}"
        if self.action is KeyAction.WRITE:
            return f"wrote {v}{on}" if self.ok else f"write failed{why}"
        if self.action is KeyAction.VERIFY:
            return f"verified {v} against the vendor: ok" if self.ok else f"verification of {v} failed{why}"
        if self.action is KeyAction.ROLLBACK:
            if self.ok:
                return f"rolled back: the value of {src} is current again as {v}{on}"
            return f"rollback to {src} failed{why}"
        if self.action is KeyAction.RESTORE:
            return f"restored the value of {src} as {v}{on}" if self.ok else f"restore of {src} failed{why}"
        return "no other writer intervened" if self.ok else f"another writer intervened{why}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; absent fields are left out."""
        return {
            field.name: str(value) if isinstance(value, StrEnum) else value
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }


@dataclasses.dataclass(frozen=True, slots=True)
class KeyReport:
    """What a key operation did, step by step, and how it ended."""

    operation: str
    """``put``, ``rotate``, ``rollback`` or ``verify``."""
    tenant: str
    integration: str
    outcome: KeyOutcome
    current_version: int | None
    """The version current when the operation ended, as far as it knows."""
    steps: tuple[KeyStep, ...]
    summary: str
    failure: NexoraError | None = dataclasses.field(default=None, repr=False, compare=False)
    """The error that decided a failed outcome (kept without its traceback)."""

    @property
    def ok(self) -> bool:
        """Whether the operation ended as asked (for a rotation: the new key is current and works)."""
        return self.outcome is KeyOutcome.OK

    def raise_for_outcome(self) -> None:
        """Raise the deciding error if the operation did not end as asked."""
        if self.ok:
            return
        if self.failure is not None:
            # A copy: raising the kept error itself would attach the raiser's traceback to it.
            raise copy.copy(self.failure)
        raise VaultConflictError(self.summary)  # pragma: no cover - every failed outcome records its error

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping for ``--json`` output."""
        return {
            "operation": self.operation,
            "tenant": self.tenant,
            "integration": self.integration,
            "ok": self.ok,
            "outcome": str(self.outcome),
            "current_version": self.current_version,
            "summary": self.summary,
            "steps": [step.to_dict() for step in self.steps],
        }

    def lines(self) -> list[str]:
        """Lines for people: a heading, one line per step, then the result."""
        heading = f"{self.operation} {self.tenant}/{self.integration}"
        return [heading, *(f"  {step.describe()}" for step in self.steps), f"result: {self.summary}"]


@dataclasses.dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of a credential, without its value."""

    version: int
    created_time: datetime
    deletion_time: datetime | None
    destroyed: bool
    current: bool

    @property
    def state(self) -> str:
        """``destroyed``, ``deleted`` or ``readable``."""
        if self.destroyed:
            return "destroyed"
        return "deleted" if self.deletion_time is not None else "readable"

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_time": self.created_time.isoformat(),
            "deletion_time": self.deletion_time.isoformat() if self.deletion_time else None,
            "destroyed": self.destroyed,
            "state": self.state,
            "current": self.current,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class KeyVersions:
    """Every version Vault keeps of one credential: metadata only, never a value."""

    tenant: str
    integration: str
    versions: tuple[KeyVersion, ...]

    @property
    def current_version(self) -> int | None:
        return max((v.version for v in self.versions), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "integration": self.integration,
            "current_version": self.current_version,
            "versions": [version.to_dict() for version in self.versions],
        }

    def lines(self) -> list[str]:
        rows = [("VERSION", "CREATED", "STATE", "")]
        for v in self.versions:
            state = v.state if v.deletion_time is None else f"deleted {v.deletion_time.isoformat()}"
            rows.append((str(v.version), v.created_time.isoformat(), state, "current" if v.current else ""))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        return [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)).rstrip()
            + (f"  {row[3]}" if row[3] else "")
            for row in rows
        ]


@dataclasses.dataclass(frozen=True, slots=True)
class _Target:
    tenant: str
    integration: str
    connector: type[Connector]
    region: str


class TenantKeys:
    """Store, rotate, list, roll back and verify the credentials of tenants' integrations.

    Built from a :class:`~sdk.NexoraConnect`, whose configuration names each
    tenant's Vault and whose connectors verify keys; writes go through the
    runtime's :class:`~vault.CredentialStore` (or ``store``, which must then be
    the one the runtime reads with, or verification may see a reused old copy).
    The Vault token needs the tenant's write policy
    (``vault.tenant_policy_hcl(tenant, settings, write=True)``).
    """

    def __init__(
        self, runtime: NexoraConnect, *, store: CredentialStore | None = None, verify_budget: float = 10.0
    ) -> None:
        if store is None:
            if not isinstance(runtime.credentials, CredentialStore):
                raise UsageError(
                    "TenantKeys needs a vault.CredentialStore to write with; this runtime reads credentials "
                    f"from a {type(runtime.credentials).__name__}: pass store="
                )
            store = runtime.credentials
        self._runtime = runtime
        self._store = store
        self._verify_budget = verify_budget
        self._owns_runtime = False

    @classmethod
    def from_config(cls, config: NexoraConfig | str | Path, **runtime_options: Any) -> TenantKeys:
        """Build the runtime from a configuration (or its file) and own it: ``aclose()`` closes it.

        ``runtime_options`` go to :class:`~sdk.NexoraConnect` (``vault_tokens``,
        ``transport``, ``audit_sink``, ``registry``).
        """
        loaded = config if isinstance(config, NexoraConfig) else load_config(config)
        keys = cls(NexoraConnect(loaded, **runtime_options))
        keys._owns_runtime = True
        return keys

    async def __aenter__(self) -> TenantKeys:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the runtime if this object built it."""
        if self._owns_runtime:
            await self._runtime.aclose()

    # --- operations ------------------------------------------------------------------

    async def put(
        self, tenant: str, integration: str, credential: Credential, *, expect_version: int | None = None
    ) -> KeyReport:
        """Store ``credential`` as the new current version, without verifying it.

        The write is conditional on the version current when it starts (or on
        ``expect_version``; ``0``: only if nothing is stored yet), so a
        concurrent write by someone else makes it fail with
        :class:`~sdk.VaultConflictError` instead of being overwritten.
        """
        run = _Run("put", self._target(tenant, integration, credential))
        if expect_version is not None:
            cas = _check_version(expect_version, allow_zero=True)
        else:
            cas = await self._current_or_zero(run.target)
        version = await self._write(run, credential, cas=cas)
        return run.end(KeyOutcome.OK, version, f"v{version} is current")

    async def rotate(
        self, tenant: str, integration: str, credential: Credential, *, expect_version: int | None = None
    ) -> KeyReport:
        """Make ``credential`` current, verify it, and roll back to the previous key if it fails.

        ``expect_version`` rotates only if that version is still the current one.
        Raises :class:`~sdk.VaultConflictError` if someone else wrote first (nothing
        of ours is written then) and :class:`~sdk.CredentialNotFoundError` if there is
        nothing to rotate yet (use :meth:`put`).
        """
        run = _Run("rotate", self._target(tenant, integration, credential, needs_verify=True))
        infos = await self._versions(run.target, missing_hint="nothing to rotate yet: store a key with put")
        base = _check_version(expect_version) if expect_version is not None else infos[-1].version
        conflict: VaultConflictError | None = None
        try:
            written = await self._write(run, credential, cas=base)
        except VaultConflictError:
            conflict = VaultConflictError(
                f"rotation of tenant {run.target.tenant!r}, integration {run.target.integration!r} wrote "
                f"nothing: the current version is no longer v{base}, so someone else changed it meanwhile "
                "and their version was left as it is; look at it with 'keys versions', then rotate again "
                "if it still needs rotating"
            )
        if conflict is not None:
            raise conflict

        failure = await self._verify(run, written)
        if failure is None:
            latest = await self._intervened(run, written)
            if latest is not None:
                return run.end(
                    KeyOutcome.CONFLICT,
                    latest,
                    f"v{written} was verified, but someone else made v{latest} current meanwhile; "
                    "verify theirs with 'keys verify'",
                    VaultConflictError(run.steps[-1].message or ""),
                )
            return run.end(KeyOutcome.OK, written, f"v{written} is current and works")
        previous = next((info for info in infos if info.version == base), None)
        return await self._roll_back(run, failure, previous, base=base, written=written)

    async def versions(self, tenant: str, integration: str) -> KeyVersions:
        """List every version Vault keeps of the credential: numbers, times and states, never values."""
        target = self._target(tenant, integration)
        infos = await self._versions(target, missing_hint="store the first key with put")
        current = infos[-1].version
        return KeyVersions(
            tenant=target.tenant,
            integration=target.integration,
            versions=tuple(
                KeyVersion(
                    version=info.version,
                    created_time=info.created_time,
                    deletion_time=info.deletion_time,
                    destroyed=info.destroyed,
                    current=info.version == current,
                )
                for info in infos
            ),
        )

    async def rollback(
        self, tenant: str, integration: str, *, to: int, expect_version: int | None = None
    ) -> KeyReport:
        """Make the value of version ``to`` current again, as a new version, then verify it.

        The write is conditional on the current version (or ``expect_version``).
        Rolling back to the version that is already current writes nothing and
        only verifies it.
        """
        run = _Run("rollback", self._target(tenant, integration, needs_verify=True))
        wanted = _check_version(to)
        infos = await self._versions(run.target, missing_hint="there is nothing to roll back")
        current = infos[-1].version
        info = next((info for info in infos if info.version == wanted), None)
        if info is None or not info.readable:
            kept = ", ".join(f"v{i.version}" for i in infos if i.readable) or "none"
            raise CredentialNotFoundError(
                f"version {wanted} of tenant {run.target.tenant!r}, integration {run.target.integration!r} "
                f"{'is not kept by Vault' if info is None else 'is ' + _state(info)}, so its value cannot be "
                f"restored; readable versions: {kept}"
            )
        if wanted == current and expect_version is None:
            version, note = current, f"v{wanted} was already current"
        else:
            base = _check_version(expect_version) if expect_version is not None else current
            version = await self._restore(run, KeyAction.RESTORE, wanted, cas=base)
            note = f"the value of v{wanted} is current again as v{version}"
        failure = await self._verify(run, version)
        if failure is not None:
            return run.end(
                KeyOutcome.VERIFY_FAILED,
                version,
                f"{note}, but it failed verification ({type(failure).__name__})",
                failure,
            )
        return run.end(KeyOutcome.OK, version, f"{note} and works")

    async def verify(self, tenant: str, integration: str) -> KeyReport:
        """Check the current credential against the vendor with the connector's ``verify()``."""
        run = _Run("verify", self._target(tenant, integration, needs_verify=True))
        infos = await self._versions(run.target, missing_hint="store the first key with put")
        current = infos[-1].version
        failure = await self._verify(run, current)
        if failure is not None:
            return run.end(
                KeyOutcome.VERIFY_FAILED,
                current,
                f"v{current} failed verification ({type(failure).__name__}); rotate to a working key or "
                "go back to an earlier one with 'keys rollback --to N'",
                failure,
            )
        return run.end(KeyOutcome.OK, current, f"v{current} works")

    async def _roll_back(
        self,
        run: _Run,
        failure: NexoraError,
        previous: SecretVersionInfo | None,
        *,
        base: int,
        written: int,
    ) -> KeyReport:
        """After the new key ``written`` failed verification, make ``base`` current again."""
        rejected = f"the new key v{written} failed verification ({type(failure).__name__})"
        if previous is None or not previous.readable:
            why = "is not kept by Vault" if previous is None else f"is {_state(previous)}"
            run.steps.append(
                KeyStep(
                    KeyAction.ROLLBACK,
                    ok=False,
                    source_version=base,
                    error=CredentialNotFoundError.__name__,
                    message=f"v{base} {why}, so there is no previous key to go back to",
                )
            )
            return run.end(
                KeyOutcome.VERIFY_FAILED,
                written,
                f"{rejected} and stays current, as v{base} cannot be restored; rotate to a working key",
                failure,
            )
        try:
            restored = await self._restore(run, KeyAction.ROLLBACK, base, cas=written)
        except VaultConflictError as exc:
            return run.end(
                KeyOutcome.CONFLICT,
                None,
                f"{rejected}, but someone else wrote a newer version before it could be rolled back, and "
                "theirs was left current; check it with 'keys versions' and 'keys verify'",
                exc,
            )
        except NexoraError as exc:
            return run.end(
                KeyOutcome.ROLLBACK_FAILED,
                written,
                f"{rejected} and could not be rolled back ({type(exc).__name__}), so it is still current: "
                f"run 'keys rollback --to {base}'",
                exc,
            )
        again = await self._verify(run, restored)
        works = "and works" if again is None else f"but failed verification too ({type(again).__name__})"
        return run.end(
            KeyOutcome.ROLLED_BACK,
            restored,
            f"{rejected}; the previous key (v{base}) is current again as v{restored} {works}",
            failure,
        )

    # --- machinery -------------------------------------------------------------------

    def _target(
        self,
        tenant: str,
        integration: str,
        credential: Credential | None = None,
        *,
        needs_verify: bool = False,
    ) -> _Target:
        """Check ids, configuration, connector and credential type before anything reaches Vault."""
        tenant = validate_id(tenant, kind="tenant id")
        integration = validate_id(integration, kind="integration id")
        binding = self._runtime._binding(tenant, integration)
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
        return _Target(tenant, integration, connector, binding.region)

    async def _versions(self, target: _Target, *, missing_hint: str) -> list[SecretVersionInfo]:
        infos: list[SecretVersionInfo] = []
        with contextlib.suppress(CredentialNotFoundError):  # replaced by a message that says what to do
            infos = await self._store.versions(target.tenant, target.integration)
        if not infos:
            raise CredentialNotFoundError(
                f"no credential is stored for tenant {target.tenant!r}, integration {target.integration!r}; "
                f"{missing_hint}"
            )
        return infos

    async def _current_or_zero(self, target: _Target) -> int:
        try:
            infos = await self._store.versions(target.tenant, target.integration)
        except CredentialNotFoundError:
            return 0
        return max((info.version for info in infos), default=0)

    async def _write(self, run: _Run, credential: Credential, *, cas: int) -> int:
        tenant, integration = run.target.tenant, run.target.integration
        version = await self._audited(run, self._store.put(tenant, integration, credential, cas=cas))
        run.steps.append(KeyStep(KeyAction.WRITE, ok=True, version=version, cas=cas))
        return version

    async def _restore(self, run: _Run, action: KeyAction, source: int, *, cas: int) -> int:
        tenant, integration = run.target.tenant, run.target.integration
        try:
            version = await self._audited(run, self._store.restore(tenant, integration, source, cas=cas))
        except NexoraError as exc:
            run.steps.append(_failed(action, exc, source_version=source, cas=cas))
            raise
        run.steps.append(KeyStep(action, ok=True, version=version, cas=cas, source_version=source))
        return version

    async def _audited(self, run: _Run, write: Awaitable[int]) -> int:
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

    async def _verify(self, run: _Run, version: int) -> NexoraError | None:
        """Verify the current key (expected to be ``version``); return what failed it, if anything."""
        tenant, integration = run.target.tenant, run.target.integration
        # A copy reused under max_staleness may predate the write just made.
        self._runtime.credentials.invalidate(tenant, integration)
        try:
            await self._runtime.verify(tenant, integration, budget=self._verify_budget)
        except NexoraError as exc:
            run.steps.append(_failed(KeyAction.VERIFY, exc, version=version))
            return _detached(exc)
        run.steps.append(KeyStep(KeyAction.VERIFY, ok=True, version=version))
        return None

    async def _intervened(self, run: _Run, written: int) -> int | None:
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
class _Run:
    """The steps of one operation so far, and how to end it with a report."""

    operation: str
    target: _Target
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
            failure=None if failure is None else _detached(failure),
        )


def _failed(action: KeyAction, exc: NexoraError, **fields: Any) -> KeyStep:
    return KeyStep(action, ok=False, error=error_kind(exc), message=str(exc), **fields)


def _detached(exc: NexoraError) -> NexoraError:
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


def _state(info: SecretVersionInfo) -> str:
    return "destroyed" if info.destroyed else "deleted" if info.deletion_time is not None else "readable"


def _check_version(value: object, *, allow_zero: bool = False) -> int:
    lowest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise InvalidArgumentsError(
            f"a version must be an integer of at least {lowest} (a KV v2 version number, see 'keys versions')"
        )
    return value


# --- reading a secret, never from the command line ------------------------------------

MAX_SECRET_CHARS = 16 * 1024
"""The longest secret accepted (room for a PEM private key)."""
_READ_LIMIT = MAX_SECRET_CHARS + 3  # the secret, a line ending, and one more to tell "too long"


def read_secret_from(
    stream: TextIO,
    *,
    prompt: str = "Secret (input hidden): ",
    prompt_to: TextIO | None = None,
    multiline: bool = False,
) -> SecretStr:
    """Read one secret from ``stream``: typed at a hidden prompt if it is a terminal, else piped in.

    Secrets never come from command-line arguments, which every user of the
    machine can read (``ps``) and shells keep in their history. At a terminal,
    echo is turned off while the line is typed (the prompt goes to
    ``prompt_to``, standard error by default, so standard output stays clean
    for ``--json``). From a pipe or file, all of the input is the secret, less
    one trailing line ending. Raises :class:`~sdk.InvalidArgumentsError` for
    empty or blank input, surrounding whitespace and control or invisible
    characters (a pasted key with a stray newline fails at the vendor with a
    baffling 401); ``multiline`` allows inner line breaks, for PEM keys.
    Error messages never repeat the input.
    """
    if _is_terminal(stream):
        text = _read_hidden(stream, prompt, prompt_to if prompt_to is not None else sys.stderr, multiline)
    else:
        text = stream.read(_READ_LIMIT)
    return _checked_secret(text, multiline=multiline)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fileno-less stream is not a terminal
        return False


def _read_hidden(stream: TextIO, prompt: str, prompt_to: TextIO, multiline: bool) -> str:
    if sys.platform == "win32":  # pragma: no cover - termios is POSIX; getpass uses msvcrt there
        import getpass

        return getpass.getpass(prompt, stream=prompt_to)
    import termios

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    hidden = list(saved)
    hidden[3] &= ~(termios.ECHO | termios.ECHONL)
    prompt_to.write(prompt)
    prompt_to.flush()
    # TCSAFLUSH, as getpass does: anything typed before the prompt appeared is
    # discarded rather than taken (and shown) as part of the secret.
    termios.tcsetattr(fd, termios.TCSAFLUSH, hidden)
    try:
        text = stream.read(_READ_LIMIT) if multiline else stream.readline(_READ_LIMIT)
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
        prompt_to.write("\n")  # the Enter the user typed was not echoed either
        prompt_to.flush()
    return text


def _checked_secret(text: str, *, multiline: bool) -> SecretStr:
    too_long = InvalidArgumentsError(
        f"the secret is longer than {MAX_SECRET_CHARS} characters; is it the right input?"
    )
    if len(text) >= _READ_LIMIT:
        raise too_long
    if multiline:
        text = text.replace("\r\n", "\n").rstrip("\n")
    elif text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if len(text) > MAX_SECRET_CHARS:
        raise too_long
    if not text or text.isspace():
        raise InvalidArgumentsError(
            "no secret was given: the input was empty or blank; pipe the secret to standard input "
            "or type it at the prompt (never pass it as an argument)"
        )
    if text != text.strip():
        raise InvalidArgumentsError(
            "the secret starts or ends with whitespace, which the vendor would reject; give it without "
            "surrounding spaces or blank lines"
        )
    allowed = "\n" if multiline else ""
    if any(char not in allowed and not char.isprintable() for char in text):
        what = (
            "a control or invisible character"
            if multiline
            else "a line break, control or invisible character"
        )
        raise InvalidArgumentsError(
            f"the secret contains {what} (such as a tab, an escape or a zero-width space); "
            "give it exactly as the vendor issued it"
        )
    return SecretStr(text)


# --- building the credential to store ------------------------------------------------------

_SECRET_FIELDS = {"api_key": "api_key", "basic": "password", "oauth2_client": "client_secret"}
_CREDENTIAL = TypeAdapter(Credential)


def build_credential(kind: str, secret: SecretStr, **fields: str) -> Credential:
    """Return a credential of type ``kind`` whose one secret field holds ``secret``.

    The other, non-secret fields (``username``, ``client_id``, ``token_url``,
    ``scopes``) come from ``fields``, i.e. from command-line options. Types with
    more than one secret (``oauth2_refresh``) are read whole with
    :func:`credential_from_json`.
    """
    field = _SECRET_FIELDS.get(kind)
    if field is None:
        kinds = ", ".join(sorted(_SECRET_FIELDS))
        raise InvalidArgumentsError(
            f"credential type {kind!r} cannot be built from one secret (types with one secret: {kinds}); "
            "pipe the whole credential as a JSON object instead"
        )
    if field in fields or "type" in fields:
        raise InvalidArgumentsError(
            f"{field} is the secret of a {kind} credential and is read from the input"
        )
    return _validated({**fields, "type": kind, field: secret.get_secret_value()})


def credential_from_json(secret: SecretStr) -> Credential:
    """Return the credential in ``secret``, a JSON object with a ``type`` field and the type's fields."""
    data: object = None
    # A decoding error is reported below without the decoder's message, which can quote the input.
    with contextlib.suppress(json.JSONDecodeError):
        data = json.loads(secret.get_secret_value())
    if not isinstance(data, dict):
        raise InvalidArgumentsError("the input is not a JSON object of credential fields")
    return _validated(data)


def _validated(data: dict[str, Any]) -> Credential:
    problems: list[str] | None = None
    try:
        return _CREDENTIAL.validate_python(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'type'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
    raise InvalidArgumentsError("invalid credential: " + "; ".join(problems))
