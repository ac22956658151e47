"""A fast loopback HTTP/1.1 upstream for the benchmarks, run in a process of its own.

Why not the demo's sandboxes (``sdk.demo``): they are ``ThreadingHTTPServer``s, a
thread per connection and a few hundred microseconds of server CPU per request;
at concurrency 100 the server, not the client, would be what is measured. Why
not an aiohttp server: it costs ~100 µs per request on the server side, which on
a 2-core machine is CPU taken from the client being measured. This server is an
``asyncio.Protocol`` answering precomputed responses: parse the request line and
``Content-Length``, match a route, write the bytes. It costs ~15-25 µs a request
and runs in its own process (pinned to the other core when the runner pins), so
it shares neither the client's event loop nor, ideally, its CPU.

It speaks just enough HTTP/1.1 for well-behaved clients: keep-alive, bodies with
``Content-Length`` (no chunked uploads), no pipelining. It answers 401 to a
request without an ``Authorization`` header, so a benchmark cannot pass by
forgetting the credential.

The routes come as JSON on stdin (one document, then stdin stays open); the
server prints ``{"ports": {...}}`` once it listens and exits when stdin closes,
so it never outlives the process that started it. ``GET /__stats`` answers the
request count per route, and ``POST /__reset`` zeroes the counts.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["RouteSpec", "serve"]

_REASONS = {200: "OK", 201: "Created", 401: "Unauthorized", 404: "Not Found", 400: "Bad Request"}


def _response(status: int, body: bytes, extra_headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}", "Content-Type: application/json"]
    head += [f"{name}: {value}" for name, value in (extra_headers or {}).items()]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


_UNAUTHORISED = _response(401, b'{"error":"no credential"}')
_NOT_FOUND = _response(404, b'{"error":"no route"}')
_BAD = _response(400, b'{"error":"bad request"}')


@dataclass(slots=True)
class RouteSpec:
    """One answer: ``method`` and a regular expression on the path (``query`` must occur in the query)."""

    name: str
    method: str
    path: str
    body: Any
    status: int = 200
    query: str | None = None
    delay: float = 0.0
    headers: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "status": self.status,
            "query": self.query,
            "delay": self.delay,
            "headers": self.headers,
        }


class _Route:
    __slots__ = ("delay", "method", "name", "pattern", "query", "response")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.name: str = spec["name"]
        self.method: str = spec["method"].upper()
        self.pattern = re.compile(spec["path"])
        self.query: str | None = spec.get("query")
        self.delay: float = float(spec.get("delay") or 0.0)
        body = json.dumps(spec["body"], separators=(",", ":")).encode()
        self.response = _response(int(spec.get("status", 200)), body, spec.get("headers"))


class _Upstream(asyncio.Protocol):
    __slots__ = ("buffer", "counts", "loop", "routes", "transport")

    def __init__(self, routes: list[_Route], counts: dict[str, int]) -> None:
        self.routes = routes
        self.counts = counts
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                raw = lower[at + 17 : stop if stop >= 0 else len(lower)].strip()
                if not raw.isdigit():
                    self._answer(_BAD, 0.0, close=True)
                    return
                length = int(raw)
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            line_end = head.find(b"\r\n")
            request_line = head[: line_end if line_end >= 0 else len(head)].decode("latin-1")
            parts = request_line.split(" ")
            if len(parts) != 3:
                self._answer(_BAD, 0.0, close=True)
                return
            method, target, _ = parts
            path, _, query = target.partition("?")
            close = b"\r\nconnection: close" in lower
            self._dispatch(method, path, query, b"\r\nauthorization:" in lower, close)

    def _dispatch(self, method: str, path: str, query: str, authorised: bool, close: bool) -> None:
        if path == "/__stats":
            body = json.dumps(self.counts).encode()
            self._answer(_response(200, body), 0.0, close)
            return
        if path == "/__reset":
            for name in self.counts:
                self.counts[name] = 0
            self._answer(_response(200, b"{}"), 0.0, close)
            return
        for route in self.routes:
            if route.method == method and route.pattern.fullmatch(path):
                if route.query is not None and route.query not in query:
                    continue
                if not authorised:
                    self._answer(_UNAUTHORISED, 0.0, close)
                    return
                self.counts[route.name] += 1
                self._answer(route.response, route.delay, close)
                return
        self._answer(_NOT_FOUND, 0.0, close)

    def _answer(self, response: bytes, delay: float, close: bool) -> None:
        if delay > 0:
            self.loop.call_later(delay, self._write, response, close)
        else:
            self._write(response, close)

    def _write(self, response: bytes, close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(response)
        if close:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(config: dict[str, Any]) -> None:
    """Listen on one loopback port per vendor and answer until stdin closes."""
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    ports: dict[str, int] = {}
    counts: dict[str, int] = {}
    for vendor in config["vendors"]:
        routes = [_Route(spec) for spec in vendor["routes"]]
        for route in routes:
            counts.setdefault(route.name, 0)
        server = await loop.create_server(
            functools.partial(_Upstream, routes, counts), "127.0.0.1", 0, backlog=1024
        )
        servers.append(server)
        ports[vendor["name"]] = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"ports": ports, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    # Exit when the parent closes our stdin (or dies): never an orphan.
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers:
        server.close()


def main() -> None:
    config = json.loads(sys.stdin.readline())
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
