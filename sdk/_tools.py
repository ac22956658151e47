"""Scoped tools for a language model: definitions of what the tenant granted, and invoking them.

A tool is one implemented operation of one of the tenant's integrations. Reads
are always offered; a write is offered only if the tenant granted its scope. A
write that was not granted is not offered at all, so the model never learns it
exists; if a name is forged anyway, dispatch refuses it (S1) and audits the
denial (S7), and the model is told no more than that there is no such tool.

Tool names are ``<integration>__<operation>`` (``crm__find_contacts``). Both
OpenAI and Anthropic accept ``^[a-zA-Z0-9_-]{1,64}$``; integration ids are
``[a-z0-9][a-z0-9_-]*`` and operation names are Python identifiers, so the
name only needs a separator that neither side uses alone: the double
underscore. A name longer than 64 characters keeps its first 55 and ends in
``_`` plus 8 hex digits of the SHA-256 of the full name, so it stays
deterministic and distinct. Two pairs that still produce the same name (an
integration id containing ``__``) are a configuration error, never a silent
pick.

Results reach the model only through :func:`~sdk._llm_view.llm_view` with the
tenant's redaction policy (S6): internal records (agents' notes, internal ticket
comments) are left out unless the tenant opted in, and the policy's per-field
rules apply. A write whose whole result is such a record (``create_note``)
answers ``{"status": "done"}``: the model learns the write happened, which it
asked for, and nothing of the record. Errors are raised as the SDK's typed errors for
the agent's code; :meth:`ToolResult.from_error` turns any of them into a short
message the model can act on, with no tenant, scope, path or value in it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from sdk._dispatch import UNKNOWN_OPERATION, audit_unknown_operation
from sdk._errors import (
    AccessDeniedError,
    ConfigurationError,
    ConversationClosedError,
    DeadlineExceededError,
    InvalidArgumentsError,
    ScopeDeniedError,
    UnknownIntegrationError,
    UnknownOperationError,
    UsageError,
    VaultUnavailableError,
    VendorConflictError,
    VendorConnectionError,
    VendorNotFoundError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)
from sdk._llm_view import LLMPolicy, LLMRenderer
from sdk._models import BillingCustomer, SharedModel
from sdk._operations import OperationSpec

if TYPE_CHECKING:
    from sdk._conversation import Conversation
    from sdk._runtime import NexoraConnect

__all__ = ["ToolFormat", "ToolResult", "invoke_tool", "tool_definitions", "tool_name"]

ToolFormat = Literal["openai", "anthropic"]

_MAX_NAME = 64
_OPERATION_PATTERN = re.compile(r"[A-Za-z0-9_]+")
# An argument name the model invented is repeated in an error only if it looks like an identifier;
# anything else (digits, '@', spaces) could be a value typed into the wrong place.
_ARGUMENT_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_ARGUMENTS_CHARS = 256 * 1024
_MAX_DESCRIPTION = 1024

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


# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool call gives back to the model: a redacted result or a model-safe error.

    ``content`` is JSON-able and already redacted by the tenant's policy; it
    is still customer data, so the repr never shows it.
    """

    ok: bool
    content: Any = None
    error: str | None = None
    error_kind: str | None = None
    """``invalid_arguments``, ``unknown_tool``, ``not_found``, ``conflict``, ``timeout``,
    ``unavailable``, ``closed`` or ``failed``."""

    @classmethod
    def from_error(cls, exc: BaseException, *, tool: str | None = None) -> ToolResult:
        """Render an error for the model: what happened and what to do, nothing internal.

        Only :class:`~sdk.InvalidArgumentsError` keeps its own message, which
        names argument fields and never their values; every other error maps
        by class to a fixed sentence, because messages meant for operators
        name tenants, scopes and URL paths the model has no business seeing.
        """
        kind, message = _render(exc, tool)
        return cls(ok=False, error=message, error_kind=kind)

    def as_json(self) -> str:
        """The text to hand to the model as the tool's output."""
        payload = self.content if self.ok else {"error": self.error, "kind": self.error_kind}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

    def to_message(self, format: ToolFormat, call_id: str) -> dict[str, Any]:
        """The tool-result message for the call ``call_id``, in OpenAI Chat Completions or Anthropic form."""
        if format == "openai":
            return {"role": "tool", "tool_call_id": call_id, "content": self.as_json()}
        if format == "anthropic":
            message: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": call_id,
                "content": self.as_json(),
            }
            if not self.ok:
                message["is_error"] = True
            return message
        raise UsageError(f"unknown tool format {format!r}: use 'openai' or 'anthropic'")

    def __repr__(self) -> str:
        if self.ok:
            return f"ToolResult(ok=True, content=<redacted {type(self.content).__name__}>)"
        return f"ToolResult(ok=False, error_kind={self.error_kind!r}, error={self.error!r})"


def _render(exc: BaseException, tool: str | None) -> tuple[str, str]:
    if isinstance(exc, ConversationClosedError):
        return "closed", "the call has ended; no tool can be used any more"
    if isinstance(exc, InvalidArgumentsError):
        return "invalid_arguments", f"{exc} Fix the arguments and call the tool again."
    if isinstance(exc, UnknownOperationError | UnknownIntegrationError | AccessDeniedError):
        return (
            "unknown_tool",
            "there is no such tool in this conversation; use only the tools you were given",
        )
    if isinstance(exc, DeadlineExceededError | VendorTimeoutError):
        return "timeout", "the system did not answer in time; continue without this information"
    if isinstance(exc, VendorNotFoundError):
        return "not_found", "no matching record was found"
    if isinstance(exc, VendorConflictError):
        return "conflict", "the system refused the change because the record changed; do not repeat it"
    if isinstance(
        exc, VendorRateLimitError | VendorServerError | VendorConnectionError | VaultUnavailableError
    ):
        return "unavailable", "the system is temporarily unavailable; continue without this information"
    return "failed", "the tool could not be used; continue without this information"


# --- the catalogue ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tool:
    """One (integration, operation) pair under its tool name, granted or not."""

    name: str
    integration: str
    spec: OperationSpec
    system: str
    category: str
    granted: bool

    @property
    def description(self) -> str:
        summary = self.spec.description.strip().rstrip(".")
        text = f"{summary}. Reaches {self.system} ({self.category} integration '{self.integration}')."
        if self.spec.is_write:
            text += f" Changes data in {self.system}."
        return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"


def tool_name(integration: str, operation: str) -> str:
    """The tool name of ``operation`` on ``integration``: ``<integration>__<operation>``, cut to 64."""
    if not _OPERATION_PATTERN.fullmatch(operation):
        raise ConfigurationError(
            f"operation {operation!r} cannot be offered as a tool: rename it to ASCII letters, digits and '_'"
        )
    full = f"{integration}__{operation}"
    if len(full) <= _MAX_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: _MAX_NAME - 9]}_{digest}"


# Per runtime, per tenant: the configuration is frozen and bindings are built once per runtime, so
# the catalogue cannot change while the runtime lives. A memo of derived, secret-free data, not
# configuration; weakly keyed so that it goes with the runtime.
_CATALOGUES: weakref.WeakKeyDictionary[NexoraConnect, dict[str, dict[str, _Tool]]] = (
    weakref.WeakKeyDictionary()
)


def _catalogue(conv: Conversation) -> dict[str, _Tool]:
    """Every implemented operation of the tenant's integrations, by tool name, granted or not."""
    conv._require_open()
    per_tenant = _CATALOGUES.setdefault(conv._runtime, {})
    found = per_tenant.get(conv.tenant)
    if found is None:
        found = per_tenant[conv.tenant] = _build_catalogue(conv)
    return found


def _build_catalogue(conv: Conversation) -> dict[str, _Tool]:
    found: dict[str, _Tool] = {}
    for integration, binding in conv._runtime.integrations(conv.tenant).items():
        connector = type(binding.connector)
        for spec in connector.operations.values():
            if not spec.implemented:
                continue
            entry = _Tool(
                name=tool_name(integration, spec.name),
                integration=integration,
                spec=spec,
                system=connector.display_name or connector.name,
                category=str(connector.category),
                granted=binding.grant.allows(spec.scope),
            )
            clash = found.get(entry.name)
            if clash is not None:
                raise ConfigurationError(
                    f"tenant {conv.tenant!r}: tool name {entry.name!r} would stand for both "
                    f"{clash.integration}.{clash.spec.name} and {integration}.{spec.name}; "
                    "rename one of the integrations so that its id has no '__'"
                )
            found[entry.name] = entry
    return found


def _offered(conv: Conversation) -> list[_Tool]:
    return [tool for tool in _catalogue(conv).values() if tool.granted]


# --- schemas ---------------------------------------------------------------------------------------


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


def _strict(node: Any) -> Any:
    """Rewrite a cleaned schema into the subset OpenAI's and Anthropic's strict modes accept.

    Strict mode wants every property required and no ``default``: a
    property that may be left out becomes nullable instead, and
    :func:`invoke_tool` reads null as "use the default".
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
            nullable: dict[str, Any] = {"anyOf": [properties[name], {"type": "null"}]}
            default = original.get("default")
            properties[name] = _with_note(
                nullable, f"null for the default, {json.dumps(default)}" if default is not None else None
            )
        out["required"] = list(properties)
        out["additionalProperties"] = False
    return out


@functools.lru_cache(maxsize=512)
def _schema(model: type[BaseModel], strict: bool) -> dict[str, Any]:
    """The argument schema of one operation; cached per class (it is pure and has no tenant data)."""
    raw = model.model_json_schema()
    cleaned: dict[str, Any] = _inline(raw, raw.get("$defs", {}), frozenset())
    cleaned["type"] = "object"
    cleaned.setdefault("properties", {})
    cleaned["additionalProperties"] = False
    return _strict(cleaned) if strict else cleaned


def tool_definitions(
    conv: Conversation, format: ToolFormat = "openai", *, strict: bool = False
) -> list[dict[str, Any]]:
    """The tools of ``conv``'s tenant, in OpenAI Chat Completions or Anthropic Messages form.

    Exactly the granted operations: every implemented read, and each write
    whose scope the tenant granted. ``strict=True`` marks them for the
    provider's strict (grammar-constrained) mode, which takes a smaller
    schema: every argument required, optional ones nullable, length and range
    limits stated in the description instead of as keywords. Without it the
    schema keeps every constraint and default, which models follow well and
    which invoke enforces either way.
    """
    if format not in ("openai", "anthropic"):
        raise UsageError(f"unknown tool format {format!r}: use 'openai' or 'anthropic'")
    definitions: list[dict[str, Any]] = []
    for tool in _offered(conv):
        schema = copy.deepcopy(_schema(tool.spec.arguments_model, strict))
        if format == "openai":
            function: dict[str, Any] = {
                "name": tool.name,
                "description": tool.description,
                "parameters": schema,
            }
            if strict:
                function["strict"] = True
            definitions.append({"type": "function", "function": function})
        else:
            definition: dict[str, Any] = {
                "name": tool.name,
                "description": tool.description,
                "input_schema": schema,
            }
            if strict:
                definition["strict"] = True
            definitions.append(definition)
    return definitions


# --- invocation ------------------------------------------------------------------------------------


def _parse_arguments(
    tool: str, spec: OperationSpec, arguments: Mapping[str, Any] | str | None
) -> dict[str, Any]:
    """Turn what the model sent into keyword arguments; dispatch validates their types and values."""
    problem: str | None = None
    parsed: Any = arguments
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        parsed = {}
    elif isinstance(arguments, str):
        if len(arguments) > _MAX_ARGUMENTS_CHARS:
            problem = f"the arguments are longer than {_MAX_ARGUMENTS_CHARS} characters"
        else:
            try:
                parsed = json.loads(arguments)
            except json.JSONDecodeError as exc:
                problem = (
                    f"the arguments are not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
                )
    if problem is None and not isinstance(parsed, Mapping):
        problem = f"the arguments must be a JSON object of named arguments, not a {type(parsed).__name__}"
    if problem is not None:
        # Raised outside the except block: a JSONDecodeError carries the whole text it failed on.
        raise InvalidArgumentsError(f"invalid arguments for {tool}: {problem}.")

    fields = spec.arguments_model.model_fields
    out: dict[str, Any] = {}
    unnamed = 0
    for key, value in parsed.items():
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            if not (isinstance(key, str) and _ARGUMENT_NAME_PATTERN.fullmatch(key)):
                unnamed += 1
                key = f"(unexpected argument {unnamed})"
            out[key] = value
        elif value is None and not field.is_required() and field.default is not None:
            continue  # strict mode sends null for "not given": the operation's default applies
        else:
            out[key] = value
    return out


async def invoke_tool(
    conv: Conversation,
    name: str,
    arguments: Mapping[str, Any] | str | None,
    *,
    budget: float | None = None,
) -> ToolResult:
    """Run the tool ``name`` with what the model sent and return its redacted result.

    ``arguments`` may be a mapping or the JSON text models send. Raises
    :class:`~sdk.UnknownOperationError` for a name that is not a tool here,
    :class:`~sdk.InvalidArgumentsError` for arguments that do not fit (the
    message names fields and what they need, never the values),
    :class:`~sdk.ScopeDeniedError` for a write the tenant did not grant (its
    name was never offered; dispatch refuses and audits it before any request
    is built) and :class:`~sdk.ConversationClosedError` after hangup. Pass
    any of them to :meth:`ToolResult.from_error` to answer the model.

    The call goes through the conversation, so reads are cached for the rest
    of the call and every call whose arguments parse as a JSON object is
    audited by dispatch (text that is not JSON never names an operation's
    arguments and is refused here). ``budget`` bounds the call in seconds.
    """
    tool = _catalogue(conv).get(name) if isinstance(name, str) else None
    if tool is None:
        _audit_unknown_tool(conv, name)
        # The name is the model's (a caller can steer it): it is neither echoed nor audited.
        raise UnknownOperationError("there is no such tool in this conversation")
    denied: ScopeDeniedError | None = None
    try:
        kwargs = _parse_arguments(tool.name, tool.spec, arguments)
        deadline = None if budget is None else time.monotonic() + budget
        result = await conv._call(tool.integration, tool.spec.name, kwargs, deadline=deadline)
    except InvalidArgumentsError:
        if tool.granted:
            raise
        # Argument errors name the fields of an operation the model was never offered; for a
        # write that was not granted, say only that it is denied.
        denied = ScopeDeniedError(
            f"{tool.spec.name} needs {tool.spec.scope}, which tenant {conv.tenant!r} did not grant "
            f"integration {tool.integration!r}",
            scope=str(tool.spec.scope),
        )
    if denied is not None:
        raise denied
    return ToolResult(ok=True, content=_content(tool, result, _policy_of(conv)))


def _audit_unknown_tool(conv: Conversation, name: object) -> None:
    """Audit a call to a tool that does not exist, under its integration when the name names one."""
    runtime = conv._runtime
    integration, separator, _ = name.partition("__") if isinstance(name, str) else ("", "", "")
    known = runtime.config.tenants[conv.tenant].integrations
    if separator and integration in known:
        binding = runtime._binding(conv.tenant, integration)
        connector, region = type(binding.connector).name, binding.region
    else:
        integration, connector, region = UNKNOWN_OPERATION, UNKNOWN_OPERATION, None
    audit_unknown_operation(
        runtime.audit_sink,
        tenant=conv.tenant,
        integration=integration,
        connector=connector,
        region=region,
        conversation_id=conv.conversation_id,
    )


_FIELD_RESULTS: dict[tuple[str, str], tuple[type[SharedModel], str]] = {
    ("billing", "get_balance"): (BillingCustomer, "balance"),
}
"""Standard operations that return one field of a record on its own: the field's policy rule applies."""

DONE: dict[str, Any] = {"status": "done"}
"""A write's answer when the policy withholds the record it returned."""


def _content(tool: _Tool, result: Any, policy: LLMPolicy) -> Any:
    renderer = LLMRenderer(policy)
    as_field = _FIELD_RESULTS.get((tool.category, tool.spec.name))
    if as_field is not None:
        return renderer.field_view(result, *as_field)
    content = renderer.view(result)
    if content is None and result is not None and tool.spec.is_write:
        return dict(DONE)
    return content


def _policy_of(conv: Conversation) -> LLMPolicy:
    """The tenant's ``[tenants.<id>.redaction]`` policy (its defaults if it configured none)."""
    return conv._runtime.config.tenants[conv.tenant].redaction
