"""Scanning finished spans for canaries: everything a span would export, in any case."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

AIOHTTP_SCOPE = "opentelemetry.instrumentation.aiohttp_client"
HTTPX_SCOPE = "opentelemetry.instrumentation.httpx"
SDK_SCOPE = "nexora-connect"


def span_texts(span: ReadableSpan) -> list[str]:
    """Every string a span would export: name, attributes, status, events, links, scope, resource."""
    texts = [span.name, str(span.status.description or "")]
    texts += [f"{key}={value!r}" for key, value in (span.attributes or {}).items()]
    for event in span.events:
        texts.append(event.name)
        texts += [f"{key}={value!r}" for key, value in (event.attributes or {}).items()]
    for link in span.links:
        texts += [f"{key}={value!r}" for key, value in (link.attributes or {}).items()]
    if span.instrumentation_scope is not None:
        texts.append(span.instrumentation_scope.name)
    texts += [f"{key}={value!r}" for key, value in span.resource.attributes.items()]
    return texts


def leaks(spans: Sequence[ReadableSpan], canaries: Sequence[str]) -> list[tuple[str, str]]:
    """(span name, canary) for every canary found anywhere in any span, in any case."""
    return [
        (span.name, canary)
        for span in spans
        for text in span_texts(span)
        for canary in canaries
        if canary.lower() in text.lower()
    ]


def scope_of(span: ReadableSpan) -> str:
    return span.instrumentation_scope.name if span.instrumentation_scope is not None else ""
