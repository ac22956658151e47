from __future__ import annotations

import pytest
import respx

from sdk import MemoryAuditSink
from sdk.testing import make_canary
from tests.runtime.support import Vendors


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_called=False, assert_all_mocked=True)


@pytest.fixture
def vendors(router: respx.MockRouter) -> Vendors:
    return Vendors(router).mount()


@pytest.fixture
def key() -> str:
    return make_canary("canary-key")


@pytest.fixture
def audit() -> MemoryAuditSink:
    return MemoryAuditSink()
