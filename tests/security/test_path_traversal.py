"""Path traversal in every encoding: '..', '%2e%2e', fullwidth and one-dot-leader dots, separators.

Sent as every string argument of every operation of every shipped connector, through
``conv.call``, ``conv.invoke`` and the MCP server (see ``tests/security/_drive.py`` for
what is checked on each attempt).
"""

from __future__ import annotations

import pytest

from tests.security._drive import DOORS, Door, attack
from tests.security._targets import Target


@pytest.mark.parametrize("door", DOORS)
async def test_path_traversal_never_leave_the_declared_endpoints(target: Target, door: Door) -> None:
    findings = await attack(target, "traversal", door)
    assert findings.attempts > 0
    assert findings.problems == []
