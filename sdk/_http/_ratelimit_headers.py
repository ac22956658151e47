"""Reading a vendor's rate-limit headers into one shape: requests left, and when the window resets.

Vendors say it in several dialects: the IETF ``RateLimit`` field (draft 08 and later,
``"default";r=50;t=30`` with ``RateLimit-Policy``; draft 07, ``limit=100, remaining=50,
reset=30``), the earlier drafts' ``RateLimit-Remaining`` and ``RateLimit-Reset`` (Zendesk sends
these), and the common ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Atlassian, with the
reset as an ISO 8601 time). :func:`standard_rate_limit_state` reads all of them; a connector whose
vendor speaks another dialect builds a :class:`RateLimitState` itself with the helpers here.

Every value comes from the vendor and is distrusted: a count that is not plain digits, a reset
that is negative, not a number or an unreadable date, is ignored (the header "says nothing"),
never a reason to stop calling the vendor. How long a state may hold calls back is capped by the
pacer (:mod:`sdk._http._pacing`), so a reset a year away cannot lock a tenant out.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

__all__ = [
    "RateLimitState",
    "parse_count",
    "parse_reset",
    "parse_seconds",
    "standard_rate_limit_state",
]

_DIGITS = re.compile(r"[0-9]{1,12}")
_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")
_EPOCH_AFTER = 1_000_000_000.0
"""A reset this large is a Unix time (September 2001 on), not a number of seconds to wait."""


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """What a response said about the vendor's rate limit for this tenant's integration.

    ``remaining``: requests the vendor will still accept in the current window (0: the next one
    would be refused). ``reset_after``: seconds until the window resets, or None when the vendor
    did not say (the pacer then assumes a short window).
    """

    remaining: int
    reset_after: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.remaining, bool) or not isinstance(self.remaining, int) or self.remaining < 0:
            raise ValueError("remaining must be a count of requests (an int, at least 0)")
        after = self.reset_after
        if after is not None and (
            isinstance(after, bool)
            or not isinstance(after, int | float)
            or not math.isfinite(after)
            or after < 0
        ):
            raise ValueError("reset_after must be a number of seconds (finite, at least 0) or None")


def parse_count(value: str | None) -> int | None:
    """A header's request count: plain decimal digits only, else None ("-1", "1e3", "ten" say nothing)."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def parse_seconds(value: str | None) -> float | None:
    """A non-negative number of seconds (``"41"``, ``"0.5"``), else None."""
    if value is None:
        return None
    text = value.strip()
    return float(text) if _NUMBER.fullmatch(text) else None


def parse_reset(value: str | None, *, wall_clock: Callable[[], float] = time.time) -> float | None:
    """Seconds until a reset given as seconds, as a Unix time, or as an ISO 8601 time; else None.

    A reset in the past is 0 (the window has already reset). Vendors use all three forms for
    ``X-RateLimit-Reset``; a number too large to be a wait is read as a Unix time.
    """
    if value is None:
        return None
    seconds = parse_seconds(value)
    if seconds is not None:
        return max(seconds - wall_clock(), 0.0) if seconds >= _EPOCH_AFTER else seconds
    text = value.strip()
    if not text or len(text) > 40:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - wall_clock(), 0.0)


def standard_rate_limit_state(
    headers: httpx.Headers | Mapping[str, str], *, wall_clock: Callable[[], float] = time.time
) -> RateLimitState | None:
    """The IETF ``RateLimit`` field, else ``RateLimit-Remaining``/``-Reset``, else ``X-RateLimit-*``."""
    fields = _rate_limit_fields(headers)
    if not fields:
        return None
    found = _ietf_field(fields.get("ratelimit"))
    if found is not None:
        return found
    for prefix in ("ratelimit-", "x-ratelimit-"):
        remaining = parse_count(fields.get(prefix + "remaining"))
        if remaining is not None:
            reset = parse_reset(fields.get(prefix + "reset"), wall_clock=wall_clock)
            return RateLimitState(remaining, reset)
    return None


def _rate_limit_fields(headers: httpx.Headers | Mapping[str, str]) -> dict[str, str]:
    """The headers whose name mentions a rate limit, found in one pass (this runs on every response).

    ``httpx.Headers.get`` normalises and scans the whole list on each call; one pass over the raw
    pairs replaces the five lookups, and most answers have none of these headers.
    """
    found: dict[str, str] = {}
    pairs = (
        ((key.decode("latin-1"), value.decode("latin-1")) for key, value in headers.raw)
        if isinstance(headers, httpx.Headers)
        else headers.items()
    )
    for key, value in pairs:
        name = key.lower()
        if "ratelimit" in name:
            # Repeated fields are one list (RFC 9110 5.3), as ``Headers.get`` would join them.
            found[name] = f"{found[name]}, {value}" if name in found else value
    return found


def _ietf_field(value: str | None) -> RateLimitState | None:
    """``"day";r=50;t=30, "sec";r=1;t=1`` (draft 08+) or ``limit=5, remaining=1, reset=3`` (draft 07).

    With several policies, the one that runs out first (fewest requests left) decides.
    """
    if not value or len(value) > 1000:
        return None
    items: list[dict[str, str]] = []
    if ";" in value:
        for member in value.split(","):
            params = dict(_pair(part) for part in member.split(";")[1:])
            items.append({"remaining": params.get("r", ""), "reset": params.get("t", "")})
    else:
        items.append(dict(_pair(part) for part in value.split(",")))
    states = []
    for item in items:
        remaining = parse_count(item.get("remaining"))
        if remaining is not None:
            states.append(RateLimitState(remaining, parse_seconds(item.get("reset"))))
    return min(states, key=lambda state: state.remaining, default=None)


def _pair(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key.strip().lower(), value.strip()
