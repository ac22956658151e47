"""Running one operation: validate, enforce the grant, run, audit, cache.

This is the first of the two scope checks (S1); the second is in the HTTP
transport. Every path through here, allowed or denied, successful or not,
emits exactly one audit record (S7) and, when OpenTelemetry is installed and
configured, ends exactly one span and counts one call in the metrics
(:mod:`sdk._metrics`), both with attributes taken from that record.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sdk import _metrics
from sdk._audit import AuditDecision, AuditRecord, AuditSink
from sdk._cache import ConversationCache
from sdk._connector import Connector
from sdk._context import CallContext, _running
from sdk._errors import (
    DeadlineExceededError,
    NexoraError,
    ScopeDeniedError,
    UnknownOperationError,
    VendorPayloadError,
    error_kind,
)
from sdk._operations import OperationSpec
from sdk._parsing import PARSE_ERRORS
from sdk._parsing._notes import ReadNotes, field_path, names_a_field
from sdk._scopes import Grant
from sdk._telemetry import OperationTracer, start_operation_span

__all__ = [
    "Flights",
    "IntegrationBinding",
    "audit_unknown_operation",
    "collecting_notes",
    "dispatch",
    "resolve_operation",
]

Flights = dict[tuple[str, str, bytes], "_Flight"]
"""A conversation's reads in flight, by the key its cache uses: what single-flight joins."""


class _Flight:
    """One read in flight that identical reads of the same conversation wait for instead of resending.

    The future is made by the first waiter: most reads have none, and a bare slot costs less.
    """

    __slots__ = ("_done", "followers")

    def __init__(self) -> None:
        self._done: asyncio.Future[bytes | None] | None = None
        self.followers = 0

    @property
    def done(self) -> asyncio.Future[bytes | None]:
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        return self._done

    def finish(self, shared: bytes | None) -> None:
        """Hand the waiters the packed result, or None (nothing to share: each runs on its own)."""
        if self._done is not None and not self._done.done():
            self._done.set_result(shared)


_step_notes: ContextVar[ReadNotes | None] = ContextVar("nexora_step_notes", default=None)


@contextmanager
def collecting_notes() -> Iterator[ReadNotes]:
    """Collect what the operations dispatched in the block could not read (for the fan-out's statuses).

    A ContextVar rather than a return value: ``conv.call`` keeps returning the bare result, and an
    operation dispatched outside such a block costs one ``ContextVar.get``.
    """
    notes = ReadNotes()
    token = _step_notes.set(notes)
    try:
        yield notes
    finally:
        _step_notes.reset(token)


@dataclass(frozen=True, slots=True)
class IntegrationBinding:
    """One tenant's integration: its connector instance and the grant it holds."""

    tenant: str
    integration: str
    connector: Connector
    grant: Grant
    region: str

    def spec(self, operation: str) -> OperationSpec:
        """The operation named ``operation``; the error lists what exists and never echoes the name.

        The name can come from a language model steered by the caller, so it is
        treated like any other hostile value: it is not repeated back.
        """
        spec = type(self.connector).operations.get(operation) if isinstance(operation, str) else None
        if spec is None or not spec.implemented:
            available = ", ".join(sorted(type(self.connector).implemented_operations())) or "none"
            raise UnknownOperationError(
                f"integration {self.integration!r} ({type(self.connector).name}) has no such operation; "
                f"available: {available}"
            )
        return spec


UNKNOWN_OPERATION = "(unknown)"
"""What the audit trail names a call to an operation that does not exist (the name itself is input)."""


def audit_unknown_operation(
    audit: AuditSink,
    *,
    tenant: str,
    integration: str,
    connector: str,
    region: str | None,
    conversation_id: str | None,
) -> None:
    """Record a call to an operation or tool that does not exist, as a denied call (S7)."""
    audit.emit(
        AuditRecord(
            tenant=tenant,
            integration=integration,
            connector=connector,
            operation=UNKNOWN_OPERATION,
            scope="(none)",
            decision=AuditDecision.DENIED,
            outcome="UnknownOperationError",
            latency_ms=0.0,
            conversation_id=conversation_id,
            region=region,
        )
    )


def resolve_operation(
    binding: IntegrationBinding, operation: str, *, audit: AuditSink, conversation_id: str | None
) -> OperationSpec:
    """Look ``operation`` up on the binding; an unknown name is audited as a denied call, then raised."""
    failure: UnknownOperationError | None = None
    try:
        return binding.spec(operation)
    except UnknownOperationError as exc:
        failure = exc
    audit_unknown_operation(
        audit,
        tenant=binding.tenant,
        integration=binding.integration,
        connector=type(binding.connector).name,
        region=binding.region,
        conversation_id=conversation_id,
    )
    raise failure


def _discriminator(arguments: dict[str, Any]) -> bytes:
    return json.dumps(arguments, sort_keys=True, default=str, separators=(",", ":")).encode()


async def _join(flight: _Flight, deadline: float | None) -> bytes | None:
    """Wait for the read in flight; None when it produced nothing to share (failed, cancelled)."""
    flight.followers += 1
    waiting = asyncio.shield(flight.done)
    try:
        if deadline is None:
            return await waiting
        async with asyncio.timeout_at(deadline):
            return await waiting
    except TimeoutError:
        raise DeadlineExceededError(
            "the caller's deadline passed waiting for an identical read in flight"
        ) from None


async def dispatch(
    binding: IntegrationBinding,
    spec: OperationSpec,
    arguments: dict[str, Any],
    *,
    audit: AuditSink,
    conversation_id: str | None,
    deadline: float | None = None,
    cache: ConversationCache | None = None,
    tracer: OperationTracer | None = None,
    flights: Flights | None = None,
) -> Any:
    """Run ``spec`` on the binding's connector under its grant and return the validated result.

    ``tracer`` defaults to one on OpenTelemetry's global tracer provider. ``flights`` is the
    conversation's map of reads in flight: an identical read (same integration, operation and
    arguments) already running is joined rather than sent again (single-flight). A joined read
    that fails or is cancelled shares nothing; each waiter then runs on its own, under its own
    deadline. Never shared across conversations: each has its own map.
    """
    started = time.monotonic()
    connector = binding.connector
    outcome = "ok"
    decision = AuditDecision.ALLOWED
    ctx: CallContext | None = None
    notes: ReadNotes | None = None
    flight: _Flight | None = None
    flight_key: tuple[str, str, bytes] | None = None
    span = start_operation_span(
        tenant=binding.tenant,
        integration=binding.integration,
        connector=type(connector).name,
        operation=spec.name,
        scope=str(spec.scope),
        region=binding.region,
        tracer=tracer,
    )

    try:
        # The grant is checked before the arguments: a write the tenant did not grant is denied
        # (and audited as denied) whatever arguments were sent, and reveals nothing about them.
        if not binding.grant.allows(spec.scope):
            decision = AuditDecision.DENIED
            raise ScopeDeniedError(
                f"{spec.name} needs {spec.scope}, which tenant {binding.tenant!r} did not grant integration "
                f"{binding.integration!r}; add it to write_scopes with grant = 'scoped-write' to allow it",
                scope=str(spec.scope),
            )
        kwargs = spec.validate_arguments(arguments)
        cached = cache is not None and spec.cacheable
        shared = flights is not None and not spec.is_write
        discriminator = _discriminator(kwargs) if (cached or shared) else None
        if cache is not None and cached and discriminator is not None:
            hit = cache.get(binding.integration, spec.name, discriminator)
            if hit is not None:
                outcome = "cached"
                notes, payload = ReadNotes.unpack(hit)
                return spec.result_adapter.validate_json(payload)
        if flights is not None and shared and discriminator is not None:
            flight_key = (binding.integration, spec.name, discriminator)
            while (leader := flights.get(flight_key)) is not None:
                joined = await _join(leader, deadline)
                if joined is not None:
                    outcome = "shared"
                    notes, payload = ReadNotes.unpack(joined)
                    return spec.result_adapter.validate_json(payload)
            flight = flights[flight_key] = _Flight()

        ctx = CallContext(
            tenant=binding.tenant,
            integration=binding.integration,
            connector=type(connector).name,
            operation=spec,
            grant=binding.grant,
            deadline=deadline,
            base_path=connector.http.base_path,
            accepts_partial=_step_notes.get() is not None,
        )
        with _running(ctx):
            result = await _run(connector, spec, kwargs, deadline, ctx)
        notes = ctx.notes

        # A truncated result is neither cached nor shared: a later or waiting plain conv.call could
        # not see that it is partial (its waiters run on their own).
        if not (notes and notes.truncated):
            packed: bytes | None = None
            if cache is not None and cached and discriminator is not None:
                packed = ReadNotes.packed(notes, spec.result_adapter.dump_json(result))
                cache.put(binding.integration, spec.name, discriminator, packed)
            if flight is not None and flight.followers:
                if packed is None:
                    packed = ReadNotes.packed(notes, spec.result_adapter.dump_json(result))
                flight.finish(packed)
        if cache is not None and spec.is_write:
            cache.discard_integration(binding.integration)
        return result
    except NexoraError as exc:
        outcome = error_kind(exc)
        raise
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    except Exception as exc:
        # A connector bug: the audit trail must not call it "ok". The class name only, never the message.
        outcome = error_kind(exc)
        raise
    finally:
        if flight is not None:
            flight.finish(None)  # a no-op after a shared result: the future is done
            if flights is not None and flight_key is not None and flights.get(flight_key) is flight:
                del flights[flight_key]
        if ctx is not None and notes is None:
            notes = ctx.notes  # the operation failed after noting something
        record = AuditRecord(
            tenant=binding.tenant,
            integration=binding.integration,
            connector=type(connector).name,
            operation=spec.name,
            scope=str(spec.scope),
            decision=decision,
            outcome=outcome,
            http_status=ctx.http_status if ctx else None,
            latency_ms=round((time.monotonic() - started) * 1000, 3),
            credential_version=ctx.credential_version if ctx else None,
            conversation_id=conversation_id,
            region=binding.region,
            **(notes.audit_fields() if notes else {}),
        )
        if notes:
            collector = _step_notes.get()
            if collector is not None:
                collector.merge(notes)
        try:
            audit.emit(record)
        finally:
            if span is not None:
                span.end(record)
            _metrics.record_call(record)


def _endpoint_named(ctx: CallContext) -> tuple[str | None, str | None]:
    """The method and template of the request whose answer could not be read, when known."""
    named = ctx.last_endpoint
    if named is None and len(ctx.operation.endpoints) == 1:
        named = str(ctx.operation.endpoints[0])
    if named is None:
        return None, None
    method, _, template = named.partition(" ")
    return method, template or None


async def _run(
    connector: Connector,
    spec: OperationSpec,
    kwargs: dict[str, Any],
    deadline: float | None,
    ctx: CallContext,
) -> Any:
    method = getattr(connector, spec.name)
    failure: NexoraError | None = None
    try:
        if deadline is None:
            raw = await method(**kwargs)
        else:
            async with asyncio.timeout_at(deadline):
                raw = await method(**kwargs)
        return spec.result_adapter.validate_python(raw)
    except TimeoutError:
        failure = DeadlineExceededError(f"{spec.name} did not finish within the caller's deadline")
    except VendorPayloadError as exc:
        if exc.status is not None:
            raise  # the HTTP layer's (a body that is not JSON): it names its request already
        failure = _payload_error(connector, spec, ctx, exc)
    except NexoraError:
        raise
    except PARSE_ERRORS as exc:
        failure = _payload_error(connector, spec, ctx, exc)
    # Raised outside the except block so the original exception is not even kept as __context__:
    # it can quote the payload (pydantic puts inputs in its errors).
    raise failure


def _payload_error(
    connector: Connector, spec: OperationSpec, ctx: CallContext, exc: BaseException
) -> VendorPayloadError:
    """The error for an answer that could not be read: integration, operation, request and field path."""
    path = field_path(exc)
    method, template = _endpoint_named(ctx)
    where = f" at {path}" if path else ""
    named = f"{type(connector).name} integration {ctx.integration!r}, operation {spec.name}{where}"
    if isinstance(exc, VendorPayloadError) and not names_a_field(exc):
        # The connector's or the pager's own words (SDK rule: a message never quotes a value), now
        # naming where; a request it named already wins over the one inferred here.
        said = str(exc.args[0]) if exc.args else "unreadable answer"
        if exc.method and exc.path:
            said = said.replace(f" ({exc.method} {exc.path})", "", 1)
            method, template = exc.method, exc.path
        message = f"{said} ({named})"
    else:
        message = (
            f"could not read the vendor's answer ({named}: {error_kind(exc)}); "
            "the vendor's payload did not have the documented shape"
        )
    return VendorPayloadError(message, method=method, path=template, status=ctx.http_status)
