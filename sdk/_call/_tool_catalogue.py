"""The tools a language model is offered: exactly the operations the tenant granted.

A tool is one implemented operation of one of the tenant's integrations. Reads
are always offered; a write is offered only if the tenant granted its scope. A
write that was not granted is not offered at all, so the model never learns it
exists; if a name is forged anyway, dispatch refuses it (S1) and audits the
denial (S7), and the model is told no more than that there is no such tool
(:mod:`sdk._call._tool_invoke`).

Tool names are ``<integration>__<operation>`` (``crm__find_contacts``). Both
OpenAI and Anthropic accept ``^[a-zA-Z0-9_-]{1,64}$``; integration ids are
``[a-z0-9][a-z0-9_-]*`` and operation names are Python identifiers, so the
name only needs a separator that neither side uses alone: the double
underscore. A name longer than 64 characters keeps its first 55 and ends in
``_`` plus 8 hex digits of the SHA-256 of the full name, so it stays
deterministic and distinct. Two pairs that still produce the same name (an
integration id containing ``__``) are a configuration error, never a silent
pick.

The catalogue depends only on the tenant's configuration, so the definitions
can be listed before any call (:func:`tenant_tool_definitions`, behind
``nc.tools(tenant, ...)``) and registered with a model once at start-up;
running one still needs an open conversation.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sdk._call._ports import CallRuntime, CallScope
from sdk._call._tool_formats import ToolFormat, check_format, shape
from sdk._call._tool_schema import argument_schema
from sdk._connector import Category
from sdk._errors import ConfigurationError
from sdk._models import BillingCustomer, SharedModel
from sdk._operations import OperationSpec

__all__ = [
    "Tool",
    "ToolFormat",
    "catalogue",
    "offered_tools",
    "tenant_catalogue",
    "tenant_tool_definitions",
    "tool_definitions",
    "tool_name",
]

_MAX_NAME = 64
_OPERATION_PATTERN = re.compile(r"[A-Za-z0-9_]+")
_MAX_DESCRIPTION = 1024

_FIELD_RESULTS: Mapping[tuple[Category, str], tuple[type[SharedModel], str]] = MappingProxyType(
    {(Category.BILLING, "get_balance"): (BillingCustomer, "balance")}
)
"""Standard operations that return one field of a record on its own: the field's policy rule applies."""


@dataclass(frozen=True, slots=True)
class Tool:
    """One (integration, operation) pair under its tool name, granted or not.

    What every call of the tool reads (its span's name and attributes, its
    arguments' names, how its result renders) is worked out here, once per
    catalogue, rather than on each call the model makes.
    """

    name: str
    integration: str
    spec: OperationSpec
    system: str
    category: Category
    granted: bool
    span_name: str = field(init=False, repr=False, compare=False)
    """The tool span's name, after the OpenTelemetry GenAI conventions for executing a tool."""
    span_attributes: Mapping[str, Any] = field(init=False, repr=False, compare=False)
    """The tool span's attributes (read-only: every call's span starts from the same ones)."""
    arguments: frozenset[str] = field(init=False, repr=False, compare=False)
    """The names of the operation's arguments."""
    null_means_default: frozenset[str] = field(init=False, repr=False, compare=False)
    """Optional arguments with a non-null default: null from a model's strict mode means "not given"."""
    field_result: tuple[type[SharedModel], str] | None = field(init=False, repr=False, compare=False)
    """For an operation returning one field of a record on its own: that record type and field."""

    def __post_init__(self) -> None:
        fields = self.spec.arguments_model.model_fields
        derived = {
            "span_name": f"execute_tool {self.name}",
            "span_attributes": MappingProxyType(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.type": "function",
                    "gen_ai.tool.name": self.name,
                    "nexora.integration": self.integration,
                    "nexora.operation": self.spec.name,
                }
            ),
            "arguments": frozenset(fields),
            "null_means_default": frozenset(
                name for name, info in fields.items() if not info.is_required() and info.default is not None
            ),
            "field_result": _FIELD_RESULTS.get((self.category, self.spec.name)),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # how a frozen dataclass sets fields it derives

    @property
    def title(self) -> str:
        """A short human title, for a tool picker: ``Find contacts (HubSpot)``."""
        words = self.spec.name.replace("_", " ").strip()
        return f"{words[:1].upper()}{words[1:]} ({self.system})"

    @property
    def description(self) -> str:
        summary = self.spec.description.strip().rstrip(".")
        text = f"{summary}. Reaches {self.system} ({self.category} integration '{self.integration}')."
        if self.spec.is_write:
            text += f" Changes data in {self.system}."
        return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"

    def schema(self, *, strict: bool = False) -> dict[str, Any]:
        """The tool's argument schema (see :func:`~sdk._call._tool_schema.argument_schema`)."""
        return argument_schema(self.spec.arguments_model, strict=strict)


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
_CATALOGUES: weakref.WeakKeyDictionary[CallRuntime, dict[str, dict[str, Tool]]] = weakref.WeakKeyDictionary()


def catalogue(scope: CallScope) -> dict[str, Tool]:
    """Every implemented operation of the conversation's tenant, by tool name, granted or not."""
    scope.ensure_open()
    return tenant_catalogue(scope.runtime, scope.tenant)


def tenant_catalogue(runtime: CallRuntime, tenant: str) -> dict[str, Tool]:
    """Every implemented operation of ``tenant``'s integrations, by tool name; needs no call."""
    per_tenant = _CATALOGUES.setdefault(runtime, {})
    found = per_tenant.get(tenant)
    if found is None:
        found = per_tenant[tenant] = _build_catalogue(runtime, tenant)
    return found


def _build_catalogue(runtime: CallRuntime, tenant: str) -> dict[str, Tool]:
    found: dict[str, Tool] = {}
    for integration, binding in runtime.integrations(tenant).items():
        connector = type(binding.connector)
        for spec in connector.operations.values():
            if not spec.implemented:
                continue
            entry = Tool(
                name=tool_name(integration, spec.name),
                integration=integration,
                spec=spec,
                system=connector.display_name or connector.name,
                category=connector.category,
                granted=binding.grant.allows(spec.scope),
            )
            clash = found.get(entry.name)
            if clash is not None:
                raise ConfigurationError(
                    f"tenant {tenant!r}: tool name {entry.name!r} would stand for both "
                    f"{clash.integration}.{clash.spec.name} and {integration}.{spec.name}; "
                    "rename one of the integrations so that its id has no '__'"
                )
            found[entry.name] = entry
    return found


def offered_tools(scope: CallScope) -> list[Tool]:
    """The tools the model may see: every implemented read and each granted write."""
    return [tool for tool in catalogue(scope).values() if tool.granted]


def tool_definitions(
    scope: CallScope, format: ToolFormat = "openai", *, strict: bool = False
) -> list[dict[str, Any]]:
    """The tools of the conversation's tenant, in ``format`` (see :mod:`sdk._call._tool_formats`).

    Exactly the granted operations: every implemented read, and each write
    whose scope the tenant granted. ``strict=True`` marks them for the
    provider's strict (grammar-constrained) mode, which takes a smaller
    schema: every argument required, optional ones nullable, length and range
    limits stated in the description instead of as keywords. Without it the
    schema keeps every constraint and default, which models follow well and
    which invoke enforces either way.
    """
    checked = check_format(format)
    return _definitions(offered_tools(scope), checked, strict)


def tenant_tool_definitions(
    runtime: CallRuntime, tenant: str, format: ToolFormat = "openai", *, strict: bool = False
) -> list[dict[str, Any]]:
    """:func:`tool_definitions` for ``tenant`` without a conversation, to register at start-up."""
    checked = check_format(format)
    offered = [tool for tool in tenant_catalogue(runtime, tenant).values() if tool.granted]
    return _definitions(offered, checked, strict)


def _definitions(tools: list[Tool], format: ToolFormat, strict: bool) -> list[dict[str, Any]]:
    return [shape(tool.name, tool.description, tool.schema(strict=strict), format, strict) for tool in tools]
