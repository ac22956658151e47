"""What a vendor's answer, or the failure to get one, means as an SDK error.

Two callers need the same words: the SDK's vendor HTTP layer (``sdk._http``)
and the OAuth token requests in ``vault``, which must not depend on that layer.
So the translation lives here, in the foundation: httpx errors to the most
specific :class:`~sdk.VendorError`, an HTTP status to its error, and the
``Retry-After`` header to seconds. Nothing here sends anything, and no message
repeats a URL's query, a header or a body.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

import httpx

from sdk._errors import (
    VendorAuthError,
    VendorConflictError,
    VendorConnectionError,
    VendorError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)

__all__ = ["MAX_RETRY_AFTER", "parse_retry_after", "translate_httpx_error"]

MAX_RETRY_AFTER = 300.0


class _NotSentError(VendorConnectionError):
    """The connection was never established, so repeating any request is safe.

    Private by name on purpose: :func:`~sdk._errors.error_kind` reports the nearest
    public class (``VendorConnectionError``), the one operators can look up.
    """


def translate_httpx_error(exc: Exception, *, method: str, path: str) -> VendorError:
    """Map an httpx exception to the most specific SDK error (never echoing URL queries)."""
    context: dict[str, Any] = {"method": method, "path": path}
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return _NotSentError("could not connect to the vendor in time", **context)
    if isinstance(exc, httpx.TimeoutException):
        return VendorTimeoutError("the vendor did not answer in time", **context)
    if isinstance(exc, httpx.ConnectError):
        return _NotSentError("could not connect to the vendor", **context)
    if isinstance(exc, httpx.ProxyError | httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return VendorConnectionError(f"the request could not be sent ({type(exc).__name__})", **context)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.NetworkError):
        return VendorConnectionError(f"the connection to the vendor failed ({type(exc).__name__})", **context)
    if isinstance(exc, httpx.DecodingError):
        return VendorPayloadError("the vendor's response could not be decoded", **context)
    if isinstance(exc, httpx.TooManyRedirects):
        return VendorPayloadError("the vendor redirected too many times", **context)
    if isinstance(exc, httpx.InvalidURL):
        return VendorPayloadError("the request URL is invalid", **context)
    return VendorError(f"the request failed ({type(exc).__name__})", **context)


def _status_error(status: int, retry_after: float | None, context: dict[str, Any]) -> VendorError:
    """The error for a vendor's non-2xx ``status``; ``context`` names method, path, status and ids."""
    if status in (401, 403):
        return VendorAuthError(
            "the vendor rejected the credential even after a fresh read from Vault; check that the key "
            "stored for this integration is valid and has the vendor-side permissions",
            **context,
        )
    if status == 404:
        return VendorNotFoundError("the vendor has no such record", **context)
    if status == 409:
        return VendorConflictError("the vendor refused the write because of a conflict", **context)
    if status == 429:
        return VendorRateLimitError(
            "the vendor is rate limiting requests", retry_after=retry_after, **context
        )
    if status >= 500:
        return VendorServerError("the vendor failed to serve the request", **context)
    return VendorError("the vendor refused the request", **context)


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
