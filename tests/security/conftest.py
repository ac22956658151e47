from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security._targets import TARGETS, Target


@pytest.fixture(params=TARGETS, ids=lambda t: t.name)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each shipped connector; OAuth ones with their token endpoint answering."""
    chosen: Target = request.param
    if chosen.login_server is not None:
        with chosen.login_server():
            yield chosen
    else:
        yield chosen
