"""Keeping a Vault token alive: when to renew it, when to replace it, and the task that does so.

hvac has no renewer, and a voice agent runs for weeks on tokens that live for
minutes. :class:`TokenLease` is what a client knows about its token's lifetime
and answers the scheduling questions with plain arithmetic (tested without a
server); :class:`TokenRenewer` is the one asyncio task per client that sleeps
until the next renewal is due and then runs the client's synchronous upkeep on
the client's thread pool, so the event loop never waits for Vault.

Schedule: a lease is renewed once two thirds of it have passed, leaving a third
of the TTL for a slow or briefly unavailable Vault. A renewal that grants less
than it asked for was capped by the token's maximum TTL, so renewing further is
pointless: the next upkeep replaces the token instead (an AppRole login), or,
for a token provisioned out of band, looks for a new one where it came from.
A token is treated as expired a little before Vault would say so, because a
request takes time to arrive and Vault reports TTLs in whole seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor

__all__ = ["RENEW_AT_FRACTION", "TokenLease", "TokenRenewer"]

logger = logging.getLogger("vault.renewal")

RENEW_AT_FRACTION = 2 / 3
"""Renew (or replace) a token once this fraction of its current lease has passed."""

_MIN_DELAY = 0.05  # never spin: even an overdue upkeep waits this long between rounds
_RETRY_DELAY_CAP = 5.0  # seconds between upkeep attempts while Vault is unavailable


@dataclasses.dataclass(frozen=True, slots=True)
class TokenLease:
    """The lifetime of one token, as Vault last described it.

    ``obtained_at`` is the monotonic time just *before* the request that
    reported ``ttl`` was sent, so ``expires_at`` errs early, never late.
    ``full_ttl`` is what one renewal asks for: the token's period, or the TTL
    it was created with. ``final`` means renewing is no longer possible (not
    renewable, or capped by its maximum TTL); ``abandoned`` that nothing can
    replace it before it expires either (a token provisioned out of band whose
    source still holds the same token), so upkeep has nothing left to do.
    """

    obtained_at: float
    ttl: float
    full_ttl: float
    renewable: bool
    final: bool = False
    abandoned: bool = False

    @classmethod
    def from_auth(cls, auth: Mapping[str, object], *, obtained_at: float) -> TokenLease | None:
        """Read the ``auth`` block of a login answer; None for a token that never expires."""
        ttl = _seconds(auth.get("lease_duration"))
        if ttl <= 0:
            return None
        renewable = auth.get("renewable") is True
        return cls(
            obtained_at=obtained_at,
            ttl=ttl,
            full_ttl=ttl,
            renewable=renewable,
            final=not renewable,
        )

    @classmethod
    def from_lookup(cls, data: Mapping[str, object], *, obtained_at: float) -> TokenLease | None:
        """Read the ``data`` of a token self-lookup; None for a token that never expires (root)."""
        ttl = _seconds(data.get("ttl"))
        if ttl <= 0:
            return None
        renewable = data.get("renewable") is True
        full = _seconds(data.get("period")) or _seconds(data.get("creation_ttl")) or ttl
        return cls(
            obtained_at=obtained_at,
            ttl=ttl,
            full_ttl=full,
            renewable=renewable,
            final=not renewable,
        )

    def renewed(self, auth: Mapping[str, object], *, obtained_at: float) -> TokenLease:
        """Return the lease after a renewal answered with ``auth``."""
        granted = _seconds(auth.get("lease_duration"))
        # Vault either grants exactly the increment asked for or caps it at what
        # is left before the maximum TTL; it never grants more.
        capped = granted < self.full_ttl
        renewable = auth.get("renewable") is True
        return dataclasses.replace(
            self,
            obtained_at=obtained_at,
            ttl=granted,
            renewable=renewable,
            final=capped or not renewable or granted <= 0,
        )

    @property
    def expires_at(self) -> float:
        return self.obtained_at + self.ttl

    @property
    def margin(self) -> float:
        """Seconds before ``expires_at`` from which the token counts as expired."""
        return min(2.0, max(0.25, self.full_ttl / 10))

    def expired(self, now: float) -> bool:
        """Whether the token must not be sent any more."""
        return now >= self.expires_at - self.margin

    @property
    def upkeep_at(self) -> float:
        """When to renew the token, or replace it if it is final."""
        return self.obtained_at + self.ttl * RENEW_AT_FRACTION

    def retry_delay(self, now: float) -> float:
        """Seconds to wait before trying upkeep again after Vault could not be reached."""
        left = self.expires_at - self.margin - now
        return max(_MIN_DELAY, min(_RETRY_DELAY_CAP, left / 4))


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


class TokenRenewer:
    """One asyncio task that keeps one client's token alive until stopped.

    ``first_delay`` says (cheaply, on the event loop) how long to sleep before
    the first upkeep, or None if there is nothing to keep alive. ``upkeep`` runs
    on ``executor`` (it talks to Vault) and returns the next delay, or None to
    end the task; the client starts a new one when it gets a token worth
    keeping alive again.
    """

    def __init__(
        self,
        *,
        first_delay: Callable[[], float | None],
        upkeep: Callable[[], float | None],
        executor: Executor,
        name: str,
    ) -> None:
        self._first_delay = first_delay
        self._upkeep = upkeep
        self._executor = executor
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def running(self) -> bool:
        """Whether the task exists and has not finished."""
        return self._task is not None and not self._task.done()

    def ensure_running(self) -> None:
        """Start the task on the running loop unless it is already running there (or stopped for good)."""
        if self._stopped:
            return
        task = self._task
        loop = asyncio.get_running_loop()
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        # A task left on another (closed) event loop can never run again; it is dropped.
        self._task = loop.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Cancel the task and wait until it has finished; the renewer never starts again."""
        self._stopped = True
        task, self._task = self._task, None
        if task is None or task.done():
            return
        if task.get_loop() is not asyncio.get_running_loop():
            return  # its loop is gone or elsewhere; the task cannot be awaited from here
        task.cancel()
        # wait() rather than awaiting the task: a cancellation of stop() itself still propagates.
        await asyncio.wait({task})

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._first_delay()
        while delay is not None:
            await asyncio.sleep(max(_MIN_DELAY, delay))
            try:
                delay = await loop.run_in_executor(self._executor, self._upkeep)
            except Exception as exc:  # noqa: BLE001 - a bug in upkeep must not kill silently or loop
                # The type only: an exception's text may quote a response, and
                # the next read logs in again by itself if the token expires.
                logger.error(
                    "Vault token upkeep (%s) failed with %s; it stops, and expired tokens are replaced "
                    "before reads instead",
                    self._name,
                    type(exc).__name__,
                )
                self._stopped = True  # restarting on every read would only repeat the failure
                return
