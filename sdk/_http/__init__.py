"""The HTTP layer every connector talks to its vendor through.

Three things happen here and nowhere else:

* the second, independent scope check (S1): :class:`ScopeGuardTransport`
  refuses a mutating request that the operation in progress may not send,
  *inside* the transport, so it holds whatever the connector code does
  (:mod:`sdk._http._guard`);
* credentials are applied per request (see :mod:`sdk._auth`);
* retries, timeouts, size limits and the translation of httpx errors and
  vendor statuses into the SDK's typed errors (:mod:`sdk._http._vendor`,
  with the translation itself in :mod:`sdk._vendor_errors`);
* pacing by the vendor's rate-limit headers, per tenant and integration, so
  that a used-up window is waited out (or refused by the deadline) before
  the vendor answers 429 (:mod:`sdk._http._pacing`, the headers read in
  :mod:`sdk._http._ratelimit_headers`).

The network itself is reached through aiohttp when it is installed
(:class:`AiohttpTransport` under the httpx client, :mod:`sdk._http._aiohttp`),
otherwise through httpx's own transport; the shared, cookieless clients are in
:mod:`sdk._http._pool`, and the filter that keeps ids and queries out of
httpx's log lines in :mod:`sdk._http._logging`.
"""

from sdk._http._aiohttp import AiohttpTransport, default_transport
from sdk._http._echoes import presented_values as _presented_values
from sdk._http._guard import SAFE_METHODS, ScopeGuardTransport, check_request, enforce_request_scope
from sdk._http._logging import install_log_filter
from sdk._http._pacing import Pacer
from sdk._http._pool import DEFAULT_TIMEOUT, HttpClientPool
from sdk._http._ratelimit_headers import (
    RateLimitState,
    parse_count,
    parse_reset,
    parse_seconds,
    standard_rate_limit_state,
)
from sdk._http._running import RunningCall, running_call
from sdk._http._vendor import DEFAULT_MAX_RESPONSE_BYTES, ResponseHooks, VendorHttp
from sdk._vendor_errors import translate_httpx_error

install_log_filter()

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "SAFE_METHODS",
    "AiohttpTransport",
    "HttpClientPool",
    "Pacer",
    "RateLimitState",
    "ResponseHooks",
    "RunningCall",
    "ScopeGuardTransport",
    "VendorHttp",
    "_presented_values",
    "check_request",
    "default_transport",
    "enforce_request_scope",
    "parse_count",
    "parse_reset",
    "parse_seconds",
    "running_call",
    "standard_rate_limit_state",
    "translate_httpx_error",
]
