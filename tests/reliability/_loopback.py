"""A vendor on a real loopback socket that misbehaves on cue: resets, hangs, truncates, 5xx, 429.

respx raises the httpx exception a test chooses; this server makes httpx find out for itself,
so the SDK's mapping of real socket failures (``ReadError``, ``RemoteProtocolError``,
``ReadTimeout``) and its timeouts are what is tested. It counts the writes it performed, and
performs a write carrying an ``Idempotency-Key`` once per key (replaying the saved answer), as
Stripe does.

Each request takes the next fault queued for its ``(method, path)`` with :meth:`queue`, else
answers from the route table. Handlers run on the server's own threads, never on the test's
event loop.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = ["LoopbackVendor", "Misbehaviour"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Misbehaviour(StrEnum):
    RESET_BEFORE_READING = "reset-before-reading"
    """RST as soon as the connection is accepted; the request is never read."""
    S503 = "503"
    RATE_LIMITED = "429"
    S500_AFTER = "500-after-processing"
    CLOSE_AFTER = "close-after-processing"
    """Process, then close the connection without a byte of response."""
    RESET_AFTER = "reset-after-processing"
    """Process, then RST the connection."""
    TRUNCATED_AFTER = "truncated-after-processing"
    """Process, then send headers and half the declared body and close."""
    HANG_AFTER = "hang-after-processing"
    """Process, then never answer (until the client gives up or the server stops)."""
    SLOW = "slow"
    """Answer normally after 100 ms."""


PROCESSED = frozenset(
    {
        Misbehaviour.S500_AFTER,
        Misbehaviour.CLOSE_AFTER,
        Misbehaviour.RESET_AFTER,
        Misbehaviour.TRUNCATED_AFTER,
        Misbehaviour.HANG_AFTER,
        Misbehaviour.SLOW,
    }
)

Answer = Callable[[str, str], tuple[int, Any]]
"""``(method, path) -> (status, json body)`` for a well-behaved answer."""


class LoopbackVendor:
    """A threaded HTTP/1.1 server on 127.0.0.1 whose answers a test scripts."""

    def __init__(self, answer: Answer, *, idempotency_header: str = "Idempotency-Key") -> None:
        self._answer = answer
        self._idempotency_header = idempotency_header.lower()
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str], deque[Misbehaviour]] = {}
        self._saved: dict[str, tuple[int, bytes]] = {}
        self._stopping = threading.Event()
        self.performed: Counter[tuple[str, str]] = Counter()
        self.received: list[tuple[str, str, str | None]] = []
        """(method, path, idempotency key) of every request read."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def queue(self, method: str, path: str, *faults: Misbehaviour) -> None:
        with self._lock:
            self._faults.setdefault((method, path), deque()).extend(faults)

    def __enter__(self) -> Self:
        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

        self._server = Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- per request ------------------------------------------------------------------------

    def _next_fault(self, method: str, path: str) -> Misbehaviour | None:
        with self._lock:
            pending = self._faults.get((method, path))
            return pending.popleft() if pending else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def handle_one_request(self) -> None:
                # Peek at the request line without consuming it, to reset before reading if told to.
                with contextlib.suppress(OSError):
                    self.connection.settimeout(5)
                    head = self.connection.recv(256, socket.MSG_PEEK)
                    parts = head.split(b" ", 2)
                    if len(parts) >= 2:
                        method = parts[0].decode("latin-1")
                        path = parts[1].decode("latin-1").split("?", 1)[0]
                        with vendor._lock:
                            pending = vendor._faults.get((method, path))
                            reset = (
                                pending is not None
                                and bool(pending)
                                and pending[0] is Misbehaviour.RESET_BEFORE_READING
                            )
                            if reset and pending is not None:
                                pending.popleft()
                        if reset:
                            _reset(self.connection)
                            self.close_connection = True
                            return
                super().handle_one_request()

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                method, path = self.command, self.path.split("?", 1)[0]
                key = self.headers.get(vendor._idempotency_header)
                with vendor._lock:
                    vendor.received.append((method, path, key))
                fault = vendor._next_fault(method, path)
                if fault is Misbehaviour.S503:
                    self._send(503, b'{"error":"unavailable"}')
                    return
                if fault is Misbehaviour.RATE_LIMITED:
                    self._send(429, b'{"error":"rate_limited"}', {"Retry-After": "0"})
                    return
                status, body = vendor._process(method, path, key, fault)
                if fault is Misbehaviour.SLOW:
                    time.sleep(0.1)
                elif fault is Misbehaviour.CLOSE_AFTER:
                    self.close_connection = True
                    return
                elif fault is Misbehaviour.RESET_AFTER:
                    _reset(self.connection)
                    self.close_connection = True
                    return
                elif fault is Misbehaviour.TRUNCATED_AFTER:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                elif fault is Misbehaviour.HANG_AFTER:
                    vendor._stopping.wait(30)
                    self.close_connection = True
                    return
                self._send(status, body)

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _process(
        self, method: str, path: str, key: str | None, fault: Misbehaviour | None
    ) -> tuple[int, bytes]:
        write = method not in SAFE_METHODS and not path.endswith("/search")
        with self._lock:
            if write and key is not None and key in self._saved:
                return self._saved[key]
        if fault is Misbehaviour.S500_AFTER:
            status, body = 500, b'{"error":"internal error after commit"}'
        else:
            code, document = self._answer(method, path)
            status, body = code, json.dumps(document).encode()
        with self._lock:
            if write:
                self.performed[(method, path)] += 1
                if key is not None:
                    self._saved[key] = (status, body)
        return status, body


def _reset(connection: socket.socket) -> None:
    """Close with RST rather than FIN (SO_LINGER on, timeout 0)."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
