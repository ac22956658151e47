"""Running a tool call the model made, and what the model is told back.

Results reach the model only through the renderer with the tenant's redaction
policy (S6): internal records (agents' notes, internal ticket comments) are
left out unless the tenant opted in, and the policy's per-field rules apply. A
write whose whole result is such a record (``create_note``) answers
``{"status": "done"}``: the model learns the write happened, which it asked
for, and nothing of the record. Errors are raised as the SDK's typed errors
for the agent's code; :meth:`ToolResult.from_error` turns any of them into a
short message the model can act on, with no tenant, scope, path or value in it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from pydantic import JsonValue

from sdk._call._policy import LLMPolicy
from sdk._call._ports import CallScope
from sdk._call._render import LLMRenderer
from sdk._call._tool_catalogue import Tool, ToolFormat, catalogue
from sdk._call._tool_formats import check_format
from sdk._dispatch import UNKNOWN_OPERATION, audit_unknown_operation
from sdk._errors import (
    AccessDeniedError,
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
    error_kind,
)
from sdk._telemetry import start_step_span

__all__ = ["DONE", "ToolResult", "invoke_tool"]

# An argument name the model invented is repeated in an error only if it looks like an identifier;
# anything else (digits, '@', spaces) could be a value typed into the wrong place.
_ARGUMENT_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_ARGUMENTS_CHARS = 256 * 1024


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool call gives back to the model: a redacted result or a model-safe error.

    ``content`` is JSON-able and already redacted by the tenant's policy; it
    is still customer data, so the repr never shows it.
    """

    ok: bool
    content: JsonValue = None
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

    def to_message(self, format: ToolFormat, call_id: str, *, name: str | None = None) -> dict[str, Any]:
        """The tool-result message answering the call ``call_id``, in the form ``format`` expects.

        Gemini answers by function name, so pass the tool's ``name`` for it.
        """
        checked = check_format(format)
        output = self.as_json()
        if checked in ("openai", "chat_completions"):
            return {"role": "tool", "tool_call_id": call_id, "content": output}
        if checked == "responses":
            return {"type": "function_call_output", "call_id": call_id, "output": output}
        if checked == "realtime":
            return {
                "type": "conversation.item.create",
                "item": {"type": "function_call_output", "call_id": call_id, "output": output},
            }
        if checked == "gemini":
            if name is None:
                raise UsageError("A Gemini function response names its function: pass name= as well.")
            body = self.content if self.ok else {"error": self.error, "kind": self.error_kind}
            return {"function_response": {"id": call_id, "name": name, "response": {"result": body}}}
        message: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id, "content": output}
        if not self.ok:
            message["is_error"] = True
        return message

    def __repr__(self) -> str:
        if self.ok:
            return f"ToolResult(ok=True, content=<redacted {type(self.content).__name__}>)"
        return f"ToolResult(ok=False, error_kind={self.error_kind!r}, error={self.error!r})"


def _render(exc: BaseException, tool: str | None) -> tuple[str, str]:
    if isinstance(exc, ConversationClosedError):
        return "closed", "The call has ended, so no tool can be used any more."
    if isinstance(exc, InvalidArgumentsError):
        return "invalid_arguments", f"{exc} Fix the arguments and call the tool again."
    if isinstance(exc, UnknownOperationError | UnknownIntegrationError | AccessDeniedError):
        return (
            "unknown_tool",
            "There is no such tool in this conversation. Use only the tools you were given.",
        )
    if isinstance(exc, DeadlineExceededError | VendorTimeoutError):
        return "timeout", "The system did not answer in time. Continue without this information."
    if isinstance(exc, VendorNotFoundError):
        return "not_found", "No matching record was found."
    if isinstance(exc, VendorConflictError):
        return "conflict", "The system refused the change because the record has changed. Do not repeat it."
    if isinstance(
        exc, VendorRateLimitError | VendorServerError | VendorConnectionError | VaultUnavailableError
    ):
        return "unavailable", "The system is temporarily unavailable. Continue without this information."
    return "failed", "The tool could not be used. Continue without this information."


def _parse_arguments(tool: Tool, arguments: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """Turn what the model sent into keyword arguments; dispatch validates their types and values."""
    problem: str | None = None
    parsed: Any = arguments
    if isinstance(arguments, str):
        if not arguments.strip():
            parsed = {}
        elif len(arguments) > _MAX_ARGUMENTS_CHARS:
            problem = f"the arguments are longer than {_MAX_ARGUMENTS_CHARS} characters"
        else:
            try:
                parsed = json.loads(arguments)
            except json.JSONDecodeError as exc:
                problem = (
                    f"the arguments are not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
                )
    elif arguments is None:
        parsed = {}
    if problem is None and not isinstance(parsed, Mapping):
        problem = f"the arguments must be a JSON object of named arguments, not a {type(parsed).__name__}"
    if problem is not None:
        # Raised outside the except block: a JSONDecodeError carries the whole text it failed on.
        raise InvalidArgumentsError(f"invalid arguments for {tool.name}: {problem}.")

    known, null_means_default = tool.arguments, tool.null_means_default
    out: dict[str, Any] = {}
    unnamed = 0
    for key, value in parsed.items():
        if not (isinstance(key, str) and key in known):
            if not (isinstance(key, str) and _ARGUMENT_NAME_PATTERN.fullmatch(key)):
                unnamed += 1
                key = f"(unexpected argument {unnamed})"
            out[key] = value
        elif value is None and key in null_means_default:
            continue  # strict mode sends null for "not given": the operation's default applies
        else:
            out[key] = value
    return out


_UNKNOWN_TOOL_ATTRIBUTES: Final[Mapping[str, Any]] = MappingProxyType(
    {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.type": "function"}
)
"""The span attributes of a call to a name that is no tool here: the name itself is not one of them."""


async def invoke_tool(
    scope: CallScope,
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
    tool = catalogue(scope).get(name) if isinstance(name, str) else None
    # The span names the tool only when it is one of the catalogue's: a model's made-up name is input.
    if tool is None:
        span = start_step_span("execute_tool", dict(_UNKNOWN_TOOL_ATTRIBUTES))
    else:
        span = start_step_span(tool.span_name, dict(tool.span_attributes))
    try:
        if tool is None:
            _audit_unknown_tool(scope, name)
            # The name is the model's (a caller can steer it): it is neither echoed nor audited.
            raise UnknownOperationError("there is no such tool in this conversation")
        denied = False
        try:
            kwargs = _parse_arguments(tool, arguments)
            deadline = None if budget is None else time.monotonic() + budget
            result = await scope.run(tool.integration, tool.spec.name, kwargs, deadline)
        except InvalidArgumentsError:
            if tool.granted:
                raise
            denied = True
        if denied:
            # Raised outside the except block, so it keeps no trace of the argument error, which
            # names the fields of an operation the model was never offered: say only it is denied.
            raise ScopeDeniedError(
                f"{tool.spec.name} needs {tool.spec.scope}, which tenant {scope.tenant!r} did not grant "
                f"integration {tool.integration!r}",
                scope=str(tool.spec.scope),
            )
        content = _content(tool, result, scope.runtime.policy(scope.tenant))
    except BaseException as exc:
        if span is not None:
            span.end(error_type=error_kind(exc))
        raise
    if span is not None:
        span.end()
    return ToolResult(ok=True, content=content)


def _audit_unknown_tool(scope: CallScope, name: object) -> None:
    """Audit a call to a tool that does not exist, under its integration when the name names one."""
    runtime = scope.runtime
    integration, separator, _ = name.partition("__") if isinstance(name, str) else ("", "", "")
    binding = runtime.integrations(scope.tenant).get(integration) if separator else None
    if binding is not None:
        connector, region = type(binding.connector).name, binding.region
    else:
        integration, connector, region = UNKNOWN_OPERATION, UNKNOWN_OPERATION, None
    audit_unknown_operation(
        runtime.audit_sink,
        tenant=scope.tenant,
        integration=integration,
        connector=connector,
        region=region,
        conversation_id=scope.conversation_id,
    )


DONE: dict[str, JsonValue] = {"status": "done"}
"""A write's answer when the policy withholds the record it returned."""


def _content(tool: Tool, result: object, policy: LLMPolicy) -> JsonValue:
    renderer = LLMRenderer(policy)
    as_field = tool.field_result
    if as_field is not None:
        return renderer.field_view(result, *as_field)
    content = renderer.view(result)
    if content is None and result is not None and tool.spec.is_write:
        return dict(DONE)
    return content
