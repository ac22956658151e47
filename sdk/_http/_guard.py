"""The second, independent scope check (S1): every request is checked just before it is sent.

:class:`ScopeGuardTransport` wraps the real transport, so the check holds
whatever the connector code does: a request the running operation did not
declare, or a write its tenant did not grant, never reaches the network.
"""

from __future__ import annotations

import httpx

from sdk._endpoints import Endpoint, method_override_in
from sdk._errors import ScopeDeniedError
from sdk._http._running import RunningCall, running_call
from sdk._http_spans import send_observed

__all__ = ["SAFE_METHODS", "ScopeGuardTransport", "check_request", "enforce_request_scope", "refused"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refused(ctx: RunningCall, method: str, why: str) -> ScopeDeniedError:
    """The refusal of a request of the running operation; it names the operation, never the path sent."""
    spec = ctx.operation
    declared = ", ".join(str(e) for e in spec.endpoints) or "nothing"
    return ScopeDeniedError(
        f"refused a {method} request from {spec.name} of integration {ctx.integration!r}: {why} "
        f"(it declares: {declared})",
        scope=str(spec.scope),
    )


def outside_an_operation(method: str) -> ScopeDeniedError:
    return ScopeDeniedError(
        f"refused a {method} request: vendor requests may only be sent by a dispatched operation"
    )


def enforce_request_scope(request: httpx.Request) -> RunningCall:
    """Refuse ``request`` unless the operation in progress declared it; see :func:`check_request`."""
    return check_request(request)[0]


def check_request(request: httpx.Request) -> tuple[RunningCall, Endpoint]:
    """Refuse ``request`` unless the operation in progress declared it (S1, HTTP layer).

    The request's final method and encoded path — after the auth flow and
    every normalisation httpx applied — must match one of the running
    operation's declared endpoints, relative to the integration's API root,
    with every placeholder segment a plain value (never ``.``, ``..`` or a
    separator in any encoding). A method that is not a read additionally needs
    a granted write scope, or a read operation's declared POST (whose body
    check, if any, must pass). Method overrides are refused on every request,
    and requests made outside a dispatched operation are refused outright.
    Errors name the operation and its declared endpoints, never the path sent:
    it can hold an argument value.
    """
    method = request.method.upper()
    ctx = running_call()
    if ctx is None:
        raise outside_an_operation(method)
    raw = request.url.raw_path.decode("ascii", "replace")
    path, _, query = raw.partition("?")
    # Every override parameter name holds "method" once decoded; a query with neither that word nor
    # a percent-escape cannot name one (HubSpot's reads carry ~20 parameters: skip splitting them).
    lowered = query.lower()
    query_names = (
        [item.partition("=")[0] for item in query.split("&") if item]
        if "method" in lowered or "%" in lowered
        else []
    )
    override = method_override_in(request.headers.keys(), query_names)
    if override is not None:
        raise refused(ctx, method, f"it carries a method override ({override})")
    base = ctx.base_path
    if base:
        if not path.startswith(base + "/"):
            raise refused(ctx, method, "its path is outside the integration's API root")
        path = path[len(base) :]
    spec = ctx.operation
    endpoint = spec.matching_endpoint(method, path)
    if endpoint is None:
        raise refused(ctx, method, "its path is not one of the operation's declared endpoints")
    if method not in SAFE_METHODS:
        if spec.scope.is_write and not ctx.grant.allows(spec.scope):
            raise ScopeDeniedError(
                f"refused {method} {endpoint.template}: {spec.name} needs {spec.scope}, which tenant "
                f"{ctx.tenant!r} did not grant integration {ctx.integration!r}",
                scope=str(spec.scope),
            )
        if not spec.scope.is_write and method != "POST":  # pragma: no cover - refused at declaration
            raise refused(ctx, method, "a read may not send a mutating method")
    if endpoint.body_check is not None:
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b""
        if not endpoint.body_check(body):
            raise refused(ctx, method, f"its body failed the check declared for {endpoint}")
    return ctx, endpoint


class ScopeGuardTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport and checks every request just before it is sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ctx, endpoint = check_request(request)
        ctx.requests_sent += 1
        # The SDK's own span (declared template, no ids, no query) in place of what the aiohttp and
        # httpx OpenTelemetry instrumentations would record: the URL with its ids and query (S3).
        return await send_observed(
            self._inner.handle_async_request,
            request,
            ctx.base_path + endpoint.template,
            resend_count=ctx.requests_sent - 1,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
