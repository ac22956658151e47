from __future__ import annotations

import pytest
import respx

from sdk.testing import make_canary
from tests.runtime.support import Vendors


@pytest.fixture
def vendors(router: respx.MockRouter) -> Vendors:
    return Vendors(router).mount()


@pytest.fixture
def key() -> str:
    return make_canary("canary-key")
