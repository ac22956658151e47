"""OpenTelemetry spans, one per dispatched operation, carrying no customer data and no secret.

Tracing is optional: install the ``otel`` extra (``opentelemetry-api``) and
configure a tracer provider in the application (``opentelemetry-sdk`` with the
exporter of your choice). Without the API installed, dispatch pays one ``None``
check per call and nothing else; with the API but no SDK provider, each call
starts a no-op span and drops it at once.

**What a span says.** The span for an operation is named
``nexora.<connector>.<operation>`` and carries the fields of the operation's
audit record and nothing more (``nexora.tenant``, ``nexora.integration``,
``nexora.connector``, ``nexora.operation``, ``nexora.scope``,
``nexora.region``, ``nexora.decision``, ``nexora.outcome``,
``nexora.http_status``, ``nexora.credential_version``, ``nexora.cache_hit``,
and ``error.type`` on failure). Those are closed-vocabulary values that the configuration or the
code defines, so, like the audit record (S7), a span has no field a
customer's data or a key could land in. Arguments, results, URLs and
exception messages are never recorded: a failure is recorded as its error
class name only. OpenTelemetry's own ``Span.record_exception`` and the
status it sets on an exception quote the message and the stack, which can
hold a vendor's payload, so neither is used.

**Residency (S8).** Spans are telemetry, and a tenant's telemetry stays in its
region unless the tenant allows otherwise. The exporter is the application's
choice, so the application must keep that promise: export to a collector in
the tenant's region, or route on ``nexora.region`` (the tenant's region, on
every span) in the collector or in a span processor.

**Kind.** The span is ``INTERNAL``, not ``CLIENT``: one operation may send no
request at all (a cache hit, a scope denial), one, or several (retries, pages,
a resend after a 401). The vendor requests themselves belong to HTTP client
spans nested under it.

**HTTP client spans** are the job of :mod:`sdk._http_spans`: one ``CLIENT``
span per vendor request, child of the operation's span, named
``{method} {url.template}`` after the endpoint's declared path template and
carrying no id and no query string. The standard instrumentations of aiohttp
and httpx (``opentelemetry-instrumentation-aiohttp-client``,
``opentelemetry-instrumentation-httpx``) record the full URL, ids and query
included (``url.full``), so they are suppressed for the SDK's own requests;
see ``docs/telemetry.md``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Final

from sdk._audit import AuditRecord
from sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context.context import Context
    from opentelemetry.trace import Span, Tracer, TracerProvider

try:
    from opentelemetry import context as _otel_context
    from opentelemetry import trace as _otel_trace
except ImportError:  # the `otel` extra is not installed: tracing is off
    _otel_available = False
else:
    _otel_available = True

__all__ = ["OTEL_AVAILABLE", "OperationSpan", "OperationTracer", "default_tracer", "start_operation_span"]

OTEL_AVAILABLE: Final[bool] = _otel_available
"""Whether ``opentelemetry-api`` could be imported."""

INSTRUMENTATION_NAME: Final = "nexora-connect"

# Outcomes that are not failures: a span that ended with one of these keeps an unset status.
# A cancelled operation is the caller's choice (a context budget ran out), not an error of the operation.
_NOT_FAILURES: Final = frozenset({"ok", "cached", "cancelled"})


def _package_version() -> str | None:
    try:
        return version("nexora-connect")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return None


class OperationSpan:
    """The span of one operation in progress; :meth:`end` must be called exactly once."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: Span, token: Token[Context]) -> None:
        self._span = span
        self._token = token

    def end(self, record: AuditRecord) -> None:
        """Close the span with the outcome from the operation's audit record and restore the context.

        The attributes come from the audit record, not from the operation's
        locals, so that a span can never say more than the audit trail does.
        """
        span = self._span
        try:
            outcome = record.outcome
            attributes: dict[str, Any] = {
                "nexora.decision": record.decision.value,
                "nexora.outcome": outcome,
                "nexora.cache_hit": outcome == "cached",
            }
            if record.http_status is not None:
                attributes["nexora.http_status"] = record.http_status
            if record.credential_version is not None:
                attributes["nexora.credential_version"] = record.credential_version
            if outcome not in _NOT_FAILURES:
                attributes["error.type"] = outcome
                # OpenTelemetry's exception event, by type only: no message, no stack.
                span.add_event("exception", {"exception.type": outcome})
                span.set_status(_otel_trace.Status(_otel_trace.StatusCode.ERROR, outcome))
            span.set_attributes(attributes)
            span.end()
        finally:
            _otel_context.detach(self._token)


class OperationTracer:
    """Starts the span of each dispatched operation on a tracer provider.

    Without ``tracer_provider`` it follows OpenTelemetry's global provider,
    including one the application sets after this SDK was imported.
    """

    __slots__ = ("_tracer",)

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        if not OTEL_AVAILABLE:
            raise ConfigurationError("tracing needs opentelemetry-api: pip install 'nexora-connect[otel]'")
        self._tracer = _otel_trace.get_tracer(
            INSTRUMENTATION_NAME, _package_version(), tracer_provider=tracer_provider
        )

    @property
    def tracer(self) -> Tracer:
        """The OpenTelemetry tracer the SDK's spans are started on (operations and HTTP requests)."""
        return self._tracer

    def start(
        self, *, tenant: str, integration: str, connector: str, operation: str, scope: str, region: str
    ) -> OperationSpan | None:
        """Start the operation's span and make it current; None when it would not be recorded."""
        span = self._tracer.start_span(
            f"nexora.{connector}.{operation}",
            kind=_otel_trace.SpanKind.INTERNAL,
            # Known before the call, so that a sampler can decide on them.
            attributes={
                "nexora.tenant": tenant,
                "nexora.integration": integration,
                "nexora.connector": connector,
                "nexora.operation": operation,
                "nexora.scope": scope,
                "nexora.region": region,
            },
            record_exception=False,
            set_status_on_exception=False,
        )
        if not span.is_recording():
            # No SDK configured, or sampled out: the caller's span stays current, and the rest is skipped.
            return None
        # Current for the duration of the operation, so HTTP client spans nest under it.
        token = _otel_context.attach(_otel_trace.set_span_in_context(span))
        return OperationSpan(span, token)


_default: OperationTracer | None = OperationTracer() if OTEL_AVAILABLE else None


def default_tracer() -> OperationTracer | None:
    """The tracer on OpenTelemetry's global provider, or None when ``opentelemetry-api`` is not installed."""
    return _default


def start_operation_span(
    *,
    tenant: str,
    integration: str,
    connector: str,
    operation: str,
    scope: str,
    region: str,
    tracer: OperationTracer | None = None,
) -> OperationSpan | None:
    """Start an operation's span on ``tracer`` (default: the global provider's); None when tracing is off."""
    tracer = tracer or _default
    if tracer is None:
        return None
    return tracer.start(
        tenant=tenant,
        integration=integration,
        connector=connector,
        operation=operation,
        scope=scope,
        region=region,
    )
