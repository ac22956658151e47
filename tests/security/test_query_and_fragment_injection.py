"""Query and fragment injection: '?', '&_method=', '#' inside a value.

Sent as every string argument of every operation of every shipped connector, through
``conv.call``, ``conv.invoke`` and the MCP server (see ``tests/security/_drive.py`` for
what is checked on each attempt).
"""

from __future__ import annotations

import pytest

from tests.security._drive import DOORS, Door, attack
from tests.security._targets import Target


@pytest.mark.parametrize("door", DOORS)
async def test_query_and_fragment_injection_never_leave_the_declared_endpoints(
    target: Target, door: Door
) -> None:
    findings = await attack(target, "query-injection", door)
    assert findings.attempts > 0
    assert findings.problems == []
