"""The MCP server of one conversation, and its stdio transport.

One server serves one conversation: the tools it lists are exactly those
:meth:`Conversation.tools() <sdk.Conversation.tools>` offers for the tenant's grants, every call
goes through :meth:`Conversation.invoke() <sdk.Conversation.invoke>` (validation, the scope check in
dispatch, audit, the conversation cache, redaction), and the conversation is
hung up when the MCP session ends, so nothing fetched outlives it (S5).

Built on the low-level ``mcp.server.lowlevel.Server`` of the official ``mcp``
package (2.x), because the tool list depends on the tenant's configuration at
run time rather than on decorated functions. ``import sdk`` never imports
``mcp``; only this module does, and only when a server is built.

Tool results are text content holding the JSON of the redacted result (internal
notes and comments withheld and per-field rules applied by the tenant's policy,
exactly as for ``conv.invoke``), and the same value as ``structuredContent``;
failures are ``isError`` results carrying the model-safe message of
:meth:`sdk.ToolResult.from_error`, never a traceback. Each tool carries the
annotations and ``outputSchema`` of :mod:`sdk.mcp_server._describe`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdk._call import Conversation, ToolResult, offered_tools, scope_of
from sdk._errors import ConversationClosedError, NexoraError, UsageError
from sdk._runtime import NexoraConnect
from sdk.mcp_server._describe import output_schema, structured, tool_annotations

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server
    from mcp.types import CallToolRequestParams, CallToolResult, ListToolsResult, PaginatedRequestParams

__all__ = ["INSTALL_HINT", "build_server", "require_mcp", "run_stdio", "serve_conversation"]

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "The MCP server needs the 'mcp' package (2.x); install it with: pip install 'nexora-connect[mcp]'."
)


def require_mcp() -> None:
    """Raise an ImportError that says what to install when ``mcp`` is missing."""
    try:
        import mcp.server.lowlevel  # noqa: F401 - optional dependency, imported on use
    except ImportError:
        raise ImportError(INSTALL_HINT) from None


def build_server(conv: Conversation, *, name: str = "nexora-connect") -> Server[Any]:
    """Build an MCP server whose tools are ``conv``'s scoped tools; run it with ``server.run(...)``.

    Prefer :func:`serve_conversation`, which also hangs the conversation up
    when the session ends.
    """
    require_mcp()
    from mcp import types
    from mcp.server.lowlevel import Server

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        try:
            offered = offered_tools(scope_of(conv))
        except ConversationClosedError:
            offered = []
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=tool.name,
                    title=tool.title,
                    description=tool.description,
                    input_schema=tool.schema(),
                    output_schema=output_schema(tool),
                    annotations=types.ToolAnnotations(**tool_annotations(tool)),
                )
                for tool in offered
            ]
        )

    async def call_tool(ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> CallToolResult:
        try:
            result = await conv.invoke(params.name, params.arguments)
        except NexoraError as exc:
            result = ToolResult.from_error(exc, tool=params.name)
        except Exception as exc:  # noqa: BLE001 - a bug must reach the model as an error result, not a trace
            # The class name only: a message or traceback could quote the data being handled.
            logger.warning("tool call failed with an unexpected %s", type(exc).__name__)
            result = ToolResult.from_error(exc, tool=params.name)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=result.as_json())],
            structured_content=structured(result.content) if result.ok else None,
            is_error=not result.ok,
        )

    return Server(
        name,
        instructions=(
            "Tools that read the caller's records in the business's CRM, ticketing and billing "
            "systems, and the few writes the business allows. Results are redacted."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_conversation(
    conv: Conversation, *, read_stream: Any = None, write_stream: Any = None
) -> None:
    """Serve ``conv``'s tools over MCP until the client disconnects, then hang the conversation up.

    Without streams it serves the process's stdin and stdout. Pass both
    ``read_stream`` and ``write_stream`` (an MCP transport's pair, such as
    ``mcp.shared.memory`` streams in tests) to serve something else. The
    conversation is hung up however the session ends, cancellation included.
    """
    if (read_stream is None) != (write_stream is None):
        raise UsageError("pass both read_stream and write_stream, or neither to serve stdin and stdout")
    try:
        server = build_server(conv)
        options = server.create_initialization_options()
        if read_stream is None:
            from mcp.server.stdio import stdio_server

            async with stdio_server() as (stdin, stdout):
                await server.run(stdin, stdout, options)
        else:
            await server.run(read_stream, write_stream, options)
    finally:
        await conv.hangup()


async def _serve_from_config(
    config_path: str | Path, tenant: str, conversation_id: str, max_lifetime: float | None
) -> None:
    async with NexoraConnect.from_config(config_path) as nc:
        conv = nc.conversation(tenant=tenant, conversation_id=conversation_id, max_lifetime=max_lifetime)
        await serve_conversation(conv)


def run_stdio(
    config_path: str | Path, tenant: str, conversation_id: str, *, max_lifetime: float | None = None
) -> None:
    """Open one conversation from a configuration file and serve its tools over stdio until EOF.

    For a CLI entry point: blocks, and returns when the client closes stdin.
    Logs go to stderr; stdout carries only MCP messages.
    """
    require_mcp()
    asyncio.run(_serve_from_config(config_path, tenant, conversation_id, max_lifetime))
