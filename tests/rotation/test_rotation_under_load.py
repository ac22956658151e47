"""Zero failed calls while a tenant rotates a key under load (S4; the issue's acceptance test).

A hundred conversations make calls to HubSpot through the SDK, reading the key from
the real OpenBao. Once the conversations are two calls in (on average), two tenant
admins race to rotate it with ``TenantKeys.rotate`` (check-and-set: exactly one
wins), and HubSpot revokes the old key the moment the new one is written. HubSpot
here accepts *only* the current key. Requests carry 20 ms of network latency, so
that at the moment of revocation a crowd of requests is in flight with the old key,
and every conversation keeps calling until it has made at least five calls and one
after the rotation finished. Not one call may fail: each one that meets the revoked
key gets a 401, reads Vault once more and succeeds.

Run twice: reading Vault on every call (the default), and reusing a key for up to
30 s (``max_staleness``), where the 401 is the only thing that discards the reused
old key. The numbers are printed (``pytest -s``) for the closing note of the issue.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from sdk import AuditDecision, MemoryAuditSink, NexoraConnect, VaultConflictError
from sdk._keys import KeyReport
from tests.keys.support import (
    INTEGRATION,
    KeyCheckingHubSpot,
    admin_token,
    api_key,
    config,
    registry,
    tenant_keys,
)
from tests.vault.support import make_secret, new_id, tenant_token, write_secret
from vault import ApiKeyCredential, CredentialStore, OpenBaoDevServer, VaultSettings, credential_path

pytestmark = pytest.mark.vault

CONVERSATIONS = 100
CALLS_PER_CONVERSATION = 5
"""At least this many calls per conversation, and at least one started after the rotation ended."""
ROTATE_AFTER = CONVERSATIONS * 2
LATENCY = 0.02
MAX_CALLS_PER_CONVERSATION = 400  # a bound, so that a rotation that never ends fails instead of hanging


class LatencyTransport(httpx.AsyncBaseTransport):
    """Delays every request on its way to the vendor, as a network does."""

    def __init__(self, inner: httpx.AsyncBaseTransport, latency: float) -> None:
        self._inner = inner
        self._latency = latency

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self._latency)
        return await self._inner.handle_async_request(request)


@dataclasses.dataclass
class Numbers:
    calls: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    recovered_after_401: int = 0
    vault_reads: int = 0
    conflicts: int = 0
    rotations: int = 0


@pytest.mark.parametrize("max_staleness", [0.0, 30.0], ids=["read-every-call", "reuse-30s"])
async def test_no_call_fails_while_the_key_is_rotated_and_the_old_one_revoked(
    openbao: OpenBaoDevServer, vault_root: Any, max_staleness: float
) -> None:
    tenant = new_id("r")
    settings = VaultSettings(address=openbao.address)
    old = make_secret()
    write_secret(vault_root, settings, tenant, INTEGRATION, api_key(old))
    vendor = KeyCheckingHubSpot(old)
    agent_audit = MemoryAuditSink()
    numbers = Numbers()
    rotated = asyncio.Event()
    half_done = asyncio.Event()

    agent = NexoraConnect(
        config(tenant, openbao.address, max_staleness=max_staleness),
        vault_tokens={tenant: tenant_token(vault_root, settings, tenant)},  # the agent may only read
        transport=LatencyTransport(vendor.transport(), LATENCY),
        registry=registry(),
        audit_sink=agent_audit,
    )
    assert isinstance(agent.credentials, CredentialStore)
    agent_store = agent.credentials
    admin = tenant_keys(tenant, openbao.address, admin_token(vault_root, settings, tenant), vendor)

    # HubSpot revokes every other key the moment a new one is written to Vault: from then on it
    # accepts only the current key. (Wrapping the admin's store is how the test learns "the moment".)
    admin_store = admin._store
    write = admin_store.put

    async def write_then_revoke(tenant_id: str, integration: str, credential: Any, *, cas: int | None) -> int:
        version = await write(tenant_id, integration, credential, cas=cas)
        vendor.revoke_all_but(credential.api_key.get_secret_value())
        return version

    admin_store.put = write_then_revoke  # type: ignore[method-assign]

    async def conversation(number: int) -> None:
        after_rotation = 0
        async with agent.conversation(tenant=tenant, conversation_id=f"call-{number:04d}") as conv:
            for step in range(MAX_CALLS_PER_CONVERSATION):
                if step >= CALLS_PER_CONVERSATION and after_rotation > 0:
                    return
                after_rotation += rotated.is_set()
                record_id = str(100_000 + number * MAX_CALLS_PER_CONVERSATION + step)  # no cache hits
                operation, argument = (
                    ("get_contact", "contact_id") if step % 2 == 0 else ("get_account", "account_id")
                )
                try:
                    await conv.call(INTEGRATION, operation, **{argument: record_id})
                except Exception as exc:  # noqa: BLE001 - every failure is counted, then the test fails
                    numbers.failures.append(type(exc).__name__)
                numbers.calls += 1
                if numbers.calls == ROTATE_AFTER:
                    half_done.set()
        raise AssertionError("the rotation never finished")

    async def rotation() -> None:
        await half_done.wait()
        new_keys = [make_secret(), make_secret()]
        results = await asyncio.gather(
            *(
                admin.rotate(tenant, INTEGRATION, ApiKeyCredential(api_key=SecretStr(key)), expect_version=1)
                for key in new_keys
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, VaultConflictError):
                numbers.conflicts += 1
            elif isinstance(result, KeyReport):
                assert result.ok, result.summary
                numbers.rotations += 1
            else:
                raise AssertionError(f"rotation failed: {result!r}")
        rotated.set()

    try:
        await asyncio.gather(rotation(), *(conversation(n) for n in range(CONVERSATIONS)))
    finally:
        await admin.aclose()
        await agent.aclose()
    numbers.vault_reads = agent_store.reads
    # Every 401 on the agent's calls was followed by a success: a second 401 on the resend would
    # have failed the call, and none failed. So each 401 is one call that saw it and recovered.
    numbers.recovered_after_401 = vendor.answers[("contact", 401)] + vendor.answers[("company", 401)]
    print(
        f"\nrotation under load (max_staleness={max_staleness:g}s): calls={numbers.calls} "
        f"failures={len(numbers.failures)} recovered_after_401={numbers.recovered_after_401} "
        f"vault_reads={numbers.vault_reads} rotations={numbers.rotations} conflicts={numbers.conflicts}"
    )

    assert rotated.is_set()
    assert numbers.calls >= CONVERSATIONS * CALLS_PER_CONVERSATION
    assert numbers.failures == []
    assert (numbers.rotations, numbers.conflicts) == (1, 1)  # two admins raced; CAS let one win
    assert numbers.recovered_after_401 >= 1  # the revoked key really was met mid-call
    calls = [r for r in agent_audit.records if r.conversation_id is not None]
    assert len(calls) == numbers.calls
    assert all(r.decision is AuditDecision.ALLOWED and r.outcome == "ok" for r in calls)
    assert {r.credential_version for r in calls} == {1, 2}
    assert calls[-1].credential_version == 2
    # Vault holds the winner's key as version 2; the loser wrote nothing.
    path = credential_path(settings, tenant, INTEGRATION)
    answer = vault_root.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    assert answer["data"]["metadata"]["version"] == 2
    assert vendor.accepted == {answer["data"]["data"]["api_key"]}
    if max_staleness > 0:
        # The old key was reused without reading Vault until the 401 discarded it.
        assert numbers.vault_reads < numbers.calls
    else:
        assert numbers.vault_reads >= numbers.calls + numbers.recovered_after_401
