"""pytest plugin of the connector test kit (registered under the ``pytest11`` entry point).

It registers the kit's marker so that connector test suites run under
``--strict-markers``, and provides fixtures a connector author's own tests
can use beside the battery. It imports nothing from the SDK until a fixture
is used, so installing the SDK never slows down unrelated test suites.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sdk.testing._credentials import MemoryCredentialSource


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "nexora_connector: a Nexora Connect connector conformance test")


@pytest.fixture
def nexora_credentials() -> MemoryCredentialSource:
    """An in-memory credential source with versions and read counters (no Vault needed)."""
    from sdk.testing._credentials import MemoryCredentialSource

    return MemoryCredentialSource()


@pytest.fixture
def nexora_canary() -> str:
    """A fresh random marker to plant in fixtures and search for in logs and errors."""
    from sdk.testing._credentials import make_canary

    return make_canary()
