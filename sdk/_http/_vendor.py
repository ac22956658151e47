"""The request API a connector instance uses: retries, deadlines, size limits and typed errors.

Every request is one of the running operation's declared endpoints, filled by
the SDK; an attempt that may be retried gets the retry policy's share of what is
left of the caller's deadline, any other attempt all of it; a retry is
made only when repeating the request is safe (a read, a declared POST read, a
write with an idempotency key, or a request that never left); every attempt
first passes the integration's pacer, which holds it while the vendor's
rate-limit headers say the window is used up (:mod:`sdk._http._pacing`); a response
larger than the limit is refused unread; and every non-2xx outcome becomes the
most specific :class:`~sdk.VendorError`, carrying the declared template, never
the filled path.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import math
import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

import httpx
from tenacity import AsyncRetrying, retry_if_exception

from sdk import _metrics
from sdk._errors import DeadlineExceededError, VendorError, VendorPayloadError
from sdk._http._aiohttp import BODY_LIMIT
from sdk._http._echoes import presented_values, safe_hook_value
from sdk._http._guard import SAFE_METHODS, outside_an_operation, refused
from sdk._http._pacing import Pacer
from sdk._http._pool import DEFAULT_TIMEOUT, guarded_transport_of
from sdk._http._ratelimit_headers import RateLimitState
from sdk._http._request_url import ApiRoot, encode_query
from sdk._http._running import RunningCall, running_call
from sdk._http._send import send_with_auth
from sdk._retry import RETRYABLE, RetryPolicy
from sdk._vendor_errors import MAX_RETRY_AFTER, _NotSentError, _status_error, translate_httpx_error

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "ResponseHooks", "VendorHttp"]

DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class ResponseHooks(Protocol):
    """What the HTTP layer asks the connector about its vendor's responses."""

    def request_id(self, response: httpx.Response) -> str | None: ...

    def error_code(self, response: httpx.Response) -> str | None: ...

    def retry_after(self, response: httpx.Response) -> float | None: ...

    def rate_limit_state(self, response: httpx.Response) -> RateLimitState | None: ...


def _retry_reason(exc: BaseException | None) -> str:
    """A closed-vocabulary word for why a request is sent again: the status, or the error class."""
    status = getattr(exc, "status", None)
    return str(status) if isinstance(status, int) else type(exc).__name__


class VendorHttp:
    """The request API a connector instance uses; bound to one integration of one tenant."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth,
        hooks: ResponseHooks,
        retry_policy: RetryPolicy,
        idempotency_header: str | None = None,
        auto_idempotency: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        default_headers: Mapping[str, str] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._root = ApiRoot(self._base_url)
        self._base_path = self._root.path
        # The pool's clients are sent on directly (their scope-guarded transport, no client layers);
        # any other client, e.g. one a test built by hand, gets ``client.send`` as before.
        self._transport = guarded_transport_of(client)
        # The client's own headers (User-Agent, Accept, ...) as ``build_request`` merges them: a
        # request's header replaces the client's of the same name, whatever its case.
        self._client_headers = [
            (name.lower(), name, value)
            for name, value in ((k.decode("latin-1"), v.decode("latin-1")) for k, v in client.headers.raw)
        ]
        self._client_timeout = client.timeout.as_dict()
        self._auth = auth
        self._hooks = hooks
        self._retry_policy = retry_policy
        self._idempotency_header = idempotency_header
        self._auto_idempotency = auto_idempotency and idempotency_header is not None
        self._max_response_bytes = max_response_bytes
        self._default_headers = dict(default_headers or {})
        # One pacer per instance, and one instance per tenant and integration: the vendor's
        # rate-limit headers pace this tenant's integration only (S2).
        self._pacer = pacer or Pacer()

    @property
    def base_path(self) -> str:
        """The encoded path of the API root (``""`` for a bare origin); endpoints are relative to it."""
        return self._base_path

    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one logical request (with retries) and return the fully read response.

        ``path`` is one of the running operation's declared endpoint templates
        (``"/v1/customers/{customer_id}"``) and ``path_params`` its values: the
        SDK fills each placeholder with one percent-encoded segment and refuses
        an unsafe value with :class:`~sdk.InvalidArgumentsError` before anything
        is sent. Raises a :class:`~sdk.VendorError` subclass for any non-2xx outcome.
        """
        method = method.upper()
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        ctx = running_call()
        shown = _shown_path(ctx, method, path)
        if "{" in path or "}" in path or path_params is not None:
            path = self._fill(ctx, method, path, path_params or {})
        all_headers = {**self._default_headers, **(headers or {})}
        replayable = method in SAFE_METHODS
        if method == "POST" and ctx is not None and ctx.operation.allows_post_read(path):
            replayable = True
        if method not in SAFE_METHODS and self._auto_idempotency:
            idempotency_key = idempotency_key or str(uuid.uuid4())
        if idempotency_key is not None:
            if not self._idempotency_header:
                raise ValueError("this connector declares no idempotency_header")
            all_headers[self._idempotency_header] = idempotency_key
            replayable = True
        request = self._build(method, path, params, json, data, all_headers)
        deadline = ctx.deadline if ctx is not None else None

        last_failure: list[BaseException] = []

        def should_retry(exc: BaseException) -> bool:
            last_failure[:] = [exc]
            return isinstance(exc, _NotSentError) or (replayable and isinstance(exc, RETRYABLE))

        # Most requests succeed at the first attempt: make that one without building the retry
        # machinery (~20 µs), and hand a retryable failure to tenacity as its first attempt.
        try:
            return await self._attempt(request, deadline, shown, attempt=1, replayable=replayable)
        except Exception as exc:
            if not should_retry(exc):
                raise
            replay: list[Exception] = [exc]
        retrying = AsyncRetrying(
            stop=self._retry_policy.stop(deadline),
            wait=self._retry_policy.wait(),
            retry=retry_if_exception(should_retry),
            reraise=True,
            sleep=asyncio.sleep,
        )
        async for attempt in retrying:
            with attempt:
                if replay:
                    raise replay.pop()
                number = attempt.retry_state.attempt_number
                if ctx is not None and last_failure:
                    # Counted when the resend really starts (a closed-vocabulary reason, never a message).
                    _metrics.record_retry(ctx.integration, _retry_reason(last_failure[0]), tenant=ctx.tenant)
                return await self._attempt(request, deadline, shown, attempt=number, replayable=replayable)
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover

    def _build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx.Request:
        """The request as ``client.build_request`` makes it, its URL made without re-parsing.

        The query is encoded once here and the URL made from the API root parsed at
        construction (:mod:`sdk._http._request_url`): httpx would otherwise check every
        character of it twice, and vendor reads such as HubSpot's carry a long query.
        """
        if self._transport is None or "?" in path:
            url = self._base_url + path
            if params and "?" not in path:
                url = f"{url}?{httpx.QueryParams(params)}"
                params = None
            request = self._client.build_request(
                method, url, params=params, json=json, data=data, headers=headers
            )
            request.extensions[BODY_LIMIT] = self._max_response_bytes
            return request
        target = self._root.url(path, encode_query(params) if params else None)
        return httpx.Request(
            method,
            target,
            headers=self._merged_headers(headers),
            json=json,
            data=data,
            extensions={"timeout": self._client_timeout, BODY_LIMIT: self._max_response_bytes},
        )

    def _merged_headers(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        replaced = {name.lower() for name in headers}
        kept = [(name, value) for lowered, name, value in self._client_headers if lowered not in replaced]
        return kept + list(headers.items())

    @staticmethod
    def _fill(ctx: RunningCall | None, method: str, template: str, values: Mapping[str, object]) -> str:
        if ctx is None:
            raise outside_an_operation(method)
        endpoint = ctx.operation.endpoint(method, template)
        if endpoint is None:
            raise refused(ctx, method, f"{method} {template} is not one of its declared endpoints")
        return endpoint.fill(values, operation=ctx.operation.name)

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and parse its JSON body (None for an empty body)."""
        response = await self.request(method, path, **kwargs)
        return self.parse_json(response)

    @staticmethod
    def parse_json(response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return jsonlib.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: a document nested deeper than the interpreter's recursion limit
            # (200 KB of '[' is enough); it must not escape untyped from every operation.
            pass
        # Raised outside the except block: JSONDecodeError keeps the whole document in .doc.
        ctx = running_call()
        method = response.request.method
        raw = response.request.url.raw_path.decode("ascii", "replace").partition("?")[0]
        if ctx is not None and ctx.base_path and raw.startswith(ctx.base_path):
            raw = raw[len(ctx.base_path) :]
        raise VendorPayloadError(
            "the vendor's response is not valid JSON (truncated, nested too deeply, or not JSON)",
            method=method,
            path=_shown_path(ctx, method, raw),
            status=response.status_code,
        )

    async def _attempt(
        self, request: httpx.Request, deadline: float | None, path: str, *, attempt: int, replayable: bool
    ) -> httpx.Response:
        """Send once (attempt number ``attempt``, 1 = the first) once the pacer lets it through.

        ``path`` is what errors show: the declared template, never the filled path. An attempt
        the retry policy may follow with another gets only its share of the time left.
        """
        method = request.method
        admitted_at = time.monotonic()
        await self._pacer.admit(deadline, method=method, path=path)
        waited = time.monotonic() - admitted_at
        if waited > 0.001:
            ctx = running_call()
            if ctx is not None:
                _metrics.record_rate_limit_wait(ctx.integration, waited, tenant=ctx.tenant)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError(f"the deadline passed before {method} {path} could be sent")
            allowed = self._retry_policy.attempt_timeout(remaining, attempt=attempt, retryable=replayable)
            timeout = min(allowed, DEFAULT_TIMEOUT.read or allowed)
            request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        failure: VendorError | None = None
        try:
            if self._transport is not None:
                response = await send_with_auth(self._transport, request, self._auth)
            else:
                response = await self._client.send(request, auth=self._auth, stream=True)
            whole = _read_whole(response)
            try:
                body = await self._read_limited(response, path, whole=whole)
            finally:
                await response.aclose()
            if whole and not response.headers.get("content-encoding"):
                final = response  # the transport read it whole, as the vendor sent it
            else:
                # Streamed: a response with its body. Decoded while read: without the content-coding
                # header, or it would be decoded twice.
                headers = [
                    (k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"
                ]
                final = httpx.Response(response.status_code, headers=headers, content=body, request=request)
        except httpx.HTTPError as exc:
            failure = translate_httpx_error(exc, method=method, path=path)
        if failure is not None:
            # Raised outside the except block: httpx errors hold the request, with its credential
            # header and query string, and must not ride along as __context__ (S3).
            raise failure
        ctx = running_call()
        if ctx is not None:
            ctx.http_status = response.status_code
        self._pacer.observe(self._safe_rate_limit_state(final))
        if final.status_code < 400:
            return final
        echoes = presented_values(request, ctx)
        context: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": final.status_code,
            "request_id": safe_hook_value(self._hooks.request_id, final, echoes),
            "vendor_code": safe_hook_value(self._hooks.error_code, final, echoes),
        }
        retry_after = self._safe_retry_after(final) if final.status_code == 429 else None
        if retry_after is not None:
            self._pacer.back_off(retry_after)
        raise _status_error(final.status_code, retry_after, context)

    async def _read_limited(self, response: httpx.Response, path: str, *, whole: bool) -> bytes:
        if whole:
            # Read whole by the transport (a declared length within the limit) or built in memory.
            if len(response.content) > self._max_response_bytes:
                raise self._oversized(response, path)
            return response.content
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_response_bytes:
            raise self._oversized(response, path)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_response_bytes:
                raise self._oversized(response, path)
            chunks.append(chunk)
        return b"".join(chunks)

    def _oversized(self, response: httpx.Response, path: str) -> VendorPayloadError:
        return VendorPayloadError(
            f"the vendor's response exceeds the {self._max_response_bytes}-byte limit",
            method=response.request.method,
            path=path,
            status=response.status_code,
        )

    def _safe_retry_after(self, response: httpx.Response) -> float | None:
        """Run the connector's ``retry_after`` hook; a hook bug must not mask the 429 itself.

        An exception (a hook parsing a hostile error body) or a value that is not a finite
        number of seconds counts as "no advice", so the retry policy's own back-off applies.
        """
        try:
            value = self._hooks.retry_after(response)
        except Exception:  # noqa: BLE001 - the rate limit is what the caller needs to see
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)

    def _safe_rate_limit_state(self, response: httpx.Response) -> RateLimitState | None:
        """Run the connector's ``rate_limit_state`` hook; a hook bug or a wrong type says nothing.

        Pacing is an optimisation: a hook that raises on a hostile header must not fail the
        request whose answer has already arrived.
        """
        try:
            state = self._hooks.rate_limit_state(response)
        except Exception:  # noqa: BLE001 - the answer is here; pacing is best effort
            return None
        return state if isinstance(state, RateLimitState) else None


def _read_whole(response: httpx.Response) -> bool:
    """True when the response's body is in memory already (its ``content`` can be read)."""
    if not response.is_stream_consumed:
        return False
    try:
        response.content  # noqa: B018 - the property raises when the body was streamed, not kept
    except httpx.ResponseNotRead:
        return False
    return True


def _shown_path(ctx: RunningCall | None, method: str, path: str) -> str:
    """The path an error may name: a declared template (ids stay out of errors and logs)."""
    if "{" in path or ctx is None:
        return path
    found = ctx.operation.matching_endpoint(method, path)
    return found.template if found is not None else "(an undeclared path)"
