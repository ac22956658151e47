"""Session-wide fixtures: one real OpenBao dev server for every test that asks for it."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any

import hvac
import pytest

from sdk import AuditRecord, JsonLinesAuditSink, MemoryAuditSink
from sdk.testing import issued_canaries
from vault import OpenBaoDevServer

pytest_plugins = ("tests.shared_fixtures",)
"""The audit, canary_key and router fixtures every suite can use (see tests/shared_fixtures.py)."""


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoDevServer]:
    """A running OpenBao dev server, started on first use and stopped at the end of the session.

    Tests share it, so each one works under its own tenant ids; a test that
    changes the server's state (sealing it) restores it before it ends.
    """
    with OpenBaoDevServer() as server:
        yield server


@pytest.fixture(scope="session")
def vault_root(openbao: OpenBaoDevServer) -> Iterator[Any]:
    """An hvac client logged in with the dev server's root token, for arranging test state."""
    client = hvac.Client(url=openbao.address, token=openbao.root_token, timeout=5)
    client.session.trust_env = False
    try:
        yield client
    finally:
        client.adapter.close()


# --- S3 across the whole session -------------------------------------------------------------
#
# Every canary (planted secret or customer value) that tests issue through
# sdk.testing.make_canary is remembered. Every log record emitted during the session, at any
# level from any logger, and every audit record any sink received, is kept; when the session
# ends, none of them may contain any canary. Per-test checks (the connector kit, the vault
# hygiene tests) look closer; this one looks everywhere at once.


class _EverythingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must not break the test session
            text = str(record.msg)
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        self.texts.append(text)


_SESSION_LOGS = _EverythingHandler()
_SESSION_AUDIT: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    root = logging.getLogger()
    root.addHandler(_SESSION_LOGS)
    root.setLevel(logging.DEBUG)
    for sink in (MemoryAuditSink, JsonLinesAuditSink):
        original = sink.emit

        def recording_emit(self: Any, record: AuditRecord, _original: Any = original) -> None:
            _SESSION_AUDIT.append(record.model_dump_json())
            _original(self, record)

        sink.emit = recording_emit  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_SESSION_LOGS)
    canaries = issued_canaries()
    leaks = [
        (where, canary)
        for where, texts in (("log record", _SESSION_LOGS.texts), ("audit record", _SESSION_AUDIT))
        for text in texts
        for canary in canaries
        if canary in text
    ]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    summary = (
        f"S3 session scan: {len(canaries)} canaries against {len(_SESSION_LOGS.texts)} log records "
        f"and {len(_SESSION_AUDIT)} audit records: {len(leaks)} leaks"
    )
    if reporter is not None:
        reporter.write_line(summary)
    if leaks:
        if reporter is not None:
            for where, canary in leaks[:20]:
                reporter.write_line(f"  canary {canary[:20]}... found in a {where}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
