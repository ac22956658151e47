from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors import salesforce_cases
from tests.security._targets import TARGETS, Target


@pytest.fixture(params=TARGETS, ids=lambda t: t.name)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each shipped connector; Salesforce with its login server answering token requests."""
    chosen: Target = request.param
    if chosen.needs_login_server:
        with salesforce_cases.kit_login():
            yield chosen
    else:
        yield chosen
