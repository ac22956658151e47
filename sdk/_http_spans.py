"""HTTP client spans for the SDK's own vendor requests: one clean span each, and nobody else's.

A vendor request's URL is customer data: ids sit in its path
(``/v1/customers/cus_123``) and search terms in its query (Stripe's
``?query=phone:'+6421...'``). The standard OpenTelemetry instrumentations that
applications commonly enable, ``opentelemetry-instrumentation-aiohttp-client``
and ``opentelemetry-instrumentation-httpx``, record that URL whole as
``url.full`` (and, with old semantic conventions, ``http.url``) on every
request they see, and the SDK's requests go through aiohttp (its default
transport) or httpx's own transport (without aiohttp). So this module gives
the HTTP layer two pieces, used together around each request sent:

* :func:`suppress_instrumentation` makes both instrumentations record nothing
  for the requests sent while it is active. Both check OpenTelemetry's
  suppression keys in the current context before they start a span
  (``is_http_instrumentation_enabled()`` in ``opentelemetry.instrumentation.utils``,
  called first thing by the aiohttp ``on_request_start`` hook and by the httpx
  transport wrappers, verified in 0.66b1). Context is per task, so only the
  SDK's own requests are affected, never the application's.
* :func:`start_http_span` starts the SDK's own ``CLIENT`` span in place of
  theirs, following the OpenTelemetry HTTP client conventions except for the
  URL: its name is ``{method} {url.template}`` and it carries
  ``http.request.method``, ``server.address``, ``server.port``,
  ``url.template`` (the endpoint's declared path template, never the filled
  path), ``http.response.status_code`` and ``error.type``, plus
  ``http.request.resend_count`` on a resend. ``url.full`` is left out on
  purpose, since every form of it holds the path's ids or the query.

:func:`send_observed` composes the two around one transport call; it is what
the HTTP layer is meant to call.

Without ``opentelemetry-api`` installed both are no-ops: the suppression is a
shared ``nullcontext`` and no span is started (one ``None`` check each).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Final

import httpx

from sdk import _telemetry

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context.context import Context
    from opentelemetry.trace import Span

    from sdk._telemetry import OperationTracer

__all__ = ["HttpSpan", "error_type_of", "send_observed", "start_http_span", "suppress_instrumentation"]

_KNOWN_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}
# ``error.type`` is a closed vocabulary: an exception's class name or a status code, never a message.
_ERROR_TYPE: Final = re.compile(r"[A-Za-z0-9_.]{1,64}")
# Older instrumentations (before the HTTP-specific key existed) check only this plain string.
_PLAIN_SUPPRESS_KEY: Final = "suppress_instrumentation"

_NO_SUPPRESSION: Final[AbstractContextManager[None]] = nullcontext()


class _Otel:
    """OpenTelemetry's context API and suppression keys, loaded once something has imported them.

    An instrumentation can only be active once ``opentelemetry.context`` is imported,
    so until then there is nothing to suppress and nothing is loaded here: an
    application without OpenTelemetry never pays its import (~3 ms).
    """

    context: ClassVar[Any] = None
    context_class: ClassVar[Any] = None
    suppressing: ClassVar[dict[str, object]] = {}

    @classmethod
    def loaded(cls) -> bool:
        if cls.context is not None:
            return True
        if sys.modules.get("opentelemetry.context") is None:
            return False
        try:
            from opentelemetry import context
            from opentelemetry.context import (
                _SUPPRESS_HTTP_INSTRUMENTATION_KEY,
                _SUPPRESS_INSTRUMENTATION_KEY,
            )
            from opentelemetry.context.context import Context
        except ImportError:  # a partial or blocked installation: nothing can be instrumented
            return False

        cls.suppressing = {
            _SUPPRESS_HTTP_INSTRUMENTATION_KEY: True,
            _SUPPRESS_INSTRUMENTATION_KEY: True,
            _PLAIN_SUPPRESS_KEY: True,
        }
        cls.context_class = Context
        cls.context = context
        return True


class _Suppressed(AbstractContextManager[None]):
    """Sets OpenTelemetry's suppression keys in the current context until exit.

    All three keys are set. The HTTP key is what current instrumentations of
    aiohttp and httpx check; the general one (and its old plain-string form)
    is what older versions check. Inside the SDK's own request nothing else of
    the application's runs, and any instrumentation that did run there would
    see the request's URL, so suppressing everything there loses nothing.
    """

    __slots__ = ("_token",)

    def __init__(self) -> None:
        self._token: Token[Context] | None = None

    def __enter__(self) -> None:
        # One copy of the current context with all three keys (``set_value`` would copy it thrice).
        context = _Otel.context
        self._token = context.attach(_Otel.context_class({**context.get_current(), **_Otel.suppressing}))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, self._token = self._token, None
        if token is not None:
            _Otel.context.detach(token)


def suppress_instrumentation() -> AbstractContextManager[None]:
    """While active, the aiohttp-client and httpx OpenTelemetry instrumentations record nothing.

    Enter it around the transport call of each SDK request (the aiohttp hooks
    and the httpx transport wrapper run in the caller's task, so they see the
    context it sets), in the same task, and leave it in the same task. Each
    call returns a fresh context manager; do not share one between tasks.
    Costs about a microsecond once OpenTelemetry is imported, nothing before
    (no instrumentation can be active without it).
    """
    if not _Otel.loaded():
        return _NO_SUPPRESSION
    return _Suppressed()


def _clean_template(template: str | None) -> str | None:
    """The declared path template without any query or fragment part; None when none was declared."""
    if not template:
        return None
    return template.split("?", 1)[0].split("#", 1)[0] or None


def error_type_of(exc: BaseException) -> str:
    """The ``error.type`` of a request that failed with ``exc``: its class name, never its message."""
    name = type(exc).__qualname__
    return name if _ERROR_TYPE.fullmatch(name) else "_OTHER"


class HttpSpan:
    """The SDK's span of one HTTP request in flight; :meth:`end` closes it (later calls do nothing)."""

    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span: Span | None = span

    def end(self, status: int | None = None, error_type: str | None = None) -> None:
        """Record the outcome and end the span.

        ``status`` is the response's status code, None when no response came.
        ``error_type`` is the failure's class name (see :func:`error_type_of`);
        for a response of 400 or more it defaults to the status code, as the
        conventions ask. Anything that is not a short identifier becomes
        ``_OTHER``, so a message passed here by mistake is not recorded. The
        span's status is ERROR, without a description, exactly when there is
        an ``error.type``.
        """
        span, self._span = self._span, None
        if span is None:
            return
        attributes: dict[str, Any] = {}
        if status is not None:
            attributes["http.response.status_code"] = status
            if error_type is None and status >= 400:
                error_type = str(status)
        if error_type is not None:
            attributes["error.type"] = error_type if _ERROR_TYPE.fullmatch(error_type) else "_OTHER"
            trace = _telemetry._api()
            span.set_status(trace.Status(trace.StatusCode.ERROR))
        span.set_attributes(attributes)
        span.end()


def start_http_span(
    method: str,
    url: httpx.URL,
    template: str | None,
    *,
    resend_count: int = 0,
    tracer: OperationTracer | None = None,
) -> HttpSpan | None:
    """Start the SDK's ``CLIENT`` span for one request; None when tracing is off or sampled out.

    ``template`` must be the endpoint's declared path template
    (``/v1/customers/{customer_id}``), never the filled path: it is recorded
    as ``url.template`` and in the span name. Anything from a ``?`` or ``#``
    on is dropped from it. Of ``url`` only the host and port are recorded.
    ``resend_count`` is how many times this request was sent before (retries,
    a resend after a 401). The span is not made current: nothing below it
    starts spans, since the instrumentations are suppressed.
    """
    tracer = tracer or _telemetry.default_tracer()
    if tracer is None:
        return None
    verb = method.upper()
    if verb not in _KNOWN_METHODS:
        verb = "_OTHER"
    path_template = _clean_template(template)
    attributes: dict[str, Any] = {"http.request.method": verb, "server.address": url.host}
    port = url.port or _DEFAULT_PORTS.get(url.scheme)
    if port is not None:
        attributes["server.port"] = port
    if path_template is not None:
        attributes["url.template"] = path_template
    if resend_count > 0:
        attributes["http.request.resend_count"] = resend_count
    prefix = "HTTP" if verb == "_OTHER" else verb
    span = tracer.tracer.start_span(
        f"{prefix} {path_template}" if path_template is not None else prefix,
        kind=_telemetry._api().SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )
    if not span.is_recording():
        return None
    return HttpSpan(span)


async def send_observed(
    send: Callable[[httpx.Request], Awaitable[httpx.Response]],
    request: httpx.Request,
    template: str | None,
    *,
    resend_count: int = 0,
) -> httpx.Response:
    """Send ``request`` with ``send`` under the SDK's span, with the instrumentations suppressed.

    The span ends when the response's head has arrived (its body is read
    later, by the caller), or with the exception's class name when sending
    failed, including on cancellation; the exception is re-raised unchanged.
    """
    span = start_http_span(request.method, request.url, template, resend_count=resend_count)
    try:
        with suppress_instrumentation():
            response = await send(request)
    except BaseException as exc:
        if span is not None:
            span.end(None, error_type_of(exc))
        raise
    if span is not None:
        span.end(response.status_code)
    return response
