"""Key management against a real OpenBao and a respx HubSpot: put, rotate, roll back, versions, verify.

Every key is a canary; every report (its JSON, its lines, its repr, its error) is
scanned for them, because a report is printed and logged where a key must never be.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import hvac.exceptions
import pytest
from pydantic import SecretStr

from sdk import (
    CredentialNotFoundError,
    InvalidArgumentsError,
    MemoryAuditSink,
    UnknownIntegrationError,
    UnknownTenantError,
    VaultConflictError,
    VaultPermissionError,
    VaultSealedError,
    VaultUnavailableError,
    VendorAuthError,
)
from sdk._keys import KeyAction, KeyOutcome, KeyReport, KeyVersions, TenantKeys
from tests.keys.support import (
    INTEGRATION,
    KeyCheckingHubSpot,
    admin_token,
    api_key,
    tenant_keys,
)
from tests.vault.support import make_secret, new_id, tenant_token, write_secret
from vault import ApiKeyCredential, BasicCredential, OpenBaoDevServer, VaultSettings, credential_path

pytestmark = pytest.mark.vault


def key_credential(key: str) -> ApiKeyCredential:
    return ApiKeyCredential(api_key=SecretStr(key))


def current(root: Any, tenant: str) -> tuple[int, dict[str, Any]]:
    """What Vault holds now, read as the tenant's own admin would see it."""
    path = credential_path("nexora", tenant, INTEGRATION)
    answer = root.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    return int(answer["data"]["metadata"]["version"]), dict(answer["data"]["data"])


def assert_no_secret(report: KeyReport | KeyVersions, *secrets: str) -> None:
    texts = [json.dumps(report.to_dict()), "\n".join(report.lines()), repr(report)]
    if isinstance(report, KeyReport) and report.failure is not None:
        texts += [str(report.failure), repr(report.failure)]
        assert report.failure.__traceback__ is None  # frames hold the request that carried the key
    for secret in secrets:
        for text in texts:
            assert secret not in text


@pytest.fixture
def tenant() -> str:
    return new_id("k")


@pytest.fixture
def settings(openbao: OpenBaoDevServer) -> VaultSettings:
    return VaultSettings(address=openbao.address)


@pytest.fixture
def vendor() -> KeyCheckingHubSpot:
    return KeyCheckingHubSpot()


@pytest.fixture
async def keys(
    openbao: OpenBaoDevServer,
    vault_root: Any,
    settings: VaultSettings,
    tenant: str,
    vendor: KeyCheckingHubSpot,
    audit: MemoryAuditSink,
) -> AsyncIterator[TenantKeys]:
    async with tenant_keys(
        tenant, openbao.address, admin_token(vault_root, settings, tenant), vendor, audit
    ) as admin:
        yield admin


# --- put --------------------------------------------------------------------------------------


async def test_put_writes_the_first_version_then_new_ones_with_check_and_set(
    keys: TenantKeys, vault_root: Any, tenant: str, audit: MemoryAuditSink
) -> None:
    first, second = make_secret(), make_secret()
    report = await keys.put(tenant, INTEGRATION, key_credential(first))
    assert (report.ok, report.current_version) == (True, 1)
    assert [step.to_dict() for step in report.steps] == [
        {"action": "write", "ok": True, "version": 1, "cas": 0}
    ]
    assert "wrote v1 (the first version)" in report.lines()[1]

    report = await keys.put(tenant, INTEGRATION, key_credential(second))
    assert report.steps[0].cas == 1
    assert current(vault_root, tenant) == (2, api_key(second))

    with pytest.raises(VaultConflictError, match="another writer got there first"):
        await keys.put(tenant, INTEGRATION, key_credential(make_secret()), expect_version=1)
    assert current(vault_root, tenant)[0] == 2
    assert [(r.operation, r.outcome, r.credential_version) for r in audit.records] == [
        ("keys.put", "ok", 1),
        ("keys.put", "ok", 2),
        ("keys.put", "VaultConflictError", None),
    ]
    assert_no_secret(report, first, second)


async def test_put_refuses_what_the_connector_cannot_use_before_writing(
    keys: TenantKeys, vault_root: Any, tenant: str
) -> None:
    basic = BasicCredential(username="ops", password=SecretStr(make_secret()))
    with pytest.raises(
        InvalidArgumentsError, match=r"accepts credentials of type .*api_key.*; got type 'basic'"
    ):
        await keys.put(tenant, INTEGRATION, basic)
    with pytest.raises(UnknownIntegrationError, match="configured: crm"):
        await keys.put(tenant, "billing", key_credential(make_secret()))
    with pytest.raises(UnknownTenantError):
        await keys.put(new_id("k"), INTEGRATION, key_credential(make_secret()))
    with pytest.raises(CredentialNotFoundError, match="put"):
        await keys.rotate(tenant, INTEGRATION, key_credential(make_secret()))  # nothing to rotate yet
    with pytest.raises(hvac.exceptions.InvalidPath):  # nothing was written
        vault_root.secrets.kv.v2.read_secret_metadata(
            path=credential_path("nexora", tenant, INTEGRATION), mount_point="secret"
        )


# --- rotate -----------------------------------------------------------------------------------


async def test_rotate_makes_the_new_key_current_once_the_vendor_accepts_it(
    keys: TenantKeys, vault_root: Any, tenant: str, vendor: KeyCheckingHubSpot, audit: MemoryAuditSink
) -> None:
    old, new = make_secret(), make_secret()
    await keys.put(tenant, INTEGRATION, key_credential(old))
    vendor.accepted = {old, new}  # the tenant created the new key at HubSpot first

    report = await keys.rotate(tenant, INTEGRATION, key_credential(new))

    assert report.ok
    assert report.outcome is KeyOutcome.OK
    assert report.current_version == 2
    assert [(s.action, s.ok, s.version) for s in report.steps] == [
        (KeyAction.WRITE, True, 2),
        (KeyAction.VERIFY, True, 2),
    ]
    assert report.steps[0].cas == 1
    assert current(vault_root, tenant) == (2, api_key(new))
    assert vendor.keys_seen[new] == 1  # verify used the new version, read from Vault at call time
    assert vendor.keys_seen[old] == 0
    report.raise_for_outcome()  # nothing to raise
    verify_record = next(r for r in audit.records if r.operation == "verify")
    assert verify_record.credential_version == 2
    assert_no_secret(report, old, new)


async def test_rotate_rolls_back_when_the_vendor_rejects_the_new_key(
    keys: TenantKeys, vault_root: Any, settings: VaultSettings, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    old, rejected = make_secret(), make_secret()
    # Written by the tenant with a note of their own: a rollback restores it exactly.
    write_secret(vault_root, settings, tenant, INTEGRATION, {**api_key(old), "owner": "it-ops"})
    vendor.accepted = {old}  # the new key was mistyped: HubSpot never issued it

    report = await keys.rotate(tenant, INTEGRATION, key_credential(rejected))

    assert not report.ok
    assert report.outcome is KeyOutcome.ROLLED_BACK
    assert report.current_version == 3
    assert [(s.action, s.ok, s.version, s.error) for s in report.steps] == [
        (KeyAction.WRITE, True, 2, None),
        (KeyAction.VERIFY, False, 2, "VendorAuthError"),
        (KeyAction.ROLLBACK, True, 3, None),
        (KeyAction.VERIFY, True, 3, None),
    ]
    rollback = report.steps[2]
    assert (rollback.source_version, rollback.cas) == (1, 2)
    assert "the previous key (v1) is current again as v3 and works" in report.summary
    assert "  rolled back: the value of v1 is current again as v3 (check-and-set on v2)" in report.lines()
    # The previous version is current again, as a new version, byte for byte.
    assert current(vault_root, tenant) == (3, {**api_key(old), "owner": "it-ops"})
    assert vendor.keys_seen[rejected] == 2  # sent, rejected, re-read from Vault once, resent, rejected
    with pytest.raises(VendorAuthError):
        report.raise_for_outcome()
    assert_no_secret(report, old, rejected)


async def test_rotate_loses_cleanly_to_a_concurrent_rotation(
    keys: TenantKeys, vault_root: Any, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    first, mine, theirs = make_secret(), make_secret(), make_secret()
    await keys.put(tenant, INTEGRATION, key_credential(first))
    vendor.accepted = {first, mine, theirs}

    results = await asyncio.gather(
        keys.rotate(tenant, INTEGRATION, key_credential(mine), expect_version=1),
        keys.rotate(tenant, INTEGRATION, key_credential(theirs), expect_version=1),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, KeyReport)]
    losers = [r for r in results if isinstance(r, VaultConflictError)]
    assert (len(winners), len(losers)) == (1, 1)
    assert winners[0].ok
    assert "wrote nothing" in str(losers[0])
    assert "their version was left as it is" in str(losers[0])
    version, data = current(vault_root, tenant)
    assert version == 2  # exactly one rotation happened; the loser did not roll anything back
    assert data["api_key"] in {mine, theirs}
    for secret in (first, mine, theirs):
        assert secret not in str(losers[0])


async def test_a_rotation_by_someone_else_before_the_rollback_is_not_overwritten(
    keys: TenantKeys, vault_root: Any, settings: VaultSettings, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    old, rejected, theirs = make_secret(), make_secret(), make_secret()
    await keys.put(tenant, INTEGRATION, key_credential(old))
    vendor.accepted = {old, theirs}
    seen_rejected = 0

    def other_admin_rotates(request: httpx.Request) -> None:
        nonlocal seen_rejected
        if request.headers.get("authorization") == f"Bearer {rejected}":
            seen_rejected += 1
            if seen_rejected == 2:  # the resend after the re-read: verification is about to fail
                write_secret(vault_root, settings, tenant, INTEGRATION, api_key(theirs))

    vendor.on_request = other_admin_rotates
    report = await keys.rotate(tenant, INTEGRATION, key_credential(rejected))

    assert report.outcome is KeyOutcome.CONFLICT
    assert [(s.action, s.ok, s.error) for s in report.steps] == [
        (KeyAction.WRITE, True, None),
        (KeyAction.VERIFY, False, "VendorAuthError"),
        (KeyAction.ROLLBACK, False, "VaultConflictError"),
    ]
    assert "theirs was left current" in report.summary
    assert current(vault_root, tenant) == (3, api_key(theirs))  # their write stands
    with pytest.raises(VaultConflictError):
        report.raise_for_outcome()
    assert_no_secret(report, old, rejected, theirs)


async def test_a_verification_that_picked_up_someone_elses_key_is_reported_as_a_conflict(
    keys: TenantKeys, vault_root: Any, settings: VaultSettings, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    old, rejected, theirs = make_secret(), make_secret(), make_secret()
    await keys.put(tenant, INTEGRATION, key_credential(old))
    vendor.accepted = {old, theirs}

    def other_admin_rotates(request: httpx.Request) -> None:
        if request.headers.get("authorization") == f"Bearer {rejected}" and vendor.on_request is not None:
            vendor.on_request = None
            write_secret(vault_root, settings, tenant, INTEGRATION, api_key(theirs))

    vendor.on_request = other_admin_rotates
    # Our key is rejected, the re-read after the 401 finds theirs, and theirs works: the
    # verification passed, but not for our key; the report must not call that a success.
    report = await keys.rotate(tenant, INTEGRATION, key_credential(rejected))

    assert report.outcome is KeyOutcome.CONFLICT
    assert [(s.action, s.ok) for s in report.steps] == [
        (KeyAction.WRITE, True),
        (KeyAction.VERIFY, True),
        (KeyAction.CHECK, False),
    ]
    assert report.current_version == 3
    assert current(vault_root, tenant) == (3, api_key(theirs))
    assert_no_secret(report, old, rejected, theirs)


async def test_rotate_without_a_readable_previous_version_says_it_cannot_roll_back(
    keys: TenantKeys, vault_root: Any, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    old, rejected = make_secret(), make_secret()
    await keys.put(tenant, INTEGRATION, key_credential(old))
    path = credential_path("nexora", tenant, INTEGRATION)
    vault_root.secrets.kv.v2.destroy_secret_versions(path=path, versions=[1], mount_point="secret")

    report = await keys.rotate(tenant, INTEGRATION, key_credential(rejected))

    assert report.outcome is KeyOutcome.VERIFY_FAILED
    assert report.steps[-1].action is KeyAction.ROLLBACK
    assert "v1 is destroyed" in (report.steps[-1].message or "")
    assert current(vault_root, tenant) == (2, api_key(rejected))
    assert_no_secret(report, old, rejected)


# --- versions, rollback, verify ----------------------------------------------------------------


async def test_versions_lists_metadata_and_never_a_value(
    keys: TenantKeys, vault_root: Any, tenant: str
) -> None:
    secrets = [make_secret() for _ in range(3)]
    for secret in secrets:
        await keys.put(tenant, INTEGRATION, key_credential(secret))
    path = credential_path("nexora", tenant, INTEGRATION)
    vault_root.secrets.kv.v2.delete_secret_versions(path=path, versions=[2], mount_point="secret")

    listing = await keys.versions(tenant, INTEGRATION)

    assert listing.current_version == 3
    assert [(v.version, v.state, v.current) for v in listing.versions] == [
        (1, "readable", False),
        (2, "deleted", False),
        (3, "readable", True),
    ]
    document = listing.to_dict()
    assert set(document["versions"][0]) == {
        "version",
        "created_time",
        "deletion_time",
        "destroyed",
        "state",
        "current",
    }
    lines = listing.lines()
    assert lines[0].split() == ["VERSION", "CREATED", "STATE"]
    assert lines[-1].endswith("current")
    assert_no_secret(listing, *secrets)


async def test_rollback_to_an_earlier_version_writes_it_as_a_new_one_and_verifies_it(
    keys: TenantKeys, vault_root: Any, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    secrets = [make_secret() for _ in range(3)]
    for secret in secrets:
        await keys.put(tenant, INTEGRATION, key_credential(secret))
    vendor.accepted = {secrets[0]}

    report = await keys.rollback(tenant, INTEGRATION, to=1)

    assert report.ok
    assert report.current_version == 4
    assert [(s.action, s.ok, s.version, s.source_version, s.cas) for s in report.steps] == [
        (KeyAction.RESTORE, True, 4, 1, 3),
        (KeyAction.VERIFY, True, 4, None, None),
    ]
    assert current(vault_root, tenant) == (4, api_key(secrets[0]))
    assert report.summary == "the value of v1 is current again as v4 and works"

    failing = await keys.rollback(tenant, INTEGRATION, to=2)  # a key HubSpot no longer accepts
    assert failing.outcome is KeyOutcome.VERIFY_FAILED
    assert failing.current_version == 5  # asked for explicitly: no automatic second rollback
    assert_no_secret(report, *secrets)
    assert_no_secret(failing, *secrets)


async def test_rollback_refuses_versions_it_cannot_restore(
    keys: TenantKeys, vault_root: Any, tenant: str
) -> None:
    for _ in range(2):
        await keys.put(tenant, INTEGRATION, key_credential(make_secret()))
    path = credential_path("nexora", tenant, INTEGRATION)
    vault_root.secrets.kv.v2.delete_secret_versions(path=path, versions=[1], mount_point="secret")
    with pytest.raises(CredentialNotFoundError, match=r"is deleted.*readable versions: v2"):
        await keys.rollback(tenant, INTEGRATION, to=1)
    with pytest.raises(CredentialNotFoundError, match="is not kept by Vault"):
        await keys.rollback(tenant, INTEGRATION, to=99)
    with pytest.raises(InvalidArgumentsError):
        await keys.rollback(tenant, INTEGRATION, to=0)
    assert current(vault_root, tenant)[0] == 2  # nothing written


async def test_rollback_to_the_current_version_only_verifies(
    keys: TenantKeys, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    key = make_secret()
    await keys.put(tenant, INTEGRATION, key_credential(key))
    vendor.accepted = {key}
    report = await keys.rollback(tenant, INTEGRATION, to=1)
    assert [(s.action, s.ok) for s in report.steps] == [(KeyAction.VERIFY, True)]
    assert report.summary == "v1 was already current and works"


async def test_verify_reports_the_vendor_verdict(
    keys: TenantKeys, tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    key = make_secret()
    await keys.put(tenant, INTEGRATION, key_credential(key))
    assert not (await keys.verify(tenant, INTEGRATION)).ok
    vendor.accepted = {key}
    report = await keys.verify(tenant, INTEGRATION)
    assert report.ok
    assert report.summary == "v1 works"
    assert_no_secret(report, key)


# --- Vault says no ----------------------------------------------------------------------------


async def test_a_read_only_token_is_told_it_needs_the_write_policy(
    openbao: OpenBaoDevServer,
    vault_root: Any,
    settings: VaultSettings,
    tenant: str,
    vendor: KeyCheckingHubSpot,
) -> None:
    key = make_secret()
    write_secret(vault_root, settings, tenant, INTEGRATION, api_key(key))
    reader = tenant_token(vault_root, settings, tenant)  # what the voice agent runs with
    async with tenant_keys(tenant, openbao.address, reader, vendor) as agent_keys:
        assert (await agent_keys.versions(tenant, INTEGRATION)).current_version == 1  # reading is allowed
        with pytest.raises(VaultPermissionError) as caught:
            await agent_keys.rotate(tenant, INTEGRATION, key_credential(make_secret()))
    message = str(caught.value)
    assert "denied writing" in message
    assert "create or update" in message
    assert "write=True" in message
    assert reader not in message
    assert key not in message
    assert current(vault_root, tenant)[0] == 1


async def test_a_sealed_vault_is_reported_as_sealed(
    keys: TenantKeys, openbao: OpenBaoDevServer, vault_root: Any, tenant: str
) -> None:
    await keys.put(tenant, INTEGRATION, key_credential(make_secret()))
    vault_root.sys.seal()
    try:
        with pytest.raises(VaultSealedError, match="unseal it"):
            await keys.rotate(tenant, INTEGRATION, key_credential(make_secret()))
    finally:
        vault_root.sys.submit_unseal_key(openbao.unseal_key)
    for _ in range(100):  # the active node needs a moment after unsealing
        try:
            await keys.versions(tenant, INTEGRATION)
            break
        except VaultUnavailableError:
            await asyncio.sleep(0.05)
    assert current(vault_root, tenant)[0] == 1


async def test_a_vault_that_is_down_is_reported_as_unavailable(
    tenant: str, vendor: KeyCheckingHubSpot
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"http://127.0.0.1:{probe.getsockname()[1]}"
    async with tenant_keys(tenant, address, "unused", vendor) as down:
        with pytest.raises(VaultUnavailableError, match="is running and reachable") as caught:
            await down.put(tenant, INTEGRATION, key_credential(make_secret()))
    assert type(caught.value) is VaultUnavailableError
