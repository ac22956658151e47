"""One tool definition in each provider's own shape.

Every format carries the same name, description and argument schema
(:mod:`sdk._call._tool_schema`); only the envelope differs, and each is
checked in the tests against the provider's official SDK types, so a key
misspelled or invented here fails there:

* ``"openai"`` and ``"chat_completions"``: OpenAI Chat Completions,
  ``{"type": "function", "function": {...}}`` (``ChatCompletionFunctionToolParam``);
* ``"responses"``: the OpenAI Responses API's flat function tool
  (``FunctionToolParam``), which always states ``strict``;
* ``"realtime"``: the OpenAI Realtime API's flat function tool
  (``RealtimeFunctionToolParam``), which has no ``strict`` flag;
* ``"anthropic"``: an Anthropic Messages tool (``ToolParam``);
* ``"gemini"``: a Gemini ``FunctionDeclaration``, whose ``parameters`` are
  Gemini's OpenAPI-style ``Schema`` rather than JSON Schema.

Realtime and Gemini have no strict mode. ``strict=True`` still gives them the
strict-mode schema (every argument required, optional ones nullable, limits in
words), which they accept and which steers a model to send every argument; it
constrains nothing, and :func:`~sdk._call._tool_invoke.invoke_tool` validates
every call whatever the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from sdk._errors import UsageError

__all__ = ["FORMATS", "ToolFormat", "check_format", "gemini_schema", "shape"]

ToolFormat = Literal["openai", "chat_completions", "responses", "realtime", "anthropic", "gemini"]
FORMATS: tuple[str, ...] = get_args(ToolFormat)

# JSON Schema keywords Gemini's Schema has under the same (camelCase) name.
_GEMINI_KEPT = (
    "description",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
)


def check_format(format: object) -> ToolFormat:
    """``format`` if it is one of :data:`FORMATS`; a :class:`~sdk.UsageError` naming them otherwise."""
    if isinstance(format, str) and format in FORMATS:
        return format  # type: ignore[return-value]
    known = ", ".join(repr(name) for name in FORMATS)
    raise UsageError(f"Unknown tool format {format!r}. Use one of {known}.")


def shape(
    name: str, description: str, schema: dict[str, Any], format: ToolFormat, strict: bool
) -> dict[str, Any]:
    """The definition of one tool in ``format``; ``schema`` is already strict or not, as asked."""
    if format in ("openai", "chat_completions"):
        function: dict[str, Any] = {"name": name, "description": description, "parameters": schema}
        if strict:
            function["strict"] = True
        return {"type": "function", "function": function}
    if format == "responses":
        return {
            "type": "function",
            "name": name,
            "description": description,
            "parameters": schema,
            "strict": strict,
        }
    if format == "realtime":
        return {"type": "function", "name": name, "description": description, "parameters": schema}
    if format == "anthropic":
        definition: dict[str, Any] = {"name": name, "description": description, "input_schema": schema}
        if strict:
            definition["strict"] = True
        return definition
    return {"name": name, "description": description, "parameters": gemini_schema(schema)}


def _note(node: dict[str, Any], text: str) -> None:
    existing = node.get("description")
    node["description"] = f"{existing} ({text})" if existing else text


def gemini_schema(node: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite a cleaned JSON Schema into Gemini's OpenAPI 3.0 subset.

    Types are upper-case names; ``["string", "null"]`` and an ``anyOf`` with
    a null branch become ``nullable``; ``const`` becomes a one-value ``enum``;
    a ``format`` or non-string ``enum`` Gemini does not take is said in the
    description instead. ``additionalProperties`` is dropped, since Gemini's
    function declarations have historically refused it; invoke still refuses
    arguments the operation does not take.
    """
    out: dict[str, Any] = {}
    nullable = False
    kind = node.get("type")
    if isinstance(kind, list):
        nullable = "null" in kind
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind == "null":
        nullable = True
    elif isinstance(kind, str):
        out["type"] = kind.upper()
    for key in _GEMINI_KEPT:
        if node.get(key) not in (None, ""):
            out[key] = node[key]
    branches = [b for b in node.get("anyOf", ()) if isinstance(b, Mapping)]
    real = [b for b in branches if b.get("type") != "null"]
    nullable = nullable or len(real) < len(branches)
    if len(real) == 1:
        # ``X or null``: X itself, nullable; X's limits follow the argument's meaning.
        inner = gemini_schema(real[0])
        limits = inner.pop("description", None)
        out = {**inner, **out}
        if limits:
            _note(out, limits)
    elif real:
        out["anyOf"] = [gemini_schema(b) for b in real]
    if isinstance(node.get("const"), str):
        out["enum"] = [node["const"]]
    elif "const" in node:
        _note(out, f"always {node['const']!r}")
    if "enum" in node:
        values = node["enum"]
        if all(isinstance(value, str) for value in values):
            out["enum"] = list(values)
        else:
            _note(out, "one of " + ", ".join(repr(value) for value in values))
    if "format" in node:
        _note(out, f"format {node['format']}")
    if "default" in node and node["default"] is not None:
        out["default"] = node["default"]
    if "items" in node and isinstance(node["items"], Mapping):
        out["items"] = gemini_schema(node["items"])
    if "properties" in node:
        out["properties"] = {name: gemini_schema(sub) for name, sub in node["properties"].items()}
        out["required"] = [name for name in node.get("required", ()) if name in out["properties"]]
        out.setdefault("type", "OBJECT")
    if nullable:
        out["nullable"] = True
    return out
