"""An MCP server exposing one conversation's scoped tools (needs the ``mcp`` extra).

One server serves one conversation: the tools it lists are exactly those
:meth:`Conversation.tools() <sdk.Conversation.tools>` offers for the tenant's grants, every call
goes through :meth:`Conversation.invoke() <sdk.Conversation.invoke>` (validation, the scope check in
dispatch, audit, the conversation cache, redaction), and the conversation is
hung up when the MCP session ends, so nothing fetched outlives it (S5).

* :mod:`~sdk.mcp_server._server`: the server, and the stdio transport;
* :mod:`~sdk.mcp_server._describe`: tool annotations from the declared scopes, and result shapes;
* :mod:`~sdk.mcp_server._http`: the Streamable HTTP transport for hosted voice platforms;
* :mod:`~sdk.mcp_server._exposure`: loopback by default, TLS and a bearer token anywhere else.

``import sdk`` never imports ``mcp``; only building or running a server does.
"""

from sdk.mcp_server._exposure import BearerToken, check_exposure, is_loopback, load_token
from sdk.mcp_server._http import DEFAULT_PORT, run_http, serve_http
from sdk.mcp_server._server import build_server, run_stdio, serve_conversation

__all__ = [
    "DEFAULT_PORT",
    "BearerToken",
    "build_server",
    "check_exposure",
    "is_loopback",
    "load_token",
    "run_http",
    "run_stdio",
    "serve_conversation",
    "serve_http",
]
