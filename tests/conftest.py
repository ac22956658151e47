"""Session-wide fixtures: one real OpenBao dev server for every test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hvac
import pytest

from vault import OpenBaoDevServer


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
