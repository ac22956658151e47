"""S5: hangup, maximum lifetime and shutdown wipe the conversation; nothing touches disk."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import respx

from sdk import ConversationClosedError, NexoraConnect, UsageError
from sdk._cache import ConversationCache
from tests.sdk.fakes import contact_json


async def test_hangup_wipes_the_cache_and_later_use_raises(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get("/contacts/c-1").respond(json=contact_json())
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
        assert conv.cached_records == 1
        cache = conv._cache
    assert conv.closed
    assert conv.cached_records == 0
    assert cache.closed
    with pytest.raises(ConversationClosedError, match="hung up"):
        await conv.call("crm", "get_contact", contact_id="c-1")
    with pytest.raises(ConversationClosedError):
        cache.get("crm", "get_contact", b"{}")
    assert nc.open_conversations == 0


async def test_hangup_is_idempotent_and_the_id_can_be_reused(nc: NexoraConnect) -> None:
    conv = nc.conversation(tenant="acme", conversation_id="call-1")
    with pytest.raises(UsageError, match="already open"):
        nc.conversation(tenant="acme", conversation_id="call-1")
    await conv.hangup()
    await conv.hangup()
    again = nc.conversation(tenant="acme", conversation_id="call-1")
    assert again is not conv
    await again.hangup()


async def test_maximum_lifetime_wipes_an_abandoned_conversation(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    router.get("/contacts/c-1").respond(json=contact_json())
    conv = nc.conversation(tenant="acme", conversation_id="abandoned", max_lifetime=0.05)
    await conv.call("crm", "get_contact", contact_id="c-1")
    assert conv.cached_records == 1
    for _ in range(100):
        if conv.closed:
            break
        await asyncio.sleep(0.01)
    assert conv.closed, "the lifetime timer did not wipe the conversation"
    assert conv.cached_records == 0
    with pytest.raises(ConversationClosedError, match="maximum lifetime"):
        await conv.call("crm", "get_contact", contact_id="c-1")


async def test_shutdown_wipes_every_open_conversation(nc: NexoraConnect, router: respx.MockRouter) -> None:
    router.get("/contacts/c-1").respond(json=contact_json())
    conversations = []
    for n in range(5):
        conv = nc.conversation(tenant="acme", conversation_id=f"call-{n}")
        await conv.call("crm", "get_contact", contact_id="c-1")
        conversations.append(conv)
    await nc.aclose()
    assert all(c.closed and c.cached_records == 0 for c in conversations)
    with pytest.raises(ConversationClosedError, match="shut down"):
        await conversations[0].call("crm", "get_contact", contact_id="c-1")
    with pytest.raises(UsageError):
        nc.conversation(tenant="acme", conversation_id="late")


async def test_hangup_during_an_inflight_call_does_not_keep_the_result(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    started = asyncio.Event()

    async def slow(request: object) -> object:
        started.set()
        await asyncio.sleep(0.05)
        import httpx

        return httpx.Response(200, json=contact_json())

    router.get("/contacts/c-1").mock(side_effect=slow)
    conv = nc.conversation(tenant="acme", conversation_id="call-1")
    task = asyncio.create_task(conv.call("crm", "get_contact", contact_id="c-1"))
    await started.wait()
    await conv.hangup()
    with pytest.raises(ConversationClosedError):
        await task
    assert conv.cached_records == 0


async def test_cache_keys_carry_the_tenant_and_hide_the_arguments() -> None:
    acme, globex = ConversationCache("acme"), ConversationCache("globex")
    acme.put("crm", "find_contacts", b'{"phone":"+64215550100"}', b"acme-record")
    assert globex.get("crm", "find_contacts", b'{"phone":"+64215550100"}') is None
    (key,) = acme._entries
    assert key[0] == "acme"
    assert b"+64215550100" not in repr(key).encode()
    _nonce, sealed = acme._entries[key]
    assert b"acme-record" not in sealed
    acme.wipe()
    assert len(acme) == 0
    assert all(b == 0 for b in acme._key)


async def test_a_conversation_creates_no_files(
    nc: NexoraConnect, router: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing customer-related touches disk: watch every file open for writing during a call."""
    opened_for_write: list[str] = []
    real_open = os.open

    def watching_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            opened_for_write.append(str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", watching_open)
    import builtins

    real_builtin_open = builtins.open

    def watching_builtin_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if any(m in mode for m in "wax+"):
            opened_for_write.append(str(file))
        return real_builtin_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", watching_builtin_open)
    monkeypatch.chdir(tmp_path)
    router.get("/contacts/c-1").respond(json=contact_json())
    router.post("/contacts/search").respond(json={"results": [contact_json()]})
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1")
        await conv.call("crm", "find_contacts", email="aroha@example.test")
    assert opened_for_write == []
    assert os.listdir(tmp_path) == []


async def test_conversation_cannot_be_pickled(nc: NexoraConnect) -> None:
    import pickle

    conv = nc.conversation(tenant="acme", conversation_id="call-p")
    with pytest.raises(UsageError, match="pickled"):
        pickle.dumps(conv)
    await conv.hangup()
