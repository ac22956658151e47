"""NUL bytes, raw and percent-encoded.

Sent as every string argument of every operation of every shipped connector, through
``conv.call``, ``conv.invoke`` and the MCP server (see ``tests/security/_drive.py`` for
what is checked on each attempt).
"""

from __future__ import annotations

import pytest

from tests.security._drive import DOORS, Door, attack
from tests.security._targets import Target


@pytest.mark.parametrize("door", DOORS)
async def test_nul_bytes_never_leave_the_declared_endpoints(target: Target, door: Door) -> None:
    findings = await attack(target, "nul", door)
    assert findings.attempts > 0
    assert findings.problems == []
