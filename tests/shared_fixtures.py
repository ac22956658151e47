"""The pytest fixtures many suites used to define again: an audit sink, a canary key, a vendor.

Registered for the whole test tree by ``tests/conftest.py`` (``pytest_plugins``). A suite that
needs something else under the same name (a vendor with a base URL, a key of another kind)
defines its own fixture of that name, which pytest prefers over these.
"""

from __future__ import annotations

import pytest
import respx

from sdk import MemoryAuditSink
from sdk.testing import make_canary
from tests.mock_nexora import vendor_router


@pytest.fixture
def audit() -> MemoryAuditSink:
    """A fresh in-memory audit sink, for tests to read the records a runtime wrote."""
    return MemoryAuditSink()


@pytest.fixture
def canary_key() -> str:
    """A vendor key that is also a canary: the session scan fails if it is ever logged or audited."""
    return make_canary("secret")


@pytest.fixture
def router() -> respx.MockRouter:
    """A lenient respx vendor for any host (suites of one vendor override it with a base URL)."""
    return vendor_router()
