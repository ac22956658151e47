"""What both framework adapters share: running one tool call safely, and ending the call.

A framework hands the adapter a tool name and the arguments the model sent; the
adapter answers with what the model may see. Every call goes through
:meth:`sdk.Conversation.invoke` (validation, the scope check in dispatch, audit,
the conversation cache and the tenant's redaction policy), and every failure
becomes :meth:`sdk.ToolResult.from_error`'s model-safe sentence: the frameworks'
own error paths would either log the exception text or tell the model nothing
useful.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from sdk._call import Conversation, ToolResult
from sdk._errors import NexoraError

__all__ = ["END_REASONS", "end_call", "require_extra", "run_tool"]

logger = logging.getLogger("sdk.adapters")

END_REASONS = {
    "pipeline_ended": "the pipeline ended",
    "client_disconnected": "the caller disconnected",
    "session_closed": "the agent session closed",
    "participant_disconnected": "the caller disconnected",
    "job_shutdown": "the job shut down",
    "adapter_closed": "hung up",
}
"""Why a framework event ended the call; the text a later ``ConversationClosedError`` gives."""


def require_extra(module: str, *, extra: str, framework: str) -> None:
    """Import ``module`` or say which extra installs it.

    The frameworks are optional: ``import sdk`` never imports them, and an agent
    that uses an adapter without its framework gets the install line, not a bare
    ``ModuleNotFoundError`` about a package name it may not know.
    """
    try:
        importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"the {framework} adapter needs {framework}; install it with: "
            f"pip install 'nexora-connect[{extra}]'"
        ) from None


async def run_tool(
    conv: Conversation, name: str, arguments: Mapping[str, Any] | str | None, *, budget: float | None
) -> ToolResult:
    """Run one tool call through the conversation; never raise for what the call itself did.

    An SDK error becomes its model-safe result. Any other exception is a bug
    somewhere below; it is logged by class name only (its message and frames may
    hold the record being handled) and the model is told the tool failed.
    Cancellation still propagates: the framework cancelled the call.
    """
    try:
        return await conv.invoke(name, arguments, budget=budget)
    except NexoraError as exc:
        return ToolResult.from_error(exc, tool=name)
    except Exception as exc:  # noqa: BLE001 - the model must get an answer; the bug is logged
        logger.error("tool %s failed with %s", name, type(exc).__name__)
        return ToolResult.from_error(exc, tool=name)


def end_call(conv: Conversation, event: str) -> None:
    """Wipe ``conv`` now, synchronously, naming the framework event that ended the call.

    Synchronous because some frameworks call their event callbacks synchronously
    (LiveKit's ``EventEmitter`` refuses coroutines) and a wipe must not wait for
    the event loop to come round. Calling it again, or after ``hangup()``, does
    nothing.
    """
    conv.close(END_REASONS.get(event, "hung up"))
