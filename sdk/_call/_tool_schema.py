"""The argument schema a language model is shown for one operation.

Built from the operation's pydantic arguments model: ``$ref`` resolved, pydantic's
annotations dropped, every argument described in words a model can act on, and,
for the providers' strict (grammar-constrained) modes, rewritten into the subset
of JSON Schema they accept. Pure and free of tenant data, so it is cached per
arguments model. Gemini's OpenAPI-style schema is derived from it in
:mod:`sdk._call._gemini_schema`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from sdk._errors import ConfigurationError

__all__ = ["ARGUMENT_HINTS", "argument_schema"]

# Keywords whose values are data, not sub-schemas: copied as they are.
_DATA_KEYWORDS = frozenset({"default", "enum", "const", "examples"})
# Pydantic and OpenAPI annotations that mean nothing to a model.
_NOISE_KEYWORDS = frozenset({"title", "$defs", "definitions", "discriminator"})
# The subset of JSON Schema both providers' strict modes accept.
_STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "const",
        "anyOf",
        "items",
        "description",
    }
)


ARGUMENT_HINTS: Mapping[str, str] = {
    "phone": "The caller's phone number, as dialled or in international form such as +14155550123.",
    "email": "The caller's email address.",
    "contact_id": "The id of a contact, as returned by a contact search; not a phone number or email.",
    "account_id": "The id of an account (the company or organisation), as shown on a contact.",
    "ticket_id": "The id of a ticket, as returned by a ticket listing.",
    "customer_id": "The id of a billing customer, as returned by a customer search.",
    "invoice_id": "The id of an invoice, as returned by an invoice listing.",
    "limit": "The largest number of results to return.",
    "body": "The text to write, in plain words; it is stored as written.",
    "subject": "A short subject line for the new ticket.",
    "public": "True if the customer may see the comment; false keeps it for the business's agents.",
}
"""What the standard operations' arguments mean, for those an operation does not describe itself.

A description the arguments model carries (``Field(description=...)``) wins;
an argument named neither here nor there is described from its name.
"""


def _inline(node: Any, defs: Mapping[str, Any], expanding: frozenset[str]) -> Any:
    """Resolve ``$ref`` into ``$defs`` and drop pydantic's noise, leaving data keywords alone."""
    if isinstance(node, list):
        return [_inline(item, defs, expanding) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = ref.removeprefix("#/$defs/")
        if target in expanding or target not in defs:
            raise ConfigurationError(
                f"tool arguments use {ref!r}, which is recursive or undefined; tools need a finite schema"
            )
        out.update(_inline(defs[target], defs, expanding | {target}))
    for key, value in node.items():
        if key == "$ref" or key in _NOISE_KEYWORDS:
            continue
        if key in _DATA_KEYWORDS:
            out[key] = copy.deepcopy(value)
        elif key in ("properties", "patternProperties", "dependentSchemas"):
            out[key] = {name: _inline(sub, defs, expanding) for name, sub in value.items()}
        else:
            out[key] = _inline(value, defs, expanding)
    return out


def _accepts_null(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_accepts_null(branch) for branch in node.get("anyOf", ()) if isinstance(branch, Mapping))


def _constraint_note(node: Mapping[str, Any]) -> str | None:
    """Say in words what strict mode cannot say as keywords (invoke still enforces them)."""
    low, high = node.get("minLength"), node.get("maxLength")
    if low is not None or high is not None:
        if low is not None and high is not None:
            return f"{low} to {high} characters"
        return f"at least {low} characters" if low is not None else f"at most {high} characters"
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None or high is not None:
        if low is not None and high is not None:
            return f"from {low} to {high}"
        return f"at least {low}" if low is not None else f"at most {high}"
    if "format" in node:
        return f"format {node['format']}"
    return None


def _with_note(node: dict[str, Any], note: str | None) -> dict[str, Any]:
    if note:
        existing = node.get("description")
        node["description"] = f"{existing} ({note})" if existing else note
    return node


def _describe_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every top-level argument a description: its own, the standard one, or one from its name."""
    for name, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and not sub.get("description"):
            sub["description"] = ARGUMENT_HINTS.get(name) or f"The {name.replace('_', ' ').strip()}."
    return schema


def _strict(node: Any) -> Any:
    """Rewrite a cleaned schema into the subset OpenAI's and Anthropic's strict modes accept.

    Strict mode wants every property required and no ``default``: a
    property that may be left out becomes nullable instead, and
    :func:`~sdk._call._tool_invoke.invoke_tool` reads null as "use the default".
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _STRICT_KEYWORDS:
            continue
        if key == "properties":
            out[key] = {name: _strict(sub) for name, sub in value.items()}
        elif key in ("anyOf", "items"):
            out[key] = [_strict(sub) for sub in value] if isinstance(value, list) else _strict(value)
        else:
            out[key] = copy.deepcopy(value)
    _with_note(out, _constraint_note(node))
    if "properties" in out or out.get("type") == "object":
        properties: dict[str, Any] = out.setdefault("properties", {})
        required = set(node.get("required", ()))
        for name in list(properties):
            original = node["properties"][name]
            if name in required or _accepts_null(properties[name]):
                continue
            # The argument's meaning goes on the nullable wrapper; the branch keeps only its limits.
            inner = _strict({key: value for key, value in original.items() if key != "description"})
            nullable: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
            if original.get("description"):
                nullable["description"] = original["description"]
            default = original.get("default")
            properties[name] = _with_note(
                nullable, f"null for the default, {json.dumps(default)}" if default is not None else None
            )
        out["required"] = list(properties)
        out["additionalProperties"] = False
    return out


@functools.lru_cache(maxsize=512)
def _cached_schema(model: type[BaseModel], strict: bool) -> dict[str, Any]:
    raw = model.model_json_schema()
    cleaned: dict[str, Any] = _inline(raw, raw.get("$defs", {}), frozenset())
    cleaned["type"] = "object"
    cleaned.setdefault("properties", {})
    cleaned["additionalProperties"] = False
    _describe_arguments(cleaned)
    return _strict(cleaned) if strict else cleaned


def argument_schema(model: type[BaseModel], *, strict: bool = False) -> dict[str, Any]:
    """The argument schema of one operation, a fresh copy the caller may change.

    ``strict`` gives the smaller schema of the providers' strict modes: every
    argument required, optional ones nullable, limits stated in descriptions.
    """
    return copy.deepcopy(_cached_schema(model, strict))
