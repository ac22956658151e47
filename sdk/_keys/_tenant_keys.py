"""TenantKeys: store, rotate, list, roll back and verify an integration's credential.

Each operation returns a report of the steps it took and works on the tenant's
own Vault, as the configuration says, through the runtime's
:class:`~vault.CredentialStore`.

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

from pathlib import Path
from types import TracebackType
from typing import Any

from sdk._config import NexoraConfig, load_config
from sdk._errors import CredentialNotFoundError, NexoraError, UsageError, VaultConflictError
from sdk._keys._reports import KeyAction, KeyOutcome, KeyReport, KeyStep, KeyVersion, KeyVersions
from sdk._keys._steps import KeyRun, KeySteps, check_version, version_state
from sdk._runtime import NexoraConnect
from vault._client import SecretVersionInfo
from vault._credentials import Credential
from vault._store import CredentialStore

__all__ = ["TenantKeys"]


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
        self._steps = KeySteps(runtime, store, verify_budget=verify_budget)
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

    async def put(
        self, tenant: str, integration: str, credential: Credential, *, expect_version: int | None = None
    ) -> KeyReport:
        """Store ``credential`` as the new current version, without verifying it.

        The write is conditional on the version current when it starts (or on
        ``expect_version``; ``0``: only if nothing is stored yet), so a
        concurrent write by someone else makes it fail with
        :class:`~sdk.VaultConflictError` instead of being overwritten.
        """
        run = KeyRun("put", self._steps.target(tenant, integration, credential))
        if expect_version is not None:
            cas = check_version(expect_version, allow_zero=True)
        else:
            cas = await self._steps.current_or_zero(run.target)
        version = await self._steps.write(run, credential, cas=cas)
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
        run = KeyRun("rotate", self._steps.target(tenant, integration, credential, needs_verify=True))
        infos = await self._steps.versions(
            run.target, missing_hint="nothing to rotate yet: store a key with put"
        )
        base = check_version(expect_version) if expect_version is not None else infos[-1].version
        conflict: VaultConflictError | None = None
        try:
            written = await self._steps.write(run, credential, cas=base)
        except VaultConflictError:
            conflict = VaultConflictError(
                f"rotation of tenant {run.target.tenant!r}, integration {run.target.integration!r} wrote "
                f"nothing: the current version is no longer v{base}, so someone else changed it meanwhile "
                "and their version was left as it is; look at it with 'keys versions', then rotate again "
                "if it still needs rotating"
            )
        if conflict is not None:
            raise conflict

        failure = await self._steps.verify(run, written)
        if failure is None:
            latest = await self._steps.intervened(run, written)
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
        target = self._steps.target(tenant, integration)
        infos = await self._steps.versions(target, missing_hint="store the first key with put")
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
        run = KeyRun("rollback", self._steps.target(tenant, integration, needs_verify=True))
        wanted = check_version(to)
        infos = await self._steps.versions(run.target, missing_hint="there is nothing to roll back")
        current = infos[-1].version
        info = next((info for info in infos if info.version == wanted), None)
        if info is None or not info.readable:
            kept = ", ".join(f"v{i.version}" for i in infos if i.readable) or "none"
            raise CredentialNotFoundError(
                f"version {wanted} of tenant {run.target.tenant!r}, integration {run.target.integration!r} "
                f"{'is not kept by Vault' if info is None else 'is ' + version_state(info)}, so its value "
                f"cannot be restored; readable versions: {kept}"
            )
        if wanted == current and expect_version is None:
            version, note = current, f"v{wanted} was already current"
        else:
            base = check_version(expect_version) if expect_version is not None else current
            version = await self._steps.restore(run, KeyAction.RESTORE, wanted, cas=base)
            note = f"the value of v{wanted} is current again as v{version}"
        failure = await self._steps.verify(run, version)
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
        run = KeyRun("verify", self._steps.target(tenant, integration, needs_verify=True))
        infos = await self._steps.versions(run.target, missing_hint="store the first key with put")
        current = infos[-1].version
        failure = await self._steps.verify(run, current)
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
        run: KeyRun,
        failure: NexoraError,
        previous: SecretVersionInfo | None,
        *,
        base: int,
        written: int,
    ) -> KeyReport:
        """After the new key ``written`` failed verification, make ``base`` current again."""
        rejected = f"the new key v{written} failed verification ({type(failure).__name__})"
        if previous is None or not previous.readable:
            why = "is not kept by Vault" if previous is None else f"is {version_state(previous)}"
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
            restored = await self._steps.restore(run, KeyAction.ROLLBACK, base, cas=written)
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
        again = await self._steps.verify(run, restored)
        works = "and works" if again is None else f"but failed verification too ({type(again).__name__})"
        return run.end(
            KeyOutcome.ROLLED_BACK,
            restored,
            f"{rejected}; the previous key (v{base}) is current again as v{restored} {works}",
            failure,
        )
