"""Sandbox vendor APIs served over real loopback HTTP, for the demo and its tests.

A :class:`SandboxServer` is one vendor's API on ``127.0.0.1`` (a free port),
answering only the paths the shipped connector calls (its routes:
:mod:`sdk.demo._routes`), with bodies shaped like the vendor's documented
ones. It accepts only the keys it is told are current
(:meth:`~SandboxServer.accept_keys`, :meth:`~SandboxServer.revoke`) and answers
401 to anything else, and it records every request it receives so that a demo
can prove what did, and what did not, reach the vendor.

Why stdlib ``ThreadingHTTPServer`` on its own threads rather than an asyncio
server: the sandbox stands in for a remote service, so it must not share the
event loop of the SDK it is serving. On its own threads it cannot stall that
loop or be stalled by it, it answers just the same whether the caller is the
demo's loop, pytest's loop or plain synchronous test code, and it needs nothing
beyond the standard library. A thread per connection is plenty for one call's
worth of requests.

The request log keeps method, path, query, decoded body and outcome, never
headers (so never a key). It lives in memory only and holds the sandbox's own
synthetic data.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self

from sdk._errors import UsageError
from sdk.demo._routes import JsonResponse, Route, SandboxRequest

__all__ = ["JsonResponse", "RecordedRequest", "Route", "SandboxRequest", "SandboxServer"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the sandbox received it (never its headers)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    write: bool
    """Whether the request would change vendor data (a search over POST is not a write)."""
    status: int
    authorised: bool
    body: Any = None


class _Server(ThreadingHTTPServer):
    # Handler threads are joined by server_close(), so stop() leaves no thread behind.
    daemon_threads = False
    block_on_close = True

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "NexoraSandbox/1"
    sys_version = ""
    timeout = 10.0
    """An idle keep-alive connection is closed after this many seconds."""
    # Headers and body go out in separate writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms on Linux), which would dwarf everything the demo measures.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.sandbox._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sandbox._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry query strings (a caller's phone number); the sandbox keeps its own log.
        return None

    def _serve(self) -> None:
        length_header = self.headers.get("Content-Length") or "0"
        length = int(length_header) if length_header.isdigit() else -1
        if length < 0 or length > _MAX_BODY:
            self.close_connection = True
            response = JsonResponse(413, {"error": "request body too large or without a valid length"})
        else:
            raw = self.rfile.read(length) if length else b""
            response = self.server.sandbox._respond(self.command, self.path, self.headers, raw)
        payload = json.dumps(response.body, separators=(",", ":")).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class SandboxServer:
    """Base of the vendor sandboxes; use one as a context manager or call start() and stop().

    Subclasses give the vendor's routes, say where its requests carry the key
    (:meth:`presented_key`) and shape its error bodies.
    """

    vendor: ClassVar[str] = "sandbox"
    request_id_header: ClassVar[str] = "X-Request-Id"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: set[str] = set()
        self._log: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._routes = self.routes()

    def __repr__(self) -> str:
        state = f"serving {self.base_url}" if self._server is not None else "stopped"
        return f"<{type(self).__name__} {state}>"

    # --- what subclasses provide -----------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the vendor paths this sandbox serves."""
        raise NotImplementedError

    def presented_key(self, headers: Message) -> str | None:
        """Return the key the request authenticates with, or None."""
        raise NotImplementedError

    def unauthorised(self) -> JsonResponse:
        """The vendor's answer to a missing, unknown or revoked key."""
        return JsonResponse(401, {"error": "unauthorized"})

    def not_found(self, path: str) -> JsonResponse:
        """The vendor's answer to a path it does not serve or a record it does not have."""
        return JsonResponse(404, {"error": "not found"})

    def server_error(self) -> JsonResponse:
        return JsonResponse(500, {"error": "internal error"})

    def new_request_id(self) -> str:
        return str(uuid.uuid4())

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Listen on a free loopback port and serve from a background thread."""
        if self._server is not None:
            raise UsageError(f"{type(self).__name__} is already running")
        self._stopping = False
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.vendor}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every open connection and join every thread. Idempotent."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            self._stopping = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)
        server.server_close()
        if thread is not None:
            thread.join()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The API root, such as ``http://127.0.0.1:40123``."""
        if self._server is None:
            raise UsageError(f"{type(self).__name__} is not running; call start() or use it in a with block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- keys ------------------------------------------------------------------------

    def accept_keys(self, *keys: str) -> None:
        """Accept these keys from now on, in addition to those already accepted."""
        with self._lock:
            self._accepted.update(keys)

    def revoke(self, key: str) -> None:
        """Stop accepting ``key``: requests with it get 401 from now on."""
        with self._lock:
            self._accepted.discard(key)

    def _key_accepted(self, key: str | None) -> bool:
        if key is None:
            return False
        with self._lock:
            accepted = list(self._accepted)
        # Compare every key in constant time, as a vendor would.
        found = False
        for candidate in accepted:
            found |= hmac.compare_digest(candidate.encode(), key.encode())
        return found

    # --- the request log -------------------------------------------------------------

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received so far, oldest first."""
        with self._lock:
            return tuple(self._log)

    @property
    def writes(self) -> tuple[RecordedRequest, ...]:
        """Every request received so far that would change vendor data."""
        return tuple(r for r in self.requests if r.write)

    def mark(self) -> int:
        """A position in the log, for :meth:`requests_since`."""
        with self._lock:
            return len(self._log)

    def requests_since(self, mark: int) -> tuple[RecordedRequest, ...]:
        with self._lock:
            return tuple(self._log[mark:])

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- serving ---------------------------------------------------------------------

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            stopping = self._stopping
            if not stopping:
                self._connections.add(connection)
        if stopping:
            _shut(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _respond(self, method: str, target: str, headers: Message, raw: bytes) -> JsonResponse:
        split = urllib.parse.urlsplit(target)
        path = split.path
        query_pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        query: dict[str, list[str]] = {}
        for name, value in query_pairs:
            query.setdefault(name, []).append(value)
        body = _decode_body(headers, raw)
        route, params, path_known = self._match(method, path)
        write = route.write if route is not None else method not in SAFE_METHODS
        authorised = self._key_accepted(self.presented_key(headers))
        if not authorised:
            response = self.unauthorised()
        elif route is None:
            response = self.not_found(path) if not path_known else JsonResponse(405, {"error": "method"})
        else:
            request = SandboxRequest(
                method=method,
                path=path,
                params=params,
                query=query,
                body=body,
                headers={k.lower(): v for k, v in headers.items() if k.lower() != "authorization"},
            )
            try:
                response = route.handler(request)
            except Exception:  # noqa: BLE001 - a sandbox bug must surface as a 5xx, not a hung client
                response = self.server_error()
        record = RecordedRequest(
            method=method,
            path=path,
            query=tuple(query_pairs),
            write=write,
            status=response.status,
            authorised=authorised,
            body=body,
        )
        with self._lock:
            self._log.append(record)
        return JsonResponse(
            response.status,
            response.body,
            {self.request_id_header: self.new_request_id(), **response.headers},
        )

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_known = False
        for route in self._routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            path_known = True
            if route.method == method:
                return route, found.groupdict(), True
        return None, {}, path_known


def _shut(connection: socket.socket) -> None:
    # Wakes a handler thread blocked reading a kept-alive connection; it may have closed already.
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def _decode_body(headers: Message, raw: bytes) -> Any:
    if not raw:
        return None
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = raw.decode("utf-8", errors="replace")
    if content_type == "application/x-www-form-urlencoded":
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text
