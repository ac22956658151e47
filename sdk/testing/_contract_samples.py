"""Examples and minimal instances read from an OpenAPI document, for test fixtures (needs no openapi-core)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/components/...``) until a concrete node is reached."""
    for _ in range(50):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not (isinstance(ref, str) and ref.startswith("#/")):
            return node
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    raise ValueError(f"reference chain too long at {node!r}")


def examples(document: Mapping[str, Any], content: Mapping[str, Any]) -> dict[str, Any]:
    """Return the examples of the first media type that has any, by name.

    Named ``examples`` and a media-level ``example`` come first; the schema's own ``example`` is
    used (under the name ``"schema"``) only when there is neither.
    """
    found: dict[str, Any] = {}
    for media_type in content.values():
        media_type = resolve(document, media_type)
        for key, example in media_type.get("examples", {}).items():
            example = resolve(document, example)
            if "value" in example:
                found[key] = example["value"]
        if media_type.get("example") is not None:
            found["example"] = media_type["example"]
        schema = resolve(document, media_type.get("schema", {}))
        if not found and schema.get("example") is not None:
            found["schema"] = schema["example"]
        if found:
            break
    return found


def body_schema(document: Mapping[str, Any], content: Mapping[str, Any]) -> Any:
    """Return the schema of the JSON (or form) media type of a body."""
    for mimetype, media_type in content.items():
        if "json" in mimetype or mimetype in ("*/*", "application/x-www-form-urlencoded"):
            return resolve(document, media_type).get("schema", {})
    raise KeyError(f"no JSON or form media type among {list(content)}")


_FORMAT_SAMPLES = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
}


def minimal_instance(document: Mapping[str, Any], schema: Any, depth: int = 0) -> Any:
    """Build the smallest value the schema accepts: required fields only, first choices, nulls."""
    schema = resolve(document, schema)
    if depth > 40:
        raise ValueError("schema nests too deeply for a minimal instance")
    if not isinstance(schema, dict):
        return {}
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = minimal_instance(document, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return minimal_instance(document, schema[key][0], depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1
        if "null" in kind:
            return None
        kind = kind[0]
    if schema.get("nullable"):
        return None
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties", {})
        return {
            name: minimal_instance(document, properties.get(name, {}), depth + 1)
            for name in schema.get("required", [])
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        return [minimal_instance(document, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "string":
        literal = schema.get("pattern", "").removeprefix("^").removesuffix("$")
        if literal and not re.search(r"[\\.*+?()\[\]{}|^$]", literal):
            return literal  # e.g. Stripe's list "url": pattern "^/v1/customers"
        return _FORMAT_SAMPLES.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    return {}
