"""OpenTelemetry metrics: the service health the seed promises, with no customer data in any point.

Metrics are optional, like spans: install the ``otel`` extra and set a meter
provider in the application (``opentelemetry-sdk`` with an exporter, see
``docs/observability.md``). Without ``opentelemetry-api`` every hook below is
a ``None`` check and a call that returns None; with the API but no provider, the instruments are
OpenTelemetry's proxies and each measurement is dropped after one check.

**What is measured** (names as exported; every attribute is a closed-vocabulary
value that configuration or code defines, never an argument, a result or a
message):

* ``nexora.call.duration`` (s): every dispatched operation, by
  ``nexora.tenant``, ``nexora.region``, ``nexora.integration``,
  ``nexora.connector``, ``nexora.operation`` and ``nexora.outcome`` (``ok``,
  ``cached``, ``cancelled`` or an error class name), taken from the audit
  record. Its count is the number of calls (``nexora_call_duration_seconds_count``
  in Prometheus), as OpenTelemetry's HTTP conventions do with
  ``http.client.request.duration``: a separate counter would double the cost
  of every call with an SDK configured (each measurement costs 7-14 µs there).
* ``nexora.vault.read.duration`` (s): credential reads, by tenant, integration and outcome.
* ``nexora.customer_context.duration`` (s) per fan-out, and
  ``nexora.customer_context.source.duration`` (s) per source with its status.
* ``nexora.conversations.open`` and ``nexora.cache.records``: observable
  up-down counters by tenant, read only when a reader collects, so they cost
  the call path nothing but a registration at open and close.
* ``nexora.redactions``: identifiers redacted, by ``nexora.identifier_type``
  (``card``, ``phone``, ...): never a value, and never the tenant.
* ``nexora.http.retries`` (by integration and reason) and
  ``nexora.rate_limit.wait`` (s): the HTTP layer's retries and pacing waits.

**Cardinality.** Tenants, integrations and operations are bounded by the
configuration and the connectors; outcomes by the error classes. A reason or
type that is not a short identifier becomes ``_OTHER``, so a value passed by
mistake can neither leak nor explode the series count.

**Residency (S8).** Per-tenant points carry ``nexora.region``; route on it in
the collector, as for spans.

**Loaded on first use.** ``opentelemetry.metrics`` and the instruments on the
global meter provider are made by the first hook that needs them (usually the
first conversation opened), not when this module is imported: ``from sdk import
NexoraConnect`` does not pay for them. The global provider is still followed
when the application sets it later, as OpenTelemetry's proxies do.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Protocol

from sdk._errors import ConfigurationError
from sdk._redaction import IdentifierType
from sdk._redaction._engine import observe_redactions

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

    from sdk._audit import AuditRecord

_otel_metrics: Any = None
"""``opentelemetry.metrics`` once :func:`_api` imported it."""
_otel_missing = False
"""True once importing it failed: the `otel` extra is not installed, and metrics are off."""


def _api() -> Any:
    """``opentelemetry.metrics``, imported on first use; None without ``opentelemetry-api``."""
    global _otel_metrics, _otel_missing
    if _otel_metrics is None and not _otel_missing:
        try:
            from opentelemetry import metrics
        except ImportError:
            _otel_missing = True
        else:
            _otel_metrics = metrics
    return _otel_metrics


__all__ = [
    "Metrics",
    "conversation_closed",
    "conversation_opened",
    "default_metrics",
    "record_call",
    "record_customer_context",
    "record_redaction",
    "record_rate_limit_wait",
    "record_retry",
    "record_vault_read",
]

INSTRUMENTATION_NAME: Final = "nexora-connect"

_SECONDS_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.4,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Voice latency buckets: the 300 ms a caller notices sits between two of them, not inside one."""

_WORD: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_IDENTIFIER_TYPES: Final = frozenset(kind.value for kind in IdentifierType)


def _word(value: object) -> str:
    """``value`` if it is a short identifier, else ``_OTHER``: an attribute never carries free text."""
    return value if isinstance(value, str) and _WORD.fullmatch(value) else "_OTHER"


class _Conversation(Protocol):
    """What the open-conversation gauges read from a conversation, at collection time only."""

    @property
    def tenant(self) -> str: ...

    @property
    def cached_records(self) -> int: ...


class _OpenConversations:
    """The conversations open in this process, weakly held, for the gauges' callbacks.

    Callbacks run on the metric reader's thread while the event loop opens and
    closes conversations, so the registry is a dict snapshotted under a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, weakref.ref[_Conversation]] = {}

    def add(self, conversation: _Conversation) -> None:
        with self._lock:
            self._open[id(conversation)] = weakref.ref(conversation)

    def discard(self, conversation: _Conversation) -> None:
        with self._lock:
            self._open.pop(id(conversation), None)

    def snapshot(self) -> list[_Conversation]:
        with self._lock:
            refs = list(self._open.values())
        return [conversation for ref in refs if (conversation := ref()) is not None]


_registry: Final = _OpenConversations()


class Metrics:
    """The SDK's instruments on one meter provider (default: OpenTelemetry's global one)."""

    __slots__ = (
        "call_duration",
        "context_duration",
        "rate_limit_wait",
        "redactions",
        "retries",
        "source_duration",
        "vault_read_duration",
    )

    def __init__(self, meter_provider: MeterProvider | None = None) -> None:
        api = _api()
        if api is None:
            raise ConfigurationError("metrics need opentelemetry-api: pip install 'nexora-connect[otel]'")
        meter = api.get_meter(INSTRUMENTATION_NAME, meter_provider=meter_provider)
        buckets = list(_SECONDS_BUCKETS)
        self.call_duration = meter.create_histogram(
            "nexora.call.duration",
            unit="s",
            description="Operations dispatched (the count) and the time each took, by outcome.",
            explicit_bucket_boundaries_advisory=buckets,
        )
        self.vault_read_duration = meter.create_histogram(
            "nexora.vault.read.duration",
            unit="s",
            description="Time a credential read from Vault took.",
            explicit_bucket_boundaries_advisory=buckets,
        )
        self.context_duration = meter.create_histogram(
            "nexora.customer_context.duration",
            unit="s",
            description="Time conv.customer_context() took across all sources.",
            explicit_bucket_boundaries_advisory=buckets,
        )
        self.source_duration = meter.create_histogram(
            "nexora.customer_context.source.duration",
            unit="s",
            description="Time one source of a customer context took, by its status.",
            explicit_bucket_boundaries_advisory=buckets,
        )
        self.redactions = meter.create_counter(
            "nexora.redactions", unit="{identifier}", description="Identifiers redacted, by type."
        )
        self.retries = meter.create_counter(
            "nexora.http.retries", unit="{retry}", description="Vendor requests sent again, by reason."
        )
        self.rate_limit_wait = meter.create_histogram(
            "nexora.rate_limit.wait",
            unit="s",
            description="Time a request waited for a vendor's rate limit before it was sent.",
            explicit_bucket_boundaries_advisory=buckets,
        )
        meter.create_observable_up_down_counter(
            "nexora.conversations.open",
            callbacks=[_observe_open],
            unit="{conversation}",
            description="Conversations open now, by tenant.",
        )
        meter.create_observable_up_down_counter(
            "nexora.cache.records",
            callbacks=[_observe_cached],
            unit="{record}",
            description="Results held in open conversations' encrypted caches, by tenant.",
        )


def _by_tenant(counts: Counter[str]) -> Iterable[Observation]:
    return [_otel_metrics.Observation(count, {"nexora.tenant": tenant}) for tenant, count in counts.items()]


def _observe_open(options: CallbackOptions) -> Iterable[Observation]:
    return _by_tenant(Counter(conversation.tenant for conversation in _registry.snapshot()))


def _observe_cached(options: CallbackOptions) -> Iterable[Observation]:
    counts: Counter[str] = Counter()
    for conversation in _registry.snapshot():
        counts[conversation.tenant] += conversation.cached_records
    return _by_tenant(counts)


class _Unmade(Enum):
    """``_default`` before :func:`default_metrics` made it (None means metrics are off)."""

    UNMADE = "unmade"


_default: Metrics | _Unmade | None = _Unmade.UNMADE
"""The instruments the hooks record on: made on first use, None without the API (tests swap them)."""
_default_lock: Final = threading.Lock()


def default_metrics() -> Metrics | None:
    """The instruments on OpenTelemetry's global meter provider; None without ``opentelemetry-api``.

    Made (``opentelemetry.metrics`` imported) on the first call; every hook
    below reads ``_default`` first, so after that a hook costs what it did.
    """
    global _default
    made = _default
    if made is _Unmade.UNMADE:
        with _default_lock:
            if _default is _Unmade.UNMADE:
                _default = Metrics() if _api() is not None else None
            made = _default
    assert not isinstance(made, _Unmade)
    return made


# --- the hooks the rest of the SDK calls -----------------------------------------------------------


def record_call(record: AuditRecord) -> None:
    """Record one dispatched operation and its latency, from its audit record (never more than it says)."""
    metrics = _default
    if metrics is _Unmade.UNMADE:
        metrics = default_metrics()
    if metrics is None:
        return
    attributes = {
        "nexora.tenant": record.tenant,
        "nexora.region": record.region or "",
        "nexora.integration": record.integration,
        "nexora.connector": record.connector,
        "nexora.operation": record.operation,
        "nexora.outcome": record.outcome,
    }
    metrics.call_duration.record(record.latency_ms / 1000, attributes)


def record_vault_read(*, tenant: str, integration: str, seconds: float, outcome: str = "ok") -> None:
    """Record one credential read; ``outcome`` is ``ok`` or the error's class name."""
    metrics = _default
    if metrics is _Unmade.UNMADE:
        metrics = default_metrics()
    if metrics is not None:
        metrics.vault_read_duration.record(
            seconds,
            {"nexora.tenant": tenant, "nexora.integration": integration, "nexora.outcome": _word(outcome)},
        )


def record_customer_context(
    *,
    tenant: str,
    region: str | None,
    seconds: float,
    complete: bool,
    sources: Sequence[tuple[str, str, float]],
) -> None:
    """Record one fan-out and each of its sources as ``(integration, status, seconds)``."""
    metrics = _default
    if metrics is _Unmade.UNMADE:
        metrics = default_metrics()
    if metrics is None:
        return
    metrics.context_duration.record(
        seconds, {"nexora.tenant": tenant, "nexora.region": region or "", "nexora.complete": complete}
    )
    for integration, status, took in sources:
        metrics.source_duration.record(
            took, {"nexora.tenant": tenant, "nexora.integration": integration, "nexora.status": status}
        )


def record_redaction(identifier_type: str, count: int = 1) -> None:
    """Count ``count`` identifiers of one type redacted; an unknown type counts as ``_OTHER``."""
    metrics = _default
    if metrics is _Unmade.UNMADE:
        metrics = default_metrics()
    if metrics is not None:
        kind = identifier_type if identifier_type in _IDENTIFIER_TYPES else "_OTHER"
        metrics.redactions.add(count, {"nexora.identifier_type": kind})


def record_retry(integration: str, reason: str, *, tenant: str | None = None) -> None:
    """Count one request the HTTP layer sends again; ``reason``: a status (``429``) or error class name."""
    metrics = _default
    if metrics is _Unmade.UNMADE:
        metrics = default_metrics()
    if metrics is not None:
        attributes = {"nexora.integration": _word(integration), "nexora.retry.reason": _word(reason)}
        if tenant is not None:
            attributes["nexora.tenant"] = _word(tenant)
        metrics.retries.add(1, attributes)


def record_rate_limit_wait(integration: str, seconds: float, *, tenant: str | None = None) -> None:
    """Record a wait the HTTP layer made before sending, to stay within a vendor's rate limit."""
    metrics = _default
    if metrics is _Unmade.UNMADE:
        metrics = default_metrics()
    if metrics is not None:
        attributes = {"nexora.integration": _word(integration)}
        if tenant is not None:
            attributes["nexora.tenant"] = _word(tenant)
        metrics.rate_limit_wait.record(max(seconds, 0.0), attributes)


def conversation_opened(conversation: _Conversation) -> None:
    """Count ``conversation`` as open until :func:`conversation_closed` (or until it is collected)."""
    if default_metrics() is not None:
        _registry.add(conversation)


def conversation_closed(conversation: _Conversation) -> None:
    if _otel_metrics is not None:
        _registry.discard(conversation)


def _count_redaction(kind: IdentifierType) -> None:
    record_redaction(kind.value)


if importlib.util.find_spec("opentelemetry") is not None:
    # The redaction engine is foundation and cannot import this module; it calls back instead. Only
    # looked up, not imported: the first redaction counted loads the instruments (default_metrics).
    observe_redactions(_count_redaction)
