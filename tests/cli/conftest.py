"""Fixtures for driving ``nexora-connect`` in process: a configuration file, a real Vault, mocked vendors.

Commands run through ``sdk.cli.main([...])`` and are read back with capsys.
Vault is the session's real OpenBao; vendors are respx routers handed to the
runtime the CLI builds through its private hook ``sdk._cli._run.runtime_options``
(``NexoraConnect.from_config`` would otherwise open real connections).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdk._cli import _run
from tests.vault.support import new_id, write_secret
from vault import OpenBaoDevServer, VaultSettings, tenant_policy_hcl


def toml(data: dict[str, Any]) -> str:
    """A TOML document for ``data`` (tables, strings, numbers, booleans and lists of strings)."""
    lines: list[str] = []

    def emit(table: dict[str, Any], prefix: str) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in table.items() if isinstance(v, dict)}
        if prefix and (scalars or not tables):
            lines.append(f"[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{key} = {json.dumps(value)}")
        if scalars:
            lines.append("")
        for key, value in tables.items():
            emit(value, f"{prefix}.{key}" if prefix else key)

    emit(data, "")
    return "\n".join(lines) + "\n"


@dataclass
class Setup:
    """One tenant on the real OpenBao, and the configuration file the CLI is given."""

    tmp: Path
    openbao: OpenBaoDevServer
    root: Any
    tenant: str = field(default_factory=lambda: new_id("cli"))

    @property
    def settings(self) -> VaultSettings:
        return VaultSettings(address=self.openbao.address)

    @property
    def audit_dir(self) -> Path:
        return self.tmp / "audit"

    def config(
        self,
        integrations: dict[str, dict[str, Any]],
        *,
        tenant: dict[str, Any] | None = None,
        vault: dict[str, Any] | None = None,
        audit: dict[str, Any] | None = None,
        name: str = "nexora.toml",
    ) -> str:
        data: dict[str, Any] = {
            "vault": {"address": self.openbao.address, **(vault or {})},
            "audit": audit if audit is not None else {"sink": "jsonl", "path": str(self.audit_dir)},
            "tenants": {self.tenant: {**(tenant or {}), "integrations": integrations}},
        }
        path = self.tmp / name
        path.write_text(toml(data), encoding="utf-8")
        return str(path)

    def store(self, integration: str, data: dict[str, object]) -> int:
        """Write a secret as the tenant's admin would, outside the CLI."""
        return write_secret(self.root, self.settings, self.tenant, integration, data)

    def current(self, integration: str) -> tuple[int, dict[str, Any]]:
        from vault import credential_path

        answer = self.root.secrets.kv.v2.read_secret_version(
            path=credential_path(self.settings, self.tenant, integration),
            mount_point="secret",
            raise_on_deleted_version=True,
        )
        return int(answer["data"]["metadata"]["version"]), dict(answer["data"]["data"])

    def token(self, *, write: bool = False) -> str:
        """A token with only this tenant's read (or write) policy."""
        name = f"nexora-cli-{'admin' if write else 'read'}-{self.tenant}"
        self.root.sys.create_or_update_policy(
            name=name, policy=tenant_policy_hcl(self.tenant, self.settings, write=write)
        )
        return str(self.root.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"])


@pytest.fixture
def setup(tmp_path: Path, openbao: OpenBaoDevServer, vault_root: Any) -> Setup:
    return Setup(tmp_path, openbao, vault_root)


@pytest.fixture
def vendors(monkeypatch: pytest.MonkeyPatch) -> Callable[[httpx.AsyncBaseTransport], None]:
    """Call with a transport (a respx router's) to route the CLI's vendor requests to it."""

    def install(transport: httpx.AsyncBaseTransport) -> None:
        monkeypatch.setattr(_run, "runtime_options", lambda: {"transport": transport})

    return install


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Call with text to make it the piped standard input of the next command."""

    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    return feed


class Untouchable(io.StringIO):
    """A standard input that fails the test if the command reads it."""

    def read(self, size: int | None = -1) -> str:
        raise AssertionError("the command read standard input")

    readline = read  # type: ignore[assignment]


@pytest.fixture
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", Untouchable())


def assert_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, "a secret reached the output"
