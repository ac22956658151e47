"""Pacing one tenant's integration by its vendor's rate-limit headers, before the 429.

A vendor that says "0 requests left in this window" will refuse the next request; sending it
anyway costs a round trip, a 429 and a Retry-After wait that the caller hears. The pacer remembers
what the last response said and counts the requests sent since, and when the window is used up
the next request waits for the reset, or, when the reset would come after the caller's deadline,
fails at once with :class:`~sdk.VendorRateLimitError` without being sent.

There is one pacer per :class:`~sdk._http.VendorHttp`, that is per tenant and integration (the
runtime binds each once): one tenant's traffic never slows another's, even on the same vendor (S2),
and one integration's limit never paces a different account at the same vendor.

The vendor's numbers are distrusted: the pacer holds calls back for at most :data:`MAX_PACE`
seconds whatever reset a header claims, and forgets a window once its reset has passed (nothing is
assumed about the next window until a response says so).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sdk._errors import VendorRateLimitError
from sdk._http._ratelimit_headers import RateLimitState

__all__ = ["DEFAULT_WINDOW", "MAX_PACE", "Pacer"]

MAX_PACE = 60.0
"""The longest one response's headers (or a 429's Retry-After) can hold an integration back.

Longer than the windows the shipped vendors document (a second to a minute), and short enough
that a vendor lying about its reset cannot lock a tenant out for long."""

DEFAULT_WINDOW = 1.0
"""The window assumed when a vendor says how many requests are left but not when they come back."""


class Pacer:
    """The rate-limit window of one tenant's integration, as the vendor last described it."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._remaining: int | None = None
        """Requests left in the current window; None when no open window is known."""
        self._window_ends = 0.0

    @property
    def remaining(self) -> int | None:
        """Requests the pacer will still let through before the window resets (None: no limit known)."""
        self._expire(self._clock())
        return self._remaining

    def observe(self, state: RateLimitState | None) -> None:
        """Take in what a response said. A response that says nothing changes nothing.

        Responses to concurrent requests arrive out of order: within a window the count only
        goes down, so a late answer cannot hand back requests that were already spent.
        """
        if state is None:
            return
        now = self._clock()
        self._expire(now)
        ends = now + min(DEFAULT_WINDOW if state.reset_after is None else state.reset_after, MAX_PACE)
        if self._remaining is None or state.remaining <= self._remaining:
            self._remaining = state.remaining
            self._window_ends = ends

    def back_off(self, seconds: float) -> None:
        """The vendor refused a request and asked for ``seconds`` (a 429's Retry-After): hold later ones."""
        now = self._clock()
        self._expire(now)
        self._remaining = 0
        self._window_ends = max(self._window_ends, now + min(max(seconds, 0.0), MAX_PACE))

    async def admit(self, deadline: float | None, *, method: str, path: str) -> None:
        """Return when a request may be sent; wait for the reset if the window is used up.

        Raises :class:`~sdk.VendorRateLimitError` (with ``retry_after``) without waiting when the
        reset comes at or after ``deadline``: the caller learns at once, and nothing is sent.
        """
        while True:
            now = self._clock()
            self._expire(now)
            if self._remaining is None:
                return
            if self._remaining > 0:
                self._remaining -= 1
                return
            wait = self._window_ends - now
            if deadline is not None and now + wait >= deadline:
                raise VendorRateLimitError(
                    "the vendor's rate limit for this integration is used up until after the "
                    "deadline; the request was not sent",
                    retry_after=wait,
                    method=method,
                    path=path,
                )
            await self._sleep(wait)

    def _expire(self, now: float) -> None:
        if self._remaining is not None and now >= self._window_ends:
            self._remaining = None
