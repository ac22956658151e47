"""Vault crashes, restarts sealed, is sealed, hangs, or revokes the token: typed errors, then recovery.

Every scenario runs the whole SDK (``NexoraConnect`` -> conversation -> dispatch -> HubSpot connector
-> credential read from a real OpenBao -> respx HubSpot) against :class:`RestartableOpenBao`, a
production-mode OpenBao whose data survives restarts (see ``_openbao.py`` for why not the dev
server). While Vault is down every call must end, before the caller's deadline, in the typed error
for what is wrong; once Vault is back every call must succeed again by itself, and the first
success must come within a second of Vault answering health checks as active.

Each probe opens a fresh conversation: a cache hit would answer without asking Vault at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    DeadlineExceededError,
    MemoryAuditSink,
    NexoraConfig,
    NexoraConnect,
    NexoraError,
    VaultAuthError,
    VaultSealedError,
    VaultTimeoutError,
    VaultUnavailableError,
)
from sdk.authoring import ConnectorRegistry
from tests.connectors.hubspot_cases import BASE, fixture
from tests.reliability._openbao import RestartableOpenBao
from tests.vault.support import live_role_tokens, make_secret, new_id, tenant_approle, tenant_token
from vault import VaultSettings, credential_path

pytestmark = pytest.mark.vault

RECOVERY_LIMIT = 1.0
"""Seconds within which the first call must succeed once Vault is back (the requirement)."""
POLL = 0.05
BUDGET = 1.0
"""The caller's deadline for one operation, in seconds."""
OVERRUN_SLACK = 0.5
"""How far past its deadline a call may return on a loaded 2-core machine before it counts as hung."""

Measure = Callable[[str, str], None]


# --- the server and its state -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableOpenBao]:
    with RestartableOpenBao(tmp_path_factory.mktemp("openbao-raft")) as bao:
        root = bao.hvac_root()
        try:
            root.sys.enable_auth_method(method_type="approle", path="approle")
        finally:
            root.adapter.close()
        yield bao


def _restore(bao: RestartableOpenBao) -> None:
    """Whatever a test did to the server, leave it running, unsealed and active."""
    bao.thaw()
    if not bao.running:
        bao.start()
    if bao.health() == 503:
        bao.unseal()
    bao.wait_active()


@pytest.fixture
def bao(server: RestartableOpenBao) -> Iterator[RestartableOpenBao]:
    _restore(server)
    yield server
    _restore(server)


@pytest.fixture
def root(bao: RestartableOpenBao) -> Iterator[Any]:
    client = bao.hvac_root()
    yield client
    client.adapter.close()


# --- the SDK under test -------------------------------------------------------------------------


@dataclass
class Probe:
    """A runtime with one tenant and one HubSpot integration whose key lives in the test's Vault."""

    nc: NexoraConnect
    tenant: str
    audit: MemoryAuditSink
    router: respx.MockRouter
    calls: itertools.count[int] = field(default_factory=itertools.count)

    async def call(self, budget: float = BUDGET) -> None:
        """One read under a ``budget``-second deadline, in a conversation of its own."""
        conversation = f"probe-{next(self.calls)}"
        async with self.nc.conversation(tenant=self.tenant, conversation_id=conversation) as conv:
            await conv._call("crm", "get_contact", {"contact_id": "51"}, deadline=time.monotonic() + budget)

    async def outcome(self, budget: float = BUDGET) -> tuple[NexoraError | None, float]:
        """Run :meth:`call`; return the error it ended with (None: success) and how long it took."""
        started = time.monotonic()
        failure: NexoraError | None = None
        try:
            await self.call(budget)
        except NexoraError as exc:
            failure = exc
        return failure, time.monotonic() - started


def _seed(root: Any, settings: VaultSettings, tenant: str) -> None:
    path = credential_path(settings, tenant, "crm")
    secret = {"type": "api_key", "api_key": make_secret()}
    root.secrets.kv.v2.create_or_update_secret(path=path, secret=secret, mount_point=settings.mount)


@contextlib.asynccontextmanager
async def probe(
    bao: RestartableOpenBao,
    root: Any,
    *,
    tenant: str | None = None,
    auth: dict[str, Any] | None = None,
    vault_timeout: float = 2.0,
) -> AsyncIterator[Probe]:
    """A runtime for ``tenant`` (default: a new one); without ``auth`` it holds a tenant-policy token."""
    tenant = tenant or new_id("rel")
    settings = VaultSettings(address=bao.address)
    _seed(root, settings, tenant)
    vault: dict[str, Any] = {"address": bao.address, "timeout": vault_timeout}
    if auth is not None:
        vault["auth"] = auth
    config = NexoraConfig.parse(
        {"vault": vault, "tenants": {tenant: {"integrations": {"crm": {"connector": "hubspot"}}}}}
    )
    registry = ConnectorRegistry(discover=False)
    registry.register(HubSpotConnector)
    router = respx.MockRouter(base_url=BASE, assert_all_called=False, assert_all_mocked=True)
    router.get("/crm/v3/objects/contacts/51").respond(200, json=fixture("contact"))
    audit = MemoryAuditSink()
    token = tenant_token(root, settings, tenant) if auth is None else None
    async with NexoraConnect(
        config,
        transport=httpx.MockTransport(router.async_handler),
        audit_sink=audit,
        registry=registry,
        vault_tokens={tenant: token} if token is not None else None,
    ) as nc:
        yield Probe(nc=nc, tenant=tenant, audit=audit, router=router)


async def _recovery(call: Callable[[], Awaitable[None]], back_at: float) -> float:
    """Poll ``call`` every 50 ms from ``back_at``; return seconds from ``back_at`` to the first success.

    Fails unless a call begun within RECOVERY_LIMIT succeeds (a call begun in time that is slow to
    finish on a loaded machine still counts: the SDK had recovered when it started).
    """
    last: BaseException | None = None
    while time.monotonic() - back_at <= RECOVERY_LIMIT:
        try:
            await call()
        except NexoraError as exc:
            last = exc
            await asyncio.sleep(POLL)
            continue
        return time.monotonic() - back_at
    raise AssertionError(
        f"no successful call within {RECOVERY_LIMIT} s of Vault coming back; last error: {last!r}"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- the scenarios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One call made while the server changed state: the phases it started and ended in, and its end."""

    began_in: str
    ended_in: str
    started: float
    took: float
    failure: NexoraError | None


class Load:
    """Conversations calling in a loop while the test moves Vault through named phases.

    A call's phase is only certain when it started and ended in the same one; calls that span a
    change are held only to "typed error or success, before the deadline".
    """

    def __init__(self, p: Probe, workers: int) -> None:
        self.p = p
        self.phase = "up"
        self.outcomes: list[Outcome] = []
        self._stop = asyncio.Event()
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def _work(self) -> None:
        while not self._stop.is_set():
            began_in, started = self.phase, time.monotonic()
            failure, took = await self.p.outcome()
            self.outcomes.append(Outcome(began_in, self.phase, started, took, failure))
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._workers)

    def begun_in(self, phase: str) -> list[type[NexoraError] | None]:
        return [type(o.failure) if o.failure else None for o in self.outcomes if o.began_in == phase]

    def within(self, phase: str) -> list[type[NexoraError] | None]:
        return [
            type(o.failure) if o.failure else None for o in self.outcomes if o.began_in == o.ended_in == phase
        ]

    def check(self) -> None:
        """Every call: success or a typed Vault/deadline error, and never hung past its deadline."""
        for o in self.outcomes:
            assert o.failure is None or isinstance(
                o.failure, VaultUnavailableError | DeadlineExceededError
            ), f"{o.began_in}->{o.ended_in}: untyped {o.failure!r}"
            assert o.took <= BUDGET + OVERRUN_SLACK, f"{o.began_in}->{o.ended_in}: a call took {o.took:.2f} s"

    def check_recovered(self, phase: str, back_at: float) -> None:
        """Calls begun in ``phase`` fail only within RECOVERY_LIMIT of ``back_at``, never after a success."""
        after = sorted((o for o in self.outcomes if o.began_in == phase), key=lambda o: o.started)
        assert after, f"no call started in phase {phase!r}"
        first_ok = next(i for i, o in enumerate(after) if o.failure is None)
        assert all(o.started - back_at <= RECOVERY_LIMIT for o in after[:first_ok])
        assert all(o.failure is None for o in after[first_ok:]), "a call failed after the SDK had recovered"


async def _crash_and_return(
    bao: RestartableOpenBao, load: Load, p: Probe, cycle: str = "", *, hold: float = 0.5
) -> float:
    """Kill Vault, restart it (sealed), unseal it; return the first success after it is active.

    ``hold`` is how long each outage phase lasts: long enough for whole calls to fall inside it.
    """
    load.phase = f"killed{cycle}"
    await asyncio.to_thread(bao.kill)
    await asyncio.sleep(hold)
    load.phase = f"restarting{cycle}"
    await asyncio.to_thread(bao.start)  # listening again, and sealed: a restarted Vault is
    load.phase = f"sealed{cycle}"
    await asyncio.sleep(hold)
    load.phase = f"unsealing{cycle}"
    await asyncio.to_thread(bao.unseal)
    back_at = await asyncio.to_thread(bao.wait_active)
    load.phase = f"back{cycle}"
    recovered = await _recovery(p.call, back_at)
    await asyncio.sleep(0.3)
    assert VaultUnavailableError in load.begun_in(f"killed{cycle}")
    assert set(load.within(f"killed{cycle}")) <= {None, VaultUnavailableError}  # None: before the kill landed
    assert VaultSealedError in load.begun_in(f"sealed{cycle}")
    assert set(load.within(f"sealed{cycle}")) <= {VaultSealedError}
    load.check_recovered(f"back{cycle}", back_at)
    return recovered


async def test_vault_killed_mid_run_then_restarted_sealed_then_unsealed(
    bao: RestartableOpenBao, root: Any, measure: Measure
) -> None:
    """Twelve conversations keep calling while Vault crashes, restarts sealed and is unsealed."""
    async with probe(bao, root) as p:
        await p.call()
        load = Load(p, workers=12)
        try:
            await asyncio.sleep(0.2)
            recovered = await _crash_and_return(bao, load, p)
        finally:
            await load.stop()
    load.check()
    slowest_error = max(o.took for o in load.outcomes if o.failure is not None)
    measure("vault killed: slowest typed error while down", _ms(slowest_error))
    measure("vault killed+restarted: first success after active", _ms(recovered))
    audited = {record.outcome for record in p.audit.records}
    assert {"ok", "VaultUnavailableError", "VaultSealedError"} <= audited


@pytest.mark.slow
async def test_soak_repeated_crashes_and_seals_under_load(
    bao: RestartableOpenBao, root: Any, measure: Measure
) -> None:
    """Five crashes and five seals in a row under forty conversations: same promises every time."""
    recoveries: list[float] = []
    async with probe(bao, root) as p:
        await p.call()
        load = Load(p, workers=40)
        try:
            for cycle in range(5):
                recoveries.append(await _crash_and_return(bao, load, p, cycle=f"-{cycle}", hold=0.6))
                load.phase = f"sealing-{cycle}"
                await asyncio.to_thread(bao.seal)
                load.phase = f"sealed-again-{cycle}"
                await asyncio.sleep(0.6)
                load.phase = f"unsealing-again-{cycle}"
                await asyncio.to_thread(bao.unseal)
                back_at = await asyncio.to_thread(bao.wait_active)
                load.phase = f"back-again-{cycle}"
                recoveries.append(await _recovery(p.call, back_at))
                await asyncio.sleep(0.3)
                assert VaultSealedError in load.begun_in(f"sealed-again-{cycle}")
                assert set(load.within(f"sealed-again-{cycle}")) <= {VaultSealedError}
                load.check_recovered(f"back-again-{cycle}", back_at)
        finally:
            await load.stop()
    load.check()
    measure("soak: calls made", str(len(load.outcomes)))
    measure("soak: slowest recovery after active", _ms(max(recoveries)))


async def test_sealed_then_unsealed(bao: RestartableOpenBao, root: Any, measure: Measure) -> None:
    async with probe(bao, root) as p:
        await p.call()
        await asyncio.to_thread(bao.seal)
        failures = await asyncio.gather(*(p.outcome() for _ in range(8)))
        assert {type(failure) for failure, _ in failures} == {VaultSealedError}
        await asyncio.to_thread(bao.unseal)
        back_at = await asyncio.to_thread(bao.wait_active)
        recovered = await _recovery(p.call, back_at)
    measure("vault sealed: slowest VaultSealedError", _ms(max(took for _, took in failures)))
    measure("vault unsealed: first success after active", _ms(recovered))


async def test_hung_vault_gives_a_timeout_before_the_deadline(
    bao: RestartableOpenBao, root: Any, measure: Measure
) -> None:
    """A frozen Vault accepts connections and never answers: the Vault timeout (0.3 s) ends the call."""
    async with probe(bao, root, vault_timeout=0.3) as p:
        await p.call()
        bao.freeze()
        try:
            timed_out = await p.outcome(budget=BUDGET)
            cut_short = await p.outcome(budget=0.15)  # the caller's deadline comes before Vault's timeout
        finally:
            bao.thaw()
        back_at = await asyncio.to_thread(bao.wait_active)
        recovered = await _recovery(p.call, back_at)
    assert type(timed_out[0]) is VaultTimeoutError
    assert type(cut_short[0]) is DeadlineExceededError
    assert cut_short[1] <= 0.15 + OVERRUN_SLACK
    measure("vault hung: VaultTimeoutError (vault timeout 0.3 s)", _ms(timed_out[1]))
    measure("vault hung: DeadlineExceededError (deadline 0.15 s)", _ms(cut_short[1]))
    measure("vault thawed: first success after active", _ms(recovered))


async def test_revoked_token_is_an_auth_error_until_operations_replace_it(
    bao: RestartableOpenBao, root: Any, tmp_path: Path, measure: Measure
) -> None:
    """Token auth cannot log in again by itself: VaultAuthError, then recovery once the file is updated."""
    token_file = tmp_path / "vault-token"
    settings = VaultSettings(address=bao.address)
    auth = {"method": "token", "token_file": str(token_file)}
    async with probe(bao, root, auth=auth) as p:
        token_file.write_text(tenant_token(root, settings, p.tenant) + "\n")
        await p.call()
        root.auth.token.revoke(token_file.read_text().strip())
        failure, took = await p.outcome()
        assert type(failure) is VaultAuthError
        token_file.write_text(tenant_token(root, settings, p.tenant) + "\n")  # operations rotate it
        back_at = time.monotonic()
        recovered = await _recovery(p.call, back_at)
    measure("token revoked: VaultAuthError", _ms(took))
    measure("token replaced in its file: first success", _ms(recovered))


async def test_revoked_approle_token_recovers_by_logging_in_again(
    bao: RestartableOpenBao, root: Any, tmp_path: Path, measure: Measure
) -> None:
    """AppRole: a revoked token costs one transparent re-login, not a failed call."""
    settings = VaultSettings(address=bao.address)
    tenant = new_id("rel")
    role, (role_id, secret_id) = f"role-{tenant}", tenant_approle(root, settings, tenant, "approle")
    secret_file = tmp_path / "secret-id"
    secret_file.write_text(secret_id + "\n")
    auth = {"method": "approle", "role_id": role_id, "secret_id_file": str(secret_file)}
    async with probe(bao, root, tenant=tenant, auth=auth) as p:
        await p.call()
        [accessor] = live_role_tokens(root, role)
        root.auth.token.revoke_accessor(accessor)
        results = await asyncio.gather(*(p.outcome() for _ in range(10)))
        assert [failure for failure, _ in results if failure is not None] == []
        assert len(live_role_tokens(root, role)) == 1  # ten racing calls, one re-login
        measure("approle token revoked: slowest call (with re-login)", _ms(max(t for _, t in results)))

        # The secret id is gone too: nothing the SDK can do, and it says so in a typed error.
        [accessor] = live_role_tokens(root, role)
        root.auth.token.revoke_accessor(accessor)
        root.auth.approle.destroy_secret_id(role_name=role, secret_id=secret_id, mount_point="approle")
        failure, took = await p.outcome()
        assert type(failure) is VaultAuthError
        fresh = root.auth.approle.generate_secret_id(role_name=role, mount_point="approle")["data"]
        secret_file.write_text(fresh["secret_id"] + "\n")  # operations issue a new secret id
        back_at = time.monotonic()
        recovered = await _recovery(p.call, back_at)
    measure("approle secret id destroyed: VaultAuthError", _ms(took))
    measure("approle secret id replaced: first success", _ms(recovered))
