"""Session machinery of the vendor-contract mocks: the Prism processes, a token endpoint, the report.

The mocks start once per session, all at once, on first use, and stop when the session ends; the
teardown fails the session if any process outlives it. Results of every run are recorded with the
``contract_report`` fixture and printed in the terminal summary as a table connector x operation,
as the reliability suite prints its measurements.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.vendor_mocks._documents import build_documents
from tests.vendor_mocks._prism import PrismProcess, PrismUnavailable, ensure_prism, start_all, stop_all

DYNAMIC_RUNS = 5
"""How many schema-generated bodies (``Prefer: dynamic=true``) each operation is fed."""


@dataclass
class Mocks:
    running: dict[str, PrismProcess]
    missing: dict[str, str]

    def port(self, name: str) -> int:
        return self.running[name].port

    def require(self, names: tuple[str, ...]) -> None:
        absent = [f"{name}: {self.missing[name]}" for name in names if name in self.missing]
        if absent:
            pytest.skip("vendor document not available: " + "; ".join(absent))


@dataclass
class Row:
    """One connector x operation line of the report."""

    requests_valid: bool = True
    static: str = "-"
    dynamic_parsed: int = 0
    dynamic_runs: int = 0
    dynamic_errors: dict[str, int] = field(default_factory=dict)
    requests: int = 0


_REPORT: dict[tuple[str, str], Row] = {}
_MEASUREMENTS: list[tuple[str, str]] = []
_STOPPED: list[str] = []


@pytest.fixture(scope="session")
def prism_mocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mocks]:
    """Every vendor mock, started in parallel on first use and stopped at the end of the session."""
    try:
        binary, install_seconds = ensure_prism()
    except PrismUnavailable as exc:
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("prism")
    documents, missing = build_documents(work / "documents")
    started = time.monotonic()
    running = start_all(binary, documents, work / "logs")
    _MEASUREMENTS.append(
        ("prism install (npm, 0 when cached)", f"{install_seconds:.1f} s"),
    )
    _MEASUREMENTS.append(
        (f"prism startup, {len(running)} mocks in parallel", f"{time.monotonic() - started:.1f} s")
    )
    for proc in running.values():
        _MEASUREMENTS.append((f"  {proc.name} ready after", f"{proc.ready_after or 0:.1f} s"))
    try:
        yield Mocks(running, missing)
    finally:
        survivors = stop_all(running.values())
        _STOPPED.extend(proc.name for proc in running.values())
        _MEASUREMENTS.append(("prism processes alive after stop", str(len(survivors))))
        if survivors:
            pytest.fail(f"Prism processes outlived the session: {survivors}")


class _TokenHandler(BaseHTTPRequestHandler):
    """A client-credentials token endpoint answering like Atlassian's (``auth.atlassian.com``)."""

    grants: list[str] = []  # noqa: RUF012 - shared by the server's handler instances on purpose

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("ascii", "replace")
        self.grants.append(body.split("grant_type=", 1)[-1].split("&", 1)[0])
        payload = json.dumps(
            {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 3600}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass(frozen=True)
class TokenEndpoint:
    url: str
    grants: list[str]


@pytest.fixture(scope="session")
def token_endpoint() -> Iterator[TokenEndpoint]:
    """A loopback OAuth token endpoint for the OAuth runs (Prism mocks APIs, not token servers)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    thread = threading.Thread(target=server.serve_forever, name="token-endpoint", daemon=True)
    thread.start()
    try:
        yield TokenEndpoint(f"http://127.0.0.1:{server.server_address[1]}/oauth/token", _TokenHandler.grants)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def contract_report() -> dict[tuple[str, str], Row]:
    """The report rows, keyed (connector, operation); tests fill in what they observed."""
    return _REPORT


@pytest.fixture
def measure() -> object:
    def record(what: str, value: str) -> None:
        _MEASUREMENTS.append((what, value))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _REPORT and not _MEASUREMENTS:
        return
    terminalreporter.section("vendor-contract mocks (Prism)")
    if _MEASUREMENTS:
        width = max(len(what) for what, _ in _MEASUREMENTS)
        for what, value in _MEASUREMENTS:
            terminalreporter.write_line(f"{what.ljust(width)}  {value}")
    if not _REPORT:
        return
    header = ("connector", "operation", "requests valid", "static body parsed", "generated bodies parsed")
    lines = []
    for (connector, operation), row in sorted(_REPORT.items()):
        errors = ", ".join(f"{kind} x{count}" for kind, count in sorted(row.dynamic_errors.items()))
        dynamic = f"{row.dynamic_parsed}/{row.dynamic_runs}" if row.dynamic_runs else "-"
        if errors:
            dynamic += f" (typed: {errors})"
        lines.append(
            (
                connector,
                operation,
                f"{'yes' if row.requests_valid else 'NO'} ({row.requests} sent)",
                row.static,
                dynamic,
            )
        )
    widths = [max(len(str(line[i])) for line in (header, *lines)) for i in range(len(header))]
    for line in (header, tuple("-" * w for w in widths), *lines):
        terminalreporter.write_line(
            "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True))
        )


__all__ = ["DYNAMIC_RUNS", "Mocks", "Row", "TokenEndpoint"]
