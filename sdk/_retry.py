"""Retry policy for vendor requests, composed from tenacity strategies.

Rules: honour ``Retry-After`` first; retry only requests that are safe to
repeat (reads, and writes that carry an idempotency key); never sleep past the
caller's deadline. A connection that was never established is safe to retry
for any method, because nothing reached the vendor.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable
from datetime import UTC

from tenacity import RetryCallState, stop_after_attempt, wait_exponential, wait_random
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from sdk._errors import (
    VendorConnectionError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)

__all__ = ["RetryPolicy", "parse_retry_after"]

MAX_RETRY_AFTER = 300.0


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Parse a ``Retry-After`` header into seconds to wait, or None if absent or unreadable.

    Accepts delta-seconds (RFC 9110; fractional values too, since some vendors
    send them) and HTTP-dates. Negative or past values mean "now" (0.0).
    Absurd values are capped at five minutes.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        seconds = parsed.timestamp() - now()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


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
    """How many times and how long to wait; a connector changes it by composing.

    ``max_attempts`` counts the first attempt. ``backoff`` is used when the
    vendor gave no Retry-After.
    """

    def __init__(self, *, max_attempts: int = 3, backoff: wait_base | None = None) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.backoff = backoff or (wait_exponential(multiplier=0.05, max=2.0) + wait_random(0, 0.05))

    def wait(self) -> wait_base:
        return _WaitRetryAfterOr(self.backoff)

    def stop(self, deadline: float | None) -> stop_base:
        return stop_after_attempt(self.max_attempts) | _StopBeforeDeadline(deadline)
