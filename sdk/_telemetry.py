"""OpenTelemetry spans, one per dispatched operation, carrying no customer data and no secret.

Tracing is optional: install the ``otel`` extra (``opentelemetry-api``) and
configure a tracer provider in the application (``opentelemetry-sdk`` with the
exporter of your choice). Without the API installed, dispatch pays a ``None``
check and a call that returns None per call; with the API but no SDK provider, each call
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

**One trace per conversation.** A conversation's span (``conversation``,
with ``nexora.tenant``, ``nexora.conversation_id`` and, from its first
operation, ``nexora.region``) opens with the conversation, as a child of the
span current where it opened (a voice framework's call span) or as a root, and
ends at hangup or wipe. Every public use of the conversation runs under it
(:meth:`ConversationTrace.adopt`), so its ``customer_context`` span with one
span per source, its ``execute_tool`` spans, the operation spans and the HTTP
client spans all land in that one trace. A use made under a span that is
already in the conversation's trace (an agent's turn span under its call
span) nests under that span instead. The conversation id is the voice
platform's opaque call id, not customer data; phone numbers, emails, tool
arguments and results are never recorded (``docs/observability.md``).

**Loaded on first use.** The OpenTelemetry API and the tracer on the global
provider are imported and made by the first span wanted (the first
conversation opened, usually), not when this module is imported.
"""

from __future__ import annotations

import importlib.util
import threading
from enum import Enum
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Final

from sdk._audit import AuditRecord
from sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context.context import Context
    from opentelemetry.trace import Span, Tracer, TracerProvider

_otel_trace: Any = None
"""``opentelemetry.trace`` once :func:`_api` imported it (and ``_otel_context``, its context API)."""
_otel_context: Any = None
_otel_missing = False
"""True once importing the API failed: the `otel` extra is not installed, and tracing is off."""


def _api() -> Any:
    """``opentelemetry.trace``, imported on first use; None without ``opentelemetry-api``."""
    global _otel_trace, _otel_context, _otel_missing
    if _otel_trace is None and not _otel_missing:
        try:
            from opentelemetry import context, trace
        except ImportError:
            _otel_missing = True
        else:
            _otel_context = context
            _otel_trace = trace
    return _otel_trace


__all__ = [
    "OTEL_AVAILABLE",
    "ConversationTrace",
    "OperationSpan",
    "OperationTracer",
    "StepSpan",
    "default_tracer",
    "start_conversation_trace",
    "start_operation_span",
    "start_step_span",
]


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported (``find_spec`` of a submodule raises without its parent)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


OTEL_AVAILABLE: Final[bool] = _installed("opentelemetry.trace")
"""Whether ``opentelemetry-api`` is installed (looked up, not imported: see :func:`_api`)."""

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
        api = _api()
        if api is None:
            raise ConfigurationError("tracing needs opentelemetry-api: pip install 'nexora-connect[otel]'")
        self._tracer: Tracer = api.get_tracer(
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


class _Unmade(Enum):
    """``_default`` before :func:`default_tracer` made it (None means tracing is off)."""

    UNMADE = "unmade"


_default: OperationTracer | _Unmade | None = _Unmade.UNMADE
"""The tracer spans start on: made on first use, None without the API (tests swap it)."""
_default_lock: Final = threading.Lock()


def default_tracer() -> OperationTracer | None:
    """The tracer on OpenTelemetry's global provider, or None when ``opentelemetry-api`` is not installed.

    Made (the API imported) on the first call; the functions below read
    ``_default`` first, so after that starting a span costs what it did.
    """
    global _default
    made = _default
    if made is _Unmade.UNMADE:
        with _default_lock:
            if _default is _Unmade.UNMADE:
                _default = OperationTracer() if _api() is not None else None
            made = _default
    assert not isinstance(made, _Unmade)
    return made


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
    if tracer is None:
        default = _default
        tracer = default_tracer() if default is _Unmade.UNMADE else default
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


# --- the conversation's trace ----------------------------------------------------------------------

_END_REASONS: Final = {
    "hung up": "hangup",
    "maximum lifetime reached": "max_lifetime",
    "SDK shut down": "shutdown",
}
"""Close reasons as a closed vocabulary; any reason the application's code gave is ``closed``."""


class ConversationTrace:
    """The span of one open conversation; :meth:`end` closes it once, at hangup or wipe.

    It is never made current where the conversation opens, which may be a
    different task from the ones that use it: each use makes it current for
    its own duration with :meth:`adopt` and :meth:`release`.
    """

    __slots__ = ("_has_region", "_span", "_trace_id")

    def __init__(self, span: Span, trace_id: int) -> None:
        self._span = span
        self._trace_id = trace_id
        self._has_region = False

    def adopt(self) -> Token[Context] | None:
        """Make the conversation's span current, unless the current span is already in its trace.

        Returns the token for :meth:`release`, or None when nothing was changed.
        """
        if _otel_trace.get_current_span().get_span_context().trace_id == self._trace_id:
            return None
        token: Token[Context] = _otel_context.attach(_otel_trace.set_span_in_context(self._span))
        return token

    @staticmethod
    def release(token: Token[Context] | None) -> None:
        """Undo :meth:`adopt`, in the same task."""
        if token is not None:
            _otel_context.detach(token)

    def set_region(self, region: str) -> None:
        """Record the tenant's region (known once the first integration is bound) for routing (S8)."""
        if not self._has_region:
            self._has_region = True
            self._span.set_attribute("nexora.region", region)

    def end(self, reason: str) -> None:
        self._span.set_attribute("nexora.end_reason", _END_REASONS.get(reason, "closed"))
        self._span.end()


def start_conversation_trace(
    *, tenant: str, conversation_id: str, tracer: OperationTracer | None = None
) -> ConversationTrace | None:
    """Start a conversation's span; None when tracing is off.

    A span that is sampled out is still kept (and adopted), so that what runs
    under it is sampled out with it rather than starting traces of its own.
    """
    if tracer is None:
        default = _default
        tracer = default_tracer() if default is _Unmade.UNMADE else default
    if tracer is None:
        return None
    span = tracer.tracer.start_span(
        "conversation",
        kind=_otel_trace.SpanKind.INTERNAL,
        attributes={"nexora.tenant": tenant, "nexora.conversation_id": conversation_id},
        record_exception=False,
        set_status_on_exception=False,
    )
    context = span.get_span_context()
    if not context.is_valid:  # the API without an SDK: nothing would ever be recorded under it
        return None
    return ConversationTrace(span, context.trace_id)


class StepSpan:
    """A span of the call's own work (customer context, one source, a tool call), current until ended."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: Span, token: Token[Context]) -> None:
        self._span = span
        self._token = token

    def end(self, attributes: dict[str, Any] | None = None, *, error_type: str | None = None) -> None:
        """Close the span with closed-vocabulary ``attributes`` and, on failure, the error class name only."""
        span = self._span
        try:
            if attributes:
                span.set_attributes(attributes)
            if error_type is not None:
                span.set_attribute("error.type", error_type)
                span.add_event("exception", {"exception.type": error_type})
                span.set_status(_otel_trace.Status(_otel_trace.StatusCode.ERROR, error_type))
            span.end()
        finally:
            _otel_context.detach(self._token)


def start_step_span(
    name: str, attributes: dict[str, Any], *, tracer: OperationTracer | None = None
) -> StepSpan | None:
    """Start a span of the call's own work under the current one and make it current; None if unrecorded."""
    if tracer is None:
        default = _default
        tracer = default_tracer() if default is _Unmade.UNMADE else default
    if tracer is None:
        return None
    span = tracer.tracer.start_span(
        name,
        kind=_otel_trace.SpanKind.INTERNAL,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )
    if not span.is_recording():
        return None
    return StepSpan(span, _otel_context.attach(_otel_trace.set_span_in_context(span)))
