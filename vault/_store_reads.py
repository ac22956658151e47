"""The credential store's read: through a Vault failover if asked to wait, never past the call's deadline.

Kept apart from :class:`~vault.CredentialStore`'s tenant registry and writes:
this is the part that decides how long one read may take. A read is retried
only while Vault is *unavailable* (connection refused or cut, 5xx, sealed, no
active node) and only within ``failover_wait``; the running call's deadline
(:mod:`sdk._deadline`) bounds both the wait and each single read, so a node
that accepted the connection and then went quiet cannot hold the call.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Coroutine
from typing import Any

from sdk._deadline import time_left
from sdk._errors import VaultTimeoutError, VaultUnavailableError
from vault._answers import vault_name
from vault._client import VaultClient
from vault._credentials import CredentialLease, parse_credential
from vault._paths import credential_path
from vault._settings import VaultSettings

__all__ = ["CredentialReads"]

_FIRST_RETRY_DELAY = 0.05
_MAX_RETRY_DELAY = 0.5


class CredentialReads:
    """Reads credentials for one store, counting the reads and the retries a failover cost.

    ``failover_wait`` is how many seconds a read keeps retrying while Vault is
    unavailable; ``0`` fails at once (see :class:`~vault.CredentialStore`).
    """

    def __init__(self, failover_wait: float) -> None:
        self._failover_wait = failover_wait
        self.reads = 0
        """Secret reads sent to Vault, this store's restores included."""
        self.failover_retries = 0
        """Reads sent again because Vault was unavailable."""

    async def read(
        self,
        client: VaultClient,
        settings: VaultSettings,
        tenant: str,
        integration: str,
        *,
        version: int | None,
        consistent: bool = False,
    ) -> CredentialLease:
        """Read once, or, with ``failover_wait``, until Vault answers or the wait (or deadline) is over."""
        if self._failover_wait <= 0:
            return await self._read_once(
                client, settings, tenant, integration, version=version, consistent=consistent
            )
        give_up = time.monotonic() + self._failover_wait
        remaining = time_left()
        if remaining is not None:
            give_up = min(give_up, time.monotonic() + remaining)
        delay = _FIRST_RETRY_DELAY
        while True:
            try:
                return await self._read_once(
                    client, settings, tenant, integration, version=version, consistent=consistent
                )
            except VaultUnavailableError:
                # Jittered, so that every conversation of every replica does not hit the new
                # active node in the same millisecond.
                pause = delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret
                if time.monotonic() + pause >= give_up:
                    raise
            self.failover_retries += 1
            await asyncio.sleep(pause)
            delay = min(delay * 2, _MAX_RETRY_DELAY)

    async def _read_once(
        self,
        client: VaultClient,
        settings: VaultSettings,
        tenant: str,
        integration: str,
        *,
        version: int | None,
        consistent: bool,
    ) -> CredentialLease:
        path = credential_path(settings, tenant, integration)
        self.reads += 1
        remaining = time_left()
        read = client.read_secret(
            path, version=version, tenant=tenant, integration=integration, consistent=consistent
        )
        if remaining is None:
            data, number = await read
        else:
            data, number = await _within(read, remaining, settings, tenant, integration)
        credential = parse_credential(data, tenant=tenant, integration=integration, path=path)
        return CredentialLease(
            credential=credential, version=number, tenant=tenant, integration=integration, path=path
        )


async def _within(
    read: Coroutine[Any, Any, tuple[dict[str, object], int]],
    remaining: float,
    settings: VaultSettings,
    tenant: str,
    integration: str,
) -> tuple[dict[str, object], int]:
    """Await ``read``, but not past the running call's deadline.

    A node that accepted the connection and then stopped answering (paused,
    partitioned) would otherwise hold the call for the tenant's whole Vault
    timeout. Past the deadline it is the :class:`~sdk.VaultTimeoutError` a
    single node's own read timeout gives, not a bare ``TimeoutError``; raised
    after the ``except`` block, so it chains to nothing.
    """
    try:
        async with asyncio.timeout(max(remaining, 0.0)):
            return await read
    except TimeoutError:
        pass
    raise VaultTimeoutError(
        f"Vault at {vault_name(settings)} did not answer the read of tenant {tenant!r}, integration "
        f"{integration!r} before the call's deadline; check that it is healthy and reachable"
    )
