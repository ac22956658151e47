"""Retry policy for vendor requests, composed from tenacity strategies.

Rules: honour ``Retry-After`` first; retry only requests that are safe to
repeat (reads, and writes that carry an idempotency key); never sleep past the
caller's deadline. A connection that was never established is safe to retry
for any method, because nothing reached the vendor.

Each attempt of a request that may be retried gets only a share of the time
left (see :class:`attempt_share`): a first attempt that hangs is cut while
there is still time for the retry that would have been answered, instead of
using up the caller's whole budget on a connection that will never answer. A
request that will not be retried (a write without an idempotency key, or the
last attempt) gets all the time left: cutting it would only turn a slow
answer into a failure.

``parse_retry_after`` lives in :mod:`sdk._vendor_errors` (vault's OAuth needs it
too) and is re-exported here, where the public ``sdk`` name comes from.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod

from tenacity import RetryCallState, stop_after_attempt, wait_exponential, wait_random
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from sdk._errors import (
    VendorConnectionError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)
from sdk._vendor_errors import parse_retry_after

__all__ = [
    "ATTEMPT_FLOOR",
    "RetryPolicy",
    "attempt_budget_base",
    "attempt_seconds",
    "attempt_share",
    "attempt_whole",
    "parse_retry_after",
]

ATTEMPT_FLOOR = 1.0
"""Seconds an attempt always gets when the deadline allows: the longest a vendor's normal answer is
expected to take. Below it a share would cut answers that were on their way, so every retry would
be cut the same way and a slow-but-healthy vendor would fail every call."""


class attempt_budget_base(ABC):
    """How long one attempt may take, given the seconds left before the caller's deadline.

    Strategies compose like tenacity's: ``a | b`` allows the larger of the two, ``a & b`` the
    smaller. The HTTP layer never lets an attempt run past the deadline, whatever a strategy says.
    """

    @abstractmethod
    def __call__(self, remaining: float) -> float: ...

    def __or__(self, other: attempt_budget_base) -> attempt_budget_base:
        return _attempt_larger(self, other)

    def __and__(self, other: attempt_budget_base) -> attempt_budget_base:
        return _attempt_smaller(self, other)


class attempt_share(attempt_budget_base):
    """A fraction of the time left: ``attempt_share(0.5)`` leaves half of it for the retries."""

    def __init__(self, fraction: float) -> None:
        if not (math.isfinite(fraction) and 0 < fraction <= 1):
            raise ValueError("fraction must be in (0, 1]")
        self.fraction = fraction

    def __call__(self, remaining: float) -> float:
        return remaining * self.fraction


class attempt_seconds(attempt_budget_base):
    """A fixed number of seconds: with ``|``, the floor below which a share never cuts an attempt."""

    def __init__(self, seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError("seconds must be a positive number")
        self.seconds = seconds

    def __call__(self, remaining: float) -> float:
        return self.seconds


class attempt_whole(attempt_budget_base):
    """All the time left (the behaviour before shares): one hung attempt can use up the budget."""

    def __call__(self, remaining: float) -> float:
        return remaining


class _attempt_larger(attempt_budget_base):
    def __init__(self, *strategies: attempt_budget_base) -> None:
        self.strategies = strategies

    def __call__(self, remaining: float) -> float:
        return max(strategy(remaining) for strategy in self.strategies)


class _attempt_smaller(attempt_budget_base):
    def __init__(self, *strategies: attempt_budget_base) -> None:
        self.strategies = strategies

    def __call__(self, remaining: float) -> float:
        return min(strategy(remaining) for strategy in self.strategies)


class _WaitRetryAfterOr(wait_base):
    """Wait as long as the vendor asked (Retry-After), else fall back to ``fallback``."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, VendorRateLimitError) and exc.retry_after is not None:
            return exc.retry_after
        return self.fallback(retry_state)


class _StopBeforeDeadline(stop_base):
    """Stop when the next attempt could not even start before the deadline."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.deadline is None:
            return False
        return time.monotonic() + retry_state.upcoming_sleep >= self.deadline


RETRYABLE = (VendorRateLimitError, VendorServerError, VendorTimeoutError, VendorConnectionError)


class RetryPolicy:
    """How many times, how long to wait between attempts, and how long each attempt may take.

    A connector changes it by composing strategies, not by flags. ``max_attempts`` counts the
    first attempt. ``backoff`` is used when the vendor gave no Retry-After. ``attempt_budget``
    caps each attempt that may still be retried; the default, ``attempt_share(0.5) |
    attempt_seconds(ATTEMPT_FLOOR)``, gives it at most half the time left, but never less than
    the floor. A vendor whose normal answers are slower composes a larger floor
    (``attempt_share(0.5) | attempt_seconds(2.5)``); ``attempt_whole()`` restores the old
    all-or-nothing behaviour.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 3,
        backoff: wait_base | None = None,
        attempt_budget: attempt_budget_base | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.backoff = backoff or (wait_exponential(multiplier=0.05, max=2.0) + wait_random(0, 0.05))
        self.attempt_budget = attempt_budget or (attempt_share(0.5) | attempt_seconds(ATTEMPT_FLOOR))

    def wait(self) -> wait_base:
        return _WaitRetryAfterOr(self.backoff)

    def stop(self, deadline: float | None) -> stop_base:
        return stop_after_attempt(self.max_attempts) | _StopBeforeDeadline(deadline)

    def attempt_timeout(self, remaining: float, *, attempt: int, retryable: bool) -> float:
        """Seconds attempt number ``attempt`` (1 = the first) may take, with ``remaining`` left.

        A request that will not be retried, and the last attempt, get everything: no later
        attempt needs the time, and a cut would only turn a slow answer into a failure. Never
        more than ``remaining``; a strategy that answers nonsense (NaN, negative) counts as
        "everything", since the deadline still bounds the attempt.
        """
        if not retryable or attempt >= self.max_attempts:
            return remaining
        allowed = self.attempt_budget(remaining)
        if not math.isfinite(allowed) or allowed <= 0:
            return remaining
        return min(remaining, allowed)
