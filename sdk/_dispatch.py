"""Running one operation: validate, enforce the grant, run, audit, cache.

This is the first of the two scope checks (S1); the second is in the HTTP
transport. Every path through here, allowed or denied, successful or not,
emits exactly one audit record (S7) and, when OpenTelemetry is installed and
configured, ends exactly one span whose attributes are taken from that record.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

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
from sdk._scopes import Grant
from sdk._telemetry import OperationTracer, start_operation_span

__all__ = ["IntegrationBinding", "audit_unknown_operation", "dispatch", "resolve_operation"]

# Exceptions a connector's parsing code raises on a payload of the wrong shape.
# httpx.InvalidURL: a URL the connector built from the vendor's data (a next-page link, an id) is unusable.
_PARSE_ERRORS = (
    ValidationError,
    KeyError,
    TypeError,
    ValueError,
    IndexError,
    AttributeError,
    LookupError,
    httpx.InvalidURL,
)


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
) -> Any:
    """Run ``spec`` on the binding's connector under its grant and return the validated result.

    ``tracer`` defaults to one on OpenTelemetry's global tracer provider.
    """
    started = time.monotonic()
    connector = binding.connector
    outcome = "ok"
    decision = AuditDecision.ALLOWED
    ctx: CallContext | None = None
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
        discriminator = _discriminator(kwargs) if (cache is not None and spec.cacheable) else None
        if cache is not None and discriminator is not None:
            hit = cache.get(binding.integration, spec.name, discriminator)
            if hit is not None:
                outcome = "cached"
                return spec.result_adapter.validate_json(hit)

        ctx = CallContext(
            tenant=binding.tenant,
            integration=binding.integration,
            connector=type(connector).name,
            operation=spec,
            grant=binding.grant,
            deadline=deadline,
            base_path=connector.http.base_path,
        )
        with _running(ctx):
            result = await _run(connector, spec, kwargs, deadline)

        if cache is not None:
            if discriminator is not None:
                cache.put(
                    binding.integration, spec.name, discriminator, spec.result_adapter.dump_json(result)
                )
            elif spec.is_write:
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
        )
        try:
            audit.emit(record)
        finally:
            if span is not None:
                span.end(record)


async def _run(
    connector: Connector, spec: OperationSpec, kwargs: dict[str, Any], deadline: float | None
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
    except NexoraError:
        raise
    except _PARSE_ERRORS as exc:
        failure = VendorPayloadError(
            f"{type(connector).name} could not read the vendor's answer to {spec.name} "
            f"({type(exc).__name__}); the vendor's payload did not have the documented shape"
        )
    # Raised outside the except block so the original exception is not even kept as __context__:
    # it can quote the payload (pydantic puts inputs in its errors).
    raise failure
