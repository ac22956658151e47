"""The runtime as the call wing sees it (``sdk._call.CallRuntime``): a forged twin unregisters nothing."""

from __future__ import annotations

import respx

from sdk._call import Conversation
from tests.runtime.support import CRM, TENANT, runtime


async def test_closing_a_forged_twin_leaves_the_real_conversation_open(router: respx.MockRouter) -> None:
    async with runtime(router) as nc:
        real = nc.conversation(tenant=TENANT, conversation_id="call-1")
        twin = Conversation(nc, tenant=TENANT, conversation_id="call-1", max_lifetime=60.0)
        assert nc.holds(real)
        assert not nc.holds(twin)
        assert not nc.holds(object())
        twin.close("forged")
        assert nc.open_conversations == 1
        assert nc.holds(real)
        assert not real.closed
        assert nc.policy(TENANT) is nc.config.tenants[TENANT].redaction
        assert nc.binding(TENANT, CRM) is nc.integrations(TENANT)[CRM]
        await real.hangup()
        assert nc.open_conversations == 0
        assert not nc.holds(real)
