"""A voice-agent process in miniature, for ``test_sigterm.py``: live calls, then SIGTERM.

Run as ``python -m tests.reliability._sigterm_child CANARY`` from the repository root. It opens
six conversations for two tenants; four hold cached HubSpot records, two are waiting on a vendor
search that answers only after the wipe (so their results arrive for conversations that are gone).
It then installs the SIGTERM handler an application would (the same shape as ``sdk.demo``'s:
``loop.add_signal_handler`` -> ``nc.wipe_all()`` -> cancel the main task), prints one ``ready``
line, and waits. On SIGTERM the handler wipes, and reports *counts
only* (never data) as JSON lines on stdout; the process exits with ``sdk.cli.EXIT_INTERRUPTED``.

``CANARY`` is planted in every customer record the fake vendor serves, so the parent can check
that nothing the handler or the exit path prints carries customer data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from typing import Any

import httpx

from sdk import ConversationClosedError, MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk.cli import EXIT_INTERRUPTED
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import hubspot_cases
from tests.reliability._support import registry

TENANTS = ("acme", "globex")


def emit(event: str, **counts: Any) -> None:
    print(json.dumps({"event": event, **counts}), flush=True)


def vendor(canary: str, stalled: asyncio.Event, release: asyncio.Event) -> httpx.MockTransport:
    """HubSpot over an async handler: records carry ``canary``; searches wait for ``release``."""

    async def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/crm/v3/objects/contacts/search":
            stalled.set()
            await release.wait()
            hit = hubspot_cases.contact_hit("51", email="caller@example.test", firstname=canary)
            return httpx.Response(200, json=hubspot_cases.search_response(hit))
        if path == "/crm/v3/objects/contacts/51":
            body = hubspot_cases.fixture("contact")
            body["properties"]["firstname"] = canary
            return httpx.Response(200, json=body)
        if path == "/crm/v3/objects/companies/9001":
            body = hubspot_cases.fixture("company")
            body["properties"]["name"] = canary
            return httpx.Response(200, json=body)
        return httpx.Response(404, json={})

    return httpx.MockTransport(handle)


async def main(canary: str) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {t: {"integrations": {"crm": {"connector": "hubspot"}}} for t in TENANTS},
        }
    )
    credentials = MemoryCredentialSource()
    for tenant in TENANTS:
        credentials.put(tenant, "crm", hubspot_cases.credential(make_canary("secret")))
    stalled, release = asyncio.Event(), asyncio.Event()
    nc = NexoraConnect(
        config,
        transport=vendor(canary, stalled, release),
        audit_sink=MemoryAuditSink(),
        registry=registry(),
        credential_store=credentials,
    )
    conversations = [nc.conversation(tenant=TENANTS[i % 2], conversation_id=f"call-{i}") for i in range(6)]
    for conv in conversations[:4]:
        await conv.call("crm", "get_contact", contact_id="51")
        await conv.call("crm", "get_account", account_id="9001")
    in_flight = [
        asyncio.create_task(conv.call("crm", "find_contacts", email="caller@example.test"))
        for conv in conversations[4:]
    ]
    await stalled.wait()

    def on_sigterm() -> None:
        # The order an application needs: wipe synchronously first, then unwind.
        open_before = nc.open_conversations
        cached_before = sum(conv.cached_records for conv in conversations)
        wiped = nc.wipe_all("SIGTERM received")
        caches = [conv._cache for conv in conversations]
        emit(
            "wiped",
            open_before=open_before,
            cached_before=cached_before,
            wiped=wiped,
            open_after=nc.open_conversations,
            cached_after=sum(conv.cached_records for conv in conversations),
            closed=sum(conv.closed for conv in conversations),
            keys_zeroed=sum(not any(cache._key) for cache in caches),
            ciphers_dropped=sum(cache._aead is None for cache in caches),
        )
        release.set()  # the stalled vendor answers now, to conversations that no longer exist
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    emit(
        "ready",
        open=nc.open_conversations,
        cached=sum(conv.cached_records for conv in conversations),
        in_flight=sum(not t.done() for t in in_flight),
    )
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()  # serving calls until told to stop
    loop.remove_signal_handler(signal.SIGTERM)
    outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
    later: str = "no error"
    try:
        await conversations[0].call("crm", "get_contact", contact_id="51")
    except ConversationClosedError as exc:
        later = type(exc).__name__
    await nc.aclose()
    emit(
        "exit",
        in_flight_outcomes=sorted(type(o).__name__ for o in outcomes),
        use_after_wipe=later,
    )
    return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
