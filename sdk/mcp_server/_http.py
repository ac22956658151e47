"""The MCP server of one conversation over Streamable HTTP, for hosted voice platforms.

Built on the official ``mcp`` package's Streamable HTTP app (its session
manager, and DNS-rebinding protection on loopback) served by uvicorn. One
server serves one conversation, as over stdio: the first MCP session to
initialize is bound to it, any other session is refused, and the conversation
is hung up (everything it fetched wiped) when that session ends with a DELETE,
at the conversation's maximum lifetime, or when the server stops; the server
stops once the conversation is closed. Who may connect at all is decided in
:mod:`sdk.mcp_server._exposure`: loopback by default, TLS and a bearer token
for anything else.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from sdk._call import Conversation
from sdk._runtime import NexoraConnect
from sdk.mcp_server._exposure import BearerToken, check_exposure, is_loopback
from sdk.mcp_server._server import build_server, require_mcp

__all__ = ["DEFAULT_PORT", "SessionGuard", "run_http", "serve_http"]

DEFAULT_PORT = 8931
_SESSION_HEADER = b"mcp-session-id"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _refuse(
    send: Send, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SessionGuard:
    """ASGI middleware: the bearer token, and one MCP session tied to the one conversation.

    Checks the token (when there is one) before the MCP app sees a byte of the
    request, binds the first session that initializes, refuses every other
    session, and hangs the conversation up when its session is deleted.
    """

    def __init__(self, app: ASGIApp, conv: Conversation, token: BearerToken | None) -> None:
        self._app = app
        self._conv = conv
        self._token = token
        self._session: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        if self._token is not None and not self._authorised(headers.get(b"authorization")):
            await _refuse(
                send,
                401,
                "A valid bearer token is required to use this MCP server.",
                ((b"www-authenticate", b'Bearer realm="nexora-connect"'),),
            )
            return
        presented = headers.get(_SESSION_HEADER)
        if self._session is not None and presented != self._session:
            await _refuse(
                send,
                404 if presented else 409,
                "This MCP server serves one conversation, and another session already holds it.",
            )
            return
        if self._conv.closed:
            await _refuse(
                send, 410, "The call has ended and its data has been wiped; no tool can be used any more."
            )
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
                if self._session is None and message["status"] < 400:
                    for name, value in message.get("headers") or ():
                        if name.lower() == _SESSION_HEADER:
                            self._session = bytes(value)
            await send(message)

        await self._app(scope, receive, watch)
        if scope.get("method") == "DELETE" and presented is not None and status and status[0] < 400:
            await self._conv.hangup()

    def _authorised(self, header: bytes | None) -> bool:
        assert self._token is not None
        if header is None:
            return False
        scheme, _, presented = header.decode("latin-1").partition(" ")
        return scheme.lower() == "bearer" and self._token.matches(presented.strip())


def _app(conv: Conversation, host: str, token: BearerToken | None, path: str) -> ASGIApp:
    from mcp.server.transport_security import TransportSecuritySettings

    server = build_server(conv)
    # Loopback: the mcp app's own DNS-rebinding protection (Host and Origin must be loopback).
    # Elsewhere the token stands in for it: a browser tricked into connecting cannot present it.
    security = None if is_loopback(host) else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = server.streamable_http_app(
        streamable_http_path=path,
        host="127.0.0.1" if is_loopback(host) else host,
        transport_security=security,
        max_sessions=1,
    )
    return SessionGuard(app, conv, token)


# Loggers of the HTTP stack under the MCP server that write whole messages — tool results, i.e.
# redacted but still customer data — at DEBUG. A service that turns on DEBUG logging must not
# persist a caller's records (S3, S5): their debug records are dropped, the rest pass.
_PAYLOAD_LOGGERS = (
    "sse_starlette.sse",
    "sse_starlette",
    "mcp.server.streamable_http",
    "mcp.server.lowlevel.server",
)


class _NoPayloadDebug(logging.Filter):
    """Drop DEBUG records of the loggers that echo MCP messages; keep everything above DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _quiet_payload_loggers() -> None:
    for name in _PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoPayloadDebug) for f in logger.filters):
            logger.addFilter(_NoPayloadDebug())


async def serve_http(
    conv: Conversation,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    path: str = "/mcp",
    token: BearerToken | None = None,
    certfile: str | Path | None = None,
    keyfile: str | Path | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve ``conv``'s tools over Streamable HTTP until the conversation closes; then hang it up.

    ``host`` must be a loopback address unless ``certfile``, ``keyfile`` and
    ``token`` are all given. ``sock``, an already bound socket, replaces
    ``host`` and ``port`` for listening (tests bind port 0); ``host`` still
    decides what protection the server needs. The conversation is hung up
    however the server ends, cancellation included.
    """
    try:
        check_exposure(host, token=token, certfile=certfile, keyfile=keyfile)
        require_mcp()
        _quiet_payload_loggers()
        import uvicorn

        config = uvicorn.Config(
            _app(conv, host, token, path),
            host=host,
            port=port,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        server = uvicorn.Server(config)

        async def stop_when_closed() -> None:
            while not conv.closed:  # noqa: ASYNC110 - a Conversation has no close event to await
                await asyncio.sleep(0.1)
            server.should_exit = True

        watcher = asyncio.create_task(stop_when_closed())
        try:
            await server.serve(sockets=[sock] if sock is not None else None)
        finally:
            watcher.cancel()
    finally:
        await conv.hangup()


async def _serve_from_config(
    config_path: str | Path, tenant: str, conversation_id: str, max_lifetime: float | None, **options: Any
) -> None:
    async with NexoraConnect.from_config(config_path) as nc:
        conv = nc.conversation(tenant=tenant, conversation_id=conversation_id, max_lifetime=max_lifetime)
        await serve_http(conv, **options)


def run_http(
    config_path: str | Path,
    tenant: str,
    conversation_id: str,
    *,
    max_lifetime: float | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    path: str = "/mcp",
    token: BearerToken | None = None,
    certfile: str | Path | None = None,
    keyfile: str | Path | None = None,
) -> None:
    """Open one conversation from a configuration file and serve it over HTTP; blocks until it closes.

    The exposure rules are checked before the configuration is read, so a
    refused bind address fails fast.
    """
    check_exposure(host, token=token, certfile=certfile, keyfile=keyfile)
    require_mcp()
    asyncio.run(
        _serve_from_config(
            config_path,
            tenant,
            conversation_id,
            max_lifetime,
            host=host,
            port=port,
            path=path,
            token=token,
            certfile=certfile,
            keyfile=keyfile,
        )
    )
